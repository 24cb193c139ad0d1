//! Ordering: the actions of a plan as a DAG of "needs" edges, sorted into [`Step`]s with
//! their `after` ids and stages.
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
//! actions gives a byte-identical plan whatever order it was produced in.
//!
//! Cost: every namespace and link an action names is interned once into a dense id (see
//! `intern.rs`), an action's own namespace, name, link and sort class into its [`Key`] in
//! one pass over the actions in the order they were made (reading memory sequentially);
//! the sort compares packed integer keys, the providers of "needs" are `Vec`s indexed by
//! those ids (filled in that same order: the first provider is the smallest rank, so the
//! order of reading does not matter), and the DAG is a compressed adjacency list built
//! from the edge list by a counting sort, walked once in topological order (Kahn) for the
//! stages. All of it is O(n log n) in the number of actions with small constants.

use ipnetwork::IpNetwork;
use std::net::IpAddr;

use super::intern::{HashMap, Ids, NONE};
use super::{Action, Name, NsRef, Plan, Step, Sysctl};

/// The removals and additions of a plan, numbered together: removals first. Actions
/// are large; they stay where they are until each is moved once into its step.
#[derive(Clone, Copy)]
struct Both<'a> {
    removals: &'a [Action],
    additions: &'a [Action],
}

impl<'a> Both<'a> {
    fn len(&self) -> usize {
        self.removals.len() + self.additions.len()
    }

    /// Whether action `i` is a removal, and the action.
    fn get(&self, i: usize) -> (bool, &'a Action) {
        match self.removals.get(i) {
            Some(a) => (true, a),
            None => (false, &self.additions[i - self.removals.len()]),
        }
    }
}

/// Orders `removals` and `additions` into the plan of `topology`.
pub(crate) fn order(topology: &str, removals: Vec<Action>, additions: Vec<Action>) -> Plan {
    let (mut removals, mut additions) = (removals, additions);
    // Each action in the direction of building: additions as they are, removals as the
    // addition they undo.
    let inverses: Vec<Action> = removals.iter().map(Action::inverse).collect();
    let (perm, stage, graph) = {
        let all = Both {
            removals: &removals,
            additions: &additions,
        };
        // A sandbox's actions name about one new name and one new link in four.
        let mut ids = Ids::with_capacity(all.len() / 4);
        // The actions are read in the order they were made (sequentially, which is what
        // the memory likes: at 10,000 containers they fill ~13 MB), once for their keys
        // here and once for their needs below; the sorted order only ever reads keys.
        let keys: Vec<Key> = (0..all.len())
            .map(|i| {
                let (removal, a) = all.get(i);
                key(removal, a, &mut ids)
            })
            .collect();
        let perm = rank_order(all, &keys, &ids);
        let n = perm.len();
        let is_removal: Vec<bool> = perm.iter().map(|i| all.get(*i).0).collect();
        // Each action's position in the sorted order (`NONE`: a duplicate, dropped).
        let mut rank_of = vec![NONE; all.len()];
        for (r, i) in perm.iter().enumerate() {
            rank_of[*i] = u32::try_from(r).expect("fewer than 2^32 actions");
        }
        // Packed (consumer << 32 | provider); `Graph::new` buckets them by consumer.
        let mut edges: Vec<u64> = Vec::with_capacity(n * 3);
        // Removals are ordered as the additions they undo (a `MoveLink` back names
        // other links than the move), with the edges among them reversed.
        let removal_keys: Vec<Key> = inverses.iter().map(|a| key(false, a, &mut ids)).collect();
        needs_edges(
            &inverses,
            &removal_keys,
            &rank_of,
            true,
            &mut ids,
            &mut edges,
        );
        let r = removals.len();
        needs_edges(
            &additions,
            &keys[r..],
            &rank_of[r..],
            false,
            &mut ids,
            &mut edges,
        );
        let sorted: Vec<(bool, &Action)> = perm.iter().map(|i| all.get(*i)).collect();
        conflict_edges(&sorted, &mut edges);
        let graph = Graph::new(n, &edges);
        let stage = stages(&graph, &is_removal, |v| all.get(perm[v]).1);
        (perm, stage, graph)
    };
    let n = perm.len();
    // `perm` is in rank order, so a stable sort by stage keeps rank order within a stage;
    // every edge goes to a higher stage, so this is a topological order. Stages are small
    // integers: a counting sort.
    let stages = stage.iter().max().map_or(0, |s| s + 1);
    let mut start = vec![0usize; stages + 1];
    for s in &stage {
        start[s + 1] += 1;
    }
    for s in 0..stages {
        start[s + 1] += start[s];
    }
    let mut positions = vec![0usize; n];
    let mut new_id = vec![0usize; n];
    for (v, s) in stage.iter().enumerate() {
        positions[start[*s]] = v;
        new_id[v] = start[*s];
        start[*s] += 1;
    }
    let r = removals.len();
    // Each action is moved out once; what is left in its place allocates nothing.
    let mut take = |i: usize| {
        let slot = match removals.get_mut(i) {
            Some(a) => a,
            None => &mut additions[i - r],
        };
        std::mem::replace(
            slot,
            Action::CreateNamespace {
                ns: NsRef::Node(Name::default()),
            },
        )
    };
    let steps = positions
        .iter()
        .enumerate()
        .map(|(id, v)| {
            let mut after: Vec<usize> = graph
                .incoming(*v)
                .iter()
                .map(|u| new_id[*u as usize])
                .collect();
            after.sort_unstable();
            Step {
                id,
                action: take(perm[*v]),
                after,
                stage: stage[*v],
            }
        })
        .collect();
    Plan {
        topology: topology.to_string(),
        steps,
    }
}

