//! [`Model`]: the parts of a topology the renderers read, from a validated topology or,
//! for tests that bypass validation on purpose, from a raw one.
//!
//! Renderers take a `Model` rather than a [`ValidTopology`] so the injection tests can
//! feed them topologies validation would reject and show the output is still harmless.

use std::borrow::Cow;

use vnet_core::model::{Bridge, Container, Mac, Topology, Veth};
use vnet_core::plan::LinkSpec;
use vnet_core::resolve::{resolve, MacKey, Resolved};
use vnet_core::{Derived, ValidTopology};

/// The MAC a raw topology's unresolved interface renders with.
const ZERO_MAC: Mac = Mac::new(0, 0, 0, 0, 0, 0);

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

    /// The derived values, answered by the core ([`Derived`]) for validated and raw
    /// topologies alike.
    pub fn derived(&self) -> Derived<'a, '_> {
        Derived::new(self.topology, &self.resolved)
    }

    /// The MAC of `key`; a zero MAC when resolution has none (only possible unchecked).
    pub fn mac(&self, key: &MacKey) -> Mac {
        self.derived().mac(key).unwrap_or(ZERO_MAC)
    }

    /// The container end MAC of a veth pair (zero when unresolved, only unchecked).
    pub fn veth_mac(&self, ct: &Container, veth: &Veth) -> Mac {
        self.derived().veth_mac(ct, veth).unwrap_or(ZERO_MAC)
    }

    /// The host end MAC of a veth pair (zero when unresolved, only unchecked).
    pub fn veth_host_mac(&self, ct: &Container, veth: &Veth) -> Mac {
        self.derived().veth_host_mac(ct, veth).unwrap_or(ZERO_MAC)
    }

    /// The host-side name of a veth pair, given or derived; resolution derives one for
    /// every veth, checked or not.
    pub fn veth_host_name(&self, ct: &Container, veth: &Veth) -> String {
        self.derived()
            .veth_host_name(ct, veth)
            .map(str::to_string)
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
        self.derived().home_node(ct)
    }

    /// Whether `ct` may run on `node` (its home or a failover node).
    pub fn may_run_on(&self, ct: &'a Container, node: &str) -> bool {
        self.derived().ct_nodes(ct).contains(&node)
    }

    /// Whether bridge `bridge` exists on `node` (its `nodes`, else every node).
    pub fn bridge_on(&self, bridge: &str, node: &str) -> bool {
        self.derived().bridge_nodes(bridge).contains(&node)
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
