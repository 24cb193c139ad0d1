//! What a topology wants in one scope, in the planner's own terms: every namespace with
//! the links, routes, sysctls and NAT rules it should hold, and the *units* that make the
//! links (a `CreateLink`, or a `MoveLink` of a NIC, with its stand-in veth in the
//! sandbox).
//!
//! [`super::expected_state`] projects this into an [`crate::observed::ObservedState`];
//! [`super::diff()`] compares it with what is observed. Both read the same description, so
//! what the planner builds and what it expects cannot drift apart.
//!
//! It is built flat ([`Flat`]: a sorted `Vec` of namespaces, each with `Vec`s of what it
//! holds, found through a hash index while building) and turned into maps only for the
//! users that look things up by name: filling a `BTreeMap` with tens of thousands of
//! string keys one insert at a time was a sixth of compiling a large sandbox, and
//! [`super::compile`] of a sandbox reads the flat form directly.

use ipnetwork::IpNetwork;
use std::collections::{BTreeMap, BTreeSet};

use super::intern::{HashMap, HashSet};
use super::{Action, LinkSpec, Name, NsRef, RouteSpec, Ruleset, Scope, Sysctl};
use crate::kind::{vxlan_device, DEFAULT_MTU};
use crate::model::{Bridge, Container, Mac};
use crate::observed::LinkKind;
use crate::resolve::{derive_mac, MacKey};
use crate::ValidTopology;

/// The MTU of `lo`.
pub(crate) const LOOPBACK_MTU: u32 = 65536;
/// The value of a sysctl the kernel starts a namespace or link with.
pub(crate) const SYSCTL_DEFAULT: &str = "0";
/// The name of the bridge the sandbox puts in each LAN namespace.
pub const LAN_SWITCH: &str = "switch";

/// The name of the other end of the sandbox's stand-in for the `k`-th bridge port:
/// `port+K`. A topology's names hold only `[A-Za-z0-9_.-]`, so this one clashes with
/// none of them; the kernel and `ip` take the `+`.
pub(crate) fn port_stand_in_peer(k: usize) -> String {
    format!("port+{k}")
}

/// The name of the other end of the sandbox's stand-in for the `k`-th macvlan parent:
/// `mv+K`, on the LAN's switch (see [`port_stand_in_peer`] for the `+`).
fn macvlan_stand_in_peer(k: usize) -> String {
    format!("mv+{k}")
}

/// One link as the topology wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredLink {
    /// Its kind.
    pub kind: LinkKind,
    /// Its MAC; `None` when vnet leaves it as it is (a real NIC passed in without `mac`).
    pub mac: Option<Mac>,
    /// Its MTU.
    pub mtu: u32,
    /// Whether vnet sets the MTU (false for a real NIC passed in without `mtu` and a
    /// VLAN link on it without its own: their MTU is the machine's, and `mtu` only a
    /// guess).
    pub manage_mtu: bool,
    /// The bridge it is a port of.
    pub master: Option<Name>,
    /// Its addresses.
    pub addresses: BTreeSet<IpNetwork>,
}

impl DesiredLink {
    /// The value of `disable_ipv6` vnet wants: IPv6 off unless the link has an IPv6
    /// address (so DAD/MLD multicast of unused IPv6 does not flood the bridges).
    pub fn disable_ipv6(&self) -> &'static str {
        if self.addresses.iter().any(IpNetwork::is_ipv6) {
            "0"
        } else {
            "1"
        }
    }
}

/// One namespace as the topology wants it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DesiredNs {
    /// Links vnet makes (not `lo`), by name.
    pub links: BTreeMap<Name, DesiredLink>,
    /// Routes (vnet's protocol).
    pub routes: BTreeSet<RouteSpec>,
    /// Namespace-wide sysctls vnet manages (forwarding), with their values. Per-link
    /// `disable_ipv6` follows from [`DesiredLink::disable_ipv6`].
    pub sysctls: BTreeMap<Sysctl, Name>,
    /// vnet's nftables table (NAT, port forwards, filters); `None`: no table.
    pub ruleset: Option<Ruleset>,
    /// Devices of a real node vnet enslaves but does not own (a bridge's `ports`), with
    /// their bridge. In the sandbox a port is a stand-in veth in `links` instead.
    pub ports: BTreeMap<Name, Name>,
    /// Whether vnet brings `lo` up here when it finds it down: in a namespace it did not
    /// create (a real node's, or a container's that its runtime made: `ip netns add` and
    /// LXC leave `lo` down). `lo` stays the machine's: vnet never marks it, and a
    /// teardown leaves it up. In the sandbox `CreateNamespace` brings it up.
    pub lo_up: bool,
}