/// The "needs" DAG over the sorted actions, as compressed adjacency lists both ways.
struct Graph {
    in_start: Vec<u32>,
    in_from: Vec<u32>,
    out_start: Vec<u32>,
    out_to: Vec<u32>,
}

impl Graph {
    /// The graph of `n` vertices with `edges` packed (to << 32 | from), in any order,
    /// duplicates allowed. Bucketed by consumer (a counting sort: O(n + edges)), each
    /// step's few providers sorted and deduplicated in place.
    fn new(n: usize, edges: &[u64]) -> Graph {
        let to = |e: u64| (e >> 32) as usize;
        let from = |e: u64| (e & 0xffff_ffff) as u32;
        let mut count = vec![0u32; n + 1];
        for e in edges {
            count[to(*e) + 1] += 1;
        }
        for v in 0..n {
            count[v + 1] += count[v];
        }
        let mut bucketed = vec![0u32; edges.len()];
        let mut next: Vec<u32> = count[..n].to_vec();
        for e in edges {
            let v = to(*e);
            bucketed[next[v] as usize] = from(*e);
            next[v] += 1;
        }
        let mut in_start = vec![0u32; n + 1];
        let mut in_from: Vec<u32> = Vec::with_capacity(edges.len());
        let mut out_start = vec![0u32; n + 1];
        for v in 0..n {
            let list = &mut bucketed[count[v] as usize..count[v + 1] as usize];
            list.sort_unstable();
            let first = in_from.len();
            for u in list.iter() {
                if in_from.len() == first || in_from.last() != Some(u) {
                    in_from.push(*u);
                    out_start[*u as usize + 1] += 1;
                }
            }
            in_start[v + 1] = u32::try_from(in_from.len()).expect("fewer than 2^32 edges");
        }
        for v in 0..n {
            out_start[v + 1] += out_start[v];
        }
        let mut next: Vec<u32> = out_start[..n].to_vec();
        let mut out_to = vec![0u32; in_from.len()];
        for v in 0..n {
            for u in &in_from[in_start[v] as usize..in_start[v + 1] as usize] {
                let u = *u as usize;
                out_to[next[u] as usize] = u32::try_from(v).expect("fewer than 2^32 steps");
                next[u] += 1;
            }
        }
        Graph {
            in_start,
            in_from,
            out_start,
            out_to,
        }
    }

    fn incoming(&self, v: usize) -> &[u32] {
        &self.in_from[self.in_start[v] as usize..self.in_start[v + 1] as usize]
    }

    fn outgoing(&self, v: usize) -> &[u32] {
        &self.out_to[self.out_start[v] as usize..self.out_start[v + 1] as usize]
    }
}

