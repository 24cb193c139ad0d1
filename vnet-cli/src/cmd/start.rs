//! `vnet start CT... --node N FILE --sandbox` (or `--this-host` on real node `N`): bring
//! containers' networks up on one of their nodes (home or failover), leaves before
//! gateways, and announce each address from inside the container once its port forwards.
//!
//! For each container: observe; in the sandbox, when its namespace exists on another
//! node, stop it there first (deleting the namespace removes its veth pairs); on a real
//! node, its namespace `/run/netns/<ct>` must exist (its runtime made it). Diff against
//! the topology with the container placed on `N`; keep only the container's own steps
//! (its namespace, its host-side veth ends and NIC cables, see [`super::ct::concerns`])
//! and, on a real node, the node's shared bridges ([`super::ct::node_shared`]: the first
//! container started there brings them up); execute them with the netlink backend; check
//! its objects; then wait until each interface's port forwards and send gratuitous ARP /
//! unsolicited NA on the schedule. Leaves start before the containers they route
//! through, so the gateway's first forwarded packet finds them (issue 7: a gateway
//! started first costs a 1 s ARP retry).

use anyhow::anyhow;
use serde::Serialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vnet_core::plan::Name;

use vnet_backend_netlink::{announce, ApplyOptions, Backend};
use vnet_core::model::Container;
use vnet_core::plan::{NsRef, Scope};
use vnet_core::ValidTopology;

use super::ct::{self, Where};
use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::{backend_failure, Resolved};

/// How long the container's own objects may take to settle after executing.
const SETTLE: Duration = Duration::from_secs(3);

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

/// One interface announced.
#[derive(Debug, Clone, Serialize)]
pub struct Announced {
    /// The interface inside the container.
    pub ifname: String,
    /// The bridge/switch port waited for (`None`: not a port of anything).
    pub port: Option<String>,
    /// How long the port took to forward, in milliseconds.
    pub forwarding_after_ms: u128,
    /// The addresses announced.
    pub addresses: Vec<IpAddr>,
    /// Gratuitous ARP requests sent.
    pub arp_sent: usize,
    /// Unsolicited Neighbor Advertisements sent.
    pub na_sent: usize,
}

/// What starting one container did.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// The container.
    pub ct: String,
    /// The node it runs on now.
    pub node: String,
    /// The node it was stopped on first, when it ran elsewhere.
    pub moved_from: Option<String>,
    /// Steps executed (0: it was already up there).
    pub steps: usize,
    /// Mutating netlink requests sent.
    pub mutating_requests: u64,
    /// The announcements.
    pub announced: Vec<Announced>,
    /// Wall time for this container, in milliseconds.
    pub elapsed_ms: u128,
}

impl Started {
    /// The line people read.
    pub fn line(&self) -> String {
        let moved = self
            .moved_from
            .as_ref()
            .map(|n| format!(" (stopped on {n} first)"))
            .unwrap_or_default();
        let what = if self.steps == 0 {
            "already up".to_string()
        } else {
            format!(
                "{} steps, {} netlink changes",
                self.steps, self.mutating_requests
            )
        };
        let sent: usize = self.announced.iter().map(|a| a.arp_sent + a.na_sent).sum();
        format!(
            "started {} on {}{moved}: {what}; {sent} announcements on {} interfaces ({} ms)",
            self.ct,
            self.node,
            self.announced.len(),
            self.elapsed_ms
        )
    }
}

/// Starts the containers in leaves-first order; exit 0 when every one is up and clean.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let (cts, file) = ct::split_words(&args.words)?;
    let loaded = input::load_valid(Path::new(file), global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t, Some(&args.node))?;
    let order = ct::leaves_first(t, cts)?;
    // Refuse a node any of them may not run on before changing anything.
    for name in &order {
        ct::placed(t, name, &args.node)?;
    }
    let schedule: Vec<Duration> = {
        let mut ms = args.announce_schedule.clone();
        ms.sort_unstable();
        ms.into_iter().map(Duration::from_millis).collect()
    };
    let timeout = Duration::from_millis(args.forward_timeout);
    let start = Instant::now();
    let mut started = Vec::new();
    for name in order {
        let s = start_one(t, &target, name, &args.node, &schedule, timeout)?;
        if global.output == Output::Human {
            println!("{}", s.line());
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
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).map_err(Failure::system)?
        );
    }
    Ok(Exit::Success)
}

