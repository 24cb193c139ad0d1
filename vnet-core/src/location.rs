//! [`Location`]: where in a topology's text something is written (line, column, bytes).
//!
//! Its own module because both the parser (which finds spans) and the findings (which
//! carry them) need it, and neither should depend on the other for it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A position in the source text, 1-based, columns counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset of the start.
    pub offset: usize,
    /// Length in bytes of the spanned text (at least 1 where the text is not empty).
    pub len: usize,
}

impl Location {
    /// The location of the byte range `start..end` of `text`.
    pub fn of_span(text: &str, start: usize, end: usize) -> Location {
        let start = floor_char_boundary(text, start.min(text.len()));
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..start].chars().count() + 1;
        Location {
            line,
            column,
            offset: start,
            len: end.saturating_sub(start),
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}
