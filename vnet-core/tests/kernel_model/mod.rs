//! An in-memory model of the kernel objects vnet plans for (test-only): namespaces,
//! links (kind, MAC, MTU, up, master, owner mark, addresses, veth peer, VLAN parent),
//! routes, sysctls and the NAT table. Executing an [`Action`] enforces the kernel's rules
//! (EEXIST/ENOENT, master and parent in the same namespace, an address needs its link, a
//! route needs an on-link next hop on an up link, a namespace before its links, a veth
//! end takes its peer along, a namespace takes its links and their peers along, moving a
//! link takes it down and drops its addresses), and is stricter than the kernel where a
//! planner mistake would otherwise pass unnoticed: `previous` values must match,
//! `SetMaster` needs a link without a master, a deleted link must match its spec's kind.
//!
//! [`Kernel::observe`] returns an [`ObservedState`] in the normalization of
//! `docs/ARCHITECTURE.md` (no fe80::/10, no addresses of `lo`, `disable_ipv6` of every link
//! but `lo`).

#![allow(dead_code)] // each test target uses a different part of the model

pub mod topologies;

use ipnetwork::IpNetwork;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use vnet_core::model::Mac;
use vnet_core::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use vnet_core::plan::{Action, LinkSpec, Name, NsRef, Plan, RouteSpec, Ruleset, Sysctl};

/// Why the kernel refused an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The errno the kernel would answer with.
    pub errno: &'static str,
    /// What was wrong.
    pub what: String,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.errno, self.what)
    }
}

fn err<T>(errno: &'static str, what: impl Into<String>) -> Result<T, KernelError> {
    Err(KernelError {
        errno,
        what: what.into(),
    })
}

/// One link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub ns: NsRef,
    pub name: String,
    pub kind: Kind,
    pub mac: Option<Mac>,
    pub mtu: u32,
    pub up: bool,
    pub master: Option<u64>,
    pub owner: Option<String>,
    pub addresses: BTreeSet<IpNetwork>,
    pub disable_ipv6: String,
}

/// A link's kind, with the references the kernel keeps by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Loopback,
    Veth {
        peer: Option<u64>,
    },
    Bridge {
        stp: bool,
    },
    Vlan {
        parent: u64,
        id: u16,
    },
    /// A VXLAN device on underlay link `dev` (if any) with its flooding FDB remotes.
    Vxlan {
        vni: u32,
        local: Option<std::net::IpAddr>,
        port: u16,
        dev: Option<u64>,
        remotes: Vec<std::net::IpAddr>,
    },
    /// A macvlan on `parent`, a link that may be in another namespace.
    Macvlan {
        parent: u64,
        mode: vnet_core::model::MacvlanMode,
    },
    Other {
        kind: String,
    },
}

/// Whether `kind` sits on link `lower` and goes when it goes (a VLAN link on its
/// parent; a VXLAN device on its underlay, as the kernel deletes it on unregister; a
/// macvlan on its parent, in whatever namespace).
fn is_on(kind: &Kind, lower: u64) -> bool {
    match kind {
        Kind::Vlan { parent, .. } | Kind::Macvlan { parent, .. } => *parent == lower,
        Kind::Vxlan { dev, .. } => *dev == Some(lower),
        _ => false,
    }
}

/// One namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    pub owner: Option<String>,
    /// Link ids by name.
    pub names: BTreeMap<String, u64>,
    /// Routes with vnet's protocol, and the link each goes out of.
    pub routes: BTreeMap<RouteSpec, u64>,
    /// Namespace-wide sysctls (forwarding).
    pub sysctls: BTreeMap<Sysctl, String>,
    /// vnet's nftables table.
    pub ruleset: Option<Ruleset>,
}

/// The kernel: namespaces and links, with `topology` as the mark vnet writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kernel {
    pub topology: String,
    pub namespaces: BTreeMap<NsRef, Namespace>,
    pub links: BTreeMap<u64, Link>,
    next: u64,
}

impl Kernel {
    /// A kernel with none of the topology's namespaces.
    pub fn new(topology: &str) -> Kernel {
        Kernel {
            topology: topology.to_string(),
            ..Default::default()
        }
    }

