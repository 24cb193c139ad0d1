//! One failover on the real cluster: build the sandbox (every container on the home
//! node), start the two nodes and their ring, wait for a DC, load `vnet render --dialect
//! pacemaker`, wait until Pacemaker runs every container on the home node, ping from
//! the LAN host, then kill or freeze the home node and measure until replies are steady
//! again; the phases come from the surviving node's logs.

use anyhow::{anyhow, Context};
use nix::sys::signal::Signal;
use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use vnet_core::plan::{Name, NsRef};
use vnet_core::ValidTopology;

use super::node::Node;
use super::phases::{self, Phases};
use super::power::{self, Outlet};
use super::workdir::{ring_address, Workdir};
use super::Fault;
use crate::cmd::failover_test::observer;
use crate::cmd::failover_test::record::Record;
use crate::cmd::failover_test::run::wait_steady;
use crate::cmd::failover_test::scenario::Scenario;
use crate::exit::Failure;
use crate::sandbox::{backend_failure, Resolved};

/// How long the cluster may take to form and elect a DC (Pacemaker's dc-deadtime is
/// 20 s on a fresh cluster).
const FORM_TIMEOUT: Duration = Duration::from_secs(90);
/// How long the loaded configuration may take to settle (every container started or
/// found running).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Steady replies needed before the failure and after the recovery.
const STEADY: Duration = Duration::from_millis(500);
/// The longest wait for recovery after the failure.
const CAP: Duration = Duration::from_secs(30);

/// When set, a directory where each case's failover-node logs are copied.
const KEEP_LOGS_ENV: &str = "VNET_CLUSTER_LOGS";

/// What one failover measured.
#[derive(Debug, Clone, Serialize)]
pub struct TrialReport {
    /// How the home node failed.
    pub fault: Fault,
    /// The longest gap between consecutive replies, ms.
    pub outage_ms: f64,
    /// From the failure to the first reply after the outage, ms (for a frozen node its
    /// containers keep answering until they are fenced).
    pub failure_to_reply_ms: f64,
    /// From Pacemaker initiating the first start on the failover node to the first
    /// reply after the outage, ms: the network's share.
    pub network_ms: Option<f64>,
    /// Whether replies were steady again within the cap.
    pub recovered: bool,
    /// When the switch turned the home node off, ms after the failure.
    pub powered_off_ms: Option<f64>,
    /// The cluster's phases, ms after the failure (from the failover node's logs).
    pub phases: Phases,
    /// The nodes that run the gateway at the end (one: the failover node).
    pub router_nodes: Vec<String>,
    /// Corosync's token timeout in force on the failover node, ms (the render's).
    pub token_ms: Option<u64>,
    /// Echoes sent and lost; the observer's longest pause between its own sends, ms.
    pub sent: usize,
    /// Echoes without a reply.
    pub lost: usize,
    /// The observer's longest pause between two of its sends, ms.
    pub send_gap_ms: f64,
}

/// The cluster's inputs: topology, its absolute path, the sandbox, the scenario.
pub struct Setup<'a> {
    /// The topology.
    pub t: &'a ValidTopology,
    /// Its absolute path (the agent reads it).
    pub file: &'a Path,
    /// The sandbox.
    pub target: &'a Resolved,
    /// Who pings whom, which node fails, which containers move.
    pub s: &'a Scenario,
}