/// Each vertex's stage: the length of the longest chain of needs leading to it. Every
/// removal comes before every addition: additions start after the last removal's stage
/// (as if through one barrier vertex all removals lead to and all additions follow).
///
/// # Panics
///
/// When the needs form a cycle: a planner bug, named by one action on or after it.
fn stages<'a>(g: &Graph, is_removal: &[bool], action: impl Fn(usize) -> &'a Action) -> Vec<usize> {
    let n = is_removal.len();
    let mut pending: Vec<u32> = (0..n).map(|v| g.in_start[v + 1] - g.in_start[v]).collect();
    let mut stage = vec![0usize; n];
    // Kahn's algorithm, removals first: additions never lead to removals, so once the
    // removals' queue is empty every removal is placed (or on a cycle).
    let mut removals: Vec<usize> = (0..n)
        .filter(|v| is_removal[*v] && pending[*v] == 0)
        .collect();
    let mut additions: Vec<usize> = (0..n)
        .filter(|v| !is_removal[*v] && pending[*v] == 0)
        .collect();
    let barrier = is_removal.iter().any(|r| *r) && is_removal.iter().any(|r| !*r);
    let mut placed = 0;
    let mut floor = 0;
    let mut last_removal = None;
    loop {
        let v = match removals.pop() {
            Some(v) => v,
            None => {
                if barrier && floor == 0 {
                    floor = last_removal.map_or(0, |s: usize| s + 1);
                }
                match additions.pop() {
                    Some(v) => v,
                    None => break,
                }
            }
        };
        placed += 1;
        let from_preds = g
            .incoming(v)
            .iter()
            .map(|u| stage[*u as usize] + 1)
            .max()
            .unwrap_or(0);
        stage[v] = if is_removal[v] {
            last_removal = Some(last_removal.map_or(from_preds, |s: usize| s.max(from_preds)));
            from_preds
        } else {
            from_preds.max(floor)
        };
        for w in g.outgoing(v) {
            let w = *w as usize;
            pending[w] -= 1;
            if pending[w] == 0 {
                if is_removal[w] {
                    removals.push(w);
                } else {
                    additions.push(w);
                }
            }
        }
    }
    if placed < n {
        let stuck = (0..n)
            .find(|v| pending[*v] > 0)
            .expect("some vertex is left");
        panic!(
            "planner bug: the actions' needs form a cycle through {:?}",
            action(stuck)
        );
    }
    stage
}

/// The positions in `all` of its actions sorted by rank (see [`sort_key`]) and then by
/// the actions themselves, without duplicates.
///
/// Equivalent to sorting by `(sort_key(x), x)`, but the comparisons run on integers: every
/// namespace and link name is replaced by its rank among all the names (each name hashed
/// once, only the distinct names sorted as strings), and the key is packed with the
/// position into one `u128`. Comparing whole actions is left for the rare ties of the
/// packed key (two addresses or routes of one link).
fn rank_order(all: Both<'_>, keys: &[Key], ids: &Ids<'_>) -> Vec<usize> {
    let n = all.len();
    assert!(u32::try_from(n).is_ok(), "fewer than 2^32 actions");
    let rank = ids.name_ranks();
    // Bits from the top: removal-last (1), namespace kind (3), namespace name (32), kind
    // (4), variant (5), name rank + 1 (33), position (32).
    let mut keyed: Vec<u128> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let ns = if k.ns == NONE {
                0
            } else {
                rank[ids.ns_name(k.ns) as usize]
            };
            // A name's rank + 1, so actions without one (0) cannot tie with the first name.
            let name = if k.name == NONE {
                0
            } else {
                u64::from(rank[k.name as usize]) + 1
            };
            let class = u128::from(k.class);
            // The class's top 4 bits go above the namespace name, the lower 9 below it.
            ((class >> 9) << 106)
                | (u128::from(ns) << 74)
                | ((class & 0x1ff) << 65)
                | (u128::from(name) << 32)
                | i as u128
        })
        .collect();
    keyed.sort_unstable();
    let key = |k: u128| k >> 32;
    let at = |k: u128| (k & 0xffff_ffff) as usize;
    let mut out: Vec<usize> = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let end = start
            + keyed[start..]
                .iter()
                .take_while(|k| key(**k) == key(keyed[start]))
                .count();
        if end - start == 1 {
            out.push(at(keyed[start]));
        } else {
            // A run of one key (a link's addresses, a namespace's two forwarding
            // switches) is ordered by the whole actions; equal actions go once.
            let run = &mut keyed[start..end];
            // One key: one direction, so comparing the actions is comparing the entries.
            run.sort_unstable_by(|a, b| all.get(at(*a)).1.cmp(all.get(at(*b)).1));
            let first = out.len();
            for k in run.iter() {
                let i = at(*k);
                if out.len() > first && all.get(*out.last().expect("not empty")).1 == all.get(i).1 {
                    continue;
                }
                out.push(i);
            }
        }
        start = end;
    }
    out
}

