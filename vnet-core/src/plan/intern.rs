//! Interning for the planner: names, namespaces and links become dense `u32` ids once,
//! so the ordering works on integers and `Vec`s indexed by id instead of hashing and
//! comparing strings at every lookup.
//!
//! The ids are numbered in order of first use and are only ever used as indices and
//! for equality: nothing iterates a map here, so hash order cannot leak into a plan.
//! Where an order of names matters, [`Ids::name_ranks`] gives each name its rank among
//! the names sorted as strings.

use std::collections::{HashMap as StdHashMap, HashSet as StdHashSet};

use super::NsRef;

/// The hasher of the planner's maps: foldhash's fast hash (validation's maps use it
/// too), with a fixed seed. The keys are the plan's own names and ids, where SipHash's
/// protection against hash flooding buys nothing and costs most of the lookup; a fixed
/// seed keeps runs alike (nothing iterates these maps, so the seed cannot reach a plan).
pub(crate) type Hasher = foldhash::fast::FixedState;

/// A hash map for lookups only (never iterated, so its order cannot leak into a plan).
pub(crate) type HashMap<K, V> = StdHashMap<K, V, Hasher>;

/// A hash set for membership only (never iterated, likewise).
pub(crate) type HashSet<T> = StdHashSet<T, Hasher>;

/// "No id": the end of a list, a missing provider.
pub(crate) const NONE: u32 = u32::MAX;

