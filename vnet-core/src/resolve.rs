//! What the topology leaves out and vnet derives: host-side veth names and MACs.
//!
//! Derivation is deterministic and independent of input order: each value is a hash of
//! the topology's name and the element's stable id (container id, interface name), and
//! collisions are resolved in the sorted order of those ids. Given values are reserved
//! first, so a derived value never equals a given one.

use foldhash::{HashSet, HashSetExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::{Mac, Topology};

/// An interface whose MAC vnet knows, given or derived.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MacKey {
    /// The container end of a veth pair.
    CtVeth {
        /// Container id.
        ct: u32,
        /// Container-side interface name.
        name: String,
    },
    /// The host end of a veth pair.
    HostVeth {
        /// Container id.
        ct: u32,
        /// Container-side interface name of the pair.
        name: String,
    },
    /// A bridge on the nodes.
    Bridge {
        /// Bridge name.
        name: String,
    },
    /// One end of a patch between two bridges.
    Patch {
        /// Interface name of the end.
        name: String,
    },
    /// A NIC passed into a container (given, or generated for the sandbox's stand-in).
    Nic {
        /// Container id.
        ct: u32,
        /// Name inside the container.
        name: String,
    },
    /// A host on a LAN.
    LanHost {
        /// LAN name.
        lan: String,
        /// Host name.
        host: String,
    },
    /// The sandbox's switch of a LAN.
    LanSwitch {
        /// LAN name.
        lan: String,
    },
    /// A container's macvlan interface.
    Macvlan {
        /// Container id.
        ct: u32,
        /// Name inside the container.
        name: String,
    },
}

impl fmt::Display for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MacKey::CtVeth { ct, name } => write!(f, "ct/{ct}/veth/{name}"),
            MacKey::HostVeth { ct, name } => write!(f, "ct/{ct}/veth/{name}/host"),
            MacKey::Bridge { name } => write!(f, "bridge/{name}"),
            MacKey::Patch { name } => write!(f, "patch/{name}"),
            MacKey::Nic { ct, name } => write!(f, "ct/{ct}/nic/{name}"),
            MacKey::LanHost { lan, host } => write!(f, "lan/{lan}/host/{host}"),
            MacKey::LanSwitch { lan } => write!(f, "lan/{lan}/switch"),
            MacKey::Macvlan { ct, name } => write!(f, "ct/{ct}/macvlan/{name}"),
        }
    }
}

/// Derived and given values, after resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Every MAC, given or derived.
    pub macs: BTreeMap<MacKey, Mac>,
    /// Which MACs were given in the topology (the rest were derived).
    pub given_macs: BTreeSet<MacKey>,
    /// Host-side name of each veth pair, keyed by (container id, container-side name).
    pub host_names: BTreeMap<(u32, String), String>,
}

/// The 64-bit FNV-1a hash: tiny, stable across Rust versions and platforms (unlike
/// `DefaultHasher`), and good enough to spread ids over 46 bits of MAC.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// FNV-1a state fed piece by piece.
struct Fnv1a(u64);

impl Fnv1a {
    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Hashes `n` in decimal, as `{n}` formats it.
    fn decimal(&mut self, n: u32) {
        let mut buf = [0u8; 20];
        self.bytes(decimal(u64::from(n), &mut buf));
    }
}

/// `n` in decimal ASCII, written into the end of `buf` (`u64::MAX` has 20 digits).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` < 10, so the cast keeps every bit.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// Feeds the bytes of `key`'s text (its `Display`) into `h`, without the formatting
/// machinery: a MAC is derived for almost every interface, and `write!` cost more than
/// the hash. `key_text_is_display` (tests) checks both agree for every kind of key.
fn hash_key(h: &mut Fnv1a, key: &MacKey) {
    match key {
        MacKey::CtVeth { ct, name } | MacKey::HostVeth { ct, name } => {
            h.bytes(b"ct/");
            h.decimal(*ct);
            h.bytes(b"/veth/");
            h.bytes(name.as_bytes());
            if matches!(key, MacKey::HostVeth { .. }) {
                h.bytes(b"/host");
            }
        }
        MacKey::Bridge { name } => {
            h.bytes(b"bridge/");
            h.bytes(name.as_bytes());
        }
        MacKey::Patch { name } => {
            h.bytes(b"patch/");
            h.bytes(name.as_bytes());
        }
        MacKey::Nic { ct, name } => {
            h.bytes(b"ct/");
            h.decimal(*ct);
            h.bytes(b"/nic/");
            h.bytes(name.as_bytes());
        }
        MacKey::LanHost { lan, host } => {
            h.bytes(b"lan/");
            h.bytes(lan.as_bytes());
            h.bytes(b"/host/");
            h.bytes(host.as_bytes());
        }
        MacKey::LanSwitch { lan } => {
            h.bytes(b"lan/");
            h.bytes(lan.as_bytes());
            h.bytes(b"/switch");
        }
        MacKey::Macvlan { ct, name } => {
            h.bytes(b"ct/");
            h.decimal(*ct);
            h.bytes(b"/macvlan/");
            h.bytes(name.as_bytes());
        }
    }
}

