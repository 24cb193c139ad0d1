//! Pacing probes to the machine's neighbour table.
//!
//! The kernel's ARP and NDP tables are each one for the whole machine: every namespace's
//! entries count against `gc_thresh3` (1024 by default, settable only in the initial
//! namespace). Each first echo between two namespaces makes about two entries (the
//! sender's for its next hop, the target's for the sender), and entries are reclaimed
//! only once they are 5 s old. Past the limit, sends fail with ENOBUFS, ARP requests go
//! unanswered (a silent "no reply") and the machine's own neighbours stop resolving. So a
//! probe starts only while the table (read from `/proc/net/stat/{arp,ndisc}_cache`) plus
//! what was just started stays below [`LIMIT`] (or, where that file cannot be read, while
//! fewer than [`BLIND_STARTS`] probes started in the last 5 s), and at most [`IN_FLIGHT`]
//! probes wait for replies at once.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most neighbour entries of one family vnet lets the machine hold while probing: well
/// below the default `gc_thresh3` (1024), leaving room for the machine's own.
pub const LIMIT: usize = 640;

/// Most probes waiting for a reply at once, over all namespaces.
pub const IN_FLIGHT: usize = 128;

/// Entries a probe's first echo may create (its sender's and its target's).
const PER_PROBE: usize = 2;

/// How long the kernel keeps an entry before it may reclaim it.
const RECLAIM: Duration = Duration::from_secs(5);

/// Most probes started per 5 s (the reclaim age) when the table cannot be read (the statistics
/// file exists only in the initial namespace; a vnet run inside another one is blind):
/// room for 2 entries each above the 512 (`gc_thresh2`) old entries the kernel may keep.
pub const BLIND_STARTS: usize = 192;

/// How long a start counts as "not yet in the table's count" (the target's entry appears
/// only when the ARP request arrives there).
const SETTLE: Duration = Duration::from_millis(200);

/// The shared admission state of one `probe_all`.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            state: Mutex::new(State {
                in_flight: 0,
                last_admit: Instant::now(),
                recent: Default::default(),
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
        let recent = &mut s.recent[usize::from(v6)];
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > RECLAIM)
        {
            recent.pop_front();
        }
        let allowed = match table_entries(v6) {
            Some(entries) => {
                let settling = recent
                    .iter()
                    .filter(|t| now.duration_since(**t) <= SETTLE)
                    .count();
                entries + PER_PROBE * (settling + 1) <= LIMIT
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

    /// A probe admitted earlier is answered or timed out.
    pub fn release(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

/// The machine-wide number of entries in the ARP (or NDP) table: the first column of
/// `/proc/net/stat/arp_cache`, in hex, the same on every CPU's line.
pub fn table_entries(v6: bool) -> Option<usize> {
    let file = if v6 { "ndisc_cache" } else { "arp_cache" };
    let text = std::fs::read_to_string(format!("/proc/net/stat/{file}")).ok()?;
    parse_entries(&text)
}

fn parse_entries(text: &str) -> Option<usize> {
    let line = text.lines().nth(1)?;
    usize::from_str_radix(line.split_whitespace().next()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_entries_column_in_hex() {
        let text = "entries  allocs   destroys\n000001a0 00002fd3 00002f03\n000001a0 0 0\n";
        assert_eq!(parse_entries(text), Some(0x1a0));
        assert_eq!(parse_entries("entries\n"), None);
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
