//! [`ValidTopology`]: a topology that passed every rule, with its derived values and
//! its graph. [`crate::validate()`] is the only way to make one.

use petgraph::graph::NodeIndex;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::derived::Derived;
use crate::graph::{Entity, Relation, TopologyGraph};
use crate::model::{Container, Mac, Topology, Veth};
use crate::resolve::{MacKey, Resolved};

/// A topology that passed validation: every name valid, every reference resolved, every
/// MAC and host-side name derived and unique.
#[derive(Debug, Clone)]
pub struct ValidTopology {
    topology: Topology,
    resolved: Resolved,
    graph: TopologyGraph,
    warnings: Vec<crate::Diagnostic>,
}

impl ValidTopology {
    pub(crate) fn new(topology: Topology, resolved: Resolved) -> Self {
        let graph = build_graph(&topology);
        ValidTopology {
            topology,
            resolved,
            graph,
            warnings: Vec::new(),
        }
    }

    /// The findings of warning rules ([`crate::Rule::is_warning`], e.g. an allow rule
    /// that can never match): the topology is valid, but probably not what was meant.
    pub fn warnings(&self) -> &[crate::Diagnostic] {
        &self.warnings
    }

    /// The warnings, to attach them (or their locations).
    pub(crate) fn warnings_mut(&mut self) -> &mut Vec<crate::Diagnostic> {
        &mut self.warnings
    }

    /// The topology as written.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The topology's name (its ownership mark).
    pub fn name(&self) -> &str {
        &self.topology.name
    }

    /// The derived values.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// The topology as a graph.
    pub fn graph(&self) -> &TopologyGraph {
        &self.graph
    }

    /// The derived values, read through [`Derived`].
    pub fn derived(&self) -> Derived<'_, '_> {
        Derived::new(&self.topology, &self.resolved)
    }

    /// The MAC of an interface, given or derived.
    pub fn mac(&self, key: &MacKey) -> Mac {
        // Resolution derives a MAC for every key the model has; validation checked that
        // every element is unique, so the key is present for any element of this topology.
        self.derived().mac(key).unwrap_or_else(|| {
            panic!(
                "no MAC for {key}: not an element of topology {}",
                self.name()
            )
        })
    }

    /// The container end MAC of a veth pair.
    pub fn veth_mac(&self, ct: &Container, veth: &Veth) -> Mac {
        self.derived()
            .veth_mac(ct, veth)
            .unwrap_or_else(|| panic!("veth {} is not in container {}", veth.name, ct.name))
    }

    /// The host end MAC of a veth pair.
    pub fn veth_host_mac(&self, ct: &Container, veth: &Veth) -> Mac {
        self.derived()
            .veth_host_mac(ct, veth)
            .unwrap_or_else(|| panic!("veth {} is not in container {}", veth.name, ct.name))
    }

    /// The host-side name of a veth pair, given or derived.
    pub fn veth_host_name(&self, ct: &Container, veth: &Veth) -> &str {
        self.derived()
            .veth_host_name(ct, veth)
            .unwrap_or_else(|| panic!("veth {} is not in container {}", veth.name, ct.name))
    }

    /// The node a container normally runs on: its `node`, else the first node.
    pub fn home_node<'a>(&'a self, ct: &'a Container) -> &'a str {
        self.derived()
            .home_node(ct)
            .unwrap_or_else(|| panic!("validation guarantees a node for container {}", ct.name))
    }

    /// Every node a container may run on: home first, then failover nodes.
    pub fn ct_nodes<'a>(&'a self, ct: &'a Container) -> Vec<&'a str> {
        self.derived().ct_nodes(ct)
    }

    /// The nodes where a bridge exists: its `nodes`, else every node.
    pub fn bridge_nodes(&self, bridge: &str) -> Vec<&str> {
        self.derived().bridge_nodes(bridge)
    }
}

/// Vertices of named elements (nodes, bridges, LANs) by name: a few thousand at most,
/// each looked up once per container, so a small map of borrowed names is cheaper than
/// building an [`Entity`] (a `String`) for every lookup.
struct Named<'a> {
    map: BTreeMap<&'a str, NodeIndex>,
    make: fn(String) -> Entity,
}