    /// A kernel in `state` (veth peers are not part of an observed state: the veths
    /// made here have none).
    pub fn from_observed(topology: &str, state: &ObservedState) -> Kernel {
        let mut k = Kernel::new(topology);
        for (ns, o) in &state.namespaces {
            k.namespaces.insert(
                ns.clone(),
                Namespace {
                    owner: o.owner.clone(),
                    ..Default::default()
                },
            );
            let n = k.namespaces.get_mut(ns).expect("just added");
            for (key, value) in &o.sysctls {
                if key.link().is_none() {
                    n.sysctls.insert(key.clone(), value.clone());
                }
            }
            n.ruleset = o.ruleset.clone();
            // Parents before VLAN links, bridges before ports.
            let mut pending: Vec<(&String, &ObservedLink)> = o.links.iter().collect();
            while !pending.is_empty() {
                let before = pending.len();
                pending.retain(|(name, l)| {
                    let lower_name = match &l.kind {
                        LinkKind::Vlan {
                            parent: Some(p), ..
                        }
                        | LinkKind::Vxlan { dev: Some(p), .. } => Some(p),
                        _ => None,
                    };
                    let parent = lower_name.and_then(|p| k.id(ns, p));
                    if let Some(p) = lower_name {
                        if parent.is_none() && o.links.contains_key(p) {
                            return true;
                        }
                    }
                    let kind = match &l.kind {
                        LinkKind::Veth => Kind::Veth { peer: None },
                        LinkKind::Bridge { stp } => Kind::Bridge { stp: *stp },
                        LinkKind::Vlan { id, .. } => Kind::Vlan {
                            parent: parent.unwrap_or(u64::MAX),
                            id: *id,
                        },
                        LinkKind::Vxlan {
                            vni,
                            local,
                            port,
                            remotes,
                            ..
                        } => Kind::Vxlan {
                            vni: *vni,
                            local: *local,
                            port: *port,
                            dev: parent,
                            remotes: remotes.clone(),
                        },
                        // Its parent is in another namespace, not named by observe.
                        LinkKind::Macvlan { mode } => Kind::Macvlan {
                            parent: u64::MAX,
                            mode: *mode,
                        },
                        LinkKind::Loopback => Kind::Loopback,
                        LinkKind::Other { kind } => Kind::Other { kind: kind.clone() },
                    };
                    let disable = o
                        .sysctls
                        .get(&Sysctl::DisableIpv6(Name::from(name.as_str())))
                        .cloned()
                        .unwrap_or_else(|| "0".into());
                    let id = k.add(ns, name, kind, l.mac, l.mtu, l.owner.clone());
                    let link = k.links.get_mut(&id).expect("just added");
                    link.up = l.up;
                    link.addresses = l.addresses.clone();
                    link.disable_ipv6 = disable;
                    false
                });
                assert!(pending.len() < before, "VLAN parents form a cycle");
            }
            for (name, l) in &o.links {
                if let Some(m) = &l.master {
                    let id = k.id(ns, name).expect("added above");
                    let master = k.id(ns, m);
                    k.links.get_mut(&id).expect("added").master = master;
                }
            }
            for r in &o.routes {
                let dev = k.route_dev(ns, r).unwrap_or(u64::MAX);
                k.namespaces
                    .get_mut(ns)
                    .expect("added")
                    .routes
                    .insert(r.clone(), dev);
            }
        }
        k
    }

    fn add(
        &mut self,
        ns: &NsRef,
        name: &str,
        kind: Kind,
        mac: Option<Mac>,
        mtu: u32,
        owner: Option<String>,
    ) -> u64 {
        let id = self.next;
        self.next += 1;
        self.links.insert(
            id,
            Link {
                ns: ns.clone(),
                name: name.to_string(),
                kind,
                mac,
                mtu,
                up: false,
                master: None,
                owner,
                addresses: BTreeSet::new(),
                disable_ipv6: "0".into(),
            },
        );
        self.namespaces
            .get_mut(ns)
            .expect("the caller checked the namespace")
            .names
            .insert(name.to_string(), id);
        id
    }

    /// The id of link `name` in `ns`.
    pub fn id(&self, ns: &NsRef, name: &str) -> Option<u64> {
        self.namespaces.get(ns)?.names.get(name).copied()
    }

