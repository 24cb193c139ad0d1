//! References and identities: container ids (`ct-id-duplicate`), every name that points at
//! another element (`ref-missing`), the nodes containers run on (`node-missing`) and the
//! bridges those nodes must carry (`node-missing-bridge`).

use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

use super::site::{ct_nodes, ifaces, IfKind, Site};
use super::{Ctx, Findings};
use crate::path::ElementPath;
use crate::rules::Rule;

/// The names of the nodes, LANs and bridges, and the nodes each bridge exists on.
pub(crate) struct Declared<'a> {
    pub nodes: BTreeSet<&'a str>,
    pub lans: BTreeSet<&'a str>,
    /// Bridge name -> the nodes it exists on (`nodes`, else every node).
    pub bridges: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> Declared<'a> {
    pub(crate) fn new(t: &'a crate::model::Topology) -> Self {
        let nodes: BTreeSet<&str> = t.node.iter().map(|n| n.name.as_str()).collect();
        let lans = t.lan.iter().map(|l| l.name.as_str()).collect();
        let mut bridges = BTreeMap::new();
        for b in &t.bridge {
            let on: BTreeSet<&str> = match &b.nodes {
                Some(ns) => ns.iter().map(String::as_str).collect(),
                None => nodes.clone(),
            };
            bridges.entry(b.name.as_str()).or_insert(on);
        }
        Declared {
            nodes,
            lans,
            bridges,
        }
    }
}

fn missing(f: &mut Findings, path: &ElementPath, what: &str, name: &str) {
    f.push(
        Rule::RefMissing,
        path,
        format!("{what} {name:?} is not declared"),
    );
}

pub(super) fn check(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    for (i, b) in t.bridge.iter().enumerate() {
        for (k, n) in b.nodes.iter().flatten().enumerate() {
            if !d.nodes.contains(n.as_str()) {
                let p = Site::Bridge(i).path(t).field("nodes").index(k);
                missing(f, &p, "node", n);
            }
        }
    }
    for (i, p) in t.patch.iter().enumerate() {
        for (end, e) in [(false, &p.a), (true, &p.b)] {
            if !d.bridges.contains_key(e.bridge.as_str()) {
                let path = Site::PatchEnd(i, end).path(t).field("bridge");
                missing(f, &path, "bridge", &e.bridge);
            }
        }
        // A patch is a veth pair on one node, so its bridges must share a node.
        if let (Some(a), Some(b)) = (
            d.bridges.get(p.a.bridge.as_str()),
            d.bridges.get(p.b.bridge.as_str()),
        ) {
            if !a.is_empty() && !b.is_empty() && a.is_disjoint(b) {
                f.push(
                    Rule::NodeMissingBridge,
                    &Site::PatchEnd(i, true).path(t).field("bridge"),
                    format!(
                        "bridges {} and {} share no node, so no node can hold this patch",
                        p.a.bridge, p.b.bridge
                    ),
                );
            }
        }
    }
    for (i, s) in t.subnet.iter().enumerate() {
        let p = || Site::Subnet(i).path(t);
        if let Some(b) = &s.bridge {
            if !d.bridges.contains_key(b.as_str()) {
                missing(f, &p().field("bridge"), "bridge", b);
            }
        }
        if let Some(l) = &s.lan {
            if !d.lans.contains(l.as_str()) {
                missing(f, &p().field("lan"), "LAN", l);
            }
        }
    }
    if !t.ct.is_empty() && t.node.is_empty() {
        f.push(
            Rule::NodeMissing,
            &ElementPath::root().field("node"),
            format!("{} container(s) but no node to run them on", t.ct.len()),
        );
    }
    // Container id -> first index, looked up only; needed only when an id repeats,
    // which one sort of the ids tells (a map of 100,000 ids probed at random cost more).
    let mut sorted: Vec<u32> = t.ct.iter().map(|c| c.id).collect();
    sorted.sort_unstable();
    let repeats = sorted.windows(2).any(|w| w[0] == w[1]);
    let mut ids: Option<HashMap<u32, usize>> = repeats.then(|| HashMap::with_capacity(t.ct.len()));
    for i in 0..t.ct.len() {
        check_ct(ctx, d, i, ids.as_mut(), f);
    }
}

