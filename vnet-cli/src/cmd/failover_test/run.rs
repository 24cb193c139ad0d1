//! One run of one case: build the sandbox with every container on its home node (the
//! home node's copy of the topology), make the observer sticky if the case asks, rename
//! the home node's uplink switch ports out of the way, start the observer, wait for
//! steady replies, fail the home node, start its containers on the failover node in
//! waves (every leaf at once, then the gateways; or the gateways first), announce every
//! moved interface in the background once all their ports forward, and wait until replies are steady again or the cap
//! has passed since the failure. The outage is the longest gap between consecutive
//! replies; without recovery within the cap it is the cap, flagged. The caller destroys
//! the sandbox; the hung node's ghosts go here.

use anyhow::anyhow;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::{Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};
use vnet_core::plan::Name;

use vnet_core::plan::NsRef;

use super::announcer;
use super::case::{Case, FailMode, Observer};
use super::external::Installed;
use super::failure::{self, Ghosts};
use super::mover;
use super::observer::{self, Neighbour};
use super::record::Record;
use super::scenario::Scenario;
use super::uplink::NodeCopies;
use crate::cli::Output;
use crate::exit::{Exit, Failure};
use crate::sandbox::container;
use crate::sandbox::Resolved;
use crate::verbs::apply;
use vnet_core::lifecycle::is_gateway;

/// How long replies must be steady before the failure and after the move, and how
/// long after the failure the run gives up waiting for them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// Steady replies needed before the node fails.
    #[serde(serialize_with = "as_ms")]
    pub before: Duration,
    /// Steady replies needed after the move before the run ends.
    #[serde(serialize_with = "as_ms")]
    pub after: Duration,
    /// The longest wait for recovery, from the failure (and for steady replies before).
    #[serde(serialize_with = "as_ms")]
    pub cap: Duration,
}

fn as_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// One run's measurement.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's number within its case, from 1.
    pub run: u32,
    /// The longest gap between consecutive replies, in milliseconds; the cap when
    /// replies did not come back steadily within it.
    pub outage_ms: f64,
    /// Whether replies were steady again within the cap.
    pub recovered: bool,
    /// The longest pause between two of the observer's own sends, in ms (10 when it
    /// kept its pace; longer when the machine held it up).
    pub send_gap_ms: f64,
    /// Echo requests sent.
    pub sent: usize,
    /// Echo requests without a reply.
    pub lost: usize,
    /// Planning the failover node's steps, before the failure, in ms (`vnet start`
    /// plans at start time: this is what it would add to the move).
    pub prepare_ms: u128,
    /// Time from the node failing until every container was started elsewhere, in ms.
    pub move_ms: u128,
    /// Of that, the failure itself (deleting the namespaces and waiting until the kernel
    /// removed their ports; or removing addresses and forwarding), in ms.
    pub fail_ms: u128,
    /// Each container's steps executed on the failover node, in start order, in ms
    /// (the containers of a wave, all leaves or all gateways, start at once).
    pub start_ms: Vec<u128>,
    /// The containers in the order they were started on the failover node.
    pub started: Vec<String>,
    /// Gratuitous ARPs and unsolicited NAs sent until the run ended (in-process), or
    /// those `vnet start` reports sending before it returned (`cli`: its detached
    /// announcers' later ones are not counted); `None`: not known (`ocf`: the agent
    /// keeps vnet's report to itself).
    pub announcements: Option<usize>,
    /// The mover's stop of the moved containers after the measurement, in ms (`cli`,
    /// `ocf`: it ends the announcers their starts left).
    pub stop_ms: Option<u128>,
    /// The observer's neighbour table when the run ended.
    pub observer_neighbours: Vec<Neighbour>,
}

impl RunReport {
    /// The line people read.
    pub fn line(&self) -> String {
        let outage = if self.recovered {
            format!("outage {:.1} ms", self.outage_ms)
        } else {
            format!("no recovery within {:.0} ms", self.outage_ms)
        };
        let neighbours: Vec<String> = self.observer_neighbours.iter().map(|n| n.line()).collect();
        let starts: Vec<String> = self.start_ms.iter().map(ToString::to_string).collect();
        format!(
            "run {}: {outage}, lost {} of {} echoes; moved {} in {} ms (failure {} ms, \
             starts {} ms, planned before in {} ms); {} announcements; observer's neighbours: {}",
            self.run,
            self.lost,
            self.sent,
            self.started.join(", "),
            self.move_ms,
            self.fail_ms,
            starts.join(", "),
            self.prepare_ms,
            self.announcements
                .map_or_else(|| "unknown".to_string(), |n| n.to_string()),
            if neighbours.is_empty() {
                "none".to_string()
            } else {
                neighbours.join(", ")
            }
        )
    }
}

