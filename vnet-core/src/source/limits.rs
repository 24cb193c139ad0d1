//! Caps on input size and nesting, checked before any parser runs, so hostile input can
//! neither overflow the stack of a recursive parser nor exhaust memory.

use super::{Format, Location};
use crate::error::Error;

/// Caps on what a topology file may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input in bytes (default 16 MiB: 100,000 containers fit in a few MiB).
    pub max_bytes: usize,
    /// Deepest nesting of arrays and inline tables (default 32; the schema needs 4).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 20,
            max_depth: 32,
        }
    }
}

impl Limits {
    /// Refuses `text` when it is over a limit.
    pub fn check(&self, text: &str, format: Format) -> Result<(), Error> {
        if text.len() > self.max_bytes {
            return Err(Error::TooLarge {
                size: text.len() as u64,
                limit: self.max_bytes as u64,
            });
        }
        self.check_depth(text, format)
    }

    /// Scans brackets and braces outside strings and comments. Table headers such as
    /// `[[ct.veth]]` count one level at most, so the scan never refuses a valid schema.
    fn check_depth(&self, text: &str, format: Format) -> Result<(), Error> {
        let bytes = text.as_bytes();
        let mut depth = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'"' | b'\'' => i = skip_string(bytes, i, format),
                b'#' if format == Format::Toml => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'[' | b'{' => {
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(Error::TooDeep {
                            depth,
                            limit: self.max_depth,
                            location: Location::of_span(text, i, i + 1),
                        });
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        Ok(())
    }
}

/// Returns the index of the closing quote of the string that opens at `start` (or the
/// end of input). TOML's `'` strings have no escapes; `"""`/`'''` strings span lines.
fn skip_string(bytes: &[u8], start: usize, format: Format) -> usize {
    let quote = bytes[start];
    if format == Format::Json && quote == b'\'' {
        return start;
    }
    let triple = bytes.get(start..start + 3) == Some(&[quote, quote, quote][..]);
    let escapes = quote == b'"';
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        if escapes && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if !triple {
                return i;
            }
            if bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                return i + 2;
            }
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_with_its_location() {
        let text = format!("a = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = Limits::default().check(&text, Format::Toml).unwrap_err();
        match err {
            Error::TooDeep {
                depth, location, ..
            } => {
                assert_eq!(depth, 33);
                assert_eq!((location.line, location.column), (1, 37));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let text = format!(
            "a = \"{}\" # {}\nb = '{}'",
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        Limits::default().check(&text, Format::Toml).unwrap();
        let json = format!("{{\"a\": \"{}\\\"[\"}}", "[".repeat(100));
        Limits::default().check(&json, Format::Json).unwrap();
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            limits.check("name = \"abcdefgh\"", Format::Toml),
            Err(Error::TooLarge {
                size: 17,
                limit: 10
            })
        ));
    }
}
