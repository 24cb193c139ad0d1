//! Which of the topology's endpoints `vnet verify` can probe from this machine.
//!
//! In the sandbox every namespace is here. On a real node (`--node m1 --this-host`) an
//! end is here when it is this node itself (the namespace vnet runs in, through the
//! node's own addresses) or a container that may run on this node and whose namespace
//! is found on it now; any other end (another node, a container elsewhere, a host on a
//! physical LAN) is elsewhere, with the reason, and pairs with such an end are not
//! probed here.

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
}

/// Where each endpoint of `t` is, for `target`.
pub fn ends(t: &ValidTopology, target: &Resolved) -> Ends {
    let mut out = Ends::default();
    let net = Network::from_topology(t);
    for ns in net.namespaces() {
        let found = match target.this_node() {
            None => target.ns_path(ns).ok_or_else(|| "no namespace".to_string()),
            Some(node) => on_node(t, target, node, ns),
        };
        match found {
            Ok(path) => {
                out.here.insert(ns.clone(), path);
            }
            Err(reason) => out.elsewhere.push((
                ns.clone(),
                Elsewhere {
                    ns: ns.to_string(),
                    reason,
                },
            )),
        }
    }
    out
}

/// The namespace file of `ns` when it is on real node `node`, else why not.
fn on_node(
    t: &ValidTopology,
    target: &Resolved,
    node: &str,
    ns: &NsRef,
) -> Result<PathBuf, String> {
    match ns {
        NsRef::Node(n) if n.as_str() == node => ns_file(&target.map, ns).map_err(|e| e.to_string()),
        NsRef::Node(n) => Err(format!("node {n} is another machine (this is {node})")),
        NsRef::Host(h) => {
            let lan = t
                .topology()
                .lan
                .iter()
                .find(|l| l.host.iter().any(|x| x.name == h.as_str()))
                .map_or(String::new(), |l| format!(" on LAN {}", l.name));
            Err(format!("a host{lan}, outside node {node}"))
        }
        NsRef::Ct(c) => {
            let Some(ct) = t.topology().ct.iter().find(|x| x.name == c.as_str()) else {
                return Err("not in the topology".into());
            };
            let nodes = t.ct_nodes(ct);
            if !nodes.contains(&node) {
                return Err(format!("runs on node {}, not {node}", nodes.join(" or ")));
            }
            let others: Vec<&str> = nodes.into_iter().filter(|n| *n != node).collect();
            let away = if others.is_empty() {
                String::new()
            } else {
                format!("; it may run on {}", others.join(" or "))
            };
            match ns_file(&target.map, ns) {
                Ok(path) if path.exists() => Ok(path),
                Ok(path) => Err(format!(
                    "not running on node {node}: {} does not exist{away}",
                    path.display()
                )),
                Err(e) => Err(format!("not running on node {node}: {e}{away}")),
            }
        }
        NsRef::Lan(l) => Err(format!("LAN {l} is a physical network")),
    }
}
