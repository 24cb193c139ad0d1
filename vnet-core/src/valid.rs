//! [`ValidTopology`]: a topology that passed every rule, with its derived values and
//! its graph. [`crate::validate()`] is the only way to make one.

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
}

impl ValidTopology {
    pub(crate) fn new(topology: Topology, resolved: Resolved) -> Self {
        let graph = build_graph(&topology);
        ValidTopology {
            topology,
            resolved,
            graph,
        }
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

    /// The MAC of an interface, given or derived.
    pub fn mac(&self, key: &MacKey) -> Mac {
        // Resolution derives a MAC for every key the model has; validation checked that
        // every element is unique, so the key is present for any element of this topology.
        self.resolved.macs.get(key).copied().unwrap_or_else(|| {
            panic!(
                "no MAC for {key}: not an element of topology {}",
                self.name()
            )
        })
    }

    /// The container end MAC of a veth pair.
    pub fn veth_mac(&self, ct: &Container, veth: &Veth) -> Mac {
        self.mac(&MacKey::CtVeth {
            ct: ct.id,
            name: veth.name.clone(),
        })
    }

    /// The host end MAC of a veth pair.
    pub fn veth_host_mac(&self, ct: &Container, veth: &Veth) -> Mac {
        self.mac(&MacKey::HostVeth {
            ct: ct.id,
            name: veth.name.clone(),
        })
    }

    /// The host-side name of a veth pair, given or derived.
    pub fn veth_host_name(&self, ct: &Container, veth: &Veth) -> &str {
        self.resolved
            .host_names
            .get(&(ct.id, veth.name.clone()))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("veth {} is not in container {}", veth.name, ct.name))
    }

    /// The node a container normally runs on: its `node`, else the first node.
    pub fn home_node<'a>(&'a self, ct: &'a Container) -> &'a str {
        ct.node
            .as_deref()
            .or_else(|| self.topology.node.first().map(|n| n.name.as_str()))
            .unwrap_or_else(|| panic!("validation guarantees a node for container {}", ct.name))
    }

    /// Every node a container may run on: home first, then failover nodes.
    pub fn ct_nodes<'a>(&'a self, ct: &'a Container) -> Vec<&'a str> {
        let mut out = vec![self.home_node(ct)];
        for n in &ct.failover {
            if !out.contains(&n.as_str()) {
                out.push(n);
            }
        }
        out
    }

    /// The nodes where a bridge exists: its `nodes`, else every node.
    pub fn bridge_nodes(&self, bridge: &str) -> Vec<&str> {
        match self.topology.bridge.iter().find(|b| b.name == bridge) {
            Some(b) => match &b.nodes {
                Some(ns) => ns.iter().map(String::as_str).collect(),
                None => self.topology.node.iter().map(|n| n.name.as_str()).collect(),
            },
            None => Vec::new(),
        }
    }
}

fn build_graph(t: &Topology) -> TopologyGraph {
    let mut g = TopologyGraph::default();
    for n in &t.node {
        g.vertex(Entity::Node(n.name.clone()));
    }
    for b in &t.bridge {
        let nodes: Vec<String> = match &b.nodes {
            Some(ns) => ns.clone(),
            None => t.node.iter().map(|n| n.name.clone()).collect(),
        };
        g.vertex(Entity::Bridge(b.name.clone()));
        for n in nodes {
            g.relate(
                Entity::Bridge(b.name.clone()),
                Relation::ExistsOn,
                Entity::Node(n),
            );
        }
    }
    for p in &t.patch {
        g.relate(
            Entity::Bridge(p.a.bridge.clone()),
            Relation::Patched,
            Entity::Bridge(p.b.bridge.clone()),
        );
    }
    for s in &t.subnet {
        let seg = match (&s.bridge, &s.lan) {
            (Some(b), _) => Entity::Bridge(b.clone()),
            (None, Some(l)) => Entity::Lan(l.clone()),
            (None, None) => continue,
        };
        g.relate(Entity::Subnet(s.cidr), Relation::CarriedBy, seg);
    }
    let subnet_of = |addr: &ipnetwork::IpNetwork| {
        t.subnet
            .iter()
            .find(|s| s.cidr.contains(addr.ip()))
            .map(|s| Entity::Subnet(s.cidr))
    };
    for lan in &t.lan {
        g.vertex(Entity::Lan(lan.name.clone()));
        for h in &lan.host {
            let host = Entity::LanHost {
                lan: lan.name.clone(),
                name: h.name.clone(),
            };
            g.relate(
                host.clone(),
                Relation::PluggedInto,
                Entity::Lan(lan.name.clone()),
            );
            for a in &h.addresses {
                if let Some(s) = subnet_of(a) {
                    g.relate(host.clone(), Relation::AddressedIn, s);
                }
            }
        }
    }
    for ct in &t.ct {
        let c = Entity::Ct(ct.id);
        let home = ct
            .node
            .clone()
            .or_else(|| t.node.first().map(|n| n.name.clone()));
        if let Some(h) = home {
            g.relate(c.clone(), Relation::RunsOn, Entity::Node(h));
        }
        for f in &ct.failover {
            g.relate(c.clone(), Relation::MayRunOn, Entity::Node(f.clone()));
        }
        let iface = |name: &str| Entity::Iface {
            ct: ct.id,
            name: name.to_string(),
        };
        let addressed = |g: &mut TopologyGraph, name: &str, addrs: &[ipnetwork::IpNetwork]| {
            g.relate(c.clone(), Relation::Has, iface(name));
            for a in addrs {
                if let Some(s) = subnet_of(a) {
                    g.relate(iface(name), Relation::AddressedIn, s);
                }
            }
        };
        for v in &ct.veth {
            addressed(&mut g, &v.name, &v.addresses);
            if let Some(b) = &v.bridge {
                g.relate(iface(&v.name), Relation::PortOf, Entity::Bridge(b.clone()));
            }
        }
        for n in &ct.nic {
            addressed(&mut g, &n.name, &n.addresses);
            g.relate(
                iface(&n.name),
                Relation::PluggedInto,
                Entity::Lan(n.lan.clone()),
            );
        }
        for v in &ct.vlan {
            addressed(&mut g, &v.name, &v.addresses);
            g.relate(iface(&v.name), Relation::VlanOf, iface(&v.parent));
        }
    }
    g
}
