//! The state a topology should produce ([`expected_state`]) and the state a plan starts
//! from when nothing was observed ([`pristine_state`]), in the normalization of
//! [`ObservedState`]:
//!
//! - every namespace holds `lo` (kind `Loopback`, no MAC, MTU 65536, up; in a namespace
//!   vnet created it carries the topology's mark);
//! - links vnet creates or passes in carry the mark `Some(topology)`;
//! - `sysctls` holds the forwarding switches of the namespaces whose forwarding vnet
//!   manages (all in the sandbox, the containers' on a real node) and `disable_ipv6` of
//!   every link but `lo` and a device of the node enslaved to a bridge (whose IPv6 is the
//!   machine's);
//! - a link whose expected `mac` is `None`, other than `lo`, keeps whatever MAC it has
//!   (a real NIC passed in without a `mac`, a device of the node enslaved to a bridge);
//! - a link whose expected `mtu` is 0 keeps whatever MTU it has (a real NIC passed in
//!   without an `mtu`, a VLAN link on it without its own, a device of the node enslaved
//!   to a bridge): the machine's, which vnet neither sets nor knows.

use std::collections::BTreeMap;

use super::desired::{Desired, DesiredLink, Unit, LOOPBACK_MTU, SYSCTL_DEFAULT};
use super::{Name, NsRef, Scope, Sysctl};
use crate::kind::DEFAULT_MTU;
use crate::model::Mac;
use crate::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use crate::resolve::{derive_mac, MacKey};
use crate::ValidTopology;

/// The state `t` should produce in `scope`.
///
/// In [`Scope::Sandbox`] every namespace is vnet's (marked, `lo` marked); in
/// [`Scope::Node`] the node's and its containers' namespaces are the machine's, and only
/// the links vnet creates or passes in are marked.
pub fn expected_state(t: &ValidTopology, scope: &Scope) -> ObservedState {
    let d = Desired::build(t, scope);
    let owner = Some(t.name().to_string());
    let ns_owner = if d.sandbox { owner.clone() } else { None };
    let mut out = ObservedState::empty();
    for (ns, dns) in &d.namespaces {
        let mut o = base_namespace(ns_owner.clone());
        o.sysctls
            .extend(dns.sysctls.iter().map(|(k, v)| (k.clone(), v.to_string())));
        for (name, l) in &dns.links {
            o.links
                .insert(name.to_string(), observed_link(l, owner.clone()));
            o.sysctls.insert(
                Sysctl::DisableIpv6(name.clone()),
                l.disable_ipv6().to_string(),
            );
        }
        // The node's own devices enslaved to vnet's bridges stay the machine's.
        // Their MAC, MTU and IPv6 are the machine's: no expectation (see the module docs).
        for (port, bridge) in &dns.ports {
            let l = ObservedLink {
                mac: None,
                mtu: 0,
                master: Some(bridge.to_string()),
                ..node_port(Mac::new(0, 0, 0, 0, 0, 0))
            };
            o.links.insert(port.to_string(), l);
        }
        o.routes = dns.routes.clone();
        o.ruleset = dns.ruleset.clone();
        out.namespaces.insert(ns.clone(), o);
    }
    out
}

