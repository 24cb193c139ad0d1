//! Link kinds: everything vnet knows about one kind of link, in one file per kind.
//!
//! [`LinkSpec`] is a link vnet creates. What the pipeline stages need to know about a
//! kind is answered here, and nowhere else:
//!
//! | question | method | used by |
//! |---|---|---|
//! | which links one `CreateLink` makes, observed as which kind | [`LinkSpec::ends`] | diff, fresh compile, ordering, listing |
//! | what the kernel gives each of them (MAC, MTU) | [`End::born`] | diff and fresh compile (one simulation) |
//! | which link it sits on | [`End::lower`] | ordering |
//! | which namespace creates it | [`LinkSpec::created_from`] | `plan::command`, the netlink backend |
//! | how a plan listing names it | [`LinkSpec::describe`] | `plan::listing` |
//! | how `ip link add` spells it | [`LinkSpec::ip_link_add`] | `plan::command` |
//! | the spec of an observed link, for deleting it | [`LinkSpec::from_observed`] | diff |
//!
//! Each kind's file (`veth.rs`, `bridge.rs`, `vlan.rs`, `vxlan.rs`, `macvlan.rs`) holds its answers;
//! this file only dispatches. Adding a kind: a variant here, a file beside this one, its
//! arm in each dispatch below (the compiler lists them), then its model and validation
//! (see `docs/ARCHITECTURE.md`, "How to add a link kind").

mod bridge;
mod macvlan;
mod veth;
mod vlan;
mod vxlan;

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use crate::model::{Mac, MacvlanMode};
use crate::observed::{LinkKind, ObservedLink};
use crate::plan::{Name, NsRef};

pub use vxlan::vxlan_device;

/// The kernel's MTU of a new veth, bridge, VXLAN device or physical NIC.
pub(crate) const DEFAULT_MTU: u32 = 1500;

/// A link vnet creates, described fully enough to create it again (the inverse of a
/// delete is a create).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkSpec {
    /// A veth pair, its peer created directly in `peer_ns` (moving it afterwards costs an
    /// RCU grace period). Deleting either end deletes both.
    Veth {
        /// This end's name.
        name: Name,
        /// This end's MAC.
        mac: Mac,
        /// MTU of both ends, when not the default.
        mtu: Option<u32>,
        /// The peer's namespace.
        peer_ns: NsRef,
        /// The peer's name.
        peer_name: Name,
        /// The peer's MAC.
        peer_mac: Mac,
    },
    /// A bridge with its MAC pinned.
    Bridge {
        /// The bridge's name.
        name: Name,
        /// The pinned MAC.
        mac: Mac,
        /// Whether STP runs.
        stp: bool,
        /// MTU, when not the default.
        mtu: Option<u32>,
    },
    /// An 802.1Q VLAN link on `parent`.
    Vlan {
        /// The VLAN link's name.
        name: Name,
        /// The parent link in the same namespace.
        parent: Name,
        /// The VLAN id.
        id: u16,
        /// MTU, when not the parent's.
        mtu: Option<u32>,
    },
    /// A VXLAN device stretching a bridge across nodes (`ip link add NAME type vxlan id
    /// VNI local LOCAL dstport PORT dev DEV`, learning on), with one all-zero FDB entry
    /// per remote node (`bridge fdb append 00:00:00:00:00:00 dev NAME dst REMOTE`): each
    /// flooded frame is sent to every remote (head-end replication). Deleting the
    /// device deletes its FDB entries.
    Vxlan {
        /// The device's name (`vx-<bridge>`).
        name: Name,
        /// The VXLAN network identifier.
        vni: u32,
        /// This node's underlay address, the tunnels' local end.
        local: IpAddr,
        /// The UDP destination port.
        port: u16,
        /// The underlay device, in the same namespace; none lets the route decide.
        dev: Option<Name>,
        /// The MTU (the bridge's).
        mtu: Option<u32>,
        /// The other nodes' underlay addresses, sorted.
        remotes: Vec<IpAddr>,
    },
    /// A macvlan link on `parent` (in `parent_ns`, a node's device), created from there
    /// directly into the `CreateLink`'s namespace (a container's).
    Macvlan {
        /// Its name.
        name: Name,
        /// The namespace of its parent.
        parent_ns: NsRef,
        /// The parent device.
        parent: Name,
        /// Its mode.
        mode: MacvlanMode,
        /// Its MAC.
        mac: Mac,
        /// MTU, when not the parent's.
        mtu: Option<u32>,
    },
}

