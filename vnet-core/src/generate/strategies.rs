//! proptest strategies: arbitrary small valid topologies ([`valid_topology`]) and single
//! mistakes ([`Mistake`], [`inject`]) that each break exactly one rule.
//!
//! A generated topology has nodes `m1` and `m2`, 1-3 bridges (IPv4, some also IPv6), a
//! LAN `lan0` with 0-3 VLANs and 0-3 hosts, a router container `c0` with a veth on every
//! bridge, a NIC uplink with VLAN links, forwarding and optional NAT, port forward and
//! filters, and 0-7 leaf
//! containers with optional routes, default routes, given MACs and host names, MTUs,
//! venet and failover. Every choice keeps it valid; [`inject`] then adds one mistake.

use ipnetwork::IpNetwork;
use proptest::prelude::*;
use std::net::IpAddr;

use crate::model::{
    Allow, Bridge, Container, FilterPolicy, Firewall, Forwarding, Lan, LanHost, Mac, Macvlan, Nat,
    Nic, Node, Patch, PatchEnd, PortForward, PortRange, Proto, Route, RouteDest, Stretch, Subnet,
    Topology, Underlay, Venet, Verdict, Veth, Vlan,
};
use crate::Rule;

/// The random choices for one leaf container.
#[derive(Debug, Clone)]
struct LeafChoice {
    bridge: usize,
    route: bool,
    default_route: bool,
    given_macs: bool,
    host_name: bool,
    mtu: Option<u32>,
    venet: bool,
    failover: bool,
}

/// The random choices for one topology.
#[derive(Debug, Clone)]
struct Choices {
    bridges_v6: Vec<bool>,
    vlans: Vec<u16>,
    nat: bool,
    /// A port forward to the first leaf, a forward filter on the router and an input
    /// filter on that leaf.
    firewall: bool,
    leaves: Vec<LeafChoice>,
    hosts: Vec<(usize, bool)>,
    /// Containers on the LAN through a macvlan: (on node m2, MAC given).
    macvlans: Vec<(bool, bool)>,
}

fn leaf_choice() -> impl Strategy<Value = LeafChoice> {
    (
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(1500u32)), Just(Some(9000u32))],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(bridge, route, default_route, given_macs, host_name, mtu, venet, failover)| {
                LeafChoice {
                    bridge,
                    route,
                    default_route,
                    given_macs,
                    host_name,
                    mtu,
                    venet,
                    failover,
                }
            },
        )
}

fn choices() -> impl Strategy<Value = Choices> {
    (
        prop::collection::vec(any::<bool>(), 1..=3),
        prop::sample::subsequence(vec![10u16, 20, 30], 0..=3),
        (any::<bool>(), any::<bool>()),
        prop::collection::vec(leaf_choice(), 0..=7),
        prop::collection::vec((0usize..4, any::<bool>()), 0..=3),
        prop::collection::vec((any::<bool>(), any::<bool>()), 0..=3),
    )
        .prop_map(
            |(bridges_v6, vlans, (nat, firewall), leaves, hosts, macvlans)| Choices {
                bridges_v6,
                vlans,
                nat,
                firewall,
                leaves,
                hosts,
                macvlans,
            },
        )
}

/// Arbitrary valid topologies with 1-8 containers (IPv4 and IPv6, VLANs, NAT, port
/// forwards and filters, routes).
pub fn valid_topology() -> impl Strategy<Value = Topology> {
    choices().prop_map(|c| build(&c))
}

