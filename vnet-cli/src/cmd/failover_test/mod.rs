//! `vnet failover-test FILE`: the article's failover scenario end to end, in the sandbox,
//! in private namespaces of its own (issue 7, first version: m1 powered down).
//!
//! The command re-executes itself under `unshare --net --mount --propagation private`
//! with a tmpfs on `/run/netns`, so nothing it builds is visible to the machine. There,
//! per run: apply the topology (every container on its home node); an observer thread in
//! a LAN host's namespace sends an ICMP echo every 10 ms to a container and records send
//! and reply times; after ~300 ms of steady replies the home node "powers down" (every
//! container homed there is stopped: its namespace and ports vanish) and the containers
//! start at once on their first failover node, leaves first (or the gateway first); the
//! observer keeps going until replies have been steady for ~1 s; the outage is the
//! longest gap between consecutive replies. The sandbox is destroyed after each run.

use anyhow::{anyhow, Context};
use serde::Serialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;
use vnet_backend_netlink::probe;
use vnet_backend_netlink::ApplyOptions;
use vnet_core::model::Container;
use vnet_core::plan::{Action, NsRef, Plan, Scope, Step};
use vnet_core::ValidTopology;

use super::{apply, ct, destroy, start};
use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::{backend_failure, parse_prefix, Resolved, Target, DEFAULT_PREFIX};

/// Marks the re-executed child that runs inside the private namespaces.
const CHILD_ENV: &str = "VNET_FAILOVER_TEST_CHILD";
/// How often the observer sends an echo request.
const INTERVAL: Duration = Duration::from_millis(10);
/// A gap between replies longer than this breaks "steady".
const STEADY_GAP: Duration = Duration::from_millis(50);
/// Steady replies needed before the node fails.
const BEFORE: Duration = Duration::from_millis(300);
/// Steady replies needed after the move before the run ends.
const AFTER: Duration = Duration::from_secs(1);
/// The longest wait for steady replies (before or after the move).
const CAP: Duration = Duration::from_secs(10);
/// How long the observer still listens for replies after it stopped sending.
const DRAIN: Duration = Duration::from_millis(50);
/// How long a port may take to forward after a start.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Arguments of `vnet failover-test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`).
    pub file: PathBuf,
    /// The sandbox's namespace name prefix (inside the command's own namespaces).
    #[arg(long, default_value = DEFAULT_PREFIX, value_parser = parse_prefix)]
    pub prefix: String,
    /// The address to ping (default: the first address of the first non-gateway container).
    #[arg(long, value_name = "ADDR")]
    pub target: Option<IpAddr>,
    /// The LAN host that pings (default: the first LAN host).
    #[arg(long, value_name = "HOST")]
    pub from: Option<String>,
    /// How many times to run the scenario (each on a fresh sandbox).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Do not announce the moved containers' addresses (shows the stale-state outage).
    #[arg(long)]
    pub no_announce: bool,
    /// Start the gateway before its leaves (shows the ARP retry of issue 7).
    #[arg(long)]
    pub gateway_first: bool,
    /// When to announce each address, in milliseconds after its port forwards. Each
    /// start blocks until its last announcement, so later offsets delay the next
    /// container (the gateway is last): the default announces once, at once.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0",
        value_name = "MS,..."
    )]
    pub announce_schedule: Vec<u64>,
}

/// One run's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's number, from 1.
    pub run: u32,
    /// The longest gap between consecutive replies, in milliseconds.
    pub outage_ms: f64,
    /// Echo requests sent.
    pub sent: usize,
    /// Echo requests without a reply.
    pub lost: usize,
    /// Time from the node failing until every container was started elsewhere, in ms.
    pub move_ms: u128,
    /// The containers in the order they were started on the failover node.
    pub started: Vec<String>,
}

impl RunReport {
    /// The line people read.
    pub fn line(&self) -> String {
        format!(
            "run {}: outage {:.1} ms, lost {} of {} echoes; moved {} in {} ms",
            self.run,
            self.outage_ms,
            self.lost,
            self.sent,
            self.started.join(", "),
            self.move_ms
        )
    }
}

