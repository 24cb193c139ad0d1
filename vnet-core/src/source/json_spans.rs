//! JSON: the model through `serde_json`, the spans through a small scanner over the text
//! that serde_json has already accepted (serde_json keeps no spans).

use super::{Location, SourceMap};
use crate::error::Error;
use crate::path::{DocPath, Seg};
use crate::Topology;

pub(super) fn parse(text: &str) -> Result<Topology, Error> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json counts columns in bytes from 1; convert to our character columns.
        let line_start = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let offset = (line_start + e.column().saturating_sub(1)).min(text.len());
        Error::Parse {
            message: strip_position(&e.to_string()),
            location: (e.line() > 0).then(|| Location::of_span(text, offset, offset + 1)),
        }
    })
}

/// Where every value of `text`, which serde_json has accepted, is written.
pub(super) fn source_map(text: &str) -> SourceMap {
    let mut map = SourceMap::default();
    let mut scanner = Scanner {
        text: text.as_bytes(),
        pos: 0,
    };
    scanner.value(&mut DocPath::default(), &mut map);
    map
}

/// serde_json appends " at line L column C"; we report the location separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Records the span of every value. Only ever runs on valid JSON, so it can be brief;
/// on anything unexpected it stops, losing locations, never the topology.
struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn value(&mut self, path: &mut DocPath, map: &mut SourceMap) -> Option<()> {
        self.ws();
        let start = self.pos;
        match *self.text.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                loop {
                    self.ws();
                    if self.text.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        break;
                    }
                    let key_start = self.pos;
                    let key = self.string()?;
                    self.ws();
                    (self.text.get(self.pos) == Some(&b':')).then_some(())?;
                    self.pos += 1;
                    path.0.push(Seg::Key(key));
                    self.value(path, map)?;
                    map.insert(path.clone(), key_start, self.pos);
                    path.0.pop();
                    self.ws();
                    if self.text.get(self.pos) == Some(&b',') {
                        self.pos += 1;
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    self.ws();
                    if self.text.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        break;
                    }
                    path.0.push(Seg::Index(i));
                    self.value(path, map)?;
                    path.0.pop();
                    i += 1;
                    self.ws();
                    if self.text.get(self.pos) == Some(&b',') {
                        self.pos += 1;
                    }
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                while self.pos < self.text.len()
                    && !matches!(self.text[self.pos], b',' | b'}' | b']')
                    && !self.text[self.pos].is_ascii_whitespace()
                {
                    self.pos += 1;
                }
            }
        }
        if !map.spans.contains_key(path) {
            map.insert(path.clone(), start, self.pos);
        }
        Some(())
    }

    fn string(&mut self) -> Option<String> {
        (self.text.get(self.pos) == Some(&b'"')).then_some(())?;
        let start = self.pos;
        self.pos += 1;
        while *self.text.get(self.pos)? != b'"' {
            if self.text[self.pos] == b'\\' {
                self.pos += 1;
            }
            self.pos += 1;
        }
        self.pos += 1;
        serde_json::from_slice(&self.text[start..self.pos]).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_their_lines() {
        let text = "{\n  \"name\": \"t\",\n  \"ct\": [\n    {\"id\": 1, \"name\": \"r\",\n     \"veth\": [{\"name\": \"eth0\", \"mac\": \"00:12:34:56:78:9B\"}]}\n  ]\n}\n";
        parse(text).unwrap();
        let map = source_map(text);
        let k = |s: &str| Seg::Key(s.to_string());
        let path = DocPath(vec![
            k("ct"),
            Seg::Index(0),
            k("veth"),
            Seg::Index(0),
            k("mac"),
        ]);
        let (s, e) = map.span(&path).unwrap();
        let l = Location::of_span(text, s, e);
        assert_eq!((l.line, l.column), (5, 32));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = parse("{\n \"name\": \"t\",\n \"bogus\": 1\n}").unwrap_err();
        let loc = err.location().unwrap();
        assert_eq!(loc.line, 3);
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