/// One namespace as the topology wants it, as built: lists in the order of building, a
/// later entry for a link name or sysctl replacing an earlier one (as a map insert
/// does); [`DesiredNs`] is the same as maps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NsParts {
    /// Links vnet makes (not `lo`), with their names.
    pub links: Vec<(Name, DesiredLink)>,
    /// Routes (vnet's protocol).
    pub routes: Vec<RouteSpec>,
    /// Namespace-wide sysctls vnet manages, with their values.
    pub sysctls: Vec<(Sysctl, Name)>,
    /// vnet's nftables table (NAT, port forwards, filters); `None`: no table.
    pub ruleset: Option<Ruleset>,
    /// The node's own devices vnet enslaves, with their bridge (see [`DesiredNs`]).
    pub ports: Vec<(Name, Name)>,
    /// Whether vnet brings a down `lo` up (see [`DesiredNs`]).
    pub lo_up: bool,
}

impl NsParts {
    /// The same as maps and sets.
    fn into_desired(self) -> DesiredNs {
        DesiredNs {
            links: self.links.into_iter().collect(),
            routes: self.routes.into_iter().collect(),
            sysctls: self.sysctls.into_iter().collect(),
            ruleset: self.ruleset,
            ports: self.ports.into_iter().collect(),
            lo_up: self.lo_up,
        }
    }
}

/// What makes a link (or a pair of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unit {
    /// `CreateLink`: both ends of a veth pair, a bridge or a VLAN link.
    Create {
        /// Where the link (this end) is created.
        ns: NsRef,
        /// What is created.
        spec: LinkSpec,
    },
    /// A NIC passed into a container with `MoveLink`.
    Move(NicMove),
}

/// A NIC passed into a container with `MoveLink`; in the sandbox a stand-in veth is
/// created in `from` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NicMove {
    /// The node namespace the NIC is in.
    pub from: NsRef,
    /// Its name there.
    pub name: Name,
    /// The container.
    pub to: NsRef,
    /// Its name in the container.
    pub new_name: Name,
    /// The sandbox's stand-in veth, created in `from` (peer on the LAN switch).
    pub stand_in: Option<LinkSpec>,
}

impl NicMove {
    /// The `MoveLink` that passes the NIC in (its inverse takes it back out).
    pub fn action(&self) -> Action {
        Action::MoveLink {
            from: self.from.clone(),
            name: self.name.clone(),
            to: self.to.clone(),
            new_name: self.new_name.clone(),
        }
    }
}

/// Everything a topology wants in one scope.
#[derive(Debug, Clone)]
pub(crate) struct Desired {
    /// Whether vnet creates (and owns) the namespaces: the sandbox.
    pub sandbox: bool,
    /// Namespaces in scope.
    pub namespaces: BTreeMap<NsRef, DesiredNs>,
    /// What makes the links, in a stable order.
    pub units: Vec<Unit>,
}

impl Desired {
    /// The desired state of `t` in `scope`.
    pub fn build(t: &ValidTopology, scope: &Scope) -> Desired {
        Flat::build(t, scope).into_desired()
    }
}

/// Everything a topology wants in one scope, flat.
#[derive(Debug, Clone)]
pub(crate) struct Flat {
    /// Whether vnet creates (and owns) the namespaces: the sandbox.
    pub sandbox: bool,
    /// Namespaces in scope, sorted, each once.
    pub spaces: Vec<(NsRef, NsParts)>,
    /// What makes the links, in a stable order.
    pub units: Vec<Unit>,
}

