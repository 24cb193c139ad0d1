//! Equivalence classes of endpoints, so that `vnet verify` probes a number of pairs that
//! grows with the model's shapes rather than with the square of its namespaces.
//!
//! Two namespaces are alike when swapping them changes nothing the L3 simulation can
//! see: the same kind, forwarding, routes and NAT rules, and interfaces of the same names
//! on the same segments whose addresses fall in the same prefixes of the topology (every
//! connected subnet, route destination and NAT source) and are nobody's next hop. Then
//! `a -> b` behaves as `a' -> b'` for any other members `a' != b'` of the same classes, so
//! one probe per ordered class pair (and target address) stands for all of them. Every
//! endpoint is still probed once on its own (with a peer it must reach), which catches a
//! single namespace the kernel got wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::Serialize;

use super::l3::{Network, Segment};
use super::{Expectation, Flow};
use crate::plan::NsRef;
use crate::ValidTopology;

/// Why a probe is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Stands for every pair of its two classes (and target address).
    Class {
        /// The source's class (index into [`Plan::classes`]).
        from: usize,
        /// The target's class.
        to: usize,
    },
    /// Checks one endpoint on its own: it and its peer answer at all.
    Endpoint,
    /// One pair of the full matrix (`--pairs all`).
    Pair,
    /// A TCP or UDP flow a port forward or filter decides.
    Flow,
}

/// One probe of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// What to send and what the model expects.
    pub expectation: Expectation,
    /// How many (source, target address) pairs of the full matrix this probe's verdict
    /// stands for (0 for an endpoint check, whose pair a class probe already stands for).
    pub stands_for: usize,
    /// Why it is in the plan.
    pub role: Role,
}

/// What `vnet verify` sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The classes, each its members in order; the first is the representative source.
    pub classes: Vec<Vec<NsRef>>,
    /// The probes, class probes first.
    pub probes: Vec<Planned>,
    /// How many pairs the full matrix has.
    pub pairs: usize,
}

/// The namespaces of `net` grouped by behaviour, in order of their first member.
pub fn classes(net: &Network) -> Vec<Vec<NsRef>> {
    let prefixes = distinguishing_prefixes(net);
    let next_hops: BTreeSet<IpAddr> = net
        .hosts
        .values()
        .flat_map(|h| h.routes.iter().filter_map(|r| r.via))
        .collect();
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<Vec<NsRef>> = Vec::new();
    for ns in net.hosts.keys() {
        let key = key(net, ns, &prefixes, &next_hops);
        let k = *by_key.entry(key).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(ns.clone());
    }
    out
}

/// Every prefix a route lookup or NAT rule can tell addresses apart by.
fn distinguishing_prefixes(net: &Network) -> Vec<IpNetwork> {
    let mut set: BTreeSet<(bool, IpAddr, u8)> = BTreeSet::new();
    let mut add = |p: &IpNetwork| {
        set.insert((p.is_ipv4(), p.network(), p.prefix()));
    };
    for h in net.hosts.values() {
        h.ifaces
            .iter()
            .flat_map(|i| &i.addresses)
            .for_each(&mut add);
        h.routes.iter().for_each(|r| add(&r.dst));
        h.nat.iter().for_each(|(p, _)| add(p));
        h.rules.prefixes().iter().for_each(&mut add);
    }
    set.into_iter()
        .filter_map(|(_, ip, len)| IpNetwork::new(ip, len).ok())
        .collect()
}

/// The behaviour key of `ns`: everything the simulation sees except its name and exact
/// addresses.
fn key(net: &Network, ns: &NsRef, prefixes: &[IpNetwork], next_hops: &BTreeSet<IpAddr>) -> String {
    let h = &net.hosts[ns];
    let kind = match ns {
        NsRef::Node(_) => "node",
        NsRef::Ct(_) => "ct",
        NsRef::Lan(_) => "lan",
        NsRef::Host(_) => "host",
    };
    // An address held by several namespaces (a stretched bridge's) makes its holders
    // distinguishable by which one the lookup finds first: they stay alone.
    let shared = h
        .ifaces
        .iter()
        .flat_map(|i| &i.addresses)
        .any(|a| net.holders(a.ip()) > 1);
    let pinned = if shared {
        ns.to_string()
    } else {
        String::new()
    };
    let routes: Vec<String> = h
        .routes
        .iter()
        .map(|r| format!("{} {:?} {:?}", r.dst, r.via, r.dev))
        .collect();
    let ifaces: Vec<String> = h
        .ifaces
        .iter()
        .map(|i| {
            let segment = match &i.segment {
                Segment::Isolated(_, name) => format!("isolated {name}"),
                other => format!("{other:?}"),
            };
            let addresses: Vec<String> = i
                .addresses
                .iter()
                .map(|a| {
                    let inside: Vec<usize> = prefixes
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.is_ipv4() == a.is_ipv4() && p.contains(a.ip()))
                        .map(|(k, _)| k)
                        .collect();
                    format!(
                        "/{} in {inside:?} hop {}",
                        a.prefix(),
                        next_hops.contains(&a.ip())
                    )
                })
                .collect();
            format!("{} on {segment}: {}", i.name, addresses.join(", "))
        })
        .collect();
    format!(
        "{kind} {pinned} fwd {} {} routes {routes:?} nat {:?} ifaces {ifaces:?} rules {:?}",
        h.forward_v4, h.forward_v6, h.nat, h.rules
    )
}