/// Where a new link's MAC or MTU comes from when the kernel creates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Birth<T> {
    /// Given in the request.
    Given(T),
    /// The kernel's own: a random MAC, the default MTU.
    Kernel,
    /// Taken from the lower link ([`End::lower`]).
    Lower,
}

/// One link a `CreateLink` makes, as the kernel makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End<'a> {
    /// The namespace it lands in.
    pub ns: &'a NsRef,
    /// Its name there.
    pub name: &'a str,
    /// The kind it is observed as.
    pub kind: LinkKind,
    /// Where its MAC comes from.
    pub mac: Birth<Mac>,
    /// Where its MTU comes from.
    pub mtu: Birth<u32>,
    /// The link it sits on (namespace, name), which must exist first.
    pub lower: Option<(&'a NsRef, &'a str)>,
}

/// What a link is right after the kernel made it (besides: down, no master, no
/// addresses, `disable_ipv6` at the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Born {
    /// Its MAC; `None` when the kernel picks a random one (vnet leaves it as it is).
    pub mac: Option<Mac>,
    /// Its MTU.
    pub mtu: u32,
    /// Whether the MTU was taken from the lower link (the diff then leaves it alone).
    pub inherits_mtu: bool,
}

impl End<'_> {
    /// The link as the kernel makes it, given its lower link's MAC and MTU if known.
    pub fn born(&self, lower: Option<(Option<Mac>, u32)>) -> Born {
        let mac = match self.mac {
            Birth::Given(m) => Some(m),
            Birth::Kernel => None,
            Birth::Lower => lower.and_then(|l| l.0),
        };
        let (mtu, inherits_mtu) = match self.mtu {
            Birth::Given(m) => (m, false),
            Birth::Kernel => (DEFAULT_MTU, false),
            Birth::Lower => (lower.map_or(DEFAULT_MTU, |l| l.1), true),
        };
        Born {
            mac,
            mtu,
            inherits_mtu,
        }
    }
}

/// An MTU in a request: given, or the kernel's `otherwise`.
fn mtu_birth(mtu: Option<u32>, otherwise: Birth<u32>) -> Birth<u32> {
    mtu.map_or(otherwise, Birth::Given)
}

impl LinkSpec {
    /// The name of the link (of this end, for a veth pair).
    pub fn name(&self) -> &str {
        match self {
            LinkSpec::Veth { name, .. }
            | LinkSpec::Bridge { name, .. }
            | LinkSpec::Vlan { name, .. }
            | LinkSpec::Vxlan { name, .. }
            | LinkSpec::Macvlan { name, .. } => name,
        }
    }

    /// The links a `CreateLink` of this spec in `ns` makes, this end first.
    pub fn ends<'a>(&'a self, ns: &'a NsRef) -> Vec<End<'a>> {
        match self {
            LinkSpec::Veth {
                name,
                mac,
                mtu,
                peer_ns,
                peer_name,
                peer_mac,
            } => veth::ends(ns, name, *mac, *mtu, peer_ns, peer_name, *peer_mac),
            LinkSpec::Bridge {
                name,
                mac,
                stp,
                mtu,
            } => vec![bridge::end(ns, name, *mac, *stp, *mtu)],
            LinkSpec::Vlan {
                name,
                parent,
                id,
                mtu,
            } => vec![vlan::end(ns, name, parent, *id, *mtu)],
            LinkSpec::Vxlan {
                name,
                vni,
                local,
                port,
                dev,
                mtu,
                remotes,
            } => {
                let kind = vxlan::kind(*vni, *local, *port, dev, remotes);
                vec![vxlan::end(ns, name, dev.as_deref(), *mtu, kind)]
            }
            LinkSpec::Macvlan {
                name,
                parent_ns,
                parent,
                mode,
                mac,
                mtu,
            } => vec![macvlan::end(
                ns,
                name,
                (parent_ns, parent),
                *mode,
                *mac,
                *mtu,
            )],
        }
    }

    /// The kind the link (this end, for a veth pair) is observed as once created.
    pub fn observed_kind(&self) -> LinkKind {
        // The namespace plays no part in the kind.
        let here = NsRef::Node(Name::default());
        let mut ends = self.ends(&here);
        ends.swap_remove(0).kind
    }

