//! `/etc/sysctl.d/90-vnet-<ct>.conf` inside a forwarding container, so forwarding comes
//! back when the container restarts.

use vnet_core::model::Container;

use super::{ct_root, one_line};
use crate::model::Model;
use crate::tree::{FileEntry, Tree};

/// The sysctl.d file of `ct`, when it forwards.
pub fn sysctl_ct(model: &Model, ct: &Container) -> Tree {
    let mut tree = Tree::default();
    if ct.forward.is_off() {
        return tree;
    }
    let mut text = format!(
        "# vnet: forwarding in container {} (topology {})\n",
        one_line(&ct.name),
        one_line(model.name())
    );
    if ct.forward.ipv4 {
        text.push_str("net.ipv4.ip_forward = 1\n");
    }
    if ct.forward.ipv6 {
        text.push_str("net.ipv6.conf.all.forwarding = 1\n");
    }
    tree.files.push(FileEntry::new(
        format!("{}/etc/sysctl.d/90-vnet-{}.conf", ct_root(ct), ct.name),
        text,
    ));
    tree
}
