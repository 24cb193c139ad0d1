//! `vnet verify FILE --sandbox`: send a real ICMP echo for every pair of the model's
//! reachability matrix ([`vnet_core::reach::expectations`]) from inside the namespaces,
//! all at once, and compare what answered with what the model says must (and must not).
//!
//! The matrix has a row per source namespace and a column per target address: ✓
//! expected and answered (with the round-trip time), ✗ expected but silent, · not
//! expected and silent, ! not expected but answered. Exit 3 on any difference.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::input;
use crate::sandbox::Target;
use crate::verbs::verify::{colour, probe, render, ProbeResult, DEFAULT_TIMEOUT_MS};

/// Arguments of `vnet verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// Where the topology was built.
    #[command(flatten)]
    pub target: Target,
    /// How long to wait for replies, in milliseconds.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_MS, value_name = "MS")]
    pub timeout: u64,
}

/// Verifies; exit 3 on any difference.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    let results = probe(t, &target, Duration::from_millis(args.timeout))?;
    let ok = results.iter().all(ProbeResult::matches);
    match global.output {
        Output::Human => crate::out!("{}", render(&results, colour())),
        Output::Json => {
            crate::output::json(&serde_json::json!({ "matched": ok, "probes": results }))
        }
    }
    Ok(if ok { Exit::Success } else { Exit::Drift })
}