    /// The namespace the `ip link add` (or netlink request) of a `CreateLink` in `ns`
    /// runs in: `ns`, except for a macvlan, which is created from its parent's namespace
    /// into `ns`.
    pub fn created_from<'a>(&'a self, ns: &'a NsRef) -> &'a NsRef {
        match self {
            LinkSpec::Macvlan { parent_ns, .. } => parent_ns,
            _ => ns,
        }
    }

    /// The rank of its creation among the link creations of one namespace: veths
    /// (they carry no dependency), bridges, then links on a lower link.
    pub fn rank(&self) -> u8 {
        match self {
            LinkSpec::Veth { .. } => 0,
            LinkSpec::Bridge { .. } => 1,
            LinkSpec::Vlan { .. } | LinkSpec::Vxlan { .. } | LinkSpec::Macvlan { .. } => 2,
        }
    }

    /// How a plan listing names the link, e.g. `bridge br0 (MAC, STP off)`.
    pub fn describe(&self) -> String {
        match self {
            LinkSpec::Veth {
                name,
                mac,
                peer_ns,
                peer_name,
                peer_mac,
                ..
            } => veth::describe(name, *mac, peer_ns, peer_name, *peer_mac),
            LinkSpec::Bridge { name, mac, stp, .. } => bridge::describe(name, *mac, *stp),
            LinkSpec::Vlan {
                name, parent, id, ..
            } => vlan::describe(name, parent, *id),
            LinkSpec::Vxlan {
                name,
                vni,
                local,
                remotes,
                ..
            } => vxlan::describe(name, *vni, local, remotes),
            LinkSpec::Macvlan {
                name,
                parent_ns,
                parent,
                mode,
                mac,
                ..
            } => macvlan::describe(name, *mac, *mode, parent_ns, parent),
        }
    }

    /// The arguments of `ip link add` that create the link, with namespaces named by
    /// `ns_name`, when run in `here` (the `CreateLink`'s namespace, named; a macvlan's
    /// runs in [`LinkSpec::created_from`]). The ownership marks and a VXLAN device's FDB
    /// entries are separate commands (`plan::command`).
    pub fn ip_link_add(&self, here: &str, ns_name: &dyn Fn(&NsRef) -> String) -> Vec<String> {
        match self {
            LinkSpec::Veth {
                name,
                mac,
                mtu,
                peer_ns,
                peer_name,
                peer_mac,
            } => veth::ip_link_add(
                here,
                name,
                *mac,
                *mtu,
                &ns_name(peer_ns),
                peer_name,
                *peer_mac,
            ),
            LinkSpec::Bridge {
                name,
                mac,
                stp,
                mtu,
            } => bridge::ip_link_add(name, *mac, *stp, *mtu),
            LinkSpec::Vlan {
                name,
                parent,
                id,
                mtu,
            } => vlan::ip_link_add(name, parent, *id, *mtu),
            LinkSpec::Vxlan {
                name,
                vni,
                local,
                port,
                dev,
                mtu,
                ..
            } => vxlan::ip_link_add(name, *vni, local, *port, dev, *mtu),
            LinkSpec::Macvlan {
                name,
                parent_ns,
                parent,
                mode,
                mac,
                mtu,
            } => {
                let from = ns_name(parent_ns);
                macvlan::ip_link_add(here, &from, name, parent, *mode, *mac, *mtu)
            }
        }
    }

    /// The spec of link `name` observed in `ns`, for deleting it (and creating it again
    /// as the inverse). A veth's peer is not observed: the spec names none, so its
    /// inverse cannot recreate the pair.
    pub fn from_observed(ns: &NsRef, name: &str, l: &ObservedLink) -> LinkSpec {
        let mac = l.mac.unwrap_or(Mac::new(0, 0, 0, 0, 0, 0));
        match &l.kind {
            LinkKind::Bridge { stp } => LinkSpec::Bridge {
                name: Name::from(name),
                mac,
                stp: *stp,
                mtu: Some(l.mtu),
            },
            LinkKind::Vlan { parent, id } => vlan::from_observed(name, parent, *id, l.mtu),
            LinkKind::Vxlan {
                vni,
                local,
                port,
                dev,
                remotes,
            } => vxlan::from_observed(name, *vni, *local, *port, dev, remotes, l.mtu),
            LinkKind::Macvlan { mode } => macvlan::from_observed(ns, name, *mode, mac, l.mtu),
            LinkKind::Veth | LinkKind::Loopback | LinkKind::Other { .. } => {
                veth::from_observed(ns, name, mac, l.mtu)
            }
        }
    }
}