    /// Link `name` in `ns`.
    pub fn link(&self, ns: &NsRef, name: &str) -> Option<&Link> {
        self.id(ns, name).and_then(|i| self.links.get(&i))
    }

    /// Link `name` in `ns`, to change it as someone outside vnet would.
    pub fn link_mut(&mut self, ns: &NsRef, name: &str) -> Option<&mut Link> {
        let id = self.id(ns, name)?;
        self.links.get_mut(&id)
    }

    fn ns(&self, ns: &NsRef) -> Result<&Namespace, KernelError> {
        match self.namespaces.get(ns) {
            Some(n) => Ok(n),
            None => err("ENOENT", format!("no namespace {ns}")),
        }
    }

    fn ns_mut(&mut self, ns: &NsRef) -> Result<&mut Namespace, KernelError> {
        match self.namespaces.get_mut(ns) {
            Some(n) => Ok(n),
            None => err("ENOENT", format!("no namespace {ns}")),
        }
    }

    fn need(&self, ns: &NsRef, name: &str) -> Result<u64, KernelError> {
        self.ns(ns)?;
        match self.id(ns, name) {
            Some(i) => Ok(i),
            None => err("ENODEV", format!("no link {name} in {ns}")),
        }
    }

    fn free(&self, ns: &NsRef, name: &str) -> Result<(), KernelError> {
        self.ns(ns)?;
        match self.id(ns, name) {
            Some(_) => err("EEXIST", format!("link {name} exists in {ns}")),
            None => Ok(()),
        }
    }

    /// The link a route goes out of: `dev`, and for a next hop an up link with an
    /// address whose subnet holds it.
    fn route_dev(&self, ns: &NsRef, r: &RouteSpec) -> Option<u64> {
        let n = self.namespaces.get(ns)?;
        let dev = match &r.dev {
            Some(d) => Some(*n.names.get(d.as_str())?),
            None => None,
        };
        match r.via {
            None => {
                let d = dev?;
                self.links[&d].up.then_some(d)
            }
            Some(via) => n
                .names
                .values()
                .filter(|i| dev.is_none_or(|d| d == **i))
                .find(|i| {
                    let l = &self.links[*i];
                    l.up && l.addresses.iter().any(|a| a.contains(via))
                })
                .copied(),
        }
    }

    /// Removes a link with what goes with it: its VLAN links, its veth peer (when
    /// `with_peer`), its ports' membership, the routes out of it.
    pub fn remove_link(&mut self, id: u64, with_peer: bool) {
        let Some(l) = self.links.remove(&id) else {
            return;
        };
        if let Some(n) = self.namespaces.get_mut(&l.ns) {
            n.names.remove(&l.name);
            n.routes.retain(|_, dev| *dev != id);
        }
        let children: Vec<u64> = self
            .links
            .iter()
            .filter(|(_, c)| is_on(&c.kind, id))
            .map(|(i, _)| *i)
            .collect();
        for c in self.links.values_mut() {
            if c.master == Some(id) {
                c.master = None;
            }
        }
        for c in children {
            self.remove_link(c, true);
        }
        if let (true, Kind::Veth { peer: Some(p) }) = (with_peer, &l.kind) {
            self.remove_link(*p, false);
        }
    }

    /// Runs a whole plan, step by step in order.
    pub fn apply(&mut self, plan: &Plan) -> Result<(), (usize, KernelError)> {
        for s in &plan.steps {
            self.execute(&s.action).map_err(|e| (s.id, e))?;
        }
        Ok(())
    }

