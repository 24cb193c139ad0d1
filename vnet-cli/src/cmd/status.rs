//! `vnet status CT FILE --sandbox`: whether a container's network is up, on which node
//! (where its host-side cables are), and how its own objects differ from the topology.
//! Exit 0 when running and clean, 3 when not running or drifted (for monitors such as
//! an OCF agent's `monitor`).

use serde::Serialize;
use std::path::PathBuf;

use vnet_core::plan::Scope;

use super::ct::{self, Sandbox};
use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::backend_failure;

/// Arguments of `vnet status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container.
    #[arg(value_name = "CT")]
    pub ct: String,
    /// The topology file (`.toml`, or `.json`).
    pub file: PathBuf,
    /// Where the topology runs.
    #[command(flatten)]
    pub target: Sandbox,
}

/// A container's state, as printed (and as the JSON document).
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The container.
    pub ct: String,
    /// Its namespace exists and carries this topology's mark.
    pub running: bool,
    /// The node holding its host-side cables.
    pub node: Option<String>,
    /// Differences of its own objects from the topology.
    pub drift: Vec<String>,
}

impl Status {
    /// The exit code: 0 running and clean, 3 otherwise.
    pub fn exit(&self) -> Exit {
        if self.running && self.node.is_some() && self.drift.is_empty() {
            Exit::Success
        } else {
            Exit::Drift
        }
    }

    /// The line people read.
    pub fn line(&self) -> String {
        match (&self.node, self.running) {
            (_, false) => format!("{}: not running", self.ct),
            (None, true) => format!("{}: running, but its cables are on no node", self.ct),
            (Some(n), true) if self.drift.is_empty() => {
                format!("{}: running on {n}, no drift", self.ct)
            }
            (Some(n), true) => format!(
                "{}: running on {n}, drift:\n  {}",
                self.ct,
                self.drift.join("\n  ")
            ),
        }
    }
}

/// Reports the container's state; exit 0 running and clean, 3 otherwise.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    let c = ct::container(t, &args.ct)?;
    let backend = target.backend();
    let observed = backend
        .observe(t, &Scope::Sandbox)
        .map_err(backend_failure)?;
    let now = ct::whereabouts(t, c, &observed);
    let drift = match (&now.node, now.running()) {
        (Some(node), true) => ct::drift(&backend, t, &c.name, node)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let status = Status {
        ct: c.name.clone(),
        running: now.running(),
        node: now.node,
        drift,
    };
    match global.output {
        Output::Human => println!("{}", status.line()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&status).map_err(Failure::system)?
        ),
    }
    Ok(status.exit())
}
