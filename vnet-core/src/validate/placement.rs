//! Placement rules for a cluster, where a container may run on its home node or fail
//! over to others:
//!
//! - `placement-split`: containers on one bridge that is not stretched share their home
//!   and failover nodes. A node-local bridge is one L2 segment only on one node, so two
//!   containers on it placed differently would lose each other after a failover. Bridges
//!   joined by patch cables are one segment: their containers too; a segment holding a
//!   stretched bridge spans the nodes.
//! - `uplink-mac-unpinned`: a NIC of a container that may fail over either pins its MAC
//!   or explicitly lets it follow the node (the node's own NIC passed in). An unnoticed
//!   MAC change after failover leaves LAN neighbours with stale ARP entries for seconds
//!   to hours (issue 7's measurements), so the topology has to say which it is.

use std::collections::{BTreeMap, BTreeSet};

use super::refs::Declared;
use super::site::{ct_nodes, Site};
use super::{Ctx, Findings};
use crate::model::Topology;
use crate::rules::Rule;

/// Each bridge's L2 segment: bridges joined by patch cables are one, named after its
/// first bridge in declaration order; with whether a bridge of it is stretched.
fn segments(t: &Topology) -> (BTreeMap<&str, &str>, BTreeSet<&str>) {
    let mut of: BTreeMap<&str, &str> = t
        .bridge
        .iter()
        .map(|b| (b.name.as_str(), b.name.as_str()))
        .collect();
    let order: BTreeMap<&str, usize> = t
        .bridge
        .iter()
        .enumerate()
        .map(|(i, b)| (b.name.as_str(), i))
        .collect();
    for p in &t.patch {
        let (a, b) = (root(&of, &p.a.bridge), root(&of, &p.b.bridge));
        // An undeclared bridge is `ref-missing`'s.
        let (Some(ia), Some(ib)) = (order.get(a), order.get(b)) else {
            continue;
        };
        let (keep, join) = if ia <= ib { (a, b) } else { (b, a) };
        of.insert(join, keep);
    }
    let segment: BTreeMap<&str, &str> = of.keys().map(|b| (*b, root(&of, b))).collect();
    let stretched = t
        .bridge
        .iter()
        .filter(|b| b.stretch.is_some())
        .map(|b| segment[b.name.as_str()])
        .collect();
    (segment, stretched)
}

/// The bridge `b` is joined to, following `of` to the top.
fn root<'a>(of: &BTreeMap<&'a str, &'a str>, mut b: &'a str) -> &'a str {
    while let Some(up) = of.get(b).copied().filter(|up| *up != b) {
        b = up;
    }
    b
}

pub(super) fn check(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    let (segment, stretched) = segments(t);
    // Segment -> the first container on it, with its bridge; every later one is compared
    // with it. The placements are compared as iterators, so no container allocates a
    // node list.
    let mut first: BTreeMap<&str, Option<(usize, &str)>> = BTreeMap::new();
    for (i, ct) in t.ct.iter().enumerate() {
        // A container on an undeclared node is `node-missing`'s; its placement means
        // nothing yet.
        let placed = ct_nodes(t, ct).all(|n| d.nodes.contains(n));
        for (j, v) in ct.veth.iter().enumerate().filter(|_| placed) {
            let Some(bridge) = v.bridge.as_deref() else {
                continue;
            };
            // An undeclared bridge is `ref-missing`'s.
            let Some(seg) = segment.get(bridge).copied() else {
                continue;
            };
            let slot = first
                .entry(seg)
                .or_insert_with(|| (!stretched.contains(seg)).then_some((i, bridge)));
            let Some((k, other_bridge)) = *slot else {
                continue;
            };
            // A container with two veths on the segment compares with itself: equal.
            let other = &t.ct[k];
            if ct_nodes(t, ct).eq(ct_nodes(t, other)) {
                continue;
            }
            let nodes = |c| ct_nodes(t, c).collect::<Vec<_>>().join(", ");
            let on = if other_bridge == bridge {
                format!("on the same bridge {bridge}")
            } else {
                format!("on bridge {other_bridge}, patched to {bridge},")
            };
            f.push(
                Rule::PlacementSplit,
                &Site::Veth(i, j).path(t).field("bridge"),
                format!(
                    "container {} may run on [{}] but {} {on} on [{}]; \
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
