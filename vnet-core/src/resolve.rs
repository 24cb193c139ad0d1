//! What the topology leaves out and vnet derives: host-side veth names and MACs.
//!
//! Derivation is deterministic and independent of input order: each value is a hash of
//! the topology's name and the element's stable id (container id, interface name), and
//! collisions are resolved in the sorted order of those ids. Given values are reserved
//! first, so a derived value never equals a given one.

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

/// FNV-1a state that text can be formatted into.
struct Fnv1a(u64);

impl Fnv1a {
    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl fmt::Write for Fnv1a {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// A locally administered, unicast MAC derived from `topology`, `key` and `attempt`.
pub fn derive_mac(topology: &str, key: &MacKey, attempt: u32) -> Mac {
    // The same as `fnv1a(&[topology, key.to_string(), attempt])`, with the key's text
    // hashed as it is formatted instead of allocated first (a MAC for every interface).
    let mut h = Fnv1a(fnv1a(&[topology.as_bytes()]));
    fmt::Write::write_fmt(&mut h, format_args!("{key}")).expect("hashing cannot fail");
    h.bytes(&[0xff]);
    h.bytes(&attempt.to_le_bytes());
    h.bytes(&[0xff]);
    let h = h.0;
    let b = h.to_be_bytes();
    // Bit 1 of the first octet: locally administered; bit 0 clear: unicast.
    Mac::new((b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5])
}

/// Resolves every MAC and host-side name of `t`. Given values are kept as written, even
/// when invalid or repeated: validation reports those.
pub fn resolve(t: &Topology) -> Resolved {
    let mut r = Resolved::default();
    let mut wanted: Vec<MacKey> = Vec::new();
    let mut give = |key: MacKey, mac: Option<Mac>, r: &mut Resolved| match mac {
        Some(m) => {
            r.macs.insert(key.clone(), m);
            r.given_macs.insert(key);
        }
        None => wanted.push(key),
    };
    for ct in &t.ct {
        for v in &ct.veth {
            give(
                MacKey::CtVeth {
                    ct: ct.id,
                    name: v.name.clone(),
                },
                v.mac,
                &mut r,
            );
            give(
                MacKey::HostVeth {
                    ct: ct.id,
                    name: v.name.clone(),
                },
                v.host_mac,
                &mut r,
            );
        }
        for n in &ct.nic {
            give(
                MacKey::Nic {
                    ct: ct.id,
                    name: n.name.clone(),
                },
                n.mac,
                &mut r,
            );
        }
    }
    for b in &t.bridge {
        give(
            MacKey::Bridge {
                name: b.name.clone(),
            },
            b.mac,
            &mut r,
        );
    }
    for p in &t.patch {
        for end in [&p.a, &p.b] {
            give(
                MacKey::Patch {
                    name: end.name.clone(),
                },
                end.mac,
                &mut r,
            );
        }
    }
    for lan in &t.lan {
        give(
            MacKey::LanSwitch {
                lan: lan.name.clone(),
            },
            None,
            &mut r,
        );
        for h in &lan.host {
            give(
                MacKey::LanHost {
                    lan: lan.name.clone(),
                    host: h.name.clone(),
                },
                h.mac,
                &mut r,
            );
        }
    }
    let mut used: BTreeSet<Mac> = r.macs.values().copied().collect();
    wanted.sort();
    wanted.dedup();
    for key in wanted {
        if r.macs.contains_key(&key) {
            continue; // a duplicate element; validation reports it
        }
        let mac = (0..)
            .map(|attempt| derive_mac(&t.name, &key, attempt))
            .find(|m| !used.contains(m))
            .unwrap_or_else(|| unreachable!("2^46 MACs cannot all be used"));
        used.insert(mac);
        r.macs.insert(key, mac);
    }
    resolve_host_names(t, &mut r);
    r
}

/// Host-side names: OpenVZ's `veth<CTID>.<N>` where it fits in 15 bytes and is free,
/// else `vn` and 8 hex digits of a hash of the topology, container id and interface name.
/// Every host-side name lives in one namespace per node and a container may run on any
/// of its nodes, so names are kept unique across the whole topology.
fn resolve_host_names(t: &Topology, r: &mut Resolved) {
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
                .unwrap_or_else(|| unreachable!("2^32 names cannot all be taken"))
        };
        taken.insert(chosen.clone());
        r.host_names.insert((id, name), chosen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bridge, Container, Veth};

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
            venet: None,
            forward: Default::default(),
            veth: veths,
            nic: vec![],
            vlan: vec![],
            route: vec![],
            nat: vec![],
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
        t.bridge.push(Bridge {
            name: "br0".into(),
            mac: None,
            stp: false,
            mtu: None,
            addresses: vec![],
            nodes: None,
            ports: vec![],
        });
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
