//! Valid topologies for the planner's property tests, built in code: 1-2 nodes, 1-3
//! bridges with a /24 each (198.18.b.0/24, optionally 2001:db8:b::/64), up to six
//! containers with one or two veths, given or derived MACs and MTUs, a router (`c0`)
//! that may hold a NIC on a LAN (with a VLAN link and NAT), filters and a port forward, LAN hosts (tagged or not) and
//! routes through the router, and devices of the nodes enslaved to the last bridge.
//! Addresses and MACs are unique by construction. A bridge with containers on both nodes
//! is stretched (VXLAN) over the nodes' underlays.

use ipnetwork::IpNetwork;
use proptest::prelude::*;

use vnet_core::model::{
    Allow, Bridge, Container, FilterPolicy, Firewall, Forwarding, Lan, LanHost, Mac, Nat, Nic,
    Node, PortForward, PortRange, Proto, Route, RouteDest, Stretch, Subnet, Topology, Underlay,
    Verdict, Veth, Vlan,
};
use vnet_core::ValidTopology;

/// One container's choices.
#[derive(Debug, Clone)]
pub struct CtChoice {
    pub node: usize,
    pub veths: usize,
    pub given_macs: bool,
    pub mtu: Option<u32>,
    pub ipv6: bool,
    /// 0: no route, 1: 198.19.0.0/16 via the router, 2: default via the router.
    pub route: u8,
}

/// Every choice of one topology.
#[derive(Debug, Clone)]
pub struct Choice {
    pub nodes: usize,
    pub bridges: usize,
    pub cts: Vec<CtChoice>,
    pub lan: bool,
    pub hosts: usize,
    pub tagged_host: bool,
    pub nic: bool,
    pub nic_mac: bool,
    pub nic_mtu: bool,
    pub nic_vlan: bool,
    pub nat: bool,
    /// Filters: a forward policy on the router and an input policy on `c1`, and (with a
    /// NIC) a port forward from the router's LAN address to a container on `br0`.
    pub firewall: bool,
    /// How many of the node's own devices (`bp0`, `bp1`) the last bridge enslaves.
    pub ports: usize,
}

fn net(s: &str) -> IpNetwork {
    s.parse().expect("a valid network")
}

fn ct_choice() -> impl Strategy<Value = CtChoice> {
    (
        0..2usize,
        1..=2usize,
        any::<bool>(),
        prop::option::of(Just(1400u32)),
        any::<bool>(),
        0..3u8,
    )
        .prop_map(|(node, veths, given_macs, mtu, ipv6, route)| CtChoice {
            node,
            veths,
            given_macs,
            mtu,
            ipv6,
            route,
        })
}

/// The choices of a topology.
pub fn choice() -> impl Strategy<Value = Choice> {
    (
        1..=2usize,
        1..=3usize,
        prop::collection::vec(ct_choice(), 1..=6),
        any::<bool>(),
        0..=2usize,
        any::<bool>(),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            (any::<bool>(), any::<bool>()),
            0..=2usize,
        ),
    )
        .prop_map(
            |(
                nodes,
                bridges,
                cts,
                lan,
                hosts,
                tagged_host,
                (nic, nic_mac, nic_mtu, nic_vlan, (nat, firewall), ports),
            )| Choice {
                nodes,
                bridges,
                cts,
                lan,
                hosts,
                tagged_host,
                nic: nic && lan,
                nic_mac,
                nic_mtu,
                nic_vlan,
                nat,
                firewall,
                ports,
            },
        )
}

