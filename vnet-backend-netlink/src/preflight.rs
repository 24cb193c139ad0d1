//! Checks before the first change: privileges, vnet's own namespace, and objects in the
//! way that vnet does not own (reported, never touched).

use std::fs;

use vnet_core::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use vnet_core::plan::{links_placed, Action, NsRef, Plan};

use crate::error::{Error, Result};
use crate::ns::{Netns, NsLocation};
use crate::session::Session;

/// `CAP_NET_ADMIN`.
const CAP_NET_ADMIN: u32 = 12;
/// `CAP_SYS_ADMIN` (setns, mount).
const CAP_SYS_ADMIN: u32 = 21;

/// The effective capability set of this process (`CapEff` in `/proc/self/status`).
pub fn effective_capabilities() -> std::io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .ok_or_else(|| std::io::Error::other("no CapEff line in /proc/self/status"))
}

/// Fails unless vnet holds CAP_NET_ADMIN and CAP_SYS_ADMIN.
pub fn check_privileges() -> Result<()> {
    let caps = effective_capabilities().map_err(|source| Error::Namespace {
        what: "read capabilities from",
        path: "/proc/self/status".into(),
        source,
    })?;
    for (bit, name) in [
        (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
    ] {
        if caps & (1u64 << bit) == 0 {
            return Err(Error::MissingCapability { capability: name });
        }
    }
    Ok(())
}

/// Fails when the plan would change the namespace vnet runs in and the map does not
/// allow it.
pub(crate) fn check_own_namespace(session: &mut Session<'_>, plan: &Plan) -> Result<()> {
    if session.map().allows_current() {
        return Ok(());
    }
    let own = Netns::open("/proc/self/ns/net")?.id()?;
    let mut seen = std::collections::BTreeSet::new();
    for action in plan.actions() {
        let mut touched: Vec<&NsRef> = action.ns().into_iter().collect();
        if let Action::MoveLink { to, .. } = action {
            touched.push(to);
        }
        // Every namespace a creation puts a link in or sends its request from (a veth's
        // peer, a macvlan's parent).
        if let Action::CreateLink { ns, spec } = action {
            for end in spec.ends(ns) {
                touched.push(end.ns);
                touched.extend(end.lower.map(|(lns, _)| lns));
            }
        }
        for ns in touched {
            if !seen.insert(ns.clone()) {
                continue;
            }
            if session.map().locate(ns)? == NsLocation::Current {
                return Err(Error::OwnNamespace { ns: ns.clone() });
            }
            if let Some(h) = session.get(ns)? {
                if h.id == own {
                    return Err(Error::OwnNamespace { ns: ns.clone() });
                }
            }
        }
    }
    Ok(())
}

/// Objects the plan would create but that exist already and are not this topology's:
/// a namespace whose `lo` carries no (or another) mark, a link of the same name.
pub fn check_in_the_way(topology: &str, plan: &Plan, observed: &ObservedState) -> Result<()> {
    let mine = |owner: &Option<String>| owner.as_deref() == Some(topology);
    // A link of ours the plan deletes before creating it again (a repair that changes
    // what cannot be changed in place, e.g. a VXLAN device's remotes) is not in the way.
    let deleted: std::collections::BTreeSet<(&vnet_core::plan::NsRef, &str)> = plan
        .actions()
        .filter_map(|a| match a {
            Action::DeleteLink { ns, spec } => Some((ns, spec.name())),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    for action in plan.actions() {
        match action {
            Action::CreateNamespace { ns } => {
                if let Some(o) = observed.namespaces.get(ns) {
                    if !mine(&o.owner) {
                        problems.push(Error::NotOwned {
                            ns: ns.clone(),
                            object: "namespace".into(),
                            topology: topology.into(),
                            owner: o.owner.clone(),
                        });
                    }
                }
            }
            Action::CreateLink { ns, spec } => {
                for end in spec.ends(ns) {
                    let (ns, name) = (end.ns, end.name);
                    let Some(there) = observed.namespaces.get(ns) else {
                        continue;
                    };
                    if let Some(link) = there
                        .links
                        .get(name)
                        .filter(|l| !(mine(&l.owner) && deleted.contains(&(ns, name))))
                    {
                        problems.push(link_in_the_way(topology, ns, name, link, there));
                    }
                }
            }
            _ => {}
        }
    }
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems.remove(0)),
        _ => Err(Error::Many(problems)),
    }
}

/// The refusal of `link`, named `name` in `ns` (observed as `there`), which is not
/// `topology`'s: one someone labelled with an alias of their own is named with it.
fn link_in_the_way(
    topology: &str,
    ns: &NsRef,
    name: &str,
    link: &ObservedLink,
    there: &ObservedNamespace,
) -> Error {
    match there.foreign_aliases.get(name) {
        Some(alias) if link.owner.is_none() => Error::ForeignAlias {
            ns: ns.clone(),
            link: name.to_string(),
            alias: alias.clone(),
            topology: topology.into(),
        },
        _ => Error::NotOwned {
            ns: ns.clone(),
            object: format!("link {name}"),
            topology: topology.into(),
            owner: link.owner.clone(),
        },
    }
}

/// Devices of the machine the plan uses without creating them, that are not there: a
/// NIC to pass into a container, a device to enslave to a bridge (`bridge.ports`), the
/// lower device of a link (a VXLAN device's underlay, a VLAN link's or macvlan's parent).
/// Reported together, before any change (instead of a rollback half-way).
pub fn check_devices_present(plan: &Plan, observed: &ObservedState) -> Result<()> {
    // What the plan itself puts in place (created, or moved in under a new name).
    let made: std::collections::BTreeSet<(&NsRef, &str)> = plan
        .actions()
        .flat_map(links_placed)
        .map(|(ns, name, _)| (ns, name))
        .collect();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for action in plan.actions() {
        let used: Vec<(&NsRef, &str)> = match action {
            Action::MoveLink { from, name, .. } => vec![(from, name.as_str())],
            Action::SetMaster { ns, link, .. } => vec![(ns, link.as_str())],
            Action::CreateLink { ns, spec } => {
                spec.ends(ns).into_iter().filter_map(|e| e.lower).collect()
            }
            _ => continue,
        };
        for (ns, link) in used {
            let there = observed
                .namespaces
                .get(ns)
                .is_some_and(|o| o.links.contains_key(link));
            if there || made.contains(&(ns, link)) || !seen.insert((ns, link)) {
                continue;
            }
            problems.push(Error::NoSuchLink {
                ns: ns.clone(),
                link: link.to_string(),
            });
        }
    }
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems.remove(0)),
        _ => Err(Error::Many(problems)),
    }
}

