//! `vnet start CT... --node N FILE --sandbox` (or `--this-host` on real node `N`): bring
//! containers' networks up on one of their nodes (home or failover), leaves before
//! gateways ([`vnet_core::lifecycle::leaves_first`]: issue 7, a gateway started first
//! costs a 1 s ARP retry), and announce each address from inside the container once
//! its port forwards. Each start is the netlink backend's two halves
//! ([`Backend::cable`], [`Backend::announce_started`]): stop it elsewhere first in the
//! sandbox, build only its own steps (leaves first; in the sandbox the leaves at once,
//! then the gateways at once; on a real node one after the other under the node's
//! lock), then check them, wait for their ports and send the first announcement, the
//! gateways before the leaves (see `run`). The schedule's later offsets go to a background announcer per
//! container (the `vnet announce` subcommand) that `vnet stop` ends, so the
//! start returns once the network is ready and announced once (issue 17).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use vnet_backend_netlink::{Backend, StartOptions};
use vnet_core::lifecycle::{is_gateway, leaves_first};
use vnet_core::ValidTopology;

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

/// One container started: the library's report, and its background announcer.
#[derive(Debug, Serialize)]
struct Started {
    /// What the start did (cabling, the first announcement).
    #[serde(flatten)]
    started: vnet_backend_netlink::Started,
    /// The pid of the announcer sending the later offsets (`None`: none left).
    announcer: Option<u32>,
    /// The offsets it sends, in milliseconds after the first announcement.
    later_ms: Vec<u128>,
}

impl Started {
    /// The line people read.
    fn line(&self) -> String {
        match self.announcer {
            Some(pid) => format!(
                "{}; later announcements at +{} ms by announcer {pid}",
                self.started.line(),
                self.later_ms
                    .iter()
                    .map(u128::to_string)
                    .collect::<Vec<_>>()
                    .join(", +"),
            ),
            None => self.started.line(),
        }
    }
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
    // The first offset is sent before the start returns; the rest by a background
    // announcer per container (issue 17: the start used to block on them).
    let (first, later) = schedule.split_at(schedule.len().min(1));
    let first_only = StartOptions {
        schedule: first.to_vec(),
        forward_timeout: Duration::from_millis(args.forward_timeout),
        ..StartOptions::default()
    };
    let backend: Backend = target.backend();
    let start = Instant::now();
    // What finishes one start once it is cabled: wait for its objects and ports, send
    // the first announcement, hand the later offsets to its background announcer.
    let finish = |name: &str, c, begin| -> Result<Started, Failure> {
        let s = backend
            .announce_started(t, name, &args.node, c, &first_only, begin)
            .map_err(backend_failure)?;
        let first_sent = first.first().copied().unwrap_or_default();
        let rest: Vec<Duration> = later.iter().map(|d| *d - first_sent).collect();
        let (ct_ns, targets) = backend
            .announce_targets(t, name, &args.node)
            .map_err(backend_failure)?;
        let announcer = crate::verbs::announcer::spawn(name, &ct_ns, &targets, &rest)?;
        Ok(Started {
            started: s,
            announcer,
            later_ms: rest.iter().map(Duration::as_millis).collect(),
        })
    };
    let (backend, target, finish) = (&backend, &target, &finish);
    let waves = waves(t, &order, target.this_node().is_none());
    let results: Vec<Result<Started, Failure>> = std::thread::scope(|s| {
        let mut cabled_waves: Vec<Vec<(&str, Result<_, Failure>)>> = Vec::new();
        for wave in &waves {
            // On a real node cabling takes turns under the node's lock (Pacemaker
            // starts containers in parallel there, and the first builds the node's
            // shared bridges). In the sandbox a container's steps are its own (the
            // sandbox's apply built the nodes), so a wave's containers (all leaves, or
            // all gateways) are cabled at once.
            let handles: Vec<_> = wave
                .iter()
                .map(|name| {
                    s.spawn(move || -> Result<_, Failure> {
                        let begin = Instant::now();
                        let _lock = crate::lock::take_on_node(target)?;
                        let c = backend
                            .cable(t, name, &args.node)
                            .map_err(backend_failure)?;
                        Ok((c, begin))
                    })
                })
                .collect();
            let done: Vec<_> = wave
                .iter()
                .copied()
                .zip(handles.into_iter().map(joined))
                .collect();
            let failed = done.iter().any(|(_, r)| r.is_err());
            cabled_waves.push(done);
            if failed {
                // No gateway is started for leaves that could not be.
                break;
            }
        }
        // Waiting for the ports and the first announcement: the last wave (the
        // gateways) first, then the leaves. A gateway forwards the first packets for a
        // leaf as soon as it is cabled, and its ARP request for the leaf is dropped while
        // its own bridge port does not forward yet (the kernel enables a port on the
        // carrier event, which comes up to a second late on a busy machine); the entry
        // stays INCOMPLETE for the 1 s retry unless the leaf's gratuitous ARP comes
        // after the gateway's port forwards, which this order makes sure of.
        let mut finished: Vec<Vec<Result<Started, Failure>>> = Vec::new();
        for wave in cabled_waves.into_iter().rev() {
            let handles: Vec<_> = wave
                .into_iter()
                .map(|(name, cabled)| {
                    s.spawn(move || {
                        let (c, begin) = cabled?;
                        finish(name, c, begin)
                    })
                })
                .collect();
            finished.push(handles.into_iter().map(joined).collect());
        }
        finished.into_iter().rev().flatten().collect()
    });
    let mut started = Vec::new();
    for r in results {
        let s = r?;
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

/// `order` in waves cabled together: consecutive leaves, then consecutive gateways
/// (`parallel`), or one container per wave.
fn waves<'a>(t: &ValidTopology, order: &[&'a str], parallel: bool) -> Vec<Vec<&'a str>> {
    let mut waves: Vec<Vec<&str>> = Vec::new();
    let mut last = None;
    for name in order {
        let kind = t
            .topology()
            .ct
            .iter()
            .find(|c| c.name == *name)
            .map(|c| is_gateway(t, c));
        match waves.last_mut() {
            Some(w) if parallel && last == Some(kind) => w.push(name),
            _ => waves.push(vec![name]),
        }
        last = Some(kind);
    }
    waves
}

/// A scoped thread's result (a panic as a failure).
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, Failure>>) -> Result<T, Failure> {
    h.join()
        .unwrap_or_else(|_| Err(Failure::system(anyhow::anyhow!("a start thread panicked"))))
}
