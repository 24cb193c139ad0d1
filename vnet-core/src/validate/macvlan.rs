//! `macvlan-parent`: a macvlan sits on a device of each node its container runs on that
//! vnet neither makes there nor passes into a container (the kernel would refuse a
//! parent that moves away, and a macvlan on a bridge or veth of vnet's is not what the
//! topology says), and the macvlans on one parent of a node agree on its LAN. The
//! parent's name follows the interface name rules.

use std::collections::{BTreeMap, BTreeSet};

use super::names::check_name;
use super::site::{ct_nodes, Site};
use super::{Ctx, Findings};
use crate::rules::Rule;

/// The names vnet makes or moves on `node`.
fn made_on(ctx: &Ctx<'_>, node: &str) -> BTreeSet<String> {
    let t = ctx.t;
    let mut out = BTreeSet::new();
    for b in &t.bridge {
        if b.nodes
            .as_ref()
            .is_none_or(|ns| ns.iter().any(|n| n == node))
        {
            out.insert(b.name.clone());
            out.extend(b.ports.iter().cloned());
            out.extend(b.vxlan_name());
        }
    }
    for p in &t.patch {
        out.extend([p.a.name.clone(), p.b.name.clone()]);
    }
    if let Some(u) = t
        .node
        .iter()
        .find(|n| n.name == node)
        .and_then(|n| n.underlay.as_ref())
    {
        out.insert(u.dev.clone());
    }
    for ct in &t.ct {
        if !ct_nodes(t, ct).any(|n| n == node) {
            continue;
        }
        for v in &ct.veth {
            out.extend(ctx.r.host_names.get(&(ct.id, v.name.clone())).cloned());
        }
        for n in &ct.nic {
            out.insert(n.device.clone().unwrap_or_else(|| n.name.clone()));
        }
    }
    out
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    if t.ct.iter().all(|c| c.macvlan.is_empty()) {
        return; // the common case: nothing to index
    }
    let mut made: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut lan_of: BTreeMap<(&str, &str), (&str, Site)> = BTreeMap::new();
    for (i, ct) in t.ct.iter().enumerate() {
        for (j, m) in ct.macvlan.iter().enumerate() {
            let site = Site::Macvlan(i, j);
            check_name(&m.parent, || site.path(t).field("parent"), f);
            for node in ct_nodes(t, ct) {
                let taken = made.entry(node).or_insert_with(|| made_on(ctx, node));
                if taken.contains(&m.parent) {
                    f.push(
                        Rule::MacvlanParent,
                        &site.path(t).field("parent"),
                        format!(
                            "parent {:?} on node {node} is a device vnet makes or passes into a container there",
                            m.parent
                        ),
                    );
                }
                match lan_of.get(&(node, m.parent.as_str())) {
                    Some((lan, first)) if *lan != m.lan => f.push(
                        Rule::MacvlanParent,
                        &site.path(t).field("lan"),
                        format!(
                            "{} on node {node} is plugged into LAN {lan} by {}, not {}",
                            m.parent,
                            first.path(t).human(),
                            m.lan
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        lan_of.insert((node, m.parent.as_str()), (&m.lan, site));
                    }
                }
            }
        }
    }
}
