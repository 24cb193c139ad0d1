//! Observing: the kernel's state of a topology's namespaces, normalized into
//! [`ObservedState`] as `docs/ARCHITECTURE.md` describes (one dump each of links,
//! addresses and routes per namespace; the sysctls vnet manages; vnet's nft table).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ipnetwork::IpNetwork;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, BridgeStpState, InfoBridge, InfoData, InfoKind, InfoMacVlan,
    InfoVlan, LinkAttribute, LinkFlags, LinkInfo, LinkLayerType, LinkMessage,
};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::RouteNetlinkMessage;
use vnet_core::model::{Mac, MacvlanMode};
use vnet_core::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use vnet_core::ownership::owner_of;
use vnet_core::plan::{Name, NsRef, Ruleset, Sysctl};

use crate::error::{Error, Result};
use crate::netlink::{RequestCounter, RtSocket};
use crate::ns::Netns;
use crate::ops;
use crate::session::{link_name, NsHandle, Session};

/// Observes every namespace in `namespaces`; those that do not exist are absent from
/// the result. A few worker threads take them one at a time: enter one, open its
/// socket there if the session has none yet (kept for the session), dump its links,
/// addresses and routes, read its sysctls and NAT table, go on to the next. One entry
/// per namespace, so a namespace opened here costs no second pass.
pub(crate) fn observe(session: &mut Session<'_>, namespaces: &[NsRef]) -> Result<ObservedState> {
    const WORKERS: usize = 4;
    let fresh = session.unopened(namespaces)?;
    let counter = session.counter().clone();
    let mut work: Vec<Item<'_>> = session
        .handles_of(namespaces)
        .into_iter()
        .map(|(ns, handle)| Item::Open(ns, handle))
        .collect();
    work.extend(
        fresh
            .into_iter()
            .map(|(ns, netns)| Item::Fresh(ns, Some(netns))),
    );
    // Nodes and LANs first: their namespaces hold the bridges and every host end (one
    // of them can cost as much as hundreds of containers), so they must not be the
    // last thing a worker picks up. Workers take the next namespace from a shared
    // index, so the shares even out whatever each costs.
    work.sort_by_key(|item| !matches!(item.ns(), NsRef::Node(_) | NsRef::Lan(_)));
    let work: Vec<Mutex<Item<'_>>> = work.into_iter().map(Mutex::new).collect();
    let next = AtomicUsize::new(0);
    let counter = &counter;
    let (work_ref, next) = (&work, &next);
    let results: Vec<Result<Vec<Observed>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS.min(work_ref.len()))
            .map(|_| {
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = work_ref.get(i) else {
                            return Ok(out);
                        };
                        let mut item = item.lock().map_err(|_| Error::WorkerPanicked {
                            doing: "observe namespaces".into(),
                        })?;
                        out.push(item.observe(counter)?);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(Error::WorkerPanicked {
                        doing: "observe namespaces".into(),
                    })
                })
            })
            .collect()
    });
    drop(work);
    let mut state = ObservedState::empty();
    let mut opened = Vec::new();
    for part in results {
        for (ns, observed, handle) in part? {
            if let Some(h) = handle {
                opened.push((ns.clone(), h));
            }
            state.namespaces.insert(ns, observed);
        }
    }
    for (ns, handle) in opened {
        session.keep(ns, handle);
    }
    Ok(state)
}

/// One namespace's observation, and its handle when it was opened for it.
type Observed = (NsRef, ObservedNamespace, Option<NsHandle>);

/// A namespace to observe: open in the session, or existing but not open yet.
enum Item<'a> {
    Open(&'a NsRef, &'a mut NsHandle),
    Fresh(NsRef, Option<Netns>),
}

impl Item<'_> {
    fn ns(&self) -> &NsRef {
        match self {
            Item::Open(ns, _) => ns,
            Item::Fresh(ns, _) => ns,
        }
    }

    /// On a worker thread: enters the namespace (opening its socket there when it is
    /// fresh) and observes it.
    fn observe(&mut self, counter: &RequestCounter) -> Result<Observed> {
        match self {
            Item::Open(ns, handle) => {
                enter(handle.netns.fd(), handle.netns.path())?;
                Ok(((*ns).clone(), observe_one(ns, handle)?, None))
            }
            Item::Fresh(ns, netns) => {
                let netns = netns.take().ok_or_else(|| Error::WorkerPanicked {
                    doing: format!("observe {ns} twice"),
                })?;
                enter(netns.fd(), netns.path())?;
                let sock = RtSocket::open(counter.clone())?;
                let mut handle = NsHandle::new(netns, sock)?;
                let observed = observe_one(ns, &mut handle)?;
                Ok((ns.clone(), observed, Some(handle)))
            }
        }
    }
}

/// Moves the calling (worker) thread into a namespace.
fn enter(fd: std::os::fd::BorrowedFd<'_>, path: &std::path::Path) -> Result<()> {
    nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|errno| Error::Namespace {
        what: "setns into",
        path: path.to_path_buf(),
        source: errno.into(),
    })
}

