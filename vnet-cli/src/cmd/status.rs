//! `vnet status CT FILE --sandbox` / `--node N --this-host`: whether a container's network
//! is up, on which node (where its host-side cables are), and how its own objects differ
//! from the topology (the netlink backend's `Backend::status`). Exit 0 up and clean, 7
//! cleanly not running (nothing of it there: OCF's "not running"), 3 broken (partly
//! there, or drifted), so an OCF agent's `monitor` maps it directly.

use std::path::PathBuf;

use vnet_core::lifecycle::State;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::input;
use crate::sandbox::backend_failure;
use crate::sandbox::Where;

/// Arguments of `vnet status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container.
    #[arg(value_name = "CT")]
    pub ct: String,
    /// The topology file (`.toml`, or `.json`).
    pub file: PathBuf,
    /// On a real node: the node this host is (with --this-host).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Where the topology runs.
    #[command(flatten)]
    pub target: Where,
}

/// Reports the container's state; exit 0 up, 7 cleanly not running, 3 broken.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t, args.node.as_deref())?;
    let status = target
        .backend()
        .status(t, &args.ct)
        .map_err(backend_failure)?;
    match global.output {
        Output::Human => crate::outln!("{}", status.line()),
        Output::Json => crate::output::json(&status),
    }
    Ok(match status.state {
        State::Up => Exit::Success,
        State::Stopped => Exit::NotRunning,
        State::Broken => Exit::Drift,
    })
}