fn net(s: &str) -> IpNetwork {
    s.parse()
        .unwrap_or_else(|e| unreachable!("generated prefix {s}: {e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or_else(|e| unreachable!("generated address {s}: {e}"))
}

fn route(to: &str, via: &str) -> Route {
    Route {
        to: if to == "default" {
            RouteDest::Default
        } else {
            RouteDest::Prefix(net(to))
        },
        via: Some(ip(via)),
        dev: None,
        metric: None,
    }
}

fn container(id: u32, name: &str) -> Container {
    Container {
        id,
        name: name.to_string(),
        hostname: Some(format!("{name}.example.com")),
        ostemplate: Some("altlinux-sisyphus".to_string()),
        config: Some("vps.basic".to_string()),
        onboot: Some(true),
        node: Some("m1".to_string()),
        failover: Vec::new(),
        netns: None,
        venet: None,
        forward: Forwarding::default(),
        veth: Vec::new(),
        nic: Vec::new(),
        vlan: Vec::new(),
        macvlan: Vec::new(),
        route: Vec::new(),
        nat: Vec::new(),
        port_forward: Vec::new(),
        firewall: None,
    }
}

fn veth(name: &str, bridge: &str, addresses: Vec<IpNetwork>) -> Veth {
    Veth {
        name: name.to_string(),
        mac: None,
        mtu: None,
        addresses,
        host_name: None,
        host_mac: None,
        bridge: Some(bridge.to_string()),
    }
}

fn subnet(cidr: &str, bridge: Option<&str>, lan: Option<&str>, vlan: Option<u16>) -> Subnet {
    Subnet {
        cidr: net(cidr),
        gateway: None,
        bridge: bridge.map(str::to_string),
        lan: lan.map(str::to_string),
        vlan,
    }
}

/// The third octet of a VLAN's subnet 198.19.x.0/24 (0 for untagged).
fn vlan_octet(v: Option<u16>) -> u16 {
    v.map_or(0, |v| v / 10)
}

fn build(c: &Choices) -> Topology {
    let mut t = Topology::new("prop");
    for n in ["m1", "m2"] {
        t.node.push(Node {
            name: n.to_string(),
            underlay: None,
        });
    }
    let any_v6 = c.bridges_v6.iter().any(|b| *b);
    let mut router = container(100, "c0");
    router.forward = Forwarding {
        ipv4: true,
        ipv6: any_v6,
    };
    for (k, v6) in c.bridges_v6.iter().enumerate() {
        let b = format!("br{k}");
        t.bridge.push(Bridge {
            name: b.clone(),
            mac: None,
            stp: false,
            mtu: None,
            addresses: Vec::new(),
            nodes: None,
            ports: Vec::new(),
            stretch: None,
        });
        let mut s4 = subnet(&format!("198.18.{k}.0/24"), Some(&b), None, None);
        s4.gateway = Some(ip(&format!("198.18.{k}.1")));
        t.subnet.push(s4);
        let mut addrs = vec![net(&format!("198.18.{k}.1/24"))];
        if *v6 {
            t.subnet
                .push(subnet(&format!("fd00:{k}::/64"), Some(&b), None, None));
            addrs.push(net(&format!("fd00:{k}::1/64")));
        }
        router.veth.push(veth(&format!("v{k}"), &b, addrs));
    }
    t.subnet
        .push(subnet("198.19.0.0/24", None, Some("lan0"), None));
    router.nic.push(Nic {
        name: "eth1".to_string(),
        device: None,
        lan: "lan0".to_string(),
        mac: None,
        mtu: None,
        addresses: vec![net("198.19.0.200/24")],
        // The node's own NIC passed in: its MAC may differ on the failover node.
        mac_follows_node: true,
    });
    for v in &c.vlans {
        let x = vlan_octet(Some(*v));
        t.subnet.push(subnet(
            &format!("198.19.{x}.0/24"),
            None,
            Some("lan0"),
            Some(*v),
        ));
        router.vlan.push(Vlan {
            name: format!("eth1.{v}"),
            parent: "eth1".to_string(),
            id: *v,
            mtu: None,
            addresses: vec![net(&format!("198.19.{x}.200/24"))],
        });
    }
    if c.nat {
        router.nat.push(Nat {
            source: net("198.18.0.0/16"),
            out: "eth1".to_string(),
        });
    }
    t.ct.push(router);
    let nb = c.bridges_v6.len();
    for (i, l) in c.leaves.iter().enumerate() {
        let i = i + 1;
        let k = l.bridge % nb;
        let name = format!("c{i}");
        let mut ct = container(100 + i as u32, &name);
        let mut addrs = vec![net(&format!("198.18.{k}.{}/24", 10 + i))];
        if c.bridges_v6[k] {
            addrs.push(net(&format!("fd00:{k}::{}/64", 10 + i)));
        }
        let mut v = veth("eth0", &format!("br{k}"), addrs);
        v.mtu = l.mtu;
        if l.given_macs {
            v.mac = Some(Mac::new(0x02, 0, 0, 0, i as u8, 1));
            v.host_mac = Some(Mac::new(0x02, 0, 0, 0, i as u8, 2));
        }
        if l.host_name {
            v.host_name = Some(format!("hv{i}"));
        }
        ct.veth.push(v);
        if l.route {
            ct.route
                .push(route("198.19.0.0/16", &format!("198.18.{k}.1")));
            if c.bridges_v6[k] {
                ct.route
                    .push(route("fd00:ff::/64", &format!("fd00:{k}::1")));
            }
        }
        if l.default_route {
            ct.route.push(route("default", &format!("198.18.{k}.1")));
        } else if l.venet {
            ct.venet = Some(Venet {
                enabled: true,
                addresses: vec![net(&format!("198.51.100.{}/32", 1 + i))],
            });
        }
        if c.firewall && i == 1 {
            // The leaf answers port 5432 to the router only.
            ct.firewall = Some(Firewall {
                forward: None,
                input: Some(FilterPolicy {
                    policy: Verdict::Drop,
                    allow: vec![Allow {
                        from: Some("c0".to_string()),
                        proto: Some(Proto::Tcp),
                        port: Some(PortRange::single(5432)),
                        ..Allow::default()
                    }],
                }),
            });
            // SMTP from the LAN reaches it through the router.
            let Some(router) = t.ct.iter_mut().find(|r| r.name == "c0") else {
                unreachable!("the router is made first");
            };
            router.port_forward.push(PortForward {
                proto: Proto::Tcp,
                address: Some(ip("198.19.0.200")),
                interface: None,
                port: PortRange::single(25),
                to: ip(&format!("198.18.{k}.11")),
                to_port: None,
            });
            router.firewall = Some(Firewall {
                forward: Some(FilterPolicy {
                    policy: Verdict::Drop,
                    allow: vec![Allow {
                        from: Some("198.18.0.0/16".to_string()),
                        ..Allow::default()
                    }],
                }),
                input: None,
            });
        }
        t.ct.push(ct);
    }
    // Containers straight on the LAN: a macvlan on each node's `eth2` (the router's NIC
    // is `eth1`, passed in on m1 and m2).
    for (j, (on_m2, given_mac)) in c.macvlans.iter().enumerate() {
        let mut ct = container(150 + j as u32, &format!("mv{j}"));
        if *on_m2 {
            ct.node = Some("m2".to_string());
        }
        ct.macvlan.push(Macvlan {
            name: "eth0".to_string(),
            parent: "eth2".to_string(),
            lan: "lan0".to_string(),
            mac: given_mac.then(|| Mac::new(0x02, 0, 0, 0x4d, j as u8, 1)),
            addresses: vec![net(&format!("198.19.0.{}/24", 50 + j))],
            ..Macvlan::default()
        });
        t.ct.push(ct);
    }
    // Containers on one bridge that is not stretched are always placed together, so
    // failover is all or nothing (`placement-split`).
    if c.leaves.iter().any(|l| l.failover) {
        for ct in &mut t.ct {
            ct.failover.push("m2".to_string());
        }
    }
    let mut lan = Lan {
        name: "lan0".to_string(),
        host: Vec::new(),
    };
    for (j, (which, back)) in c.hosts.iter().enumerate() {
        // 0 (and any index past the VLANs) is untagged.
        let vlan = which.checked_sub(1).and_then(|w| c.vlans.get(w).copied());
        let x = vlan_octet(vlan);
        let mut h = LanHost {
            name: format!("h{j}"),
            mac: None,
            vlan,
            addresses: vec![net(&format!("198.19.{x}.{}/24", 1 + j))],
            route: Vec::new(),
        };
        if *back {
            h.route
                .push(route("198.18.0.0/16", &format!("198.19.{x}.200")));
        }
        lan.host.push(h);
    }
    t.lan.push(lan);
    t
}

/// One mistake [`inject`] can make in a generated topology; each breaks exactly one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mistake {
    /// A container name of 16 bytes.
    NameTooLong,
    /// A container name with a space.
    NameInvalid,
    /// A container named `default`.
    NameReserved,
    /// A container named like the LAN.
    NameDuplicate,
    /// A hostname with a `;`.
    TextInvalid,
    /// Container id 0.
    CtId,
    /// A route through an undeclared interface.
    RefMissing,
    /// A multicast MAC.
    MacInvalid,
    /// The same given MAC on both ends of a veth.
    MacDuplicate,
    /// An address declared twice.
    AddrDuplicate,
    /// An address in no declared subnet.
    AddrOutsideSubnet,
    /// A broadcast address on an interface.
    AddrReserved,
    /// A subnet inside another.
    SubnetOverlap,
    /// A subnet on no segment.
    SubnetSegment,
    /// A gateway nobody has.
    GatewayInvalid,
    /// Two default routes in the router.
    DefaultRouteDuplicate,
    /// A default route beside venet.
    DefaultRouteVenet,
    /// A next hop in no connected subnet.
    NextHopOffLink,
    /// A route via a container that does not forward.
    RouterNotForwarding,
    /// NAT out of an undeclared interface.
    NatInvalid,
    /// A patch with both ends on one bridge.
    L2Loop,
    /// 1024 ports on one bridge.
    BridgePortLimit,
    /// VLAN id 4095.
    VlanInvalid,
    /// A failover node without a bridge the container needs.
    NodeMissingBridge,
    /// A container on an undeclared node.
    NodeMissing,
    /// MTU 50.
    MtuInvalid,
    /// 70 interfaces in one container.
    LimitExceeded,
    /// A container on br0 placed on m2 while the others run on m1.
    PlacementSplit,
    /// br0 stretched, but no node has an underlay.
    StretchUnderlay,
    /// br0 stretched over 1500-byte underlays with its 1500-byte MTU.
    StretchMtu,
    /// br0 stretched with VNI 0.
    StretchVni,
    /// The router fails over, its NIC's MAC neither pinned nor allowed to follow the node.
    UplinkMacUnpinned,
    /// A macvlan on the router's bridge br0, a device vnet makes on the node.
    MacvlanParent,
    /// A `netns` of a runtime vnet does not know.
    NetnsInvalid,
    /// A port forward on an address the router does not have.
    ForwardListenInvalid,
    /// A port forward to an address on no subnet or route of the router.
    ForwardTargetUnreachable,
    /// A port forward of two ports to one.
    ForwardPortInvalid,
    /// Two port forwards of one port and address.
    ForwardDuplicate,
    /// A `forward` filter on a container that does not forward.
    FirewallNotForwarding,
    /// An allow rule from a name nothing has.
    AllowInvalid,
}

impl Mistake {
    /// Every mistake.
    pub const ALL: &'static [Mistake] = &[
        Mistake::NameTooLong,
        Mistake::NameInvalid,
        Mistake::NameReserved,
        Mistake::NameDuplicate,
        Mistake::TextInvalid,
        Mistake::CtId,
        Mistake::RefMissing,
        Mistake::MacInvalid,
        Mistake::MacDuplicate,
        Mistake::AddrDuplicate,
        Mistake::AddrOutsideSubnet,
        Mistake::AddrReserved,
        Mistake::SubnetOverlap,
        Mistake::SubnetSegment,
        Mistake::GatewayInvalid,
        Mistake::DefaultRouteDuplicate,
        Mistake::DefaultRouteVenet,
        Mistake::NextHopOffLink,
        Mistake::RouterNotForwarding,
        Mistake::NatInvalid,
        Mistake::L2Loop,
        Mistake::BridgePortLimit,
        Mistake::VlanInvalid,
        Mistake::NodeMissingBridge,
        Mistake::NodeMissing,
        Mistake::MtuInvalid,
        Mistake::LimitExceeded,
        Mistake::PlacementSplit,
        Mistake::StretchUnderlay,
        Mistake::StretchMtu,
        Mistake::StretchVni,
        Mistake::UplinkMacUnpinned,
        Mistake::MacvlanParent,
        Mistake::NetnsInvalid,
        Mistake::ForwardListenInvalid,
        Mistake::ForwardTargetUnreachable,
        Mistake::ForwardPortInvalid,
        Mistake::ForwardDuplicate,
        Mistake::FirewallNotForwarding,
        Mistake::AllowInvalid,
    ];

    /// The rule the mistake breaks.
    pub fn rule(self) -> Rule {
        match self {
            Mistake::NameTooLong => Rule::NameTooLong,
            Mistake::NameInvalid => Rule::NameInvalid,
            Mistake::NameReserved => Rule::NameReserved,
            Mistake::NameDuplicate => Rule::NameDuplicate,
            Mistake::TextInvalid => Rule::TextInvalid,
            Mistake::CtId => Rule::CtIdDuplicate,
            Mistake::RefMissing => Rule::RefMissing,
            Mistake::MacInvalid => Rule::MacInvalid,
            Mistake::MacDuplicate => Rule::MacDuplicate,
            Mistake::AddrDuplicate => Rule::AddrDuplicate,
            Mistake::AddrOutsideSubnet => Rule::AddrOutsideSubnet,
            Mistake::AddrReserved => Rule::AddrReserved,
            Mistake::SubnetOverlap => Rule::SubnetOverlap,
            Mistake::SubnetSegment => Rule::SubnetSegment,
            Mistake::GatewayInvalid => Rule::GatewayInvalid,
            Mistake::DefaultRouteDuplicate => Rule::DefaultRouteDuplicate,
            Mistake::DefaultRouteVenet => Rule::DefaultRouteVenet,
            Mistake::NextHopOffLink => Rule::RouteNextHopOffLink,
            Mistake::RouterNotForwarding => Rule::RouterNotForwarding,
            Mistake::NatInvalid => Rule::NatInvalid,
            Mistake::L2Loop => Rule::L2Loop,
            Mistake::BridgePortLimit => Rule::BridgePortLimit,
            Mistake::VlanInvalid => Rule::VlanInvalid,
            Mistake::NodeMissingBridge => Rule::NodeMissingBridge,
            Mistake::NodeMissing => Rule::NodeMissing,
            Mistake::MtuInvalid => Rule::MtuInvalid,
            Mistake::LimitExceeded => Rule::LimitExceeded,
            Mistake::PlacementSplit => Rule::PlacementSplit,
            Mistake::StretchUnderlay => Rule::StretchUnderlay,
            Mistake::StretchMtu => Rule::StretchMtu,
            Mistake::StretchVni => Rule::StretchVni,
            Mistake::UplinkMacUnpinned => Rule::UplinkMacUnpinned,
            Mistake::MacvlanParent => Rule::MacvlanParent,
            Mistake::NetnsInvalid => Rule::NetnsInvalid,
            Mistake::ForwardListenInvalid => Rule::ForwardListenInvalid,
            Mistake::ForwardTargetUnreachable => Rule::ForwardTargetUnreachable,
            Mistake::ForwardPortInvalid => Rule::ForwardPortInvalid,
            Mistake::ForwardDuplicate => Rule::ForwardDuplicate,
            Mistake::FirewallNotForwarding => Rule::FirewallNotForwarding,
            Mistake::AllowInvalid => Rule::AllowInvalid,
        }
    }
}

