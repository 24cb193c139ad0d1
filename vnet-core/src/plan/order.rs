//! Ordering: the actions of a plan as a petgraph DAG of "needs" edges, sorted into
//! [`Step`]s with their `after` ids and stages.
//!
//! Additions need what they build on: a namespace comes before anything in it and before
//! a veth whose peer lands in it; a link before its sysctls, MAC, MTU, addresses, up,
//! master and VLAN children; a bridge before its ports; `disable_ipv6` before the link
//! goes up; a link's MTU before a VLAN on it; addresses and up before the routes via
//! them; the moved NIC before anything on it in the container; forwarding after the
//! namespace's addresses, links and routes (a router forwards once it is wired, as the
//! article does it) and before NAT.
//!
//! Removals are ordered as the inverses of additions, reversed: `DelRoute` before the
//! `DelAddress` it needs, ports before bridges, links before the namespaces their peers
//! are in. Every removal comes before every addition (a repair first clears what is
//! wrong), and an addition that takes a name, route, address or port a removal frees
//! names that removal in its `after`.
//!
//! The order is deterministic: steps are sorted by (stage = longest-path depth,
//! namespace, action kind in the article's order, the action itself), so the same set of
//! actions gives a byte-identical plan whatever order it was produced in. Building the
//! graph uses hash lookups (never iterated) and costs O(n log n).

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::collections::HashMap as StdHashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Action, LinkSpec, NsRef, Plan, Step, Sysctl};

/// FNV-1a, word at a time: the lookups here hash short names millions of times, where
/// SipHash's protection against hash flooding buys nothing (the keys are the plan's own)
/// and costs a third of the ordering time.
#[derive(Debug, Default, Clone, Copy)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }

    fn write_usize(&mut self, n: usize) {
        self.write(&n.to_le_bytes());
    }
}

/// A hash map for lookups only (never iterated, so its order cannot leak into a plan).
type HashMap<K, V> = StdHashMap<K, V, BuildHasherDefault<Fnv>>;

/// Orders `removals` and `additions` into the plan of `topology`.
pub(crate) fn order(topology: &str, removals: Vec<Action>, additions: Vec<Action>) -> Plan {
    let all: Vec<(bool, Action)> = removals
        .into_iter()
        .map(|a| (true, a))
        .chain(additions.into_iter().map(|a| (false, a)))
        .collect();
    let all = rank_sorted(all);
    let n = all.len();
    let inverses: Vec<Option<Action>> = all
        .iter()
        .map(|(removal, a)| removal.then(|| a.inverse()))
        .collect();
    // Each action in the direction of building: additions as they are, removals as the
    // addition they undo.
    let built: Vec<&Action> = all
        .iter()
        .zip(&inverses)
        .map(|((_, a), inv)| inv.as_ref().unwrap_or(a))
        .collect();
    let is_removal: Vec<bool> = all.iter().map(|(r, _)| *r).collect();

    let mut g: DiGraph<(), ()> = DiGraph::with_capacity(n + 1, n * 3);
    for _ in 0..n {
        g.add_node(());
    }
    // Collected, then deduplicated in one sort: `update_edge` would scan a vertex's
    // edges on every insert, quadratic for a namespace with 100,000 links.
    let mut edges = needs_edges(&built, &is_removal, false);
    // Among removals, an edge of their inverses is reversed.
    edges.extend(
        needs_edges(&built, &is_removal, true)
            .into_iter()
            .map(|(from, to)| (to, from)),
    );
    edges.extend(conflict_edges(&all));
    // Sorted packed into one integer each: half the memory and one comparison per pair
    // (positions fit in 32 bits: `rank_sorted` checks).
    let mut packed: Vec<u64> = edges
        .into_iter()
        .map(|(from, to)| ((from as u64) << 32) | to as u64)
        .collect();
    packed.sort_unstable();
    packed.dedup();
    for e in packed {
        g.add_edge(
            NodeIndex::new((e >> 32) as usize),
            NodeIndex::new((e & 0xffff_ffff) as usize),
            (),
        );
    }
    // Every removal before every addition, through one barrier vertex (2n edges, not n^2).
    let barrier = if is_removal.iter().any(|r| *r) && is_removal.iter().any(|r| !*r) {
        let b = g.add_node(());
        for (i, r) in is_removal.iter().enumerate() {
            if *r {
                g.add_edge(NodeIndex::new(i), b, ());
            } else {
                g.add_edge(b, NodeIndex::new(i), ());
            }
        }
        Some(b)
    } else {
        None
    };

    let topo = petgraph::algo::toposort(&g, None).unwrap_or_else(|cycle| {
        panic!(
            "planner bug: the actions' needs form a cycle through {:?}",
            all.get(cycle.node_id().index()).map(|a| &a.1)
        )
    });
    let mut stage = vec![0usize; g.node_count()];
    for v in &topo {
        let s = g
            .neighbors_directed(*v, Direction::Incoming)
            .map(|u| {
                if Some(u) == barrier {
                    stage[u.index()]
                } else {
                    stage[u.index()] + 1
                }
            })
            .max()
            .unwrap_or(0);
        stage[v.index()] = s;
    }
    // `all` is sorted by rank already, so a stable sort by stage keeps rank order within
    // a stage; every edge goes to a higher stage, so this is a topological order.
    let mut positions: Vec<usize> = (0..n).collect();
    positions.sort_by_key(|i| stage[*i]);
    let mut new_id = vec![0usize; n];
    for (id, old) in positions.iter().enumerate() {
        new_id[*old] = id;
    }
    let mut actions: Vec<Option<Action>> = all.into_iter().map(|(_, a)| Some(a)).collect();
    let steps = positions
        .iter()
        .enumerate()
        .map(|(id, old)| {
            let mut after: Vec<usize> = g
                .neighbors_directed(NodeIndex::new(*old), Direction::Incoming)
                .filter(|u| Some(*u) != barrier)
                .map(|u| new_id[u.index()])
                .collect();
            after.sort_unstable();
            after.dedup();
            Step {
                id,
                action: actions[*old].take().expect("each action is placed once"),
                after,
                stage: stage[*old],
            }
        })
        .collect();
    Plan {
        topology: topology.to_string(),
        steps,
    }
}

