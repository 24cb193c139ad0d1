//! What a plan or a rendering is for ([`Target`]): `vnet plan` and `vnet render`.

use anyhow::anyhow;

use vnet_backend_shell::iproute2::{node_names, sandbox_names};
use vnet_core::plan::{NsRef, Scope};
use vnet_core::ValidTopology;

use crate::exit::Failure;

/// The scope a command planning for a topology works in, from `--node`: a node the
/// topology names, or the sandbox with a prefix that makes safe namespace names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every element as a namespace `<prefix>-<name>`.
    Sandbox {
        /// The namespace name prefix.
        prefix: String,
    },
    /// One real node.
    Node(String),
}

impl Target {
    /// Checks `node` against the topology and `prefix` for safe characters; a wrong
    /// value is a usage error (exit 2).
    pub fn choose(
        valid: &ValidTopology,
        node: Option<&str>,
        prefix: &str,
    ) -> Result<Target, Failure> {
        if let Some(n) = node {
            if !valid.topology().node.iter().any(|x| x.name == n) {
                let known: Vec<&str> = valid
                    .topology()
                    .node
                    .iter()
                    .map(|x| x.name.as_str())
                    .collect();
                return Err(Failure::usage(anyhow!(
                    "topology `{}` has no node `{n}` (its nodes: {})",
                    valid.name(),
                    known.join(", ")
                )));
            }
            return Ok(Target::Node(n.to_string()));
        }
        check_prefix(prefix)?;
        Ok(Target::Sandbox {
            prefix: prefix.to_string(),
        })
    }

    /// The planner's scope.
    pub fn scope(&self) -> Scope {
        match self {
            Target::Sandbox { .. } => Scope::Sandbox,
            Target::Node(n) => Scope::Node(n.clone()),
        }
    }

    /// How namespaces are named in commands for this target.
    pub fn ns_names(&self) -> Box<dyn Fn(&NsRef) -> String + '_> {
        match self {
            Target::Sandbox { prefix } => Box::new(sandbox_names(prefix)),
            Target::Node(_) => Box::new(node_names),
        }
    }
}

/// A prefix becomes part of namespace names, which are file names under `/run/netns`:
/// letters, digits, `-` and `_` only, so no name can climb out of that directory or need
/// quoting, and short enough to leave room for the element names.
fn check_prefix(prefix: &str) -> Result<(), Failure> {
    let ok = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(anyhow!(
            "--prefix {prefix:?}: use 1 to 32 letters, digits, `-` or `_`"
        )))
    }
}