/// Runs the scenario in private namespaces (re-executing itself there first).
pub fn run(args: &Args, global: &Global) -> Outcome {
    if std::env::var_os(CHILD_ENV).is_none() {
        return reexec();
    }
    private_run_netns()?;
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = Target::sandbox(&args.prefix).resolve(t)?;
    let scenario = Scenario::new(t, args)?;
    let mut reports = Vec::new();
    for n in 1..=args.runs {
        let result = one_run(t, &target, &scenario, n);
        // The sandbox goes also when the run failed.
        let removed = destroy::destroy(t, &target, Output::Json);
        let report = result?;
        removed?;
        if global.output == Output::Human {
            println!("{}", report.line());
        }
        reports.push(report);
    }
    let worst = reports.iter().map(|r| r.outage_ms).fold(0.0, f64::max);
    match global.output {
        Output::Human => println!(
            "{} failed over to {} ({}, {}): worst outage {worst:.1} ms over {} runs",
            scenario.home,
            scenario.failover,
            if args.gateway_first {
                "gateway first"
            } else {
                "leaves first"
            },
            if args.no_announce {
                "no announcements"
            } else {
                "announced"
            },
            reports.len()
        ),
        Output::Json => {
            let doc = serde_json::json!({
                "topology": t.name(),
                "from": scenario.from,
                "target": scenario.to,
                "failed_node": scenario.home,
                "failover_node": scenario.failover,
                "gateway_first": args.gateway_first,
                "announce": !args.no_announce,
                "runs": reports,
                "worst_outage_ms": worst,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(Failure::system)?
            );
        }
    }
    Ok(Exit::Success)
}

/// Runs this same command line again under `unshare` in new network and mount
/// namespaces, and exits as it does.
fn reexec() -> Outcome {
    if !nix::unistd::geteuid().is_root() {
        return Err(Failure::system(anyhow!(
            "vnet failover-test needs root (it creates network namespaces)"
        )));
    }
    let exe = std::env::current_exe()
        .context("find the vnet executable")
        .map_err(Failure::system)?;
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, "1")
        .status()
        .context("run unshare (util-linux) to get private namespaces")
        .map_err(Failure::system)?;
    match status.code() {
        Some(0) => Ok(Exit::Success),
        // The child printed its own error; pass its exit code on.
        Some(1) => Err(silent(Exit::Invalid)),
        Some(2) => Err(silent(Exit::Usage)),
        Some(3) => Err(silent(Exit::Drift)),
        Some(4) => Err(silent(Exit::System)),
        _ => Err(Failure::system(anyhow!(
            "the failover test in its private namespaces ended with {status}"
        ))),
    }
}

/// A failure whose message was already printed (by the child).
fn silent(exit: Exit) -> Failure {
    Failure { exit, error: None }
}

