//! `vnet start CT... --node N FILE --sandbox` (or `--this-host` on real node `N`): bring
//! containers' networks up on one of their nodes (home or failover), leaves before
//! gateways ([`vnet_core::lifecycle::leaves_first`]: issue 7, a gateway started first
//! costs a 1 s ARP retry), and announce each address from inside the container once
//! its port forwards. Each start is the netlink backend's [`Backend::start`]
//! (`vnet_backend_netlink::Backend`): stop it elsewhere first in the sandbox, build
//! only its own steps, check them, announce.

use std::path::Path;
use std::time::{Duration, Instant};

use vnet_backend_netlink::{Backend, StartOptions};
use vnet_core::lifecycle::leaves_first;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::backend_failure;
use crate::sandbox::{split_words, Where};

/// Arguments of `vnet start`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The containers to start (leaves are started before their gateways), then the topology file (`.toml`, or `.json`):
    /// `CT... FILE`. One list, because clap cannot tell where a list of containers ends
    /// when an option stands between it and the file.
    #[arg(required = true, num_args = 1.., value_name = "CT... FILE")]
    pub words: Vec<String>,
    /// The node to start them on: their home or one of their failover nodes.
    #[arg(long, value_name = "NODE")]
    pub node: String,
    /// Where the topology runs.
    #[command(flatten)]
    pub target: Where,
    /// When to announce each address, in milliseconds after the port forwards.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,20,200",
        value_name = "MS,..."
    )]
    pub announce_schedule: Vec<u64>,
    /// How long to wait for a port to forward before giving up, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub forward_timeout: u64,
}

/// Starts the containers in leaves-first order; exit 0 when every one is up and clean.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let (cts, file) = split_words(&args.words)?;
    let loaded = input::load_valid(Path::new(file), global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t, Some(&args.node))?;
    let order = leaves_first(t, cts).map_err(Failure::invalid)?;
    // Refuse a node any of them may not run on before changing anything.
    for name in &order {
        t.placed(name, &args.node)
            .map_err(|e| backend_failure(e.into()))?;
    }
    let mut schedule: Vec<Duration> = args
        .announce_schedule
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    schedule.sort_unstable();
    let options = StartOptions {
        schedule,
        forward_timeout: Duration::from_millis(args.forward_timeout),
        ..StartOptions::default()
    };
    let backend: Backend = target.backend();
    let start = Instant::now();
    let mut started = Vec::new();
    for name in order {
        let begin = Instant::now();
        // On a real node the build takes turns with other vnet runs (Pacemaker starts
        // containers in parallel, the first builds the bridges); announcing, up to the
        // schedule's last offset, runs in parallel with the next container's build.
        let cabled = {
            let _lock = crate::lock::take_on_node(&target)?;
            backend
                .cable(t, name, &args.node)
                .map_err(backend_failure)?
        };
        let s = backend
            .announce_started(t, name, &args.node, cabled, &options, begin)
            .map_err(backend_failure)?;
        if global.output == Output::Human {
            crate::outln!("{}", s.line());
        }
        started.push(s);
    }
    if global.output == Output::Json {
        let doc = serde_json::json!({
            "topology": t.name(),
            "node": args.node,
            "started": started,
            "elapsed_ms": start.elapsed().as_millis(),
        });
        crate::output::json(&doc);
    }
    Ok(Exit::Success)
}
