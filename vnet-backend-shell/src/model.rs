//! [`Model`]: the parts of a topology the renderers read, from a validated topology or,
//! for tests that bypass validation on purpose, from a raw one.
//!
//! Renderers take a `Model` rather than a [`ValidTopology`] so the injection tests can
//! feed them topologies validation would reject and show the output is still harmless.

use std::borrow::Cow;

use vnet_core::model::{Bridge, Container, Mac, Topology, Veth};
use vnet_core::plan::LinkSpec;
use vnet_core::resolve::{resolve, MacKey, Resolved};
use vnet_core::ValidTopology;

/// A topology and its derived values (MACs, host-side names).
#[derive(Debug, Clone)]
pub struct Model<'a> {
    topology: &'a Topology,
    resolved: Cow<'a, Resolved>,
}

impl<'a> Model<'a> {
    /// The model of a validated topology: the normal entry point.
    pub fn new(valid: &'a ValidTopology) -> Self {
        Model {
            topology: valid.topology(),
            resolved: Cow::Borrowed(valid.resolved()),
        }
    }

    /// The model of a topology that was **not** validated: names may hold anything.
    /// Renderers still quote everything, so their output stays harmless; use this only
    /// to prove that (and to render what validation is still catching up with).
    pub fn unchecked(topology: &'a Topology) -> Self {
        Model {
            topology,
            resolved: Cow::Owned(resolve(topology)),
        }
    }

    /// The topology as written.
    pub fn topology(&self) -> &'a Topology {
        self.topology
    }

    /// The topology's name.
    pub fn name(&self) -> &'a str {
        &self.topology.name
    }

    /// The MAC of `key`; a zero MAC when resolution has none (only possible unchecked).
    pub fn mac(&self, key: &MacKey) -> Mac {
        self.resolved
            .macs
            .get(key)
            .copied()
            .unwrap_or(Mac::new(0, 0, 0, 0, 0, 0))
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
    pub fn veth_host_name(&self, ct: &Container, veth: &Veth) -> String {
        self.resolved
            .host_names
            .get(&(ct.id, veth.name.clone()))
            .cloned()
            .or_else(|| veth.host_name.clone())
            .unwrap_or_else(|| format!("veth{}.{}", ct.id, veth.name))
    }

    /// The MAC pinned on a bridge.
    pub fn bridge_mac(&self, bridge: &str) -> Mac {
        self.mac(&MacKey::Bridge {
            name: bridge.to_string(),
        })
    }

    /// The node a container normally runs on: its `node`, else the first node.
    pub fn home_node(&self, ct: &'a Container) -> Option<&'a str> {
        ct.node
            .as_deref()
            .or_else(|| self.topology.node.first().map(|n| n.name.as_str()))
    }

    /// Whether `ct` may run on `node` (its home or a failover node).
    pub fn may_run_on(&self, ct: &'a Container, node: &str) -> bool {
        self.home_node(ct) == Some(node) || ct.failover.iter().any(|f| f == node)
    }

    /// Whether bridge `bridge` exists on `node` (its `nodes`, else every node).
    pub fn bridge_on(&self, bridge: &str, node: &str) -> bool {
        match self.topology.bridge.iter().find(|b| b.name == bridge) {
            Some(b) => match &b.nodes {
                Some(ns) => ns.iter().any(|n| n == node),
                None => true,
            },
            None => false,
        }
    }

    /// The VXLAN device that stretches `bridge` on `node`, as the planner makes it on a
    /// real node ([`vnet_core::plan::vxlan_device`]).
    pub fn vxlan(&self, bridge: &Bridge, node: &str) -> Option<LinkSpec> {
        vnet_core::plan::vxlan_device(self.topology, bridge, node)
    }

    /// The containers whose home is `node`, by id.
    pub fn cts_at_home(&self, node: &str) -> Vec<&'a Container> {
        let mut v: Vec<&Container> = self
            .topology
            .ct
            .iter()
            .filter(|c| self.home_node(c) == Some(node))
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }

    /// The containers that may run on `node` (home or failover), by id.
    pub fn cts_on(&self, node: &str) -> Vec<&'a Container> {
        let mut v: Vec<&Container> = self
            .topology
            .ct
            .iter()
            .filter(|c| self.may_run_on(c, node))
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }
}

/// A route as written, in the plan's terms: `default` becomes `0.0.0.0/0`, or `::/0`
/// when the next hop is IPv6.
pub fn route_spec(route: &vnet_core::model::Route) -> vnet_core::plan::RouteSpec {
    use vnet_core::model::RouteDest;
    let dst = match route.to {
        RouteDest::Prefix(p) => p,
        RouteDest::Default => match route.via {
            Some(std::net::IpAddr::V6(_)) => "::/0".parse().unwrap_or_else(|_| unreachable!()),
            _ => "0.0.0.0/0".parse().unwrap_or_else(|_| unreachable!()),
        },
    };
    vnet_core::plan::RouteSpec {
        dst,
        via: route.via,
        dev: route.dev.as_deref().map(vnet_core::plan::Name::from),
        metric: route.metric,
    }
}