/// The actions sorted by rank (see [`sort_key`]) and then by the actions themselves,
/// without duplicates.
///
/// Equivalent to sorting by `(sort_key(x), x)`, but the comparisons run on integers: every
/// namespace and link name is replaced by its rank among all the names (each name hashed
/// once, only the distinct names sorted as strings), and the key is packed into a
/// `u128`. Comparing whole actions is left for the rare ties of the packed key (two
/// addresses or routes of one link). At 10,000 containers this sort was 60% of `order`.
fn rank_sorted(all: Vec<(bool, Action)>) -> Vec<(bool, Action)> {
    let n = all.len();
    // Provisional ids in order of first use, then renumbered by sorting the distinct names.
    let mut ids: HashMap<&str, u32> = HashMap::default();
    ids.reserve(n);
    let mut names: Vec<&str> = Vec::with_capacity(n);
    let mut raw: Vec<(u32, Option<u32>)> = Vec::with_capacity(n);
    for (_, a) in &all {
        let ns = a
            .ns()
            .map_or(0, |ns| intern(&mut ids, &mut names, ns.name()));
        let name = first_name(a).map(|name| intern(&mut ids, &mut names, name));
        raw.push((ns, name));
    }
    let mut by_name: Vec<u32> =
        (0..u32::try_from(names.len()).expect("fewer than 2^32 names")).collect();
    by_name.sort_unstable_by(|a, b| names[*a as usize].cmp(names[*b as usize]));
    let mut rank = vec![0u32; names.len()];
    for (r, id) in by_name.iter().enumerate() {
        rank[*id as usize] = u32::try_from(r).expect("fewer than 2^32 names");
    }
    // (key, position): contiguous, compared as integers without indirection.
    let mut keyed: Vec<(u128, u32)> = Vec::with_capacity(n);
    for (i, (entry, (ns, name))) in all.iter().zip(&raw).enumerate() {
        let a = &entry.1;
        let (later, ns_rank, _, kind) = sort_key(entry);
        let ns = if a.ns().is_some() {
            rank[*ns as usize]
        } else {
            0
        };
        // A name's rank + 1, so actions without one (0) cannot tie with the first name.
        let name = name.map_or(0, |id| u64::from(rank[id as usize]) + 1);
        let key = (u128::from(later) << 120)
            | (u128::from(ns_rank) << 112)
            | (u128::from(ns) << 80)
            | (u128::from(kind) << 72)
            | (u128::from(variant(a)) << 64)
            | u128::from(name);
        keyed.push((key, u32::try_from(i).expect("fewer than 2^32 actions")));
    }
    keyed.sort_unstable();
    // Runs of one key (a link's addresses, a namespace's two forwarding switches) are
    // ordered by the whole actions.
    let mut start = 0;
    while start < n {
        let end = start
            + keyed[start..]
                .iter()
                .take_while(|(k, _)| *k == keyed[start].0)
                .count();
        if end - start > 1 {
            keyed[start..end].sort_unstable_by(|a, b| all[a.1 as usize].cmp(&all[b.1 as usize]));
        }
        start = end;
    }
    let mut slots: Vec<Option<(bool, Action)>> = all.into_iter().map(Some).collect();
    let mut sorted: Vec<(bool, Action)> = Vec::with_capacity(n);
    let mut last_key = None;
    for (key, i) in keyed {
        let entry = slots[i as usize]
            .take()
            .expect("each action is placed once");
        // Equal actions have equal keys, so they are neighbours here.
        if last_key == Some(key) && sorted.last() == Some(&entry) {
            continue;
        }
        last_key = Some(key);
        sorted.push(entry);
    }
    sorted
}

