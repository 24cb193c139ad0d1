//! [`Session`]: the open namespaces of one backend operation, each with its netlink
//! socket (opened inside it once) and a cache of its link names and indexes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use netlink_packet_route::link::{AfSpecInet6, AfSpecUnspec, LinkAttribute, LinkInfo, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;
use vnet_core::plan::NsRef;

use crate::error::{Error, Result};
use crate::netlink::{RequestCounter, RtSocket};
use crate::ns::{named, NamespaceMap, Netns, NetnsId, NsLocation};
use crate::ops;

/// One open namespace.
#[derive(Debug)]
pub(crate) struct NsHandle {
    /// The namespace (held open while the session lives).
    pub netns: Netns,
    /// Its identity, to notice when a named namespace was replaced behind our back.
    pub id: NetnsId,
    /// The netlink socket bound to it.
    pub sock: RtSocket,
    /// Link name -> its ifindex and, for a link whose peer is in another namespace (a
    /// veth end), the peer's ifindex there; `None` when links changed since the last
    /// dump.
    links: Option<BTreeMap<String, (u32, Option<u32>)>>,
    /// Whether this session created it with `default.disable_ipv6 = 1`, so links
    /// created in it since are born with IPv6 off (see [`crate::ipv6_default`]).
    pub ipv6_default_off: bool,
}

impl NsHandle {
    /// A handle of `netns` with `sock`, a socket opened inside it.
    pub fn new(netns: Netns, sock: RtSocket) -> Result<Self> {
        let id = netns.id()?;
        Ok(NsHandle {
            netns,
            id,
            sock,
            links: None,
            ipv6_default_off: false,
        })
    }

    /// The ifindex of `name`, dumping the links when the cache is stale.
    pub fn index_of(&mut self, ns: &NsRef, name: &str) -> Result<u32> {
        self.lookup(ns, name).map(|(index, _)| index)
    }

    /// The ifindex of `name`'s peer in the peer's namespace (a veth end whose other end
    /// is elsewhere), as the link dump reports it (`IFLA_LINK` with
    /// `IFLA_LINK_NETNSID`); `None` for other links.
    pub fn peer_index_of(&mut self, ns: &NsRef, name: &str) -> Result<Option<u32>> {
        self.lookup(ns, name).map(|(_, peer)| peer)
    }

    fn lookup(&mut self, ns: &NsRef, name: &str) -> Result<(u32, Option<u32>)> {
        if let Some(found) = self.links.as_ref().and_then(|l| l.get(name)) {
            return Ok(*found);
        }
        // Unknown or stale: one fresh dump, then the answer is final.
        self.dump_links()?;
        self.links
            .as_ref()
            .and_then(|l| l.get(name))
            .copied()
            .ok_or_else(|| Error::NoSuchLink {
                ns: ns.clone(),
                link: name.to_string(),
            })
    }

    /// Whether the link cache is fresh and knows `name`.
    fn knows(&self, name: &str) -> Option<u32> {
        self.links
            .as_ref()
            .and_then(|l| l.get(name))
            .map(|(i, _)| *i)
    }

    /// Forgets the link cache (after links were created, deleted, moved or renamed).
    pub fn links_changed(&mut self) {
        self.links = None;
    }

    /// `ip link show`: every link, and refreshes the name cache. Each message keeps
    /// only the attributes the backend reads (see [`slim_link`]).
    pub fn dump_links(&mut self) -> Result<Vec<LinkMessage>> {
        let links = self
            .sock
            .dump_map(ops::link::dump(), "dump links", |m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(slim_link(l)),
                _ => None,
            })?;
        self.links = Some(
            links
                .iter()
                .filter_map(|m| {
                    link_name(m).map(|n| (n.to_string(), (m.header.index, peer_index(m))))
                })
                .collect(),
        );
        Ok(links)
    }
}

