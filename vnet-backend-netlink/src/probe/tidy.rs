//! Which namespaces' neighbour entries probing may delete again, and where each
//! address lives, so that a probe's entries leave the machine-wide table as soon as
//! the probe is settled (see [`super::neigh`] and [`super::pace`]).
//!
//! A first echo between two namespaces makes about two entries: the sender's for the
//! target (or its gateway), the target's for the sender. The kernel reclaims neither
//! before it is 5 s old, and then only when the table is past `gc_thresh2`, so a probe
//! run that leaves them grows the table by two per probe. Deleting them once the probe
//! is answered keeps the table at about twice the probes in flight.

use nix::sched::{setns, CloneFlags};
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::neigh;
use crate::netlink::{RequestCounter, RtSocket};

/// The namespaces whose entries vnet may delete after probing (those it built, not
/// the machine's own), each with its addresses.
#[derive(Debug, Clone, Default)]
pub struct Tidy {
    ns_of: HashMap<IpAddr, PathBuf>,
    addresses: HashMap<PathBuf, Vec<IpAddr>>,
}

impl Tidy {
    /// Deletes nothing: every entry is left to the kernel.
    pub fn none() -> Self {
        Self::default()
    }

    /// Each `(address, namespace file)` of the namespaces vnet may tidy.
    pub fn new(addresses: impl IntoIterator<Item = (IpAddr, PathBuf)>) -> Self {
        let mut t = Self::default();
        for (a, ns) in addresses {
            t.addresses.entry(ns.clone()).or_default().push(a);
            t.ns_of.insert(a, ns);
        }
        t
    }

    /// Whether vnet may delete entries in `ns`.
    pub fn allows(&self, ns: &Path) -> bool {
        self.addresses.contains_key(ns)
    }

    /// The namespace holding `address`, when vnet may tidy it.
    pub fn ns_of(&self, address: IpAddr) -> Option<&Path> {
        self.ns_of.get(&address).map(PathBuf::as_path)
    }

    /// The addresses of `ns` (empty when it is not one to tidy).
    pub fn addresses_of(&self, ns: &Path) -> &[IpAddr] {
        self.addresses.get(ns).map_or(&[], Vec::as_slice)
    }

    /// Whether `address` belongs to a namespace vnet may tidy: an entry for it in any
    /// of them was made by probing or by the topology's own traffic, never by the
    /// machine's.
    pub fn knows(&self, address: IpAddr) -> bool {
        self.ns_of.contains_key(&address)
    }
}

/// Deletes the entries of one source namespace's probes, on the worker thread that
/// probes from it. Best effort: an entry left behind is only the kernel's to reclaim,
/// and the pacer counts it all the same.
pub(super) struct Sweeper<'a> {
    tidy: &'a Tidy,
    ns: &'a Path,
    /// An rtnetlink socket in the source namespace (`None`: not one to tidy).
    here: Option<RtSocket>,
}

impl<'a> Sweeper<'a> {
    /// For the source namespace `ns`, which the calling thread has entered.
    pub(super) fn new(tidy: &'a Tidy, ns: &'a Path) -> Self {
        let here = if tidy.allows(ns) {
            RtSocket::open(RequestCounter::new()).ok()
        } else {
            None
        };
        Sweeper { tidy, ns, here }
    }

    /// The probes to `targets` are settled: deletes the source's entries for them and
    /// each target's entries for the source. Leaves the calling thread in another
    /// namespace (the source's sockets stay bound to the source).
    pub(super) fn settled(&mut self, targets: &[IpAddr]) {
        if let Some(sock) = self.here.as_mut() {
            let _ = neigh::delete(sock, |a| targets.contains(&a));
        }
        let mine = self.tidy.addresses_of(self.ns);
        if mine.is_empty() {
            return;
        }
        let others: BTreeSet<&Path> = targets
            .iter()
            .filter_map(|t| self.tidy.ns_of(*t))
            .filter(|ns| *ns != self.ns)
            .collect();
        for ns in others {
            let Ok(file) = File::open(ns) else { continue };
            if setns(&file, CloneFlags::CLONE_NEWNET).is_err() {
                continue;
            }
            if let Ok(mut sock) = RtSocket::open(RequestCounter::new()) {
                let _ = neigh::delete(&mut sock, |a| mine.contains(&a));
            }
        }
    }

    /// Every probe from the source is settled: deletes what is left of its entries for
    /// the topology's addresses (a gateway's, kept while other probes used it).
    pub(super) fn finish(mut self) {
        if let Some(sock) = self.here.as_mut() {
            let _ = neigh::delete(sock, |a| self.tidy.knows(a));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_addresses_to_namespaces_and_back() {
        let a: IpAddr = "198.18.0.2".parse().unwrap();
        let b: IpAddr = "198.18.0.3".parse().unwrap();
        let t = Tidy::new([
            (a, PathBuf::from("/run/netns/x")),
            (b, PathBuf::from("/run/netns/x")),
        ]);
        assert!(t.allows(Path::new("/run/netns/x")));
        assert!(!t.allows(Path::new("/proc/self/ns/net")));
        assert_eq!(t.ns_of(a), Some(Path::new("/run/netns/x")));
        assert_eq!(t.addresses_of(Path::new("/run/netns/x")), &[a, b]);
        assert!(t.knows(b) && !Tidy::none().knows(b));
    }
}
