//! A router's firewall at boot: vnet's whole nftables table as a file inside the
//! container, `/etc/vnet/firewall.nft` (the same `nft -f` script the apply runs: create,
//! delete and fill `table inet vnet` in one transaction, so loading it twice is loading
//! it once), and what loads it in each dialect:
//!
//! - etcnet: `/etc/net/ifaces/lo/ifup-post` in the container, run when the network
//!   service brings `lo` up, before the other interfaces (so the router never forwards
//!   unfiltered);
//! - vz: `/etc/vz/conf/<ID>.start` on the node, which vzctl runs inside the container
//!   each time it starts;
//! - systemd (the networkd dialect): `vnet-firewall.service` in the container, a oneshot
//!   ordered before `network-pre.target` and pulled in by `sysinit.target` through a
//!   drop-in (no symlink to make).

use vnet_core::model::Container;
use vnet_core::plan::Ruleset;

use super::{ct_root, one_line};
use crate::model::Model;
use crate::tree::{FileEntry, Tree};

/// The ruleset file, inside the container.
pub const RULESET_FILE: &str = "/etc/vnet/firewall.nft";

/// The ruleset file of `ct` (in its private area) and the text that loads it, or `None`
/// when the container wants no table.
fn ruleset(model: &Model, ct: &Container) -> Option<(FileEntry, String)> {
    let r = Ruleset::from_model(model.topology(), ct)?;
    let text = format!(
        "#!/usr/sbin/nft -f\n# vnet: the firewall of container {} (topology {}): {}\n{}",
        one_line(&ct.name),
        one_line(model.name()),
        one_line(&r.summary()),
        r.load_script()
    );
    let file = FileEntry::new(format!("{}{RULESET_FILE}", ct_root(ct)), text);
    let load = format!(
        "#!/bin/sh\n# vnet: load the firewall of container {} (topology {})\nexec nft -f {RULESET_FILE}\n",
        one_line(&ct.name),
        one_line(model.name())
    );
    Some((file, load))
}

/// etcnet: the ruleset file and `lo`'s `ifup-post`, which loads it.
pub fn firewall_etcnet(model: &Model, ct: &Container) -> Tree {
    let mut tree = Tree::default();
    if let Some((file, load)) = ruleset(model, ct) {
        tree.files.push(file);
        tree.files.push(
            FileEntry::new(format!("{}/etc/net/ifaces/lo/ifup-post", ct_root(ct)), load)
                .with_mode(0o755),
        );
    }
    tree
}

/// vz: the ruleset file and `/etc/vz/conf/<ID>.start`, which vzctl runs in the
/// container when it starts.
pub fn firewall_vz(model: &Model, ct: &Container) -> Tree {
    let mut tree = Tree::default();
    if let Some((file, load)) = ruleset(model, ct) {
        tree.files.push(file);
        tree.files
            .push(FileEntry::new(format!("etc/vz/conf/{}.start", ct.id), load).with_mode(0o755));
    }
    tree
}

/// systemd: the ruleset file, `vnet-firewall.service` and the `sysinit.target` drop-in
/// that wants it.
pub fn firewall_systemd(model: &Model, ct: &Container) -> Tree {
    let mut tree = Tree::default();
    let Some((file, _)) = ruleset(model, ct) else {
        return tree;
    };
    tree.files.push(file);
    let dir = format!("{}/etc/systemd/system", ct_root(ct));
    let unit = format!(
        "# vnet: the firewall of container {} (topology {})\n\
         [Unit]\n\
         Description=vnet firewall (table inet vnet)\n\
         DefaultDependencies=no\n\
         After=local-fs.target\n\
         Before=network-pre.target sysinit.target\n\
         Wants=network-pre.target\n\n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/usr/sbin/nft -f {RULESET_FILE}\n",
        one_line(&ct.name),
        one_line(model.name())
    );
    tree.files
        .push(FileEntry::new(format!("{dir}/vnet-firewall.service"), unit));
    tree.files.push(FileEntry::new(
        format!("{dir}/sysinit.target.d/vnet-firewall.conf"),
        "# vnet: load the firewall at boot\n[Unit]\nWants=vnet-firewall.service\n",
    ));
    tree
}
