//! A small L3 simulation: namespaces with addressed interfaces on L2 segments, routes,
//! forwarding and source NAT, as the topology describes them.

use ipnetwork::IpNetwork;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::model::{Route, RouteDest};
use crate::plan::{Name, NsRef};
use crate::ValidTopology;

/// An L2 segment: where frames from one interface reach another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Segment {
    /// A bridge (stretched over its nodes), optionally a VLAN on it.
    Bridge(String, Option<u16>),
    /// A physical LAN, optionally a VLAN on it.
    Lan(String, Option<u16>),
    /// An interface plugged into nothing.
    Isolated(NsRef, String),
}

#[derive(Debug, Clone)]
pub(super) struct Iface {
    pub(super) name: String,
    pub(super) segment: Segment,
    pub(super) addresses: Vec<IpNetwork>,
}

#[derive(Debug, Clone)]
pub(super) struct StaticRoute {
    pub(super) dst: IpNetwork,
    pub(super) via: Option<IpAddr>,
    pub(super) dev: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Host {
    pub(super) ifaces: Vec<Iface>,
    pub(super) routes: Vec<StaticRoute>,
    pub(super) forward_v4: bool,
    pub(super) forward_v6: bool,
    /// (source prefix, outgoing interface).
    pub(super) nat: Vec<(IpNetwork, String)>,
}

/// The topology's namespaces as an L3 network.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub(super) hosts: BTreeMap<NsRef, Host>,
    /// Who holds each address, on which segment: the next-hop lookup of every simulated
    /// hop, kept in an index so that simulating stays linear in the hops.
    owners: HashMap<IpAddr, Vec<(NsRef, Segment)>>,
}

/// The result of one simulated echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the reply comes back.
    pub reachable: bool,
    /// The source address of the request, when a route exists.
    pub source: Option<IpAddr>,
    /// The path, or where it breaks.
    pub reason: String,
}

const MAX_HOPS: usize = 32;

fn family_default(via: Option<IpAddr>) -> IpNetwork {
    match via {
        Some(IpAddr::V6(_)) => "::/0".parse().unwrap_or_else(|_| unreachable!()),
        _ => "0.0.0.0/0".parse().unwrap_or_else(|_| unreachable!()),
    }
}

fn static_routes(routes: &[Route]) -> Vec<StaticRoute> {
    routes
        .iter()
        .map(|r| StaticRoute {
            dst: match r.to {
                RouteDest::Default => family_default(r.via),
                RouteDest::Prefix(p) => p,
            },
            via: r.via,
            dev: r.dev.clone(),
        })
        .collect()
}

impl Network {
    /// Builds the network of a validated topology (containers on their home nodes; in
    /// L3 terms the node does not matter, a stretched bridge is one segment).
    pub fn from_topology(t: &ValidTopology) -> Network {
        let topo = t.topology();
        let mut hosts = BTreeMap::new();
        for ct in &topo.ct {
            let ns = NsRef::Ct(Name::from(&ct.name));
            let mut h = Host {
                forward_v4: ct.forward.ipv4,
                forward_v6: ct.forward.ipv6,
                routes: static_routes(&ct.route),
                nat: ct.nat.iter().map(|n| (n.source, n.out.clone())).collect(),
                ..Host::default()
            };
            let mut parents: BTreeMap<&str, Segment> = BTreeMap::new();
            for v in &ct.veth {
                let seg = match &v.bridge {
                    Some(b) => Segment::Bridge(b.clone(), None),
                    None => Segment::Isolated(ns.clone(), v.name.clone()),
                };
                parents.insert(&v.name, seg.clone());
                h.ifaces.push(Iface {
                    name: v.name.clone(),
                    segment: seg,
                    addresses: v.addresses.clone(),
                });
            }
            for n in &ct.nic {
                let seg = Segment::Lan(n.lan.clone(), None);
                parents.insert(&n.name, seg.clone());
                h.ifaces.push(Iface {
                    name: n.name.clone(),
                    segment: seg,
                    addresses: n.addresses.clone(),
                });
            }
            // In bridge mode a macvlan is on its parent's LAN (and reaches the other
            // macvlans of the parent directly; the parent itself has no address).
            for m in &ct.macvlan {
                h.ifaces.push(Iface {
                    name: m.name.clone(),
                    segment: Segment::Lan(m.lan.clone(), None),
                    addresses: m.addresses.clone(),
                });
            }
            for v in &ct.vlan {
                let seg = match parents.get(v.parent.as_str()) {
                    Some(Segment::Bridge(b, _)) => Segment::Bridge(b.clone(), Some(v.id)),
                    Some(Segment::Lan(l, _)) => Segment::Lan(l.clone(), Some(v.id)),
                    _ => Segment::Isolated(ns.clone(), v.name.clone()),
                };
                h.ifaces.push(Iface {
                    name: v.name.clone(),
                    segment: seg,
                    addresses: v.addresses.clone(),
                });
            }
            hosts.insert(ns, h);
        }
        for lan in &topo.lan {
            for host in &lan.host {
                let h = Host {
                    ifaces: vec![Iface {
                        name: "eth0".to_string(),
                        segment: Segment::Lan(lan.name.clone(), host.vlan),
                        addresses: host.addresses.clone(),
                    }],
                    routes: static_routes(&host.route),
                    ..Host::default()
                };
                hosts.insert(NsRef::Host(Name::from(&host.name)), h);
            }
        }
        for b in &topo.bridge {
            if b.addresses.is_empty() {
                continue;
            }
            for node in t.bridge_nodes(&b.name) {
                let h = hosts
                    .entry(NsRef::Node(Name::from(node)))
                    .or_insert_with(Host::default);
                h.ifaces.push(Iface {
                    name: b.name.clone(),
                    segment: Segment::Bridge(b.name.clone(), None),
                    addresses: b.addresses.clone(),
                });
            }
        }
        // A namespace without addresses can neither send nor answer a probe.
        hosts.retain(|_, h| h.ifaces.iter().any(|i| !i.addresses.is_empty()));
        let mut owners: HashMap<IpAddr, Vec<(NsRef, Segment)>> = HashMap::new();
        for (ns, h) in &hosts {
            for i in &h.ifaces {
                for a in &i.addresses {
                    owners
                        .entry(a.ip())
                        .or_default()
                        .push((ns.clone(), i.segment.clone()));
                }
            }
        }
        Network { hosts, owners }
    }

