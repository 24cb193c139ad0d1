//! The state of the namespaces a topology touches, in the model's own terms.
//!
//! Backends fill it from the kernel (`observe`); the planner also computes the state a
//! topology *should* produce in the same shape, so desired and observed compare field by
//! field.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::model::Mac;
use crate::plan::{NatRule, NsRef, RouteSpec, Sysctl};

/// What kind of link an observed link is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkKind {
    /// One end of a veth pair.
    Veth,
    /// A bridge.
    Bridge {
        /// Whether STP runs.
        stp: bool,
    },
    /// An 802.1Q VLAN link.
    Vlan {
        /// The parent link's name, when it is in the same namespace.
        parent: Option<String>,
        /// The VLAN id.
        id: u16,
    },
    /// A VXLAN device, with the remotes of its all-zero (flooding) FDB entries.
    Vxlan {
        /// The VXLAN network identifier.
        vni: u32,
        /// The local underlay address, if set.
        local: Option<IpAddr>,
        /// The UDP destination port.
        port: u16,
        /// The underlay device's name, when it is in the same namespace.
        dev: Option<String>,
        /// Destinations of the all-zero FDB entries, sorted.
        remotes: Vec<IpAddr>,
    },
    /// The loopback device.
    Loopback,
    /// Anything else (a physical NIC, a dummy, a tunnel ...), with the kernel's kind.
    Other {
        /// The kernel's link kind (`IFLA_INFO_KIND`), empty for hardware.
        kind: String,
    },
}

/// One link as seen in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLink {
    /// The link's kind.
    pub kind: LinkKind,
    /// Its MAC.
    pub mac: Option<Mac>,
    /// Its MTU.
    pub mtu: u32,
    /// Whether it is administratively up.
    pub up: bool,
    /// The bridge it is a port of.
    pub master: Option<String>,
    /// The topology that owns it (from its alias), if vnet made it.
    pub owner: Option<String>,
    /// Its addresses (link-local IPv6 addresses the kernel assigns are left out).
    pub addresses: BTreeSet<IpNetwork>,
}

/// One namespace as seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedNamespace {
    /// The topology that owns the namespace (from its loopback's alias), if vnet made it.
    pub owner: Option<String>,
    /// Links by name.
    pub links: BTreeMap<String, ObservedLink>,
    /// Routes vnet installed (its route protocol), in the main table.
    pub routes: BTreeSet<RouteSpec>,
    /// The sysctls vnet manages, with their current values.
    pub sysctls: BTreeMap<Sysctl, String>,
    /// The rules in vnet's NAT table.
    pub nat: BTreeSet<NatRule>,
}

/// Every namespace a topology touches; a namespace that does not exist is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedState {
    /// Namespaces by reference.
    pub namespaces: BTreeMap<NsRef, ObservedNamespace>,
}

impl ObservedState {
    /// The state where none of the topology's namespaces exist.
    pub fn empty() -> Self {
        ObservedState::default()
    }
}
