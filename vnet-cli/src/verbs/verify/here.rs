//! Which of the topology's endpoints `vnet verify` can probe from this machine.
//!
//! In the sandbox every namespace is here. On a real node (`--node m1 --this-host`) an
//! end is here when it is this node itself (the namespace vnet runs in, through the
//! node's own addresses) or a container that may run on this node and whose namespace
//! is found on it now; any other end (another node, a container elsewhere, a host on a
//! physical LAN) is elsewhere, with the reason, and pairs with such an end are not
//! probed here. A container that may run on this node only and is not found is
//! missing: not elsewhere, but a difference from the topology.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use vnet_backend_netlink::lifecycle::ns_file;
use vnet_core::plan::NsRef;
use vnet_core::reach::Network;
use vnet_core::ValidTopology;

use crate::sandbox::Resolved;

/// An endpoint not probed from here, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Elsewhere {
    /// The endpoint, e.g. `host gw46`.
    pub ns: String,
    /// Why it is not on this machine.
    pub reason: String,
}

/// The topology's endpoints (namespaces with addresses), split by where they are.
#[derive(Debug, Clone, Default)]
pub struct Ends {
    /// Each endpoint on this machine and its namespace file.
    pub here: BTreeMap<NsRef, PathBuf>,
    /// The endpoints that are not, with the reason.
    pub elsewhere: Vec<(NsRef, Elsewhere)>,
    /// Containers that may run only on this node and are not found on it.
    pub missing: Vec<Elsewhere>,
}

/// Where one endpoint is.
enum Place {
    /// On this machine, in this namespace file.
    Here(PathBuf),
    /// Elsewhere, for this reason.
    Elsewhere(String),
    /// Nowhere, though it can run only here: why it was not found.
    Missing(String),
}

/// Where each endpoint of `t` is, for `target`.
pub fn ends(t: &ValidTopology, target: &Resolved) -> Ends {
    let mut out = Ends::default();
    let net = Network::from_topology(t);
    for ns in net.namespaces() {
        let place = match target.this_node() {
            None => target
                .ns_path(ns)
                .map_or_else(|| Place::Elsewhere("no namespace".into()), Place::Here),
            Some(node) => on_node(t, target, node, ns),
        };
        let named = |reason| Elsewhere {
            ns: ns.to_string(),
            reason,
        };
        match place {
            Place::Here(path) => {
                out.here.insert(ns.clone(), path);
            }
            Place::Elsewhere(reason) => out.elsewhere.push((ns.clone(), named(reason))),
            Place::Missing(reason) => out.missing.push(named(reason)),
        }
    }
    out
}

/// Where `ns` is, seen from real node `node`.
fn on_node(t: &ValidTopology, target: &Resolved, node: &str, ns: &NsRef) -> Place {
    match ns {
        NsRef::Node(n) if n.as_str() == node => match ns_file(&target.map, ns) {
            Ok(path) => Place::Here(path),
            Err(e) => Place::Missing(e.to_string()),
        },
        NsRef::Node(n) => Place::Elsewhere(format!("node {n} is another machine (this is {node})")),
        NsRef::Host(h) => {
            let lan = t
                .topology()
                .lan
                .iter()
                .find(|l| l.host.iter().any(|x| x.name == h.as_str()))
                .map_or(String::new(), |l| format!(" on LAN {}", l.name));
            Place::Elsewhere(format!("a host{lan}, outside node {node}"))
        }
        NsRef::Ct(c) => {
            let Some(ct) = t.topology().ct.iter().find(|x| x.name == c.as_str()) else {
                return Place::Elsewhere("not in the topology".into());
            };
            let nodes = t.ct_nodes(ct);
            if !nodes.contains(&node) {
                let on = nodes.join(" or ");
                return Place::Elsewhere(format!("runs on node {on}, not {node}"));
            }
            let others: Vec<&str> = nodes.into_iter().filter(|n| *n != node).collect();
            let why = match ns_file(&target.map, ns) {
                Ok(path) if path.exists() => return Place::Here(path),
                Ok(path) => format!(
                    "not running on node {node}: {} does not exist",
                    path.display()
                ),
                Err(e) => format!("not running on node {node}: {e}"),
            };
            if others.is_empty() {
                Place::Missing(format!("{why}, and it runs on no other node"))
            } else {
                Place::Elsewhere(format!("{why}; it may run on {}", others.join(" or ")))
            }
        }
        NsRef::Lan(l) => Place::Elsewhere(format!("LAN {l} is a physical network")),
    }
}