/// The router `c0` forwards only what comes from the bridges (and what its port forward
/// lets in); `c1` answers TCP 5432 to `c0` only.
fn firewall(t: &mut Topology, nic: bool) {
    let on_br0 = t.ct.iter().skip(1).find_map(|ct| {
        ct.veth
            .iter()
            .flat_map(|v| &v.addresses)
            .find(|a| net("198.18.0.0/24").contains(a.ip()))
            .map(|a| a.ip())
    });
    let router = &mut t.ct[0];
    router.firewall = Some(Firewall {
        forward: Some(FilterPolicy {
            policy: Verdict::Drop,
            allow: vec![Allow {
                from: Some("198.18.0.0/16".into()),
                ..Allow::default()
            }],
        }),
        input: None,
    });
    if let (true, Some(to)) = (nic, on_br0) {
        router.port_forward.push(PortForward {
            proto: Proto::Tcp,
            address: Some("198.19.0.200".parse().expect("an address")),
            interface: None,
            port: PortRange::single(25),
            to,
            to_port: None,
        });
    }
    if let Some(c1) = t.ct.get_mut(1) {
        c1.firewall = Some(Firewall {
            forward: None,
            input: Some(FilterPolicy {
                policy: Verdict::Drop,
                allow: vec![Allow {
                    from: Some("c0".into()),
                    proto: Some(Proto::Tcp),
                    port: Some(PortRange::single(5432)),
                    ..Allow::default()
                }],
            }),
        });
    }
}

/// The topology of `c`, as written.
pub fn build(c: &Choice) -> Topology {
    let mut t = Topology::new("lab");
    for n in 0..c.nodes {
        t.node.push(Node {
            name: format!("m{}", n + 1),
            underlay: None,
        });
    }
    let any_ipv6 = c.cts.iter().any(|x| x.ipv6);
    for b in 0..c.bridges {
        t.bridge.push(Bridge {
            name: format!("br{b}"),
            mac: None,
            stp: false,
            mtu: None,
            addresses: vec![],
            nodes: None,
            ports: if b + 1 == c.bridges {
                (0..c.ports).map(|p| format!("bp{p}")).collect()
            } else {
                vec![]
            },
            stretch: None,
        });
        t.subnet.push(subnet(
            &format!("198.18.{b}.0/24"),
            Some(format!("br{b}")),
            None,
            None,
        ));
        if any_ipv6 {
            t.subnet.push(subnet(
                &format!("2001:db8:{b}::/64"),
                Some(format!("br{b}")),
                None,
                None,
            ));
        }
    }
    let nic = c.nic;
    let nic_vlan = nic && c.nic_vlan;
    if c.lan {
        let mut lan = Lan {
            name: "lan0".into(),
            host: vec![],
        };
        t.subnet
            .push(subnet("198.19.0.0/24", None, Some("lan0".into()), None));
        let tagged_subnet = c.tagged_host || nic_vlan;
        if tagged_subnet {
            t.subnet.push(subnet(
                "198.19.10.0/24",
                None,
                Some("lan0".into()),
                Some(10),
            ));
        }
        for h in 0..c.hosts {
            let tagged = c.tagged_host && h == 1;
            let (addr, back) = if tagged {
                (
                    format!("198.19.10.{}/24", h + 1),
                    nic_vlan.then_some("198.19.10.200"),
                )
            } else {
                (
                    format!("198.19.0.{}/24", h + 1),
                    nic.then_some("198.19.0.200"),
                )
            };
            lan.host.push(LanHost {
                name: format!("h{h}"),
                mac: None,
                vlan: tagged.then_some(10),
                addresses: vec![net(&addr)],
                route: back
                    .map(|via| Route {
                        to: RouteDest::Prefix(net("198.18.0.0/16")),
                        via: Some(via.parse().expect("an address")),
                        dev: None,
                        metric: None,
                    })
                    .into_iter()
                    .collect(),
            });
        }
        t.lan.push(lan);
    }
    for (k, x) in c.cts.iter().enumerate() {
        let node = format!("m{}", x.node % c.nodes + 1);
        let mut ct = Container {
            id: 100 + k as u32,
            name: format!("c{k}"),
            hostname: None,
            ostemplate: None,
            config: None,
            onboot: None,
            node: Some(node),
            failover: vec![],
            netns: None,
            venet: None,
            forward: Forwarding {
                ipv4: k == 0,
                ipv6: false,
            },
            veth: vec![],
            nic: vec![],
            vlan: vec![],
            macvlan: Vec::new(),
            route: vec![],
            nat: vec![],
            port_forward: vec![],
            firewall: None,
        };
        for j in 0..x.veths.min(c.bridges) {
            let b = (k + j) % c.bridges;
            let mut addresses = vec![net(&format!("198.18.{b}.{}/24", 10 + k))];
            if x.ipv6 {
                addresses.push(net(&format!("2001:db8:{b}::{}/64", 10 + k)));
            }
            let mac = |end: u8| Mac::new(0x02, 0, 0, k as u8, j as u8, end);
            ct.veth.push(Veth {
                name: format!("eth{j}"),
                mac: x.given_macs.then(|| mac(1)),
                mtu: x.mtu,
                addresses,
                host_name: None,
                host_mac: x.given_macs.then(|| mac(2)),
                bridge: Some(format!("br{b}")),
            });
        }
        if k == 0 && nic {
            ct.nic.push(Nic {
                name: "eth9".into(),
                device: Some("enp9s0".into()),
                lan: "lan0".into(),
                mac: c.nic_mac.then(|| Mac::new(0x02, 0, 0, 0xee, 0, 9)),
                mtu: c.nic_mtu.then_some(1450),
                addresses: vec![net("198.19.0.200/24")],
                mac_follows_node: false,
            });
            if nic_vlan {
                ct.vlan.push(Vlan {
                    name: "eth9.10".into(),
                    parent: "eth9".into(),
                    id: 10,
                    mtu: None,
                    addresses: vec![net("198.19.10.200/24")],
                });
            }
            if c.nat {
                ct.nat.push(Nat {
                    source: net("198.18.0.0/24"),
                    out: "eth9".into(),
                });
            }
        }
        // Containers on br0 reach the LAN through the router's 198.18.0.10.
        if k > 0 && k % c.bridges == 0 && x.route > 0 {
            ct.route.push(Route {
                to: if x.route == 1 {
                    RouteDest::Prefix(net("198.19.0.0/16"))
                } else {
                    RouteDest::Default
                },
                via: Some("198.18.0.10".parse().expect("an address")),
                dev: None,
                metric: None,
            });
        }
        t.ct.push(ct);
    }
    if c.firewall {
        firewall(&mut t, c.nic);
    }
    stretch_split_bridges(&mut t, c.lan);
    t
}

