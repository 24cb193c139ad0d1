//! Which plan steps and which differences belong to one container.
//!
//! A container's own steps are everything in its namespace and, in other namespaces,
//! only what works on its cables (its veth pairs' host ends, a NIC passed in): never a
//! bridge, a LAN or another container's cable. On a real node the first container
//! started there also brings up the node's shared objects (its bridges, their ports and
//! addresses), which belong to no container.

use crate::plan::{Action, Name, NsRef, Plan, Scope};
use crate::{CtObjects, ValidTopology};

use super::Mismatch;

/// Whether `a` is one of the container's own steps: anything in its namespace, and in
/// other namespaces only what works on its cables.
pub fn concerns(objects: &CtObjects, a: &Action) -> bool {
    let Some(ns) = a.ns() else { return false };
    if Some(ns) == objects.ns.as_ref() {
        return true;
    }
    a.link().is_some_and(|link| objects.has_link(ns, link))
}

/// Whether `a` builds something of node `node` that all its containers share (a bridge,
/// a patch, a bridge's own port or address): in the node's namespace, and not a cable of
/// any container. On a real node the first container started there brings these up.
pub fn node_shared(t: &ValidTopology, node: &str, scope: &Scope, a: &Action) -> bool {
    let node_ns = NsRef::Node(Name::from(node));
    if a.ns() != Some(&node_ns) {
        return false;
    }
    match a.link() {
        None => true,
        Some(link) => !t
            .topology()
            .ct
            .iter()
            .any(|c| t.ct_objects(&c.name, node, scope).has_link(&node_ns, link)),
    }
}

/// The part of `plan` (planned for `placed`, the topology with `ct` on `node`) that
/// starts container `ct` there: its own steps and, on a real node, the node's shared
/// objects; in the same order.
pub fn start_plan(
    placed: &ValidTopology,
    plan: &Plan,
    ct: &str,
    node: &str,
    scope: &Scope,
) -> Plan {
    let objects = placed.ct_objects(ct, node, scope);
    let shared = *scope != Scope::Sandbox;
    plan.restricted_to(|a| concerns(&objects, a) || (shared && node_shared(placed, node, scope, a)))
}

/// Whether a difference is about the container's own objects: anything in its
/// namespace, elsewhere its cables (and their `disable_ipv6` switches).
pub fn own_mismatch(objects: &CtObjects, m: &Mismatch) -> bool {
    if Some(&m.ns) == objects.ns.as_ref() {
        return true;
    }
    m.object
        .link()
        .is_some_and(|link| objects.has_link(&m.ns, link))
}