    /// Namespaces that have addresses, in order.
    pub fn namespaces(&self) -> impl Iterator<Item = &NsRef> {
        self.hosts.keys()
    }

    /// Every (namespace, address) pair, in order.
    pub fn addresses(&self) -> Vec<(NsRef, IpAddr)> {
        let mut out = Vec::new();
        for (ns, h) in &self.hosts {
            for i in &h.ifaces {
                for a in &i.addresses {
                    out.push((ns.clone(), a.ip()));
                }
            }
        }
        out
    }

    /// Whether `ns` has an address of `addr`'s family (it cannot send otherwise).
    pub fn has_family(&self, ns: &NsRef, addr: IpAddr) -> bool {
        self.hosts.get(ns).is_some_and(|h| {
            h.ifaces
                .iter()
                .flat_map(|i| &i.addresses)
                .any(|a| a.is_ipv4() == addr.is_ipv4())
        })
    }

    /// The first namespace (in order) holding `addr` on `segment`.
    fn owner_on(&self, segment: &Segment, addr: IpAddr) -> Option<&NsRef> {
        self.owners
            .get(&addr)?
            .iter()
            .filter(|(_, s)| s == segment)
            .map(|(ns, _)| ns)
            .min()
    }

    /// How many namespaces hold `addr`.
    pub(super) fn holders(&self, addr: IpAddr) -> usize {
        self.owners.get(&addr).map_or(0, |o| {
            let mut ns: Vec<&NsRef> = o.iter().map(|(n, _)| n).collect();
            ns.dedup();
            ns.len()
        })
    }

    fn is_local(&self, ns: &NsRef, addr: IpAddr) -> bool {
        self.hosts[ns]
            .ifaces
            .iter()
            .flat_map(|i| &i.addresses)
            .any(|a| a.ip() == addr)
    }

    /// The route lookup of `ns` for `dst`: (outgoing interface, next hop), longest prefix
    /// first, connected subnets before static routes of the same length (as the kernel's
    /// scope-link routes win over gateway routes of equal prefix).
    fn lookup(&self, ns: &NsRef, dst: IpAddr) -> Option<(&Iface, IpAddr)> {
        let h = &self.hosts[ns];
        // (prefix length, rank: connected 1 > static 0, interface, next hop)
        let mut candidates: Vec<(u8, u8, &Iface, IpAddr)> = Vec::new();
        for i in &h.ifaces {
            for a in &i.addresses {
                let net = IpNetwork::new(a.network(), a.prefix()).unwrap_or(*a);
                if net.contains(dst) {
                    candidates.push((a.prefix(), 1, i, dst));
                }
            }
        }
        for r in &h.routes {
            if !r.dst.contains(dst) || r.dst.is_ipv4() != dst.is_ipv4() {
                continue;
            }
            let iface = match (&r.via, &r.dev) {
                (_, Some(dev)) => h.ifaces.iter().find(|i| &i.name == dev),
                (Some(via), None) => h
                    .ifaces
                    .iter()
                    .find(|i| i.addresses.iter().any(|a| a.contains(*via))),
                (None, None) => None,
            };
            if let Some(i) = iface {
                candidates.push((r.dst.prefix(), 0, i, r.via.unwrap_or(dst)));
            }
        }
        candidates
            .into_iter()
            .rev()
            .max_by_key(|(len, rank, _, _)| (*len, *rank))
            .map(|(_, _, i, hop)| (i, hop))
    }

