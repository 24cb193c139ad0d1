//! [`Error`]: the one error of vnet-core an embedder matches on, from reading a file to
//! the last validation finding.

use std::path::PathBuf;

use crate::diagnostic::Diagnostics;
use crate::location::Location;

/// Why a file or text did not become a valid topology.
///
/// Reading ([`crate::Document::from_path`]), parsing ([`crate::Document::parse`]) and
/// validating ([`crate::Document::validate`], [`crate::validate()`], through `From`) all end
/// here, so one `?` and one `match` cover the whole way from a path to a
/// [`crate::ValidTopology`]. New kinds of failure may be added, hence `non_exhaustive`.
///
/// ```
/// use vnet_core::{Document, Error, Format};
/// match Document::parse("name = \"t\"\n[[node]]\nnam = \"m1\"\n", Format::Toml) {
///     Err(Error::Invalid(findings)) => {
///         let d = &findings.as_slice()[0];
///         assert_eq!(d.path, "node[0].nam");
///         assert_eq!(d.hint.as_deref(), Some("did you mean `name`?"));
///     }
///     other => panic!("expected findings, got {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than `source::Limits::max_bytes`; nothing past the
    /// limit was read.
    #[error("the input is {size} bytes or more; the limit is {limit} bytes")]
    TooLarge {
        /// The size of the input; when read from a file, the bytes seen before stopping.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Brackets or braces nest deeper than `source::Limits::max_depth`.
    #[error("values nest {depth} levels deep at {location}; the limit is {limit}")]
    TooDeep {
        /// Depth reached.
        depth: usize,
        /// The limit.
        limit: usize,
        /// Where the limit was passed.
        location: Location,
    },
    /// A file is not UTF-8 text.
    #[error(
        "not UTF-8 text: byte {byte:#04x} at line {}, column {} (offset {})",
        location.line,
        location.column,
        location.offset
    )]
    NotUtf8 {
        /// The first byte that is not UTF-8.
        byte: u8,
        /// Where it is (the column counts the characters before it on its line).
        location: Location,
    },
    /// A syntax or schema error (wrong type, bad address, missing field ...).
    #[error("{message}{}", .location.map(|l| format!(" at line {}, column {}", l.line, l.column)).unwrap_or_default())]
    Parse {
        /// The parser's message.
        message: String,
        /// Where, when the parser knows.
        location: Option<Location>,
    },
    /// The topology breaks one or more rules (unknown keys included); every finding, each
    /// with its hint and, for a parsed document, its location.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl Error {
    /// Where in the text the error is, when known (the first finding's, for `Invalid`).
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Io { .. } | Error::TooLarge { .. } => None,
            Error::TooDeep { location, .. } | Error::NotUtf8 { location, .. } => Some(*location),
            Error::Parse { location, .. } => *location,
            Error::Invalid(d) => d.as_slice().first().and_then(|d| d.location),
        }
    }
}

impl From<Diagnostics> for Error {
    fn from(d: Diagnostics) -> Self {
        Error::Invalid(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Document, Format};

    #[test]
    fn every_failure_is_one_type_an_embedder_matches_on() {
        let parse = Document::parse("name = 5\n", Format::Toml).unwrap_err();
        assert!(
            matches!(parse, Error::Parse { location: Some(l), .. } if l.line == 1),
            "{parse:?}"
        );
        let doc = Document::parse(
            "name = \"t\"\n[[node]]\nname = \"m1\"\n[[node]]\nname = \"m1\"\n",
            Format::Toml,
        )
        .unwrap();
        let invalid: Error = doc.validate().unwrap_err().into();
        let Error::Invalid(findings) = &invalid else {
            panic!("{invalid:?}")
        };
        assert_eq!(findings.as_slice()[0].rule.id(), "name-duplicate");
        assert_eq!(invalid.location().map(|l| l.line), Some(5));
        // The Display of the whole error lists every finding with its hint.
        let text = invalid.to_string();
        assert!(text.starts_with("1 problem(s) in the topology"), "{text}");
        assert!(text.contains("node[m1].name"), "{text}");
    }

    #[test]
    fn the_error_is_a_std_error_with_its_cause() {
        let e = Error::Io {
            path: PathBuf::from("/x.toml"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let dynamic: &dyn std::error::Error = &e;
        assert!(dynamic.source().is_some());
        assert!(e.to_string().starts_with("cannot read /x.toml: "), "{e}");
    }
}
