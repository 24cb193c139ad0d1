//! Embedding vnet in a program: build a topology in code (no file), validate it, compile
//! the plan that builds it in a sandbox and print the plan listing.
//!
//! One node `lab1` with bridge `br0` and three containers on it: `router` (forwarding,
//! 198.18.0.1) and two clients, `web` and `db`, whose default route goes through the
//! router. The CLI's tests include this file and check [`plan_listing`]. Run it with:
//!
//! ```text
//! cargo run -p vnet-cli --example embed
//! ```

use std::process::ExitCode;

use vnet_core::model::{
    Bridge, Container, Forwarding, Node, Route, RouteDest, Subnet, Topology, Veth,
};
use vnet_core::plan::{compile, listing, Scope};
use vnet_core::Diagnostics;

/// A container on `lab1` with one veth `eth0` into `br0` holding `address`, the host end
/// named `host_name`.
fn container(id: u32, name: &str, host_name: &str, address: &str) -> Container {
    Container {
        id,
        name: name.to_string(),
        hostname: Some(format!("{name}.lab.example")),
        ostemplate: None,
        config: None,
        onboot: Some(true),
        node: Some("lab1".to_string()),
        failover: Vec::new(),
        venet: None,
        forward: Forwarding::default(),
        veth: vec![Veth {
            name: "eth0".to_string(),
            // MACs left out are derived, stably, from the topology and element names.
            mac: None,
            mtu: None,
            addresses: vec![address.parse().expect("a literal CIDR")],
            host_name: Some(host_name.to_string()),
            host_mac: None,
            bridge: Some("br0".to_string()),
        }],
        nic: Vec::new(),
        vlan: Vec::new(),
        macvlan: Vec::new(),
        route: Vec::new(),
        nat: Vec::new(),
    }
}

/// The example topology, element by element.
fn topology() -> Topology {
    let mut t = Topology::new("embedded");
    t.node.push(Node {
        name: "lab1".to_string(),
        underlay: None,
    });
    t.bridge.push(Bridge {
        name: "br0".to_string(),
        mac: None,
        stp: false,
        mtu: None,
        addresses: Vec::new(),
        nodes: Some(vec!["lab1".to_string()]),
        ports: Vec::new(),
        stretch: None,
    });
    t.subnet.push(Subnet {
        cidr: "198.18.0.0/24".parse().expect("a literal CIDR"),
        gateway: Some("198.18.0.1".parse().expect("a literal address")),
        bridge: Some("br0".to_string()),
        lan: None,
        vlan: None,
    });

    let mut router = container(201, "router", "vr0", "198.18.0.1/24");
    router.forward = Forwarding {
        ipv4: true,
        ipv6: false,
    };
    t.ct.push(router);
    for (id, name, host) in [(202, "web", "vr1"), (203, "db", "vr2")] {
        let mut ct = container(id, name, host, &format!("198.18.0.{}/24", id - 200));
        ct.route.push(Route {
            to: RouteDest::Default,
            via: Some("198.18.0.1".parse().expect("a literal address")),
            dev: None,
            metric: None,
        });
        t.ct.push(ct);
    }
    t
}

/// Validates the topology and lists the plan that builds it in a sandbox with prefix
/// `embed`; the findings when it is not valid.
pub fn plan_listing() -> Result<String, Diagnostics> {
    let valid = vnet_core::validate(topology())?;
    let plan = compile(&valid, &Scope::Sandbox);
    Ok(listing::listing(&plan, &|ns| ns.sandbox_name("embed")))
}

fn main() -> ExitCode {
    match plan_listing() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            // A program building topologies gets the same findings `vnet check` prints.
            for d in &diagnostics.0 {
                eprintln!("{d}");
            }
            ExitCode::FAILURE
        }
    }
}