/// Any one [`Mistake`].
pub fn mistake() -> impl Strategy<Value = Mistake> {
    prop::sample::select(Mistake::ALL)
}

/// A valid topology with one mistake, and the rule it breaks.
pub fn topology_with_mistake() -> impl Strategy<Value = (Topology, Rule)> {
    (valid_topology(), mistake()).prop_map(|(mut t, m)| {
        let rule = inject(&mut t, m);
        (t, rule)
    })
}

/// Makes mistake `m` in `t`, a topology from [`valid_topology`] (whose router is
/// `ct[0]` with a veth `v0` on `br0` and a NIC `eth1` on `lan0`), and returns the rule
/// it breaks. On other topologies the mistake is still made but may break more rules.
pub fn inject(t: &mut Topology, m: Mistake) -> Rule {
    let last = t.ct.len().saturating_sub(1);
    let default_via = |via: &str| route("default", via);
    if t.ct.is_empty() {
        t.ct.push(container(100, "c0"));
    }
    match m {
        Mistake::NameTooLong => t.ct[last].name = "c123456789abcdef".to_string(),
        Mistake::NameInvalid => t.ct[last].name = "bad name".to_string(),
        Mistake::NameReserved => t.ct[last].name = "default".to_string(),
        Mistake::NameDuplicate => t.ct[last].name = "lan0".to_string(),
        Mistake::TextInvalid => t.ct[0].hostname = Some("a;reboot".to_string()),
        Mistake::CtId => t.ct[last].id = 0,
        Mistake::RefMissing => t.ct[0].route.push(Route {
            to: RouteDest::Prefix(net("203.0.113.0/24")),
            via: None,
            dev: Some("nosuch".to_string()),
            metric: None,
        }),
        Mistake::MacInvalid => {
            if let Some(v) = t.ct[0].veth.first_mut() {
                v.mac = Some(Mac::new(0x01, 0, 0x5e, 0, 0, 1));
            }
        }
        Mistake::MacDuplicate => {
            if let Some(v) = t.ct[0].veth.first_mut() {
                let mac = Mac::new(0x02, 0xaa, 0, 0, 0, 1);
                v.mac = Some(mac);
                v.host_mac = Some(mac);
            }
        }
        Mistake::AddrDuplicate => nic_addr(t, "198.19.0.200/24"),
        Mistake::AddrOutsideSubnet => nic_addr(t, "198.19.77.5/24"),
        Mistake::AddrReserved => nic_addr(t, "198.19.0.255/24"),
        Mistake::SubnetOverlap => t
            .subnet
            .push(subnet("198.18.0.128/25", Some("br0"), None, None)),
        Mistake::SubnetSegment => t.subnet.push(subnet("198.18.250.0/24", None, None, None)),
        Mistake::GatewayInvalid => {
            if let Some(s) = t.subnet.first_mut() {
                s.gateway = Some(ip("198.18.0.98"));
            }
        }
        Mistake::DefaultRouteDuplicate => {
            t.ct[0].route.push(default_via("198.19.0.250"));
            t.ct[0].route.push(default_via("198.19.0.251"));
        }
        Mistake::DefaultRouteVenet => {
            t.ct[0].venet = Some(Venet {
                enabled: true,
                addresses: Vec::new(),
            });
            t.ct[0].route.push(default_via("198.19.0.250"));
        }
        Mistake::NextHopOffLink => t.ct[0].route.push(route("10.0.0.0/8", "203.0.113.1")),
        Mistake::RouterNotForwarding => {
            let mut x = container(999, "x");
            x.veth
                .push(veth("eth0", "br0", vec![net("198.18.0.99/24")]));
            placed_like_router(t, &mut x);
            t.ct.push(x);
            t.ct[0].route.push(route("10.0.0.0/8", "198.18.0.99"));
        }
        Mistake::NatInvalid => t.ct[0].nat.push(Nat {
            source: net("198.18.0.0/16"),
            out: "nosuch".to_string(),
        }),
        Mistake::L2Loop => t.patch.push(Patch {
            a: PatchEnd {
                bridge: "br0".to_string(),
                name: "pl0".to_string(),
                mac: None,
            },
            b: PatchEnd {
                bridge: "br0".to_string(),
                name: "pl1".to_string(),
                mac: None,
            },
        }),
        Mistake::BridgePortLimit => {
            if let Some(b) = t.bridge.first_mut() {
                b.ports = (0..1024).map(|i| format!("p{i}")).collect();
            }
        }
        Mistake::VlanInvalid => t.ct[0].vlan.push(Vlan {
            name: "eth1.x".to_string(),
            parent: "eth1".to_string(),
            id: 4095,
            mtu: None,
            addresses: Vec::new(),
        }),
        Mistake::NodeMissingBridge => {
            t.bridge.push(Bridge {
                name: "bx".to_string(),
                mac: None,
                stp: false,
                mtu: None,
                addresses: Vec::new(),
                nodes: Some(vec!["m1".to_string()]),
                ports: Vec::new(),
                stretch: None,
            });
            t.ct[0].veth.push(veth("ex", "bx", Vec::new()));
            // Every container moves together (else `placement-split` fires too).
            for c in &mut t.ct {
                c.failover = vec!["m2".to_string()];
            }
        }
        Mistake::NodeMissing => t.ct[0].node = Some("m9".to_string()),
        Mistake::MtuInvalid => {
            if let Some(v) = t.ct[0].veth.first_mut() {
                v.mtu = Some(50);
            }
        }
        Mistake::LimitExceeded => {
            for i in 0..70 {
                t.ct[0].veth.push(veth(&format!("x{i}"), "br0", Vec::new()));
            }
        }
        Mistake::PlacementSplit => {
            // On a bridge of their own, which no other mistake stretches.
            t.bridge.push(Bridge {
                name: "bs".to_string(),
                mac: None,
                stp: false,
                mtu: None,
                addresses: Vec::new(),
                nodes: None,
                ports: Vec::new(),
                stretch: None,
            });
            t.subnet
                .push(subnet("198.18.240.0/24", Some("bs"), None, None));
            for (id, name, node) in [(997, "cy", "m1"), (998, "cx", "m2")] {
                let mut x = container(id, name);
                x.veth.push(veth(
                    "eth0",
                    "bs",
                    vec![net(&format!("198.18.240.{}/24", id - 990))],
                ));
                x.node = Some(node.to_string());
                t.ct.push(x);
            }
        }
        Mistake::StretchUnderlay => {
            for n in &mut t.node {
                n.underlay = None;
            }
            stretch_br0(t, 100);
        }
        Mistake::StretchMtu => {
            underlays(t, None);
            stretch_br0(t, 100);
        }
        Mistake::StretchVni => {
            // Room for the leaves' 9000-byte MTU, so only the VNI is wrong.
            underlays(t, Some(9050));
            stretch_br0(t, 0);
        }
        Mistake::UplinkMacUnpinned => {
            for c in &mut t.ct {
                c.failover = vec!["m2".to_string()];
            }
            if let Some(n) = t.ct[0].nic.first_mut() {
                n.mac = None;
                n.mac_follows_node = false;
            }
        }
        Mistake::MacvlanParent => t.ct[0].macvlan.push(Macvlan {
            name: "mv0".to_string(),
            parent: "br0".to_string(),
            lan: "lan0".to_string(),
            addresses: vec![net("198.19.0.240/24")],
            ..Macvlan::default()
        }),
        Mistake::NetnsInvalid => t.ct[0].netns = Some("vmware:router".to_string()),
        Mistake::ForwardListenInvalid => {
            t.ct[0]
                .port_forward
                .push(smtp_like("198.19.0.201", 2525, "198.18.0.50", None))
        }
        Mistake::ForwardTargetUnreachable => {
            // A default route would reach it.
            t.ct[0].route.retain(|r| !r.to.is_default());
            t.ct[0]
                .port_forward
                .push(smtp_like("198.19.0.200", 2526, "100.64.0.5", None))
        }
        Mistake::ForwardPortInvalid => {
            let mut pf = smtp_like("198.19.0.200", 3000, "198.18.0.50", Some(4000));
            pf.port.last = 3001;
            t.ct[0].port_forward.push(pf);
        }
        Mistake::ForwardDuplicate => {
            for to in ["198.18.0.50", "198.18.0.51"] {
                t.ct[0]
                    .port_forward
                    .push(smtp_like("198.19.0.200", 2600, to, None));
            }
        }
        Mistake::FirewallNotForwarding => {
            let mut x = container(996, "fw");
            x.veth
                .push(veth("eth0", "br0", vec![net("198.18.0.96/24")]));
            x.firewall = Some(Firewall {
                forward: Some(FilterPolicy {
                    policy: Verdict::Drop,
                    allow: Vec::new(),
                }),
                input: None,
            });
            placed_like_router(t, &mut x);
            t.ct.push(x);
        }
        Mistake::AllowInvalid => {
            t.ct[0].firewall.get_or_insert_with(Firewall::default).input = Some(FilterPolicy {
                policy: Verdict::Accept,
                allow: vec![Allow {
                    from: Some("nosuch".to_string()),
                    ..Allow::default()
                }],
            })
        }
    }
    m.rule()
}