/// What the failure and the move left to finish: the announcers to stop and join, and
/// the hung node's ghosts to remove.
type Announcers<'scope> = Vec<ScopedJoinHandle<'scope, Result<usize, Failure>>>;

/// One run of `case` (number `n`).
pub fn one_run(
    copies: &NodeCopies,
    target: &Resolved,
    s: &Scenario,
    case: Case,
    timing: Timing,
    n: u32,
    external: Option<&Installed>,
) -> Result<RunReport, Failure> {
    apply::apply_netlink(&copies.home, target, Output::Json)?;
    let host = NsRef::Host(Name::from(&s.from));
    let host_ns = target
        .ns_path(&host)
        .ok_or_else(|| Failure::system(anyhow!("no namespace for LAN host {}", s.from)))?;
    if case.observer == Observer::Sticky {
        observer::make_sticky(&host_ns)?;
    }
    failure::rename_uplink_ports(&copies.home, target, &s.order)?;
    let stop_observer = AtomicBool::new(false);
    let stop_announcing = AtomicBool::new(false);
    let record = Mutex::new(Record::default());
    let mut ghosts = Ghosts::default();
    let measured = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| observer::observe(&host_ns, s.to, &stop_observer, &record));
        let mut announcers = Vec::new();
        let moved = fail_and_move(
            copies,
            target,
            s,
            case.fail,
            timing,
            &record,
            (scope, &stop_announcing, &mut announcers),
            &mut ghosts,
            external,
        );
        stop_observer.store(true, Ordering::Relaxed);
        stop_announcing.store(true, Ordering::Relaxed);
        let observed = watcher
            .join()
            .unwrap_or_else(|_| Err("observer thread panicked".into()));
        let mut announcements = 0;
        let mut announce_error = None;
        for a in announcers {
            match a.join() {
                Ok(Ok(sent)) => announcements += sent,
                Ok(Err(e)) => announce_error = announce_error.or(Some(e)),
                Err(_) => {
                    announce_error = announce_error
                        .or_else(|| Some(Failure::system(anyhow!("announcer thread panicked"))))
                }
            }
        }
        let moved = moved?;
        observed.map_err(|e| Failure::system(anyhow!("observer: {e}")))?;
        if let Some(e) = announce_error {
            return Err(e);
        }
        // The processes announced themselves; this process announced only for the
        // in-process move.
        let announcements = match external {
            Some(_) => moved.announced,
            None => Some(announcements),
        };
        Ok((moved, announcements))
    });
    let neighbours = target
        .prefix
        .as_deref()
        .map(|p| observer::neighbours(&host.sandbox_name(p)))
        .transpose()?
        .unwrap_or_default();
    ghosts.remove()?;
    // After the measurement, and after the ghosts (a stop in the sandbox waits until no
    // node has the container's host ends, and the ghosts' are on the failed node): the
    // process movers' stop ends the announcers their starts left.
    let stop_ms = match (&measured, external) {
        (Ok(_), Some(x)) => Some(x.stop(&s.order, &s.failover)?),
        _ => None,
    };
    let (moved, announcements) = measured?;
    let recovered = moved.recovered;
    let r = record
        .lock()
        .map_err(|_| Failure::system(anyhow!("record poisoned")))?;
    let outage = if recovered {
        r.longest_gap()
    } else {
        timing.cap
    };
    Ok(RunReport {
        run: n,
        outage_ms: outage.as_secs_f64() * 1000.0,
        recovered,
        send_gap_ms: r.longest_send_gap().as_secs_f64() * 1000.0,
        sent: r.sent.len(),
        lost: r.lost(),
        prepare_ms: moved.prepare_ms,
        move_ms: moved.move_ms,
        fail_ms: moved.fail_ms,
        start_ms: moved.start_ms,
        started: s.order.clone(),
        announcements,
        stop_ms,
        observer_neighbours: neighbours,
    })
}

