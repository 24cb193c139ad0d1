//! The validation rules, each with a stable id that scripts and tests can match on.
//!
//! The ids never change meaning once released; new rules get new ids.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! rules {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, hint: $hint:expr; )*) => {
        /// A validation rule. `Display` and serde give its stable id, e.g. `mac-duplicate`.
        /// New rules come with new checks, hence `non_exhaustive`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[doc = $doc])* #[serde(rename = $id)] $variant, )*
        }

        impl Rule {
            /// Every rule, in a stable order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable id, e.g. `mac-duplicate`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// A hint that fits every violation of the rule, if there is one.
            pub fn default_hint(self) -> Option<&'static str> {
                match self { $(Rule::$variant => $hint,)* }
            }

            /// What the rule demands, in one sentence.
            pub fn description(self) -> &'static str {
                match self { $(Rule::$variant => concat!($($doc),*).trim_ascii(),)* }
            }
        }
    };
}

rules! {
    /// Interface, bridge, node, container and LAN names are at most 15 bytes (IFNAMSIZ - 1).
    NameTooLong = "name-too-long", hint: Some("the kernel keeps at most 15 bytes of an interface name; choose a shorter name (for a generated host-side name, set `host_name`)");
    /// Names use only `[A-Za-z0-9_.-]`, are not empty and do not start with `-`.
    NameInvalid = "name-invalid", hint: Some("use letters, digits, `_`, `.` and `-`, and do not start with `-`");
    /// Names are not `.`, `..`, `lo`, `all` or `default`.
    NameReserved = "name-reserved", hint: None;
    /// Names are unique within their namespace (derived host-side names included) and kind.
    NameDuplicate = "name-duplicate", hint: None;
    /// Hostnames, OS templates and configs are plain DNS-like words, safe in any script.
    TextInvalid = "text-invalid", hint: Some("use letters, digits, `_`, `.` and `-` only");
    /// Container ids are non-zero and unique.
    CtIdDuplicate = "ct-id-duplicate", hint: None;
    /// Every reference (bridge, node, LAN, parent, outgoing interface) names something declared.
    RefMissing = "ref-missing", hint: None;
    /// MACs are unicast (the group bit clear) and non-zero.
    MacInvalid = "mac-invalid", hint: Some("the lowest bit of the first octet must be 0; locally administered MACs look like 02:xx:xx:xx:xx:xx");
    /// MACs are unique across the whole topology, given and generated.
    MacDuplicate = "mac-duplicate", hint: Some("every interface needs its own MAC; omit `mac` to have vnet generate a unique one");
    /// An address is declared once.
    AddrDuplicate = "addr-duplicate", hint: None;
    /// An address lies inside a subnet declared on the interface's segment, with the
    /// subnet's prefix length.
    AddrOutsideSubnet = "addr-outside-subnet", hint: Some("declare the subnet with `[[subnet]]` on this segment, or fix the address");
    /// An address is not the network or broadcast address of its subnet.
    AddrReserved = "addr-reserved", hint: None;
    /// Subnets do not overlap.
    SubnetOverlap = "subnet-overlap", hint: None;
    /// A subnet lives on exactly one segment: a bridge, or a LAN (with an optional VLAN).
    SubnetSegment = "subnet-segment", hint: Some("set exactly one of `bridge` and `lan`; `vlan` only with `lan`");
    /// A subnet's gateway is an address of a container on the subnet's segment.
    GatewayInvalid = "gateway-invalid", hint: None;
    /// At most one default route per container and family, the implicit venet default included.
    DefaultRouteDuplicate = "default-route-duplicate", hint: None;
    /// A veth default route cannot coexist with OpenVZ's venet default route.
    DefaultRouteVenet = "default-route-venet", hint: Some("OpenVZ adds `default via 192.0.2.1 dev venet0` when venet is on; drop venet from this container (`venet` off, no venet addresses) as the article does, then the veth default route can be added");
    /// A route's next hop is on-link: inside a subnet of an interface of the same container
    /// (of `dev`, if given), of the destination's family; a route without `via` names `dev`.
    RouteNextHopOffLink = "route-nexthop-offlink", hint: Some("the next hop must lie in a subnet of one of this container's own interfaces");
    /// A container used as a next hop by others forwards packets of that family.
    RouterNotForwarding = "router-not-forwarding", hint: Some("set `forward = { ipv4 = true }` on the router container");
    /// NAT needs forwarding in its container and an existing outgoing interface.
    NatInvalid = "nat-invalid", hint: None;
    /// A port forward listens on one of its container's own addresses (of the target's
    /// family) or interfaces, and names at least one of them.
    ForwardListenInvalid = "forward-listen-invalid", hint: Some("`address` is one of this container's own addresses (e.g. its LAN address), `interface` one of its interfaces");
    /// A port forward's target is reachable from its container: inside a subnet of one
    /// of its interfaces, or covered by one of its routes.
    ForwardTargetUnreachable = "forward-target-unreachable", hint: Some("forward to an address on one of this container's subnets, or add a route to it");
    /// A port forward's ports lie in 1-65535, and `to_port` maps `port` one to one: a
    /// single port to any port, a range only onto itself.
    ForwardPortInvalid = "forward-port-invalid", hint: Some("forward a single port to another (`port = 8080`, `to_port = 80`), or a range to the same ports (leave `to_port` out)");
    /// No two port forwards of a container take the same protocol, port and address (or
    /// interface).
    ForwardDuplicate = "forward-duplicate", hint: None;
    /// Port forwards and a `forward` filter are only on containers that forward (the
    /// family of the forward's target).
    FirewallNotForwarding = "firewall-not-forwarding", hint: Some("set `forward = { ipv4 = true }` on this container, or move the rule to the router");
    /// An allow rule's `from` and `to` name an address, a prefix, a container or a LAN
    /// host with addresses; a `port` comes with a `proto`.
    AllowInvalid = "allow-invalid", hint: Some("e.g. `{ from = \"mail\", proto = \"tcp\", port = 5432 }`; `from`/`to` take an address, a prefix or a container or LAN host name");
    /// (A warning.) An allow rule can match something an earlier rule of its chain does
    /// not already accept.
    AllowShadowed = "allow-shadowed", hint: Some("an earlier rule of the chain accepts everything this one does: remove it, or narrow the earlier one");
    /// No L2 loops: no two paths between bridges, no bridge as its own port.
    L2Loop = "l2-loop", hint: Some("remove one of the paths, or enable `stp` on the bridges");
    /// A Linux bridge takes at most 1023 ports.
    BridgePortLimit = "bridge-port-limit", hint: Some("split the containers over several bridges");
    /// VLAN ids are 1..=4094 and unique per parent interface.
    VlanInvalid = "vlan-invalid", hint: None;
    /// Every node a container may run on (home and failover) has the bridges its veths need.
    NodeMissingBridge = "node-missing-bridge", hint: Some("add the node to the bridge's `nodes`, or leave `nodes` out so the bridge exists on every node");
    /// A container runs on a declared node; a topology with containers declares a node.
    NodeMissing = "node-missing", hint: Some("declare the hardware nodes with `[[node]] name = \"m1\"`");
    /// MTUs lie within 68..=65535 (IPv6 interfaces: at least 1280).
    MtuInvalid = "mtu-invalid", hint: None;
    /// Sizes the model caps so hostile input cannot exhaust the machine.
    LimitExceeded = "limit-exceeded", hint: None;
    /// Containers sharing a bridge that is not stretched have the same home and failover
    /// nodes, so they always run on the same node.
    PlacementSplit = "placement-split", hint: Some("give these containers the same `node` and `failover`, or stretch the bridge across the nodes with `stretch = { vni = N }`");
    /// Every node of a stretched bridge has an underlay (its cluster address), all of one
    /// family, each address once, its LAN declared.
    StretchUnderlay = "stretch-underlay", hint: Some("declare the node's cluster address: `underlay = { address = \"198.18.100.1/24\", dev = \"eth0\" }`");
    /// Every MTU on a stretched bridge (the bridge, its veths) leaves room for the VXLAN
    /// header in the underlay MTU: at most the underlay MTU - 50 (IPv4) or - 70 (IPv6).
    StretchMtu = "stretch-mtu", hint: Some("lower the bridge's and its veths' `mtu` (e.g. 1450 over a 1500-byte underlay), or raise the underlay's `mtu`");
    /// A stretched bridge's VNI is 1..=16777215, its port non-zero, and no two stretched
    /// bridges share a VNI.
    StretchVni = "stretch-vni", hint: None;
    /// A NIC of a container with failover nodes pins its `mac`, or says
    /// `mac_follows_node = true` (the node's own NIC, whose MAC differs per node).
    UplinkMacUnpinned = "uplink-mac-unpinned", hint: Some("set the NIC's `mac` so it is the same on every node, or `mac_follows_node = true` to accept a new MAC after failover (vnet then announces it)");
    /// Every key of the file is one the format knows; each unknown key is reported at its
    /// own place, with the known key it most likely misspells.
    UnknownKey = "unknown-key", hint: None;
    /// A macvlan's parent is a device of the node vnet neither makes nor passes into a
    /// container (not a bridge, bridge port, patch, host-side veth, NIC or underlay
    /// device), and all macvlans on one parent of a node name the same LAN.
    MacvlanParent = "macvlan-parent", hint: Some("name the node's own NIC the containers attach to, e.g. `parent = \"eth1\"`, with the LAN it is plugged into");
    /// A container's `netns` is `KIND:WHAT`, KIND one of `name`, `pid`, `lxc`, `podman`,
    /// `docker`, `nspawn`, `openvz`; WHAT a name of `[A-Za-z0-9_.-]` not starting with `-`
    /// (for `pid`, the absolute path of a pid file).
    NetnsInvalid = "netns-invalid", hint: Some("e.g. `netns = \"lxc:router\"`, `\"podman:web\"` or `\"pid:/run/router.pid\"`; omit it for `/run/netns/<ct name>`");
}

impl Rule {
    /// Whether a finding of the rule is a warning (the topology is still valid, see
    /// [`crate::ValidTopology::warnings`]) rather than an error.
    pub fn is_warning(self) -> bool {
        matches!(self, Rule::AllowShadowed)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
