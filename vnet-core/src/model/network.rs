//! Nodes, LANs, bridges and subnets: the parts of the network that are not containers.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use super::{Mac, Route};

/// A hardware node (a cluster member such as `m1`), whose root namespace holds the bridges
/// and the host ends of the veth pairs of the containers running on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// The node's name, e.g. `m1`.
    pub name: String,
    /// The node's address on the cluster network, which stretched bridges tunnel over;
    /// needed only when a bridge on the node is stretched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub underlay: Option<Underlay>,
}

/// A node's own address on the cluster network (the underlay of VXLAN tunnels).
///
/// On a real node vnet does not configure it, it only uses the address as the tunnels'
/// local end. The sandbox builds a stand-in: a veth `dev` with `address` in the node's
/// namespace, its peer on LAN `lan`'s switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Underlay {
    /// The node's address with prefix length, e.g. `198.18.100.1/24`.
    pub address: IpNetwork,
    /// The device carrying the address, e.g. `eth0` (the VXLAN device's `dev`).
    pub dev: String,
    /// Sandbox only: the LAN the node is plugged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan: Option<String>,
    /// The device's MTU; 1500 when omitted. A stretched bridge's MTUs must leave room
    /// for the VXLAN header inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

impl Underlay {
    /// The underlay MTU: `mtu`, else 1500 (Ethernet's).
    pub fn mtu(&self) -> u32 {
        self.mtu.unwrap_or(1500)
    }

    /// The bytes VXLAN adds to each frame over this underlay: 50 over IPv4, 70 over
    /// IPv6 (outer IP, UDP and VXLAN headers and the inner Ethernet header).
    pub fn vxlan_overhead(&self) -> u32 {
        if self.address.is_ipv6() {
            70
        } else {
            50
        }
    }
}

/// A bridge stretched across its nodes as one L2 segment through a VXLAN device on each
/// node: head-end replication to every other node's underlay address, MAC learning on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stretch {
    /// The VXLAN network identifier, 1..=16777215, unique per stretched bridge.
    pub vni: u32,
    /// The UDP port; 4789 (IANA's VXLAN port) when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl Stretch {
    /// IANA's VXLAN port.
    pub const DEFAULT_PORT: u16 = 4789;
    /// The largest VNI (24 bits).
    pub const MAX_VNI: u32 = 0x00ff_ffff;

    /// The UDP port: `port`, else 4789.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(Self::DEFAULT_PORT)
    }
}

/// A physical LAN outside the virtual network (the article's 192.168.46.0/24).
///
/// Its subnets are declared as [`Subnet`]s with `lan = NAME`. The sandbox builds it as a
/// namespace holding a bridge (the LAN switch) with each [`LanHost`] plugged in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lan {
    /// The LAN's name.
    pub name: String,
    /// The external hosts on this LAN, which the sandbox builds and `verify` probes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host: Vec<LanHost>,
}

/// A host on a physical LAN, e.g. the article's 192.168.46.1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanHost {
    /// The host's name (its namespace in the sandbox).
    pub name: String,
    /// The host's MAC; generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
    /// The 802.1Q VLAN the host is on, or untagged when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// Addresses with prefix length, e.g. `192.168.46.1/24`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
    /// Routes on the host, e.g. the route back to the virtual network via the router.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<Route>,
}

/// A Linux bridge on the nodes, joining the host ends of the containers' veth pairs
/// ("a hub with all CTs plugged in").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bridge {
    /// The bridge's name, e.g. `br0`.
    pub name: String,
    /// The bridge's MAC, pinned so it does not change as ports come and go; generated
    /// when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
    /// Whether the bridge runs the spanning tree protocol.
    #[serde(default)]
    pub stp: bool,
    /// MTU of the bridge, when not the kernel's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Addresses of the node itself on this bridge (usually none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
    /// The nodes where the bridge must exist; every node when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<String>>,
    /// Devices of the node enslaved to the bridge besides the containers' host ends
    /// (e.g. a physical NIC or a bond).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Stretch the bridge across its nodes with VXLAN, so containers on it may run on
    /// different nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stretch: Option<Stretch>,
}

impl Bridge {
    /// The name of the VXLAN device of a stretched bridge: `vx-<bridge>`, or `vx<vni>`
    /// when that would pass the kernel's 15 bytes; `None` when not stretched.
    pub fn vxlan_name(&self) -> Option<String> {
        let s = self.stretch.as_ref()?;
        let name = format!("vx-{}", self.name);
        Some(if name.len() <= 15 {
            name
        } else {
            format!("vx{}", s.vni)
        })
    }
}

/// A veth pair joining two bridges of the same node (a patch cable between two switches).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// The end in bridge `a`.
    pub a: PatchEnd,
    /// The end in bridge `b`.
    pub b: PatchEnd,
}

/// One end of a [`Patch`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchEnd {
    /// The bridge this end joins.
    pub bridge: String,
    /// The end's interface name on the node.
    pub name: String,
    /// The end's MAC; generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
}

/// An IP subnet and the L2 segment it lives on: a bridge, or a LAN (optionally a VLAN of
/// it). Exactly one of `bridge` and `lan` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// The subnet, e.g. `192.168.199.0/24`.
    pub cidr: IpNetwork,
    /// The subnet's gateway: an address of a container on the same segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// The bridge whose segment carries this subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// The LAN whose segment carries this subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lan: Option<String>,
    /// With `lan`: the 802.1Q VLAN of the LAN that carries it (untagged when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}