impl Flat {
    /// The desired state of `t` in `scope`.
    pub fn build(t: &ValidTopology, scope: &Scope) -> Flat {
        let mut b = Builder {
            t,
            d: Flat {
                sandbox: matches!(scope, Scope::Sandbox),
                spaces: Vec::new(),
                units: Vec::new(),
            },
            index: HashMap::default(),
            used_macs: None,
            stand_ins: 0,
            macvlan_parents: Vec::new(),
        };
        b.build(scope);
        let mut d = b.d;
        if !d.sandbox {
            for (_, parts) in &mut d.spaces {
                parts.lo_up = true;
            }
        }
        d.spaces.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        d
    }

    /// The same with maps, for lookups by name.
    pub fn into_desired(self) -> Desired {
        Desired {
            sandbox: self.sandbox,
            // Sorted already: the map is built in one pass.
            namespaces: self
                .spaces
                .into_iter()
                .map(|(ns, parts)| (ns, parts.into_desired()))
                .collect(),
            units: self.units,
        }
    }
}

struct Builder<'a> {
    t: &'a ValidTopology,
    d: Flat,
    /// Where each namespace is in `d.spaces`.
    index: HashMap<NsRef, usize>,
    /// Every MAC of the topology, filled on first use (only the sandbox's switch ports
    /// need it, to derive MACs that clash with none).
    used_macs: Option<HashSet<Mac>>,
    /// Stand-ins for bridge ports made so far in the sandbox, to number their peers.
    stand_ins: usize,
    /// The sandbox's stand-ins for macvlan parents made so far (node, parent); the
    /// position numbers their peers.
    macvlan_parents: Vec<(String, String)>,
}

