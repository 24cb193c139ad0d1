//! Which network namespace an action targets, in the topology's own terms.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::Name;

/// A network namespace of the topology. Backends map it to a real namespace: in the
/// sandbox `<prefix>-<name>`; on a real node, the node's own namespace (only when the
/// caller says so explicitly) or a container's namespace by path or pid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum NsRef {
    /// A hardware node's namespace (holds bridges and host ends).
    Node(Name),
    /// A container's namespace.
    Ct(Name),
    /// A physical LAN; exists only in the sandbox, where it holds the LAN's switch.
    Lan(Name),
    /// An external host on a LAN; exists only in the sandbox.
    Host(Name),
}

impl NsRef {
    /// The element's name, which is also the sandbox namespace's suffix.
    pub fn name(&self) -> &str {
        match self {
            NsRef::Node(n) | NsRef::Ct(n) | NsRef::Lan(n) | NsRef::Host(n) => n,
        }
    }

    /// The namespace's name in a sandbox with `prefix`: `vnet-router`.
    pub fn sandbox_name(&self, prefix: &str) -> String {
        format!("{prefix}-{}", self.name())
    }

    /// Whether only the sandbox builds this namespace (LANs and their hosts are real
    /// machines outside vnet's reach otherwise).
    pub fn sandbox_only(&self) -> bool {
        matches!(self, NsRef::Lan(_) | NsRef::Host(_))
    }
}

impl fmt::Display for NsRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            NsRef::Node(_) => "node",
            NsRef::Ct(_) => "ct",
            NsRef::Lan(_) => "lan",
            NsRef::Host(_) => "host",
        };
        write!(f, "{kind} {}", self.name())
    }
}