/// The addresses of `ns`, in the simulation's order (a target's address "slots").
fn addresses_of(net: &Network, ns: &NsRef) -> Vec<IpAddr> {
    net.hosts[ns]
        .ifaces
        .iter()
        .flat_map(|i| &i.addresses)
        .map(|a| a.ip())
        .collect()
}

fn expectation(net: &Network, from: &NsRef, to_ns: &NsRef, to: IpAddr) -> Expectation {
    let o = net.ping(from, to);
    Expectation {
        from: from.clone(),
        source: o.source,
        to,
        to_ns: to_ns.clone(),
        reachable: o.reachable,
        reason: o.reason,
        flow: Flow::ICMP,
    }
}

/// Up to this many pairs, the default plan is the full matrix: probing them all costs
/// little and shows every cell.
pub const FULL_UP_TO: usize = 256;

/// Which endpoints a plan may probe: both ends of every probe pass it (on a real node,
/// the namespaces on that node).
pub type Here<'a> = &'a dyn Fn(&NsRef) -> bool;

/// The TCP/UDP flows of the firewall ([`super::services`]) whose source and target are
/// both `here`.
fn flows_among(net: &Network, here: Here) -> Vec<Planned> {
    super::services::planned(net)
        .into_iter()
        .filter(|p| here(&p.expectation.from) && here(&p.expectation.to_ns))
        .collect()
}

/// Every endpoint.
fn everywhere(_: &NsRef) -> bool {
    true
}

/// What `vnet verify` probes by default: the full matrix when it has at most
/// [`FULL_UP_TO`] pairs, else [`by_class`].
pub fn plan(t: &ValidTopology) -> Plan {
    plan_among(t, &everywhere)
}

/// [`plan`] over the pairs whose ends are both `here`.
pub fn plan_among(t: &ValidTopology, here: Here) -> Plan {
    let p = by_class_among(t, here);
    if p.pairs <= FULL_UP_TO {
        full_among(t, here)
    } else {
        p
    }
}

/// The probes that decide the whole matrix: one per ordered class pair and target
/// address, then one per endpoint not already in one of those (paired with a peer it
/// must reach, preferably one also still unprobed, so a probe checks two endpoints).
pub fn by_class(t: &ValidTopology) -> Plan {
    by_class_among(t, &everywhere)
}

/// [`by_class`] over the endpoints `here`: each class keeps its members that are here
/// (alike endpoints stay alike in any subset), classes with none are left out.
pub fn by_class_among(t: &ValidTopology, here: Here) -> Plan {
    let net = Network::from_topology(t);
    let classes: Vec<Vec<NsRef>> = classes(&net)
        .into_iter()
        .map(|c| c.into_iter().filter(|ns| here(ns)).collect::<Vec<_>>())
        .filter(|c| !c.is_empty())
        .collect();
    let mut probes = Vec::new();
    let mut pairs = 0;
    let mut covered: BTreeSet<NsRef> = BTreeSet::new();
    for (ci, from_class) in classes.iter().enumerate() {
        for (cj, to_class) in classes.iter().enumerate() {
            let from = &from_class[0];
            let to_ns = if ci == cj {
                match to_class.get(1) {
                    Some(second) => second,
                    None => continue,
                }
            } else {
                &to_class[0]
            };
            let members = if ci == cj {
                from_class.len() * (to_class.len() - 1)
            } else {
                from_class.len() * to_class.len()
            };
            for to in addresses_of(&net, to_ns) {
                if !net.has_family(from, to) {
                    continue;
                }
                pairs += members;
                covered.insert(from.clone());
                covered.insert(to_ns.clone());
                probes.push(Planned {
                    expectation: expectation(&net, from, to_ns, to),
                    stands_for: members,
                    role: Role::Class { from: ci, to: cj },
                });
            }
        }
    }
    probes.extend(endpoint_probes(&net, here, &mut covered));
    probes.extend(flows_among(&net, here));
    Plan {
        classes,
        probes,
        pairs,
    }
}

/// How many peers an unprobed endpoint tries before it settles for any peer.
const PEER_TRIES: usize = 4;