/// The state a plan for `t` in `scope` starts from when nothing was observed; what
/// [`super::compile`] diffs against.
///
/// In the sandbox nothing exists. On a real node the node's and the containers'
/// namespaces exist, empty but for `lo` (not vnet's; down in a container's, as a
/// runtime's `ip netns add` leaves it, up in the node's), the containers' forwarding off,
/// each NIC to pass in sits in the node's namespace, down, MTU 1500, unmarked, with the
/// MAC [`placeholder_nic_mac`] (the hardware's MAC is only known once observed), and
/// each device a bridge enslaves (`bridge.ports`) is there too, up and in no bridge.
pub fn pristine_state(t: &ValidTopology, scope: &Scope) -> ObservedState {
    let mut out = ObservedState::empty();
    // Checked before building the desired state: `compile` of a sandbox would otherwise
    // build it twice (a sixth of its time) only to return nothing here.
    if matches!(scope, Scope::Sandbox) {
        return out;
    }
    let d = Desired::build(t, scope);
    for (ns, dns) in &d.namespaces {
        let mut o = base_namespace(None);
        if matches!(ns, NsRef::Ct(_)) {
            for key in dns.sysctls.keys() {
                o.sysctls.insert(key.clone(), SYSCTL_DEFAULT.to_string());
            }
            // As `ip netns add` and LXC leave it: the plan brings it up.
            if let Some(lo) = o.links.get_mut("lo") {
                lo.up = false;
            }
        }
        out.namespaces.insert(ns.clone(), o);
    }
    for unit in &d.units {
        if let Unit::Move(m) = unit {
            let mac = placeholder_nic_mac(t, &m.to, &m.new_name);
            let node = out.namespaces.entry(m.from.clone()).or_default();
            node.links.insert(m.name.to_string(), physical_nic(mac));
            node.sysctls.insert(
                Sysctl::DisableIpv6(m.name.clone()),
                SYSCTL_DEFAULT.to_string(),
            );
        }
    }
    // The node's devices its bridges enslave, up and in no bridge.
    for (ns, dns) in &d.namespaces {
        for port in dns.ports.keys() {
            let node = out.namespaces.entry(ns.clone()).or_default();
            node.links.insert(
                port.to_string(),
                node_port(placeholder_nic_mac(t, ns, port)),
            );
            node.sysctls.insert(
                Sysctl::DisableIpv6(port.clone()),
                SYSCTL_DEFAULT.to_string(),
            );
        }
    }
    // The node's underlay device is the machine's: VXLAN devices are created on it.
    for n in &t.topology().node {
        let (Some(u), Some(node)) = (
            &n.underlay,
            out.namespaces.get_mut(&NsRef::Node(Name::from(&n.name))),
        ) else {
            continue;
        };
        let mut link = physical_nic(placeholder_nic_mac(
            t,
            &NsRef::Node(Name::from(&n.name)),
            &u.dev,
        ));
        link.mtu = u.mtu();
        link.up = true;
        node.links.insert(u.dev.clone(), link);
        node.sysctls.insert(
            Sysctl::DisableIpv6(Name::from(&u.dev)),
            SYSCTL_DEFAULT.to_string(),
        );
    }
    out
}

/// The MAC [`pristine_state`] assumes a real NIC has before it is passed into container
/// `ct` as `name`: derived like vnet's own MACs, so it is stable and clashes with none
/// of the topology's. It is a stand-in for the unknown hardware MAC: a plan computed by
/// `diff` from an observed state records the real one.
pub fn placeholder_nic_mac(t: &ValidTopology, ct: &NsRef, name: &str) -> Mac {
    let id = t
        .topology()
        .ct_by_name(ct.name())
        .map(|c| c.id)
        .unwrap_or_default();
    let used: Vec<Mac> = t.resolved().macs.values().copied().collect();
    (u32::MAX / 2..)
        .map(|attempt| {
            derive_mac(
                t.name(),
                &MacKey::Nic {
                    ct: id,
                    name: format!("{name}@hardware"),
                },
                attempt,
            )
        })
        .find(|m| !used.contains(m))
        .unwrap_or_else(|| unreachable!("2^46 MACs cannot all be used"))
}

/// A real NIC as [`pristine_state`] assumes it.
pub(crate) fn physical_nic(mac: Mac) -> ObservedLink {
    ObservedLink {
        kind: LinkKind::Other {
            kind: String::new(),
        },
        mac: Some(mac),
        mtu: DEFAULT_MTU,
        up: false,
        master: None,
        owner: None,
        addresses: Default::default(),
    }
}

/// A device of a real node that a bridge enslaves, as [`pristine_state`] assumes it: a
/// NIC in use (up), in no bridge.
pub(crate) fn node_port(mac: Mac) -> ObservedLink {
    ObservedLink {
        up: true,
        ..physical_nic(mac)
    }
}

/// A namespace holding only `lo`, up, with `owner`'s mark.
pub(crate) fn base_namespace(owner: Option<String>) -> ObservedNamespace {
    let mut links = BTreeMap::new();
    links.insert("lo".to_string(), loopback(owner.clone()));
    ObservedNamespace {
        owner,
        links,
        ..Default::default()
    }
}

/// `lo` as every namespace has it.
pub(crate) fn loopback(owner: Option<String>) -> ObservedLink {
    ObservedLink {
        kind: LinkKind::Loopback,
        mac: None,
        mtu: LOOPBACK_MTU,
        up: true,
        master: None,
        owner,
        addresses: Default::default(),
    }
}

fn observed_link(l: &DesiredLink, owner: Option<String>) -> ObservedLink {
    ObservedLink {
        kind: l.kind.clone(),
        mac: l.mac,
        mtu: if l.manage_mtu { l.mtu } else { 0 },
        up: true,
        master: l.master.as_ref().map(Name::to_string),
        owner,
        addresses: l.addresses.clone(),
    }
}
