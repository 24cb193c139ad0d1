//! Layer 2: no loops between bridges (`l2-loop`) and at most 1023 ports on a bridge
//! (`bridge-port-limit`, the kernel's `BR_MAX_PORTS`).
//!
//! Bridges joined by patches form a graph. A patch lies on a cycle exactly when it is
//! not a cut edge of that graph (petgraph's `bridges`) or has a parallel twin; the cycle
//! is allowed only when every bridge on it runs STP, so a patch is reported when it lies
//! on a cycle and one of its own bridges does not run STP (every cycle through a bridge
//! without STP passes through one of that bridge's patches).

use foldhash::{HashMap, HashMapExt};
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};

use super::refs::Declared;
use super::site::{ct_nodes, Site};
use super::{Ctx, Findings};
use crate::rules::Rule;

/// The most ports a Linux bridge takes (`BR_MAX_PORTS`); the 1024th fails with EXFULL.
pub(crate) const MAX_BRIDGE_PORTS: usize = 1023;

pub(super) fn check(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    patch_cycles(ctx, d, f);
    ports(ctx, d, f);
    port_limit(ctx, d, f);
}

fn patch_cycles(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    let stp: BTreeMap<&str, bool> = t
        .bridge
        .iter()
        .rev()
        .map(|b| (b.name.as_str(), b.stp))
        .collect();
    let mut g: UnGraph<&str, ()> = UnGraph::new_undirected();
    let mut vertex: BTreeMap<&str, NodeIndex> = BTreeMap::new();
    // Unordered bridge pair -> the patches joining it, in document order.
    let mut pairs: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, p) in t.patch.iter().enumerate() {
        let (a, b) = (p.a.bridge.as_str(), p.b.bridge.as_str());
        if !d.bridges.contains_key(a) || !d.bridges.contains_key(b) {
            continue; // ref-missing
        }
        if a == b {
            f.push(
                Rule::L2Loop,
                &Site::PatchEnd(i, true).path(t).field("bridge"),
                format!("both ends of the patch are on bridge {a}: a loop"),
            );
            continue;
        }
        pairs.entry((a.min(b), a.max(b))).or_default().push(i);
    }
    for &(a, b) in pairs.keys() {
        let va = *vertex.entry(a).or_insert_with(|| g.add_node(a));
        let vb = *vertex.entry(b).or_insert_with(|| g.add_node(b));
        g.add_edge(va, vb, ());
    }
    let cut: BTreeSet<(&str, &str)> = petgraph::algo::bridges(&g)
        .map(|e| {
            let (a, b) = (g[e.source()], g[e.target()]);
            (a.min(b), a.max(b))
        })
        .collect();
    for (&(a, b), patches) in &pairs {
        let on_cycle = patches.len() > 1 || !cut.contains(&(a, b));
        let both_stp = stp.get(a).copied().unwrap_or(false) && stp.get(b).copied().unwrap_or(false);
        if !on_cycle || both_stp {
            continue;
        }
        // Report the patch that closes the loop: the last one of the pair.
        let i = *patches.last().unwrap_or(&0);
        let why = if patches.len() > 1 {
            format!("{} patches join bridges {a} and {b}", patches.len())
        } else {
            format!("bridges {a} and {b} are also joined by another path")
        };
        f.push(
            Rule::L2Loop,
            &Site::PatchEnd(i, false).path(t).field("bridge").clone(),
            format!("{why}: a loop without STP on every bridge of it"),
        );
    }
}

/// A bridge as another bridge's port, or one device as the port of two bridges on a node.
fn ports(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    // Port name -> (bridge index, port index) of each listing so far.
    let mut seen: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, b) in t.bridge.iter().enumerate() {
        for (j, port) in b.ports.iter().enumerate() {
            let path = || Site::BridgePort(i, j).path(t);
            if d.bridges.contains_key(port.as_str()) {
                f.push(
                    Rule::L2Loop,
                    &path(),
                    format!("bridge {port} is listed as a port of bridge {}", b.name),
                );
                continue;
            }
            let earlier = seen.entry(port.as_str()).or_default();
            let here = d.bridges.get(b.name.as_str());
            let clash = earlier.iter().find(|(bi, _)| {
                let other = d.bridges.get(t.bridge[*bi].name.as_str());
                match (here, other) {
                    (Some(x), Some(y)) => {
                        x.intersection(y).next().is_some() || (x.is_empty() && y.is_empty())
                    }
                    _ => true,
                }
            });
            if let Some(&(bi, bj)) = clash {
                f.push(
                    Rule::L2Loop,
                    &path(),
                    format!(
                        "device {port} is already a port at {}; a device joins one bridge",
                        Site::BridgePort(bi, bj).path(t).human()
                    ),
                );
            } else {
                // Only listings on disjoint nodes are kept, so this list stays short.
                earlier.push((i, j));
            }
        }
    }
}

/// `bridge-port-limit`: on each node, a bridge's ports are the host ends of the veths of
/// every container that may run there, its listed ports and the patch ends on it.
fn port_limit(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    // (bridge, node) -> ports; counted and looked up, never walked.
    let mut count: HashMap<(&str, &str), usize> = HashMap::new();
    for ct in &t.ct {
        for v in &ct.veth {
            let Some(b) = v.bridge.as_deref() else {
                continue;
            };
            for n in ct_nodes(t, ct) {
                *count.entry((b, n)).or_default() += 1;
            }
        }
    }
    // Listed ports and patch ends, per bridge name.
    let mut fixed: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &t.bridge {
        *fixed.entry(b.name.as_str()).or_default() += b.ports.len();
    }
    for p in &t.patch {
        *fixed.entry(p.a.bridge.as_str()).or_default() += 1;
        *fixed.entry(p.b.bridge.as_str()).or_default() += 1;
    }
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for (i, b) in t.bridge.iter().enumerate() {
        let Some(nodes) = d.bridges.get(b.name.as_str()) else {
            continue;
        };
        if !done.insert(b.name.as_str()) {
            continue; // a repeated bridge: name-duplicate
        }
        let extra = fixed.get(b.name.as_str()).copied().unwrap_or(0);
        for n in nodes {
            let total = extra + count.get(&(b.name.as_str(), *n)).copied().unwrap_or(0);
            if total > MAX_BRIDGE_PORTS {
                f.push(
                    Rule::BridgePortLimit,
                    &Site::Bridge(i).path(t),
                    format!(
                        "bridge {} has {total} ports on node {n}; a Linux bridge takes at most {MAX_BRIDGE_PORTS}",
                        b.name
                    ),
                );
            }
        }
    }
}