/// Places `x` where the router (`ct[0]`) runs, so the two may share a bridge.
/// A TCP port forward from `address` to `to`.
fn smtp_like(address: &str, port: u16, to: &str, to_port: Option<u16>) -> PortForward {
    PortForward {
        proto: Proto::Tcp,
        address: Some(ip(address)),
        interface: None,
        port: PortRange::single(port),
        to: ip(to),
        to_port: to_port.map(PortRange::single),
    }
}

fn placed_like_router(t: &Topology, x: &mut Container) {
    if let Some(r) = t.ct.first() {
        x.node = r.node.clone();
        x.failover = r.failover.clone();
    }
}

/// Gives every node an underlay `198.20.0.<n>/24` on `eth9` with `mtu`.
fn underlays(t: &mut Topology, mtu: Option<u32>) {
    for (i, n) in t.node.iter_mut().enumerate() {
        n.underlay = Some(Underlay {
            address: net(&format!("198.20.0.{}/24", i + 1)),
            dev: "eth9".to_string(),
            lan: None,
            mtu,
        });
    }
}

/// Stretches the first bridge with `vni`.
fn stretch_br0(t: &mut Topology, vni: u32) {
    if let Some(b) = t.bridge.first_mut() {
        b.stretch = Some(Stretch { vni, port: None });
    }
}

