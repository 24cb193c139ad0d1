//! [`Session`]: the open namespaces of one backend operation, each with its netlink
//! socket (opened inside it once) and a cache of its link names and indexes.

use std::collections::BTreeMap;
use std::path::Path;

use netlink_packet_route::link::{LinkAttribute, LinkMessage};
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
    /// Link name -> ifindex; `None` when links changed since the last dump.
    links: Option<BTreeMap<String, u32>>,
}

impl NsHandle {
    /// The ifindex of `name`, dumping the links when the cache is stale.
    pub fn index_of(&mut self, ns: &NsRef, name: &str) -> Result<u32> {
        if let Some(i) = self.links.as_ref().and_then(|l| l.get(name)) {
            return Ok(*i);
        }
        // Unknown or stale: one fresh dump, then the answer is final.
        let links = self.dump_links()?;
        let table = links
            .iter()
            .filter_map(|m| link_name(m).map(|n| (n.to_string(), m.header.index)))
            .collect::<BTreeMap<_, _>>();
        let found = table.get(name).copied();
        self.links = Some(table);
        found.ok_or_else(|| Error::NoSuchLink {
            ns: ns.clone(),
            link: name.to_string(),
        })
    }

    /// Forgets the link cache (after links were created, deleted, moved or renamed).
    pub fn links_changed(&mut self) {
        self.links = None;
    }

    /// `ip link show`: every link, and refreshes the name cache.
    pub fn dump_links(&mut self) -> Result<Vec<LinkMessage>> {
        let msgs = self.sock.dump(ops::link::dump(), "dump links")?;
        let links: Vec<LinkMessage> = msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .collect();
        self.links = Some(
            links
                .iter()
                .filter_map(|m| link_name(m).map(|n| (n.to_string(), m.header.index)))
                .collect(),
        );
        Ok(links)
    }
}

/// The name of a dumped link.
pub(crate) fn link_name(msg: &LinkMessage) -> Option<&str> {
    msg.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// The namespaces one operation has opened.
#[derive(Debug)]
pub(crate) struct Session<'m> {
    map: &'m NamespaceMap,
    counter: RequestCounter,
    handles: BTreeMap<NsRef, NsHandle>,
}

impl<'m> Session<'m> {
    pub fn new(map: &'m NamespaceMap, counter: RequestCounter) -> Self {
        Session {
            map,
            counter,
            handles: BTreeMap::new(),
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
                    if !p.exists() {
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
                },
            );
        }
        Ok(self.handles.get_mut(ns))
    }

    /// Opens every namespace of `list` that exists and is not open yet, the way
    /// [`Session::get`] would, but with the netlink sockets opened by a few worker
    /// threads that enter the namespaces in turn (instead of one new thread each).
    pub fn open_many(&mut self, list: &[NsRef]) -> Result<()> {
        let mut todo: Vec<(NsRef, Netns)> = Vec::new();
        for ns in list {
            let location = self.map.locate(ns)?;
            if let (Some(h), NsLocation::Path(p)) = (self.handles.get(ns), &location) {
                if current_id(p) != Some(h.id) {
                    self.handles.remove(ns);
                }
            }
            if self.handles.contains_key(ns) || todo.iter().any(|(n, _)| n == ns) {
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
                    Err(e) => return Err(e),
                },
                NsLocation::Pid(pid) => Netns::of_pid(*pid)?,
            };
            todo.push((ns.clone(), netns));
        }
        let jobs: Vec<(&Netns, ())> = todo.iter().map(|(_, n)| (n, ())).collect();
        let counter = &self.counter;
        let sockets = crate::ns::run_many(&jobs, |_| RtSocket::open(counter.clone()));
        drop(jobs);
        for ((ns, netns), sock) in todo.into_iter().zip(sockets) {
            let sock = sock??;
            let id = netns.id()?;
            self.handles.insert(
                ns,
                NsHandle {
                    netns,
                    id,
                    sock,
                    links: None,
                },
            );
        }
        Ok(())
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
    /// its `lo` brought up and marked. One result per namespace, in order.
    pub fn create_namespaces(&mut self, list: &[NsRef], alias: &str) -> Vec<Result<()>> {
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
                            .map(|ns| make_namespace(map, counter.clone(), ns, alias))
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

/// Creates one sandbox namespace, opens its socket inside it, brings `lo` up and marks
/// it; on failure nothing is left.
fn make_namespace(
    map: &NamespaceMap,
    counter: RequestCounter,
    ns: &NsRef,
    alias: &str,
) -> Result<NsHandle> {
    let (dir, name) = map.creatable(ns)?;
    let (netns, sock) = named::create(&dir, &name, move || RtSocket::open(counter))?;
    let undo = |err: Error| {
        let _ = named::delete(&dir, &name);
        err
    };
    let mut sock = match sock {
        Ok(s) => s,
        Err(e) => {
            drop(netns);
            return Err(undo(e));
        }
    };
    let id = netns.id()?;
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
        drop(sock);
        drop(netns);
        return Err(undo(err));
    }
    Ok(NsHandle {
        netns,
        id,
        sock,
        links: None,
    })
}