/// `ct-id-duplicate` for a repeated id (the first holder is in `ids`).
fn check_id(t: &crate::model::Topology, i: usize, ids: &mut HashMap<u32, usize>, f: &mut Findings) {
    let ct = &t.ct[i];
    if let Some(first) = ids.get(&ct.id) {
        f.push_clash(
            Rule::CtIdDuplicate,
            &Site::Ct(i).path(t).field("id"),
            &Site::Ct(*first).path(t).field("id"),
            format!(
                "container id {} is already used by {}",
                ct.id,
                Site::Ct(*first).path(t).human()
            ),
        );
    } else {
        ids.insert(ct.id, i);
    }
}

fn check_ct(
    ctx: &Ctx<'_>,
    d: &Declared<'_>,
    i: usize,
    ids: Option<&mut HashMap<u32, usize>>,
    f: &mut Findings,
) {
    let t = ctx.t;
    let ct = &t.ct[i];
    let p = || Site::Ct(i).path(t);
    if ct.id == 0 {
        f.push(
            Rule::CtIdDuplicate,
            &p().field("id"),
            "container id 0 is reserved (the host itself in OpenVZ)",
        );
    } else if let Some(ids) = ids {
        check_id(t, i, ids, f);
    }
    if let Some(n) = &ct.node {
        if !d.nodes.contains(n.as_str()) {
            f.push(
                Rule::NodeMissing,
                &p().field("node"),
                format!("node {n:?} is not declared"),
            );
        }
    }
    for (k, n) in ct.failover.iter().enumerate() {
        if !d.nodes.contains(n.as_str()) {
            f.push(
                Rule::NodeMissing,
                &p().field("failover").index(k),
                format!("failover node {n:?} is not declared"),
            );
        }
    }
    for (j, v) in ct.veth.iter().enumerate() {
        let Some(b) = &v.bridge else { continue };
        let path = || Site::Veth(i, j).path(t).field("bridge");
        match d.bridges.get(b.as_str()) {
            None => missing(f, &path(), "bridge", b),
            Some(on) => {
                for n in ct_nodes(t, ct) {
                    if d.nodes.contains(n) && !on.contains(n) {
                        f.push(
                            Rule::NodeMissingBridge,
                            &path(),
                            format!(
                                "container {} may run on node {n} but bridge {b} does not exist there",
                                ct.name
                            ),
                        );
                    }
                }
            }
        }
    }
    for (j, n) in ct.nic.iter().enumerate() {
        if !d.lans.contains(n.lan.as_str()) {
            missing(f, &Site::Nic(i, j).path(t).field("lan"), "LAN", &n.lan);
        }
    }
    for (j, m) in ct.macvlan.iter().enumerate() {
        if !d.lans.contains(m.lan.as_str()) {
            missing(f, &Site::Macvlan(i, j).path(t).field("lan"), "LAN", &m.lan);
        }
    }
    let ifs = ifaces(ct);
    for (j, v) in ct.vlan.iter().enumerate() {
        match ifs.get(v.parent.as_str()) {
            Some(IfKind::Veth(_) | IfKind::Nic(_)) => {}
            Some(kind @ (IfKind::Vlan(_) | IfKind::Macvlan(_))) => f.push(
                Rule::RefMissing,
                &Site::Vlan(i, j).path(t).field("parent"),
                format!(
                    "parent {:?} is a {} interface; a VLAN's parent is a veth or NIC of the container",
                    v.parent,
                    if matches!(kind, IfKind::Vlan(_)) { "VLAN" } else { "macvlan" }
                ),
            ),
            None => missing(
                f,
                &Site::Vlan(i, j).path(t).field("parent"),
                "parent interface",
                &v.parent,
            ),
        }
    }
    let venet_on = ct.venet.as_ref().is_some_and(|v| v.is_on());
    for (k, r) in ct.route.iter().enumerate() {
        if let Some(dev) = &r.dev {
            let known = ifs.contains_key(dev.as_str()) || (venet_on && dev == "venet0");
            if !known {
                let path = p().item("route", k, k).field("dev");
                missing(f, &path, "interface", dev);
            }
        }
    }
}