/// The actions sorted by rank, without duplicates (what [`rank_order`] orders).
#[cfg(test)]
fn rank_sorted(all: Vec<(bool, Action)>) -> Vec<(bool, Action)> {
    let (removals, additions): (Vec<_>, Vec<_>) = all.into_iter().partition(|(r, _)| *r);
    let removals: Vec<Action> = removals.into_iter().map(|(_, a)| a).collect();
    let additions: Vec<Action> = additions.into_iter().map(|(_, a)| a).collect();
    let both = Both {
        removals: &removals,
        additions: &additions,
    };
    let perm = {
        let mut ids = Ids::default();
        let keys: Vec<Key> = (0..both.len())
            .map(|i| {
                let (removal, a) = both.get(i);
                key(removal, a, &mut ids)
            })
            .collect();
        rank_order(both, &keys, &ids)
    };
    perm.iter()
        .map(|i| {
            let (r, a) = both.get(*i);
            (r, a.clone())
        })
        .collect()
}

/// An action's namespace and first name (its [`Action::link`]) as ids, interned once and
/// read by the sort and by the needs: most actions name one namespace and one link, so
/// this is most of the string hashing the ordering does.
#[derive(Debug, Clone, Copy)]
struct Key {
    /// The namespace id (`NONE`: no namespace).
    ns: u32,
    /// The name id of the first name (`NONE`: none).
    name: u32,
    /// The link id of the first name in the namespace (`NONE`: none): for a link action
    /// its own link, looked up here once instead of by each use.
    link: u32,
    /// The rest of the sort key, packed: removal-last (1 bit), namespace kind (3),
    /// action kind (4), variant (5).
    class: u16,
}

/// The [`Key`] of `a`, a removal or not.
fn key<'a>(removal: bool, a: &'a Action, ids: &mut Ids<'a>) -> Key {
    let (later, ns_rank, _, kind) = sort_key((removal, a));
    let ns = a.ns().map_or(NONE, |ns| ids.ns(ns));
    let name = a.link().map_or(NONE, |name| ids.name(name));
    // The first name is the action's link (`Action::link`), and links live in
    // namespaces. With the variant and `kind_rank` in the key (which separate veths,
    // bridges and VLAN links, and `disable_ipv6` from forwarding), actions of one key
    // group either all have one or all have none.
    let link = if name == NONE || ns == NONE {
        NONE
    } else {
        ids.link_named(ns, name)
    };
    Key {
        ns,
        name,
        link,
        class: (u16::from(later) << 12)
            | (u16::from(ns_rank) << 9)
            | (u16::from(kind) << 5)
            | u16::from(variant(a)),
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
        SetRuleset { .. } => 18,
        WriteFile { .. } => 19,
        RemoveFile { .. } => 20,
    }
}

/// The rank of an action within a stage: removals first, then by namespace (additions:
/// nodes, containers, LANs, hosts; removals: containers, nodes, hosts, LANs), then by
/// kind in the article's order of things.
fn sort_key((removal, a): (bool, &Action)) -> (bool, u8, &str, u8) {
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
    (!removal, ns_rank, ns_name, kind_rank(removal, a))
}

fn kind_rank(removal: bool, a: &Action) -> u8 {
    use Action::*;
    if !removal {
        match a {
            CreateNamespace { .. } => 0,
            CreateLink { spec, .. } => 1 + spec.rank(),
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
            AddNat { .. } | SetRuleset { .. } => 13,
            WriteFile { .. } => 14,
            _ => 15,
        }
    } else {
        match a {
            DelNat { .. } | SetRuleset { .. } => 0,
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
            DeleteLink { spec, .. } => 10 - spec.rank(),
            DeleteNamespace { .. } => 11,
            RemoveFile { .. } => 12,
            _ => 13,
        }
    }
}

