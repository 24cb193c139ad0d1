//! Importing (`vnet import --node N --this-host`): the topology of a network found on a
//! node, from what the kernel holds ([`Survey`]) to a [`Topology`] ([`topology`]), so
//! that an admin who built the article's network by hand gets a file that `vnet check`
//! accepts and that `vnet apply --adopt` takes over without changing anything.
//!
//! What is read: the node's bridges (MAC, STP, MTU, addresses, the node's own devices
//! enslaved to them), each container's veth whose other end is on the node (both names,
//! both MACs, MTU, addresses, the bridge), a device of another kind in a container (a
//! NIC passed in, on a LAN of its own), VLAN links on those, the containers' routes and
//! forwarding switches, and masquerade rules. A subnet is declared for every address's
//! network on the segment it is on. What cannot be said in a topology is left out and
//! listed in [`Imported::notes`].

mod ct;

use std::collections::{BTreeMap, BTreeSet};

use ipnetwork::IpNetwork;

use crate::model::{Bridge, Lan, Node, Subnet, Topology};
use crate::observed::{LinkKind, ObservedNamespace, ObservedState};
use crate::plan::{NatRule, NsRef};

/// What the kernel holds on a node, as the backend observed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    /// The node this machine is.
    pub node: String,
    /// The node's namespace (`NsRef::Node`) and each container's (`NsRef::Ct`).
    pub state: ObservedState,
    /// veth pairs with one end in a container and the other on the node: (container,
    /// the container's end) -> the node's end.
    pub cables: BTreeMap<(String, String), String>,
    /// Masquerade rules per namespace, from whichever nftables table holds them.
    pub nat: BTreeMap<NsRef, BTreeSet<NatRule>>,
    /// Each container's `netns` value when it is not the default (`name:<ct>`).
    pub netns: BTreeMap<String, String>,
}

/// An imported topology and what it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The topology.
    pub topology: Topology,
    /// Objects found that the topology does not describe, one line each.
    pub notes: Vec<String>,
}

/// The topology `name` of what `survey` found: one node, its bridges, and a container per
/// container namespace (ids from 101 in name order, as OpenVZ numbers them).
pub fn topology(name: &str, survey: &Survey) -> Imported {
    let mut t = Topology::new(name);
    t.node.push(Node::new(&survey.node));
    let mut notes = Vec::new();
    let node_ns = NsRef::Node(survey.node.as_str().into());
    let empty = ObservedNamespace::default();
    let node = survey.state.namespaces.get(&node_ns).unwrap_or(&empty);
    let host_ends: BTreeSet<&str> = survey.cables.values().map(String::as_str).collect();
    let mut segments = Segments::default();
    for (bname, l) in &node.links {
        let LinkKind::Bridge { stp } = l.kind else {
            continue;
        };
        let ports = node
            .links
            .iter()
            .filter(|(n, p)| p.master.as_deref() == Some(bname) && !host_ends.contains(n.as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        segments.add(&l.addresses, Segment::Bridge(bname.clone()));
        t.bridge.push(Bridge {
            mac: l.mac,
            stp,
            mtu: ct::mtu(l.mtu),
            addresses: l.addresses.iter().copied().collect(),
            nodes: Some(vec![survey.node.clone()]),
            ports,
            ..Bridge::new(bname)
        });
    }
    let cts: Vec<(&NsRef, &ObservedNamespace)> = survey
        .state
        .namespaces
        .iter()
        .filter(|(ns, _)| matches!(ns, NsRef::Ct(_)))
        .collect();
    for (i, (ns, o)) in cts.into_iter().enumerate() {
        let id = 101 + u32::try_from(i).unwrap_or(u32::MAX - 101);
        let c = ct::container(id, ns.name(), o, node, survey, &mut segments, &mut notes);
        t.ct.push(c);
    }
    for (n, l) in &node.links {
        let placed = host_ends.contains(n.as_str())
            || l.master.is_some()
            || matches!(l.kind, LinkKind::Bridge { .. } | LinkKind::Loopback);
        if !placed && l.kind == LinkKind::Veth {
            notes.push(format!(
                "node {}: veth {n} joins no container found (left out)",
                survey.node
            ));
        }
    }
    for r in node.routes.iter().chain(node.foreign_routes.keys()) {
        notes.push(format!(
            "node {}: route {r} (the node's own routes are not part of a topology)",
            survey.node
        ));
    }
    segments.declare(&mut t, &mut notes);
    Imported { topology: t, notes }
}

/// An L2 segment addresses live on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Bridge(String),
    Lan(String),
}

/// The networks found on each segment, to declare as subnets.
#[derive(Debug, Default)]
struct Segments {
    found: BTreeMap<IpNetwork, BTreeSet<Segment>>,
    lans: BTreeSet<String>,
}

impl Segments {
    fn add<'a>(&mut self, addresses: impl IntoIterator<Item = &'a IpNetwork>, on: Segment) {
        for a in addresses {
            let Ok(net) = IpNetwork::new(a.network(), a.prefix()) else {
                continue;
            };
            self.found.entry(net).or_default().insert(on.clone());
        }
    }

    fn lan(&mut self, name: &str) {
        self.lans.insert(name.to_string());
    }

    /// The LANs and one subnet per network (on its first segment; a network found on
    /// two segments is noted).
    fn declare(self, t: &mut Topology, notes: &mut Vec<String>) {
        t.lan.extend(self.lans.iter().map(Lan::new));
        for (net, on) in self.found {
            let mut on = on.into_iter();
            let Some(first) = on.next() else { continue };
            if on.next().is_some() {
                notes.push(format!(
                    "subnet {net} is on more than one segment: declared on the first only"
                ));
            }
            t.subnet.push(match first {
                Segment::Bridge(b) => Subnet::on_bridge(net, b),
                Segment::Lan(l) => Subnet::on_lan(net, l),
            });
        }
    }
}

#[cfg(test)]
mod tests;