/// The provisional id of `name`: its position in `names`, which it is added to when new.
fn intern<'a>(ids: &mut HashMap<&'a str, u32>, names: &mut Vec<&'a str>, name: &'a str) -> u32 {
    *ids.entry(name).or_insert_with(|| {
        names.push(name);
        u32::try_from(names.len() - 1).expect("fewer than 2^32 names")
    })
}

/// The name an action's derived `Ord` compares right after its variant and namespace
/// (the link's, for link actions), when that is a name; `None` for the rest. With the
/// variant and [`kind_rank`] in the key (which separate veths, bridges and VLAN links,
/// and `disable_ipv6` from forwarding), actions of one key group either all have one or
/// all have none.
fn first_name(a: &Action) -> Option<&str> {
    use Action::*;
    match a {
        CreateLink { spec, .. } | DeleteLink { spec, .. } => Some(spec.name()),
        MoveLink { name, .. } => Some(name),
        SetMac { link, .. }
        | SetMtu { link, .. }
        | SetUp { link, .. }
        | SetDown { link, .. }
        | SetMaster { link, .. }
        | ClearMaster { link, .. }
        | AddAddress { link, .. }
        | DelAddress { link, .. } => Some(link),
        SetSysctl {
            sysctl: Sysctl::DisableIpv6(link),
            ..
        } => Some(link),
        CreateNamespace { .. }
        | DeleteNamespace { .. }
        | AddRoute { .. }
        | DelRoute { .. }
        | SetSysctl { .. }
        | AddNat { .. }
        | DelNat { .. }
        | WriteFile { .. }
        | RemoveFile { .. } => None,
    }
}

/// The position of the action's variant in the declaration of [`Action`], which is what
/// its derived `Ord` compares first (checked by a test below).
fn variant(a: &Action) -> u8 {
    use Action::*;
    match a {
        CreateNamespace { .. } => 0,
        DeleteNamespace { .. } => 1,
        CreateLink { .. } => 2,
        DeleteLink { .. } => 3,
        MoveLink { .. } => 4,
        SetMac { .. } => 5,
        SetMtu { .. } => 6,
        SetUp { .. } => 7,
        SetDown { .. } => 8,
        SetMaster { .. } => 9,
        ClearMaster { .. } => 10,
        AddAddress { .. } => 11,
        DelAddress { .. } => 12,
        AddRoute { .. } => 13,
        DelRoute { .. } => 14,
        SetSysctl { .. } => 15,
        AddNat { .. } => 16,
        DelNat { .. } => 17,
        WriteFile { .. } => 18,
        RemoveFile { .. } => 19,
    }
}

/// The rank of an action within a stage: removals first, then by namespace (additions:
/// nodes, containers, LANs, hosts; removals: containers, nodes, hosts, LANs), then by
/// kind in the article's order of things.
fn sort_key(entry: &(bool, Action)) -> (bool, u8, &str, u8) {
    let (removal, a) = entry;
    let (ns_rank, ns_name) = match a.ns() {
        Some(ns) => {
            let rank = match (removal, ns) {
                (false, NsRef::Node(_)) | (true, NsRef::Ct(_)) => 0,
                (false, NsRef::Ct(_)) | (true, NsRef::Node(_)) => 1,
                (false, NsRef::Lan(_)) | (true, NsRef::Host(_)) => 2,
                (false, NsRef::Host(_)) | (true, NsRef::Lan(_)) => 3,
            };
            (rank, ns.name())
        }
        None => (4, ""),
    };
    (!removal, ns_rank, ns_name, kind_rank(*removal, a))
}

