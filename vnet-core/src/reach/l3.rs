//! A small L3 simulation: namespaces with addressed interfaces on L2 segments, routes,
//! forwarding, source NAT, port forwards and filters, as the topology describes them.
//!
//! A probe is a request and its reply. The request meets each namespace's firewall
//! ([`super::firewall`]) as a new connection; the namespaces it passed remember it (their
//! connection tracking), so the reply is accepted there as established and has its
//! addresses translated back.

use ipnetwork::IpNetwork;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::firewall::{Hook, Rules, L4};
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
    /// Port forwards and filter chains.
    pub(super) rules: Rules,
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
    /// Where the request is (or would be) delivered: the address probed, or the one a
    /// port forward rewrites it to.
    pub target: IpAddr,
    /// The destination port at `target` (TCP and UDP).
    pub port: Option<u16>,
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
        // Names in allow rules may be any namespace's: resolved once all are known.
        for ct in &topo.ct {
            let ns = NsRef::Ct(Name::from(&ct.name));
            let rules = Rules::of(ct, &hosts);
            if let Some(h) = hosts.get_mut(&ns) {
                h.rules = rules;
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

    /// The first namespace (in order) holding `addr`, on any segment.
    pub(super) fn holder(&self, addr: IpAddr) -> Option<&NsRef> {
        self.owners.get(&addr)?.iter().map(|(ns, _)| ns).min()
    }

    /// The source address `ns` would send to `dst` from, when it has a route.
    pub(super) fn source_towards(&self, ns: &NsRef, dst: IpAddr) -> Option<IpAddr> {
        let (iface, hop) = self.lookup(ns, dst)?;
        Self::source_for(iface, hop)
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

    /// Carries a packet from `from` (its originator) until a namespace accepts it as its
    /// own. A request meets port forwards and filters as a new connection and is
    /// remembered in `tracked` by every namespace it passes; a reply is let through where
    /// its request was seen and has the translations undone there.
    fn carry(
        &self,
        from: &NsRef,
        mut pkt: Packet,
        dir: Dir,
        tracked: &mut Vec<Tracked>,
    ) -> Result<Delivery, String> {
        let mut cur = from.clone();
        // The interface the packet came in on; none at its originator.
        let mut iif: Option<String> = None;
        let mut path = vec![cur.name().to_string()];
        for _ in 0..MAX_HOPS {
            let h = &self.hosts[&cur];
            let seen = tracked.iter().find(|t| t.ns == cur).cloned();
            let mut entry = Tracked {
                ns: cur.clone(),
                snat: None,
                dnat: None,
            };
            if let Some(iif) = &iif {
                match (dir, &seen) {
                    (Dir::Request, _) => {
                        if let Some((to, port)) = h.rules.dnat(iif, pkt.dst, pkt.l4) {
                            entry.dnat = Some((pkt.dst, to, port));
                            if let Some(last) = path.last_mut() {
                                last.push_str(&format!(" (forwards to {to}:{port})"));
                            }
                            pkt.dst = to;
                            pkt.l4.dport = Some(port);
                        }
                    }
                    // Masquerade undone on the way in (conntrack, before routing).
                    (
                        Dir::Reply,
                        Some(Tracked {
                            snat: Some((orig, new)),
                            ..
                        }),
                    ) if pkt.dst == *new => pkt.dst = *orig,
                    _ => {}
                }
            }
            let received = iif.is_some();
            let here = |hook| -> Result<(), String> {
                if !received {
                    return Ok(());
                }
                let admitted = match dir {
                    // A port forward's packet passes the forward chain (`ct status dnat`).
                    Dir::Request if hook == Hook::Forward && entry.dnat.is_some() => Ok(()),
                    // Established: the request passed here.
                    Dir::Reply if seen.is_some() => Ok(()),
                    _ => h.rules.judge(hook, pkt.src, pkt.dst, pkt.l4),
                };
                admitted.map_err(|why| format!("{}: {why}", cur.name()))
            };
            if self.is_local(&cur, pkt.dst) {
                here(Hook::Input)?;
                if dir == Dir::Request {
                    tracked.push(entry);
                }
                return Ok(Delivery { at: cur, pkt, path });
            }
            if received {
                let forwards = if pkt.dst.is_ipv4() {
                    h.forward_v4
                } else {
                    h.forward_v6
                };
                if !forwards {
                    return Err(format!(
                        "{} does not forward {}",
                        cur.name(),
                        family(pkt.dst)
                    ));
                }
            }
            let Some((iface, hop)) = self.lookup(&cur, pkt.dst) else {
                return Err(format!("{} has no route to {}", cur.name(), pkt.dst));
            };
            here(Hook::Forward)?;
            match dir {
                // Masquerade rewrites the source of new packets leaving through `out`.
                Dir::Request => {
                    if let Some(out_src) = h
                        .nat
                        .iter()
                        .find(|(prefix, out)| out == &iface.name && prefix.contains(pkt.src))
                        .and_then(|_| Self::source_for(iface, hop))
                    {
                        entry.snat = Some((pkt.src, out_src));
                        pkt.src = out_src;
                    }
                    tracked.push(entry);
                }
                // A port forward undone on the way out: the reply comes from the address
                // the request was sent to.
                Dir::Reply => {
                    if let Some((orig, new, _)) = seen.and_then(|t| t.dnat) {
                        if pkt.src == new {
                            pkt.src = orig;
                        }
                    }
                }
            }
            let Some(next) = self.owner_on(&iface.segment, hop) else {
                return Err(format!(
                    "{}: nothing answers for next hop {hop} on {}",
                    cur.name(),
                    iface.name
                ));
            };
            let next_ifaces = &self.hosts[next].ifaces;
            iif = next_ifaces
                .iter()
                .find(|i| i.segment == iface.segment && i.addresses.iter().any(|a| a.ip() == hop))
                .or_else(|| next_ifaces.iter().find(|i| i.segment == iface.segment))
                .map(|i| i.name.clone());
            cur = next.clone();
            path.push(cur.name().to_string());
        }
        Err(format!("routing loop towards {}", pkt.dst))
    }

    /// Simulates `ping dst` from `from`.
    pub fn ping(&self, from: &NsRef, dst: IpAddr) -> Outcome {
        self.send(from, dst, L4::ICMP)
    }

    /// Simulates a request from `from` to `dst` (an echo, or a connection to a TCP or UDP
    /// port) and its reply.
    pub(super) fn send(&self, from: &NsRef, dst: IpAddr, l4: L4) -> Outcome {
        let fail = |source, reason| Outcome {
            reachable: false,
            source,
            reason,
            target: dst,
            port: l4.dport,
        };
        let Some((iface, hop)) = self.lookup(from, dst) else {
            return fail(None, format!("{} has no route to {dst}", from.name()));
        };
        let Some(src) = Self::source_for(iface, hop) else {
            return fail(None, format!("{} has no source address", from.name()));
        };
        let mut tracked = Vec::new();
        let request = Packet { src, dst, l4 };
        let there = self.carry(from, request, Dir::Request, &mut tracked);
        // Where the request goes (or would have gone) after any port forward.
        let (target, port) = tracked
            .iter()
            .rev()
            .find_map(|t| t.dnat.map(|(_, to, port)| (to, Some(port))))
            .unwrap_or((dst, l4.dport));
        let outcome = |reachable, reason| Outcome {
            reachable,
            source: Some(src),
            reason,
            target,
            port,
        };
        let there = match there {
            Ok(d) => d,
            Err(why) => return outcome(false, why),
        };
        // The reply: from where the request arrived, to its (possibly translated) source;
        // its destination port is the requester's, which no rule can know.
        let reply = Packet {
            src: there.pkt.dst,
            dst: there.pkt.src,
            l4: L4 {
                proto: l4.proto,
                dport: None,
            },
        };
        match self.carry(&there.at, reply, Dir::Reply, &mut tracked) {
            Ok(d) if &d.at == from && d.pkt.src == dst => outcome(
                true,
                format!("{} ; back {}", there.path.join(" > "), d.path.join(" > ")),
            ),
            Ok(d) if &d.at == from => outcome(
                false,
                format!(
                    "the reply comes from {}, not {dst}: it bypasses the port forward",
                    d.pkt.src
                ),
            ),
            Ok(d) => outcome(false, format!("the reply to {src} ends at {}", d.at.name())),
            Err(why) => outcome(false, format!("no way back: {why}")),
        }
    }
}

/// A packet in flight.
#[derive(Debug, Clone, Copy)]
struct Packet {
    src: IpAddr,
    dst: IpAddr,
    l4: L4,
}

/// Whether a packet opens a connection or answers one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Reply,
}

/// What one namespace's connection tracking remembers of a request that passed it.
#[derive(Debug, Clone)]
struct Tracked {
    ns: NsRef,
    /// (original source, translated source) of a masquerade.
    snat: Option<(IpAddr, IpAddr)>,
    /// (original destination, translated destination, port) of a port forward.
    dnat: Option<(IpAddr, IpAddr, u16)>,
}

struct Delivery {
    at: NsRef,
    pkt: Packet,
    path: Vec<String>,
}

fn family(a: IpAddr) -> &'static str {
    if a.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}
