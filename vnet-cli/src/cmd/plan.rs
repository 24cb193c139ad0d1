//! `vnet plan FILE`: what building (or tearing down) a topology would do, step by step,
//! without touching the machine.
//!
//! The default scope is the sandbox (every node, container, LAN and host as a namespace
//! named `<prefix>-<name>`), since that plan needs nothing from the machine; `--node N`
//! plans one real node, where the node is the namespace the commands run in and a
//! container is the `ip netns` name equal to its own name.

use anyhow::anyhow;
use std::path::PathBuf;

use vnet_backend_shell::iproute2::{node_names, sandbox_names};
use vnet_core::plan::{compile, listing, teardown, NsRef, Plan, Scope};
use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::{input, output};

/// Arguments of `vnet plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// Plan one real node (its bridges and the containers whose home it is).
    #[arg(long, value_name = "N", conflicts_with = "sandbox")]
    pub node: Option<String>,
    /// Plan the whole topology in private namespaces on this machine (the default).
    #[arg(long)]
    pub sandbox: bool,
    /// Prefix of the sandbox's namespace names (`<prefix>-<name>`).
    #[arg(long, value_name = "P", default_value = "vnet")]
    pub prefix: String,
    /// Show the plan that removes what the topology builds instead.
    #[arg(long)]
    pub teardown: bool,
}

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

/// Validates the file and prints the plan (or the teardown plan) for the chosen scope.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let target = Target::choose(&loaded.valid, args.node.as_deref(), &args.prefix)?;
    let scope = target.scope();
    let plan: Plan = if args.teardown {
        teardown(&loaded.valid, &scope)
    } else {
        compile(&loaded.valid, &scope)
    };
    let text = match global.output {
        Output::Human => listing::listing(&plan, &*target.ns_names()),
        Output::Json => {
            let mut t = plan.to_json();
            t.push('\n');
            t
        }
    };
    output::write_bytes(text.as_bytes());
    Ok(Exit::Success)
}
