//! How fast the cluster declares a node dead: corosync's totem timings, rendered as a
//! `pcs cluster config update totem ...` of the node's `corosync.conf` and a reload.
//!
//! Corosync's defaults (token 3000 ms, consensus 1.2 x token) put the first reply after
//! a node's death at 7.8 s on the sandboxed cluster (token +2.6 s, membership +6.2 s).
//! The failover's share after detection is about a second (Pacemaker's transition,
//! fencing, vnet's start), so detection must fit in under two for a 3-second outage,
//! keepalived's range. What a user trades for it is in the README ("Failover").

/// The totem timings vnet renders, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// `token`: how long without the token before a processor is declared failed.
    pub token: u32,
    /// `consensus`: how long to wait for consensus before starting a new membership
    /// round (corosync wants at least 1.2 x token).
    pub consensus: u32,
    /// `join`: how long to wait for join messages in the membership protocol.
    pub join: u32,
    /// `token_retransmits_before_loss_const`: token retransmits before the loss.
    pub retransmits: u32,
}

/// The timings of the rendered cluster: a node silent for `token` ms is lost.
pub const FAST: Timings = Timings {
    token: 400,
    consensus: 480,
    join: 50,
    retransmits: 4,
};

impl Timings {
    /// The `KEY=VALUE` words of `pcs cluster config update totem`.
    pub fn totem_words(&self) -> Vec<String> {
        vec![
            format!("token={}", self.token),
            format!("consensus={}", self.consensus),
            format!("join={}", self.join),
            format!("token_retransmits_before_loss_const={}", self.retransmits),
        ]
    }
}