fn kind_rank(removal: bool, a: &Action) -> u8 {
    use Action::*;
    let link_rank = |spec: &LinkSpec| match spec {
        LinkSpec::Veth { .. } => 0,
        LinkSpec::Bridge { .. } => 1,
        LinkSpec::Vlan { .. } => 2,
    };
    if !removal {
        match a {
            CreateNamespace { .. } => 0,
            CreateLink { spec, .. } => 1 + link_rank(spec),
            MoveLink { .. } => 4,
            SetMac { .. } => 5,
            SetMtu { .. } => 6,
            SetSysctl {
                sysctl: Sysctl::DisableIpv6(_),
                ..
            } => 7,
            SetMaster { .. } => 8,
            SetUp { .. } => 9,
            AddAddress { .. } => 10,
            AddRoute { .. } => 11,
            SetSysctl { .. } => 12,
            AddNat { .. } => 13,
            WriteFile { .. } => 14,
            _ => 15,
        }
    } else {
        match a {
            DelNat { .. } => 0,
            SetSysctl {
                sysctl: Sysctl::Ipv4Forward | Sysctl::Ipv6Forward,
                ..
            } => 1,
            DelRoute { .. } => 2,
            DelAddress { .. } => 3,
            ClearMaster { .. } => 4,
            SetDown { .. } => 5,
            SetSysctl { .. } => 6,
            MoveLink { .. } => 7,
            DeleteLink { spec, .. } => 10 - link_rank(spec),
            DeleteNamespace { .. } => 11,
            RemoveFile { .. } => 12,
            _ => 13,
        }
    }
}

/// A thing one action makes that others build on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Res<'a> {
    Ns(&'a NsRef),
    Link(&'a NsRef, &'a str),
    Up(&'a NsRef, &'a str),
    Mtu(&'a NsRef, &'a str),
    Sysctl(&'a NsRef, &'a Sysctl),
}

fn provides<'a>(a: &'a Action, out: &mut Vec<Res<'a>>) {
    use Action::*;
    match a {
        CreateNamespace { ns } => out.push(Res::Ns(ns)),
        CreateLink { ns, spec } => {
            out.push(Res::Link(ns, spec.name()));
            if let LinkSpec::Veth {
                peer_ns, peer_name, ..
            } = spec
            {
                out.push(Res::Link(peer_ns, peer_name));
            }
        }
        MoveLink { to, new_name, .. } => out.push(Res::Link(to, new_name)),
        SetUp { ns, link } => out.push(Res::Up(ns, link)),
        SetMtu { ns, link, .. } => out.push(Res::Mtu(ns, link)),
        SetSysctl { ns, sysctl, .. } => out.push(Res::Sysctl(ns, sysctl)),
        _ => {}
    }
}

fn needs<'a>(a: &'a Action, out: &mut Vec<Res<'a>>) {
    use Action::*;
    if let Some(ns) = a.ns() {
        if !matches!(a, CreateNamespace { .. }) {
            out.push(Res::Ns(ns));
        }
    }
    match a {
        CreateLink { ns, spec } => match spec {
            LinkSpec::Veth { peer_ns, .. } => out.push(Res::Ns(peer_ns)),
            LinkSpec::Vlan { parent, .. } => {
                out.push(Res::Link(ns, parent));
                out.push(Res::Mtu(ns, parent));
            }
            LinkSpec::Bridge { .. } => {}
        },
        MoveLink { from, name, to, .. } => {
            out.push(Res::Link(from, name));
            out.push(Res::Ns(to));
        }
        SetMac { ns, link, .. }
        | SetMtu { ns, link, .. }
        | SetDown { ns, link }
        | AddAddress { ns, link, .. }
        | DelAddress { ns, link, .. } => out.push(Res::Link(ns, link)),
        SetUp { ns, link } => {
            out.push(Res::Link(ns, link));
            // Its `disable_ipv6` comes first too (see `needs_edges`), so the link never
            // sends IPv6 DAD/MLD multicast.
            out.push(Res::Mtu(ns, link));
        }
        SetMaster { ns, link, master } | ClearMaster { ns, link, master } => {
            out.push(Res::Link(ns, link));
            out.push(Res::Link(ns, master));
        }
        AddRoute { ns, route } | DelRoute { ns, route } => {
            if let Some(dev) = &route.dev {
                out.push(Res::Link(ns, dev));
                out.push(Res::Up(ns, dev));
            }
        }
        SetSysctl {
            ns,
            sysctl: Sysctl::DisableIpv6(link),
            ..
        } => out.push(Res::Link(ns, link)),
        AddNat { ns, rule } | DelNat { ns, rule } => {
            out.push(Res::Link(ns, &rule.out));
            out.push(Res::Sysctl(ns, &FORWARD[0]));
            out.push(Res::Sysctl(ns, &FORWARD[1]));
        }
        _ => {}
    }
}

