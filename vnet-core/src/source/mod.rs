//! Reading a topology from TOML or JSON text: limits, parse errors with line and column,
//! and a map from every value's document path to where it is written.
//!
//! Apart from [`Document::from_path`], which reads one file within the size limit, this
//! module works on text the caller has already read.

mod file;
mod json_spans;
mod limits;
mod schema;
mod toml_spans;
mod unknown;

pub use crate::location::Location;
pub use file::read_text;
pub use limits::Limits;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::error::Error;
use crate::path::{DocPath, Seg};
use crate::Topology;

/// The file formats; they share one schema. More may come, hence `non_exhaustive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// TOML, the format people write.
    Toml,
    /// JSON, the format programs write.
    Json,
}

impl Format {
    /// The format a file name's extension implies: `.json` is JSON, anything else TOML.
    pub fn from_file_name(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// Where each value of a document is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    spans: BTreeMap<DocPath, (usize, usize)>,
}

impl SourceMap {
    pub(crate) fn insert(&mut self, path: DocPath, start: usize, end: usize) {
        self.spans.insert(path, (start, end));
    }

    /// The byte span of the value at `path`, or of its nearest written ancestor (a missing
    /// field points at the table that lacks it).
    pub fn span(&self, path: &DocPath) -> Option<(usize, usize)> {
        let mut segs: &[Seg] = &path.0;
        loop {
            if let Some(s) = self.spans.get(&DocPath(segs.to_vec())) {
                return Some(*s);
            }
            if segs.is_empty() {
                return None;
            }
            segs = &segs[..segs.len() - 1];
        }
    }
}

/// A topology together with the text it was read from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The topology as written.
    pub topology: Topology,
    /// The source text.
    pub text: String,
    /// The format of `text`.
    pub format: Format,
    /// Where each value is written in `text`.
    pub source_map: SourceMap,
}

impl Document {
    /// Parses `text` with the default [`Limits`].
    pub fn parse(text: &str, format: Format) -> Result<Document, Error> {
        Document::parse_with_limits(text, format, &Limits::default())
    }

    /// Parses `text`, refusing input over `limits` before any parser sees it.
    ///
    /// A text with unknown keys is refused with [`Error::Invalid`]: every unknown key at
    /// its own path and location (with the key it likely misspells), together with the
    /// validation findings of the rest of the text.
    pub fn parse_with_limits(
        text: &str,
        format: Format,
        limits: &Limits,
    ) -> Result<Document, Error> {
        limits.check(text, format)?;
        // A byte order mark (editors on Windows write one) is not JSON, but RFC 8259 lets
        // a parser ignore it; TOML's parser does. Three spaces in its place keep every
        // offset, so locations still point into the file as written.
        let json_text;
        let parsed_text = match (format, text.strip_prefix('\u{feff}')) {
            (Format::Json, Some(rest)) => {
                json_text = format!("   {rest}");
                &json_text
            }
            _ => text,
        };
        let parsed = match format {
            Format::Toml => toml_spans::parse(parsed_text),
            Format::Json => json_spans::parse(parsed_text),
        };
        let (topology, source_map) =
            parsed.map_err(|e| unknown::explain(parsed_text, text, format, e))?;
        Ok(Document {
            topology,
            text: text.to_string(),
            format,
            source_map,
        })
    }

    /// The location of the value at `path`, or of its nearest written ancestor.
    pub fn locate(&self, path: &DocPath) -> Option<Location> {
        self.source_map.locate(&self.text, path)
    }

    /// Validates the topology and attaches the line and column of every finding (the
    /// warnings of a valid one too).
    pub fn validate(&self) -> Result<crate::ValidTopology, crate::Diagnostics> {
        crate::validate(self.topology.clone())
            .map(|mut valid| {
                self.source_map.locate_all(&self.text, valid.warnings_mut());
                valid
            })
            .map_err(|mut diags| {
                self.source_map.locate_all(&self.text, &mut diags.0);
                diags
            })
    }
}

/// Serializes a topology to TOML.
pub fn to_toml(t: &Topology) -> String {
    toml::to_string(t).unwrap_or_else(unreachable_serialize)
}

/// Serializes a topology to pretty JSON.
pub fn to_json(t: &Topology) -> String {
    serde_json::to_string_pretty(t).unwrap_or_else(unreachable_serialize)
}

// The model holds only strings, numbers, booleans, arrays and tables with string keys, so
// neither serializer can fail on it.
fn unreachable_serialize<E: fmt::Display>(e: E) -> String {
    panic!("serializing a topology cannot fail: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_byte_order_mark_is_ignored_and_locations_keep_to_the_file() {
        let doc = Document::parse("\u{feff}{\"name\": \"t\"}", Format::Json).expect("parses");
        assert_eq!(doc.topology.name, "t");
        let broken = "{\"name\": \"t\",\n \"bogus\": 1}";
        let at = |text: &str| {
            let err = Document::parse(text, Format::Json).expect_err("bogus is no field");
            let loc = err.location().expect("located");
            (loc.line, loc.column)
        };
        assert_eq!(at(&format!("\u{feff}{broken}")), at(broken));
        assert_eq!(at(broken).0, 2);
        // TOML's parser ignores it itself.
        let doc = Document::parse("\u{feff}name = \"t\"\n", Format::Toml).expect("parses");
        assert_eq!(doc.topology.name, "t");
    }
}
