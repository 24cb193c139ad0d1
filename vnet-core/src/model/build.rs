//! Constructors for building a topology in code: each takes the fields a file must give
//! and leaves every optional one unset, so a program spells out only what it means:
//! `Veth { bridge: Some("br0".into()), ..Veth::new("eth0") }`.

use ipnetwork::IpNetwork;
use std::net::IpAddr;

use super::{
    Bridge, Container, Lan, LanHost, Nat, Nic, Node, Patch, PatchEnd, Route, RouteDest, Stretch,
    Subnet, Underlay, Veth, Vlan,
};

impl Node {
    /// A node named `name`, without an underlay.
    pub fn new(name: impl Into<String>) -> Self {
        Node {
            name: name.into(),
            ..Node::default()
        }
    }
}

impl Underlay {
    /// A node's address `address` on device `dev`, MTU 1500.
    pub fn new(address: IpNetwork, dev: impl Into<String>) -> Self {
        Underlay {
            address,
            dev: dev.into(),
            lan: None,
            mtu: None,
        }
    }
}

impl Stretch {
    /// Stretching with VXLAN id `vni` on the default port.
    pub fn new(vni: u32) -> Self {
        Stretch { vni, port: None }
    }
}

impl Lan {
    /// A LAN named `name`, without hosts.
    pub fn new(name: impl Into<String>) -> Self {
        Lan {
            name: name.into(),
            ..Lan::default()
        }
    }
}

impl LanHost {
    /// A LAN host named `name`, untagged, without addresses or routes.
    pub fn new(name: impl Into<String>) -> Self {
        LanHost {
            name: name.into(),
            ..LanHost::default()
        }
    }
}

impl Bridge {
    /// A bridge named `name` on every node, STP off.
    pub fn new(name: impl Into<String>) -> Self {
        Bridge {
            name: name.into(),
            ..Bridge::default()
        }
    }
}

impl Patch {
    /// A patch cable between two bridges.
    pub fn new(a: PatchEnd, b: PatchEnd) -> Self {
        Patch { a, b }
    }
}

impl PatchEnd {
    /// The end named `name` in bridge `bridge`.
    pub fn new(bridge: impl Into<String>, name: impl Into<String>) -> Self {
        PatchEnd {
            bridge: bridge.into(),
            name: name.into(),
            mac: None,
        }
    }
}

impl Subnet {
    /// Subnet `cidr` on bridge `bridge`, without a gateway.
    pub fn on_bridge(cidr: IpNetwork, bridge: impl Into<String>) -> Self {
        Subnet {
            cidr,
            gateway: None,
            bridge: Some(bridge.into()),
            lan: None,
            vlan: None,
        }
    }

    /// Subnet `cidr` on LAN `lan` (untagged), without a gateway.
    pub fn on_lan(cidr: IpNetwork, lan: impl Into<String>) -> Self {
        Subnet {
            lan: Some(lan.into()),
            bridge: None,
            ..Subnet::on_bridge(cidr, String::new())
        }
    }
}

impl Container {
    /// Container `id` named `name` on the first node, without interfaces.
    pub fn new(id: u32, name: impl Into<String>) -> Self {
        Container {
            id,
            name: name.into(),
            ..Container::default()
        }
    }
}

impl Veth {
    /// A veth pair with `name` inside the container; MACs and the host-side name
    /// generated, unbridged until `bridge` is set.
    pub fn new(name: impl Into<String>) -> Self {
        Veth {
            name: name.into(),
            ..Veth::default()
        }
    }
}

impl Nic {
    /// NIC `name` of the node, plugged into LAN `lan`, passed into the container.
    pub fn new(name: impl Into<String>, lan: impl Into<String>) -> Self {
        Nic {
            name: name.into(),
            lan: lan.into(),
            ..Nic::default()
        }
    }
}

impl Vlan {
    /// VLAN interface `name` with VLAN id `id` on top of interface `parent`.
    pub fn new(name: impl Into<String>, parent: impl Into<String>, id: u16) -> Self {
        Vlan {
            name: name.into(),
            parent: parent.into(),
            id,
            ..Vlan::default()
        }
    }
}

impl Nat {
    /// Masquerade `source` leaving through `out`.
    pub fn new(source: IpNetwork, out: impl Into<String>) -> Self {
        Nat {
            source,
            out: out.into(),
        }
    }
}

impl Route {
    /// A route to `to` via next hop `via`, its device and metric left to the kernel.
    pub fn via(to: RouteDest, via: IpAddr) -> Self {
        Route {
            to,
            via: Some(via),
            dev: None,
            metric: None,
        }
    }

    /// A route to `to` out of device `dev`, without a next hop (on-link).
    pub fn dev(to: RouteDest, dev: impl Into<String>) -> Self {
        Route {
            to,
            via: None,
            dev: Some(dev.into()),
            metric: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Topology;

    /// Each constructor gives what a file with only the required keys gives.
    #[test]
    fn constructors_equal_the_minimal_file() {
        let text = r#"
            name = "t"
            [[node]]
            name = "m1"
            underlay = { address = "198.18.100.1/24", dev = "eth0" }
            [[lan]]
            name = "lan1"
            host = [{ name = "gw" }]
            [[bridge]]
            name = "br0"
            stretch = { vni = 7 }
            [[patch]]
            a = { bridge = "br0", name = "p0" }
            b = { bridge = "br1", name = "p1" }
            [[subnet]]
            cidr = "198.18.0.0/24"
            bridge = "br0"
            [[subnet]]
            cidr = "198.18.1.0/24"
            lan = "lan1"
            [[ct]]
            id = 101
            name = "a"
            veth = [{ name = "eth0" }]
            nic = [{ name = "eth1", lan = "lan1" }]
            vlan = [{ name = "eth1.10", parent = "eth1", id = 10 }]
            route = [{ to = "default", via = "198.18.0.1" }, { to = "198.18.9.0/24", dev = "eth0" }]
            nat = [{ source = "198.18.0.0/24", out = "eth1" }]
        "#;
        let from_file: Topology = toml::from_str(text).unwrap();
        let net = |s: &str| s.parse::<IpNetwork>().unwrap();
        let mut t = Topology::new("t");
        t.node.push(Node {
            underlay: Some(Underlay::new(net("198.18.100.1/24"), "eth0")),
            ..Node::new("m1")
        });
        t.lan.push(Lan {
            host: vec![LanHost::new("gw")],
            ..Lan::new("lan1")
        });
        t.bridge.push(Bridge {
            stretch: Some(Stretch::new(7)),
            ..Bridge::new("br0")
        });
        t.patch.push(Patch::new(
            PatchEnd::new("br0", "p0"),
            PatchEnd::new("br1", "p1"),
        ));
        t.subnet
            .push(Subnet::on_bridge(net("198.18.0.0/24"), "br0"));
        t.subnet.push(Subnet::on_lan(net("198.18.1.0/24"), "lan1"));
        t.ct.push(Container {
            veth: vec![Veth::new("eth0")],
            nic: vec![Nic::new("eth1", "lan1")],
            vlan: vec![Vlan::new("eth1.10", "eth1", 10)],
            route: vec![
                Route::via(RouteDest::Default, "198.18.0.1".parse().unwrap()),
                Route::dev(RouteDest::Prefix(net("198.18.9.0/24")), "eth0"),
            ],
            nat: vec![Nat::new(net("198.18.0.0/24"), "eth1")],
            ..Container::new(101, "a")
        });
        assert_eq!(t, from_file);
    }
}
