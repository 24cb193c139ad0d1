//! VXLAN devices: the tunnel end that stretches a bridge on one node, derived from the
//! topology alone (the planner creates it, the shell backend's `vzctl` script and
//! systemd-networkd files write the same device).

use std::net::IpAddr;

use super::{mtu_birth, Birth, End, LinkSpec, DEFAULT_MTU};
use crate::model::{Bridge, Topology};
use crate::observed::LinkKind;
use crate::plan::{Name, NsRef};

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
    let mut remotes: Vec<IpAddr> = t
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
        mtu: Some(bridge.mtu.unwrap_or(DEFAULT_MTU)),
        remotes,
    })
}

/// The kind a VXLAN device is observed as.
pub(super) fn kind(
    vni: u32,
    local: IpAddr,
    port: u16,
    dev: &Option<Name>,
    remotes: &[IpAddr],
) -> LinkKind {
    LinkKind::Vxlan {
        vni,
        local: Some(local),
        port,
        dev: dev.as_ref().map(Name::to_string),
        remotes: remotes.to_vec(),
    }
}

/// The device: a random MAC (nothing addresses the device itself, vnet leaves it), the
/// default MTU unless given, on its underlay device when named.
pub(super) fn end<'a>(
    ns: &'a NsRef,
    name: &'a str,
    dev: Option<&'a str>,
    mtu: Option<u32>,
    kind: LinkKind,
) -> End<'a> {
    End {
        ns,
        name,
        kind,
        mac: Birth::Kernel,
        mtu: mtu_birth(mtu, Birth::Kernel),
        lower: dev.map(|d| (ns, d)),
    }
}

/// `VXLAN VNI link NAME from LOCAL to [REMOTES]`.
pub(super) fn describe(name: &str, vni: u32, local: &IpAddr, remotes: &[IpAddr]) -> String {
    let to: Vec<String> = remotes.iter().map(ToString::to_string).collect();
    format!(
        "VXLAN {vni} link {name} from {local} to [{}]",
        to.join(", ")
    )
}

/// `link add NAME [mtu N] type vxlan id VNI local LOCAL dstport PORT [dev DEV]`.
pub(super) fn ip_link_add(
    name: &str,
    vni: u32,
    local: &IpAddr,
    port: u16,
    dev: &Option<Name>,
    mtu: Option<u32>,
) -> Vec<String> {
    let mut add: Vec<String> = vec!["link".into(), "add".into(), name.to_string()];
    if let Some(m) = mtu {
        add.extend(["mtu".into(), m.to_string()]);
    }
    // Learning stays on (iproute2's default): frames from a remote teach the bridge
    // which node a MAC is behind, so only floods go to every remote.
    add.extend(["type".into(), "vxlan".into(), "id".into(), vni.to_string()]);
    add.extend(["local".into(), local.to_string()]);
    add.extend(["dstport".into(), port.to_string()]);
    if let Some(dev) = dev {
        add.extend(["dev".into(), dev.to_string()]);
    }
    add
}

/// An observed VXLAN device, as a spec that deletes it (and recreates it); an unset
/// local address is spelled `0.0.0.0`.
pub(super) fn from_observed(
    name: &str,
    vni: u32,
    local: Option<IpAddr>,
    port: u16,
    dev: &Option<String>,
    remotes: &[IpAddr],
    mtu: u32,
) -> LinkSpec {
    LinkSpec::Vxlan {
        name: Name::from(name),
        vni,
        local: local.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        port,
        dev: dev.as_deref().map(Name::from),
        mtu: Some(mtu),
        remotes: remotes.to_vec(),
    }
}
