//! TOML: the model through `toml` (serde), the spans through `toml_edit`'s span-keeping
//! document, walked once into a [`SourceMap`] when a finding first needs a location.

use toml_edit::{Item, Table, Value};

use super::{Location, SourceMap};
use crate::error::Error;
use crate::path::{DocPath, Seg};
use crate::Topology;

pub(super) fn parse(text: &str) -> Result<Topology, Error> {
    if let Some(topology) = super::toml_chunks::parse(text) {
        return Ok(topology);
    }
    toml::from_str(text).map_err(|e| Error::Parse {
        message: e.message().to_string(),
        location: e.span().map(|s| Location::of_span(text, s.start, s.end)),
    })
}

/// Where every value of `text` is written; `None` when it is not TOML.
pub(super) fn source_map(text: &str) -> Option<SourceMap> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut map = SourceMap::default();
    walk_table(doc.as_table(), &mut DocPath::default(), &mut map);
    Some(map)
}

fn walk_table(table: &Table, path: &mut DocPath, map: &mut SourceMap) {
    if let Some(span) = table.span() {
        map.insert(path.clone(), span.start, span.end);
    }
    for (key, item) in table.iter() {
        path.0.push(Seg::Key(key.to_string()));
        if let Some((k, _)) = table.get_key_value(key) {
            if let (Some(ks), Some(vs)) = (k.span(), item.span()) {
                map.insert(path.clone(), ks.start, vs.end.max(ks.end));
            }
        }
        walk_item(item, path, map);
        path.0.pop();
    }
}

fn walk_item(item: &Item, path: &mut DocPath, map: &mut SourceMap) {
    match item {
        Item::Table(t) => walk_table(t, path, map),
        Item::ArrayOfTables(arr) => {
            for (i, t) in arr.iter().enumerate() {
                path.0.push(Seg::Index(i));
                walk_table(t, path, map);
                path.0.pop();
            }
        }
        Item::Value(v) => walk_value(v, path, map),
        Item::None => {}
    }
}

fn walk_value(value: &Value, path: &mut DocPath, map: &mut SourceMap) {
    if let (Some(span), false) = (value.span(), map.span_exact(path)) {
        map.insert(path.clone(), span.start, span.end);
    }
    match value {
        Value::Array(arr) => {
            for (i, v) in arr.iter().enumerate() {
                path.0.push(Seg::Index(i));
                if let Some(span) = v.span() {
                    map.insert(path.clone(), span.start, span.end);
                }
                walk_value(v, path, map);
                path.0.pop();
            }
        }
        Value::InlineTable(t) => {
            for (key, v) in t.iter() {
                path.0.push(Seg::Key(key.to_string()));
                match (t.key(key).and_then(|k| k.span()), v.span()) {
                    (Some(ks), Some(vs)) => map.insert(path.clone(), ks.start, vs.end),
                    (None, Some(vs)) => map.insert(path.clone(), vs.start, vs.end),
                    _ => {}
                }
                walk_value(v, path, map);
                path.0.pop();
            }
        }
        _ => {}
    }
}

impl SourceMap {
    fn span_exact(&self, path: &DocPath) -> bool {
        self.spans.contains_key(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"t\"\n\n[[ct]]\nid = 101\nname = \"router\"\n\n[[ct.veth]]\nname = \"eth0\"\nmac = \"00:12:34:56:78:9B\"\naddresses = [\"10.0.0.1/24\", \"10.0.0.2/24\"]\n";

    fn loc(map: &SourceMap, path: &[Seg]) -> (usize, usize) {
        let (s, e) = map.span(&DocPath(path.to_vec())).unwrap();
        let l = Location::of_span(TEXT, s, e);
        (l.line, l.column)
    }

    #[test]
    fn fields_array_items_and_tables_have_their_lines() {
        parse(TEXT).unwrap();
        let map = source_map(TEXT).unwrap();
        let k = |s: &str| Seg::Key(s.to_string());
        assert_eq!(loc(&map, &[k("ct"), Seg::Index(0), k("name")]), (5, 1));
        assert_eq!(
            loc(
                &map,
                &[k("ct"), Seg::Index(0), k("veth"), Seg::Index(0), k("mac")]
            ),
            (9, 1)
        );
        assert_eq!(
            loc(
                &map,
                &[
                    k("ct"),
                    Seg::Index(0),
                    k("veth"),
                    Seg::Index(0),
                    k("addresses"),
                    Seg::Index(1)
                ]
            ),
            (10, 29)
        );
        // A field that is not written points at its table.
        assert_eq!(
            loc(
                &map,
                &[
                    k("ct"),
                    Seg::Index(0),
                    k("veth"),
                    Seg::Index(0),
                    k("bridge")
                ]
            )
            .0,
            7
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_line_and_column() {
        let err = parse("name = \"t\"\n[[ct]]\nid = 1\nname = \"a\"\nbogus = 3\n").unwrap_err();
        let loc = err.location().unwrap();
        assert_eq!(loc.line, 5);
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