/// Mounts a private tmpfs on `/run/netns` so the sandbox's namespace files live only in
/// this mount namespace.
fn private_run_netns() -> Result<(), Failure> {
    std::fs::create_dir_all("/run/netns")
        .context("create /run/netns")
        .map_err(Failure::system)?;
    nix::mount::mount(
        Some("tmpfs"),
        "/run/netns",
        Some("tmpfs"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .context("mount a private tmpfs on /run/netns")
    .map_err(Failure::system)
}

/// Who pings whom and which containers move where.
struct Scenario {
    from: String,
    to: IpAddr,
    home: String,
    failover: String,
    /// The containers homed on the failing node, in start order.
    order: Vec<String>,
    schedule: Vec<Duration>,
}

impl Scenario {
    fn new(t: &ValidTopology, args: &Args) -> Result<Scenario, Failure> {
        let topo = t.topology();
        let hosts: Vec<&str> = topo
            .lan
            .iter()
            .flat_map(|l| l.host.iter())
            .map(|h| h.name.as_str())
            .collect();
        let from = match &args.from {
            Some(h) if hosts.contains(&h.as_str()) => h.clone(),
            Some(h) => {
                return Err(Failure::usage(anyhow!(
                    "topology {} has no LAN host {h}",
                    t.name()
                )))
            }
            None => hosts.first().map(|h| h.to_string()).ok_or_else(|| {
                Failure::invalid(anyhow!(
                    "topology {} has no LAN host to ping from",
                    t.name()
                ))
            })?,
        };
        let leaf = topo.ct.iter().find(|c| !ct::is_gateway(t, c));
        let to = match args.target {
            Some(a) => a,
            None => leaf.and_then(first_address).ok_or_else(|| {
                Failure::invalid(anyhow!("no addressed non-gateway container to ping"))
            })?,
        };
        let mover = leaf
            .or(topo.ct.first())
            .ok_or_else(|| Failure::invalid(anyhow!("topology {} has no container", t.name())))?;
        let home = home_of(t, mover)
            .ok_or_else(|| Failure::invalid(anyhow!("container {} has no node", mover.name)))?;
        let homed: Vec<&Container> = topo
            .ct
            .iter()
            .filter(|c| home_of(t, c).as_deref() == Some(home.as_str()))
            .collect();
        let failover = mover.failover.first().cloned().ok_or_else(|| {
            Failure::invalid(anyhow!("container {} has no failover node", mover.name))
        })?;
        let names: Vec<String> = homed.iter().map(|c| c.name.clone()).collect();
        for n in &names {
            ct::placed(t, n, &failover)?;
        }
        let mut order: Vec<String> = ct::leaves_first(t, &names)?
            .into_iter()
            .map(str::to_string)
            .collect();
        if args.gateway_first {
            // Gateways first, then the leaves, each group in its leaves-first order.
            let (gw, leaves): (Vec<String>, Vec<String>) = order
                .into_iter()
                .partition(|n| ct::container(t, n).is_ok_and(|c| ct::is_gateway(t, c)));
            order = gw.into_iter().chain(leaves).collect();
        }
        let schedule = if args.no_announce {
            Vec::new()
        } else {
            let mut ms = args.announce_schedule.clone();
            ms.sort_unstable();
            ms.into_iter().map(Duration::from_millis).collect()
        };
        Ok(Scenario {
            from,
            to,
            home,
            failover,
            order,
            schedule,
        })
    }
}

/// A container's first address (veth, then NIC, then VLAN).
fn first_address(c: &Container) -> Option<IpAddr> {
    c.veth
        .iter()
        .flat_map(|v| v.addresses.iter())
        .chain(c.nic.iter().flat_map(|n| n.addresses.iter()))
        .chain(c.vlan.iter().flat_map(|v| v.addresses.iter()))
        .map(|a| a.ip())
        .next()
}

/// A container's home node: the declared one, else the first it may run on.
fn home_of(t: &ValidTopology, c: &Container) -> Option<String> {
    c.node
        .clone()
        .or_else(|| t.ct_nodes(c).first().map(|n| n.to_string()))
}

/// Send and reply times of the observer's echoes (index = sequence number).
#[derive(Debug, Default)]
struct Record {
    sent: Vec<Instant>,
    replied: Vec<Option<Instant>>,
}

impl Record {
    /// Reply times in order.
    fn replies(&self) -> Vec<Instant> {
        let mut r: Vec<Instant> = self.replied.iter().flatten().copied().collect();
        r.sort();
        r
    }

    /// How long replies have been steady (no gap over [`STEADY_GAP`], the last one
    /// recent), counted from `since` at the earliest.
    fn steady_for(&self, since: Instant, now: Instant) -> Duration {
        let replies: Vec<Instant> = self.replies().into_iter().filter(|r| *r >= since).collect();
        let Some(last) = replies.last() else {
            return Duration::ZERO;
        };
        if now.duration_since(*last) > STEADY_GAP {
            return Duration::ZERO;
        }
        let mut begin = replies[0];
        for w in replies.windows(2) {
            if w[1].duration_since(w[0]) > STEADY_GAP {
                begin = w[1];
            }
        }
        last.duration_since(begin)
    }

    /// The longest gap between consecutive replies.
    fn longest_gap(&self) -> Duration {
        self.replies()
            .windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .max()
            .unwrap_or_default()
    }
}

/// The observer: from inside the namespace at `ns`, an echo to `to` every
/// [`INTERVAL`] until `stop`, recording into `record`.
fn observe(ns: &Path, to: IpAddr, stop: &AtomicBool, record: &Mutex<Record>) -> Result<(), String> {
    let file =
        std::fs::File::open(ns).map_err(|e| format!("open namespace {}: {e}", ns.display()))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("enter namespace {}: {e}", ns.display()))?;
    let sock = probe::icmp_socket(to.is_ipv6()).map_err(|e| format!("raw ICMP socket: {e}"))?;
    // A 1 ms receive timeout keeps the 10 ms send pace.
    setsockopt(&sock, sockopt::ReceiveTimeout, &TimeVal::new(0, 1_000))
        .map_err(|e| format!("socket timeout: {e}"))?;
    let ident = (std::process::id() as u16) ^ 0x5a5a;
    let mut next = Instant::now();
    let mut drain_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if drain_until.is_none() && stop.load(Ordering::Relaxed) {
            // Stop sending, but give the echoes in flight time to come back so they
            // are not counted as lost.
            drain_until = Some(now + DRAIN);
        }
        if drain_until.is_some_and(|d| now >= d) {
            return Ok(());
        }
        if drain_until.is_none() && now >= next {
            let mut r = record.lock().map_err(|_| "record poisoned".to_string())?;
            let seq = r.sent.len() as u16;
            match probe::send_echo(&sock, to, ident, seq) {
                // No route or neighbour right now: a lost echo, like ping counts it.
                Ok(()) | Err(nix::errno::Errno::ENETUNREACH | nix::errno::Errno::EHOSTUNREACH) => {}
                Err(e) => return Err(format!("send to {to}: {e}")),
            }
            r.sent.push(Instant::now());
            r.replied.push(None);
            // Keep the pace; after a stall, do not burst to catch up.
            next = (next + INTERVAL).max(now);
        }
        if let Some((from, seq)) = probe::recv_reply(&sock, ident, to.is_ipv6()) {
            let at = Instant::now();
            let mut r = record.lock().map_err(|_| "record poisoned".to_string())?;
            let k = usize::from(seq);
            if from == to && k < r.replied.len() && r.replied[k].is_none() {
                r.replied[k] = Some(at);
            }
        }
    }
}