    /// Executes one action as the kernel would, or refuses it.
    pub fn execute(&mut self, a: &Action) -> Result<(), KernelError> {
        let mark = Some(self.topology.clone());
        match a {
            Action::CreateNamespace { ns } => {
                if self.namespaces.contains_key(ns) {
                    return err("EEXIST", format!("namespace {ns} exists"));
                }
                let mut n = Namespace {
                    owner: mark.clone(),
                    ..Default::default()
                };
                n.sysctls.insert(Sysctl::Ipv4Forward, "0".into());
                n.sysctls.insert(Sysctl::Ipv6Forward, "0".into());
                self.namespaces.insert(ns.clone(), n);
                let lo = self.add(ns, "lo", Kind::Loopback, None, 65536, mark);
                self.links.get_mut(&lo).expect("added").up = true;
            }
            Action::DeleteNamespace { ns } => {
                let n = self.ns(ns)?.clone();
                for id in n.names.values() {
                    // A physical NIC would return to the initial namespace, which the
                    // model does not hold: it leaves the model either way.
                    self.remove_link(*id, true);
                }
                self.namespaces.remove(ns);
            }
            Action::CreateLink { ns, spec } => self.create(ns, spec)?,
            Action::DeleteLink { ns, spec } => {
                let id = self.need(ns, spec.name())?;
                let l = &self.links[&id];
                let fits = match (&l.kind, spec) {
                    (
                        Kind::Veth { peer },
                        LinkSpec::Veth {
                            peer_ns, peer_name, ..
                        },
                    ) => {
                        peer_name.is_empty()
                            || peer.is_none_or(|p| {
                                let p = &self.links[&p];
                                &p.ns == peer_ns && &p.name == peer_name
                            })
                    }
                    (Kind::Bridge { .. }, LinkSpec::Bridge { .. }) => true,
                    (Kind::Vlan { .. }, LinkSpec::Vlan { .. }) => true,
                    (Kind::Vxlan { .. }, LinkSpec::Vxlan { .. }) => true,
                    (Kind::Macvlan { mode, .. }, LinkSpec::Macvlan { mode: m, .. }) => mode == m,
                    _ => false,
                };
                if !fits {
                    return err("EINVAL", format!("{spec:?} does not describe {l:?}"));
                }
                self.remove_link(id, true);
            }
            Action::MoveLink {
                from,
                name,
                to,
                new_name,
            } => {
                let id = self.need(from, name)?;
                self.free(to, new_name)?;
                if matches!(self.links[&id].kind, Kind::Loopback) {
                    return err("EINVAL", "lo cannot move");
                }
                // Moving unregisters the link from its namespace: VLAN links on it go,
                // its routes go, it leaves its bridge; it arrives down and empty.
                let children: Vec<u64> = self
                    .links
                    .iter()
                    .filter(|(_, c)| is_on(&c.kind, id))
                    .map(|(i, _)| *i)
                    .collect();
                for c in children {
                    self.remove_link(c, true);
                }
                let n = self.namespaces.get_mut(from).expect("checked");
                n.names.remove(name.as_str());
                n.routes.retain(|_, dev| *dev != id);
                for c in self.links.values_mut() {
                    if c.master == Some(id) {
                        c.master = None;
                    }
                }
                let l = self.links.get_mut(&id).expect("checked");
                l.ns = to.clone();
                l.name = new_name.to_string();
                l.up = false;
                l.master = None;
                l.addresses.clear();
                l.disable_ipv6 = "0".into();
                // vnet marks a NIC while it is in a container and unmarks it back home.
                l.owner = if matches!(to, NsRef::Node(_)) {
                    None
                } else {
                    mark
                };
                self.namespaces
                    .get_mut(to)
                    .expect("checked")
                    .names
                    .insert(new_name.to_string(), id);
            }
            Action::SetMac {
                ns,
                link,
                mac,
                previous,
            } => {
                let id = self.need(ns, link)?;
                let old = self.links[&id].mac;
                if old != Some(*previous) {
                    return err(
                        "EPLAN",
                        format!("{link} has MAC {old:?}, the plan says {previous}"),
                    );
                }
                self.links.get_mut(&id).expect("checked").mac = Some(*mac);
                // VLAN links that share the parent's MAC follow it.
                for l in self.links.values_mut() {
                    if matches!(l.kind, Kind::Vlan { parent, .. } if parent == id) && l.mac == old {
                        l.mac = Some(*mac);
                    }
                }
            }
            Action::SetMtu {
                ns,
                link,
                mtu,
                previous,
            } => {
                let id = self.need(ns, link)?;
                let l = self.links.get_mut(&id).expect("checked");
                if l.mtu != *previous {
                    return err(
                        "EPLAN",
                        format!("{link} has MTU {}, the plan says {previous}", l.mtu),
                    );
                }
                l.mtu = *mtu;
            }
            Action::SetUp { ns, link } => {
                let id = self.need(ns, link)?;
                self.links.get_mut(&id).expect("checked").up = true;
            }
            Action::SetDown { ns, link } => {
                let id = self.need(ns, link)?;
                self.links.get_mut(&id).expect("checked").up = false;
                self.namespaces
                    .get_mut(ns)
                    .expect("checked")
                    .routes
                    .retain(|_, dev| *dev != id);
            }
            Action::SetMaster { ns, link, master } => {
                let id = self.need(ns, link)?;
                let m = self.need(ns, master)?;
                if !matches!(self.links[&m].kind, Kind::Bridge { .. }) {
                    return err("EOPNOTSUPP", format!("{master} is not a bridge"));
                }
                if id == m {
                    return err("ELOOP", "a bridge cannot be its own port");
                }
                if let Some(old) = self.links[&id].master {
                    return err(
                        "EBUSY",
                        format!("{link} is a port of {}", self.links[&old].name),
                    );
                }
                self.links.get_mut(&id).expect("checked").master = Some(m);
            }
            Action::ClearMaster { ns, link, master } => {
                let id = self.need(ns, link)?;
                let m = self.need(ns, master)?;
                if self.links[&id].master != Some(m) {
                    return err("EINVAL", format!("{link} is not a port of {master}"));
                }
                self.links.get_mut(&id).expect("checked").master = None;
            }
            Action::AddAddress { ns, link, address } => {
                let id = self.need(ns, link)?;
                let l = self.links.get_mut(&id).expect("checked");
                if !l.addresses.insert(*address) {
                    return err("EEXIST", format!("{address} is on {link}"));
                }
            }
            Action::DelAddress { ns, link, address } => {
                let id = self.need(ns, link)?;
                let l = self.links.get_mut(&id).expect("checked");
                if !l.addresses.remove(address) {
                    return err("EADDRNOTAVAIL", format!("{address} is not on {link}"));
                }
            }
            Action::AddRoute { ns, route } => {
                let n = self.ns(ns)?;
                if n.routes
                    .keys()
                    .any(|r| r.dst == route.dst && r.metric == route.metric)
                {
                    return err("EEXIST", format!("a route to {} exists", route.dst));
                }
                let Some(dev) = self.route_dev(ns, route) else {
                    return err(
                        "ENETUNREACH",
                        format!("no up link in {ns} reaches {route:?}"),
                    );
                };
                self.namespaces
                    .get_mut(ns)
                    .expect("checked")
                    .routes
                    .insert(route.clone(), dev);
            }
            Action::DelRoute { ns, route } => {
                self.ns(ns)?;
                let n = self.namespaces.get_mut(ns).expect("checked");
                if n.routes.remove(route).is_none() {
                    return err("ESRCH", format!("no route {route:?}"));
                }
            }
            Action::SetSysctl {
                ns,
                sysctl,
                value,
                previous,
            } => {
                self.ns(ns)?;
                let old = match sysctl.link() {
                    Some(l) => {
                        let id = self.need(ns, l)?;
                        let link = self.links.get_mut(&id).expect("checked");
                        std::mem::replace(&mut link.disable_ipv6, value.to_string())
                    }
                    None => self
                        .namespaces
                        .get_mut(ns)
                        .expect("checked")
                        .sysctls
                        .insert(sysctl.clone(), value.to_string())
                        .unwrap_or_else(|| "0".into()),
                };
                if &old != previous {
                    return err(
                        "EPLAN",
                        format!("{} was {old}, the plan says {previous}", sysctl.key()),
                    );
                }
            }
            Action::AddNat { ns, rule } => {
                let n = self.ns_mut(ns)?;
                let r = n.ruleset.get_or_insert_with(Ruleset::default);
                if r.masquerade.contains(rule) {
                    return err("EEXIST", format!("{rule:?} exists"));
                }
                r.masquerade.push(rule.clone());
            }
            Action::DelNat { ns, rule } => {
                let n = self.ns_mut(ns)?;
                let Some(r) = n.ruleset.as_mut().filter(|r| r.masquerade.contains(rule)) else {
                    return err("ENOENT", format!("no {rule:?}"));
                };
                r.masquerade.retain(|m| m != rule);
                if r.is_empty() {
                    n.ruleset = None;
                }
            }
            // `nft -f` replaces the whole table in one transaction, whatever was there;
            // the plan must still know what it replaces (its inverse restores that).
            Action::SetRuleset { ns, from, to } => {
                let n = self.ns_mut(ns)?;
                if &n.ruleset != from {
                    return err(
                        "EPLAN",
                        format!("the table was {:?}, the plan says {from:?}", n.ruleset),
                    );
                }
                n.ruleset = to.clone().filter(|r| !r.is_empty());
            }
            Action::WriteFile { .. } | Action::RemoveFile { .. } => {
                return err("EINVAL", "files are not kernel objects");
            }
        }
        Ok(())
    }

