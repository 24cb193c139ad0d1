//! One container of an import: its veths to the node, NICs, VLAN links, routes,
//! forwarding and NAT, from its observed namespace.

use ipnetwork::IpNetwork;

use super::{Segment, Segments, Survey};
use crate::kind::DEFAULT_MTU;
use crate::model::{Container, Forwarding, Nat, Nic, Route, RouteDest, Veth, Vlan};
use crate::observed::{LinkKind, ObservedLink, ObservedNamespace};
use crate::plan::{NsRef, RouteSpec, Sysctl};

/// Container `name` (id `id`) as `o` shows it; `node` is the node's namespace.
pub(super) fn container(
    id: u32,
    name: &str,
    o: &ObservedNamespace,
    node: &ObservedNamespace,
    survey: &Survey,
    segments: &mut Segments,
    notes: &mut Vec<String>,
) -> Container {
    let mut c = Container {
        node: Some(survey.node.clone()),
        netns: survey.netns.get(name).cloned(),
        ..Container::new(id, name)
    };
    for (lname, l) in &o.links {
        let addresses: Vec<IpNetwork> = l.addresses.iter().copied().collect();
        match &l.kind {
            LinkKind::Loopback => {}
            LinkKind::Veth => {
                let key = (name.to_string(), lname.clone());
                let Some((host, h)) = survey
                    .cables
                    .get(&key)
                    .and_then(|h| node.links.get(h).map(|l| (h, l)))
                else {
                    notes.push(format!(
                        "ct {name}: veth {lname} has no end on the node (left out)"
                    ));
                    continue;
                };
                if let Some(b) = &h.master {
                    segments.add(&l.addresses, Segment::Bridge(b.clone()));
                }
                c.veth.push(Veth {
                    mac: l.mac,
                    mtu: mtu(l.mtu),
                    addresses,
                    host_name: Some(host.clone()),
                    host_mac: h.mac,
                    bridge: h.master.clone(),
                    ..Veth::new(lname)
                });
            }
            LinkKind::Vlan {
                parent: Some(parent),
                id: vid,
            } => {
                let on = o.links.get(parent).map(|p| segment_of(name, parent, p));
                if let Some(Some(seg)) = on {
                    segments.add(&l.addresses, seg);
                }
                c.vlan.push(Vlan {
                    mtu: mtu(l.mtu),
                    addresses,
                    ..Vlan::new(lname, parent, *vid)
                });
            }
            LinkKind::Other { .. } => {
                // A device that is neither made by vnet nor a veth: a NIC passed in, on
                // a LAN of its own (its hosts are not known here).
                let lan = lan_name(name, lname);
                segments.lan(&lan);
                segments.add(&l.addresses, Segment::Lan(lan.clone()));
                c.nic.push(Nic {
                    mac_follows_node: true,
                    addresses,
                    ..Nic::new(lname, lan)
                });
            }
            other => notes.push(format!(
                "ct {name}: link {lname} ({}) is not imported",
                other.describe()
            )),
        }
    }
    let routes = o.routes.iter().chain(o.foreign_routes.keys());
    c.route = routes.map(route).collect();
    let on = |s: Sysctl| o.sysctls.get(&s).is_some_and(|v| v == "1");
    c.forward = Forwarding {
        ipv4: on(Sysctl::Ipv4Forward),
        ipv6: on(Sysctl::Ipv6Forward),
    };
    let ns = NsRef::Ct(name.into());
    let rules = o
        .ruleset
        .iter()
        .flat_map(|r| &r.masquerade)
        .chain(survey.nat.get(&ns).into_iter().flatten());
    let mut nat: Vec<Nat> = rules.map(|r| Nat::new(r.source, r.out.as_str())).collect();
    nat.sort_by(|a, b| (a.source, &a.out).cmp(&(b.source, &b.out)));
    nat.dedup();
    c.nat = nat;
    c
}

/// The segment a VLAN link's addresses are on: its parent's (a NIC's LAN).
fn segment_of(ct: &str, parent: &str, p: &ObservedLink) -> Option<Segment> {
    match p.kind {
        LinkKind::Other { .. } => Some(Segment::Lan(lan_name(ct, parent))),
        _ => None,
    }
}

/// The LAN a NIC of container `ct` is plugged into: `<ct>-<nic>`.
fn lan_name(ct: &str, nic: &str) -> String {
    format!("{ct}-{nic}")
}

/// The MTU to write: none when it is the kernel's default.
pub(super) fn mtu(mtu: u32) -> Option<u32> {
    (mtu != DEFAULT_MTU && mtu != 0).then_some(mtu)
}

/// A route as a topology writes it: `default` for a `/0`, the device only when there is
/// no next hop (one with a next hop is on-link through it).
fn route(r: &RouteSpec) -> Route {
    Route {
        to: if r.dst.prefix() == 0 {
            RouteDest::Default
        } else {
            RouteDest::Prefix(r.dst)
        },
        via: r.via,
        dev: r
            .via
            .is_none()
            .then(|| r.dev.as_deref().map(str::to_string))
            .flatten(),
        metric: r.metric,
    }
}