/// One run: apply, observe, fail the home node, move, observe, measure.
fn one_run(
    t: &ValidTopology,
    target: &Resolved,
    s: &Scenario,
    n: u32,
) -> Result<RunReport, Failure> {
    apply::apply_netlink(t, target, Output::Json)?;
    let host_ns = target
        .ns_path(&NsRef::Host(s.from.clone()))
        .ok_or_else(|| Failure::system(anyhow!("no namespace for LAN host {}", s.from)))?;
    let stop = AtomicBool::new(false);
    let record = Mutex::new(Record::default());
    std::thread::scope(|scope| {
        let observer = scope.spawn(|| observe(&host_ns, s.to, &stop, &record));
        let moved = fail_and_move(t, target, s, &record);
        stop.store(true, Ordering::Relaxed);
        let observed = observer
            .join()
            .unwrap_or_else(|_| Err("observer thread panicked".into()));
        let move_ms = moved?;
        observed.map_err(|e| Failure::system(anyhow!("observer: {e}")))?;
        let r = record
            .lock()
            .map_err(|_| Failure::system(anyhow!("record poisoned")))?;
        Ok(RunReport {
            run: n,
            outage_ms: r.longest_gap().as_secs_f64() * 1000.0,
            sent: r.sent.len(),
            lost: r.replied.iter().filter(|x| x.is_none()).count(),
            move_ms,
            started: s.order.clone(),
        })
    })
}