impl Builder<'_> {
    fn build(&mut self, scope: &Scope) {
        let topo = self.t.topology();
        let sandbox = self.d.sandbox;
        let nodes: Vec<String> = match scope {
            Scope::Sandbox => topo.node.iter().map(|n| n.name.clone()).collect(),
            Scope::Node(n) => topo
                .node
                .iter()
                .filter(|x| &x.name == n)
                .map(|x| x.name.clone())
                .collect(),
        };
        self.reserve(&nodes);
        for n in &nodes {
            let ns = self.ns(&NsRef::Node(Name::from(n.as_str())));
            // A real node's forwarding is the machine's business, not the topology's.
            if sandbox {
                forwarding(ns, false, false);
            }
        }
        for b in &topo.bridge {
            for node in self.t.bridge_nodes(&b.name) {
                if !nodes.iter().any(|n| n == node) {
                    continue;
                }
                let mac = self.t.mac(&MacKey::Bridge {
                    name: b.name.clone(),
                });
                let spec = LinkSpec::Bridge {
                    name: Name::from(&b.name),
                    mac,
                    stp: b.stp,
                    mtu: b.mtu,
                };
                let ns = NsRef::Node(Name::from(node));
                self.link(
                    &ns,
                    &b.name,
                    LinkKind::Bridge { stp: b.stp },
                    Some(mac),
                    b.mtu.unwrap_or(DEFAULT_MTU),
                    None,
                    &b.addresses,
                );
                self.d.units.push(Unit::Create {
                    ns: ns.clone(),
                    spec,
                });
                self.ports(b, node, &ns);
            }
        }
        for p in &topo.patch {
            let a_nodes = self.t.bridge_nodes(&p.a.bridge);
            let b_nodes = self.t.bridge_nodes(&p.b.bridge);
            for node in &nodes {
                if !a_nodes.contains(&node.as_str()) || !b_nodes.contains(&node.as_str()) {
                    continue;
                }
                let ns = NsRef::Node(Name::from(node.as_str()));
                let mac_a = self.t.mac(&MacKey::Patch {
                    name: p.a.name.clone(),
                });
                let mac_b = self.t.mac(&MacKey::Patch {
                    name: p.b.name.clone(),
                });
                for (end, mac) in [(&p.a, mac_a), (&p.b, mac_b)] {
                    self.link(
                        &ns,
                        &end.name,
                        LinkKind::Veth,
                        Some(mac),
                        DEFAULT_MTU,
                        Some(Name::from(&end.bridge)),
                        &[],
                    );
                }
                let spec = LinkSpec::Veth {
                    name: Name::from(&p.a.name),
                    mac: mac_a,
                    mtu: None,
                    peer_ns: ns.clone(),
                    peer_name: Name::from(&p.b.name),
                    peer_mac: mac_b,
                };
                self.d.units.push(Unit::Create { ns, spec });
            }
        }
        if sandbox {
            self.lans();
            self.underlays(&nodes);
        }
        self.stretches(&nodes);
        for ct in &topo.ct {
            let home = self.t.home_node(ct);
            if nodes.iter().any(|n| n == home) {
                self.container(ct, home);
            }
        }
    }

    /// The node's own devices bridge `b` enslaves on `node`. On a real node they are the
    /// machine's (a NIC, a bond): vnet only sets their master and brings them up. In the
    /// sandbox nothing stands behind the name, so a veth of vnet's stands in, its other
    /// end in the node too, named [`port_stand_in_peer`] (a cable to nowhere; the
    /// kernels vnet runs on need not have the dummy driver). Both ends take the bridge's
    /// MTU: a smaller port would lower the bridge's.
    fn ports(&mut self, b: &Bridge, node: &str, ns: &NsRef) {
        let bridge = Name::from(&b.name);
        for port in &b.ports {
            if !self.d.sandbox {
                self.ns(ns).ports.push((Name::from(port), bridge.clone()));
                continue;
            }
            let peer = port_stand_in_peer(self.stand_ins);
            self.stand_ins += 1;
            // '@' never occurs in a valid name, so the keys are no element's.
            let mut mac_of = |end: &str| {
                self.fresh_mac(MacKey::Bridge {
                    name: format!("{}@{node}@{end}", b.name),
                })
            };
            let (mac, peer_mac) = (mac_of(port), mac_of(&peer));
            let mtu = b.mtu.unwrap_or(DEFAULT_MTU);
            self.link(
                ns,
                port,
                LinkKind::Veth,
                Some(mac),
                mtu,
                Some(bridge.clone()),
                &[],
            );
            self.link(ns, &peer, LinkKind::Veth, Some(peer_mac), mtu, None, &[]);
            self.d.units.push(Unit::Create {
                ns: ns.clone(),
                spec: LinkSpec::Veth {
                    name: Name::from(port),
                    mac,
                    mtu: b.mtu,
                    peer_ns: ns.clone(),
                    peer_name: Name::from(peer),
                    peer_mac,
                },
            });
        }
    }

    /// Room for the namespaces, the units and each node's links, counted from the
    /// topology (a little more than needed is fine). At 10,000 containers these vectors
    /// hold tens of thousands of entries of ~100 bytes; growing them by doubling copied
    /// ~10 MB per compile, 5% of its last-level cache misses (callgrind).
    fn reserve(&mut self, nodes: &[String]) {
        let t = self.t;
        let topo = t.topology();
        let ports: usize = topo.bridge.iter().map(|b| b.ports.len()).sum();
        let (per_node, shared) = (
            nodes.len(),
            topo.bridge.len() + 2 * topo.patch.len() + ports,
        );
        let hosts: usize = topo.lan.iter().map(|l| l.host.len()).sum();
        let ct_links: usize = topo
            .ct
            .iter()
            .map(|c| c.veth.len() + c.nic.len() + c.vlan.len())
            .sum();
        self.d
            .spaces
            .reserve(per_node + topo.ct.len() + topo.lan.len() + hosts);
        self.d
            .units
            .reserve(ct_links + hosts + per_node * (shared + 2) + topo.lan.len());
        // A node holds the host ends of its containers' veth pairs, its bridges and
        // patches, and a VXLAN device and an underlay per stretched bridge at most.
        let mut host_ends: BTreeMap<&str, usize> = BTreeMap::new();
        for ct in &topo.ct {
            *host_ends.entry(t.home_node(ct)).or_default() += ct.veth.len() + ct.nic.len();
        }
        for n in nodes {
            let room = host_ends.get(n.as_str()).copied().unwrap_or(0) + 2 * shared + 1;
            self.ns(&NsRef::Node(Name::from(n.as_str())))
                .links
                .reserve(room);
        }
    }

    /// The namespace `ns`, added if new.
    fn ns(&mut self, ns: &NsRef) -> &mut NsParts {
        let at = match self.index.get(ns) {
            Some(at) => *at,
            None => {
                self.d.spaces.push((ns.clone(), NsParts::default()));
                self.index.insert(ns.clone(), self.d.spaces.len() - 1);
                self.d.spaces.len() - 1
            }
        };
        &mut self.d.spaces[at].1
    }

    #[allow(clippy::too_many_arguments)] // one call per link kind; a struct would only rename them
    fn link(
        &mut self,
        ns: &NsRef,
        name: &str,
        kind: LinkKind,
        mac: Option<Mac>,
        mtu: u32,
        master: Option<Name>,
        addresses: &[IpNetwork],
    ) {
        self.ns(ns).links.push((
            Name::from(name),
            DesiredLink {
                kind,
                mac,
                mtu,
                manage_mtu: true,
                master,
                addresses: addresses.iter().copied().collect(),
            },
        ));
    }

    /// The sandbox's stand-in for macvlan parent `parent` of `node`, once per pair: a
    /// veth `parent` in the node's namespace whose other end ([`macvlan_stand_in_peer`])
    /// is on the switch of `lan`, so the macvlans on it reach the LAN.
    fn macvlan_parent(&mut self, node: &str, parent: &str, lan: &str) {
        let key = (node.to_string(), parent.to_string());
        if self.macvlan_parents.contains(&key) {
            return;
        }
        let peer = macvlan_stand_in_peer(self.macvlan_parents.len());
        self.macvlan_parents.push(key);
        let (node_ns, lan_ns) = (NsRef::Node(Name::from(node)), NsRef::Lan(Name::from(lan)));
        // '@' never occurs in a valid name, so these keys are no element's.
        let mut mac_of = |end: &str| {
            self.fresh_mac(MacKey::LanHost {
                lan: lan.to_string(),
                host: format!("{node}@macvlan@{end}"),
            })
        };
        let (mac, peer_mac) = (mac_of(parent), mac_of(&peer));
        let switch = Some(Name::from(LAN_SWITCH));
        self.link(
            &node_ns,
            parent,
            LinkKind::Veth,
            Some(mac),
            DEFAULT_MTU,
            None,
            &[],
        );
        self.link(
            &lan_ns,
            &peer,
            LinkKind::Veth,
            Some(peer_mac),
            DEFAULT_MTU,
            switch,
            &[],
        );
        self.d.units.push(Unit::Create {
            ns: node_ns,
            spec: LinkSpec::Veth {
                name: Name::from(parent),
                mac,
                mtu: None,
                peer_ns: lan_ns,
                peer_name: Name::from(peer),
                peer_mac,
            },
        });
    }

    /// A MAC for a sandbox-only link the topology has no key for (the LAN side of a
    /// host's or NIC's cable), derived like every other MAC and clashing with none.
    fn fresh_mac(&mut self, key: MacKey) -> Mac {
        let t = self.t;
        let used = self
            .used_macs
            .get_or_insert_with(|| t.resolved().macs.values().copied().collect());
        let mac = (0..)
            .map(|attempt| derive_mac(t.name(), &key, attempt))
            .find(|m| !used.contains(m))
            .unwrap_or_else(|| unreachable!("2^46 MACs cannot all be used"));
        used.insert(mac);
        mac
    }

    /// The sandbox's LANs: a namespace with a switch, and a namespace per host cabled
    /// to it.
    fn lans(&mut self) {
        let t = self.t;
        for lan in &t.topology().lan {
            let lan_ns = NsRef::Lan(Name::from(&lan.name));
            let switch_mac = t.mac(&MacKey::LanSwitch {
                lan: lan.name.clone(),
            });
            forwarding(self.ns(&lan_ns), false, false);
            self.link(
                &lan_ns,
                LAN_SWITCH,
                LinkKind::Bridge { stp: false },
                Some(switch_mac),
                DEFAULT_MTU,
                None,
                &[],
            );
            self.d.units.push(Unit::Create {
                ns: lan_ns.clone(),
                spec: LinkSpec::Bridge {
                    name: Name::from(LAN_SWITCH),
                    mac: switch_mac,
                    stp: false,
                    mtu: None,
                },
            });
            for h in &lan.host {
                let host_ns = NsRef::Host(Name::from(&h.name));
                forwarding(self.ns(&host_ns), false, false);
                let mac = t.mac(&MacKey::LanHost {
                    lan: lan.name.clone(),
                    host: h.name.clone(),
                });
                // '@' never occurs in a valid name, so this key is no element's.
                let port_mac = self.fresh_mac(MacKey::LanHost {
                    lan: lan.name.clone(),
                    host: format!("{}@{LAN_SWITCH}", h.name),
                });
                let on_eth0: &[IpNetwork] = if h.vlan.is_some() { &[] } else { &h.addresses };
                self.link(
                    &host_ns,
                    "eth0",
                    LinkKind::Veth,
                    Some(mac),
                    DEFAULT_MTU,
                    None,
                    on_eth0,
                );
                self.link(
                    &lan_ns,
                    &h.name,
                    LinkKind::Veth,
                    Some(port_mac),
                    DEFAULT_MTU,
                    Some(Name::from(LAN_SWITCH)),
                    &[],
                );
                self.d.units.push(Unit::Create {
                    ns: host_ns.clone(),
                    spec: LinkSpec::Veth {
                        name: Name::from("eth0"),
                        mac,
                        mtu: None,
                        peer_ns: lan_ns.clone(),
                        peer_name: Name::from(&h.name),
                        peer_mac: port_mac,
                    },
                });
                if let Some(id) = h.vlan {
                    let name = format!("eth0.{id}");
                    self.link(
                        &host_ns,
                        &name,
                        LinkKind::Vlan {
                            parent: Some("eth0".to_string()),
                            id,
                        },
                        Some(mac),
                        DEFAULT_MTU,
                        None,
                        &h.addresses,
                    );
                    self.d.units.push(Unit::Create {
                        ns: host_ns.clone(),
                        spec: LinkSpec::Vlan {
                            name: Name::from(name),
                            parent: Name::from("eth0"),
                            id,
                            mtu: None,
                        },
                    });
                }
                self.ns(&host_ns)
                    .routes
                    .extend(h.route.iter().map(RouteSpec::of));
            }
        }
    }

    /// The sandbox's stand-in for each node's underlay: a veth `dev` in the node's
    /// namespace with the underlay address, its peer (named after the node) on the
    /// switch of the node's LAN. A real node's underlay is the machine's own.
    fn underlays(&mut self, nodes: &[String]) {
        let topo = self.t.topology();
        for n in &topo.node {
            let (Some(u), true) = (&n.underlay, nodes.contains(&n.name)) else {
                continue;
            };
            let Some(lan) = &u.lan else { continue };
            let node_ns = NsRef::Node(Name::from(&n.name));
            let lan_ns = NsRef::Lan(Name::from(lan.as_str()));
            // '@' never occurs in a valid name, so these keys are no element's.
            let mac = self.fresh_mac(MacKey::LanHost {
                lan: lan.clone(),
                host: format!("{}@underlay", n.name),
            });
            let port_mac = self.fresh_mac(MacKey::LanHost {
                lan: lan.clone(),
                host: format!("{}@underlay@{LAN_SWITCH}", n.name),
            });
            let mtu = u.mtu();
            self.link(
                &node_ns,
                &u.dev,
                LinkKind::Veth,
                Some(mac),
                mtu,
                None,
                &[u.address],
            );
            self.link(
                &lan_ns,
                &n.name,
                LinkKind::Veth,
                Some(port_mac),
                mtu,
                Some(Name::from(LAN_SWITCH)),
                &[],
            );
            self.d.units.push(Unit::Create {
                ns: node_ns,
                spec: LinkSpec::Veth {
                    name: Name::from(&u.dev),
                    mac,
                    mtu: u.mtu,
                    peer_ns: lan_ns,
                    peer_name: Name::from(&n.name),
                    peer_mac: port_mac,
                },
            });
        }
    }

    /// The VXLAN device of each stretched bridge on each of its nodes in scope: local
    /// end the node's underlay address, one flooding FDB entry per other node of the
    /// bridge, the bridge's MTU, a port of the bridge. Its MAC is the kernel's random
    /// one (nothing addresses the device itself).
    fn stretches(&mut self, nodes: &[String]) {
        let t = self.t;
        let topo = t.topology();
        for b in &topo.bridge {
            for node in t.bridge_nodes(&b.name) {
                // Validation guarantees an underlay on every node of a stretched bridge.
                let (true, Some(mut spec)) =
                    (nodes.iter().any(|n| n == node), vxlan_device(topo, b, node))
                else {
                    continue;
                };
                // In the sandbox the underlay device exists only as the stand-in, which
                // is built when the node is plugged into a LAN.
                let unplugged = || {
                    topo.node
                        .iter()
                        .find(|n| n.name == node)
                        .and_then(|n| n.underlay.as_ref())
                        .is_some_and(|u| u.lan.is_none())
                };
                if let LinkSpec::Vxlan { dev, .. } = &mut spec {
                    if self.d.sandbox && unplugged() {
                        *dev = None;
                    }
                }
                let ns = NsRef::Node(Name::from(node));
                let (kind, mtu) = (spec.observed_kind(), b.mtu.unwrap_or(DEFAULT_MTU));
                let name = spec.name().to_string();
                self.link(&ns, &name, kind, None, mtu, Some(Name::from(&b.name)), &[]);
                self.d.units.push(Unit::Create { ns, spec });
            }
        }
    }

    /// A container's namespace, its veth pairs (host ends on `home`), NICs, VLANs,
    /// routes, forwarding and NAT.
    fn container(&mut self, ct: &Container, home: &str) {
        let t = self.t;
        let sandbox = self.d.sandbox;
        let ct_ns = NsRef::Ct(Name::from(&ct.name));
        let node_ns = NsRef::Node(Name::from(home));
        forwarding(self.ns(&ct_ns), ct.forward.ipv4, ct.forward.ipv6);
        // The MTU and MAC of each interface, for VLAN links on top of it, and whether vnet
        // sets that MTU (not a real NIC's without `mtu`, which stays the machine's).
        let mut lower: BTreeMap<&str, (u32, Option<Mac>, bool)> = BTreeMap::new();
        for v in &ct.veth {
            let host_name = t.veth_host_name(ct, v).to_string();
            let mac = t.veth_mac(ct, v);
            let host_mac = t.veth_host_mac(ct, v);
            let mtu = v.mtu.unwrap_or(DEFAULT_MTU);
            self.link(
                &node_ns,
                &host_name,
                LinkKind::Veth,
                Some(host_mac),
                mtu,
                v.bridge.as_deref().map(Name::from),
                &[],
            );
            self.link(
                &ct_ns,
                &v.name,
                LinkKind::Veth,
                Some(mac),
                mtu,
                None,
                &v.addresses,
            );
            lower.insert(&v.name, (mtu, Some(mac), true));
            self.d.units.push(Unit::Create {
                ns: node_ns.clone(),
                spec: LinkSpec::Veth {
                    name: Name::from(host_name),
                    mac: host_mac,
                    mtu: v.mtu,
                    peer_ns: ct_ns.clone(),
                    peer_name: Name::from(&v.name),
                    peer_mac: mac,
                },
            });
        }
        for (index, nic) in ct.nic.iter().enumerate() {
            let key = MacKey::Nic {
                ct: ct.id,
                name: nic.name.clone(),
            };
            let device = nic.device.clone().unwrap_or_else(|| nic.name.clone());
            let mtu = nic.mtu.unwrap_or(DEFAULT_MTU);
            let stand_in = if sandbox {
                let mac = t.mac(&key);
                let lan_ns = NsRef::Lan(Name::from(&nic.lan));
                let port = format!("n{}.{index}", ct.id);
                let port_mac = self.fresh_mac(MacKey::Nic {
                    ct: ct.id,
                    name: format!("{}@{LAN_SWITCH}", nic.name),
                });
                self.link(
                    &lan_ns,
                    &port,
                    LinkKind::Veth,
                    Some(port_mac),
                    mtu,
                    Some(Name::from(LAN_SWITCH)),
                    &[],
                );
                self.link(
                    &ct_ns,
                    &nic.name,
                    LinkKind::Veth,
                    Some(mac),
                    mtu,
                    None,
                    &nic.addresses,
                );
                lower.insert(&nic.name, (mtu, Some(mac), true));
                Some(LinkSpec::Veth {
                    name: Name::from(&device),
                    mac,
                    mtu: nic.mtu,
                    peer_ns: lan_ns,
                    peer_name: Name::from(port),
                    peer_mac: port_mac,
                })
            } else {
                // A real NIC: vnet sets its MAC and MTU only when the topology gives them.
                let given = t.resolved().given_macs.contains(&key);
                let mac = given.then(|| t.mac(&key));
                self.ns(&ct_ns).links.push((
                    Name::from(&nic.name),
                    DesiredLink {
                        kind: LinkKind::Other {
                            kind: String::new(),
                        },
                        mac,
                        mtu,
                        manage_mtu: nic.mtu.is_some(),
                        master: None,
                        addresses: nic.addresses.iter().copied().collect(),
                    },
                ));
                lower.insert(&nic.name, (mtu, mac, nic.mtu.is_some()));
                None
            };
            self.d.units.push(Unit::Move(NicMove {
                from: node_ns.clone(),
                name: Name::from(device),
                to: ct_ns.clone(),
                new_name: Name::from(&nic.name),
                stand_in,
            }));
        }
        for v in &ct.vlan {
            let (parent_mtu, parent_mac, parent_managed) = lower
                .get(v.parent.as_str())
                .copied()
                .unwrap_or((DEFAULT_MTU, None, true));
            self.link(
                &ct_ns,
                &v.name,
                LinkKind::Vlan {
                    parent: Some(v.parent.clone()),
                    id: v.id,
                },
                parent_mac,
                v.mtu.unwrap_or(parent_mtu),
                None,
                &v.addresses,
            );
            if v.mtu.is_none() && !parent_managed {
                // It takes the NIC's MTU at creation, whatever that is.
                if let Some((_, l)) = self.ns(&ct_ns).links.last_mut() {
                    l.manage_mtu = false;
                }
            }
            self.d.units.push(Unit::Create {
                ns: ct_ns.clone(),
                spec: LinkSpec::Vlan {
                    name: Name::from(&v.name),
                    parent: Name::from(&v.parent),
                    id: v.id,
                    mtu: v.mtu,
                },
            });
        }
        for m in &ct.macvlan {
            if sandbox {
                self.macvlan_parent(home, &m.parent, &m.lan);
            }
            let mac = t.mac(&MacKey::Macvlan {
                ct: ct.id,
                name: m.name.clone(),
            });
            self.link(
                &ct_ns,
                &m.name,
                LinkKind::Macvlan { mode: m.mode },
                Some(mac),
                DEFAULT_MTU,
                None,
                &m.addresses,
            );
            if !sandbox {
                // It takes the parent's MTU, the machine's: vnet leaves it.
                if let Some((_, l)) = self.ns(&ct_ns).links.last_mut() {
                    l.manage_mtu = false;
                }
            }
            self.d.units.push(Unit::Create {
                ns: ct_ns.clone(),
                spec: LinkSpec::Macvlan {
                    name: Name::from(&m.name),
                    parent_ns: node_ns.clone(),
                    parent: Name::from(&m.parent),
                    mode: m.mode,
                    mac,
                    mtu: None,
                },
            });
        }
        let ns = self.ns(&ct_ns);
        ns.routes.extend(ct.route.iter().map(RouteSpec::of));
        ns.ruleset = Ruleset::from_model(t.topology(), ct);
    }
}

/// Sets the namespace's forwarding switches.
fn forwarding(ns: &mut NsParts, ipv4: bool, ipv6: bool) {
    let v = |on: bool| if on { "1" } else { SYSCTL_DEFAULT }.to_string();
    ns.sysctls.push((Sysctl::Ipv4Forward, Name::from(v(ipv4))));
    ns.sysctls.push((Sysctl::Ipv6Forward, Name::from(v(ipv6))));
}
