//! What the pacemaker render needs beyond the topology ([`PacemakerOptions`]), and why
//! it refuses to render ([`PacemakerError`]): a path the nodes cannot resolve, or a
//! cluster without fencing.

use std::path::PathBuf;

use crate::error::ShellError;

/// The cluster-specific inputs of [`super::render_pacemaker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacemakerOptions {
    /// The topology file on the nodes: absolute (the agent runs from Pacemaker's
    /// working directory, where a relative path means nothing).
    pub topology: PathBuf,
    /// The `vnet` binary on the nodes (the agent's `vnet` parameter): absolute.
    pub vnet: PathBuf,
    /// How the cluster fences a node; `None` is refused ([`PacemakerError::NoFencing`]).
    pub fence: Option<Fence>,
    /// Further `ocf:vnet:ct` parameters for every container (e.g. `sandbox=true` and
    /// `prefix=P` for a cluster whose nodes share one machine's sandbox).
    pub agent_params: Vec<(String, String)>,
}

/// A fence device per node: the same agent, its parameters with `{node}` replaced by
/// the node's name (e.g. `ip={node}-ipmi`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The fence agent (`fence_ipmilan`, `fence_xvm`, ...): a `stonith:` class agent.
    pub agent: String,
    /// `KEY=VALUE` parameters; `{node}` in a value is the fenced node's name.
    pub params: Vec<(String, String)>,
}

/// Why the pacemaker render refused, each with the fix.
#[derive(Debug, thiserror::Error)]
pub enum PacemakerError {
    /// A relative topology path.
    #[error(
        "topology path {0:?} is relative: the agent runs in Pacemaker's working directory, \
         where it names no file; pass the absolute path the nodes read it from"
    )]
    RelativeTopology(PathBuf),
    /// A relative `vnet` binary path.
    #[error(
        "vnet binary {0:?} is not an absolute path: Pacemaker's agents run with a minimal \
         PATH; pass the binary's absolute path on the nodes (e.g. /usr/local/bin/vnet)"
    )]
    RelativeVnet(PathBuf),
    /// No fencing: a hung node and its replacement would both run the containers.
    #[error(
        "no fencing: without it a hung node keeps its containers while another starts \
         them (two routers with one address); give the fence agent that powers a node \
         off, e.g. `--fence-agent fence_ipmilan --fence-param ip={{node}}-ipmi \
         --fence-param username=admin --fence-param password=secret`"
    )]
    NoFencing,
    /// A parameter name that is not a word.
    #[error("parameter name {0:?} is not letters, digits, '_' or '-' (write it as KEY=VALUE)")]
    BadParam(String),
    /// The script could not be written.
    #[error(transparent)]
    Shell(#[from] ShellError),
}

impl PacemakerOptions {
    /// Refuses relative paths and parameter names that are not words.
    pub fn check(&self) -> Result<(), PacemakerError> {
        if !self.topology.is_absolute() {
            return Err(PacemakerError::RelativeTopology(self.topology.clone()));
        }
        if !self.vnet.is_absolute() {
            return Err(PacemakerError::RelativeVnet(self.vnet.clone()));
        }
        let fence_params = self.fence.iter().flat_map(|f| &f.params);
        for (key, _) in self.agent_params.iter().chain(fence_params) {
            let word = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !word {
                return Err(PacemakerError::BadParam(key.clone()));
            }
        }
        Ok(())
    }
}

/// Splits `KEY=VALUE` (for command-line parsers).
pub fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}