/// One failover with `fault`; the caller has built the sandbox and destroys it.
pub fn run(setup: &Setup, fault: Fault) -> Result<TrialReport, Failure> {
    let s = setup.s;
    let nodes = [(s.home.clone(), 1), (s.failover.clone(), 2)];
    let dir = Workdir::create(&nodes)?;
    let home = Node::start(&s.home, &dir)?;
    let spare = Node::start(&s.failover, &dir)?;
    cable_ring(&dir, &home, &spare)?;
    wait_formed(&dir, &spare, &[&s.home, &s.failover])?;
    load_render(setup, &dir, &home)?;
    wait_settled(setup, &spare)?;
    check_cib(&spare)?;
    let token_ms = spare
        .run(&["corosync-cmapctl", "-g", "runtime.config.totem.token"])
        .ok()
        .and_then(|o| o.rsplit('=').next().and_then(|v| v.trim().parse().ok()));
    let outlet = Outlet::new(home, &s.order, setup.target);
    let host_ns = setup
        .target
        .ns_path(&NsRef::Host(Name::from(&s.from)))
        .ok_or_else(|| Failure::system(anyhow!("no namespace for LAN host {}", s.from)))?;
    let record = Mutex::new(Record::default());
    let stop = AtomicBool::new(false);
    let pdu = dir.join("pdu");
    let outlets = [(s.home.as_str(), &outlet)];
    let (failed, failed_wall, recovered) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| observer::observe(&host_ns, s.to, &stop, &record));
        let switch = scope.spawn(|| power::serve(&pdu, &outlets, &stop));
        let measured = fail_and_wait(&outlet, fault, &record);
        stop.store(true, Ordering::Relaxed);
        let observed = watcher
            .join()
            .unwrap_or_else(|_| Err("observer thread panicked".into()));
        let served = switch
            .join()
            .unwrap_or_else(|_| Err(Failure::system(anyhow!("power switch thread panicked"))));
        observed.map_err(|e| Failure::system(anyhow!("observer: {e}")))?;
        served?;
        measured
    })?;
    let corosync =
        std::fs::read_to_string(spare.file("/var/log/corosync/corosync.log")).unwrap_or_default();
    let pacemaker =
        std::fs::read_to_string(spare.file("/var/log/pacemaker/pacemaker.log")).unwrap_or_default();
    if let Some(keep) = std::env::var_os(KEEP_LOGS_ENV) {
        // For a person reading what the daemons did; the temp directory goes regardless.
        let keep = Path::new(&keep);
        let _ = std::fs::create_dir_all(keep);
        let _ = std::fs::write(
            keep.join(format!("{}-corosync.log", fault.word())),
            &corosync,
        );
        let _ = std::fs::write(
            keep.join(format!("{}-pacemaker.log", fault.word())),
            &pacemaker,
        );
    }
    let phases = phases::read(
        &corosync,
        &pacemaker,
        phases::time_of_day_ms(failed_wall),
        &s.home,
    );
    let r = record
        .lock()
        .map_err(|_| Failure::system(anyhow!("record poisoned")))?;
    let (gap, back) = longest_gap_after(&r, failed);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let failure_to_reply = back.map(|b| ms(b.duration_since(failed)));
    let network_ms = match (phases.first_start, failure_to_reply) {
        (Some(start), Some(reply)) => Some(reply - start as f64),
        _ => None,
    };
    let powered_off_ms = (*outlet.off_at.lock().unwrap_or_else(|e| e.into_inner()))
        .map(|at| ms(at.duration_since(failed)));
    let router_nodes = router_nodes(setup, &outlet)?;
    Ok(TrialReport {
        fault,
        outage_ms: if recovered { ms(gap) } else { ms(CAP) },
        failure_to_reply_ms: failure_to_reply.unwrap_or(ms(CAP)),
        network_ms,
        recovered,
        powered_off_ms,
        phases,
        router_nodes,
        token_ms,
        sent: r.sent.len(),
        lost: r.lost(),
        send_gap_ms: ms(r.longest_send_gap()),
    })
}

