//! Which endpoints must reach which, computed from the model alone.
//!
//! `vnet verify` probes every pair with real ICMP echo and compares with this matrix. The
//! expectation comes from a small L3 simulation of the topology (`l3.rs`): connected
//! subnets and static routes with longest-prefix match, forwarding switches, source NAT,
//! and the return path. A pair is expected to answer only when both the request and the
//! reply find their way.
//!
//! Probing every pair grows with the square of the namespaces; [`plan`] groups alike
//! endpoints into classes (`classes.rs`) and probes one pair per class pair plus every
//! endpoint once, [`full`] keeps the whole matrix.
//!
//! Port forwards and filters (`firewall.rs`) take part in the simulation, ICMP included;
//! both plans add the TCP and UDP flows the firewalls decide (`services.rs`, [`flows`]).

mod classes;
mod firewall;
mod l3;
mod services;

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use crate::plan::NsRef;
use crate::ValidTopology;

pub use classes::{
    by_class, by_class_among, classes, full, full_among, pairs_elsewhere, plan, plan_among, Here,
    Plan, Planned, Role, FULL_UP_TO,
};
pub use l3::Network;
pub use services::{Flow, ProbeProto};

/// One probe: from a namespace to an address, and whether it must answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Expectation {
    /// Where the echo request is sent from.
    pub from: NsRef,
    /// The source address the kernel will choose, when a route exists.
    pub source: Option<IpAddr>,
    /// The address probed.
    pub to: IpAddr,
    /// The namespace that owns `to`.
    pub to_ns: NsRef,
    /// Whether an echo reply must come back.
    pub reachable: bool,
    /// Why: the path taken, or where it breaks.
    pub reason: String,
    /// ICMP, or TCP/UDP with ports; for those, `to_ns` is where the flow is delivered
    /// (the target of a port forward) and listens.
    #[serde(flatten)]
    pub flow: Flow,
}

/// Every ICMP probe between the topology's endpoints: from each namespace that has addresses
/// to each address of the same family in another namespace, in a stable order.
pub fn expectations(t: &ValidTopology) -> Vec<Expectation> {
    expectations_among(t, &|_| true)
}

/// [`expectations`] between the namespaces `here`.
pub fn expectations_among(t: &ValidTopology, here: Here) -> Vec<Expectation> {
    let net = Network::from_topology(t);
    let addresses: Vec<(NsRef, IpAddr)> = net
        .addresses()
        .into_iter()
        .filter(|(ns, _)| here(ns))
        .collect();
    let mut out = Vec::new();
    for from in net.namespaces().filter(|ns| here(ns)) {
        for (to_ns, to) in addresses.iter().cloned() {
            if &to_ns == from || !net.has_family(from, to) {
                continue;
            }
            let outcome = net.ping(from, to);
            out.push(Expectation {
                from: from.clone(),
                source: outcome.source,
                to,
                to_ns,
                reachable: outcome.reachable,
                reason: outcome.reason,
                flow: Flow::ICMP,
            });
        }
    }
    out.sort();
    out
}

/// The TCP and UDP flows the topology's port forwards and filters decide, what must pass
/// and what must not (see `services.rs`).
pub fn flows(t: &ValidTopology) -> Vec<Expectation> {
    services::flows(&Network::from_topology(t))
}