/// What one action needs, resolved to ids: a namespace, a link, a link up or at its
/// MTU, a forwarding switch, a link's `disable_ipv6`, the addresses a route's next hop
/// is on, everything a router's forwarding waits for.
#[derive(Debug, Clone, Copy)]
enum Need {
    Ns(u32),
    Link(u32),
    Up(u32),
    Mtu(u32),
    /// Forwarding switch 0 (IPv4) or 1 (IPv6) of a namespace.
    Fwd(u32, u8),
    /// A link's `disable_ipv6` (the last action setting it provides it).
    Ipv6Off(u32),
    /// A route's next hop (`via`: its index in the list of next hops, which keeps a
    /// need at 12 bytes): the addresses of the namespace that hold it, on `dev`
    /// (`NONE`: any link).
    Via {
        ns: u32,
        dev: u32,
        via: u32,
    },
    /// Everything the namespace's forwarding waits for.
    Ready(u32),
    /// Every address added in the namespace.
    Addrs(u32),
}

/// Who provides what, among the actions of one direction: the first action providing a
/// thing, by id (`NONE`: nobody).
#[derive(Debug, Default)]
struct Providers {
    ns: Vec<u32>,
    link: Vec<u32>,
    up: Vec<u32>,
    mtu: Vec<u32>,
    fwd: Vec<[u32; 2]>,
    /// The last action setting a link's `disable_ipv6`.
    ipv6_off: Vec<u32>,
    /// Per namespace: addresses (for routes via them).
    addrs: Vec<Vec<(u32, u32, IpNetwork)>>,
    /// Per namespace: what its forwarding waits for (addresses, links up, routes).
    ready: Vec<Vec<u32>>,
}

/// Sets `v[id]` to `i` unless an action sorted before it set it (`NONE` is the largest
/// `u32`, so the smaller one is the one to keep).
fn first(v: &mut Vec<u32>, id: u32, i: u32) {
    let id = id as usize;
    if v.len() <= id {
        v.resize(id + 1, NONE);
    }
    v[id] = v[id].min(i);
}

/// `v[id]`, `NONE` when unset.
fn get(v: &[u32], id: u32) -> u32 {
    v.get(id as usize).copied().unwrap_or(NONE)
}

/// The entry of namespace `id` in a per-namespace table, added when new.
fn slot<T: Default>(v: &mut Vec<T>, id: u32) -> &mut T {
    let id = id as usize;
    if v.len() <= id {
        v.resize_with(id + 1, T::default);
    }
    &mut v[id]
}

/// Records what action `i` (with key `k`) provides.
fn provides<'a>(a: &'a Action, k: Key, i: u32, ids: &mut Ids<'a>, p: &mut Providers) {
    use Action::*;
    let n = k.ns;
    match a {
        CreateNamespace { .. } => first(&mut p.ns, n, i),
        CreateLink { ns, spec } => {
            first(&mut p.link, k.link, i);
            for end in spec.ends(ns).into_iter().skip(1) {
                let en = ids.ns(end.ns);
                let l = ids.link(en, end.name);
                first(&mut p.link, l, i);
            }
        }
        MoveLink { to, new_name, .. } => {
            let t = ids.ns(to);
            let l = ids.link(t, new_name);
            first(&mut p.link, l, i);
        }
        SetUp { .. } => {
            first(&mut p.up, k.link, i);
            slot(&mut p.ready, n).push(i);
        }
        SetMtu { .. } => first(&mut p.mtu, k.link, i),
        SetSysctl { sysctl, .. } => match sysctl {
            Sysctl::Ipv4Forward | Sysctl::Ipv6Forward => {
                let f = usize::from(matches!(sysctl, Sysctl::Ipv6Forward));
                let n = n as usize;
                if p.fwd.len() <= n {
                    p.fwd.resize(n + 1, [NONE; 2]);
                }
                p.fwd[n][f] = p.fwd[n][f].min(i);
            }
            Sysctl::DisableIpv6(_) => {
                // The last one sorted sets the value that stays.
                let l = k.link as usize;
                if p.ipv6_off.len() <= l {
                    p.ipv6_off.resize(l + 1, NONE);
                }
                if p.ipv6_off[l] == NONE || p.ipv6_off[l] < i {
                    p.ipv6_off[l] = i;
                }
            }
        },
        AddAddress { address, .. } => {
            let l = k.link;
            slot(&mut p.addrs, n).push((i, l, *address));
            slot(&mut p.ready, n).push(i);
        }
        AddRoute { .. } => slot(&mut p.ready, n).push(i),
        // A router forwards only once its firewall is in place.
        SetRuleset { .. } => slot(&mut p.ready, n).push(i),
        _ => {}
    }
}

