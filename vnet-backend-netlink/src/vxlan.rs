//! Reading VXLAN devices back into the model: their configuration from the link dump
//! (`ip -d link show`) and the remotes of their flooding FDB entries from the bridge
//! FDB dump (`bridge fdb show`), so a re-apply compares them exactly.

use std::collections::BTreeMap;
use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoVxlan};
use netlink_packet_route::RouteNetlinkMessage;
use vnet_core::observed::{LinkKind, ObservedNamespace};

use crate::error::Result;
use crate::ops;
use crate::session::NsHandle;

/// The kind of a VXLAN device from its `IFLA_INFO_DATA`; its remotes are filled in by
/// [`fill_remotes`]. `names` maps this namespace's ifindexes to names (the underlay
/// device is named only when it is here).
pub(crate) fn kind(data: Option<&InfoData>, names: &BTreeMap<u32, String>) -> LinkKind {
    let (mut vni, mut local, mut port, mut dev) = (0, None, 0, None);
    if let Some(InfoData::Vxlan(opts)) = data {
        for o in opts {
            match o {
                InfoVxlan::Id(v) => vni = *v,
                InfoVxlan::Local(a) => local = Some(IpAddr::V4(*a)),
                InfoVxlan::Local6(a) => local = Some(IpAddr::V6(*a)),
                InfoVxlan::Port(p) => port = *p,
                InfoVxlan::Link(i) => dev = names.get(i).cloned(),
                _ => {}
            }
        }
    }
    LinkKind::Vxlan {
        vni,
        local,
        port,
        dev,
        remotes: Vec::new(),
    }
}

/// Fills the remotes of every VXLAN device in `out` from one FDB dump of the namespace;
/// does nothing (no dump) when there is none.
pub(crate) fn fill_remotes(
    handle: &mut NsHandle,
    names: &BTreeMap<u32, String>,
    out: &mut ObservedNamespace,
) -> Result<()> {
    if !out
        .links
        .values()
        .any(|l| matches!(l.kind, LinkKind::Vxlan { .. }))
    {
        return Ok(());
    }
    for msg in handle.sock.dump(ops::fdb::dump(), "dump bridge FDB")? {
        let RouteNetlinkMessage::NewNeighbour(n) = msg else {
            continue;
        };
        let Some((index, remote)) = ops::fdb::flood_remote(&n) else {
            continue;
        };
        let link = names.get(&index).and_then(|name| out.links.get_mut(name));
        if let Some(LinkKind::Vxlan { remotes, .. }) = link.map(|l| &mut l.kind) {
            remotes.push(remote);
        }
    }
    for l in out.links.values_mut() {
        if let LinkKind::Vxlan { remotes, .. } = &mut l.kind {
            remotes.sort();
            remotes.dedup();
        }
    }
    Ok(())
}