/// Waits until the observer has sent `n` more echoes (or `deadline` has passed).
fn wait_echoes(record: &Mutex<Record>, n: usize, deadline: Instant) -> Result<(), Failure> {
    let count = || -> Result<usize, Failure> {
        Ok(record
            .lock()
            .map_err(|_| Failure::system(anyhow!("record poisoned")))?
            .sent
            .len())
    };
    let target = count()? + n;
    while count()? < target && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Waits until replies are steady for `need` (counted from `since`) or `deadline`
/// has passed; returns whether they were.
pub(super) fn wait_steady(
    record: &Mutex<Record>,
    since: Instant,
    need: Duration,
    deadline: Instant,
) -> Result<bool, Failure> {
    loop {
        let now = Instant::now();
        let steady = record
            .lock()
            .map_err(|_| Failure::system(anyhow!("record poisoned")))?
            .steady_for(since, now);
        if steady >= need {
            return Ok(true);
        }
        if now >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The failure and the move as they went.
struct Moved {
    prepare_ms: u128,
    move_ms: u128,
    fail_ms: u128,
    start_ms: Vec<u128>,
    /// What the process mover reports it announced (see [`RunReport::announcements`]).
    announced: Option<usize>,
    recovered: bool,
}

/// Plans the move, waits for steady replies, fails the home node, executes the move
/// wave by wave, spawns the announcers on `scope` (they wait until every moved port
/// forwards), waits for steady replies again, and verifies the moved containers.
#[allow(clippy::too_many_arguments)]
fn fail_and_move<'scope, 'env>(
    copies: &NodeCopies,
    target: &Resolved,
    s: &'env Scenario,
    fail: FailMode,
    timing: Timing,
    record: &Mutex<Record>,
    (scope, stop, announcers): (
        &'scope Scope<'scope, 'env>,
        &'env AtomicBool,
        &mut Announcers<'scope>,
    ),
    ghosts: &mut Ghosts,
    external: Option<&Installed>,
) -> Result<Moved, Failure> {
    let prepare_begin = Instant::now();
    let waves = &mover::prepare(&copies.failover, &s.order, &s.failover)?;
    let prepare_ms = prepare_begin.elapsed().as_millis();
    let begin = Instant::now();
    if !wait_steady(record, begin, timing.before, begin + timing.cap)? {
        return Err(Failure {
            exit: Exit::Drift,
            error: Some(anyhow!(
                "no steady replies from {} to {} before the failure within {} ms",
                s.to,
                s.from,
                timing.cap.as_millis()
            )),
        });
    }
    let failed = Instant::now();
    match fail {
        FailMode::Down => *ghosts = failure::power_down(&copies.home, target, &s.order)?,
        FailMode::Hung => *ghosts = failure::hang(&copies.home, target, &s.order)?,
    }
    let fail_ms = failed.elapsed().as_millis();
    if let Some(x) = external {
        let schedule: Vec<u128> = s.schedule.iter().map(Duration::as_millis).collect();
        let (start_ms, announced) = x.start(waves, &s.failover, &schedule)?;
        let move_ms = failed.elapsed().as_millis();
        let recovered = wait_steady(record, failed, timing.after, failed + timing.cap)?;
        mover::verify(&copies.failover, target, &s.order, &s.failover)?;
        return Ok(Moved {
            prepare_ms,
            move_ms,
            fail_ms,
            start_ms,
            announced,
            recovered,
        });
    }
    let mut start_ms = Vec::new();
    for (k, wave) in waves.iter().enumerate() {
        start_ms.extend(mover::execute(target, wave)?);
        let gateways = wave.first().is_some_and(|p| {
            container(&copies.failover, &p.name).is_ok_and(|c| is_gateway(&copies.failover, c))
        });
        if gateways && k + 1 < waves.len() {
            // Gateway first: the gateway is up before its leaves long enough for the
            // observer's echoes to reach it while they are missing (as with one `vnet
            // start` per container, each tens of milliseconds), not by chance.
            wait_echoes(record, 2, failed + timing.cap)?;
        }
    }
    let move_ms = failed.elapsed().as_millis();
    if !s.schedule.is_empty() {
        let mut moved = Vec::new();
        for name in &s.order {
            let c = container(&copies.failover, name)?;
            moved.extend(announcer::interfaces(
                &copies.failover,
                target,
                c,
                &s.failover,
            )?);
        }
        let ports = std::sync::Arc::new(
            moved
                .iter()
                .filter_map(|i| i.port.clone())
                .collect::<Vec<_>>(),
        );
        for i in moved {
            announcers.push(announcer::spawn(scope, i, ports.clone(), &s.schedule, stop));
        }
    }
    let recovered = wait_steady(record, failed, timing.after, failed + timing.cap)?;
    mover::verify(&copies.failover, target, &s.order, &s.failover)?;
    Ok(Moved {
        prepare_ms,
        move_ms,
        fail_ms,
        start_ms,
        announced: None,
        recovered,
    })
}