/// `msg` with only the attributes the backend reads from a dumped link (name, MAC,
/// MTU, alias, controller, peer, kind and its data, IPv6's `disable_ipv6`; not, e.g.,
/// a bridge port's data, which [`crate::announce`] reads with a get of its own), the
/// others dropped as soon as it is decoded: a node's namespace holds a host end per
/// container, and a fully decoded link message (both families' configuration arrays,
/// IPv6 statistics, bridge port data) is ~20 KB: 20 MB at 1,000 containers.
fn slim_link(mut msg: LinkMessage) -> LinkMessage {
    msg.attributes.retain_mut(|a| match a {
        LinkAttribute::IfName(_)
        | LinkAttribute::Address(_)
        | LinkAttribute::Mtu(_)
        | LinkAttribute::IfAlias(_)
        | LinkAttribute::Controller(_)
        | LinkAttribute::Link(_)
        | LinkAttribute::LinkNetNsId(_) => true,
        LinkAttribute::LinkInfo(infos) => {
            infos.retain(|i| matches!(i, LinkInfo::Kind(_) | LinkInfo::Data(_)));
            true
        }
        LinkAttribute::AfSpecUnspec(specs) => {
            specs.retain_mut(|s| match s {
                AfSpecUnspec::Inet6(v6) => {
                    v6.retain(|i| matches!(i, AfSpecInet6::DevConf(_)));
                    true
                }
                _ => false,
            });
            true
        }
        _ => false,
    });
    msg.attributes.shrink_to_fit();
    msg
}

/// The name of a dumped link.
pub(crate) fn link_name(msg: &LinkMessage) -> Option<&str> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// The peer's ifindex of a link whose peer is in another namespace.
fn peer_index(msg: &LinkMessage) -> Option<u32> {
    let elsewhere = msg
        .attributes
        .iter()
        .any(|a| matches!(a, LinkAttribute::LinkNetNsId(_)));
    msg.attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::Link(i) => Some(*i),
            _ => None,
        })
        .filter(|_| elsewhere)
}

/// The namespaces one operation has opened.
#[derive(Debug)]
pub(crate) struct Session<'m> {
    map: &'m NamespaceMap,
    counter: RequestCounter,
    handles: BTreeMap<NsRef, NsHandle>,
    /// Veth ends created into another namespace by this session: (peer namespace,
    /// peer name) -> (namespace, name) of the end that was created from.
    peers: BTreeMap<(NsRef, String), (NsRef, String)>,
}

impl<'m> Session<'m> {
    pub fn new(map: &'m NamespaceMap, counter: RequestCounter) -> Self {
        Session {
            map,
            counter,
            handles: BTreeMap::new(),
            peers: BTreeMap::new(),
        }
    }

    pub fn map(&self) -> &NamespaceMap {
        self.map
    }

    /// The open namespace `ns`, opening it on first use; `Ok(None)` when it does not
    /// exist (a sandbox namespace not created yet, or deleted).
    pub fn get(&mut self, ns: &NsRef) -> Result<Option<&mut NsHandle>> {
        let location = self.map.locate(ns)?;
        // A named namespace may have been deleted or replaced since we opened it.
        if let (Some(h), NsLocation::Path(p)) = (self.handles.get(ns), &location) {
            if current_id(p) != Some(h.id) {
                self.handles.remove(ns);
            }
        }
        if !self.handles.contains_key(ns) {
            let netns = match &location {
                NsLocation::Current => Netns::open("/proc/self/ns/net")?,
                NsLocation::Path(p) => {
                    if !p.exists() || self.map.is_debris(ns) {
                        return Ok(None);
                    }
                    Netns::open(p)?
                }
                NsLocation::Pid(pid) => Netns::of_pid(*pid)?,
            };
            let counter = self.counter.clone();
            let sock = netns.run("open netlink socket", move || RtSocket::open(counter))??;
            let id = netns.id()?;
            self.handles.insert(
                ns.clone(),
                NsHandle {
                    netns,
                    id,
                    sock,
                    links: None,
                    ipv6_default_off: false,
                },
            );
        }
        Ok(self.handles.get_mut(ns))
    }

