//! `vnet failover-test FILE`: the article's failover scenario end to end, in the
//! sandbox, in private namespaces of its own (issue 7).
//!
//! The command re-executes itself under `unshare --net --mount` with a tmpfs on
//! `/run/netns` ([`private`]), so nothing it builds is visible to the machine. There,
//! per run ([`mod@run`]): apply the topology (every container on its home node); an
//! observer thread in a LAN host's namespace sends an ICMP echo every 10 ms to a
//! container ([`observer`]); after steady replies the home node fails, powered down or
//! hung ([`failure`]), and its containers start at once on their first failover node
//! from steps planned before the failure ([`mover`]), leaves first (or the gateway
//! first), every moved interface announcing its addresses in the background once all
//! the moved ports forward ([`announcer`]); the run ends when replies are steady again
//! or the cap has passed. The outage is the longest gap between consecutive replies
//! ([`record`]). A case ([`case`]) also says whether the router's uplink MAC changes on
//! the failover node ([`uplink`]) and whether the observer keeps its ARP entries for
//! 4 hours. `--matrix` runs every case ([`summary`] prints the table). `--mover cli`
//! or `ocf` has the move done at the failure by a `vnet start` process or by the OCF
//! agent in Pacemaker's order instead of this process ([`external`]): they plan at
//! start time and announce themselves. The sandbox is
//! destroyed after each run, and the next waits until the kernel has torn it down
//! ([`settle`]). Exit 0 when every run recovered within the outage goal,
//! 3 when one did not (the measurement is printed either way).

mod announcer;
mod case;
mod cluster;
mod external;
mod failure;
mod mover;
mod observer;
mod private;
mod record;
mod run;
mod scenario;
mod settle;
mod summary;
mod uplink;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use vnet_core::plan::Name;

use vnet_core::plan::NsRef;
use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::{parse_prefix, Resolved, Target, DEFAULT_PREFIX};
use crate::verbs::destroy;
use case::{Case, FailMode, Observer, UplinkMac};
use mover::Mover;
use run::{RunReport, Timing};
use scenario::Scenario;
use summary::CaseReport;

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
    /// How many times to run each case (each on a fresh sandbox).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// How the home node fails: powered down (its containers' switch ports lose
    /// carrier) or hung (links stay up, addresses and forwarding gone).
    #[arg(long, value_enum, default_value_t = FailMode::Down, conflicts_with = "matrix")]
    pub fail: FailMode,
    /// The router's uplink MAC on the failover node: the same (pinned) or the node's own.
    #[arg(long, value_enum, default_value_t = UplinkMac::Pinned, conflicts_with = "matrix")]
    pub uplink_mac: UplinkMac,
    /// The observer: kernel-default neighbour timers, or a router-like 4-hour ARP cache.
    #[arg(long, value_enum, default_value_t = Observer::Normal, conflicts_with = "matrix")]
    pub observer: Observer,
    /// Run every case: node down/hung x uplink MAC pinned/changed x normal/sticky
    /// observer, --runs times each, and print min/median/max outage per case.
    #[arg(long)]
    pub matrix: bool,
    /// Do not announce the moved containers' addresses (shows the stale-state outage).
    #[arg(long)]
    pub no_announce: bool,
    /// Start the gateway before its leaves (shows the ARP retry of issue 7).
    #[arg(long)]
    pub gateway_first: bool,
    /// When to announce each address, in milliseconds after its port forwards. The
    /// announcements run in the background (they delay no start) until the run ends.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,20,200,1000,5000",
        value_name = "MS,..."
    )]
    pub announce_schedule: Vec<u64>,
    /// What moves the containers at the failure: this process executing steps planned
    /// before it (in-process), a `vnet start` process as an admin runs it (cli), or the
    /// OCF agent's start and monitor in Pacemaker's order (ocf; its starts announce on
    /// vnet start's default schedule). cli and ocf take neither --no-announce nor
    /// --gateway-first: vnet and the render choose the order.
    #[arg(long, value_enum, default_value_t = Mover::InProcess,
          conflicts_with_all = ["no_announce", "gateway_first"])]
    pub mover: Mover,
    /// The outage goal: exit 3 when a run's outage is longer, or it did not recover.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub max_outage_ms: u64,
    /// How long after the failure to wait for steady replies before reporting "no
    /// recovery within the cap" (the outage is then the cap).
    #[arg(long, default_value_t = 3000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(100..))]
    pub cap_ms: u64,
    /// Steady replies needed before the node fails.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub steady_before_ms: u64,
    /// Steady replies needed after the move before the run ends.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub steady_after_ms: u64,
    /// Fail over under a real cluster on this machine instead (two nodes as private
    /// namespaces, configured by `vnet render --dialect pacemaker`): m1 killed, then m1
    /// frozen and fenced.
    #[arg(long, value_enum, conflicts_with_all = ["matrix", "fail"])]
    pub cluster: Option<cluster::Cluster>,
}

