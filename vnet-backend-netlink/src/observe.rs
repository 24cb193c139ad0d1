//! Observing: the kernel's state of a topology's namespaces, normalized into
//! [`ObservedState`] as `docs/ARCHITECTURE.md` describes (one dump each of links,
//! addresses and routes per namespace; the sysctls vnet manages; vnet's nft table).

use std::collections::{BTreeMap, BTreeSet};

use ipnetwork::IpNetwork;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoVlan, LinkAttribute, LinkFlags, LinkInfo,
    LinkLayerType, LinkMessage,
};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::RouteNetlinkMessage;
use vnet_core::model::Mac;
use vnet_core::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use vnet_core::ownership::owner_of;
use vnet_core::plan::{NatRule, NsRef, Sysctl};

use crate::error::{Error, Result};
use crate::ops;
use crate::session::{link_name, NsHandle, Session};

/// Observes every namespace in `namespaces`; those that do not exist are absent from
/// the result. Netlink dumps go namespace by namespace over the kept sockets; sysctls
/// and NAT, which need a thread inside each namespace, are read by a few workers.
pub(crate) fn observe(session: &mut Session<'_>, namespaces: &[NsRef]) -> Result<ObservedState> {
    let mut state = ObservedState::empty();
    for ns in namespaces {
        if let Some(handle) = session.get(ns)? {
            state
                .namespaces
                .insert(ns.clone(), observe_netlink(handle)?);
        }
    }
    let jobs: Vec<(&crate::ns::Netns, (NsRef, Vec<String>))> = state
        .namespaces
        .iter()
        .filter_map(|(ns, o)| {
            let links = o.links.keys().cloned().collect();
            session.netns_of(ns).map(|n| (n, (ns.clone(), links)))
        })
        .collect();
    let settings = crate::ns::run_many(&jobs, |(ns, links)| read_settings(ns, links));
    let mut read: Vec<(NsRef, BTreeMap<Sysctl, String>, BTreeSet<NatRule>)> = Vec::new();
    for ((_, (ns, _)), r) in jobs.iter().zip(settings) {
        let (sysctls, nat) = r??;
        read.push((ns.clone(), sysctls, nat));
    }
    for (ns, sysctls, nat) in read {
        if let Some(o) = state.namespaces.get_mut(&ns) {
            o.sysctls = sysctls;
            o.nat = nat;
        }
    }
    Ok(state)
}

/// One namespace's links, addresses and routes: one dump each.
fn observe_netlink(handle: &mut NsHandle) -> Result<ObservedNamespace> {
    let links = handle.dump_links()?;
    let names: BTreeMap<u32, String> = links
        .iter()
        .filter_map(|m| link_name(m).map(|n| (m.header.index, n.to_string())))
        .collect();
    let mut out = ObservedNamespace::default();
    for msg in &links {
        let Some(name) = link_name(msg) else { continue };
        let link = to_link(msg, &names);
        if link.kind == LinkKind::Loopback {
            out.owner = link.owner.clone();
        }
        out.links.insert(name.to_string(), link);
    }
    for msg in handle.sock.dump(ops::address::dump(), "dump addresses")? {
        let RouteNetlinkMessage::NewAddress(a) = msg else {
            continue;
        };
        add_address(&mut out, &a, &names);
    }
    for msg in handle.sock.dump(ops::route::dump(), "dump routes")? {
        let RouteNetlinkMessage::NewRoute(r) = msg else {
            continue;
        };
        if let Some(route) = to_route(&r, &names) {
            out.routes.insert(route);
        }
    }
    Ok(out)
}

/// The managed sysctls and the NAT rules, read on a thread inside the namespace.
fn read_settings(
    ns: &NsRef,
    links: &[String],
) -> Result<(BTreeMap<Sysctl, String>, BTreeSet<NatRule>)> {
    let mut wanted = vec![Sysctl::Ipv4Forward, Sysctl::Ipv6Forward];
    wanted.extend(
        links
            .iter()
            .filter(|l| l.as_str() != "lo")
            .map(|l| Sysctl::DisableIpv6(l.clone())),
    );
    let mut sysctls = BTreeMap::new();
    for s in wanted {
        let value = ops::sysctl::read(&s).map_err(|source| Error::Sysctl {
            ns: ns.clone(),
            key: s.key(),
            source,
        })?;
        if let Some(v) = value {
            sysctls.insert(s, v);
        }
    }
    let nat = ops::nat::list(ops::nat::table_exists())
        .map_err(|detail| Error::Nft {
            ns: ns.clone(),
            doing: "list table inet vnet".into(),
            detail,
        })?
        .into_iter()
        .map(|f| f.rule)
        .collect();
    Ok((sysctls, nat))
}