/// Cables the cluster ring (a veth pair between the two nodes' namespaces, addressed
/// in the test range), then lets both nodes start corosync.
fn cable_ring(dir: &Workdir, a: &Node, b: &Node) -> Result<(), Failure> {
    let out = Command::new("ip")
        .args(["link", "add", "ring1", "netns"])
        .arg(a.init.to_string())
        .args(["type", "veth", "peer", "name", "ring2", "netns"])
        .arg(b.init.to_string())
        .output()
        .context("run ip (iproute2)")
        .map_err(Failure::system)?;
    if !out.status.success() {
        return Err(Failure::system(anyhow!(
            "cable the cluster ring: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    for (node, dev, id) in [(a, "ring1", 1), (b, "ring2", 2)] {
        let addr = format!("{}/24", ring_address(id));
        node.run(&["ip", "addr", "add", &addr, "dev", dev])?;
        node.run(&["ip", "link", "set", dev, "up"])?;
        dir.write(&format!("{}/ring", node.name), "", 0o644)?;
    }
    Ok(())
}

/// Waits until both nodes are online and a DC is elected (seen from `node`).
fn wait_formed(dir: &Workdir, node: &Node, names: &[&str]) -> Result<(), Failure> {
    let deadline = Instant::now() + FORM_TIMEOUT;
    let online = format!("Online: [ {} ]", names.join(" "));
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(out) = node.exec(&["crm_mon", "-1"]) {
            last = words(&String::from_utf8_lossy(&out.stdout));
            let dc = last.contains("Current DC: ") && !last.contains("Current DC: NONE");
            if dc && last.contains(&online) {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(Failure::system(anyhow!(
        "the cluster did not form within {} s (node consoles in {}): {last}",
        FORM_TIMEOUT.as_secs(),
        dir.path.display()
    )))
}

/// Whitespace collapsed to single spaces (crm_mon aligns with tabs).
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the topology for Pacemaker with this vnet (`vnet render --dialect
/// pacemaker`, the sandbox's fence agent and agent parameters) and runs the script on
/// `node`.
fn load_render(setup: &Setup, dir: &Workdir, node: &Node) -> Result<(), Failure> {
    let exe = std::env::current_exe()
        .context("find the vnet executable")
        .map_err(Failure::system)?;
    let prefix = setup.target.prefix.as_deref().unwrap_or("vnet");
    let out = Command::new(&exe)
        .arg("render")
        .arg(setup.file)
        .args([
            "--dialect",
            "pacemaker",
            "--fence-agent",
            "fence_vnet_sandbox",
        ])
        .arg("--fence-param")
        .arg(format!("pdu={}", dir.join("pdu").display()))
        .args(["--agent-param", "sandbox=true", "--agent-param"])
        .arg(format!("prefix={prefix}"))
        .output()
        .context("run vnet render")
        .map_err(Failure::system)?;
    if !out.status.success() {
        return Err(Failure::system(anyhow!(
            "vnet render --dialect pacemaker: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    dir.write("cluster.sh", &String::from_utf8_lossy(&out.stdout), 0o644)?;
    let script = dir.join("cluster.sh");
    node.run(&["sh", &script.to_string_lossy()])?;
    Ok(())
}

/// Waits until every moving container runs on the home node (Pacemaker's probes found
/// them there, or it started them) and both fence devices are started.
fn wait_settled(setup: &Setup, node: &Node) -> Result<(), Failure> {
    let s = setup.s;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(out) = node.exec(&["crm_mon", "-1"]) {
            last = words(&String::from_utf8_lossy(&out.stdout));
            let cts = s
                .order
                .iter()
                .all(|c| last.contains(&format!("vnet-{c} (ocf:vnet:ct): Started {}", s.home)));
            let fences = last
                .matches("(stonith:fence_vnet_sandbox): Started")
                .count()
                == 2;
            if cts && fences {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Err(Failure::system(anyhow!(
        "Pacemaker did not run every container on {} within {} s: {last}; the agent said: {}",
        s.home,
        SETTLE_TIMEOUT.as_secs(),
        agent_messages(node)
    )))
}

/// The loaded configuration passes `crm_verify -L` (errors and warnings alike) and
/// holds what the render promises: fencing on, stickiness, absolute paths.
fn check_cib(node: &Node) -> Result<(), Failure> {
    let out = node.exec(&["crm_verify", "-L", "-V"])?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() || !said.trim().is_empty() {
        return Err(Failure::system(anyhow!(
            "crm_verify -L on the rendered configuration: {}: {said}",
            out.status
        )));
    }
    let cib = node.run(&["cibadmin", "-Q"])?;
    for promise in [
        "name=\"stonith-enabled\" value=\"true\"",
        "name=\"resource-stickiness\"",
        "name=\"topology\" value=\"/",
        "name=\"vnet\" value=\"/",
    ] {
        if !cib.contains(promise) {
            return Err(Failure::system(anyhow!(
                "the loaded configuration lacks {promise}"
            )));
        }
    }
    Ok(())
}

/// The last lines the OCF agent wrote to `node`'s Pacemaker log (why a start failed).
fn agent_messages(node: &Node) -> String {
    let log =
        std::fs::read_to_string(node.file("/var/log/pacemaker/pacemaker.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("vnet-ct[")).collect();
    lines[lines.len().saturating_sub(6)..].join("\n")
}

/// Waits for steady replies, fails the home node, waits for steady replies again (and,
/// for a frozen node, for the switch to have turned it off). Returns the failure's
/// instant and wall-clock time, and whether replies recovered within the cap.
fn fail_and_wait(
    outlet: &Outlet,
    fault: Fault,
    record: &Mutex<Record>,
) -> Result<(Instant, SystemTime, bool), Failure> {
    let begin = Instant::now();
    if !wait_steady(record, begin, STEADY, begin + CAP)? {
        return Err(Failure::system(anyhow!(
            "no steady replies before the failure within {} s",
            CAP.as_secs()
        )));
    }
    let (failed, wall) = (Instant::now(), SystemTime::now());
    match fault {
        Fault::Killed => outlet.off()?,
        Fault::Frozen => {
            let node = outlet.node.lock().unwrap_or_else(|e| e.into_inner());
            if node.signal_all(Signal::SIGSTOP) == 0 {
                return Err(Failure::system(anyhow!(
                    "{} has no process to freeze",
                    node.name
                )));
            }
        }
    }
    // A frozen node's containers answer until it is fenced: wait for that first.
    while outlet
        .off_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_none()
        && failed.elapsed() < CAP
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Count steady replies from the power-off: a frozen node's own replies before it
    // are not the recovery.
    let off = outlet
        .off_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or(failed);
    let recovered = wait_steady(record, off.max(failed), STEADY, failed + CAP)?;
    Ok((failed, wall, recovered))
}

/// The nodes running the gateway container at the end: the home node while it is not
/// switched off (its containers live), and wherever vnet finds the gateway cabled.
fn router_nodes(setup: &Setup, outlet: &Outlet) -> Result<Vec<String>, Failure> {
    let s = setup.s;
    let Some(gateway) = s.order.last() else {
        return Ok(Vec::new());
    };
    let mut nodes = Vec::new();
    if outlet
        .off_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_none()
    {
        nodes.push(s.home.clone());
    }
    let status = setup
        .target
        .backend()
        .status(setup.t, gateway)
        .map_err(backend_failure)?;
    if let Some(n) = status.node {
        if !nodes.contains(&n) {
            nodes.push(n);
        }
    }
    Ok(nodes)
}

/// The longest gap between consecutive replies that ends after `failed`, and the reply
/// that ends it.
fn longest_gap_after(r: &Record, failed: Instant) -> (Duration, Option<Instant>) {
    let mut replies: Vec<Instant> = r.replied.iter().flatten().copied().collect();
    replies.sort();
    replies
        .windows(2)
        .filter(|w| w[1] > failed)
        .map(|w| (w[1].duration_since(w[0]), Some(w[1])))
        .max_by_key(|(gap, _)| *gap)
        .unwrap_or((Duration::ZERO, None))
}
