//! [`stretched`]: one bridge stretched over VXLAN across many nodes, a router on the first
//! node, and the same number of containers on every node: the scale test of a cluster's
//! L2 segment (issue 18, "many nodes").
//!
//! Nodes `m1` ... `mK` with underlay addresses on the cluster LAN `cluster`
//! (198.19.254.0/24); bridge `br0` on every node, stretched (VNI 100), MTU 1450 (VXLAN's
//! 50 bytes inside the underlay's 1500); subnet 198.18.0.0/21 on it. Container `router`
//! on `m1` (198.18.0.1) forwards to LAN `lan0` (198.19.0.0/24, host `gw` at .1) through
//! a NIC; containers `c1`... (198.18.0.2 on) are spread `per_node` to a node, each with a
//! route to the LAN via the router. Every container thus reaches the router on `m1`,
//! most of them across the tunnel.

use ipnetwork::{IpNetwork, Ipv4Network};
use std::net::{IpAddr, Ipv4Addr};

use crate::model::{
    Bridge, Container, Forwarding, Lan, LanHost, Nic, Node, Route, RouteDest, Stretch, Subnet,
    Topology, Underlay, Veth,
};

/// The most containers [`stretched`] places: the /21's addresses minus the router's.
pub const MAX_STRETCHED_CTS: usize = 2044;

fn net(a: [u8; 4], prefix: u8) -> IpNetwork {
    // Every prefix here is a literal between 21 and 24.
    IpNetwork::V4(
        Ipv4Network::new(Ipv4Addr::from(a), prefix).unwrap_or_else(|e| unreachable!("{e}")),
    )
}

/// The address of the `i`-th host of 198.18.0.0/21 (0 is the network).
fn host(i: usize) -> [u8; 4] {
    let n = u32::from_be_bytes([198, 18, 0, 0]) + i as u32;
    n.to_be_bytes()
}

/// `nodes` nodes with `per_node` containers each on one stretched bridge (see the module
/// docs). Panics when `nodes` is 0 or the containers do not fit the /21
/// ([`MAX_STRETCHED_CTS`]): a generator's caller picks the sizes.
pub fn stretched(nodes: usize, per_node: usize) -> Topology {
    assert!(nodes > 0, "at least one node");
    assert!(
        nodes * per_node <= MAX_STRETCHED_CTS,
        "{nodes} x {per_node} containers do not fit 198.18.0.0/21"
    );
    let mut t = Topology::new("stretched");
    for k in 1..=nodes {
        t.node.push(Node {
            underlay: Some(Underlay {
                lan: Some("cluster".into()),
                ..Underlay::new(net([198, 19, 254, k as u8], 24), "eth0")
            }),
            ..Node::new(format!("m{k}"))
        });
    }
    t.lan.push(Lan::new("cluster"));
    let mut lan0 = Lan::new("lan0");
    lan0.host.push(LanHost {
        addresses: vec![net([198, 19, 0, 1], 24)],
        route: vec![Route::via(
            RouteDest::Prefix(net([198, 18, 0, 0], 21)),
            IpAddr::V4(Ipv4Addr::new(198, 19, 0, 200)),
        )],
        ..LanHost::new("gw")
    });
    t.lan.push(lan0);
    t.bridge.push(Bridge {
        mtu: Some(1450),
        stretch: Some(Stretch::new(100)),
        ..Bridge::new("br0")
    });
    t.subnet.push(Subnet {
        gateway: Some(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1))),
        ..Subnet::on_bridge(net([198, 18, 0, 0], 21), "br0")
    });
    t.subnet
        .push(Subnet::on_lan(net([198, 19, 0, 0], 24), "lan0"));
    let veth = |i: usize| Veth {
        bridge: Some("br0".into()),
        mtu: Some(1450),
        addresses: vec![net(host(i), 21)],
        ..Veth::new("eth0")
    };
    t.ct.push(Container {
        node: Some("m1".into()),
        forward: Forwarding {
            ipv4: true,
            ipv6: false,
        },
        veth: vec![veth(1)],
        nic: vec![Nic {
            addresses: vec![net([198, 19, 0, 200], 24)],
            ..Nic::new("eth1", "lan0")
        }],
        ..Container::new(100, "router")
    });
    for i in 1..=nodes * per_node {
        t.ct.push(Container {
            node: Some(format!("m{}", (i - 1) / per_node + 1)),
            veth: vec![veth(i + 1)],
            route: vec![Route::via(
                RouteDest::Prefix(net([198, 19, 0, 0], 24)),
                IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            )],
            ..Container::new(100 + i as u32, format!("c{i}"))
        });
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_nodes_of_a_hundred_validate() {
        let t = stretched(10, 100);
        assert_eq!((t.node.len(), t.ct.len()), (10, 1001));
        assert_eq!(t.ct.last().unwrap().node.as_deref(), Some("m10"));
        crate::validate(t).expect("valid");
        crate::validate(stretched(1, 1)).expect("valid");
    }
}