impl<'a> Named<'a> {
    fn new(make: fn(String) -> Entity) -> Self {
        Named {
            map: BTreeMap::new(),
            make,
        }
    }

    /// The vertex of `name`, added to `g` the first time (as `TopologyGraph::vertex`).
    fn get(&mut self, g: &mut TopologyGraph, name: &'a str) -> NodeIndex {
        if let Some(i) = self.map.get(name) {
            return *i;
        }
        // New to this map, so new to the graph: each kind has its own map.
        let i = g.add_new((self.make)(name.to_string()));
        self.map.insert(name, i);
        i
    }
}

/// Finds the subnet holding an address by binary search over the subnets sorted by
/// their first address. Validation rejects overlapping subnets (`subnet-overlap`), so
/// the one subnet that starts at or before an address is the only one that can hold it.
struct Subnets {
    /// (IPv6?, first address, subnet index), sorted.
    starts: Vec<(bool, u128, usize)>,
    /// The vertex of each subnet, once it has one.
    vertex: Vec<Option<NodeIndex>>,
}

impl Subnets {
    fn new(t: &Topology) -> Self {
        let mut starts: Vec<(bool, u128, usize)> = t
            .subnet
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (v6, start) = key(s.cidr.network());
                (v6, start, i)
            })
            .collect();
        starts.sort_unstable();
        Subnets {
            starts,
            vertex: vec![None; t.subnet.len()],
        }
    }

    /// The index of the subnet holding `ip`.
    fn find(&self, t: &Topology, ip: IpAddr) -> Option<usize> {
        let (v6, at) = key(ip);
        let after = self.starts.partition_point(|&(f, s, _)| (f, s) <= (v6, at));
        let &(_, _, i) = self.starts.get(after.checked_sub(1)?)?;
        t.subnet[i].cidr.contains(ip).then_some(i)
    }

    /// The vertex of the subnet holding `ip`, added to `g` the first time.
    fn vertex_of(&mut self, g: &mut TopologyGraph, t: &Topology, ip: IpAddr) -> Option<NodeIndex> {
        let i = self.find(t, ip)?;
        Some(*self.vertex[i].get_or_insert_with(|| g.add_new(Entity::Subnet(t.subnet[i].cidr))))
    }
}

/// An address as (IPv6?, integer), ordered within each family.
fn key(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v) => (false, u128::from(u32::from(v))),
        IpAddr::V6(v) => (true, u128::from(v)),
    }
}

