//! Reading a topology file: at most [`Limits::max_bytes`] + 1 bytes, so an oversized or
//! endless file (a pipe, `/dev/zero`) is refused without being read whole.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{Document, Format, Limits};
use crate::error::Error;
use crate::location::Location;

impl Document {
    /// Reads and parses the file at `path` with the default [`Limits`], in the format its
    /// extension implies ([`Format::from_file_name`]).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), vnet_core::Error> {
    /// let valid = vnet_core::Document::from_path("lab.toml")?.validate()?;
    /// # Ok(()) }
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Document, Error> {
        Document::from_path_with_limits(path.as_ref(), &Limits::default())
    }

    /// Reads and parses the file at `path`, refusing it past `limits`.
    pub fn from_path_with_limits(path: &Path, limits: &Limits) -> Result<Document, Error> {
        let text = read_text(path, limits)?;
        Document::parse_with_limits(&text, Format::from_path(path), limits)
    }
}

impl Format {
    /// The format the extension of `path` implies: `.json` is JSON, anything else TOML.
    pub fn from_path(path: &Path) -> Format {
        Format::from_file_name(&path.to_string_lossy())
    }
}

/// The text of the file at `path`: refused when over `limits.max_bytes` (reading at most
/// one byte past it) or when not UTF-8 (with the line and column of the first bad byte).
pub fn read_text(path: &Path, limits: &Limits) -> Result<String, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let cap = limits.max_bytes as u64;
    let too_large = |size| Error::TooLarge { size, limit: cap };
    // The size the metadata gives may lie (a growing file, a pipe, /proc), so it only
    // refuses early; the read itself stops one byte past the cap.
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
    if hint > cap {
        return Err(too_large(hint));
    }
    let mut bytes = Vec::with_capacity(hint as usize);
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| not_utf8(&e))
}

/// The error for bytes that are not UTF-8, located at the first byte that is not.
fn not_utf8(e: &std::string::FromUtf8Error) -> Error {
    let at = e.utf8_error().valid_up_to();
    let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
    Error::NotUtf8 {
        byte: e.as_bytes()[at],
        location: Location::of_span(valid, at, at + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory for one test, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("vnet-core-file-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_extension_picks_the_format() {
        let s = Scratch::new("format");
        let json = s.file("t.JSON", b"{\"name\": \"j\"}");
        let doc = Document::from_path(&json).unwrap();
        assert_eq!(
            (doc.format, doc.topology.name.as_str()),
            (Format::Json, "j")
        );
        let toml = s.file("t.toml", b"name = \"t\"\n");
        assert_eq!(Document::from_path(&toml).unwrap().format, Format::Toml);
    }

    #[test]
    fn a_file_past_the_cap_is_refused_with_the_limit() {
        let s = Scratch::new("cap");
        let limits = Limits {
            max_bytes: 8,
            ..Limits::default()
        };
        let big = s.file("big.toml", b"name = \"abcdefghijklmnop\"\n");
        let err = Document::from_path_with_limits(&big, &limits).unwrap_err();
        assert!(
            matches!(err, Error::TooLarge { limit: 8, size } if size > 8),
            "{err:?}"
        );
        assert!(err.to_string().contains("the limit is 8 bytes"), "{err}");
        // Exactly at the cap is fine.
        let fits = s.file("fits.toml", b"name=\"t\"");
        Document::from_path_with_limits(&fits, &limits).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_endless_file_is_read_only_to_the_cap() {
        // /dev/zero reports size 0 and never ends: only the bounded read can refuse it.
        let limits = Limits {
            max_bytes: 1 << 10,
            ..Limits::default()
        };
        let err = read_text(Path::new("/dev/zero"), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooLarge {
                    size: 1025,
                    limit: 1024
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_byte_that_is_not_utf8_is_located_and_a_missing_file_is_io() {
        let s = Scratch::new("utf8");
        let bad = s.file("bad.toml", b"name = \"t\"\nx = \"\xff\"\n");
        let err = Document::from_path(&bad).unwrap_err();
        assert!(
            matches!(err, Error::NotUtf8 { byte: 0xff, location } if (location.line, location.column) == (2, 6)),
            "{err:?}"
        );
        assert!(err.to_string().contains("at line 2, column 6"), "{err}");
        let missing = Document::from_path(s.0.join("missing.toml")).unwrap_err();
        assert!(
            matches!(&missing, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{missing:?}"
        );
    }
}