/// Starts one container on `node` (stopping it elsewhere first) and announces it
/// (also the building block of `vnet failover-test`).
pub fn start_one(
    t: &ValidTopology,
    target: &Resolved,
    name: &str,
    node: &str,
    schedule: &[Duration],
    timeout: Duration,
) -> Result<Started, Failure> {
    let begin = Instant::now();
    let c = ct::container(t, name)?;
    let on_node = ct::placed(t, name, node)?;
    let scope = ct::scope_on(target, node)?;
    let backend = target.backend();
    let mut moved_from = None;
    if scope == Scope::Sandbox {
        let observed = backend
            .observe(t, &Scope::Sandbox)
            .map_err(backend_failure)?;
        if !observed
            .namespaces
            .contains_key(&NsRef::Node(Name::from(node)))
        {
            return Err(Failure::system(anyhow!(
                "node {node} is not there: apply the topology first (vnet apply FILE --sandbox)"
            )));
        }
        let now = ct::whereabouts(t, c, &observed);
        if now.ns_exists && now.node.as_deref() != Some(node) {
            // Its namespace holds the other ends of its cables on the old node; deleting
            // it removes them, and the start below builds it afresh on `node`.
            moved_from = now.node.clone();
            ct::stop(target, t, c)?;
        }
    } else {
        // On a real node the container's runtime makes its namespace; without it there
        // is nothing to cable (and the other nodes are other machines: Pacemaker stops
        // the container there before starting it here).
        let ns = NsRef::Ct(Name::from(name));
        let path = ns_path(target, &ns)?;
        if !path.exists() {
            return Err(Failure::system(anyhow!(
                "container {name} has no network namespace {}: start the container \
                 first and name its namespace (ip netns attach {name} PID, or ip netns \
                 add {name})",
                path.display()
            )));
        }
    }
    // Held while building only: announcing (up to the schedule's last offset) runs in
    // parallel with the next container's build.
    let lock = crate::lock::take_on_node(target)?;
    let plan = backend.diff(&on_node, &scope).map_err(backend_failure)?;
    let objects = on_node.ct_objects(name, node, &scope);
    let shared = scope != Scope::Sandbox;
    let mine = plan.restricted_to(|a| {
        ct::concerns(&objects, a) || (shared && ct::node_shared(&on_node, node, &scope, a))
    });
    let mutating_requests = if mine.is_empty() {
        0
    } else {
        backend
            .execute(&mine, &ApplyOptions::default())
            .map_err(backend_failure)?
            .mutating_requests
    };
    drop(lock);
    settle(&backend, t, name, node, &scope)?;
    let announced = announce_all(&on_node, target, c, node, &scope, schedule, timeout)?;
    Ok(Started {
        ct: name.to_string(),
        node: node.to_string(),
        moved_from,
        steps: mine.len(),
        mutating_requests,
        announced,
        elapsed_ms: begin.elapsed().as_millis(),
    })
}

/// Waits (at most [`SETTLE`]) until the container's own objects match the topology; the
/// differences left are drift (exit 3).
fn settle(
    backend: &Backend,
    t: &ValidTopology,
    ct: &str,
    node: &str,
    scope: &Scope,
) -> Result<(), Failure> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let drift = ct::drift(backend, t, ct, node, scope)?;
        if drift.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let list: Vec<String> = drift.iter().map(ToString::to_string).collect();
            return Err(Failure {
                exit: Exit::Drift,
                error: Some(anyhow!(
                    "after start, container {ct} differs from the topology: {}",
                    list.join("; ")
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The namespace file of `ns` (`/run/netns/...`; the node's own on a real node).
fn ns_path(target: &Resolved, ns: &NsRef) -> Result<PathBuf, Failure> {
    target
        .ns_path(ns)
        .ok_or_else(|| Failure::system(anyhow!("no namespace file for {ns}")))
}

/// The namespace file and name of the port to wait for before announcing.
type Port = (PathBuf, String);

/// For each addressed interface of the container: wait until the port carrying it
/// forwards, then announce its addresses from inside the container.
fn announce_all(
    t: &ValidTopology,
    target: &Resolved,
    c: &Container,
    node: &str,
    scope: &Scope,
    schedule: &[Duration],
    timeout: Duration,
) -> Result<Vec<Announced>, Failure> {
    let ct_ns = ns_path(target, &NsRef::Ct(Name::from(&c.name)))?;
    let node_ns = ns_path(target, &NsRef::Node(Name::from(node)))?;
    let mut todo: Vec<(String, Option<Port>, Vec<IpAddr>)> = Vec::new();
    for v in &c.veth {
        let port = v
            .bridge
            .as_ref()
            .map(|_| (node_ns.clone(), t.veth_host_name(c, v).to_string()));
        todo.push((
            v.name.clone(),
            port,
            v.addresses.iter().map(|a| a.ip()).collect(),
        ));
    }
    for (index, nic) in c.nic.iter().enumerate() {
        // The sandbox's stand-in NIC is cabled to the LAN's switch port `n<id>.<index>`;
        // a real NIC's switch is outside, with no port state vnet can read.
        let port = match scope {
            Scope::Sandbox => {
                let lan_ns = ns_path(target, &NsRef::Lan(Name::from(&nic.lan)))?;
                Some((lan_ns, format!("n{}.{index}", c.id)))
            }
            Scope::Node(_) => None,
        };
        todo.push((
            nic.name.clone(),
            port,
            nic.addresses.iter().map(|a| a.ip()).collect(),
        ));
    }
    for v in &c.vlan {
        // A VLAN link rides on its parent, whose port was waited for above.
        todo.push((
            v.name.clone(),
            None,
            v.addresses.iter().map(|a| a.ip()).collect(),
        ));
    }
    let mut out = Vec::new();
    for (ifname, port, addresses) in todo {
        if addresses.is_empty() {
            continue;
        }
        let waited = match &port {
            Some((ns, name)) => wait(ns, name, timeout)?,
            None => Duration::ZERO,
        };
        let report =
            announce::announce(&ct_ns, &ifname, &addresses, schedule).map_err(backend_failure)?;
        out.push(Announced {
            ifname,
            port: port.map(|(_, p)| p),
            forwarding_after_ms: waited.as_millis(),
            addresses,
            arp_sent: report.arp_sent,
            na_sent: report.na_sent,
        });
    }
    Ok(out)
}

fn wait(ns: &Path, port: &str, timeout: Duration) -> Result<Duration, Failure> {
    announce::wait_forwarding(ns, port, timeout).map_err(backend_failure)
}
