//! The failover cases: how the home node fails, whether the router's uplink MAC stays
//! the same on the failover node, and what kind of LAN neighbour observes. The matrix
//! is every combination of the three.

use serde::Serialize;
use std::fmt;

/// How the home node fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Powered down: its containers' switch ports lose carrier at once, nothing of
    /// them is reachable.
    Down,
    /// Hung: its containers keep their namespaces and links up (the LAN switch still
    /// has their MACs on the node's ports) but lose their addresses and forwarding, so
    /// they answer nothing.
    Hung,
}

/// Whether the router's uplink NIC has the same MAC on the failover node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum UplinkMac {
    /// The same MAC on every node (pinned in the topology).
    Pinned,
    /// A MAC of each node's own (the node's NIC passed in, as in the article).
    Changed,
}

/// The LAN neighbour that pings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Observer {
    /// A Linux host with the kernel's default neighbour timers (REACHABLE for 15-45 s).
    Normal,
    /// A router-like neighbour with 4-hour ARP timers: it keeps a resolved entry for
    /// hours without probing it again.
    Sticky,
}

/// One case of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Case {
    /// How the home node fails.
    pub fail: FailMode,
    /// The uplink MAC on the failover node.
    pub uplink_mac: UplinkMac,
    /// The observer's neighbour timers.
    pub observer: Observer,
}

impl Case {
    /// Every combination, m1 down before hung, pinned before changed, normal before
    /// sticky.
    pub fn all() -> Vec<Case> {
        let mut cases = Vec::new();
        for fail in [FailMode::Down, FailMode::Hung] {
            for uplink_mac in [UplinkMac::Pinned, UplinkMac::Changed] {
                for observer in [Observer::Normal, Observer::Sticky] {
                    cases.push(Case {
                        fail,
                        uplink_mac,
                        observer,
                    });
                }
            }
        }
        cases
    }
}

/// The word clap accepts for a value (`down`, `changed`, `sticky`).
pub fn word(v: impl clap::ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {}, uplink MAC {}, {} observer",
            word(self.fail),
            word(self.uplink_mac),
            word(self.observer)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_has_every_combination_once() {
        let all = Case::all();
        assert_eq!(all.len(), 8);
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, all, "distinct and in order");
        assert_eq!(
            all[5].to_string(),
            "node hung, uplink MAC pinned, sticky observer"
        );
    }
}
