//! What a plan builds: the whole world in a sandbox, or one real node.

use serde::{Deserialize, Serialize};

/// What a plan builds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", content = "node", rename_all = "snake_case")]
pub enum Scope {
    /// Every node, container, LAN and LAN host as namespaces on this machine, containers on
    /// their home nodes (see `docs/ARCHITECTURE.md`).
    Sandbox,
    /// One real node: its bridges and the containers whose home it is. Creates no
    /// namespaces; passes NICs in with a move.
    Node(String),
}
