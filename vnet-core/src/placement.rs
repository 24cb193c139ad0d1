//! Placing one container on one of its nodes: [`ValidTopology::placed`] gives the same
//! topology with the container's home node changed, so every plan compiled from it
//! builds that container there (failover, `vnet start CT --node N`); and
//! [`ValidTopology::ct_objects`] names the namespaces and links that belong to one
//! container, so a plan can be cut down to them.

use std::collections::BTreeSet;

use crate::plan::{Name, NsRef, Scope};
use crate::ValidTopology;

/// Why a container cannot be placed on a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The topology has no container of that name.
    #[error("topology {topology} has no container {ct}")]
    NoContainer {
        /// The topology's name.
        topology: String,
        /// The container asked for.
        ct: String,
    },
    /// The node is neither the container's home nor one of its failover nodes.
    #[error("container {ct} may run only on {}, not on node {node}", allowed.join(", "))]
    NotItsNode {
        /// The container.
        ct: String,
        /// The node asked for.
        node: String,
        /// Its home and failover nodes.
        allowed: Vec<String>,
    },
}

/// The namespaces and links that belong to one container when it runs on a node: its
/// own namespace, and in the node's and LANs' namespaces the links that are its cables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CtObjects {
    /// The container's namespace.
    pub ns: Option<NsRef>,
    /// `(namespace, link)` of its host-side veth ends and NIC (stand-in) outside it.
    pub links: BTreeSet<(NsRef, String)>,
}

impl CtObjects {
    /// Whether `(ns, link)` is one of the container's links outside its namespace.
    pub fn has_link(&self, ns: &NsRef, link: &str) -> bool {
        self.links.contains(&(ns.clone(), link.to_string()))
    }
}

impl ValidTopology {
    /// The same topology with container `ct`'s home node set to `node`, which must be
    /// its home or one of its failover nodes. Names, MACs and addresses do not depend on
    /// the node, so the derived values stay as they are.
    pub fn placed(&self, ct: &str, node: &str) -> Result<ValidTopology, PlacementError> {
        let Some(c) = self.topology().ct.iter().find(|c| c.name == ct) else {
            return Err(PlacementError::NoContainer {
                topology: self.name().to_string(),
                ct: ct.to_string(),
            });
        };
        let allowed = self.ct_nodes(c);
        if !allowed.contains(&node) {
            return Err(PlacementError::NotItsNode {
                ct: ct.to_string(),
                node: node.to_string(),
                allowed: allowed.iter().map(|s| s.to_string()).collect(),
            });
        }
        let mut topology = self.topology().clone();
        for c in topology.ct.iter_mut().filter(|c| c.name == ct) {
            c.node = Some(node.to_string());
        }
        // Validation already checked every reference on every node the container may
        // run on, so the placed topology is valid as well.
        Ok(ValidTopology::new(topology, self.resolved().clone()))
    }

    /// What container `ct` consists of when it runs on `node` in `scope`: its namespace,
    /// its veth host ends and NIC device in the node's namespace, and (sandbox) the NIC
    /// stand-in's peer `n<ctid>.<index>` in the LAN's namespace. Empty for an unknown
    /// container.
    pub fn ct_objects(&self, ct: &str, node: &str, scope: &Scope) -> CtObjects {
        let mut out = CtObjects::default();
        let Some(c) = self.topology().ct.iter().find(|c| c.name == ct) else {
            return out;
        };
        out.ns = Some(NsRef::Ct(Name::from(&c.name)));
        let node_ns = NsRef::Node(Name::from(node));
        for v in &c.veth {
            out.links
                .insert((node_ns.clone(), self.veth_host_name(c, v).to_string()));
        }
        for (index, nic) in c.nic.iter().enumerate() {
            let device = nic.device.clone().unwrap_or_else(|| nic.name.clone());
            out.links.insert((node_ns.clone(), device));
            if matches!(scope, Scope::Sandbox) {
                out.links.insert((
                    NsRef::Lan(Name::from(&nic.lan)),
                    format!("n{}.{index}", c.id),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{compile, Action, LinkSpec};

    fn seed() -> ValidTopology {
        let text = include_str!("../../examples/seed.toml");
        crate::Document::parse(text, crate::Format::Toml)
            .unwrap()
            .validate()
            .unwrap()
    }

    /// Every `(namespace, link name)` a plan creates.
    fn created(t: &ValidTopology) -> Vec<(NsRef, String)> {
        compile(t, &Scope::Sandbox)
            .actions()
            .filter_map(|a| match a {
                Action::CreateLink { ns, spec } => Some((ns.clone(), spec.name().to_string())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_placed_container_is_built_on_its_new_node_only() {
        let t = seed();
        let m1 = NsRef::Node("m1".into());
        let m2 = NsRef::Node("m2".into());
        assert!(created(&t).contains(&(m1.clone(), "veth2".into())));
        let placed = t.placed("mail", "m2").unwrap();
        let links = created(&placed);
        assert!(links.contains(&(m2.clone(), "veth2".into())), "{links:?}");
        assert!(!links.contains(&(m1.clone(), "veth2".into())), "{links:?}");
        // The pair's other end still goes into mail's namespace, with its MACs.
        let spec = compile(&placed, &Scope::Sandbox)
            .actions()
            .find_map(|a| match a {
                Action::CreateLink { ns, spec } if *ns == m2 && spec.name() == "veth2" => {
                    Some(spec.clone())
                }
                _ => None,
            })
            .unwrap();
        match spec {
            LinkSpec::Veth {
                peer_ns,
                peer_name,
                mac,
                ..
            } => {
                assert_eq!(peer_ns, NsRef::Ct("mail".into()));
                assert_eq!(peer_name, "eth0");
                assert_eq!(mac.to_string().to_uppercase(), "00:12:34:56:78:9C");
            }
            other => panic!("not a veth: {other:?}"),
        }
        // Nothing of mail in m1 any more; the other containers stay there.
        let placed_plan = compile(&placed, &Scope::Sandbox);
        assert!(!placed_plan
            .actions()
            .any(|a| { a.ns() == Some(&m1) && format!("{a:?}").contains("\"veth2\"") }));
        assert!(links.contains(&(m1, "veth3".into())));
        assert_eq!(placed.home_node(&placed.topology().ct[1]), "m2");
    }

    #[test]
    fn only_home_and_failover_nodes_are_allowed() {
        let t = seed();
        assert!(t.placed("mail", "m1").is_ok());
        assert!(matches!(
            t.placed("mail", "m9"),
            Err(PlacementError::NotItsNode { ref allowed, .. }) if allowed == &["m1", "m2"]
        ));
        assert!(matches!(
            t.placed("nosuch", "m1"),
            Err(PlacementError::NoContainer { .. })
        ));
    }

    #[test]
    fn a_containers_objects_are_its_namespace_host_ends_and_nic_cables() {
        let t = seed();
        let o = t.ct_objects("router", "m2", &Scope::Sandbox);
        assert_eq!(o.ns, Some(NsRef::Ct("router".into())));
        assert!(o.has_link(&NsRef::Node("m2".into()), "veth1"));
        assert!(o.has_link(&NsRef::Node("m2".into()), "eth1"));
        assert!(o.has_link(&NsRef::Lan("lan46".into()), "n101.0"));
        assert!(!o.has_link(&NsRef::Node("m1".into()), "veth1"));
        let node = t.ct_objects("router", "m1", &Scope::Node("m1".into()));
        assert_eq!(node.links.len(), 2);
        assert!(t
            .ct_objects("nosuch", "m1", &Scope::Sandbox)
            .links
            .is_empty());
    }
}