/// The graph of a valid topology. Vertices and edges are added in the order of the
/// topology (the same order as adding each relation with `TopologyGraph::relate`), but
/// without looking entities up in the graph's index (so none is built): validation made
/// every entity unique (node, LAN, LAN host and bridge names, subnets that do not
/// overlap, container ids, interface names within a container), so the small maps here
/// by name only tell the first mention of a name from the later ones.
fn build_graph(t: &Topology) -> TopologyGraph {
    let ifaces: usize =
        t.ct.iter()
            .map(|c| c.veth.len() + c.nic.len() + c.vlan.len())
            .sum();
    let vertices = t.node.len() + t.bridge.len() + t.subnet.len() + t.ct.len() + ifaces;
    let mut g = TopologyGraph::with_capacity(vertices, 3 * t.ct.len() + 3 * ifaces);
    let mut nodes = Named::new(Entity::Node);
    let mut bridges = Named::new(Entity::Bridge);
    let mut lans = Named::new(Entity::Lan);
    let mut subnets = Subnets::new(t);
    for n in &t.node {
        nodes.get(&mut g, &n.name);
    }
    for b in &t.bridge {
        let bv = bridges.get(&mut g, &b.name);
        let on: Vec<&str> = match &b.nodes {
            Some(ns) => ns.iter().map(String::as_str).collect(),
            None => t.node.iter().map(|n| n.name.as_str()).collect(),
        };
        for n in on {
            let nv = nodes.get(&mut g, n);
            g.edge(bv, Relation::ExistsOn, nv);
        }
    }
    for p in &t.patch {
        let a = bridges.get(&mut g, &p.a.bridge);
        let b = bridges.get(&mut g, &p.b.bridge);
        g.edge(a, Relation::Patched, b);
    }
    for (i, s) in t.subnet.iter().enumerate() {
        let (bridge, lan) = match (&s.bridge, &s.lan) {
            (None, None) => continue,
            (b, l) => (b.as_deref(), l.as_deref()),
        };
        // The subnet's vertex before its segment's, as `relate` adds them.
        let sv = *subnets.vertex[i].get_or_insert_with(|| g.add_new(Entity::Subnet(s.cidr)));
        let seg = match (bridge, lan) {
            (Some(b), _) => bridges.get(&mut g, b),
            (None, Some(l)) => lans.get(&mut g, l),
            (None, None) => continue,
        };
        g.edge(sv, Relation::CarriedBy, seg);
    }
    for lan in &t.lan {
        let lv = lans.get(&mut g, &lan.name);
        for h in &lan.host {
            let host = g.add_new(Entity::LanHost {
                lan: lan.name.clone(),
                name: h.name.clone(),
            });
            g.edge(host, Relation::PluggedInto, lv);
            for a in &h.addresses {
                if let Some(s) = subnets.vertex_of(&mut g, t, a.ip()) {
                    g.edge(host, Relation::AddressedIn, s);
                }
            }
        }
    }
    // The container's interfaces by name, for the parents of its VLANs (a scan: a
    // container has at most 64 interfaces, most have one).
    let mut own: Vec<(&str, NodeIndex)> = Vec::new();
    for ct in &t.ct {
        let c = g.add_new(Entity::Ct(ct.id));
        let home = ct
            .node
            .as_deref()
            .or_else(|| t.node.first().map(|n| n.name.as_str()));
        if let Some(h) = home {
            let nv = nodes.get(&mut g, h);
            g.edge(c, Relation::RunsOn, nv);
        }
        for f in &ct.failover {
            let nv = nodes.get(&mut g, f);
            g.edge(c, Relation::MayRunOn, nv);
        }
        own.clear();
        let mut addressed =
            |g: &mut TopologyGraph, name: &'_ str, addrs: &[ipnetwork::IpNetwork]| {
                let i = g.add_new(Entity::Iface {
                    ct: ct.id,
                    name: name.to_string(),
                });
                g.edge(c, Relation::Has, i);
                for a in addrs {
                    if let Some(s) = subnets.vertex_of(g, t, a.ip()) {
                        g.edge(i, Relation::AddressedIn, s);
                    }
                }
                i
            };
        for v in &ct.veth {
            let i = addressed(&mut g, &v.name, &v.addresses);
            own.push((&v.name, i));
            if let Some(b) = &v.bridge {
                let bv = bridges.get(&mut g, b);
                g.edge(i, Relation::PortOf, bv);
            }
        }
        for n in &ct.nic {
            let i = addressed(&mut g, &n.name, &n.addresses);
            own.push((&n.name, i));
            let lv = lans.get(&mut g, &n.lan);
            g.edge(i, Relation::PluggedInto, lv);
        }
        // A macvlan is on its parent's LAN.
        for m in &ct.macvlan {
            let i = addressed(&mut g, &m.name, &m.addresses);
            own.push((&m.name, i));
            let lv = lans.get(&mut g, &m.lan);
            g.edge(i, Relation::PluggedInto, lv);
        }
        for v in &ct.vlan {
            let i = addressed(&mut g, &v.name, &v.addresses);
            let parent = match own.iter().find(|(name, _)| *name == v.parent) {
                Some(&(_, p)) => p,
                None => g.vertex(Entity::Iface {
                    ct: ct.id,
                    name: v.parent.clone(),
                }),
            };
            g.edge(i, Relation::VlanOf, parent);
            own.push((&v.name, i));
        }
    }
    g
}