    /// The namespaces of `list` that exist but are not open (or were replaced since
    /// they were opened), each opened as a file, without a socket yet: to be given one
    /// by a thread inside it and [`Session::keep`]t.
    pub fn unopened(&mut self, list: &[NsRef]) -> Result<Vec<(NsRef, Netns)>> {
        let mut todo: Vec<(NsRef, Netns)> = Vec::new();
        let mut seen: BTreeSet<&NsRef> = BTreeSet::new();
        for ns in list {
            let location = self.map.locate(ns)?;
            if let (Some(h), NsLocation::Path(p)) = (self.handles.get(ns), &location) {
                if current_id(p) != Some(h.id) {
                    self.handles.remove(ns);
                }
            }
            if self.handles.contains_key(ns) || !seen.insert(ns) {
                continue;
            }
            let netns = match &location {
                NsLocation::Current => Netns::open("/proc/self/ns/net")?,
                NsLocation::Path(p) => match Netns::open(p) {
                    Ok(n) => n,
                    // Not created yet (or deleted): absent, as `get` says.
                    Err(Error::Namespace { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        continue
                    }
                    // An empty file left by a killed run under the sandbox's own name:
                    // absent too (the next apply replaces it, destroy removes it).
                    Err(Error::NotANamespace { .. }) if self.map.is_debris(ns) => continue,
                    Err(e) => return Err(e),
                },
                NsLocation::Pid(pid) => Netns::of_pid(*pid)?,
            };
            todo.push((ns.clone(), netns));
        }
        Ok(todo)
    }

    /// Keeps `handle` as the open handle of `ns`.
    pub fn keep(&mut self, ns: NsRef, handle: NsHandle) {
        self.handles.insert(ns, handle);
    }

    /// The request counter its sockets count into.
    pub fn counter(&self) -> &RequestCounter {
        &self.counter
    }

    /// The open handles of `list` (those that are open), to work on them in parallel.
    pub fn handles_of(&mut self, list: &[NsRef]) -> Vec<(&NsRef, &mut NsHandle)> {
        let wanted: std::collections::BTreeSet<&NsRef> = list.iter().collect();
        self.handles
            .iter_mut()
            .filter(|(ns, _)| wanted.contains(ns))
            .collect()
    }

    /// Like [`Session::get`], but a missing namespace is an error.
    pub fn require(&mut self, ns: &NsRef) -> Result<&mut NsHandle> {
        self.get(ns)?.ok_or_else(|| Error::Unmapped {
            ns: ns.clone(),
            reason: "the namespace does not exist",
        })
    }

    /// Two different open namespaces at once (a veth's two ends, a move).
    pub fn pair(&mut self, a: &NsRef, b: &NsRef) -> Result<(&mut NsHandle, &mut NsHandle)> {
        self.require(a)?;
        self.require(b)?;
        let mut iter = self.handles.iter_mut();
        let mut first = None;
        let mut second = None;
        for (k, v) in &mut iter {
            if k == a {
                first = Some(v);
            } else if k == b {
                second = Some(v);
            }
        }
        match (first, second) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(Error::Unmapped {
                ns: b.clone(),
                reason: "both ends in one namespace",
            }),
        }
    }

