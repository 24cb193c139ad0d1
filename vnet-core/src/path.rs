//! Where an element sits: a readable path (`ct[mail].veth[eth0].mac`) and the document
//! path of the same element (`ct.1.veth.0.mac`) used to find its line and column.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One step of a [`DocPath`]: a key of a table or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// The position of a value in the parsed document, as keys and indices from the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DocPath(pub Vec<Seg>);

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match s {
                Seg::Key(k) => f.write_str(k)?,
                Seg::Index(n) => write!(f, "{n}")?,
            }
        }
        Ok(())
    }
}

/// An element of the topology, named both for people and for the source map.
///
/// Built step by step: `ElementPath::root().item("ct", 1, "mail").item("veth", 0, "eth0").field("mac")`
/// reads `ct[mail].veth[eth0].mac` and points at `ct.1.veth.0.mac` in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElementPath {
    human: String,
    doc: DocPath,
}

impl ElementPath {
    /// The whole topology.
    pub fn root() -> Self {
        ElementPath::default()
    }

    /// An element of the array `key`, at `index`, known to people as `label`.
    pub fn item(&self, key: &str, index: usize, label: impl fmt::Display) -> Self {
        let mut p = self.clone();
        if !p.human.is_empty() {
            p.human.push('.');
        }
        p.human.push_str(&format!("{key}[{label}]"));
        p.doc.0.push(Seg::Key(key.to_string()));
        p.doc.0.push(Seg::Index(index));
        p
    }

    /// A field of this element.
    pub fn field(&self, key: &str) -> Self {
        let mut p = self.clone();
        if !p.human.is_empty() {
            p.human.push('.');
        }
        p.human.push_str(key);
        p.doc.0.push(Seg::Key(key.to_string()));
        p
    }

    /// The `index`th value of the array field this path names (`addresses[1]`).
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.human.push_str(&format!("[{index}]"));
        p.doc.0.push(Seg::Index(index));
        p
    }

    /// The readable form, `ct[mail].veth[eth0].mac`.
    pub fn human(&self) -> &str {
        if self.human.is_empty() {
            "topology"
        } else {
            &self.human
        }
    }

    /// The document path, for the source map.
    pub fn doc(&self) -> &DocPath {
        &self.doc
    }
}

impl fmt::Display for ElementPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.human())
    }
}