impl Args {
    /// The cases to run.
    fn cases(&self) -> Vec<Case> {
        if self.matrix {
            Case::all()
        } else {
            vec![Case {
                fail: self.fail,
                uplink_mac: self.uplink_mac,
                observer: self.observer,
            }]
        }
    }

    fn timing(&self) -> Timing {
        Timing {
            before: Duration::from_millis(self.steady_before_ms),
            after: Duration::from_millis(self.steady_after_ms),
            cap: Duration::from_millis(self.cap_ms),
        }
    }
}

/// Runs the scenario in private namespaces (re-executing itself there first).
pub fn run(args: &Args, global: &Global) -> Outcome {
    if args.cluster.is_some() {
        return cluster::run(args, global);
    }
    if !private::inside() {
        return private::reexec();
    }
    private::private_run_netns()?;
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = Target::sandbox(&args.prefix).resolve(t)?;
    let scenario = Scenario::new(t, args)?;
    let goal = args.max_outage_ms as f64;
    let mut cases = Vec::new();
    for case in args.cases() {
        let runs = run_case(t, &target, &scenario, case, args, global)?;
        cases.push(CaseReport::new(case, runs, goal));
    }
    let met = cases.iter().all(|c| c.met);
    let worst = cases.iter().map(|c| c.max_ms).fold(0.0, f64::max);
    match global.output {
        Output::Human => {
            let how = format!(
                "{}, {}",
                if args.gateway_first {
                    "gateway first"
                } else {
                    "leaves first"
                },
                if scenario.schedule.is_empty() {
                    "no announcements"
                } else {
                    "announced"
                }
            );
            if args.matrix {
                crate::out!("{}", summary::table(&cases));
            }
            crate::outln!(
                "{} failed over to {} ({how}): worst outage {worst:.1} ms over {} runs; goal {} ms {}",
                scenario.home,
                scenario.failover,
                cases.iter().map(|c| c.runs.len()).sum::<usize>(),
                args.max_outage_ms,
                if met { "met" } else { "MISSED" }
            );
        }
        Output::Json => {
            let doc = serde_json::json!({
                "topology": t.name(),
                "from": scenario.from,
                "target": scenario.to,
                "failed_node": scenario.home,
                "failover_node": scenario.failover,
                "mover": args.mover,
                "gateway_first": args.gateway_first,
                "announce": !scenario.schedule.is_empty(),
                "announce_schedule_ms": scenario.schedule.iter().map(Duration::as_millis).collect::<Vec<_>>(),
                "timing_ms": args.timing(),
                "scheduling": private::scheduling(),
                "max_outage_ms": args.max_outage_ms,
                "runs_per_case": args.runs,
                "cases": cases,
                "worst_outage_ms": worst,
                "met": met,
            });
            crate::output::json(&doc);
        }
    }
    Ok(if met { Exit::Success } else { Exit::Drift })
}

/// The runs of one case, each on a fresh sandbox that is destroyed afterwards (also
/// when the run failed), the next one starting once the kernel has torn it down.
fn run_case(
    t: &ValidTopology,
    target: &Resolved,
    s: &Scenario,
    case: Case,
    args: &Args,
    global: &Global,
) -> Result<Vec<RunReport>, Failure> {
    let copies = uplink::copies(t, case.uplink_mac, &s.home, &s.failover)?;
    let external = match args.mover {
        Mover::InProcess => None,
        m => Some(external::Installed::new(m, &copies.failover, &args.prefix)?),
    };
    let mut runs = Vec::new();
    for n in 1..=args.runs {
        let result = run::one_run(
            &copies,
            target,
            s,
            case,
            args.timing(),
            n,
            external.as_ref(),
        );
        // The canary goes in the observer's namespace, there in every run that got as
        // far as measuring.
        let canary = match (&result, &target.prefix) {
            (Ok(_), Some(p)) => Some(settle::Canary::plant(
                &NsRef::Host(Name::from(&s.from)).sandbox_name(p),
            )),
            _ => None,
        };
        let removed = destroy::destroy(&copies.home, target, Output::Json);
        let report = result?;
        removed?;
        if let Some(c) = canary {
            c?.wait_gone()?;
        }
        if global.output == Output::Human {
            crate::outln!("{case}: {}", report.line());
        }
        runs.push(report);
    }
    Ok(runs)
}
