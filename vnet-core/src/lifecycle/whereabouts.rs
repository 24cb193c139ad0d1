//! [`Whereabouts`]: where a container is in an observed state, in the sandbox (every
//! node is a namespace here, vnet made the container's namespace) or on a real node
//! (this machine is one node, the container's runtime owns its namespace).

use serde::Serialize;

use crate::model::Container;
use crate::observed::ObservedState;
use crate::plan::{Name, NsRef, Scope};
use crate::ValidTopology;

/// Where a container is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Whereabouts {
    /// Seen in the sandbox (`false`: on a real node, this machine).
    pub sandbox: bool,
    /// Its namespace exists.
    pub ns_exists: bool,
    /// The namespace carries this topology's mark (vnet made it; never on a real node).
    pub ours: bool,
    /// The node that holds its host-side cables (the first of its nodes that does).
    pub node: Option<String>,
    /// Its namespace holds links (other than `lo`) marked by this topology: its cables'
    /// inner ends or a NIC passed in.
    pub links_inside: bool,
}

impl Whereabouts {
    /// Where `ct` is in `observed`, observed in `scope`: [`Whereabouts::in_sandbox`] or
    /// [`Whereabouts::on_node`].
    pub fn of(t: &ValidTopology, ct: &Container, observed: &ObservedState, scope: &Scope) -> Self {
        match scope {
            Scope::Sandbox => Self::in_sandbox(t, ct, observed),
            Scope::Node(here) => Self::on_node(t, ct, observed, here),
        }
    }

    /// Where `ct` is in the sandbox: its namespace, and the first of its nodes holding
    /// one of its host-side links (veth host ends, a NIC stand-in's cable).
    pub fn in_sandbox(t: &ValidTopology, ct: &Container, observed: &ObservedState) -> Self {
        let ns = observed.namespaces.get(&NsRef::Ct(Name::from(&ct.name)));
        let node = t
            .ct_nodes(ct)
            .into_iter()
            .find(|n| {
                let node_ns = NsRef::Node(Name::from(*n));
                let objects = t.ct_objects(&ct.name, n, &Scope::Sandbox);
                observed.namespaces.get(&node_ns).is_some_and(|o| {
                    objects
                        .links
                        .iter()
                        .any(|(ns, link)| *ns == node_ns && o.links.contains_key(link))
                })
            })
            .or_else(|| macvlan_node(t, ct, observed))
            .map(str::to_string);
        Whereabouts {
            sandbox: true,
            ns_exists: ns.is_some(),
            ours: ns.is_some_and(|o| o.owner.as_deref() == Some(t.name())),
            node,
            links_inside: links_inside(t, ct, observed),
        }
    }

    /// Where `ct` is on real node `here` (this machine): its namespace, and whether any
    /// of its veth pairs has its host end here or any link of this topology is inside
    /// its namespace (then `node` is `here`). Unlike the sandbox, a NIC device in the
    /// node's namespace does not count: that is where a NIC rests when no container
    /// holds it.
    pub fn on_node(
        t: &ValidTopology,
        ct: &Container,
        observed: &ObservedState,
        here: &str,
    ) -> Self {
        let ns = observed.namespaces.get(&NsRef::Ct(Name::from(&ct.name)));
        let node_ns = observed.namespaces.get(&NsRef::Node(Name::from(here)));
        let host_end = ct
            .veth
            .iter()
            .any(|v| node_ns.is_some_and(|o| o.links.contains_key(t.veth_host_name(ct, v))));
        let links_inside = links_inside(t, ct, observed);
        Whereabouts {
            sandbox: false,
            ns_exists: ns.is_some(),
            ours: false,
            node: (host_end || links_inside).then(|| here.to_string()),
            links_inside,
        }
    }

    /// Its network is there: in the sandbox its namespace exists and carries this
    /// topology's mark; on a real node its namespace holds some of its cables.
    pub fn running(&self) -> bool {
        if self.sandbox {
            self.ns_exists && self.ours
        } else {
            self.ns_exists && (self.node.is_some() || self.links_inside)
        }
    }

    /// Its cables are on a node and its namespace is vnet's (the sandbox) or its
    /// runtime's (a real node): its own objects can be compared with the topology.
    pub fn cabled(&self) -> bool {
        self.ns_exists && self.node.is_some() && (self.ours || !self.sandbox)
    }

    /// Cleanly not running: in the sandbox its namespace is gone and no host end is
    /// left on any node; on a real node its namespace is absent, or present without any
    /// of its cables.
    pub fn stopped(&self) -> bool {
        if self.sandbox {
            !self.ns_exists && self.node.is_none()
        } else {
            !self.ns_exists || (self.node.is_none() && !self.links_inside)
        }
    }
}

/// The node a container cabled by macvlans only sits on, in the sandbox: it has no
/// host-side end of its own (a macvlan's lower device is its node's, shared by every
/// macvlan on it, and the observed state does not say which namespace a macvlan's
/// lower device is in), so this is the first of its nodes whose namespace holds every
/// parent its macvlans ride on, while its namespace holds a link of this topology.
fn macvlan_node<'a>(
    t: &'a ValidTopology,
    ct: &'a Container,
    observed: &ObservedState,
) -> Option<&'a str> {
    if ct.macvlan.is_empty() || !links_inside(t, ct, observed) {
        return None;
    }
    t.ct_nodes(ct).into_iter().find(|n| {
        observed
            .namespaces
            .get(&NsRef::Node(Name::from(*n)))
            .is_some_and(|o| ct.macvlan.iter().all(|m| o.links.contains_key(&m.parent)))
    })
}

/// Whether `ct`'s namespace holds a link other than `lo` marked by this topology.
fn links_inside(t: &ValidTopology, ct: &Container, observed: &ObservedState) -> bool {
    observed
        .namespaces
        .get(&NsRef::Ct(Name::from(&ct.name)))
        .is_some_and(|o| {
            o.links
                .iter()
                .any(|(name, l)| name != "lo" && l.owner.as_deref() == Some(t.name()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::tests::seed;

    #[test]
    fn on_a_node_a_resting_nic_is_not_a_cable() {
        let t = seed();
        let router = t.topology().ct_by_name("router").unwrap();
        let up = crate::plan::expected_state(&t, &Scope::Node("m1".into()));
        let now = Whereabouts::on_node(&t, router, &up, "m1");
        assert!(now.ns_exists && now.links_inside, "{now:?}");
        assert_eq!(now.node.as_deref(), Some("m1"));
        // Stopped: the veth pair gone, the NIC back in the node's namespace (marked).
        let mut stopped = up.clone();
        let nic = stopped.namespaces[&NsRef::Ct("router".into())].links["eth1"].clone();
        let node = stopped
            .namespaces
            .get_mut(&NsRef::Node("m1".into()))
            .unwrap();
        node.links.remove("veth1");
        node.links.insert("eth1".into(), nic);
        let inside = stopped
            .namespaces
            .get_mut(&NsRef::Ct("router".into()))
            .unwrap();
        inside.links.retain(|name, _| name == "lo");
        let now = Whereabouts::on_node(&t, router, &stopped, "m1");
        assert!(now.ns_exists && !now.links_inside, "{now:?}");
        assert_eq!(now.node, None, "a NIC resting on the node is no cable");
        assert!(now.stopped());
        // The sandbox's rule would count it: that is why the node has its own.
        assert!(Whereabouts::in_sandbox(&t, router, &stopped).node.is_some());
    }
}