fn to_link(msg: &LinkMessage, names: &BTreeMap<u32, String>) -> ObservedLink {
    let mut mac = None;
    let mut mtu = 0;
    let mut master = None;
    let mut owner = None;
    let mut parent_index = None;
    let mut other_netns = false;
    let mut info: &[LinkInfo] = &[];
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::Address(bytes) => {
                mac = <[u8; 6]>::try_from(bytes.as_slice())
                    .ok()
                    .map(Mac::from)
                    .filter(|m| !m.is_zero());
            }
            LinkAttribute::Mtu(m) => mtu = *m,
            LinkAttribute::Controller(i) => master = names.get(i).cloned(),
            LinkAttribute::IfAlias(a) => owner = owner_of(a).map(str::to_string),
            LinkAttribute::Link(i) => parent_index = Some(*i),
            LinkAttribute::LinkNetNsId(_) => other_netns = true,
            LinkAttribute::LinkInfo(i) => info = i,
            _ => {}
        }
    }
    let kind_of_info = info.iter().find_map(|i| match i {
        LinkInfo::Kind(k) => Some(k),
        _ => None,
    });
    let data = info.iter().find_map(|i| match i {
        LinkInfo::Data(d) => Some(d),
        _ => None,
    });
    let kind = match (kind_of_info, data) {
        (Some(InfoKind::Veth), _) => LinkKind::Veth,
        (Some(InfoKind::Bridge), data) => {
            let stp = match data {
                Some(InfoData::Bridge(opts)) => opts.iter().any(
                    |o| matches!(o, InfoBridge::StpState(s) if *s != BridgeStpState::Disabled),
                ),
                _ => false,
            };
            LinkKind::Bridge { stp }
        }
        (Some(InfoKind::Vlan), data) => {
            let id = match data {
                Some(InfoData::Vlan(opts)) => opts
                    .iter()
                    .find_map(|o| match o {
                        InfoVlan::Id(id) => Some(*id),
                        _ => None,
                    })
                    .unwrap_or(0),
                _ => 0,
            };
            // The parent's index means a link here only when it is in this namespace.
            let parent = parent_index
                .filter(|_| !other_netns)
                .and_then(|i| names.get(&i).cloned());
            LinkKind::Vlan { parent, id }
        }
        (Some(other), _) => LinkKind::Other {
            kind: other.to_string(),
        },
        (None, _) if msg.header.link_layer_type == LinkLayerType::Loopback => LinkKind::Loopback,
        (None, _) => LinkKind::Other {
            kind: String::new(),
        },
    };
    ObservedLink {
        kind,
        mac,
        mtu,
        up: msg.header.flags.contains(LinkFlags::Up),
        master,
        owner,
        addresses: BTreeSet::new(),
    }
}

fn add_address(out: &mut ObservedNamespace, msg: &AddressMessage, names: &BTreeMap<u32, String>) {
    let Some((index, net)) = ops::address::parse(msg) else {
        return;
    };
    if is_link_local_v6(&net) {
        return;
    }
    let Some(name) = names.get(&index) else {
        return;
    };
    if let Some(link) = out.links.get_mut(name) {
        if link.kind != LinkKind::Loopback {
            link.addresses.insert(net);
        }
    }
}

fn is_link_local_v6(net: &IpNetwork) -> bool {
    match net {
        IpNetwork::V6(v6) => (v6.ip().segments()[0] & 0xffc0) == 0xfe80,
        IpNetwork::V4(_) => false,
    }
}

fn to_route(
    msg: &RouteMessage,
    names: &BTreeMap<u32, String>,
) -> Option<vnet_core::plan::RouteSpec> {
    let (mut route, oif) = ops::route::parse(msg)?;
    route.dev = oif.and_then(|i| names.get(&i).cloned());
    Some(route)
}