    /// `ip netns add` for each of `list`, in parallel (a namespace's creation mostly
    /// waits in the kernel, so a few at once overlap well): each is created, opened,
    /// its `lo` brought up and marked, and those in `ipv6_off` get
    /// `default.disable_ipv6 = 1` before any link exists there. One result per
    /// namespace, in order.
    ///
    /// A few worker threads each create their share one after another, staying inside
    /// the namespace they made last, and end when done (no thread per namespace).
    pub fn create_namespaces(
        &mut self,
        list: &[NsRef],
        alias: &str,
        ipv6_off: &BTreeSet<NsRef>,
    ) -> Vec<Result<()>> {
        const WORKERS: usize = 4;
        let map = self.map;
        let counter = &self.counter;
        let mut made: Vec<Option<Result<NsHandle>>> = list.iter().map(|_| None).collect();
        let chunk = list.len().div_ceil(WORKERS).max(1);
        std::thread::scope(|s| {
            let workers: Vec<_> = list
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|ns| {
                                let off = ipv6_off.contains(ns);
                                make_namespace_here(map, counter.clone(), ns, alias, off)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut i = 0;
            for w in workers {
                let part = w.join().unwrap_or_else(|_| {
                    vec![Err(Error::WorkerPanicked {
                        doing: "create namespaces".into(),
                    })]
                });
                for r in part {
                    if i < made.len() {
                        made[i] = Some(r);
                    }
                    i += 1;
                }
            }
        });
        list.iter()
            .zip(made)
            .map(|(ns, r)| {
                let handle = r.unwrap_or(Err(Error::WorkerPanicked {
                    doing: format!("create namespace {ns}"),
                }))?;
                self.handles.insert(ns.clone(), handle);
                Ok(())
            })
            .collect()
    }

    /// `ip netns del`: closes our handle and socket first (they would keep the namespace
    /// and its links alive), then unmounts and removes the file. A missing namespace is
    /// fine.
    pub fn delete_namespace(&mut self, ns: &NsRef) -> Result<bool> {
        self.handles.remove(ns);
        let (dir, name) = self.map.creatable(ns)?;
        named::delete(&dir, &name)
    }

    /// Records that `host` in `host_ns` was created with its peer `peer` in `peer_ns`
    /// (so [`Session::index_in`] can find the peer's index without a dump there).
    pub fn note_veth(&mut self, host_ns: &NsRef, host: &str, peer_ns: &NsRef, peer: &str) {
        self.peers.insert(
            (peer_ns.clone(), peer.to_string()),
            (host_ns.clone(), host.to_string()),
        );
    }

    /// The ifindex of `link` in `ns`. For the far end of a veth this session created,
    /// whose namespace has not been dumped since, it is read from the other end's entry
    /// in that end's namespace (one dump there serves every container, instead of one
    /// dump per container's namespace).
    pub fn index_in(&mut self, ns: &NsRef, link: &str) -> Result<u32> {
        if let Some(index) = self.require(ns)?.knows(link) {
            return Ok(index);
        }
        if let Some((host_ns, host)) = self.peers.get(&(ns.clone(), link.to_string())).cloned() {
            // Any trouble there: the plain way below.
            if let Ok(Some(index)) = self
                .require(&host_ns)
                .and_then(|h| h.peer_index_of(&host_ns, &host))
            {
                return Ok(index);
            }
        }
        self.require(ns)?.index_of(ns, link)
    }

    /// Whether `ns` is open and was created by this session with IPv6 off by default.
    pub fn ipv6_default_off(&self, ns: &NsRef) -> bool {
        self.handles.get(ns).is_some_and(|h| h.ipv6_default_off)
    }

    /// The namespace handle of an open namespace.
    pub fn netns_of(&self, ns: &NsRef) -> Option<&Netns> {
        self.handles.get(ns).map(|h| &h.netns)
    }

    /// Forgets every cached link table (another namespace's links changed, e.g. a veth
    /// peer vanished with its namespace).
    pub fn all_links_changed(&mut self) {
        for h in self.handles.values_mut() {
            h.links_changed();
        }
    }
}

fn current_id(path: &Path) -> Option<NetnsId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(NetnsId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// Creates one sandbox namespace on the calling (dedicated worker) thread, which stays
/// inside it: opens its socket there, with `ipv6_off` writes `default.disable_ipv6 =
/// 1`, brings `lo` up and marks it, and only then gives it its name (a file in the
/// namespace directory). A namespace under vnet's name is therefore always marked, and
/// one whose set-up fails or whose process is killed on the way vanishes unnamed: a
/// crashed apply leaves no namespace that the next run could not tell for its own.
fn make_namespace_here(
    map: &NamespaceMap,
    counter: RequestCounter,
    ns: &NsRef,
    alias: &str,
    ipv6_off: bool,
) -> Result<NsHandle> {
    let (dir, name) = map.creatable(ns)?;
    named::enter_new(&dir.join(&name))?;
    let mut sock = RtSocket::open(counter)?;
    // A kernel without IPv6 has no such file: then nothing is born with IPv6 off and
    // the per-link steps run (and report) as planned.
    let ipv6_default_off = ipv6_off && ops::sysctl::write_default_disable_ipv6().is_ok();
    let results = sock.execute(vec![
        crate::netlink::Request::new(
            ops::link::set_up("lo", true),
            0,
            format!("set lo up in {name}"),
        ),
        crate::netlink::Request::new(
            ops::link::set_alias("lo", alias),
            0,
            format!("mark lo in {name}"),
        ),
    ]);
    if let Some(err) = results.into_iter().find_map(|r| r.err()) {
        return Err(err);
    }
    let netns = named::publish_here(&dir, &name)?;
    let id = netns.id().inspect_err(|_| {
        let _ = named::delete(&dir, &name);
    })?;
    Ok(NsHandle {
        netns,
        id,
        sock,
        links: None,
        ipv6_default_off,
    })
}
