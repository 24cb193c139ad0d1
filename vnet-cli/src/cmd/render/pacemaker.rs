//! `vnet render FILE --dialect pacemaker`'s own options and how they become
//! [`PacemakerOptions`]: the topology's absolute path (resolved here), the `vnet` binary
//! on the nodes, the fence agent and its parameters, extra agent parameters.

use anyhow::{anyhow, Context};
use std::path::Path;

use vnet_backend_shell::pacemaker::{key_value, Fence, PacemakerOptions};

use crate::exit::Failure;

/// The pacemaker dialect's options (ignored by the other dialects).
#[derive(Debug, Clone, clap::Args)]
pub struct PacemakerArgs {
    /// For `pacemaker`: the fence agent that powers a node off (`fence_ipmilan`, ...),
    /// one device per node. Required: the render refuses a cluster without fencing.
    #[arg(long, value_name = "AGENT")]
    pub fence_agent: Option<String>,
    /// For `pacemaker`: a parameter of every fence device; `{node}` in VALUE is the
    /// node's name (e.g. `ip={node}-ipmi`). Repeat for more.
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub fence_param: Vec<(String, String)>,
    /// For `pacemaker`: a further `ocf:vnet:ct` parameter for every container (e.g.
    /// `sandbox=true`, `prefix=P` for a test cluster on one machine). Repeat for more.
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub agent_param: Vec<(String, String)>,
}

impl PacemakerArgs {
    /// The render's options for topology `file`, its path made absolute (a file read
    /// from standard input has no path for the nodes: refused), running `vnet_binary`
    /// (`--vnet-binary`; default: this vnet's own path).
    pub fn options(
        &self,
        file: &Path,
        vnet_binary: Option<&Path>,
    ) -> Result<PacemakerOptions, Failure> {
        if file == Path::new("-") {
            return Err(Failure::usage(anyhow!(
                "the pacemaker dialect needs the topology's path (the agent reads the file \
                 on every node): pass the file, not `-`"
            )));
        }
        let topology = std::fs::canonicalize(file)
            .with_context(|| {
                format!(
                    "resolve {} to an absolute path for the cluster nodes",
                    file.display()
                )
            })
            .map_err(Failure::invalid)?;
        let vnet = match vnet_binary {
            Some(p) => p.to_path_buf(),
            None => std::env::current_exe()
                .context("find this vnet's path (or pass --vnet-binary PATH)")
                .map_err(Failure::system)?,
        };
        Ok(PacemakerOptions {
            topology,
            vnet,
            fence: self.fence_agent.as_ref().map(|agent| Fence {
                agent: agent.clone(),
                params: self.fence_param.clone(),
            }),
            agent_params: self.agent_param.clone(),
        })
    }
}