impl LinkKind {
    /// A short label of the kind, as `vnet show` prints it: `veth`, `bridge+stp`,
    /// `vlan10`, `vxlan42`, `macvlan-bridge`, `hardware`, or the kernel's kind.
    pub fn label(&self) -> String {
        match self {
            LinkKind::Veth => "veth".into(),
            LinkKind::Bridge { stp } => if *stp { "bridge+stp" } else { "bridge" }.into(),
            LinkKind::Vlan { id, .. } => format!("vlan{id}"),
            LinkKind::Vxlan { vni, .. } => format!("vxlan{vni}"),
            LinkKind::Macvlan { mode } => format!("macvlan-{}", mode.as_str()),
            LinkKind::Loopback => "loopback".into(),
            LinkKind::Other { kind } if kind.is_empty() => "hardware".into(),
            LinkKind::Other { kind } => kind.clone(),
        }
    }

    /// The kind as `ip -d link` names it, with what vnet compares of it (`vnet diff`'s
    /// and verification's wording): `bridge (stp off)`, `vlan 10 on eth1`,
    /// `vxlan 42 dstport 4789 local ... dev ... remote ...`, `macvlan bridge`.
    pub fn describe(&self) -> String {
        match self {
            LinkKind::Bridge { stp } => {
                format!("bridge (stp {})", if *stp { "on" } else { "off" })
            }
            LinkKind::Vlan { parent, id } => match parent {
                Some(p) => format!("vlan {id} on {p}"),
                None => format!("vlan {id}"),
            },
            LinkKind::Vxlan {
                vni,
                local,
                port,
                dev,
                remotes,
            } => {
                let mut text = format!("vxlan {vni} dstport {port}");
                if let Some(local) = local {
                    text.push_str(&format!(" local {local}"));
                }
                if let Some(dev) = dev {
                    text.push_str(&format!(" dev {dev}"));
                }
                for r in remotes {
                    text.push_str(&format!(" remote {r}"));
                }
                text
            }
            LinkKind::Macvlan { mode } => format!("macvlan {}", mode.as_str()),
            LinkKind::Veth | LinkKind::Loopback | LinkKind::Other { .. } => self.label(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vlan_link_takes_its_parents_mac_and_mtu_unless_given() {
        let ns = NsRef::Ct("router".into());
        let mac = Mac::new(0, 0x12, 0x34, 0, 0, 1);
        let spec = LinkSpec::Vlan {
            name: "eth1.10".into(),
            parent: "eth1".into(),
            id: 10,
            mtu: None,
        };
        let end = &spec.ends(&ns)[0];
        assert_eq!(end.lower, Some((&ns, "eth1")));
        let born = end.born(Some((Some(mac), 9000)));
        assert_eq!(
            (born.mac, born.mtu, born.inherits_mtu),
            (Some(mac), 9000, true)
        );
        let given = LinkSpec::Vlan {
            name: "eth1.10".into(),
            parent: "eth1".into(),
            id: 10,
            mtu: Some(1400),
        };
        let born = given.ends(&ns)[0].born(Some((Some(mac), 9000)));
        assert_eq!((born.mtu, born.inherits_mtu), (1400, false));
    }

    #[test]
    fn a_veth_pair_makes_two_ends_with_the_mtu_of_both() {
        let (a, b) = (NsRef::Node("m1".into()), NsRef::Ct("mail".into()));
        let spec = LinkSpec::Veth {
            name: "veth2".into(),
            mac: Mac::new(0, 0, 0, 0, 0, 1),
            mtu: Some(1400),
            peer_ns: b.clone(),
            peer_name: "eth0".into(),
            peer_mac: Mac::new(0, 0, 0, 0, 0, 2),
        };
        let ends = spec.ends(&a);
        assert_eq!(ends.len(), 2);
        assert_eq!((ends[1].ns, ends[1].name), (&b, "eth0"));
        assert!(ends.iter().all(|e| e.born(None).mtu == 1400));
        assert_eq!(spec.observed_kind(), LinkKind::Veth);
    }
}
