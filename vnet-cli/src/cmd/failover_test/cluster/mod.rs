//! `vnet failover-test FILE --cluster pacemaker`: the failover driven by a real
//! two-node corosync 3 + Pacemaker 2.1 cluster on this machine, configured by `vnet
//! render --dialect pacemaker` (issue 17).
//!
//! Inside the command's private namespaces ([`super::private`]) the sandbox is built
//! with every container on the home node; each cluster node is `node.sh` as pid 1 of
//! fresh net+mount+uts+pid namespaces ([`node`]) with its own tmpfs state and the
//! sandbox's shared `/run/netns`, corosync over a veth ring between the two ([`trial`]).
//! The render's script (totem timings, a `fence_vnet_sandbox` device per node,
//! `stonith-enabled=true`, one `ocf:vnet:ct` resource per container with the sandbox
//! parameters) is run on the home node; Pacemaker's probes find the containers running
//! there. The LAN host pings every 10 ms; then the home node is killed (powered off:
//! [`power`]) or frozen (SIGSTOP of its corosync and Pacemaker: its containers keep
//! answering until the failover node's fencer has the switch turn it off). Reported per
//! case: the outage (longest gap between replies), failure to first reply, the
//! network's share (Pacemaker initiating the first start on the failover node to the
//! first reply), and the cluster's phases from the failover node's logs ([`phases`]).
//! Every daemon dies with its node (SIGKILL of its pid 1, by pid), also on failure; the
//! run's temp directory ([`workdir`]) is removed.

mod node;
mod phases;
mod power;
mod trial;
mod workdir;

use anyhow::{anyhow, Context};
use serde::Serialize;

use vnet_core::plan::{Name, NsRef};

use super::scenario::Scenario;
use super::{private, settle, Args};
use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::Target;
use crate::verbs::{apply, destroy};
use trial::{Setup, TrialReport};

/// The cluster stacks `--cluster` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cluster {
    /// corosync 3 + Pacemaker 2.1 (Debian: corosync, pacemaker, pacemaker-cli-utils,
    /// pcs, resource-agents).
    Pacemaker,
}

/// How the home node fails in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fault {
    /// Powered off: its processes killed, its containers gone.
    Killed,
    /// Its corosync and Pacemaker stopped (SIGSTOP); its containers keep running until
    /// the failover node fences it.
    Frozen,
}

impl Fault {
    /// The case's name, as the JSON report writes it.
    pub fn word(self) -> &'static str {
        match self {
            Fault::Killed => "killed",
            Fault::Frozen => "frozen",
        }
    }
}

/// The whole outage allowed (keepalived's range), ms.
const OUTAGE_GOAL_MS: f64 = 3000.0;
/// The network's share allowed, ms.
const NETWORK_GOAL_MS: f64 = 200.0;

/// The programs the cluster needs, and the Debian package of each.
const TOOLS: [(&str, &str); 6] = [
    ("corosync", "corosync"),
    ("pacemakerd", "pacemaker"),
    ("crm_mon", "pacemaker-cli-utils"),
    ("pcs", "pcs"),
    ("nsenter", "util-linux"),
    ("ip", "iproute2"),
];