    fn create(&mut self, ns: &NsRef, spec: &LinkSpec) -> Result<(), KernelError> {
        let mark = Some(self.topology.clone());
        self.free(ns, spec.name())?;
        match spec {
            LinkSpec::Veth {
                name,
                mac,
                mtu,
                peer_ns,
                peer_name,
                peer_mac,
            } => {
                self.free(peer_ns, peer_name)?;
                if peer_ns == ns && peer_name == name {
                    return err("EEXIST", "both ends of a veth have one name");
                }
                let mtu = mtu.unwrap_or(1500);
                let a = self.add(
                    ns,
                    name,
                    Kind::Veth { peer: None },
                    Some(*mac),
                    mtu,
                    mark.clone(),
                );
                let b = self.add(
                    peer_ns,
                    peer_name,
                    Kind::Veth { peer: Some(a) },
                    Some(*peer_mac),
                    mtu,
                    mark,
                );
                self.links.get_mut(&a).expect("added").kind = Kind::Veth { peer: Some(b) };
            }
            LinkSpec::Bridge {
                name,
                mac,
                stp,
                mtu,
            } => {
                self.add(
                    ns,
                    name,
                    Kind::Bridge { stp: *stp },
                    Some(*mac),
                    mtu.unwrap_or(1500),
                    mark,
                );
            }
            LinkSpec::Vlan {
                name,
                parent,
                id,
                mtu,
            } => {
                let p = self.need(ns, parent)?;
                let taken = self.links.values().any(
                    |l| matches!(l.kind, Kind::Vlan { parent, id: i } if parent == p && i == *id),
                );
                if taken {
                    return err("EEXIST", format!("VLAN {id} exists on {parent}"));
                }
                let (pmac, pmtu) = (self.links[&p].mac, self.links[&p].mtu);
                let mtu = mtu.unwrap_or(pmtu);
                if mtu > pmtu {
                    return err("ERANGE", format!("VLAN MTU {mtu} above {parent}'s {pmtu}"));
                }
                self.add(ns, name, Kind::Vlan { parent: p, id: *id }, pmac, mtu, mark);
            }
            LinkSpec::Vxlan {
                name,
                vni,
                local,
                port,
                dev,
                mtu,
                remotes,
            } => {
                let lower = dev.as_ref().map(|d| self.need(ns, d)).transpose()?;
                let mtu = mtu.unwrap_or(1500);
                if let Some(l) = lower {
                    let room = self.links[&l].mtu.saturating_sub(50);
                    if mtu > room {
                        return err("EINVAL", format!("VXLAN MTU {mtu} above {room}"));
                    }
                }
                // The kernel gives a VXLAN device a random MAC.
                let mac = Mac::new(0x0a, 0xee, 0, 0, (*vni >> 8) as u8, *vni as u8);
                let kind = Kind::Vxlan {
                    vni: *vni,
                    local: Some(*local),
                    port: *port,
                    dev: lower,
                    remotes: remotes.clone(),
                };
                self.add(ns, name, kind, Some(mac), mtu, mark);
            }
            LinkSpec::Macvlan {
                name,
                parent_ns,
                parent,
                mode,
                mac,
                mtu,
            } => {
                // Looked up in the namespace the request is sent from, created in `ns`.
                self.ns(ns)?;
                let p = self.need(parent_ns, parent)?;
                let pmtu = self.links[&p].mtu;
                let mtu = mtu.unwrap_or(pmtu);
                if mtu > pmtu {
                    return err(
                        "EINVAL",
                        format!("macvlan MTU {mtu} above {parent}'s {pmtu}"),
                    );
                }
                let kind = Kind::Macvlan {
                    parent: p,
                    mode: *mode,
                };
                self.add(ns, name, kind, Some(*mac), mtu, mark);
            }
        }
        Ok(())
    }