/// The forwarding switches, for lookups by reference.
static FORWARD: [Sysctl; 2] = [Sysctl::Ipv4Forward, Sysctl::Ipv6Forward];

/// The "needs" edges (provider, consumer) among the actions of one direction
/// (`removal == true`: the removals, seen as the additions they undo).
fn needs_edges(built: &[&Action], is_removal: &[bool], removal: bool) -> Vec<(usize, usize)> {
    let members = || {
        built
            .iter()
            .enumerate()
            .filter(move |(i, _)| is_removal[*i] == removal)
    };
    let mut provider: HashMap<Res<'_>, usize> = HashMap::default();
    let mut buf = Vec::new();
    // Per namespace: addresses (for routes via them), links brought up, and everything a
    // router's forwarding waits for.
    let mut addrs: HashMap<&NsRef, Vec<(usize, &str, ipnetwork::IpNetwork)>> = HashMap::default();
    let mut ready: HashMap<&NsRef, Vec<usize>> = HashMap::default();
    let mut ipv6_off: HashMap<(&NsRef, &str), usize> = HashMap::default();
    for (i, a) in members() {
        buf.clear();
        provides(a, &mut buf);
        for r in buf.drain(..) {
            provider.entry(r).or_insert(i);
        }
        match a {
            Action::AddAddress { ns, link, address } => {
                addrs.entry(ns).or_default().push((i, link, *address));
                ready.entry(ns).or_default().push(i);
            }
            Action::SetUp { ns, .. } | Action::AddRoute { ns, .. } => {
                ready.entry(ns).or_default().push(i);
            }
            Action::SetSysctl {
                ns,
                sysctl: Sysctl::DisableIpv6(link),
                ..
            } => {
                ipv6_off.insert((ns, link), i);
            }
            _ => {}
        }
    }
    let mut edges = Vec::new();
    for (i, a) in members() {
        buf.clear();
        needs(a, &mut buf);
        for r in &buf {
            if let Some(p) = provider.get(r) {
                if *p != i {
                    edges.push((*p, i));
                }
            }
        }
        match a {
            Action::SetUp { ns, link } => {
                if let Some(p) = ipv6_off.get(&(ns, link.as_str())) {
                    edges.push((*p, i));
                }
            }
            Action::AddRoute { ns, route } => {
                if let Some(via) = route.via {
                    for (p, link, net) in addrs.get(ns).map(Vec::as_slice).unwrap_or(&[]) {
                        let on_dev = route.dev.as_deref().is_none_or(|d| d == *link);
                        if on_dev && net.contains(via) {
                            edges.push((*p, i));
                            if let Some(u) = provider.get(&Res::Up(ns, link)) {
                                edges.push((*u, i));
                            }
                        }
                    }
                }
            }
            Action::SetSysctl {
                ns,
                sysctl: Sysctl::Ipv4Forward | Sysctl::Ipv6Forward,
                ..
            } => {
                for p in ready.get(ns).map(Vec::as_slice).unwrap_or(&[]) {
                    edges.push((*p, i));
                }
            }
            _ => {}
        }
    }
    edges
}

