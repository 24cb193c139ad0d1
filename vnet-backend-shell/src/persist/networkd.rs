//! systemd-networkd on the node: a `.netdev` per bridge (with its pinned MAC) and a
//! `.network` for the bridge and for each port and container host end that joins it.
//! networkd enslaves a host end whenever vzctl creates it, which is the vznet hook's
//! job done declaratively.

use std::fmt::Write;

use super::one_line;
use crate::model::Model;
use crate::tree::{FileEntry, Tree};

const DIR: &str = "etc/systemd/network";

/// The networkd files of `node`.
pub fn networkd_node(model: &Model, node: &str) -> Tree {
    let t = model.topology();
    let mut tree = Tree::default();
    let head = format!("# vnet: topology {}\n", one_line(&t.name));
    for b in t.bridge.iter().filter(|b| model.bridge_on(&b.name, node)) {
        let name = one_line(&b.name);
        let mut netdev = format!(
            "{head}[NetDev]\nName={name}\nKind=bridge\nMACAddress={}\n",
            model.bridge_mac(&b.name)
        );
        if let Some(m) = b.mtu {
            let _ = writeln!(netdev, "MTUBytes={m}");
        }
        let _ = write!(
            netdev,
            "\n[Bridge]\nSTP={}\n",
            if b.stp { "yes" } else { "no" }
        );
        tree.files.push(FileEntry::new(
            format!("{DIR}/50-vnet-{}.netdev", b.name),
            netdev,
        ));
        let mut network = format!(
            "{head}[Match]\nName={name}\n\n[Network]\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n"
        );
        for a in &b.addresses {
            let _ = writeln!(network, "Address={a}");
        }
        tree.files.push(FileEntry::new(
            format!("{DIR}/50-vnet-{}.network", b.name),
            network,
        ));
        for p in &b.ports {
            tree.files.push(port(&head, p, &b.name));
        }
    }
    for ct in model.cts_on(node) {
        for v in &ct.veth {
            if let Some(b) = v.bridge.as_ref().filter(|b| model.bridge_on(b, node)) {
                tree.files
                    .push(port(&head, &model.veth_host_name(ct, v), b));
            }
        }
    }
    tree.files
        .extend(super::networkd_vxlan::files(model, node, &head));
    tree.files.sort();
    tree.files.dedup_by(|a, b| a.path == b.path);
    tree
}

fn port(head: &str, link: &str, bridge: &str) -> FileEntry {
    FileEntry::new(
        format!("{DIR}/60-vnet-{link}.network"),
        format!(
            "{head}[Match]\nName={}\n\n[Network]\nBridge={}\nLinkLocalAddressing=no\n",
            one_line(link),
            one_line(bridge)
        ),
    )
}
