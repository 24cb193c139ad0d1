//! systemd-networkd files of a bridge stretched across nodes: a `.netdev` of
//! `Kind=vxlan` for its VXLAN device and a `.network` that makes it a port of the bridge
//! with one all-zero `[BridgeFDB]` entry per other node (head-end replication), what
//! `ip link add ... type vxlan` and `bridge fdb append` do at run time.
//!
//! The device is `Independent=yes`: networkd otherwise creates a VXLAN device only when
//! the underlay's own `.network` names it (`VXLAN=`), and vnet does not write the
//! underlay's configuration (it is the machine's). The kernel then picks the underlay
//! by route to each remote, from the `Local=` address.

use std::fmt::Write;

use vnet_core::plan::LinkSpec;

use super::one_line;
use crate::model::Model;
use crate::tree::FileEntry;

const DIR: &str = "etc/systemd/network";

/// The files of every stretched bridge on `node` (none when the node has no underlay).
pub(super) fn files(model: &Model, node: &str, head: &str) -> Vec<FileEntry> {
    let mut out = Vec::new();
    for b in model
        .topology()
        .bridge
        .iter()
        .filter(|b| model.bridge_on(&b.name, node))
    {
        let Some(LinkSpec::Vxlan {
            name,
            vni,
            local,
            port,
            mtu,
            remotes,
            ..
        }) = model.vxlan(b, node)
        else {
            continue;
        };
        let vx = one_line(&name);
        let netdev = format!(
            "{head}[NetDev]\nName={vx}\nKind=vxlan\nMTUBytes={}\n\n[VXLAN]\nVNI={vni}\nLocal={local}\nDestinationPort={port}\nMacLearning=yes\nIndependent=yes\n",
            mtu.unwrap_or(1500),
        );
        out.push(FileEntry::new(format!("{DIR}/50-vnet-{vx}.netdev"), netdev));
        let mut network = format!(
            "{head}[Match]\nName={vx}\n\n[Network]\nBridge={}\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n",
            one_line(&b.name)
        );
        for r in remotes {
            let _ = write!(
                network,
                "\n[BridgeFDB]\nMACAddress=00:00:00:00:00:00\nDestination={r}\n"
            );
        }
        out.push(FileEntry::new(
            format!("{DIR}/60-vnet-{vx}.network"),
            network,
        ));
    }
    out
}
