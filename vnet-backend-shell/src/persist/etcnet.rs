//! etcnet (ALT Linux): `/etc/net/ifaces/<if>/{options,ipv4address,ipv4route,...}`
//! inside each container, exactly as the article writes them, and the node's bridges
//! (`TYPE=bri`, `iplink` with the pinned MAC, `brctl` with STP).

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use vnet_core::model::{Container, Route};
use vnet_core::plan::RouteSpec;

use super::{ct_root, one_line};
use crate::model::Model;
use crate::quote::quote;
use crate::tree::{FileEntry, Tree};

const STATIC_ETH: &str = "BOOTPROTO=static\nONBOOT=yes\nTYPE=eth\n";

/// etcnet files inside container `ct` (in its private area), and the removal of its
/// venet0 config when venet is off (the article's fix for venet's default route).
pub fn etcnet_ct(_model: &Model, ct: &Container) -> Tree {
    let root = format!("{}/etc/net/ifaces", ct_root(ct));
    let mut tree = Tree::default();
    let mut ifaces: Vec<(&str, Vec<IpNetwork>, String)> = Vec::new();
    for v in &ct.veth {
        ifaces.push((&v.name, v.addresses.clone(), STATIC_ETH.to_string()));
    }
    for n in &ct.nic {
        ifaces.push((&n.name, n.addresses.clone(), STATIC_ETH.to_string()));
    }
    for vl in &ct.vlan {
        let options = format!(
            "BOOTPROTO=static\nONBOOT=yes\nTYPE=vlan\nHOST={}\nVID={}\n",
            quote(&one_line(&vl.parent)),
            vl.id
        );
        ifaces.push((&vl.name, vl.addresses.clone(), options));
    }
    let names: Vec<&str> = ifaces.iter().map(|(n, _, _)| *n).collect();
    for (name, addrs, options) in &ifaces {
        let dir = format!("{root}/{name}");
        tree.files
            .push(FileEntry::new(format!("{dir}/options"), options.clone()));
        for (file, v6) in [("ipv4address", false), ("ipv6address", true)] {
            let lines: String = addrs
                .iter()
                .filter(|a| a.is_ipv6() == v6)
                .map(|a| format!("{a}\n"))
                .collect();
            if !lines.is_empty() {
                tree.files
                    .push(FileEntry::new(format!("{dir}/{file}"), lines));
            }
        }
        for (file, v6) in [("ipv4route", false), ("ipv6route", true)] {
            let lines: String = ct
                .route
                .iter()
                .filter(|r| route_iface(ct, r, &ifaces, &names) == *name)
                .map(RouteSpec::of)
                .filter(|r| r.dst.is_ipv6() == v6)
                .map(|r| {
                    let dst = if r.dst.prefix() == 0 {
                        "default".to_string()
                    } else {
                        r.dst.to_string()
                    };
                    let mut line = dst;
                    if let Some(via) = r.via {
                        line.push_str(&format!(" via {via}"));
                    }
                    line.push_str(&format!(" dev {}", one_line(name)));
                    if let Some(m) = r.metric {
                        line.push_str(&format!(" metric {m}"));
                    }
                    line.push('\n');
                    line
                })
                .collect();
            if !lines.is_empty() {
                tree.files
                    .push(FileEntry::new(format!("{dir}/{file}"), lines));
            }
        }
    }
    if !ct.venet.as_ref().is_some_and(|v| v.is_on()) {
        tree.remove.push(format!("{root}/venet0"));
    }
    tree.files.sort();
    tree
}

/// The interface a route leaves by: its `dev`, else the one whose subnet holds the next
/// hop, else the container's first interface.
fn route_iface<'a>(
    _ct: &Container,
    r: &'a Route,
    ifaces: &[(&'a str, Vec<IpNetwork>, String)],
    names: &[&'a str],
) -> &'a str {
    if let Some(dev) = &r.dev {
        return dev;
    }
    let on_link = |via: IpAddr| {
        ifaces
            .iter()
            .find(|(_, addrs, _)| addrs.iter().any(|a| a.contains(via)))
            .map(|(n, _, _)| *n)
    };
    r.via
        .and_then(on_link)
        .or_else(|| names.first().copied())
        .unwrap_or("eth0")
}

/// etcnet files of the node's bridges: `options` (`TYPE=bri`, ports in `HOST`),
/// `iplink` (the pinned MAC), `brctl` (STP), `ipv4address` (the node's own addresses).
///
/// etcnet has no VXLAN interface type, so a bridge stretched across nodes comes back
/// at boot without its tunnel: the tree carries a warning naming the bridge and the
/// device (the networkd dialect renders both).
pub fn etcnet_node(model: &Model, node: &str) -> Tree {
    let mut tree = Tree::default();
    for b in model
        .topology()
        .bridge
        .iter()
        .filter(|b| model.bridge_on(&b.name, node))
    {
        if let Some(vx) = model.vxlan(b, node) {
            tree.warnings.push(format!(
                "bridge {} is stretched across nodes, and etcnet has no VXLAN type: these \
                 files do not create its tunnel {} at boot (the networkd dialect does)",
                one_line(&b.name),
                one_line(vx.name())
            ));
        }
        let dir = format!("etc/net/ifaces/{}", b.name);
        let mut options = "TYPE=bri\nBOOTPROTO=static\nONBOOT=yes\n".to_string();
        if !b.ports.is_empty() {
            let ports: Vec<String> = b.ports.iter().map(|p| one_line(p)).collect();
            options.push_str(&format!("HOST={}\n", quote(&ports.join(" "))));
        }
        tree.files
            .push(FileEntry::new(format!("{dir}/options"), options));
        tree.files.push(FileEntry::new(
            format!("{dir}/iplink"),
            format!("address {}\n", model.bridge_mac(&b.name)),
        ));
        tree.files.push(FileEntry::new(
            format!("{dir}/brctl"),
            format!("stp AUTO {}\n", if b.stp { "on" } else { "off" }),
        ));
        let v4: String = b
            .addresses
            .iter()
            .filter(|a| a.is_ipv4())
            .map(|a| format!("{a}\n"))
            .collect();
        if !v4.is_empty() {
            tree.files
                .push(FileEntry::new(format!("{dir}/ipv4address"), v4));
        }
    }
    tree.files.sort();
    tree
}
