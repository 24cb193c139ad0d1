//! [`large`]: a big, valid, deterministic topology shaped like the article's, repeated.
//!
//! Nodes `m1` and `m2`; bridges `br0`, `br1`, ... each with a /22 of 198.18.0.0/15 (the
//! range reserved for benchmarks, RFC 2544) and at most `per_bridge` containers, so no
//! bridge passes the kernel's 1023 ports; on the first `routers` bridges the first
//! container is a router with a NIC uplink on LAN `lan0` (198.19.255.0/24) and IPv4
//! forwarding, and the other containers route the LAN via it. Containers alternate home
//! nodes by bridge and fail over to the other node. LAN hosts route back to the first
//! bridge's subnet via the first router.

use ipnetwork::{IpNetwork, Ipv4Network};
use std::net::{IpAddr, Ipv4Addr};

use crate::model::{
    Bridge, Container, Forwarding, Lan, LanHost, Nic, Node, Route, RouteDest, Subnet, Topology,
    Veth,
};

/// The shape of a [`large`] topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeParams {
    /// The topology's name.
    pub name: String,
    /// How many containers.
    pub cts: usize,
    /// Most containers per bridge (at most 1000: a /22 holds 1022 addresses).
    pub per_bridge: usize,
    /// How many bridges get a router container with an uplink (at most 200).
    pub routers: usize,
    /// How many hosts on the LAN (at most 50).
    pub lan_hosts: usize,
}

impl LargeParams {
    /// `cts` containers, 1000 per bridge, a router on each of the first 8 bridges, 2 LAN
    /// hosts.
    pub fn new(cts: usize) -> Self {
        LargeParams {
            name: "large".to_string(),
            cts,
            per_bridge: 1000,
            routers: 8,
            lan_hosts: 2,
        }
    }
}

/// The LAN's subnet; bridge blocks skip it.
const LAN_NET: Ipv4Addr = Ipv4Addr::new(198, 19, 255, 0);
/// Where bridge blocks start.
const BASE: u32 = u32::from_be_bytes([198, 18, 0, 0]);
/// The size of a bridge's block (/22).
const BLOCK: u32 = 1024;

/// The /22 of bridge `k`: consecutive blocks from 198.18.0.0, skipping the LAN's block.
/// The first 127 stay inside 198.18.0.0/15.
fn block(k: usize) -> u32 {
    let lan_block = (u32::from(LAN_NET) - BASE) / BLOCK;
    let mut i = u32::try_from(k).unwrap_or(u32::MAX / BLOCK);
    if i >= lan_block {
        i += 1;
    }
    BASE.wrapping_add(i.wrapping_mul(BLOCK))
}

fn v4(addr: u32, prefix: u8) -> IpNetwork {
    // Prefixes here are 22 and 24, always valid.
    IpNetwork::V4(
        Ipv4Network::new(Ipv4Addr::from(addr), prefix).unwrap_or_else(|e| unreachable!("{e}")),
    )
}

