//! Unknown keys: serde stops at the first one and knows only the document root, so when
//! a parse fails this walks the file once more, reports every unknown key at its own path
//! and location with the known key it most likely misspells, and validates the rest of
//! the file so its findings come in the same answer.

use serde_json::Value;

use super::schema::Table;
use super::{json_spans, toml_spans, Format, SourceMap};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::error::Error;
use crate::path::ElementPath;
use crate::rules::Rule;
use crate::Topology;

/// `error` (the parser's), or, when `text` has unknown keys, every unknown key and every
/// finding of the topology the other keys make, each located in `original` (the text as
/// written, of which `text` is the same bytes with a JSON byte order mark blanked).
pub(super) fn explain(text: &str, original: &str, format: Format, error: Error) -> Error {
    let tree = match format {
        Format::Toml => text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| serde_json::to_value(t).ok())
            .zip(toml_spans::source_map(text)),
        Format::Json => serde_json::from_str::<Value>(text)
            .ok()
            .map(|v| (v, json_spans::source_map(text))),
    };
    let Some((mut value, map)) = tree else {
        return error;
    };
    let mut found = Vec::new();
    remove_unknown(
        &mut value,
        Table::Topology,
        &ElementPath::root(),
        &mut found,
    );
    if found.is_empty() {
        return error;
    }
    // Without its unknown keys the file may still not be a topology (a missing or mistyped
    // field); then the unknown keys are the answer, the parser's error comes once they
    // are fixed.
    if let Ok(topology) = serde_json::from_value::<Topology>(value) {
        if let Err(findings) = crate::validate(topology) {
            found.extend(findings.0);
        }
    }
    map.locate_all(original, &mut found);
    found.sort_by(|a, b| a.doc_path().cmp(b.doc_path()).then(a.rule.cmp(&b.rule)));
    Error::Invalid(Diagnostics(found))
}

/// Removes every key `table` (and the tables below it) does not accept, recording each.
fn remove_unknown(
    value: &mut Value,
    table: Table,
    path: &ElementPath,
    found: &mut Vec<Diagnostic>,
) {
    let Value::Object(map) = value else { return };
    // A TOML date-time reaches JSON as a one-key table; it is a wrong type, not a table.
    if map.keys().any(|k| k.starts_with("$__toml_private")) {
        return;
    }
    let known = table.keys();
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        map.remove(&key);
        found.push(finding(&path.field(&key), &key, known));
    }
    for (key, child) in map.iter_mut() {
        let Some(kind) = table.child(key) else {
            continue;
        };
        match child {
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let item_path = path.item(key, i, label(item, i));
                    remove_unknown(item, kind, &item_path, found);
                }
            }
            Value::Object(_) => remove_unknown(child, kind, &path.field(key), found),
            _ => {}
        }
    }
}

/// What findings call an element of an array: its `name`, a subnet's `cidr`, else its
/// index, as validation does.
fn label(item: &Value, index: usize) -> String {
    let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
    text("name")
        .or_else(|| text("cidr"))
        .unwrap_or_else(|| index.to_string())
}

/// The finding for unknown `key` of a table that accepts `known`.
fn finding(path: &ElementPath, key: &str, known: &[&str]) -> Diagnostic {
    let hint = match closest(key, known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!(
            "the keys here are {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Diagnostic::new(Rule::UnknownKey, path, format!("unknown key `{key}`")).with_hint(hint)
}

/// The known key nearest to `key` (edit distance, ignoring case and `-` for `_`), when it
/// is near enough to be a slip: at most one edit in three characters.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase().replace('-', "_");
    known
        .iter()
        .map(|k| (distance(&key, k), *k))
        .filter(|(d, k)| *d <= (k.len().max(key.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

impl SourceMap {
    /// The location in `text` of the value at `path`, or of its nearest written ancestor.
    pub(crate) fn locate(
        &self,
        text: &str,
        path: &crate::path::DocPath,
    ) -> Option<crate::location::Location> {
        self.span(path)
            .map(|(s, e)| crate::location::Location::of_span(text, s, e))
    }

    /// Locates every finding in `text`, and the element each clashes with.
    pub(crate) fn locate_all(&self, text: &str, findings: &mut [Diagnostic]) {
        for d in findings {
            d.location = self.locate(text, d.doc_path());
            if let Some(first) = &mut d.first {
                first.location = self.locate(text, &first.doc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_find_their_key_and_strangers_do_not() {
        let node = ["name", "underlay"];
        assert_eq!(closest("nam", &node), Some("name"));
        assert_eq!(closest("Name", &node), Some("name"));
        assert_eq!(closest("underly", &node), Some("underlay"));
        assert_eq!(
            closest("host-name", &["name", "host_name"]),
            Some("host_name")
        );
        assert_eq!(closest("bogus", &node), None);
        assert_eq!(closest("id", &["ip"]), Some("ip"));
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}