/// A locally administered, unicast MAC derived from `topology`, `key` and `attempt`.
pub fn derive_mac(topology: &str, key: &MacKey, attempt: u32) -> Mac {
    derive_from(fnv1a(&[topology.as_bytes()]), key, attempt)
}

/// [`derive_mac`] with the topology's name already hashed (`fnv1a(&[topology])`): the
/// same as `fnv1a(&[topology, key.to_string(), attempt])`.
fn derive_from(topology_hash: u64, key: &MacKey, attempt: u32) -> Mac {
    let mut h = Fnv1a(topology_hash);
    hash_key(&mut h, key);
    h.bytes(&[0xff]);
    h.bytes(&attempt.to_le_bytes());
    h.bytes(&[0xff]);
    let h = h.0;
    let b = h.to_be_bytes();
    // Bit 1 of the first octet: locally administered; bit 0 clear: unicast.
    Mac::new((b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5])
}

/// Every MAC key of `t` with the MAC the topology gives it, if any, in the order of
/// [`MacKey`]'s `Ord` as far as the kinds go (the kinds in the enum's order, each in
/// document order), so the stable sort that follows finds runs that are mostly sorted
/// already and costs little more than one pass. The containers are walked once (with
/// 100,000 of them, every walk reads tens of megabytes that do not stay in cache).
fn mac_keys(t: &Topology) -> Vec<(MacKey, Option<Mac>)> {
    let mut keys = Vec::with_capacity(2 * t.ct.len() + t.bridge.len() + 2 * t.patch.len());
    let mut host_keys = Vec::with_capacity(t.ct.len());
    let mut nic_keys = Vec::new();
    for ct in &t.ct {
        for v in &ct.veth {
            let name = v.name.clone();
            keys.push((MacKey::CtVeth { ct: ct.id, name }, v.mac));
            let name = v.name.clone();
            host_keys.push((MacKey::HostVeth { ct: ct.id, name }, v.host_mac));
        }
        for n in &ct.nic {
            let name = n.name.clone();
            nic_keys.push((MacKey::Nic { ct: ct.id, name }, n.mac));
        }
    }
    keys.append(&mut host_keys);
    for b in &t.bridge {
        let name = b.name.clone();
        keys.push((MacKey::Bridge { name }, b.mac));
    }
    for p in &t.patch {
        for end in [&p.a, &p.b] {
            let name = end.name.clone();
            keys.push((MacKey::Patch { name }, end.mac));
        }
    }
    keys.append(&mut nic_keys);
    for lan in &t.lan {
        for h in &lan.host {
            let (lan, host) = (lan.name.clone(), h.name.clone());
            keys.push((MacKey::LanHost { lan, host }, h.mac));
        }
    }
    for lan in &t.lan {
        let lan = lan.name.clone();
        keys.push((MacKey::LanSwitch { lan }, None));
    }
    for ct in &t.ct {
        for m in &ct.macvlan {
            let name = m.name.clone();
            keys.push((MacKey::Macvlan { ct: ct.id, name }, m.mac));
        }
    }
    // Stable: equal keys (a repeated element) keep document order, so the last given
    // MAC of a key wins below, as it always has.
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

/// A MAC as an integer, for sorting.
fn mac_u64(m: Mac) -> u64 {
    let [a, b, c, d, e, f] = m.octets();
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// The MAC of each entry: the given one, else derived in key order, each derived MAC
/// the first attempt that no given MAC and no earlier derived MAC took.
fn assign_macs(topology_hash: u64, entries: &[(MacKey, Option<Mac>)]) -> Vec<Mac> {
    // Almost always every first attempt is free (46 random bits each): then the result
    // is simply the first attempts, which one sort of integers confirms. A hash set of
    // every MAC, probed at random, cost far more once it outgrew the caches.
    let first: Vec<Mac> = entries
        .iter()
        .map(|(key, given)| given.unwrap_or_else(|| derive_from(topology_hash, key, 0)))
        .collect();
    let mut given: Vec<u64> = entries.iter().filter_map(|e| e.1.map(mac_u64)).collect();
    given.sort_unstable();
    given.dedup();
    let mut all = given;
    all.extend(
        entries
            .iter()
            .zip(&first)
            .filter(|(e, _)| e.1.is_none())
            .map(|(_, m)| mac_u64(*m)),
    );
    all.sort_unstable();
    if all.windows(2).all(|w| w[0] != w[1]) {
        return first;
    }
    // A clash: the attempts in order, as the rule says.
    let mut used: HashSet<Mac> = entries.iter().filter_map(|e| e.1).collect();
    entries
        .iter()
        .map(|(key, given)| {
            given.unwrap_or_else(|| {
                let mac = (0..)
                    .map(|attempt| derive_from(topology_hash, key, attempt))
                    .find(|m| !used.contains(m))
                    .unwrap_or_else(|| unreachable!("2^46 MACs cannot all be used"));
                used.insert(mac);
                mac
            })
        })
        .collect()
}

/// Resolves every MAC and host-side name of `t`. Given values are kept as written, even
/// when invalid or repeated: validation reports those.
pub fn resolve(t: &Topology) -> Resolved {
    let keys = mac_keys(t);
    // One entry per key, in key order: the last given MAC of the key, else none yet.
    let mut entries: Vec<(MacKey, Option<Mac>)> = Vec::with_capacity(keys.len());
    for (key, mac) in keys {
        match entries.last_mut() {
            Some(last) if last.0 == key => last.1 = mac.or(last.1),
            _ => entries.push((key, mac)),
        }
    }
    let given_macs: Vec<MacKey> = entries
        .iter()
        .filter(|e| e.1.is_some())
        .map(|e| e.0.clone())
        .collect();
    let assigned = assign_macs(fnv1a(&[t.name.as_bytes()]), &entries);
    let macs: Vec<(MacKey, Mac)> = entries
        .into_iter()
        .zip(assigned)
        .map(|((key, _), mac)| (key, mac))
        .collect();
    // Both lists are sorted and free of repeats: the maps are built in one pass each.
    Resolved {
        macs: macs.into_iter().collect(),
        given_macs: given_macs.into_iter().collect(),
        host_names: resolve_host_names(t),
    }
}

/// Host-side names: OpenVZ's `veth<CTID>.<N>` where it fits in 15 bytes and is free,
/// else `vn` and 8 hex digits of a hash of the topology, container id and interface name.
/// Every host-side name lives in one namespace per node and a container may run on any
/// of its nodes, so names are kept unique across the whole topology.
fn resolve_host_names(t: &Topology) -> BTreeMap<(u32, String), String> {
    // Which names are taken (a hash set: membership only). The topology's own names are
    // borrowed; a chosen `vn<hex>` is remembered by its hash, a chosen `veth<CTID>.<N>`
    // by its numbers (below), so no name is copied to be remembered.
    let mut taken: HashSet<&str> = HashSet::new();
    // Veths with a given name; (id, name) keys, usually none.
    let mut given: HashSet<(u32, &str)> = HashSet::new();
    // Given names first, in document order (a repeated veth keeps its last given name:
    // the map below keeps the last of equal keys).
    let mut out: Vec<((u32, String), String)> = Vec::with_capacity(t.ct.len());
    let mut missing: Vec<(u32, usize, &str)> = Vec::with_capacity(t.ct.len());
    // One walk over the containers: 100,000 of them do not stay in cache between walks.
    for ct in &t.ct {
        for (i, v) in ct.veth.iter().enumerate() {
            match &v.host_name {
                Some(n) => {
                    taken.insert(n);
                    given.insert((ct.id, &v.name));
                    out.push(((ct.id, v.name.clone()), n.clone()));
                }
                None => missing.push((ct.id, i, &v.name)),
            }
        }
        for n in &ct.nic {
            taken.insert(n.device.as_deref().unwrap_or(n.name.as_str()));
        }
    }
    for b in &t.bridge {
        taken.insert(&b.name);
        taken.extend(b.ports.iter().map(String::as_str));
    }
    for p in &t.patch {
        taken.extend([p.a.name.as_str(), p.b.name.as_str()]);
    }
    missing.sort();
    let topology = t.name.as_bytes();
    let mut buf = [0u8; 20];
    let mut hashed_taken: HashSet<u32> = HashSet::new();
    // Sorted, so the entries of one container id are adjacent: a repeated (id, name)
    // key and a repeated `veth<id>.<index>` are found among them, without a set of
    // every key. (Repeats only happen with repeated ids or names, which validation
    // rejects; a set takes over if one id has very many entries.)
    let mut group: Option<u32> = None;
    let mut group_names: Vec<&str> = Vec::new();
    let mut group_set: Option<HashSet<&str>> = None;
    let mut last_openvz: Option<(u32, usize)> = None;
    for (id, index, name) in missing {
        if group != Some(id) {
            group = Some(id);
            group_names.clear();
            group_set = None;
        }
        let repeat = match &mut group_set {
            Some(set) => !set.insert(name),
            None if group_names.contains(&name) => true,
            None => {
                group_names.push(name);
                if group_names.len() > 64 {
                    group_set = Some(group_names.drain(..).collect());
                }
                false
            }
        };
        if repeat || (!given.is_empty() && given.contains(&(id, name))) {
            continue;
        }
        let mut openvz = String::with_capacity(15);
        openvz.push_str("veth");
        openvz.push_str(ascii(decimal(u64::from(id), &mut buf)));
        openvz.push('.');
        // usize is at most 64 bits on every target Rust supports.
        openvz.push_str(ascii(decimal(index as u64, &mut buf)));
        // An earlier `veth<id>.<index>` can only come from an adjacent entry with the
        // same numbers, and then it is the last one chosen.
        let chosen = if openvz.len() <= 15
            && !taken.contains(openvz.as_str())
            && last_openvz != Some((id, index))
        {
            last_openvz = Some((id, index));
            openvz
        } else {
            (0u32..)
                .map(|attempt| {
                    let h = fnv1a(&[
                        topology,
                        &id.to_le_bytes(),
                        name.as_bytes(),
                        &attempt.to_le_bytes(),
                    ]);
                    (h as u32, format!("vn{:08x}", h as u32))
                })
                .find(|(h, n)| !taken.contains(n.as_str()) && hashed_taken.insert(*h))
                .map(|(_, n)| n)
                .unwrap_or_else(|| unreachable!("2^32 names cannot all be taken"))
        };
        out.push(((id, name.to_string()), chosen));
    }
    // Given names come first and keep a later given name over an earlier one; a
    // derived name is only made for a veth with none, so no key is derived twice.
    out.into_iter().collect()
}

/// Digits from [`decimal`] as text.
fn ascii(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or_else(|_| unreachable!("decimal digits are ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Container, Veth};

    fn ct(id: u32, name: &str, veths: Vec<Veth>) -> Container {
        Container {
            id,
            name: name.into(),
            hostname: None,
            ostemplate: None,
            config: None,
            onboot: None,
            node: None,
            failover: vec![],
            netns: None,
            venet: None,
            forward: Default::default(),
            veth: veths,
            nic: vec![],
            vlan: vec![],
            macvlan: Vec::new(),
            route: vec![],
            nat: vec![],
            port_forward: vec![],
            firewall: None,
        }
    }

    fn veth(name: &str, host: Option<&str>, mac: Option<Mac>) -> Veth {
        Veth {
            name: name.into(),
            mac,
            mtu: None,
            addresses: vec![],
            host_name: host.map(str::to_string),
            host_mac: None,
            bridge: None,
        }
    }

    /// A topology from TOML text (independent of the model's struct fields).
    fn parse(text: &str) -> Topology {
        crate::Document::parse(text, crate::Format::Toml)
            .unwrap_or_else(|e| panic!("{e}"))
            .topology
    }

    #[test]
    fn derived_macs_are_local_unicast_and_avoid_given_ones() {
        let mut t = Topology::new("lab");
        let clash = derive_mac(
            "lab",
            &MacKey::CtVeth {
                ct: 2,
                name: "eth0".into(),
            },
            0,
        );
        t.ct.push(ct(1, "a", vec![veth("eth0", None, Some(clash))]));
        t.ct.push(ct(2, "b", vec![veth("eth0", None, None)]));
        let r = resolve(&t);
        let derived = r.macs[&MacKey::CtVeth {
            ct: 2,
            name: "eth0".into(),
        }];
        assert_ne!(derived, clash, "a derived MAC must not take a given one");
        assert_eq!(derived.octets()[0] & 0x03, 0x02);
        let all: BTreeSet<_> = r.macs.values().collect();
        assert_eq!(all.len(), r.macs.len());
    }

    #[test]
    fn derived_macs_hash_the_keys_text() {
        let k = MacKey::HostVeth {
            ct: 101,
            name: "eth0".into(),
        };
        let h = fnv1a(&[b"lab", k.to_string().as_bytes(), &3u32.to_le_bytes()]);
        let b = h.to_be_bytes();
        let want = Mac::new((b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]);
        assert_eq!(derive_mac("lab", &k, 3), want);
    }

    #[test]
    fn key_text_is_display() {
        let name = || "eth0".to_string();
        let keys = [
            MacKey::CtVeth {
                ct: 0,
                name: name(),
            },
            MacKey::CtVeth {
                ct: u32::MAX,
                name: name(),
            },
            MacKey::HostVeth {
                ct: 101,
                name: name(),
            },
            MacKey::Bridge { name: "br0".into() },
            MacKey::Patch { name: "p0".into() },
            MacKey::Nic {
                ct: 4_000_000_000,
                name: "eth1".into(),
            },
            MacKey::LanHost {
                lan: "lan0".into(),
                host: "gw".into(),
            },
            MacKey::LanSwitch { lan: "lan0".into() },
        ];
        for key in keys {
            let mut direct = Fnv1a(7);
            hash_key(&mut direct, &key);
            let mut text = Fnv1a(7);
            text.bytes(key.to_string().as_bytes());
            assert_eq!(direct.0, text.0, "{key}");
        }
    }

    /// Two containers (one repeated, with MACs given twice), a NIC, a bridge, a patch
    /// and a LAN with a host: every kind of key, repeats and given values.
    const KINDS: &str = r#"
name = "lab"
[[node]]
name = "m1"
[[bridge]]
name = "br0"
mac = "02:00:00:00:00:01"
[[bridge]]
name = "br1"
[[patch]]
a = { bridge = "br0", name = "p0" }
b = { bridge = "br1", name = "p1" }
[[lan]]
name = "lan0"
[[lan.host]]
name = "h1"
[[ct]]
id = 7
name = "a"
[[ct.veth]]
name = "eth1"
[[ct.veth]]
name = "eth0"
host_name = "veth3.0"
[[ct.nic]]
name = "eth2"
lan = "lan0"
[[ct]]
id = 3
name = "b"
[[ct.veth]]
name = "eth0"
mac = "02:00:00:00:00:02"
[[ct]]
id = 3
name = "b2"
[[ct.veth]]
name = "eth0"
mac = "02:00:00:00:00:03"
host_name = "given"
"#;

    #[test]
    fn mac_keys_are_listed_in_key_order() {
        let keys: Vec<MacKey> = mac_keys(&parse(KINDS)).into_iter().map(|k| k.0).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 15);
    }

    /// Resolution as it was first written (maps filled one insert at a time), kept to
    /// check that the faster one gives the same values.
    fn reference(t: &Topology) -> Resolved {
        let mut r = Resolved::default();
        let mut wanted: Vec<MacKey> = Vec::new();
        for (key, mac) in mac_keys(t) {
            match mac {
                Some(m) => {
                    r.macs.insert(key.clone(), m);
                    r.given_macs.insert(key);
                }
                None => wanted.push(key),
            }
        }
        let mut used: BTreeSet<Mac> = r.macs.values().copied().collect();
        wanted.sort();
        wanted.dedup();
        for key in wanted {
            if r.macs.contains_key(&key) {
                continue;
            }
            let mac = (0..)
                .map(|attempt| derive_mac(&t.name, &key, attempt))
                .find(|m| !used.contains(m))
                .unwrap_or_else(|| unreachable!());
            used.insert(mac);
            r.macs.insert(key, mac);
        }
        let mut taken: BTreeSet<String> =
            t.ct.iter()
                .flat_map(|c| c.veth.iter().filter_map(|v| v.host_name.clone()))
                .chain(t.bridge.iter().map(|b| b.name.clone()))
                .chain(t.bridge.iter().flat_map(|b| b.ports.iter().cloned()))
                .chain(
                    t.patch
                        .iter()
                        .flat_map(|p| [p.a.name.clone(), p.b.name.clone()]),
                )
                .chain(t.ct.iter().flat_map(|c| {
                    c.nic
                        .iter()
                        .map(|n| n.device.clone().unwrap_or_else(|| n.name.clone()))
                }))
                .collect();
        let mut missing: Vec<(u32, usize, String)> = Vec::new();
        for ct in &t.ct {
            for (i, v) in ct.veth.iter().enumerate() {
                match &v.host_name {
                    Some(n) => {
                        r.host_names.insert((ct.id, v.name.clone()), n.clone());
                    }
                    None => missing.push((ct.id, i, v.name.clone())),
                }
            }
        }
        missing.sort();
        for (id, index, name) in missing {
            if r.host_names.contains_key(&(id, name.clone())) {
                continue;
            }
            let openvz = format!("veth{id}.{index}");
            let chosen = if openvz.len() <= 15 && !taken.contains(&openvz) {
                openvz
            } else {
                (0u32..)
                    .map(|attempt| {
                        let h = fnv1a(&[
                            t.name.as_bytes(),
                            &id.to_le_bytes(),
                            name.as_bytes(),
                            &attempt.to_le_bytes(),
                        ]);
                        format!("vn{:08x}", h as u32)
                    })
                    .find(|n| !taken.contains(n))
                    .unwrap_or_else(|| unreachable!())
            };
            taken.insert(chosen.clone());
            r.host_names.insert((id, name), chosen);
        }
        r
    }

    #[test]
    fn resolution_equals_the_reference() {
        let kinds = parse(KINDS);
        let r = resolve(&kinds);
        assert_eq!(r, reference(&kinds));
        assert_eq!(r.host_names[&(3, "eth0".into())], "given");
        assert_eq!(
            r.macs[&MacKey::CtVeth {
                ct: 3,
                name: "eth0".into()
            }]
                .to_string(),
            "02:00:00:00:00:03"
        );
        // One id twice: the second container's `veth5.0` is taken by the first's.
        let twice = parse(
            "name = \"lab\"\n[[ct]]\nid = 5\nname = \"a\"\n[[ct.veth]]\nname = \"eth0\"\n\
             [[ct]]\nid = 5\nname = \"b\"\n[[ct.veth]]\nname = \"eth1\"\n[[ct.veth]]\nname = \"eth1\"",
        );
        let r = resolve(&twice);
        assert_eq!(r, reference(&twice));
        assert_eq!(r.host_names[&(5, "eth0".into())], "veth5.0");
        assert!(r.host_names[&(5, "eth1".into())].starts_with("vn"));
        let large = crate::generate::large(&crate::generate::LargeParams::new(2500));
        assert_eq!(resolve(&large), reference(&large));
    }

    #[test]
    fn derived_macs_depend_on_the_topology_name() {
        let k = MacKey::Bridge { name: "br0".into() };
        assert_ne!(derive_mac("lab1", &k, 0), derive_mac("lab2", &k, 0));
    }

    #[test]
    fn host_names_follow_openvz_and_avoid_given_names() {
        let mut t = Topology::new("lab");
        t.ct.push(ct(
            101,
            "a",
            vec![
                veth("eth0", Some("veth102.0"), None),
                veth("eth1", None, None),
            ],
        ));
        t.ct.push(ct(102, "b", vec![veth("eth0", None, None)]));
        t.ct.push(ct(4_000_000_000, "c", vec![veth("eth0", None, None)]));
        // Parsed, so the test does not depend on every field of `Bridge`.
        let br0 = parse("name = \"x\"\n[[bridge]]\nname = \"br0\"");
        t.bridge.extend(br0.bridge);
        let r = resolve(&t);
        assert_eq!(r.host_names[&(101, "eth1".into())], "veth101.1");
        let b = &r.host_names[&(102, "eth0".into())];
        assert!(b.starts_with("vn") && b.len() == 10, "{b}");
        let c = &r.host_names[&(4_000_000_000, "eth0".into())];
        assert!(c.len() <= 15, "{c}");
    }

    #[test]
    fn resolution_does_not_depend_on_input_order() {
        let mut t = Topology::new("lab");
        for id in 1..20 {
            t.ct.push(ct(id, &format!("c{id}"), vec![veth("eth0", None, None)]));
        }
        let a = resolve(&t);
        t.ct.reverse();
        assert_eq!(a, resolve(&t));
    }
}