/// A name, route, address, port or rule slot: a removal frees it, an addition takes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot<'a> {
    Ns(&'a NsRef),
    Name(&'a NsRef, &'a str),
    Route(&'a NsRef, &'a ipnetwork::IpNetwork, Option<u32>),
    Master(&'a NsRef, &'a str),
    Addr(&'a NsRef, &'a str, &'a ipnetwork::IpNetwork),
    Nat(&'a NsRef, &'a super::NatRule),
}

fn slots<'a>(a: &'a Action, out: &mut Vec<Slot<'a>>) {
    use Action::*;
    match a {
        CreateNamespace { ns } | DeleteNamespace { ns } => out.push(Slot::Ns(ns)),
        CreateLink { ns, spec } | DeleteLink { ns, spec } => {
            out.push(Slot::Name(ns, spec.name()));
            if let LinkSpec::Veth {
                peer_ns, peer_name, ..
            } = spec
            {
                out.push(Slot::Name(peer_ns, peer_name));
            }
        }
        AddRoute { ns, route } | DelRoute { ns, route } => {
            out.push(Slot::Route(ns, &route.dst, route.metric))
        }
        SetMaster { ns, link, .. } | ClearMaster { ns, link, .. } => {
            out.push(Slot::Master(ns, link))
        }
        AddAddress { ns, link, address } | DelAddress { ns, link, address } => {
            out.push(Slot::Addr(ns, link, address))
        }
        AddNat { ns, rule } | DelNat { ns, rule } => out.push(Slot::Nat(ns, rule)),
        _ => {}
    }
}