/// Appends what action `i` (with key `k`) needs to `out`, a route's next hop to `vias`.
fn needs<'a>(
    a: &'a Action,
    k: Key,
    i: u32,
    ids: &mut Ids<'a>,
    out: &mut Vec<(u32, Need)>,
    vias: &mut Vec<IpAddr>,
) {
    use Action::*;
    if k.ns == NONE {
        return;
    }
    let ns = k.ns;
    let mut need = |n: Need| out.push((i, n));
    if !matches!(a, CreateNamespace { .. }) {
        need(Need::Ns(ns));
    }
    match a {
        CreateLink { ns: at, spec } => {
            for end in spec.ends(at) {
                if end.ns != at {
                    need(Need::Ns(ids.ns(end.ns)));
                }
                // A link on a lower link needs it, with its MTU (a VLAN link takes it;
                // the kernel refuses a VXLAN MTU above the underlay's minus the header).
                if let Some((lns, lname)) = end.lower {
                    let ln = ids.ns(lns);
                    if ln != ns {
                        need(Need::Ns(ln));
                    }
                    let l = ids.link(ln, lname);
                    need(Need::Link(l));
                    need(Need::Mtu(l));
                }
            }
        }
        MoveLink { to, .. } => {
            need(Need::Link(k.link));
            need(Need::Ns(ids.ns(to)));
        }
        SetMac { .. } | SetMtu { .. } | SetDown { .. } | AddAddress { .. } | DelAddress { .. } => {
            need(Need::Link(k.link))
        }
        SetUp { .. } => {
            let l = k.link;
            need(Need::Link(l));
            need(Need::Mtu(l));
            // Its `disable_ipv6` comes first too, so the link never sends IPv6 DAD/MLD
            // multicast.
            need(Need::Ipv6Off(l));
        }
        SetMaster { master, .. } | ClearMaster { master, .. } => {
            need(Need::Link(k.link));
            need(Need::Link(ids.link(ns, master)));
        }
        AddRoute { route, .. } | DelRoute { route, .. } => {
            let dev = route.dev.as_deref().map_or(NONE, |d| ids.link(ns, d));
            if dev != NONE {
                need(Need::Link(dev));
                need(Need::Up(dev));
            }
            if let (AddRoute { .. }, Some(via)) = (a, route.via) {
                let at = u32::try_from(vias.len()).expect("fewer than 2^32 routes");
                vias.push(via);
                need(Need::Via { ns, dev, via: at });
            }
        }
        SetSysctl {
            sysctl: Sysctl::DisableIpv6(_),
            ..
        } => need(Need::Link(k.link)),
        SetSysctl { .. } => need(Need::Ready(ns)),
        AddNat { rule, .. } | DelNat { rule, .. } => {
            need(Need::Link(ids.link(ns, &rule.out)));
            need(Need::Fwd(ns, 0));
            need(Need::Fwd(ns, 1));
        }
        // The table goes in once the links and addresses it names exist (nft takes
        // names and addresses as they are, but a half-built router takes no traffic).
        SetRuleset { from, to, .. } => {
            for r in from.iter().chain(to) {
                for out in r.masquerade.iter().map(|m| &m.out) {
                    need(Need::Link(ids.link(ns, out)));
                }
                for iif in r.dnat.iter().filter_map(|d| d.iif.as_ref()) {
                    need(Need::Link(ids.link(ns, iif)));
                }
            }
            need(Need::Addrs(ns));
        }
        _ => {}
    }
}

