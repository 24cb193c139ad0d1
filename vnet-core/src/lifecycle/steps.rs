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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::tests::seed;
    use crate::plan::compile;

    #[test]
    fn on_a_node_the_shared_steps_are_its_bridges_not_other_containers_cables() {
        let t = seed();
        let scope = Scope::Node("m1".into());
        let plan = compile(&t, &scope);
        let shared: Vec<&Action> = plan
            .actions()
            .filter(|a| node_shared(&t, "m1", &scope, a))
            .collect();
        assert!(shared.iter().any(|a| matches!(a,
            Action::CreateLink { spec, .. } if spec.name() == "br0")));
        for a in &shared {
            assert_eq!(a.ns(), Some(&NsRef::Node("m1".into())), "{a:?}");
            for cable in ["veth1", "veth2", "veth3", "eth1"] {
                assert_ne!(a.link(), Some(cable), "{a:?}");
            }
        }
    }

    #[test]
    fn a_containers_steps_are_its_namespace_and_its_cables_only() {
        let t = seed();
        let on_m2 = t.placed("mail", "m2").unwrap();
        let plan = compile(&on_m2, &Scope::Sandbox);
        let mine = start_plan(&on_m2, &plan, "mail", "m2", &Scope::Sandbox);
        assert!(!mine.is_empty());
        for a in mine.actions() {
            let ns = a.ns().unwrap();
            assert!(
                *ns == NsRef::Ct("mail".into()) || *ns == NsRef::Node("m2".into()),
                "{a:?}"
            );
        }
        assert!(mine.actions().any(|a| matches!(a,
            Action::CreateLink { ns, spec } if *ns == NsRef::Node("m2".into()) && spec.name() == "veth2")));
        assert!(mine.actions().any(
            |a| matches!(a, Action::CreateNamespace { ns } if *ns == NsRef::Ct("mail".into()))
        ));
        // Nothing of the other containers, the bridges or the LANs.
        assert!(!mine.actions().any(|a| a.link() == Some("veth3")));
        assert!(!mine.actions().any(|a| a.link() == Some("br0")));
    }
}