fn ct(id: u32, node: &str, other: &str) -> Container {
    Container {
        id,
        name: format!("c{id}"),
        hostname: None,
        ostemplate: None,
        config: None,
        onboot: Some(true),
        node: Some(node.to_string()),
        failover: vec![other.to_string()],
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

/// Builds the topology `p` describes. The same parameters give the same topology.
///
/// ```
/// use vnet_core::generate::{large, LargeParams};
/// let t = large(&LargeParams::new(2500));
/// assert_eq!(t.ct.len(), 2500);
/// assert_eq!(t.bridge.len(), 3);
/// vnet_core::validate(t).unwrap();
/// ```
pub fn large(p: &LargeParams) -> Topology {
    let per_bridge = p.per_bridge.clamp(1, 1000);
    let routers = p.routers.min(200);
    let bridges = p.cts.div_ceil(per_bridge);
    let mut t = Topology::new(p.name.clone());
    for n in ["m1", "m2"] {
        t.node.push(Node {
            name: n.to_string(),
            underlay: None,
        });
    }
    let lan_base = u32::from(LAN_NET);
    let mut lan = Lan {
        name: "lan0".to_string(),
        host: Vec::new(),
    };
    for j in 0..p.lan_hosts.min(50) {
        let route = if routers > 0 && bridges > 0 {
            vec![Route {
                to: RouteDest::Prefix(v4(block(0), 22)),
                via: Some(IpAddr::V4(Ipv4Addr::from(lan_base + 1))),
                dev: None,
                metric: None,
            }]
        } else {
            Vec::new()
        };
        lan.host.push(LanHost {
            name: format!("h{j}"),
            mac: None,
            vlan: None,
            addresses: vec![v4(lan_base + 201 + j as u32, 24)],
            route,
        });
    }
    t.lan.push(lan);
    t.subnet.push(Subnet {
        cidr: v4(lan_base, 24),
        gateway: None,
        bridge: None,
        lan: Some("lan0".to_string()),
        vlan: None,
    });
    let mut id: u32 = 100;
    for k in 0..bridges {
        let bridge = format!("br{k}");
        let net = block(k);
        t.bridge.push(Bridge {
            name: bridge.clone(),
            mac: None,
            stp: false,
            mtu: None,
            addresses: Vec::new(),
            nodes: None,
            ports: Vec::new(),
            stretch: None,
        });
        let router = k < routers;
        t.subnet.push(Subnet {
            cidr: v4(net, 22),
            gateway: router.then(|| IpAddr::V4(Ipv4Addr::from(net + 1))),
            bridge: Some(bridge.clone()),
            lan: None,
            vlan: None,
        });
        let (home, other) = if k % 2 == 0 {
            ("m1", "m2")
        } else {
            ("m2", "m1")
        };
        let count = per_bridge.min(p.cts - k * per_bridge);
        for i in 0..count {
            id += 1;
            let mut c = ct(id, home, other);
            c.veth.push(Veth {
                name: "eth0".to_string(),
                mac: None,
                mtu: None,
                addresses: vec![v4(net + 1 + i as u32, 22)],
                host_name: None,
                host_mac: None,
                bridge: Some(bridge.clone()),
            });
            if router && i == 0 {
                c.forward.ipv4 = true;
                c.nic.push(Nic {
                    name: "eth1".to_string(),
                    device: Some(format!("up{k}")),
                    lan: "lan0".to_string(),
                    mac: None,
                    mtu: None,
                    addresses: vec![v4(lan_base + 1 + k as u32, 24)],
                    // The router fails over to the other node with that node's NIC.
                    mac_follows_node: true,
                });
            } else if router {
                c.route.push(Route {
                    to: RouteDest::Prefix(v4(lan_base, 24)),
                    via: Some(IpAddr::V4(Ipv4Addr::from(net + 1))),
                    dev: None,
                    metric: None,
                });
            }
            t.ct.push(c);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_valid_deterministic_and_sized() {
        let p = LargeParams {
            lan_hosts: 3,
            ..LargeParams::new(2001)
        };
        let t = large(&p);
        assert_eq!(t.ct.len(), 2001);
        assert_eq!(t.bridge.len(), 3);
        assert_eq!(t, large(&p));
        let routers = t.ct.iter().filter(|c| c.forward.ipv4).count();
        assert_eq!(routers, 3);
        assert!(t.ct.iter().any(|c| !c.route.is_empty()));
        if let Err(d) = crate::validate(t) {
            panic!("{d}");
        }
    }

    #[test]
    fn blocks_stay_in_the_benchmark_range_and_skip_the_lan() {
        let range: Ipv4Network = "198.18.0.0/15".parse().unwrap_or_else(|e| panic!("{e}"));
        let lan = Ipv4Network::new(LAN_NET, 24).unwrap_or_else(|e| panic!("{e}"));
        for k in 0..127 {
            let b =
                Ipv4Network::new(Ipv4Addr::from(block(k)), 22).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                range.contains(b.network()) && range.contains(b.broadcast()),
                "{b}"
            );
            assert!(!b.contains(lan.network()), "{b}");
        }
    }
}