/// Appends the "needs" edges among the actions of one direction (`removal == true`: the
/// removals, seen as the additions they undo, edges reversed) to `edges`, packed
/// (consumer << 32 | provider).
///
/// `actions` are read in the order given (the order they were made in); `rank[i]` is
/// action `i`'s step in the sorted order (`NONE`: a duplicate, skipped), and the edges
/// are between those. Where several actions provide one thing, the first in the sorted
/// order does (the smallest rank; `disable_ipv6`: the last), so the edges do not depend
/// on the order the actions are read in.
fn needs_edges<'a>(
    actions: &'a [Action],
    keys: &[Key],
    rank: &[u32],
    removal: bool,
    ids: &mut Ids<'a>,
    edges: &mut Vec<u64>,
) {
    let mut p = Providers::default();
    let mut wanted: Vec<(u32, Need)> = Vec::with_capacity(actions.len() * 3);
    let mut vias: Vec<IpAddr> = Vec::new();
    for ((a, k), i) in actions.iter().zip(keys).zip(rank) {
        if *i == NONE {
            continue;
        }
        provides(a, *k, *i, ids, &mut p);
        needs(a, *k, *i, ids, &mut wanted, &mut vias);
    }
    let mut edge = |from: u32, to: u32| {
        let (from, to) = if removal { (to, from) } else { (from, to) };
        edges.push((u64::from(to) << 32) | u64::from(from));
    };
    for (i, need) in wanted {
        let provider = match need {
            Need::Ns(n) => get(&p.ns, n),
            Need::Link(l) => get(&p.link, l),
            Need::Up(l) => get(&p.up, l),
            Need::Mtu(l) => get(&p.mtu, l),
            Need::Fwd(n, k) => p.fwd.get(n as usize).map_or(NONE, |f| f[usize::from(k)]),
            Need::Ipv6Off(l) => {
                let off = get(&p.ipv6_off, l);
                if off != NONE {
                    edge(off, i);
                }
                continue;
            }
            Need::Via { ns, dev, via } => {
                let via = vias[via as usize];
                for (a, link, net) in p.addrs.get(ns as usize).map(Vec::as_slice).unwrap_or(&[]) {
                    if (dev == NONE || dev == *link) && net.contains(via) {
                        edge(*a, i);
                        let up = get(&p.up, *link);
                        if up != NONE {
                            edge(up, i);
                        }
                    }
                }
                continue;
            }
            Need::Ready(n) => {
                for r in p.ready.get(n as usize).map(Vec::as_slice).unwrap_or(&[]) {
                    edge(*r, i);
                }
                continue;
            }
            Need::Addrs(n) => {
                for (a, _, _) in p.addrs.get(n as usize).map(Vec::as_slice).unwrap_or(&[]) {
                    edge(*a, i);
                }
                continue;
            }
        };
        if provider != NONE && provider != i {
            edge(provider, i);
        }
    }
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
            for end in spec.ends(ns) {
                out.push(Slot::Name(end.ns, end.name));
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

/// Appends edges from a removal to the additions that take what it frees (a link
/// recreated under the same name, a route replaced, a port moved to another bridge) to
/// `edges`, packed (consumer << 32 | provider).
fn conflict_edges(all: &[(bool, &Action)], edges: &mut Vec<u64>) {
    let mut freed: HashMap<Slot<'_>, Vec<u32>> = HashMap::default();
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
            freed
                .entry(s)
                .or_default()
                .push(u32::try_from(i).expect("fewer than 2^32 actions"));
        }
    }
    if freed.is_empty() {
        return;
    }
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
                edges.push(((i as u64) << 32) | u64::from(*r));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mac;
    use crate::plan::LinkSpec;

    /// One action of every variant, in declaration order.
    fn one_of_each() -> Vec<Action> {
        let ns = NsRef::Ct(Name::from("c"));
        let net: ipnetwork::IpNetwork = "198.18.0.1/24".parse().expect("a prefix");
        let route = super::super::RouteSpec {
            dst: net,
            via: None,
            dev: Some(Name::from("eth0")),
            metric: None,
        };
        let rule = super::super::NatRule {
            source: net,
            out: Name::from("eth0"),
        };
        let spec = LinkSpec::Bridge {
            name: Name::from("br0"),
            mac: Mac::new(2, 0, 0, 0, 0, 1),
            stp: false,
            mtu: None,
        };
        let s = |x: &str| x.to_string();
        let (n, l) = (ns, Name::from("eth0"));
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
                master: Name::from("br0"),
            },
            Action::ClearMaster {
                ns: n.clone(),
                link: l.clone(),
                master: Name::from("br0"),
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
                sysctl: Sysctl::DisableIpv6(Name::from(l)),
                value: Name::from("1"),
                previous: Name::from("0"),
            },
            Action::AddNat {
                ns: n.clone(),
                rule: rule.clone(),
            },
            Action::DelNat {
                ns: n.clone(),
                rule: rule.clone(),
            },
            Action::SetRuleset {
                ns: n,
                from: None,
                to: Some(super::super::Ruleset {
                    masquerade: vec![rule],
                    ..Default::default()
                }),
            },
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

    /// NAT waits for the namespace's forwarding switches and its outgoing link, and for
    /// nothing in another namespace.
    #[test]
    fn nat_comes_after_forwarding_and_its_link() {
        let gw = NsRef::Ct(Name::from("gw"));
        let other = NsRef::Node(Name::from("n1"));
        let sysctl = |sysctl: Sysctl| Action::SetSysctl {
            ns: gw.clone(),
            sysctl,
            value: Name::from("1"),
            previous: Name::from("0"),
        };
        let nat = Action::AddNat {
            ns: gw.clone(),
            rule: super::super::NatRule {
                source: "198.18.0.0/24".parse().expect("a prefix"),
                out: Name::from("wan"),
            },
        };
        let additions = vec![
            nat.clone(),
            sysctl(Sysctl::Ipv6Forward),
            Action::CreateNamespace { ns: other.clone() },
            sysctl(Sysctl::Ipv4Forward),
            Action::CreateLink {
                ns: gw.clone(),
                spec: LinkSpec::Bridge {
                    name: Name::from("wan"),
                    mac: Mac::new(2, 0, 0, 0, 0, 1),
                    stp: false,
                    mtu: None,
                },
            },
            Action::CreateNamespace { ns: gw.clone() },
        ];
        let plan = order("t", Vec::new(), additions);
        let step = plan
            .steps
            .iter()
            .find(|s| s.action == nat)
            .expect("the NAT step");
        let mut needs: Vec<&Action> = step.after.iter().map(|i| &plan.steps[*i].action).collect();
        needs.sort();
        let create_ns = Action::CreateNamespace { ns: gw.clone() };
        let (v4, v6) = (sysctl(Sysctl::Ipv4Forward), sysctl(Sysctl::Ipv6Forward));
        assert_eq!(needs.len(), 4, "{needs:?}");
        for want in [&create_ns, &v4, &v6] {
            assert!(needs.contains(&want), "{want:?} missing from {needs:?}");
        }
        assert!(needs
            .iter()
            .any(|a| matches!(a, Action::CreateLink { spec, .. } if spec.name() == "wan")));
    }

    #[test]
    fn variant_index_follows_the_derived_order() {
        let mut all = one_of_each();
        // Reversed, so the sort has to do the work.
        all.reverse();
        all.sort();
        let indices: Vec<u8> = all.iter().map(variant).collect();
        assert_eq!(indices, (0..21).collect::<Vec<u8>>());
    }

    /// The packed-key sort gives exactly the order of sorting by `(sort_key, action)`.
    #[test]
    fn rank_sorted_matches_the_plain_sort() {
        let names = ["eth0", "eth1", "e", "veth10.0", "veth9.0", "br0", "switch"];
        let nss = [
            NsRef::Node(Name::from("m1")),
            NsRef::Node(Name::from("m2")),
            NsRef::Ct(Name::from("c1")),
            NsRef::Ct(Name::from("c10")),
            NsRef::Ct(Name::from("c2")),
            NsRef::Lan(Name::from("lan0")),
            NsRef::Host(Name::from("h0")),
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
        plain.sort_unstable_by(|a, b| {
            sort_key((a.0, &a.1))
                .cmp(&sort_key((b.0, &b.1)))
                .then_with(|| a.1.cmp(&b.1))
        });
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
                    *n = Name::from(name);
                }
            }
            MoveLink { from, name: n, .. } => {
                *from = to.clone();
                *n = Name::from(name);
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
                *link = Name::from(name);
            }
            AddRoute { ns, route } | DelRoute { ns, route } => {
                *ns = to.clone();
                route.dev = Some(Name::from(name));
            }
            AddNat { ns, rule } | DelNat { ns, rule } => {
                *ns = to.clone();
                rule.out = Name::from(name);
            }
            SetRuleset { ns, to: rules, .. } => {
                *ns = to.clone();
                for r in rules.iter_mut().flat_map(|r| &mut r.masquerade) {
                    r.out = Name::from(name);
                }
            }
            SetSysctl { ns, .. } => *ns = to.clone(),
            WriteFile { path, .. } | RemoveFile { path, .. } => *path = name.to_string(),
        }
    }
}