    /// The state as `observe` reports it.
    pub fn observe(&self) -> ObservedState {
        let mut out = ObservedState::empty();
        for (ns, n) in &self.namespaces {
            let mut o = ObservedNamespace {
                owner: n.owner.clone(),
                sysctls: n.sysctls.clone(),
                ruleset: n.ruleset.clone(),
                routes: n.routes.keys().cloned().collect(),
                ..Default::default()
            };
            for (name, id) in &n.names {
                let l = &self.links[id];
                let kind = match &l.kind {
                    Kind::Loopback => LinkKind::Loopback,
                    Kind::Veth { .. } => LinkKind::Veth,
                    Kind::Bridge { stp } => LinkKind::Bridge { stp: *stp },
                    Kind::Vlan { parent, id } => LinkKind::Vlan {
                        parent: self
                            .links
                            .get(parent)
                            .filter(|p| &p.ns == ns)
                            .map(|p| p.name.clone()),
                        id: *id,
                    },
                    Kind::Vxlan {
                        vni,
                        local,
                        port,
                        dev,
                        remotes,
                    } => LinkKind::Vxlan {
                        vni: *vni,
                        local: *local,
                        port: *port,
                        dev: dev
                            .and_then(|d| self.links.get(&d))
                            .filter(|d| &d.ns == ns)
                            .map(|d| d.name.clone()),
                        remotes: remotes.clone(),
                    },
                    Kind::Macvlan { mode, .. } => LinkKind::Macvlan { mode: *mode },
                    Kind::Other { kind } => LinkKind::Other { kind: kind.clone() },
                };
                let is_lo = matches!(l.kind, Kind::Loopback);
                let addresses = if is_lo {
                    BTreeSet::new()
                } else {
                    l.addresses
                        .iter()
                        .filter(|a| !is_link_local(a))
                        .copied()
                        .collect()
                };
                if !is_lo {
                    o.sysctls.insert(
                        Sysctl::DisableIpv6(Name::from(name.as_str())),
                        l.disable_ipv6.clone(),
                    );
                }
                o.links.insert(
                    name.clone(),
                    ObservedLink {
                        kind,
                        mac: l.mac.filter(|m| !m.is_zero()),
                        mtu: l.mtu,
                        up: l.up,
                        master: l.master.map(|m| self.links[&m].name.clone()),
                        owner: l.owner.clone(),
                        addresses,
                    },
                );
            }
            out.namespaces.insert(ns.clone(), o);
        }
        out
    }

