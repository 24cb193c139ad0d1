//! Persistence files: what makes the network come back after a restart of a container,
//! of the vz service or of a node, and after a failover to another node.
//!
//! Each layer is a pure function of the topology and a node, returning a [`Tree`] of
//! paths relative to the node's root directory (see [`crate::tree::write_tree`]).
//! A container's own files live in its private area, `var/lib/vz/private/<ID>/` as in
//! the article (`Creating VE private area: /var/lib/vz/private/102`); the files of
//! every container that may run on the node (home or failover) are rendered there, the
//! same on each such node, so a container that fails over finds its configuration
//! (issue 7; `tests/per_node.rs` proves the identity).

mod etcnet;
mod networkd;
mod networkd_vxlan;
mod nft;
mod sysctl;
mod vz;

use vnet_core::model::Container;

use crate::model::Model;
use crate::tree::Tree;

pub use etcnet::{etcnet_ct, etcnet_node};
pub use networkd::networkd_node;
pub use nft::{firewall_etcnet, firewall_systemd, firewall_vz, RULESET_FILE};
pub use sysctl::sysctl_ct;
pub use vz::{vz_ct_conf, vznet_hook, HOOK_PATH};

/// A family of persistence files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// ALT Linux etcnet: `/etc/net/ifaces/*` in the containers and the node's bridges.
    Etcnet,
    /// vzctl: `/etc/vz/conf/<ID>.conf` network lines, `vznet.conf` and the hook.
    Vz,
    /// systemd-networkd on the node: the bridges and their ports (and, in each
    /// container with a firewall, the systemd unit that loads it).
    Networkd,
    /// `/etc/sysctl.d` inside forwarding containers.
    Sysctl,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 4] = [Layer::Etcnet, Layer::Vz, Layer::Networkd, Layer::Sysctl];
}

/// The files of `layers` for `node`.
pub fn render_persist(model: &Model, node: &str, layers: &[Layer]) -> Tree {
    let mut tree = Tree::default();
    for layer in layers {
        let part = match layer {
            Layer::Etcnet => {
                let mut t = etcnet_node(model, node);
                for ct in model.cts_on(node) {
                    t.extend(etcnet_ct(model, ct));
                    t.extend(firewall_etcnet(model, ct));
                }
                t
            }
            Layer::Vz => {
                let mut t = vznet_hook(model, node);
                for ct in model.cts_on(node) {
                    t.extend(vz_ct_conf(model, ct));
                    t.extend(firewall_vz(model, ct));
                }
                t
            }
            Layer::Networkd => {
                let mut t = networkd_node(model, node);
                for ct in model.cts_on(node) {
                    t.extend(firewall_systemd(model, ct));
                }
                t
            }
            Layer::Sysctl => {
                let mut t = Tree::default();
                for ct in model.cts_on(node) {
                    t.extend(sysctl_ct(model, ct));
                }
                t
            }
        };
        tree.extend(part);
    }
    tree
}

/// The container's root in the node's tree: its private area.
pub fn ct_root(ct: &Container) -> String {
    format!("var/lib/vz/private/{}", ct.id)
}

/// `text` fit for one line of a configuration file: control characters (a newline
/// above all, which would start a directive of its own) shown as `?`. Validation keeps
/// them out; this keeps unvalidated input from adding lines.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