/// Waits until replies are steady for `need` (counted from `since`), at most [`CAP`].
fn wait_steady(
    record: &Mutex<Record>,
    since: Instant,
    need: Duration,
    what: &str,
) -> Result<(), Failure> {
    let deadline = Instant::now() + CAP;
    loop {
        let now = Instant::now();
        let steady = record
            .lock()
            .map_err(|_| Failure::system(anyhow!("record poisoned")))?
            .steady_for(since, now);
        if steady >= need {
            return Ok(());
        }
        if now >= deadline {
            return Err(Failure {
                exit: Exit::Drift,
                error: Some(anyhow!(
                    "no steady replies {what} within {} s",
                    CAP.as_secs()
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for steady replies, powers the home node down (stops its containers), starts
/// them on the failover node, then waits for steady replies again. Returns the move's
/// duration in milliseconds.
fn fail_and_move(
    t: &ValidTopology,
    target: &Resolved,
    s: &Scenario,
    record: &Mutex<Record>,
) -> Result<u128, Failure> {
    let begin = Instant::now();
    wait_steady(record, begin, BEFORE, "before the failure")?;
    let failed = Instant::now();
    power_down(t, target, &s.order)?;
    for name in &s.order {
        start::start_one(t, target, name, &s.failover, &s.schedule, FORWARD_TIMEOUT)?;
    }
    let move_ms = failed.elapsed().as_millis();
    wait_steady(record, failed, AFTER, "after the move")?;
    Ok(move_ms)
}

/// The node powers down: every one of `names`' namespaces is deleted in one plan (all
/// at once, as when the node dies, not one container after the other), then waits
/// until the kernel has removed their host ends. A namespace vnet did not make is
/// refused (exit 4), like `vnet stop` does.
fn power_down(t: &ValidTopology, target: &Resolved, names: &[String]) -> Result<(), Failure> {
    let backend = target.backend();
    let observed = backend
        .observe(t, &Scope::Sandbox)
        .map_err(backend_failure)?;
    let mut cts = Vec::new();
    for name in names {
        let c = ct::container(t, name)?;
        let now = ct::whereabouts(t, c, &observed);
        if now.ns_exists && !now.ours {
            return Err(Failure::system(anyhow!(
                "namespace of container {name} was not made by topology {}: left alone",
                t.name()
            )));
        }
        if now.ns_exists {
            cts.push(c);
        }
    }
    let steps = cts
        .iter()
        .enumerate()
        .map(|(id, c)| Step {
            id,
            action: Action::DeleteNamespace {
                ns: NsRef::Ct(c.name.clone()),
            },
            after: Vec::new(),
            stage: 0,
        })
        .collect();
    let plan = Plan {
        topology: t.name().to_string(),
        steps,
    };
    backend
        .execute(&plan, &ApplyOptions::default())
        .map_err(backend_failure)?;
    let deadline = Instant::now() + ct::GONE_WAIT;
    loop {
        let observed = backend
            .observe(t, &Scope::Sandbox)
            .map_err(backend_failure)?;
        let left: Vec<&str> = cts
            .iter()
            .filter(|c| {
                let w = ct::whereabouts(t, c, &observed);
                w.ns_exists || w.node.is_some()
            })
            .map(|c| c.name.as_str())
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Failure::system(anyhow!(
                "powered down, but {} still have host ends on their node",
                left.join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(replies: &[Option<u64>]) -> (Instant, Record) {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let r = Record {
            sent: (0..replies.len() as u64).map(|i| at(i * 10)).collect(),
            replied: replies.iter().map(|r| r.map(at)).collect(),
        };
        (t0, r)
    }

    #[test]
    fn the_outage_is_the_longest_gap_between_replies() {
        let (_, r) = record(&[Some(1), Some(11), None, None, Some(41), Some(51)]);
        assert_eq!(r.longest_gap(), Duration::from_millis(30));
        let (_, none) = record(&[None, None]);
        assert_eq!(none.longest_gap(), Duration::ZERO);
    }

    #[test]
    fn steady_counts_from_the_last_long_gap() {
        let mut replies: Vec<Option<u64>> = (0..5).map(|i| Some(i * 10)).collect();
        replies.extend((0..10).map(|_| None));
        replies.extend((15..20).map(|i| Some(i * 10)));
        let (t0, r) = record(&replies);
        let now = t0 + Duration::from_millis(195);
        assert_eq!(r.steady_for(t0, now), Duration::from_millis(40));
        // Long after the last reply nothing is steady.
        assert_eq!(
            r.steady_for(t0, t0 + Duration::from_millis(400)),
            Duration::ZERO
        );
    }

    #[test]
    fn the_seed_moves_all_of_m1_to_m2_leaves_first() {
        let text = include_str!("../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let args = |extra: &[&str]| {
            use clap::Parser;
            #[derive(clap::Parser)]
            struct Wrap {
                #[command(flatten)]
                a: Args,
            }
            let mut argv = vec!["vnet", "seed.toml"];
            argv.extend_from_slice(extra);
            Wrap::parse_from(argv).a
        };
        let s = Scenario::new(&t, &args(&[])).unwrap();
        assert_eq!(s.from, "gw46");
        assert_eq!(s.to, "192.168.199.2".parse::<IpAddr>().unwrap());
        assert_eq!((s.home.as_str(), s.failover.as_str()), ("m1", "m2"));
        assert_eq!(s.order, ["mail", "dbms", "router"]);
        assert_eq!(s.schedule, [Duration::ZERO]);
        let g = Scenario::new(&t, &args(&["--gateway-first", "--no-announce"])).unwrap();
        assert_eq!(g.order, ["router", "mail", "dbms"]);
        assert!(g.schedule.is_empty());
        assert!(Scenario::new(&t, &args(&["--from", "nosuch"])).is_err());
    }
}