/// Dense ids for the names, namespaces and links of one plan.
#[derive(Debug)]
pub(crate) struct Ids<'a> {
    names: HashMap<&'a str, u32>,
    /// The names by id.
    by_id: Vec<&'a str>,
    /// Namespace key (name id and kind) -> namespace id.
    ns: HashMap<u64, u32>,
    /// The name id of each namespace, by namespace id.
    ns_names: Vec<u32>,
    /// The two namespaces looked up last: actions come grouped by namespace (and a veth
    /// names its peer's), so most lookups are a string comparison instead of two hash
    /// lookups.
    last_ns: [Option<(&'a NsRef, u32)>; 2],
    /// (namespace id << 32 | name id) -> link id: an integer key, so a link whose name
    /// id is known is found without touching the string again.
    links: HashMap<u64, u32>,
    /// The names looked up last, most recent first: an action's names are mostly the
    /// ones of the action before it (a link's MAC, MTU, address and up come together),
    /// and comparing with a name just read is cheaper than a lookup in a table larger
    /// than the cache (plus reading the stored name it finds, elsewhere in memory).
    last_names: [(&'a str, u32); 4],
    /// Likewise the links looked up last, by key.
    last_links: [(u64, u32); 4],
}

impl Default for Ids<'_> {
    fn default() -> Self {
        Ids {
            names: HashMap::default(),
            by_id: Vec::new(),
            ns: HashMap::default(),
            ns_names: Vec::new(),
            last_ns: [None; 2],
            links: HashMap::default(),
            last_names: [("", NONE); 4],
            last_links: [(0, NONE); 4],
        }
    }
}

impl<'a> Ids<'a> {
    /// Room for about `n` names, namespaces and links.
    pub fn with_capacity(n: usize) -> Self {
        let mut ids = Ids::default();
        ids.names.reserve(n);
        ids.by_id.reserve(n);
        ids.links.reserve(n);
        ids
    }

    /// The id of `name`.
    pub fn name(&mut self, name: &'a str) -> u32 {
        for (last, id) in &self.last_names {
            if *id != NONE && *last == name {
                return *id;
            }
        }
        let by_id = &mut self.by_id;
        let id = *self.names.entry(name).or_insert_with(|| {
            by_id.push(name);
            u32::try_from(by_id.len() - 1).expect("fewer than 2^32 names")
        });
        self.last_names.rotate_right(1);
        self.last_names[0] = (name, id);
        id
    }

    /// The id of namespace `ns`.
    pub fn ns(&mut self, ns: &'a NsRef) -> u32 {
        for (last, id) in self.last_ns.iter().flatten() {
            if *last == ns {
                return *id;
            }
        }
        let kind: u64 = match ns {
            NsRef::Node(_) => 0,
            NsRef::Ct(_) => 1,
            NsRef::Lan(_) => 2,
            NsRef::Host(_) => 3,
        };
        let name = self.name(ns.name());
        let key = (u64::from(name) << 2) | kind;
        let next = u32::try_from(self.ns.len()).expect("fewer than 2^32 namespaces");
        let id = *self.ns.entry(key).or_insert(next);
        if id == next {
            self.ns_names.push(name);
        }
        self.last_ns = [Some((ns, id)), self.last_ns[0]];
        id
    }

    /// The name id of the namespace with id `ns`.
    pub fn ns_name(&self, ns: u32) -> u32 {
        self.ns_names[ns as usize]
    }

    /// The id of link `name` in the namespace with id `ns`.
    pub fn link(&mut self, ns: u32, name: &'a str) -> u32 {
        let name = self.name(name);
        self.link_named(ns, name)
    }

    /// The id of the link with name id `name` in the namespace with id `ns`.
    pub fn link_named(&mut self, ns: u32, name: u32) -> u32 {
        let key = (u64::from(ns) << 32) | u64::from(name);
        for (last, id) in &self.last_links {
            if *id != NONE && *last == key {
                return *id;
            }
        }
        let next = u32::try_from(self.links.len()).expect("fewer than 2^32 links");
        let id = *self.links.entry(key).or_insert(next);
        self.last_links.rotate_right(1);
        self.last_links[0] = (key, id);
        id
    }

    /// Each name's rank among all the names sorted as strings, indexed by name id: ranks
    /// compare as the names do.
    pub fn name_ranks(&self) -> Vec<u32> {
        let mut sorted: Vec<u32> =
            (0..u32::try_from(self.by_id.len()).expect("fewer than 2^32 names")).collect();
        sorted.sort_unstable_by(|a, b| self.by_id[*a as usize].cmp(self.by_id[*b as usize]));
        let mut rank = vec![0u32; sorted.len()];
        for (r, id) in sorted.iter().enumerate() {
            rank[*id as usize] = u32::try_from(r).expect("fewer than 2^32 names");
        }
        rank
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Name;

    #[test]
    fn ids_are_dense_and_stable() {
        let (a, b) = (NsRef::Ct(Name::from("x")), NsRef::Node(Name::from("x")));
        let mut ids = Ids::default();
        let (na, nb) = (ids.ns(&a), ids.ns(&b));
        assert_ne!(na, nb, "same name, other kind: another namespace");
        assert_eq!(ids.ns(&a), na);
        let l = ids.link(na, "eth0");
        assert_eq!(ids.link(na, "eth0"), l);
        let eth0 = ids.name("eth0");
        assert_eq!(ids.link_named(na, eth0), l, "by name id: the same link");
        assert_ne!(ids.link(nb, "eth0"), l);
        assert_eq!((ids.ns.len(), ids.links.len()), (2, 2));
    }

    #[test]
    fn recent_lookups_agree_with_the_tables() {
        // More names and links than the recent-lookup caches hold, in a pattern that
        // makes each of them fall out and come back.
        let names: Vec<String> = (0..9).map(|i| format!("n{i}")).collect();
        let mut ids = Ids::default();
        let first: Vec<u32> = names.iter().map(|n| ids.name(n)).collect();
        let links: Vec<u32> = first.iter().map(|n| ids.link_named(7, *n)).collect();
        for round in 0..3 {
            for k in (0..names.len()).rev().step_by(round + 1) {
                assert_eq!(ids.name(&names[k]), first[k], "name {k}, round {round}");
                assert_eq!(ids.link_named(7, first[k]), links[k], "link {k}");
                assert_ne!(ids.link_named(8, first[k]), links[k], "other namespace");
            }
        }
        assert_eq!(ids.by_id.len(), names.len());
        assert_eq!(ids.links.len(), 2 * names.len());
    }

    #[test]
    fn ranks_follow_string_order() {
        let mut ids = Ids::default();
        let names = ["veth9.0", "b", "veth10.0", "a"];
        let got: Vec<u32> = names.iter().map(|n| ids.name(n)).collect();
        let rank = ids.name_ranks();
        let ranked: Vec<u32> = got.iter().map(|id| rank[*id as usize]).collect();
        assert_eq!(ranked, vec![3, 1, 2, 0]);
    }
}
