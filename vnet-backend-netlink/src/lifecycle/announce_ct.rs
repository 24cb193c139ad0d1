//! After a start: for each addressed interface of the container, wait until the port
//! carrying it forwards, then announce its addresses from inside the container
//! ([`crate::announce`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use vnet_core::model::Container;
use vnet_core::plan::{Name, NsRef, Scope};
use vnet_core::ValidTopology;

use super::announcer::Target;
use super::{ns_file, StartOptions};
use crate::announce;
use crate::error::{Error, Result};
use crate::Backend;

/// One interface announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announced {
    /// The interface inside the container.
    pub ifname: String,
    /// The bridge/switch port waited for (`None`: not a port of anything).
    pub port: Option<String>,
    /// How long the port took to forward, in milliseconds.
    pub forwarding_after_ms: u128,
    /// The addresses announced.
    pub addresses: Vec<IpAddr>,
    /// Gratuitous ARP requests sent.
    pub arp_sent: usize,
    /// Unsolicited Neighbor Advertisements sent.
    pub na_sent: usize,
}

/// The namespace file and name of the port to wait for before announcing.
type Port = (PathBuf, String);

/// An addressed interface of a container and the port to wait for before announcing.
type Todo = (String, Option<Port>, Vec<IpAddr>);

impl Backend {
    /// Container `ct`'s namespace file and its addressed interfaces on `node`: what its
    /// background announcer sends for ([`super::announcer::follow`]).
    pub fn announce_targets(
        &self,
        t: &ValidTopology,
        ct: &str,
        node: &str,
    ) -> Result<(PathBuf, Vec<Target>)> {
        let scope = self.scope_on(node)?;
        let on_node = t.placed(ct, node)?;
        let c = super::container(&on_node, ct)?;
        let ct_ns = ns_file(self.map(), &NsRef::Ct(Name::from(ct)))?;
        let targets = self
            .todo(&on_node, c, node, &scope)?
            .into_iter()
            .filter(|(_, _, addresses)| !addresses.is_empty())
            .map(|(ifname, _, addresses)| Target { ifname, addresses })
            .collect();
        Ok((ct_ns, targets))
    }

    /// Waits for each addressed interface's port of `c` (on `node`, in `t` with `c`
    /// placed there) to forward, then announces its addresses on `options.schedule`.
    pub(super) fn announce_all(
        &self,
        t: &ValidTopology,
        c: &Container,
        node: &str,
        scope: &Scope,
        options: &StartOptions,
    ) -> Result<Vec<Announced>> {
        let ct_ns = ns_file(self.map(), &NsRef::Ct(Name::from(&c.name)))?;
        let todo = self.todo(t, c, node, scope)?;
        // One thread per interface: a gateway's uplink (what a LAN neighbour needs to
        // hear about after a failover) is not announced only after its other ports.
        std::thread::scope(|s| {
            let handles: Vec<_> = todo
                .into_iter()
                .filter(|(_, _, addresses)| !addresses.is_empty())
                .map(|(ifname, port, addresses)| {
                    let ct_ns = &ct_ns;
                    s.spawn(move || -> Result<Announced> {
                        let waited = match &port {
                            Some((ns, name)) => {
                                announce::wait_forwarding(ns, name, options.forward_timeout)?
                            }
                            None => Duration::ZERO,
                        };
                        let report =
                            announce::announce(ct_ns, &ifname, &addresses, &options.schedule)?;
                        Ok(Announced {
                            ifname,
                            port: port.map(|(_, p)| p),
                            forwarding_after_ms: waited.as_millis(),
                            addresses,
                            arp_sent: report.arp_sent,
                            na_sent: report.na_sent,
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::WorkerPanicked {
                            doing: format!("announcing {}'s addresses", c.name),
                        })
                    })
                })
                .collect()
        })
    }

    /// Every interface of `c` on `node` with its port and addresses.
    fn todo(
        &self,
        t: &ValidTopology,
        c: &Container,
        node: &str,
        scope: &Scope,
    ) -> Result<Vec<Todo>> {
        let node_ns = ns_file(self.map(), &NsRef::Node(Name::from(node)))?;
        let mut todo: Vec<Todo> = Vec::new();
        for v in &c.veth {
            let port = v
                .bridge
                .as_ref()
                .map(|_| (node_ns.clone(), t.veth_host_name(c, v).to_string()));
            todo.push((
                v.name.clone(),
                port,
                v.addresses.iter().map(|a| a.ip()).collect(),
            ));
        }
        for (index, nic) in c.nic.iter().enumerate() {
            // The sandbox's stand-in NIC is cabled to the LAN's switch port
            // `n<id>.<index>`; a real NIC's switch is outside, with no port state vnet
            // can read.
            let port = match scope {
                Scope::Sandbox => {
                    let lan_ns = ns_file(self.map(), &NsRef::Lan(Name::from(&nic.lan)))?;
                    Some((lan_ns, format!("n{}.{index}", c.id)))
                }
                Scope::Node(_) => None,
            };
            todo.push((
                nic.name.clone(),
                port,
                nic.addresses.iter().map(|a| a.ip()).collect(),
            ));
        }
        for v in &c.vlan {
            // A VLAN link rides on its parent, whose port was waited for above.
            todo.push((
                v.name.clone(),
                None,
                v.addresses.iter().map(|a| a.ip()).collect(),
            ));
        }
        Ok(todo)
    }
}
