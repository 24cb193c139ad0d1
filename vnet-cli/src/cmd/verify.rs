//! `vnet verify FILE --sandbox`: send real ICMP echoes from inside the namespaces and
//! compare what answered with what the model says must (and must not).
//!
//! By default one probe stands for each class of alike endpoints ([`vnet_core::reach::plan`];
//! the whole matrix when it has at most 256 pairs) and every endpoint is probed once;
//! `--pairs all` probes every pair ([`vnet_core::reach::expectations`]). Probes start as
//! the machine's neighbour table allows. People get a summary (and, for up to 100
//! probes, the matrix or a list); the JSON lists every probe, compact when long.
//!
//! The matrix has a row per source namespace and a column per target address: ✓
//! expected and answered (with the round-trip time), ✗ expected but silent, · not
//! expected and silent, ! not expected but answered. Exit 3 on any difference.
//!
//! On a real node (`--node m1 --this-host`) it probes the pairs whose ends are both on
//! this machine (its containers, and the node itself through its own addresses); the
//! pairs with an end elsewhere (another node, a LAN host) are listed as not probed here,
//! with the reason, and are not failures; a container that may run on this node only
//! and is not found on it is (exit 3).

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::input;
use crate::sandbox::Target;
use crate::verbs::verify::{colour, probe_pairs, render_verified, Pairs, DEFAULT_TIMEOUT_MS};

/// Arguments of `vnet verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// Where the topology was built.
    #[command(flatten)]
    pub target: Target,
    /// How long to wait for each reply, in milliseconds (from the probe's first send).
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_MS, value_name = "MS")]
    pub timeout: u64,
    /// Which pairs to probe: one per class of alike endpoints plus every endpoint once,
    /// or every pair.
    #[arg(long, value_enum, default_value_t = Pairs::Classes)]
    pub pairs: Pairs,
}

/// Beyond this many probes the JSON document is printed on one line.
const PRETTY_UP_TO: usize = 256;

/// Verifies; exit 3 on any difference.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    let v = probe_pairs(
        t,
        &target,
        Duration::from_millis(args.timeout),
        args.pairs,
        global.output,
    )?;
    let ok = v.matched();
    match global.output {
        Output::Human => crate::out!("{}", render_verified(&v, colour())),
        Output::Json => {
            let doc = serde_json::json!({
                "matched": ok,
                "pairs": v.pairs,
                "classes": v.classes.iter().map(|c| c.iter().map(ToString::to_string).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "probes": v.results,
                "not_probed_here": {
                    "pairs": v.pairs_elsewhere,
                    "ends": v.elsewhere,
                },
                "missing": v.missing,
            });
            if v.results.len() <= PRETTY_UP_TO {
                crate::output::json(&doc);
            } else {
                crate::outln!("{doc}");
            }
        }
    }
    Ok(if ok { Exit::Success } else { Exit::Drift })
}