/// Adds an address to the router's NIC.
fn nic_addr(t: &mut Topology, a: &str) {
    if let Some(n) = t.ct.first_mut().and_then(|c| c.nic.first_mut()) {
        n.addresses.push(net(a));
    }
}

/// Names that collide, are reserved, too long, not ASCII or empty.
const NAMES: &[&str] = &[
    "a",
    "b",
    "eth0",
    "eth1",
    "br0",
    "m1",
    "m2",
    "lan0",
    "h0",
    "c0",
    "veth101.0",
    "lo",
    "",
    "-x",
    "a b",
    "abcdefghijklmnop",
    "почтасер",
];
const NETS: &[&str] = &[
    "198.18.0.0/24",
    "198.18.0.1/24",
    "198.18.0.2/24",
    "198.18.0.255/24",
    "198.18.0.1/32",
    "198.18.0.0/31",
    "198.18.0.0/16",
    "198.19.0.1/24",
    "0.0.0.0/0",
    "fd00::/64",
    "fd00::1/64",
    "fd00::1/128",
    "::/0",
];
const VIAS: &[&str] = &[
    "198.18.0.1",
    "198.18.0.2",
    "198.19.0.1",
    "fd00::1",
    "203.0.113.1",
];

fn pick_name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_string)
}

fn opt_name() -> impl Strategy<Value = Option<String>> {
    prop::option::of(pick_name())
}

