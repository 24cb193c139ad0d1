//! Validation findings: a stable rule id, the element, a message, a hint, and where in the
//! file the element was written.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::location::Location;
use crate::path::ElementPath;
use crate::rules::Rule;

/// One violation of one rule by one element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The rule broken, e.g. `mac-duplicate`.
    pub rule: Rule,
    /// The element at fault, e.g. `ct[mail].veth[eth0].mac`.
    pub path: String,
    /// What is wrong, naming the values involved.
    pub message: String,
    /// How to fix it, for the traps people fall into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Where the element is written, when the topology came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The other element of a clash (the first of two with one name, MAC or id), so a
    /// report can name both places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Related>,
    /// The document path of the element, used to find `location`.
    #[serde(skip)]
    pub(crate) doc: crate::path::DocPath,
}

impl Diagnostic {
    /// A finding of `rule` about the element at `path`.
    pub fn new(rule: Rule, path: &ElementPath, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            path: path.human().to_string(),
            message: message.into(),
            hint: rule.default_hint().map(str::to_string),
            location: None,
            first: None,
            doc: path.doc().clone(),
        }
    }

    /// Names `first` as the element this one clashes with.
    pub fn with_first(mut self, first: &ElementPath) -> Self {
        self.first = Some(Related {
            path: first.human().to_string(),
            location: None,
            doc: first.doc().clone(),
        });
        self
    }

    /// Replaces the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The document path of the element (keys and indices from the root).
    pub fn doc_path(&self) -> &crate::path::DocPath {
        &self.doc
    }

    /// Where the finding and the element it clashes with are written, as far as known:
    /// `line 9, column 1; first at line 5, column 1`.
    pub fn position(&self) -> Option<String> {
        let at = |l: &Location| format!("line {}, column {}", l.line, l.column);
        let first = self
            .first
            .as_ref()
            .and_then(|r| r.location.as_ref())
            .map(at);
        match (self.location.as_ref().map(at), first) {
            (Some(here), Some(first)) => Some(format!("{here}; first at {first}")),
            (Some(here), None) => Some(here),
            (None, Some(first)) => Some(format!("first at {first}")),
            (None, None) => None,
        }
    }
}

/// Another element a finding names, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    /// The element, e.g. `lan[lan0].host[gw].name`.
    pub path: String,
    /// Where it is written, when the topology came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The document path of the element, used to find `location`.
    #[serde(skip)]
    pub(crate) doc: crate::path::DocPath,
}

impl Related {
    /// The document path of the element (keys and indices from the root).
    pub fn doc_path(&self) -> &crate::path::DocPath {
        &self.doc
    }
}

/// `[rule] path: message (line L, column C; first at line L, column C)`, then the hint on
/// its own line when there is one: `  hint: ...`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.rule, self.path, self.message)?;
        if let Some(position) = self.position() {
            write!(f, " ({position})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every violation found in one topology, in a stable order (by element, then rule).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// `N problem(s) in the topology:`, then every finding (with its hint) on its own lines.
impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problem(s) in the topology:", self.0.len())?;
        for d in &self.0 {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl Diagnostics {
    /// Whether any of the findings broke `rule`.
    pub fn has(&self, rule: Rule) -> bool {
        self.0.iter().any(|d| d.rule == rule)
    }

    /// The findings as a slice.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_the_location_and_the_hint() {
        let path = ElementPath::root().item("ct", 0, "a").field("mac");
        let mut d = Diagnostic::new(Rule::MacDuplicate, &path, "MAC 00:00:00:00:00:02 again");
        d.location = Some(Location::of_span("x\ny = 1", 2, 3));
        let text = d.to_string();
        assert!(
            text.starts_with("[mac-duplicate] ct[a].mac: MAC 00:00:00:00:00:02 again (line 2, column 1)\n  hint: every interface needs its own MAC"),
            "{text}"
        );
        let all = Diagnostics(vec![d.clone(), d]).to_string();
        assert_eq!(all.matches("hint:").count(), 2, "{all}");
        assert!(
            all.starts_with("2 problem(s) in the topology:\n[mac-duplicate]"),
            "{all}"
        );
    }
}