/// One namespace, on a worker thread that entered it (and ends when its share is done,
/// so no caller's thread ever changes namespace).
fn observe_one(ns: &NsRef, handle: &mut NsHandle) -> Result<ObservedNamespace> {
    let mut out = observe_netlink(handle)?;
    // The forwarding switches come over netlink, `disable_ipv6` came with the link
    // dump; only what neither answered is read from /proc (see `SysctlDir` for why
    // /proc is slow with many namespaces), usually nothing.
    let mut wanted: Vec<Sysctl> = forwarding(handle, &mut out)?;
    wanted.extend(
        out.links
            .keys()
            .filter(|l| l.as_str() != "lo")
            .map(|l| Sysctl::DisableIpv6(Name::from(l)))
            .filter(|s| !out.sysctls.contains_key(s)),
    );
    let (sysctls, ruleset) = read_settings(ns, wanted)?;
    out.sysctls.extend(sysctls);
    out.ruleset = ruleset;
    Ok(out)
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
        if let Some(alias) = foreign_alias(msg) {
            out.foreign_aliases
                .insert(name.to_string(), alias.to_string());
        }
        if link.kind == LinkKind::Loopback {
            out.owner = link.owner.clone();
        } else if let Some(v) = disable_ipv6(msg) {
            out.sysctls
                .insert(Sysctl::DisableIpv6(Name::from(name)), v.to_string());
        }
        out.links.insert(name.to_string(), link);
    }
    crate::vxlan::fill_remotes(handle, &names, &mut out)?;
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

/// `net.ipv6.conf.<link>.disable_ipv6` as the link dump carries it (the IPv6 device
/// configuration in `IFLA_AF_SPEC`); `None` when the link has no IPv6 device state.
fn disable_ipv6(msg: &LinkMessage) -> Option<i32> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::AfSpecUnspec(specs) => specs.iter().find_map(|s| match s {
            AfSpecUnspec::Inet6(v6) => v6.iter().find_map(|i| match i {
                AfSpecInet6::DevConf(conf) => Some(conf.disable_ipv6),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    })
}

/// Reads the forwarding switches over netlink (`RTM_GETNETCONF`, both families in one
/// datagram) into `out`; returns those the kernel did not answer, to be read from /proc.
fn forwarding(handle: &mut NsHandle, out: &mut ObservedNamespace) -> Result<Vec<Sysctl>> {
    let switches = [Sysctl::Ipv4Forward, Sysctl::Ipv6Forward];
    let requests: Vec<(u16, Vec<u8>)> = switches
        .iter()
        .filter_map(ops::netconf::family_of)
        .map(|family| (ops::netconf::RTM_GETNETCONF, ops::netconf::get_all(family)))
        .collect();
    let answers = handle.sock.get_raw(&requests, "get netconf all")?;
    let mut unanswered = Vec::new();
    for (sysctl, answer) in switches.into_iter().zip(answers) {
        match answer.as_deref().and_then(ops::netconf::forwarding) {
            Some(v) => {
                out.sysctls.insert(sysctl, v);
            }
            None => unanswered.push(sysctl),
        }
    }
    Ok(unanswered)
}

/// The sysctls of `wanted` (from /proc, opened only when something is wanted) and vnet's
/// nftables table, read on a thread inside the namespace.
///
/// A table by vnet's name that is not exactly one vnet loads (edited by hand, an older
/// layout) is observed as the empty ruleset: vnet never loads an empty table (it removes
/// it instead), so no desired ruleset equals it and the next apply replaces it whole.
fn read_settings(
    ns: &NsRef,
    wanted: Vec<Sysctl>,
) -> Result<(BTreeMap<Sysctl, String>, Option<Ruleset>)> {
    let mut sysctls = BTreeMap::new();
    if !wanted.is_empty() {
        read_proc(ns, wanted, &mut sysctls)?;
    }
    let table = ops::nft::read().map_err(|detail| Error::Nft {
        ns: ns.clone(),
        doing: "list table inet vnet".into(),
        detail,
    })?;
    let ruleset = match table {
        ops::nft::Table::Absent => None,
        ops::nft::Table::Vnet(r) => Some(r),
        ops::nft::Table::Foreign(_) => Some(Ruleset::default()),
    };
    Ok((sysctls, ruleset))
}

/// Reads `wanted` from the calling thread's `/proc/sys/net` into `sysctls`; settings
/// that do not exist are left out.
fn read_proc(
    ns: &NsRef,
    wanted: Vec<Sysctl>,
    sysctls: &mut BTreeMap<Sysctl, String>,
) -> Result<()> {
    let dir = ops::sysctl::SysctlDir::open().map_err(|source| Error::Sysctl {
        ns: ns.clone(),
        key: "net".into(),
        source,
    })?;
    for s in wanted {
        let value = dir.read(&s).map_err(|source| Error::Sysctl {
            ns: ns.clone(),
            key: s.key(),
            source,
        })?;
        if let Some(v) = value {
            sysctls.insert(s, v);
        }
    }
    Ok(())
}

/// The link's alias when it is not a vnet mark (someone's label); `None` when it has
/// none (an empty alias is none: `ip link set DEV alias ""` clears it) or it is vnet's.
fn foreign_alias(msg: &LinkMessage) -> Option<&str> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfAlias(a) if !a.is_empty() && owner_of(a).is_none() => Some(a.as_str()),
        _ => None,
    })
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
        (Some(InfoKind::Vxlan), data) => crate::vxlan::kind(data, names),
        (Some(InfoKind::MacVlan), Some(InfoData::MacVlan(opts))) => {
            let mode = opts.iter().find_map(|o| match o {
                InfoMacVlan::Mode(m) => MacvlanMode::from_kernel(u32::from(*m)),
                _ => None,
            });
            match mode {
                Some(mode) => LinkKind::Macvlan { mode },
                // A mode vnet never makes: not one of its macvlans.
                None => LinkKind::Other {
                    kind: InfoKind::MacVlan.to_string(),
                },
            }
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
    route.dev = oif.and_then(|i| names.get(&i).map(Name::from));
    Some(route)
}
