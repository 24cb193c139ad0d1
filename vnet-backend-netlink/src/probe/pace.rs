//! Pacing probes to the machine's neighbour table.
//!
//! The kernel's ARP and NDP tables are each one for the whole machine: every namespace's
//! entries count against `gc_thresh3` (1024 by default, settable only in the initial
//! namespace). Each first echo between two namespaces makes about two entries (the
//! sender's for its next hop, the target's for the sender), and entries are reclaimed
//! only once they are 5 s old. Past the limit, sends fail with ENOBUFS, ARP requests go
//! unanswered (a silent "no reply") and the machine's own neighbours stop resolving. So a
//! probe starts only while the table (its machine-wide count, read through rtnetlink in
//! whatever namespace vnet runs: [`super::neigh::table`]) plus what was just started
//! stays below [`limit`] (or, where it cannot be read, while fewer than [`BLIND_STARTS`]
//! probes started in the last 5 s), and at most [`IN_FLIGHT`] probes wait for replies at
//! once. Probing deletes each probe's entries once it is settled ([`super::tidy`]), so
//! the count the pacer reads stays near twice the probes in flight instead of growing
//! by two per probe until the kernel reclaims them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::neigh::{self, Table};
use crate::netlink::{RequestCounter, RtSocket};

/// Most neighbour entries of one family vnet lets the machine hold while probing at the
/// default `gc_thresh3` (1024): well below it, leaving room for the machine's own.
pub const LIMIT: usize = 640;

/// How long a reading of the table's count is used before it is read again.
const FRESH: Duration = Duration::from_millis(5);

/// Most probes waiting for a reply at once, over all namespaces.
pub const IN_FLIGHT: usize = 128;

/// Entries a probe's first echo may create (its sender's and its target's).
const PER_PROBE: usize = 2;

/// How long the kernel keeps an entry before it may reclaim it.
const RECLAIM: Duration = Duration::from_secs(5);

/// Most probes started per 5 s (the reclaim age) when the table cannot be read (no
/// rtnetlink socket could be opened): room for 2 entries each above the 512
/// (`gc_thresh2`) old entries the kernel may keep.
pub const BLIND_STARTS: usize = 192;

/// How long a start counts as "not yet in the table's count": the sender's entry is made
/// as the echo is sent, the target's when the ARP request arrives there (within a
/// millisecond on one machine); 20 ms also covers a reading's age ([`FRESH`]). At 200 ms
/// the full matrix of 200 containers took 33 s (throttled by starts it counted twice),
/// at 20 ms 15 s with the table at most 535 entries.
const SETTLE: Duration = Duration::from_millis(20);

/// The most entries of a family probing lets the table hold: five eighths of
/// `gc_thresh3` ([`LIMIT`] at the default 1024), so a machine whose administrator raised
/// the limit probes faster.
pub fn limit(table: &Table) -> usize {
    table.thresh3 * 5 / 8
}

/// The shared admission state of one `probe_all`.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
}

impl Default for Pacer {
    /// A pacer that reads the table through a socket in the calling thread's namespace
    /// (blind when it cannot open one).
    fn default() -> Self {
        Pacer {
            state: Mutex::new(State {
                in_flight: 0,
                last_admit: Instant::now(),
                recent: Default::default(),
                socket: RtSocket::open(RequestCounter::new()).ok(),
                readings: [None, None],
            }),
        }
    }
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    /// When a probe was last admitted (or the pacer made).
    last_admit: Instant,
    /// Starts of the last [`RECLAIM`] per family (IPv4, IPv6).
    recent: [VecDeque<Instant>; 2],
    /// Reads the table's count (`None`: blind).
    socket: Option<RtSocket>,
    /// The last reading per family, and when it was taken.
    readings: [Option<(Instant, Table)>; 2],
}

impl State {
    /// The table of the family, read at most [`FRESH`] ago; `None` when it cannot be read.
    fn table(&mut self, v6: bool, now: Instant) -> Option<Table> {
        let slot = usize::from(v6);
        if let Some((at, t)) = self.readings[slot] {
            if now.duration_since(at) < FRESH {
                return Some(t);
            }
        }
        let t = neigh::table(self.socket.as_mut()?, v6).ok().flatten();
        self.readings[slot] = t.map(|t| (now, t));
        t
    }
}

impl Pacer {
    /// Whether a probe of the family (`v6`) may start now; if so it counts as in flight
    /// until [`Pacer::release`].
    pub fn admit(&self, v6: bool) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.in_flight >= IN_FLIGHT {
            return false;
        }
        let now = Instant::now();
        let table = s.table(v6, now);
        let recent = &mut s.recent[usize::from(v6)];
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > RECLAIM)
        {
            recent.pop_front();
        }
        let allowed = match table {
            Some(table) => {
                // Starts not yet in the count: their entries appear as the ARP goes out.
                let settling = recent
                    .iter()
                    .filter(|t| now.duration_since(**t) <= SETTLE)
                    .count();
                table.entries + PER_PROBE * (settling + 1) <= limit(&table)
            }
            None => recent.len() < BLIND_STARTS,
        };
        if !allowed {
            return false;
        }
        recent.push_back(now);
        s.in_flight += 1;
        s.last_admit = now;
        true
    }

    /// Whether nothing is in flight and nothing was admitted for `stall`: the table
    /// stays full by someone else's doing, and waiting longer will not help.
    pub fn stalled(&self, stall: Duration) -> bool {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight == 0 && s.last_admit.elapsed() > stall
    }

    /// How often the ARP and NDP tables together refused an entry because they were
    /// full, read now (`None`: blind). Silence while this grew proves nothing.
    pub fn overflows(&self) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let sock = s.socket.as_mut()?;
        let v4 = neigh::table(sock, false).ok().flatten()?.overflows;
        let v6 = neigh::table(sock, true)
            .ok()
            .flatten()
            .map_or(0, |t| t.overflows);
        Some(v4 + v6)
    }

    /// A probe admitted earlier is answered or timed out.
    pub fn release(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_follows_gc_thresh3() {
        let at = |thresh3| {
            limit(&Table {
                entries: 0,
                thresh3,
                overflows: 0,
            })
        };
        assert_eq!(at(1024), LIMIT);
        assert_eq!(at(8192), 5120);
    }

    #[test]
    fn admission_stops_at_the_in_flight_bound_and_resumes_on_release() {
        let p = Pacer::default();
        // IPv6 on a machine with few NDP entries (or blind): the in-flight bound applies
        // first, as BLIND_STARTS and LIMIT / PER_PROBE are above it.
        let mut admitted = 0;
        while p.admit(true) {
            admitted += 1;
            assert!(admitted <= IN_FLIGHT);
        }
        assert!(admitted > 0);
        p.release();
        assert!(p.admit(true));
    }
}