    fn source_for(iface: &Iface, hop: IpAddr) -> Option<IpAddr> {
        let same_family = iface
            .addresses
            .iter()
            .filter(|a| a.is_ipv4() == hop.is_ipv4());
        iface
            .addresses
            .iter()
            .find(|a| a.is_ipv4() == hop.is_ipv4() && a.contains(hop))
            .or_else(|| same_family.clone().next())
            .map(|a| a.ip())
    }

    /// Carries a packet from `ns` (its originator) to `dst`. Returns the namespace that
    /// accepts it, the source address as it arrives (after NAT), the NATing namespace if any,
    /// and the path taken.
    fn carry(
        &self,
        from: &NsRef,
        mut src: IpAddr,
        dst: IpAddr,
        originated: bool,
    ) -> Result<Delivery, String> {
        let mut cur = from.clone();
        let mut path = vec![cur.name().to_string()];
        let mut natted_by = None;
        for hop_count in 0..MAX_HOPS {
            if self.is_local(&cur, dst) {
                return Ok(Delivery {
                    at: cur,
                    src,
                    natted_by,
                    path,
                });
            }
            let h = &self.hosts[&cur];
            if hop_count > 0 || !originated {
                let forwards = if dst.is_ipv4() {
                    h.forward_v4
                } else {
                    h.forward_v6
                };
                if !forwards {
                    return Err(format!("{} does not forward {}", cur.name(), family(dst)));
                }
            }
            let Some((iface, hop)) = self.lookup(&cur, dst) else {
                return Err(format!("{} has no route to {dst}", cur.name()));
            };
            // Masquerade rewrites the source of packets leaving through `out`.
            if let Some(out_src) = h
                .nat
                .iter()
                .find(|(prefix, out)| out == &iface.name && prefix.contains(src))
                .and_then(|_| Self::source_for(iface, hop))
            {
                src = out_src;
                natted_by = Some(cur.clone());
            }
            let Some(next) = self.owner_on(&iface.segment, hop) else {
                return Err(format!(
                    "{}: nothing answers for next hop {hop} on {}",
                    cur.name(),
                    iface.name
                ));
            };
            cur = next.clone();
            path.push(cur.name().to_string());
        }
        Err(format!("routing loop towards {dst}"))
    }

    /// Simulates `ping dst` from `from`.
    pub fn ping(&self, from: &NsRef, dst: IpAddr) -> Outcome {
        let Some((iface, hop)) = self.lookup(from, dst) else {
            return Outcome {
                reachable: false,
                source: None,
                reason: format!("{} has no route to {dst}", from.name()),
            };
        };
        let Some(src) = Self::source_for(iface, hop) else {
            return Outcome {
                reachable: false,
                source: None,
                reason: format!("{} has no source address", from.name()),
            };
        };
        let there = match self.carry(from, src, dst, true) {
            Ok(d) => d,
            Err(why) => {
                return Outcome {
                    reachable: false,
                    source: Some(src),
                    reason: why,
                }
            }
        };
        // The reply: to the (possibly translated) source, then, when NATed, on from the
        // translating router to the original source (conntrack reverses the translation).
        let back =
            self.carry(&there.at, dst, there.src, true)
                .and_then(|d| match &there.natted_by {
                    Some(router) if &d.at == router => {
                        // The router forwards the de-NATed reply on to the original source.
                        self.carry(router, dst, src, false).map(|mut d2| {
                            let mut path = d.path.clone();
                            path.extend(d2.path.drain(1..));
                            Delivery { path, ..d2 }
                        })
                    }
                    _ => Ok(d),
                });
        match back {
            Ok(d) if &d.at == from => Outcome {
                reachable: true,
                source: Some(src),
                reason: format!("{} ; back {}", there.path.join(" > "), d.path.join(" > ")),
            },
            Ok(d) => Outcome {
                reachable: false,
                source: Some(src),
                reason: format!("the reply to {src} ends at {}", d.at.name()),
            },
            Err(why) => Outcome {
                reachable: false,
                source: Some(src),
                reason: format!("no way back: {why}"),
            },
        }
    }
}

struct Delivery {
    at: NsRef,
    src: IpAddr,
    natted_by: Option<NsRef>,
    path: Vec<String>,
}

fn family(a: IpAddr) -> &'static str {
    if a.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}