/// Stretches every bridge whose containers run on different nodes (else
/// `placement-split`), over underlays 198.20.0.n/24 on `eth8` with room for 1500-byte
/// frames, plugged into lan0 when there is one.
fn stretch_split_bridges(t: &mut Topology, lan: bool) {
    let mut any = false;
    for (b, bridge) in t.bridge.iter_mut().enumerate() {
        let mut nodes =
            t.ct.iter()
                .filter(|c| {
                    c.veth
                        .iter()
                        .any(|v| v.bridge.as_deref() == Some(&bridge.name))
                })
                .filter_map(|c| c.node.as_deref());
        let first = nodes.next();
        if nodes.any(|n| Some(n) != first) {
            bridge.stretch = Some(Stretch {
                vni: 100 + b as u32,
                port: None,
            });
            any = true;
        }
    }
    if any {
        for (n, node) in t.node.iter_mut().enumerate() {
            node.underlay = Some(Underlay {
                address: net(&format!("198.20.0.{}/24", n + 1)),
                dev: "eth8".into(),
                lan: lan.then(|| "lan0".into()),
                mtu: Some(1550),
            });
        }
    }
}

fn subnet(cidr: &str, bridge: Option<String>, lan: Option<String>, vlan: Option<u16>) -> Subnet {
    Subnet {
        cidr: net(cidr),
        gateway: None,
        bridge,
        lan,
        vlan,
    }
}

/// A valid topology from `c`; panics with every diagnostic when validation refuses it
/// (a generator bug, or a rule these topologies should satisfy).
pub fn valid(c: &Choice) -> ValidTopology {
    let t = build(c);
    match vnet_core::validate(t.clone()) {
        Ok(v) => v,
        Err(d) => panic!("generated topology is invalid: {d:?}\n{t:#?}"),
    }
}

/// Valid topologies.
pub fn topology() -> impl Strategy<Value = ValidTopology> {
    choice().prop_map(|c| valid(&c))
}
