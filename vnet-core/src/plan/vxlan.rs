//! The VXLAN device that stretches a bridge on one node, derived from the topology alone:
//! the planner creates it, the shell backend's `vzctl` script and systemd-networkd files
//! write the same device.

use super::{LinkSpec, Name};
use crate::model::{Bridge, Topology};

/// The VXLAN device that stretches `bridge` on `node`: `vx-<bridge>` (see
/// [`Bridge::vxlan_name`]) on the node's underlay device, local end the node's underlay
/// address, the bridge's MTU (1500 when unset), one flooding entry per other node of the
/// bridge that has an underlay, sorted. `None` when the bridge is not stretched or the
/// node has no underlay. The topology need not be validated (the shell backend renders
/// raw ones in its injection tests); the bridge's nodes are its `nodes`, else all.
pub fn vxlan_device(t: &Topology, bridge: &Bridge, node: &str) -> Option<LinkSpec> {
    let (stretch, name) = (bridge.stretch.as_ref()?, bridge.vxlan_name()?);
    let underlay = |n: &str| {
        t.node
            .iter()
            .find(|x| x.name == n)
            .and_then(|x| x.underlay.as_ref())
    };
    let here = underlay(node)?;
    let on = |n: &str| {
        bridge
            .nodes
            .as_ref()
            .is_none_or(|ns| ns.iter().any(|x| x == n))
    };
    let mut remotes: Vec<std::net::IpAddr> = t
        .node
        .iter()
        .filter(|n| n.name != node && on(&n.name))
        .filter_map(|n| underlay(&n.name).map(|u| u.address.ip()))
        .collect();
    remotes.sort();
    Some(LinkSpec::Vxlan {
        name: Name::from(name),
        vni: stretch.vni,
        local: here.address.ip(),
        port: stretch.port(),
        dev: Some(Name::from(&here.dev)),
        mtu: Some(bridge.mtu.unwrap_or(super::desired::DEFAULT_MTU)),
        remotes,
    })
}