/// Namespaces and links the topology needs that exist but are not its own, and devices
/// of the node to enslave that are ports of a bridge not its own: the planner leaves
/// those alone (never touching a foreign object), so without this check the apply would
/// run into them half-way. Reported together, before any change.
pub fn check_foreign_links(
    topology: &str,
    expected: &ObservedState,
    observed: &ObservedState,
) -> Result<()> {
    let mut problems = Vec::new();
    for (ns, want) in &expected.namespaces {
        let Some(have) = observed.namespaces.get(ns) else {
            continue;
        };
        // A sandbox namespace of that name made by someone else (or another topology):
        // vnet would have to build inside it and could never delete it.
        if want.owner.is_some() && have.owner != want.owner {
            problems.push(Error::NotOwned {
                ns: ns.clone(),
                object: "namespace".into(),
                topology: topology.into(),
                owner: have.owner.clone(),
            });
        }
        for (name, wl) in &want.links {
            // A device of the node vnet enslaves (`bridge.ports`) that is a port of a
            // bridge that is not vnet's: taking it would cut whatever uses that bridge.
            if let (None, Some(bridge), Some(hl)) = (&wl.owner, &wl.master, have.links.get(name)) {
                let other = hl.master.as_ref().filter(|m| *m != bridge);
                if let Some(m) = other {
                    let theirs = have.links.get(m).map(|l| l.owner.clone());
                    if theirs
                        .as_ref()
                        .is_none_or(|o| o.as_deref() != Some(topology))
                    {
                        problems.push(Error::NotOwned {
                            ns: ns.clone(),
                            object: format!("bridge {m}, which holds port {name},"),
                            topology: topology.into(),
                            owner: theirs.flatten(),
                        });
                    }
                }
            }
            // Links vnet does not mark (lo, a NIC as the machine has it) are not claims.
            if wl.owner.as_deref() != Some(topology) || wl.kind == LinkKind::Loopback {
                continue;
            }
            if let Some(hl) = have.links.get(name) {
                if hl.owner.as_deref() != Some(topology) {
                    problems.push(link_in_the_way(topology, ns, name, hl, have));
                }
            }
        }
    }
    match problems.len() {
        0 => Ok(()),
        1 => Err(problems.remove(0)),
        _ => Err(Error::Many(problems)),
    }
}