/// One probe for each endpoint `here` not yet `covered`: to a peer here on one of its
/// segments that it must reach, an unprobed one if possible.
fn endpoint_probes(net: &Network, here: Here, covered: &mut BTreeSet<NsRef>) -> Vec<Planned> {
    let mut on_segment: BTreeMap<&Segment, Vec<(&NsRef, IpAddr)>> = BTreeMap::new();
    for (ns, h) in net.hosts.iter().filter(|(ns, _)| here(ns)) {
        for i in &h.ifaces {
            for a in &i.addresses {
                on_segment.entry(&i.segment).or_default().push((ns, a.ip()));
            }
        }
    }
    // Per segment, where the search for an unprobed peer resumes (all before are probed).
    let mut cursor: BTreeMap<&Segment, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (ns, h) in net.hosts.iter().filter(|(ns, _)| here(ns)) {
        if covered.contains(ns) {
            continue;
        }
        let mut found = None;
        'segments: for i in &h.ifaces {
            let Some(peers) = on_segment.get(&i.segment) else {
                continue;
            };
            let start = cursor.entry(&i.segment).or_insert(0);
            while *start < peers.len() && covered.contains(peers[*start].0) {
                *start += 1;
            }
            let fresh = peers[*start..]
                .iter()
                .filter(|(p, _)| *p != ns && !covered.contains(*p))
                .take(PEER_TRIES);
            // Then any peer, the segment's first ones (a gateway is usually there).
            let any = peers.iter().filter(|(p, _)| *p != ns).take(PEER_TRIES);
            for (peer, to) in fresh.chain(any) {
                if !net.has_family(ns, *to) {
                    continue;
                }
                let e = expectation(net, ns, peer, *to);
                if e.reachable {
                    found = Some(e);
                    break 'segments;
                }
            }
        }
        if let Some(e) = found {
            covered.insert(e.from.clone());
            covered.insert(e.to_ns.clone());
            out.push(Planned {
                expectation: e,
                stands_for: 0,
                role: Role::Endpoint,
            });
        }
    }
    out
}

/// The full matrix as a plan: every pair its own probe.
pub fn full(t: &ValidTopology) -> Plan {
    full_among(t, &everywhere)
}

/// [`full`] over the pairs whose ends are both `here`.
pub fn full_among(t: &ValidTopology, here: Here) -> Plan {
    let net = Network::from_topology(t);
    let mut probes: Vec<Planned> = super::expectations_among(t, here)
        .into_iter()
        .map(|e| Planned {
            expectation: e,
            stands_for: 1,
            role: Role::Pair,
        })
        .collect();
    let pairs = probes.len();
    probes.extend(flows_among(&net, here));
    Plan {
        classes: classes(&net)
            .into_iter()
            .map(|c| c.into_iter().filter(|ns| here(ns)).collect::<Vec<_>>())
            .filter(|c| !c.is_empty())
            .collect(),
        pairs,
        probes,
    }
}

/// How many pairs of the full matrix have an end that is not `here` (a plan among
/// `here` cannot stand for them).
pub fn pairs_elsewhere(t: &ValidTopology, here: Here) -> usize {
    let net = Network::from_topology(t);
    let addresses = net.addresses();
    net.namespaces()
        .map(|from| {
            addresses
                .iter()
                .filter(|(to_ns, to)| {
                    to_ns != from && (!here(from) || !here(to_ns)) && net.has_family(from, *to)
                })
                .count()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{large, LargeParams};

    /// On a real node only some endpoints are here: the plan among them probes only
    /// pairs of theirs, its class probes stand for exactly their pairs, and the pairs
    /// left out are the rest of the full matrix.
    #[test]
    fn a_plan_among_some_endpoints_stands_for_exactly_their_pairs() {
        let t = crate::validate(large(&LargeParams::new(40))).unwrap();
        let away = |ns: &NsRef| matches!(ns, NsRef::Host(_)) || ns.to_string().ends_with('7');
        let here = |ns: &NsRef| !away(ns);
        let local = full_among(&t, &here);
        assert!(local
            .probes
            .iter()
            .all(|p| { here(&p.expectation.from) && here(&p.expectation.to_ns) }));
        let p = by_class_among(&t, &here);
        assert!(p.pairs > FULL_UP_TO, "{} pairs: classes are used", p.pairs);
        assert!(p
            .probes
            .iter()
            .all(|x| here(&x.expectation.from) && here(&x.expectation.to_ns)));
        let stands: usize = p.probes.iter().map(|x| x.stands_for).sum();
        assert_eq!((stands, p.pairs), (local.pairs, local.pairs));
        assert_eq!(
            pairs_elsewhere(&t, &here) + local.pairs,
            full(&t).pairs,
            "every pair is probed here or counted as elsewhere"
        );
        assert!(pairs_elsewhere(&t, &here) > 0);
        // Every endpoint here is probed at least once.
        let probed: BTreeSet<&NsRef> = p
            .probes
            .iter()
            .flat_map(|x| [&x.expectation.from, &x.expectation.to_ns])
            .collect();
        let net = Network::from_topology(&t);
        assert!(net
            .namespaces()
            .filter(|ns| here(ns))
            .all(|ns| probed.contains(ns)));
    }
}