/// Runs both cases (`--runs` times each) on fresh sandboxes and clusters.
pub fn run(args: &Args, global: &Global) -> Outcome {
    if !private::inside() {
        return private::reexec();
    }
    check_tools()?;
    private::private_run_netns()?;
    // The nodes keep peers of /run/netns: a namespace one node's agent makes is seen by
    // the other node and by this process.
    nix::mount::mount(
        None::<&str>,
        "/run/netns",
        None::<&str>,
        nix::mount::MsFlags::MS_SHARED,
        None::<&str>,
    )
    .context("make /run/netns a shared mount")
    .map_err(Failure::system)?;
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let file = std::fs::canonicalize(&args.file)
        .with_context(|| format!("resolve {}", args.file.display()))
        .map_err(Failure::invalid)?;
    let target = Target::sandbox(&args.prefix).resolve(t)?;
    let scenario = Scenario::new(t, args)?;
    let setup = Setup {
        t,
        file: &file,
        target: &target,
        s: &scenario,
    };
    let mut trials = Vec::new();
    for fault in [Fault::Killed, Fault::Frozen] {
        for _ in 0..args.runs {
            let report = one(&setup, fault)?;
            if global.output == Output::Human {
                crate::outln!("{}", line(&report));
            }
            trials.push(report);
        }
    }
    let worst = trials.iter().map(|r| r.outage_ms).fold(0.0, f64::max);
    let worst_network = trials
        .iter()
        .map(|r| r.network_ms.unwrap_or(f64::INFINITY))
        .fold(0.0, f64::max);
    let one_router = trials
        .iter()
        .all(|r| r.router_nodes == [scenario.failover.clone()]);
    let met = trials.iter().all(|r| r.recovered)
        && worst <= OUTAGE_GOAL_MS
        && worst_network < NETWORK_GOAL_MS
        && one_router;
    match global.output {
        Output::Human => crate::outln!(
            "{} failed over to {} under corosync + Pacemaker: worst outage {worst:.0} ms \
             (goal {OUTAGE_GOAL_MS} ms), worst network share {worst_network:.0} ms (goal < \
             {NETWORK_GOAL_MS} ms), one router at the end: {one_router}; {}",
            scenario.home,
            scenario.failover,
            if met { "met" } else { "MISSED" }
        ),
        Output::Json => crate::output::json(&serde_json::json!({
            "topology": t.name(),
            "cluster": "pacemaker",
            "from": scenario.from,
            "target": scenario.to,
            "failed_node": scenario.home,
            "failover_node": scenario.failover,
            "cases": trials,
            "worst_outage_ms": worst,
            "network_ms": worst_network,
            "one_router": one_router,
            "outage_goal_ms": OUTAGE_GOAL_MS,
            "network_goal_ms": NETWORK_GOAL_MS,
            "scheduling": private::scheduling(),
            "met": met,
        })),
    }
    Ok(if met { Exit::Success } else { Exit::Drift })
}

/// One case on a fresh sandbox, destroyed afterwards (also when the case failed; its
/// nodes are dead by then), the next starting once the kernel has torn it down.
fn one(setup: &Setup, fault: Fault) -> Result<TrialReport, Failure> {
    apply::apply_netlink(setup.t, setup.target, Output::Json)?;
    let result = trial::run(setup, fault);
    let canary = match (&result, &setup.target.prefix) {
        (Ok(_), Some(p)) => Some(settle::Canary::plant(
            &NsRef::Host(Name::from(&setup.s.from)).sandbox_name(p),
        )),
        _ => None,
    };
    let removed = destroy::destroy(setup.t, setup.target, Output::Json);
    let report = result?;
    removed?;
    if let Some(c) = canary {
        c?.wait_gone()?;
    }
    Ok(report)
}

/// Refuses to start without the cluster's programs, naming the packages.
fn check_tools() -> Result<(), Failure> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| {
            !std::env::split_paths(&path)
                .chain(["/usr/sbin".into(), "/sbin".into()])
                .any(|d| d.join(tool).is_file())
        })
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Failure::system(anyhow!(
        "the cluster test needs {0} (e.g. apt-get install {0})",
        missing.join(" ")
    )))
}

/// The line people read for one case.
fn line(r: &TrialReport) -> String {
    let p = &r.phases;
    let at = |v: Option<i64>| v.map_or("-".to_string(), |v| format!("+{v}"));
    format!(
        "{}: outage {:.0} ms (failure to first reply {:.0} ms, network {} ms); token {}, \
         membership {}, fenced {}, transition {}, first start {} ms; router on {}",
        r.fault.word(),
        r.outage_ms,
        r.failure_to_reply_ms,
        r.network_ms.map_or("-".to_string(), |n| format!("{n:.0}")),
        at(p.token),
        at(p.membership),
        at(p.fenced),
        at(p.transition),
        at(p.first_start),
        r.router_nodes.join(", ")
    )
}
