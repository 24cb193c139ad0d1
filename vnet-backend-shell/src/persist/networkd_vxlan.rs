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

use super::one_line;
use crate::model::Model;
use crate::tree::FileEntry;

const DIR: &str = "etc/systemd/network";

/// The files of every stretched bridge on `node` (none when the node has no underlay).
pub(super) fn files(model: &Model, node: &str, head: &str) -> Vec<FileEntry> {
    let t = model.topology();
    let Some(underlay) = t
        .node
        .iter()
        .find(|n| n.name == node)
        .and_then(|n| n.underlay.as_ref())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for b in t.bridge.iter().filter(|b| model.bridge_on(&b.name, node)) {
        let (Some(s), Some(vx)) = (&b.stretch, b.vxlan_name()) else {
            continue;
        };
        let netdev = format!(
            "{head}[NetDev]\nName={}\nKind=vxlan\nMTUBytes={}\n\n[VXLAN]\nVNI={}\nLocal={}\nDestinationPort={}\nMacLearning=yes\nIndependent=yes\n",
            one_line(&vx),
            b.mtu.unwrap_or(1500),
            s.vni,
            underlay.address.ip(),
            s.port(),
        );
        out.push(FileEntry::new(format!("{DIR}/50-vnet-{vx}.netdev"), netdev));
        let mut network = format!(
            "{head}[Match]\nName={}\n\n[Network]\nBridge={}\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n",
            one_line(&vx),
            one_line(&b.name)
        );
        let mut remotes: Vec<std::net::IpAddr> = t
            .node
            .iter()
            .filter(|n| n.name != node && model.bridge_on(&b.name, &n.name))
            .filter_map(|n| n.underlay.as_ref().map(|u| u.address.ip()))
            .collect();
        remotes.sort();
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