    /// Adds a link without vnet's mark, as another tool would (up, MTU 1500).
    pub fn foreign_link(&mut self, ns: &NsRef, name: &str, mac: Mac) -> Result<(), KernelError> {
        self.free(ns, name)?;
        let id = self.add(
            ns,
            name,
            Kind::Other {
                kind: "dummy".into(),
            },
            Some(mac),
            1500,
            None,
        );
        self.links.get_mut(&id).expect("added").up = true;
        Ok(())
    }

    /// Adds an address to a link, as another tool would.
    pub fn foreign_address(
        &mut self,
        ns: &NsRef,
        link: &str,
        a: IpNetwork,
    ) -> Result<(), KernelError> {
        let id = self.need(ns, link)?;
        self.links
            .get_mut(&id)
            .expect("checked")
            .addresses
            .insert(a);
        Ok(())
    }

    /// Adds a namespace without vnet's mark, holding `lo`.
    pub fn foreign_namespace(&mut self, ns: &NsRef) -> Result<(), KernelError> {
        if self.namespaces.contains_key(ns) {
            return err("EEXIST", format!("namespace {ns} exists"));
        }
        self.namespaces.insert(ns.clone(), Namespace::default());
        let lo = self.add(ns, "lo", Kind::Loopback, None, 65536, None);
        self.links.get_mut(&lo).expect("added").up = true;
        Ok(())
    }
}

fn is_link_local(a: &IpNetwork) -> bool {
    match a {
        IpNetwork::V6(v6) => (v6.ip().segments()[0] & 0xffc0) == 0xfe80,
        IpNetwork::V4(_) => false,
    }
}
