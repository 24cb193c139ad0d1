//! `vnet stop CT... FILE --sandbox` / `--node N --this-host`: take containers' networks
//! down. In the sandbox their namespaces are deleted (their veth pairs and NIC stand-ins
//! go with them; a namespace this topology did not make is left alone). On a real node
//! their own objects are removed (veth pairs, a NIC moved back to the node, routes, NAT,
//! forwarding) and their namespaces, which their runtime owns, stay. Idempotent: a
//! container that is not running is fine.

use serde::Serialize;
use std::path::Path;
use std::time::Instant;

use super::ct::{self, Where};
use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;

/// Arguments of `vnet stop`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The containers to stop, then the topology file (`.toml`, or `.json`):
    /// `CT... FILE`. One list, because clap cannot tell where a list of containers ends
    /// when an option stands between it and the file.
    #[arg(required = true, num_args = 1.., value_name = "CT... FILE")]
    pub words: Vec<String>,
    /// On a real node: the node this host is (with --this-host).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Where the topology runs.
    #[command(flatten)]
    pub target: Where,
}

/// What stopping one container did.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    /// The container.
    pub ct: String,
    /// Whether it was running (false: nothing to do).
    pub was_running: bool,
}

/// Stops each container; exit 0 also when none was running.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let (cts, file) = ct::split_words(&args.words)?;
    let loaded = input::load_valid(Path::new(file), global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t, args.node.as_deref())?;
    let start = Instant::now();
    // Check every name before changing anything.
    let cts = cts
        .iter()
        .map(|n| ct::container(t, n))
        .collect::<Result<Vec<_>, Failure>>()?;
    let _lock = crate::lock::take_on_node(&target)?;
    let mut stopped = Vec::new();
    for c in cts {
        let was_running = ct::stop(&target, t, c)?;
        if global.output == Output::Human {
            if was_running {
                println!("stopped {}", c.name);
            } else {
                println!("{} is not running: nothing to stop", c.name);
            }
        }
        stopped.push(Stopped {
            ct: c.name.clone(),
            was_running,
        });
    }
    if global.output == Output::Json {
        let doc = serde_json::json!({
            "topology": t.name(),
            "stopped": stopped,
            "elapsed_ms": start.elapsed().as_millis(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(Failure::system)?
        );
    }
    Ok(Exit::Success)
}
