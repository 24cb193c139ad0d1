//! The cluster's own phases of a failover, read from the surviving node's daemon logs
//! (corosync's and Pacemaker's, hires timestamps, UTC), as milliseconds after the
//! failure: when the token was declared lost, when the new membership formed, when
//! fencing was asked for and done, when Pacemaker computed the recovery transition and
//! started the first resource.

use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds in a day (log timestamps carry the time of day only).
const DAY_MS: i64 = 86_400_000;

/// One phase: its name, the log it is read from, and the words of its first line after
/// the failure.
struct Pattern {
    name: &'static str,
    log: Log,
    words: &'static str,
}

/// Which daemon's log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Log {
    /// corosync's.
    Corosync,
    /// Pacemaker's (every daemon).
    Pacemaker,
}

const PATTERNS: &[Pattern] = &[
    Pattern {
        name: "token",
        log: Log::Corosync,
        words: "A processor failed, forming new configuration",
    },
    Pattern {
        name: "membership",
        log: Log::Corosync,
        words: "A new membership",
    },
    Pattern {
        name: "fencing_asked",
        log: Log::Pacemaker,
        words: "Requesting fencing",
    },
    Pattern {
        name: "fenced",
        log: Log::Pacemaker,
        words: "Peer m1 was terminated",
    },
    Pattern {
        name: "transition",
        log: Log::Pacemaker,
        words: "Calculated transition",
    },
    Pattern {
        name: "first_start",
        log: Log::Pacemaker,
        words: "Initiating start operation",
    },
];

/// The phases of one failover, ms after the failure (`None`: not in the logs).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Phases {
    /// The token was declared lost (corosync).
    pub token: Option<i64>,
    /// The new membership formed (corosync).
    pub membership: Option<i64>,
    /// The controller asked the fencer to fence the lost node.
    pub fencing_asked: Option<i64>,
    /// The fencer reported the node fenced.
    pub fenced: Option<i64>,
    /// The scheduler computed a transition (the first after the failure).
    pub transition: Option<i64>,
    /// The first start operation of the recovery was initiated.
    pub first_start: Option<i64>,
}

/// Milliseconds since midnight UTC of `t`.
pub fn time_of_day_ms(t: SystemTime) -> i64 {
    let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64;
    ms.rem_euclid(DAY_MS)
}

/// The time of day in ms of a log line (`Mon DD HH:MM:SS.mmm ...`, as both daemons
/// write it with hires timestamps).
fn line_time(line: &str) -> Option<i64> {
    let clock = line.split_whitespace().nth(2)?;
    let (hms, frac) = clock.split_once('.')?;
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let frac = frac.get(..3)?.parse::<i64>().ok()?;
    Some(((h * 60 + m) * 60 + s) * 1000 + frac)
}

/// `at - since` within half a day either way (the logs carry no date).
fn since(at: i64, since: i64) -> i64 {
    let d = (at - since).rem_euclid(DAY_MS);
    if d > DAY_MS / 2 {
        d - DAY_MS
    } else {
        d
    }
}

/// The phases after `failed` (ms since midnight UTC) in the two logs; `lost` is the
/// lost node's name.
pub fn read(corosync: &str, pacemaker: &str, failed: i64, lost: &str) -> Phases {
    let mut found = Phases::default();
    for p in PATTERNS {
        let text = match p.log {
            Log::Corosync => corosync,
            Log::Pacemaker => pacemaker,
        };
        let words = p.words.replace("m1", lost);
        let at = text
            .lines()
            .filter(|l| l.contains(&words))
            .filter_map(line_time)
            .map(|t| since(t, failed))
            .find(|d| *d >= 0);
        let slot = match p.name {
            "token" => &mut found.token,
            "membership" => &mut found.membership,
            "fencing_asked" => &mut found.fencing_asked,
            "fenced" => &mut found.fenced,
            "transition" => &mut found.transition,
            _ => &mut found.first_start,
        };
        *slot = at;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_the_first_lines_after_the_failure() {
        let corosync = "Dec 08 02:28:30.100 [1] notice  [TOTEM ] A new membership (1.5) was formed. Members joined: 2\n\
                        Dec 08 02:28:40.650 [1] notice  [TOTEM ] A processor failed, forming new configuration: token timed out (600ms)\n\
                        Dec 08 02:28:41.400 [1] notice  [TOTEM ] A new membership (2.9) was formed. Members left: 1\n";
        let pacemaker = "Dec 08 02:28:41.500 m2 pacemaker-schedulerd[50] (pcmk__log_transition_summary) notice: Calculated transition 3, saving inputs\n";
        let failed = line_time("Dec 08 02:28:40.000 x").unwrap();
        let p = read(corosync, pacemaker, failed, "m1");
        assert_eq!(p.token, Some(650));
        assert_eq!(p.membership, Some(1400));
        assert_eq!(p.transition, Some(1500));
        assert_eq!(p.first_start, None);
    }

    #[test]
    fn midnight_wraps() {
        assert_eq!(since(100, DAY_MS - 100), 200);
        assert_eq!(since(DAY_MS - 100, 100), -200);
    }
}
