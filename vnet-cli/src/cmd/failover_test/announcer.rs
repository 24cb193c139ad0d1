//! Announcements in the background: once the moved containers are started, a thread
//! per addressed interface waits until their ports forward and announces its addresses
//! on the schedule (gratuitous ARP / unsolicited NA), so a long schedule (the issue's
//! 0, 20, 200 ms, 1 s, 5 s) never delays a start. The run stops them once it has
//! measured.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;
use vnet_core::plan::Name;

use anyhow::anyhow;
use vnet_backend_netlink::announce;
use vnet_core::model::Container;
use vnet_core::plan::NsRef;
use vnet_core::ValidTopology;

use crate::exit::Failure;
use crate::sandbox::{backend_failure, Resolved};

/// One interface of a moved container to announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The container's namespace file.
    pub ct_ns: PathBuf,
    /// The interface inside the container.
    pub ifname: String,
    /// The namespace file and name of the port to wait for (`None`: rides on a parent).
    pub port: Option<(PathBuf, String)>,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
}

/// The addressed interfaces of `c` running on `node`, with the ports that carry them:
/// a veth's host end on the node's bridge, a NIC stand-in's port `n<id>.<index>` on its
/// LAN's switch; a VLAN link rides on its parent's port.
pub fn interfaces(
    t: &ValidTopology,
    target: &Resolved,
    c: &Container,
    node: &str,
) -> Result<Vec<Interface>, Failure> {
    let path = |ns: NsRef| {
        target
            .ns_path(&ns)
            .ok_or_else(|| Failure::system(anyhow!("no namespace file for {ns}")))
    };
    let ct_ns = path(NsRef::Ct(Name::from(&c.name)))?;
    let node_ns = path(NsRef::Node(Name::from(node)))?;
    let mut out = Vec::new();
    for v in &c.veth {
        out.push(Interface {
            ct_ns: ct_ns.clone(),
            ifname: v.name.clone(),
            port: v
                .bridge
                .as_ref()
                .map(|_| (node_ns.clone(), t.veth_host_name(c, v).to_string())),
            addresses: v.addresses.iter().map(|a| a.ip()).collect(),
        });
    }
    for (index, nic) in c.nic.iter().enumerate() {
        out.push(Interface {
            ct_ns: ct_ns.clone(),
            ifname: nic.name.clone(),
            port: Some((
                path(NsRef::Lan(Name::from(&nic.lan)))?,
                format!("n{}.{index}", c.id),
            )),
            addresses: nic.addresses.iter().map(|a| a.ip()).collect(),
        });
    }
    for v in &c.vlan {
        out.push(Interface {
            ct_ns: ct_ns.clone(),
            ifname: v.name.clone(),
            port: None,
            addresses: v.addresses.iter().map(|a| a.ip()).collect(),
        });
    }
    out.retain(|i| !i.addresses.is_empty());
    Ok(out)
}

/// How long a port may take to forward before its announcer gives up.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Spawns the announcer of `i` on `scope`: it waits until every port of `ports` (those
/// of all the moved containers) forwards, then announces on `schedule` until `stop`.
/// Its result is the number of frames sent.
///
/// Why every port, not only its own: a leaf's announcement also resolves the gateway's
/// neighbour entry for it. The gateway's first forwarded packet makes that entry; when
/// the gateway's own port did not forward yet, the bridge drops its ARP request and the
/// entry waits for the kernel's 1 s retry, or for the leaf's next announcement. Measured
/// with each interface waiting for its own port only: a few runs in a hundred had a
/// 200 ms gap, the echoes queued on the router until the leaf's 200 ms announcement.
pub fn spawn<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    i: Interface,
    ports: Arc<Vec<(PathBuf, String)>>,
    schedule: &'env [Duration],
    stop: &'env AtomicBool,
) -> ScopedJoinHandle<'scope, Result<usize, Failure>> {
    scope.spawn(move || {
        for (ns, port) in ports.iter() {
            announce::wait_forwarding(ns, port, FORWARD_TIMEOUT).map_err(backend_failure)?;
        }
        let r = announce::announce_until(&i.ct_ns, &i.ifname, &i.addresses, schedule, stop)
            .map_err(backend_failure)?;
        Ok(r.arp_sent + r.na_sent)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::Target;

    #[test]
    fn the_router_announces_its_bridge_side_and_its_uplink() {
        let text = include_str!("../../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let target = Target::sandbox("vnet").resolve(&t).unwrap();
        let router = crate::sandbox::container(&t, "router").unwrap();
        let list = interfaces(&t, &target, router, "m2").unwrap();
        let ports: Vec<(String, Option<String>)> = list
            .iter()
            .map(|i| (i.ifname.clone(), i.port.as_ref().map(|p| p.1.clone())))
            .collect();
        assert_eq!(
            ports,
            [
                ("eth0".into(), Some("veth1".into())),
                ("eth1".into(), Some("n101.0".into()))
            ]
        );
        assert_eq!(
            list[1].port.as_ref().unwrap().0,
            PathBuf::from("/run/netns/vnet-lan46")
        );
        assert_eq!(list[0].ct_ns, PathBuf::from("/run/netns/vnet-router"));
    }
}
