//! The topology as written: what a TOML or JSON file says, before validation.
//!
//! Every type here mirrors one table of the file format and rejects unknown keys.
//! Nothing here is trusted yet: names may be too long, references may dangle, MACs may
//! repeat. [`crate::validate()`] turns a [`Topology`] into a [`crate::ValidTopology`].
//!
//! To build one in code, each type has a `new` taking its required fields (see
//! `build.rs`); the optional ones come from `Default` through struct update syntax:
//!
//! ```
//! use vnet_core::model::{Bridge, Container, Node, Topology, Veth};
//! let mut t = Topology::new("lab");
//! t.node.push(Node::new("m1"));
//! t.bridge.push(Bridge::new("br0"));
//! let veth = Veth { bridge: Some("br0".into()), ..Veth::new("eth0") };
//! t.ct.push(Container { veth: vec![veth], ..Container::new(101, "a") });
//! assert!(vnet_core::validate(t).is_ok());
//! ```

mod build;
mod container;
mod firewall;
mod mac;
mod netns;
mod network;
mod route;

pub use container::{Container, Forwarding, Macvlan, MacvlanMode, Nat, Nic, Venet, Veth, Vlan};
pub use firewall::{
    Allow, FilterPolicy, Firewall, PortForward, PortRange, PortRangeError, Proto, Verdict,
};
pub use netns::{NetnsError, NetnsSource};
pub use network::{Bridge, Lan, LanHost, Node, Patch, PatchEnd, Stretch, Subnet, Underlay};
pub use route::{Route, RouteDest};

use serde::{Deserialize, Serialize};

pub use mac::Mac;
/// A whole virtual network: cluster nodes, physical LANs, bridges, subnets and containers.
///
/// The top-level tables of a topology file, in the order a reader meets them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// The topology's name. It marks every kernel object vnet creates for it, so two
    /// topologies on one machine never touch each other's objects.
    pub name: String,
    /// Hardware nodes (cluster members) the containers run on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node: Vec<Node>,
    /// Physical LANs outside the virtual network, and the hosts on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lan: Vec<Lan>,
    /// Bridges on the nodes that join the host ends of veth pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridge: Vec<Bridge>,
    /// veth pairs joining two bridges of a node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patch: Vec<Patch>,
    /// IP subnets and the L2 segment (bridge or LAN) each lives on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnet: Vec<Subnet>,
    /// Containers (OpenVZ CTs, LXC containers or plain network namespaces).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ct: Vec<Container>,
}

impl Topology {
    /// An empty topology with the given name, to be filled in code.
    pub fn new(name: impl Into<String>) -> Self {
        Topology {
            name: name.into(),
            ..Topology::default()
        }
    }

    /// The container with this name, if any.
    pub fn ct_by_name(&self, name: &str) -> Option<&Container> {
        self.ct.iter().find(|c| c.name == name)
    }
}