/// Edges from a removal to the additions that take what it frees (a link recreated
/// under the same name, a route replaced, a port moved to another bridge).
fn conflict_edges(all: &[(bool, Action)]) -> Vec<(usize, usize)> {
    let mut freed: HashMap<Slot<'_>, Vec<usize>> = HashMap::default();
    let mut buf = Vec::new();
    for (i, (removal, a)) in all.iter().enumerate() {
        if !*removal {
            continue;
        }
        buf.clear();
        match a {
            Action::MoveLink { from, name, .. } => buf.push(Slot::Name(from, name)),
            _ => slots(a, &mut buf),
        }
        for s in buf.drain(..) {
            freed.entry(s).or_default().push(i);
        }
    }
    if freed.is_empty() {
        return Vec::new();
    }
    let mut edges = Vec::new();
    for (i, (removal, a)) in all.iter().enumerate() {
        if *removal {
            continue;
        }
        buf.clear();
        match a {
            Action::MoveLink { to, new_name, .. } => buf.push(Slot::Name(to, new_name)),
            _ => slots(a, &mut buf),
        }
        for s in &buf {
            for r in freed.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                edges.push((*r, i));
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mac;

    /// One action of every variant, in declaration order.
    fn one_of_each() -> Vec<Action> {
        let ns = NsRef::Ct("c".to_string());
        let s = |x: &str| x.to_string();
        let net: ipnetwork::IpNetwork = "198.18.0.1/24".parse().expect("a prefix");
        let route = super::super::RouteSpec {
            dst: net,
            via: None,
            dev: Some(s("eth0")),
            metric: None,
        };
        let rule = super::super::NatRule {
            source: net,
            out: s("eth0"),
        };
        let spec = LinkSpec::Bridge {
            name: s("br0"),
            mac: Mac::new(2, 0, 0, 0, 0, 1),
            stp: false,
            mtu: None,
        };
        let link = |ns: &NsRef| (ns.clone(), s("eth0"));
        let (n, l) = link(&ns);
        vec![
            Action::CreateNamespace { ns: n.clone() },
            Action::DeleteNamespace { ns: n.clone() },
            Action::CreateLink {
                ns: n.clone(),
                spec: spec.clone(),
            },
            Action::DeleteLink {
                ns: n.clone(),
                spec,
            },
            Action::MoveLink {
                from: n.clone(),
                name: l.clone(),
                to: n.clone(),
                new_name: l.clone(),
            },
            Action::SetMac {
                ns: n.clone(),
                link: l.clone(),
                mac: Mac::new(2, 0, 0, 0, 0, 2),
                previous: Mac::new(2, 0, 0, 0, 0, 3),
            },
            Action::SetMtu {
                ns: n.clone(),
                link: l.clone(),
                mtu: 1400,
                previous: 1500,
            },
            Action::SetUp {
                ns: n.clone(),
                link: l.clone(),
            },
            Action::SetDown {
                ns: n.clone(),
                link: l.clone(),
            },
            Action::SetMaster {
                ns: n.clone(),
                link: l.clone(),
                master: s("br0"),
            },
            Action::ClearMaster {
                ns: n.clone(),
                link: l.clone(),
                master: s("br0"),
            },
            Action::AddAddress {
                ns: n.clone(),
                link: l.clone(),
                address: net,
            },
            Action::DelAddress {
                ns: n.clone(),
                link: l.clone(),
                address: net,
            },
            Action::AddRoute {
                ns: n.clone(),
                route: route.clone(),
            },
            Action::DelRoute {
                ns: n.clone(),
                route,
            },
            Action::SetSysctl {
                ns: n.clone(),
                sysctl: Sysctl::DisableIpv6(l),
                value: s("1"),
                previous: s("0"),
            },
            Action::AddNat {
                ns: n.clone(),
                rule: rule.clone(),
            },
            Action::DelNat { ns: n, rule },
            Action::WriteFile {
                path: s("/etc/x"),
                contents: s("x"),
                mode: 0o644,
                previous: None,
            },
            Action::RemoveFile {
                path: s("/etc/x"),
                contents: s("x"),
                mode: 0o644,
            },
        ]
    }

    #[test]
    fn variant_index_follows_the_derived_order() {
        let mut all = one_of_each();
        // Reversed, so the sort has to do the work.
        all.reverse();
        all.sort();
        let indices: Vec<u8> = all.iter().map(variant).collect();
        assert_eq!(indices, (0..20).collect::<Vec<u8>>());
    }

    /// The packed-key sort gives exactly the order of sorting by `(sort_key, action)`.
    #[test]
    fn rank_sorted_matches_the_plain_sort() {
        let names = ["eth0", "eth1", "e", "veth10.0", "veth9.0", "br0", "switch"];
        let nss = [
            NsRef::Node("m1".to_string()),
            NsRef::Node("m2".to_string()),
            NsRef::Ct("c1".to_string()),
            NsRef::Ct("c10".to_string()),
            NsRef::Ct("c2".to_string()),
            NsRef::Lan("lan0".to_string()),
            NsRef::Host("h0".to_string()),
        ];
        let mut all: Vec<(bool, Action)> = Vec::new();
        for (i, base) in one_of_each().into_iter().enumerate() {
            for (j, ns) in nss.iter().enumerate() {
                for (k, name) in names.iter().enumerate() {
                    let mut a = base.clone();
                    retarget(&mut a, ns, name);
                    all.push(((i + j + k) % 3 == 0, a.clone()));
                    all.push((!(i + j + k).is_multiple_of(3), a));
                }
            }
        }
        // Duplicates must go as `dedup` after a plain sort removes them.
        let dups: Vec<(bool, Action)> = all.iter().step_by(7).cloned().collect();
        all.extend(dups);
        let mut plain = all.clone();
        plain.sort_unstable_by(|a, b| sort_key(a).cmp(&sort_key(b)).then_with(|| a.1.cmp(&b.1)));
        plain.dedup();
        all.reverse();
        assert_eq!(rank_sorted(all), plain);
    }

    /// Puts an action into namespace `ns` on link (or file) `name`.
    fn retarget(a: &mut Action, to: &NsRef, name: &str) {
        use Action::*;
        match a {
            CreateNamespace { ns } | DeleteNamespace { ns } => *ns = to.clone(),
            CreateLink { ns, spec } | DeleteLink { ns, spec } => {
                *ns = to.clone();
                if let LinkSpec::Bridge { name: n, .. } = spec {
                    *n = name.to_string();
                }
            }
            MoveLink { from, name: n, .. } => {
                *from = to.clone();
                *n = name.to_string();
            }
            SetMac { ns, link, .. }
            | SetMtu { ns, link, .. }
            | SetUp { ns, link }
            | SetDown { ns, link }
            | SetMaster { ns, link, .. }
            | ClearMaster { ns, link, .. }
            | AddAddress { ns, link, .. }
            | DelAddress { ns, link, .. }
            | SetSysctl {
                ns,
                sysctl: Sysctl::DisableIpv6(link),
                ..
            } => {
                *ns = to.clone();
                *link = name.to_string();
            }
            AddRoute { ns, route } | DelRoute { ns, route } => {
                *ns = to.clone();
                route.dev = Some(name.to_string());
            }
            AddNat { ns, rule } | DelNat { ns, rule } => {
                *ns = to.clone();
                rule.out = name.to_string();
            }
            SetSysctl { ns, .. } => *ns = to.clone(),
            WriteFile { path, .. } | RemoveFile { path, .. } => *path = name.to_string(),
        }
    }
}
