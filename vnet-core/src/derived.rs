//! [`Derived`]: the values a topology implies but does not spell out (MACs, host-side
//! names, where a container and a bridge are), read from a topology and its resolution.
//!
//! [`crate::ValidTopology`] answers through it (panicking on what validation rules
//! out), and so does the shell backend's `Model`, which also renders topologies that were
//! not validated (its injection tests): one home for each of these answers.

use crate::model::{Container, Mac, Topology, Veth};
use crate::resolve::{MacKey, Resolved};

/// A topology with its resolution, validated or not. Answers are `None` where an
/// unvalidated topology may have no answer.
#[derive(Debug, Clone, Copy)]
pub struct Derived<'t, 'r> {
    topology: &'t Topology,
    resolved: &'r Resolved,
}

impl<'t, 'r> Derived<'t, 'r> {
    /// The derived values of `topology`, resolved as `resolved`.
    pub fn new(topology: &'t Topology, resolved: &'r Resolved) -> Self {
        Derived { topology, resolved }
    }

    /// The MAC of an interface, given or derived.
    pub fn mac(&self, key: &MacKey) -> Option<Mac> {
        self.resolved.macs.get(key).copied()
    }

    /// The container end MAC of a veth pair.
    pub fn veth_mac(&self, ct: &Container, veth: &Veth) -> Option<Mac> {
        self.mac(&MacKey::CtVeth {
            ct: ct.id,
            name: veth.name.clone(),
        })
    }

    /// The host end MAC of a veth pair.
    pub fn veth_host_mac(&self, ct: &Container, veth: &Veth) -> Option<Mac> {
        self.mac(&MacKey::HostVeth {
            ct: ct.id,
            name: veth.name.clone(),
        })
    }

    /// The host-side name of a veth pair, given or derived.
    pub fn veth_host_name(&self, ct: &Container, veth: &Veth) -> Option<&'r str> {
        self.resolved
            .host_names
            .get(&(ct.id, veth.name.clone()))
            .map(String::as_str)
    }

    /// The node a container normally runs on: its `node`, else the first node.
    pub fn home_node(&self, ct: &'t Container) -> Option<&'t str> {
        ct.node
            .as_deref()
            .or_else(|| self.topology.node.first().map(|n| n.name.as_str()))
    }

    /// Every node a container may run on: home first, then failover nodes.
    pub fn ct_nodes(&self, ct: &'t Container) -> Vec<&'t str> {
        let mut out: Vec<&str> = self.home_node(ct).into_iter().collect();
        for n in &ct.failover {
            if !out.contains(&n.as_str()) {
                out.push(n);
            }
        }
        out
    }

    /// The nodes where a bridge exists: its `nodes`, else every node; none for a bridge
    /// the topology does not have.
    pub fn bridge_nodes(&self, bridge: &str) -> Vec<&'t str> {
        match self.topology.bridge.iter().find(|b| b.name == bridge) {
            Some(b) => match &b.nodes {
                Some(ns) => ns.iter().map(String::as_str).collect(),
                None => self.topology.node.iter().map(|n| n.name.as_str()).collect(),
            },
            None => Vec::new(),
        }
    }
}
