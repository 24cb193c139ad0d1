//! Containers and their interfaces: veth pairs, passed-through NICs, VLANs, routes, NAT.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use super::{Firewall, Mac, PortForward, Route};

/// A container: an OpenVZ CT, an LXC container or a plain network namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    /// The numeric id, as in OpenVZ (`101`).
    pub id: u32,
    /// The container's name (`router`); also its namespace's name in the sandbox.
    pub name: String,
    /// The hostname, e.g. `mail.mydomain.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// OpenVZ OS template, e.g. `altlinux-sisyphus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ostemplate: Option<String>,
    /// OpenVZ sample config, e.g. `vps.basic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Whether the container starts when its node boots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboot: Option<bool>,
    /// The node the container normally runs on; the first node when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The nodes the container may fail over to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover: Vec<String>,
    /// Where its network namespace is on a real node, `KIND:WHAT` (see
    /// [`super::NetnsSource`]); `name:<name>` (`/run/netns/<name>`) when omitted. The
    /// sandbox makes its own namespaces and ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<String>,
    /// OpenVZ's venet interface; off unless declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venet: Option<Venet>,
    /// Packet forwarding between the container's interfaces.
    #[serde(default, skip_serializing_if = "Forwarding::is_off")]
    pub forward: Forwarding,
    /// veth pairs: one end in the container, the other on a node's bridge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub veth: Vec<Veth>,
    /// Physical NICs of the node passed into the container (the router's uplink).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nic: Vec<Nic>,
    /// 802.1Q VLAN interfaces on top of the container's interfaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vlan: Vec<Vlan>,
    /// macvlan interfaces: the container attached straight to a device of its node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub macvlan: Vec<Macvlan>,
    /// Static routes in the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<Route>,
    /// Source NAT (masquerade) rules in the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nat: Vec<Nat>,
    /// Port forwards (destination NAT) on a container that forwards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_forward: Vec<PortForward>,
    /// Filter policies: what the container forwards, what reaches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<Firewall>,
}

/// OpenVZ's venet interface. When on, OpenVZ adds `default via 192.0.2.1 dev venet0`,
/// which blocks any other default route in the container (the article's trap).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Venet {
    /// Whether venet is configured at all.
    #[serde(default)]
    pub enabled: bool,
    /// venet addresses (`vzctl set --ipadd`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
}

impl Venet {
    /// Whether venet is on: enabled, or given addresses.
    pub fn is_on(&self) -> bool {
        self.enabled || !self.addresses.is_empty()
    }
}

/// Forwarding switches (`net.ipv4.ip_forward`, `net.ipv6.conf.all.forwarding`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forwarding {
    /// `net.ipv4.ip_forward = 1`.
    #[serde(default)]
    pub ipv4: bool,
    /// `net.ipv6.conf.all.forwarding = 1`.
    #[serde(default)]
    pub ipv6: bool,
}

impl Forwarding {
    /// Whether neither family forwards.
    pub fn is_off(&self) -> bool {
        !self.ipv4 && !self.ipv6
    }
}

/// A veth pair: `name` inside the container, `host_name` on the node, in `bridge`.
///
/// The article's `--veth_add veth1,00:12:34:56:78:9A,eth0,00:12:34:56:78:9B`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Veth {
    /// The container-side name, e.g. `eth0`.
    pub name: String,
    /// The container-side MAC; generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
    /// The MTU of both ends, when not the kernel's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Addresses of the container-side end, with prefix length.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
    /// The host-side name, e.g. `veth1`; generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// The host-side MAC; generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_mac: Option<Mac>,
    /// The bridge the host end joins; none leaves it unbridged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
}

/// A physical NIC of the node passed into the container, e.g. the router's uplink `eth1`.
///
/// In the sandbox it is simulated by a veth whose other end is on the LAN's switch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    /// The name inside the container, e.g. `eth1`.
    pub name: String,
    /// The NIC's name on the node before it is passed in; `name` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The LAN the NIC is plugged into.
    pub lan: String,
    /// The MAC to set on the NIC; kept as the hardware has it when omitted (the sandbox
    /// then generates one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
    /// The MTU, when not the kernel's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Untagged addresses on the NIC, e.g. `192.168.46.200/24`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
    /// Whether the NIC's MAC may differ from node to node (the node's own NIC passed
    /// in, as in the article): a container that fails over then needs announcements for
    /// its LAN neighbours to follow. Without it, such a container's NIC pins `mac`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mac_follows_node: bool,
}

/// An 802.1Q VLAN interface on top of one of the container's interfaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vlan {
    /// The VLAN interface's name, e.g. `eth1.10`.
    pub name: String,
    /// The parent interface (a NIC or veth of the same container).
    pub parent: String,
    /// The VLAN id, 1..=4094.
    pub id: u16,
    /// The MTU, when not the parent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Addresses on the VLAN interface.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
}

/// A macvlan interface: the container attached straight to a device of its node (a NIC
/// plugged into `lan`), with its own MAC, instead of a veth pair and a bridge
/// (`ip link add link PARENT name NAME netns CT type macvlan mode bridge`).
///
/// In bridge mode the macvlans of one parent reach each other and the LAN, but not the
/// parent device itself. In the sandbox the parent is a stand-in veth of the node whose
/// other end is on the LAN's switch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Macvlan {
    /// The name inside the container, e.g. `eth0`.
    pub name: String,
    /// The node's device it sits on, e.g. `eth1`; on every node the container runs on.
    pub parent: String,
    /// The LAN the parent is plugged into.
    pub lan: String,
    /// How the macvlans of one parent see each other; `bridge` when omitted.
    #[serde(default, skip_serializing_if = "MacvlanMode::is_bridge")]
    pub mode: MacvlanMode,
    /// The MAC; generated when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Mac>,
    /// Addresses, e.g. `192.168.46.210/24`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<IpNetwork>,
}

/// A macvlan's mode (`IFLA_MACVLAN_MODE`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MacvlanMode {
    /// The macvlans of one parent reach each other directly, and the LAN through the
    /// parent (`MACVLAN_MODE_BRIDGE`).
    #[default]
    Bridge,
}

impl MacvlanMode {
    /// Whether this is bridge mode (the default, left out when written).
    pub fn is_bridge(&self) -> bool {
        *self == MacvlanMode::Bridge
    }

    /// The kernel's `IFLA_MACVLAN_MODE` value.
    pub fn kernel_value(self) -> u32 {
        match self {
            MacvlanMode::Bridge => 4,
        }
    }

    /// The mode of a kernel `IFLA_MACVLAN_MODE` value, if vnet knows it.
    pub fn from_kernel(value: u32) -> Option<MacvlanMode> {
        (value == 4).then_some(MacvlanMode::Bridge)
    }

    /// The `ip link` spelling, `bridge`.
    pub fn as_str(self) -> &'static str {
        match self {
            MacvlanMode::Bridge => "bridge",
        }
    }
}

/// Source NAT: masquerade traffic from `source` leaving through `out`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nat {
    /// The source prefix to masquerade, e.g. `192.168.199.0/24`.
    pub source: IpNetwork,
    /// The outgoing interface, e.g. `eth1`.
    pub out: String,
}
