//! Placement rules for a cluster, where a container may run on its home node or fail
//! over to others:
//!
//! - `placement-split`: containers on one bridge that is not stretched share their home
//!   and failover nodes. A node-local bridge is one L2 segment only on one node, so two
//!   containers on it placed differently would lose each other after a failover.
//! - `uplink-mac-unpinned`: a NIC of a container that may fail over either pins its MAC
//!   or explicitly lets it follow the node (the node's own NIC passed in). An unnoticed
//!   MAC change after failover leaves LAN neighbours with stale ARP entries for seconds
//!   to hours (issue 7's measurements), so the topology has to say which it is.

use std::collections::BTreeMap;

use super::refs::Declared;
use super::site::{ct_nodes, Site};
use super::{Ctx, Findings};
use crate::rules::Rule;

pub(super) fn check(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    let stretched = |name: &str| {
        t.bridge
            .iter()
            .any(|b| b.name == name && b.stretch.is_some())
    };
    // Bridge -> the first container on it; every later one is compared with it. The
    // placements are compared as iterators, so no container allocates a node list.
    let mut first: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for (i, ct) in t.ct.iter().enumerate() {
        // A container on an undeclared node is `node-missing`'s; its placement means
        // nothing yet.
        let placed = ct_nodes(t, ct).all(|n| d.nodes.contains(n));
        for (j, v) in ct.veth.iter().enumerate().filter(|_| placed) {
            let Some(bridge) = v.bridge.as_deref() else {
                continue;
            };
            let slot = first
                .entry(bridge)
                .or_insert_with(|| (!stretched(bridge)).then_some(i));
            let Some(k) = *slot else {
                continue;
            };
            // A container with two veths on the bridge compares with itself: equal.
            let other = &t.ct[k];
            if ct_nodes(t, ct).eq(ct_nodes(t, other)) {
                continue;
            }
            let nodes = |c| ct_nodes(t, c).collect::<Vec<_>>().join(", ");
            f.push(
                Rule::PlacementSplit,
                &Site::Veth(i, j).path(t).field("bridge"),
                format!(
                    "container {} may run on [{}] but {} on the same bridge {bridge} on [{}]; \
                     {bridge} is not stretched, so they would be cut apart by a failover",
                    ct.name,
                    nodes(ct),
                    other.name,
                    nodes(other),
                ),
            );
        }
        if ct.failover.is_empty() || ct_nodes(t, ct).nth(1).is_none() {
            continue;
        }
        for (j, n) in ct.nic.iter().enumerate() {
            if n.mac.is_none() && !n.mac_follows_node {
                f.push(
                    Rule::UplinkMacUnpinned,
                    &Site::Nic(i, j).path(t),
                    format!(
                        "container {} may fail over, and NIC {} keeps whatever MAC each node's \
                         hardware has: pin `mac` or set `mac_follows_node = true`",
                        ct.name, n.name
                    ),
                );
            }
        }
    }
}