fn pick_net() -> impl Strategy<Value = IpNetwork> {
    prop::sample::select(NETS).prop_map(net)
}

fn nets() -> impl Strategy<Value = Vec<IpNetwork>> {
    prop::collection::vec(pick_net(), 0..3)
}

fn pick_mac() -> impl Strategy<Value = Option<Mac>> {
    prop::option::of(prop::sample::select(vec![
        Mac::new(0x02, 0, 0, 0, 0, 1),
        Mac::new(0x02, 0, 0, 0, 0, 2),
        Mac::new(0x01, 0, 0x5e, 0, 0, 1),
        Mac::new(0, 0, 0, 0, 0, 0),
        Mac::new(0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    ]))
}

fn mtu() -> impl Strategy<Value = Option<u32>> {
    prop::option::of(prop::sample::select(vec![
        0u32,
        67,
        68,
        1279,
        1280,
        1500,
        65_535,
        u32::MAX,
    ]))
}

fn vlan_id() -> impl Strategy<Value = u16> {
    prop::sample::select(vec![0u16, 1, 10, 4094, 4095, u16::MAX])
}

fn any_route() -> impl Strategy<Value = Route> {
    (
        prop::option::of(pick_net()),
        prop::option::of(prop::sample::select(VIAS).prop_map(ip)),
        opt_name(),
        prop::option::of(0u32..3),
    )
        .prop_map(|(to, via, dev, metric)| Route {
            to: to.map_or(RouteDest::Default, RouteDest::Prefix),
            via,
            dev,
            metric,
        })
}

fn any_container() -> impl Strategy<Value = Container> {
    let veth = (
        pick_name(),
        pick_mac(),
        mtu(),
        nets(),
        opt_name(),
        pick_mac(),
        opt_name(),
    )
        .prop_map(
            |(name, mac, mtu, addresses, host_name, host_mac, bridge)| Veth {
                name,
                mac,
                mtu,
                addresses,
                host_name,
                host_mac,
                bridge,
            },
        );
    let nic = (
        pick_name(),
        opt_name(),
        pick_name(),
        pick_mac(),
        mtu(),
        nets(),
    )
        .prop_map(|(name, device, lan, mac, mtu, addresses)| Nic {
            name,
            device,
            lan,
            mac,
            mtu,
            addresses,
            mac_follows_node: false,
        });
    let vlan = (pick_name(), pick_name(), vlan_id(), mtu(), nets()).prop_map(
        |(name, parent, id, mtu, addresses)| Vlan {
            name,
            parent,
            id,
            mtu,
            addresses,
        },
    );
    let nat = (pick_net(), pick_name()).prop_map(|(source, out)| Nat { source, out });
    let venet = prop::option::of(
        (any::<bool>(), nets()).prop_map(|(enabled, addresses)| Venet { enabled, addresses }),
    );
    (
        (
            prop::sample::select(vec![0u32, 1, 101, 102, u32::MAX]),
            pick_name(),
            opt_name(),
            opt_name(),
        ),
        (
            prop::collection::vec(pick_name(), 0..2),
            venet,
            any::<bool>(),
            any::<bool>(),
        ),
        prop::collection::vec(veth, 0..3),
        prop::collection::vec(nic, 0..2),
        prop::collection::vec(vlan, 0..2),
        prop::collection::vec(any_route(), 0..3),
        prop::collection::vec(nat, 0..2),
    )
        .prop_map(
            |(
                (id, name, hostname, node),
                (failover, venet, v4, v6),
                veth,
                nic,
                vlan,
                route,
                nat,
            )| {
                Container {
                    id,
                    name,
                    hostname: hostname.clone(),
                    ostemplate: hostname,
                    config: None,
                    onboot: None,
                    node,
                    failover,
                    netns: None,
                    venet,
                    forward: Forwarding { ipv4: v4, ipv6: v6 },
                    veth,
                    nic,
                    vlan,
                    macvlan: Vec::new(),
                    route,
                    nat,
                    port_forward: Vec::new(),
                    firewall: None,
                }
            },
        )
}

/// Arbitrary topologies, mostly invalid: names, ids, addresses, MACs and references drawn
/// from small pools so they collide, dangle and break limits often. Validation must
/// never panic on them.
pub fn any_topology() -> impl Strategy<Value = Topology> {
    let bridge = (
        pick_name(),
        pick_mac(),
        any::<bool>(),
        mtu(),
        nets(),
        prop::option::of(prop::collection::vec(pick_name(), 0..2)),
        prop::collection::vec(pick_name(), 0..2),
        prop::option::of(
            (
                prop::sample::select(vec![0u32, 1, 199, Stretch::MAX_VNI + 1]),
                prop::option::of(prop::sample::select(vec![0u16, 4789])),
            )
                .prop_map(|(vni, port)| Stretch { vni, port }),
        ),
    )
        .prop_map(
            |(name, mac, stp, mtu, addresses, nodes, ports, stretch)| Bridge {
                name,
                mac,
                stp,
                mtu,
                addresses,
                nodes,
                ports,
                stretch,
            },
        );
    let underlay = prop::option::of((pick_net(), pick_name(), opt_name(), mtu()).prop_map(
        |(address, dev, lan, mtu)| Underlay {
            address,
            dev,
            lan,
            mtu,
        },
    ));
    let node = (pick_name(), underlay).prop_map(|(name, underlay)| Node { name, underlay });
    let end = || {
        (pick_name(), pick_name(), pick_mac()).prop_map(|(bridge, name, mac)| PatchEnd {
            bridge,
            name,
            mac,
        })
    };
    let patch = (end(), end()).prop_map(|(a, b)| Patch { a, b });
    let subnet = (
        pick_net(),
        prop::option::of(prop::sample::select(VIAS).prop_map(ip)),
        opt_name(),
        opt_name(),
        prop::option::of(vlan_id()),
    )
        .prop_map(|(cidr, gateway, bridge, lan, vlan)| Subnet {
            cidr,
            gateway,
            bridge,
            lan,
            vlan,
        });
    let host = (
        pick_name(),
        pick_mac(),
        prop::option::of(vlan_id()),
        nets(),
        prop::collection::vec(any_route(), 0..2),
    )
        .prop_map(|(name, mac, vlan, addresses, route)| LanHost {
            name,
            mac,
            vlan,
            addresses,
            route,
        });
    let lan = (pick_name(), prop::collection::vec(host, 0..3))
        .prop_map(|(name, host)| Lan { name, host });
    (
        pick_name(),
        prop::collection::vec(node, 0..3),
        prop::collection::vec(lan, 0..2),
        prop::collection::vec(bridge, 0..3),
        prop::collection::vec(patch, 0..3),
        prop::collection::vec(subnet, 0..4),
        prop::collection::vec(any_container(), 0..5),
    )
        .prop_map(|(name, node, lan, bridge, patch, subnet, ct)| Topology {
            name,
            node,
            lan,
            bridge,
            patch,
            subnet,
            ct,
        })
}
