//! [`diff`]: the plan that takes an observed state to what the topology wants, and
//! [`compile`]: the same from the pristine state.
//!
//! The diff walks the desired state (see `desired.rs`) against a working copy of the
//! observed one, which it updates as the kernel would for each action it plans (a link
//! deleted takes its VLAN links, its ports' membership and the routes through it along;
//! a link created or moved starts down and empty), so later comparisons see the state
//! the plan will have produced by then.
//!
//! Ownership: only objects with this topology's mark are changed or deleted. A needed
//! name taken by a foreign link is left alone, with everything on it; the backend's
//! preflight reports the clash. A namespace that exists without the mark is used as it
//! is and never deleted.

use ipnetwork::IpNetwork;
use std::collections::{BTreeMap, BTreeSet};

use super::desired::{Desired, DesiredNs, Flat, NicMove, Unit, SYSCTL_DEFAULT};
use super::expected::{base_namespace, pristine_state};
use super::order::order;
use super::{Action, LinkSpec, Name, NsRef, Plan, Scope, Sysctl};
use crate::model::Mac;
use crate::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use crate::ValidTopology;

/// The plan that builds `t` in `scope` from nothing: [`diff`] against
/// [`pristine_state`]. A sandbox is planned directly from the desired state when that
/// gives the same plan (see `fresh.rs`), which is most of the time and much faster.
pub fn compile(t: &ValidTopology, scope: &Scope) -> Plan {
    if matches!(scope, Scope::Sandbox) {
        return match super::fresh::compile(t.name(), Flat::build(t, scope)) {
            Ok(plan) => plan,
            Err(flat) => diff_desired(t, &flat.into_desired(), &pristine_state(t, scope)),
        };
    }
    diff(t, scope, &pristine_state(t, scope))
}

/// The plan that takes `observed` to [`super::expected_state`]`(t, scope)`: creates what
/// is missing, changes what differs (MAC, MTU, up, master, addresses, routes, sysctls,
/// NAT) recording the observed values as `previous`, and deletes what this topology owns
/// but no longer wants. Objects without this topology's mark are never changed.
///
/// Known limits: an unwanted veth end is deleted from the side vnet creates it on (node
/// or LAN namespace) and its peer is not known to the observed state, so the inverse of
/// that deletion cannot recreate the peer; an unwanted NIC that is vnet's is left where
/// it is (its name on the node is not known any more).
pub fn diff(t: &ValidTopology, scope: &Scope, observed: &ObservedState) -> Plan {
    diff_desired(t, &Desired::build(t, scope), observed)
}

/// [`diff`] with the desired state built.
fn diff_desired(t: &ValidTopology, d: &Desired, observed: &ObservedState) -> Plan {
    let mut w = Work {
        topology: t.name(),
        removals: Vec::new(),
        additions: Vec::new(),
        cur: BTreeMap::new(),
        blocked: Names::default(),
        inherit_mtu: Names::default(),
        gone: Names::default(),
    };
    w.namespaces(d, observed);
    for unit in &d.units {
        match unit {
            Unit::Create { ns, spec } => w.create(ns, spec),
            Unit::Move(m) => w.pass_in(t, m),
        }
    }
    w.unwanted(d);
    for (ns, dns) in &d.namespaces {
        w.links(ns, dns);
        w.ports(t, ns, dns);
        w.loopback(ns, dns);
        w.rest(ns, dns);
    }
    order(t.name(), w.removals, w.additions)
}

/// The diff in progress: the actions so far and the state they lead to.
struct Work<'a> {
    topology: &'a str,
    removals: Vec<Action>,
    additions: Vec<Action>,
    /// The namespaces in scope as they will be after the actions so far.
    cur: BTreeMap<NsRef, ObservedNamespace>,
    /// Names the topology needs that a foreign link holds.
    blocked: Names,
    /// VLAN links this plan creates without an MTU of their own: they take their
    /// parent's MTU as it is when they are created, after any `SetMtu` of the parent.
    inherit_mtu: Names,
    /// Links this plan deletes, or the kernel deletes with them.
    gone: Names,
}

impl Work<'_> {
    fn ours(&self, owner: &Option<String>) -> bool {
        owner.as_deref() == Some(self.topology)
    }

    fn link(&self, ns: &NsRef, name: &str) -> Option<&ObservedLink> {
        self.cur.get(ns).and_then(|n| n.links.get(name))
    }

    fn ns_mut(&mut self, ns: &NsRef) -> &mut ObservedNamespace {
        self.cur.entry(ns.clone()).or_default()
    }

    /// Creates missing namespaces (sandbox), deletes unwanted ones that are ours.
    fn namespaces(&mut self, d: &Desired, observed: &ObservedState) {
        for (ns, dns) in &d.namespaces {
            let now = match observed.namespaces.get(ns) {
                Some(o) => o.clone(),
                None if d.sandbox => {
                    self.additions
                        .push(Action::CreateNamespace { ns: ns.clone() });
                    fresh_namespace(Some(self.topology.to_string()), dns)
                }
                // A real node's namespace must exist; the plan goes on as if it did and
                // the backend's preflight reports it missing.
                None => fresh_namespace(None, dns),
            };
            self.cur.insert(ns.clone(), now);
        }
        if d.sandbox {
            for (ns, o) in &observed.namespaces {
                if !d.namespaces.contains_key(ns) && self.ours(&o.owner) {
                    self.removals
                        .push(Action::DeleteNamespace { ns: ns.clone() });
                }
            }
        }
    }

    /// Makes sure the link(s) of one `CreateLink` exist and are ours with the right kind;
    /// recreates them when not.
    fn create(&mut self, ns: &NsRef, spec: &LinkSpec) {
        let ends = spec.ends(ns);
        // A link on a lower link of another namespace (a macvlan on its node's NIC) goes
        // when the plan deletes that lower link; the observed state cannot tell, as
        // it names no lower link across namespaces.
        for e in &ends {
            let lower_gone = e.lower.is_some_and(|(lns, lname)| {
                lns != e.ns && self.gone.of(lns).is_some_and(|g| g.contains(lname))
            });
            if lower_gone {
                self.forget(e.ns, e.name);
            }
        }
        let now: Vec<Option<&ObservedLink>> =
            ends.iter().map(|e| self.link(e.ns, e.name)).collect();
        let foreign = now
            .iter()
            .flatten()
            .any(|l| !self.ours(&l.owner) || !deletable(&l.kind));
        if foreign {
            for e in &ends {
                self.blocked.insert(e.ns, e.name);
            }
            return;
        }
        let fine = now
            .iter()
            .zip(&ends)
            .all(|(l, e)| l.is_some_and(|l| l.kind == e.kind));
        if fine {
            return;
        }
        let stale: Vec<(NsRef, String, LinkSpec)> = now
            .iter()
            .zip(&ends)
            .filter_map(|(l, e)| {
                l.map(|l| {
                    let spec = LinkSpec::from_observed(e.ns, e.name, l);
                    (e.ns.clone(), e.name.to_string(), spec)
                })
            })
            .collect();
        for (n, name, old) in stale {
            self.removals.push(Action::DeleteLink {
                ns: n.clone(),
                spec: old,
            });
            self.forget(&n, &name);
        }
        self.additions.push(Action::CreateLink {
            ns: ns.clone(),
            spec: spec.clone(),
        });
        self.created(ns, spec);
    }

    /// Records the fresh link(s) a `CreateLink` makes, as the kernel makes them (see
    /// [`crate::kind::End::born`]).
    fn created(&mut self, ns: &NsRef, spec: &LinkSpec) {
        let mut new: Vec<(NsRef, String, ObservedLink)> = Vec::new();
        for end in spec.ends(ns) {
            let lower = end
                .lower
                .and_then(|(n, l)| self.link(n, l))
                .map(|p| (p.mac, p.mtu));
            let born = end.born(lower);
            if born.inherits_mtu {
                self.inherit_mtu.insert(end.ns, end.name);
            }
            new.push((
                end.ns.clone(),
                end.name.to_string(),
                ObservedLink {
                    kind: end.kind,
                    mac: born.mac,
                    mtu: born.mtu,
                    up: false,
                    master: None,
                    owner: Some(self.topology.to_string()),
                    addresses: BTreeSet::new(),
                },
            ));
        }
        for (n, name, l) in new {
            let ns = self.ns_mut(&n);
            ns.sysctls.insert(
                Sysctl::DisableIpv6(Name::from(&name)),
                SYSCTL_DEFAULT.to_string(),
            );
            ns.links.insert(name, l);
        }
    }

    /// Passes a NIC into its container (in the sandbox: its stand-in veth, created first).
    fn pass_in(&mut self, t: &ValidTopology, m: &NicMove) {
        let (from, name, to, new_name) = (&m.from, m.name.as_str(), &m.to, m.new_name.as_str());
        let stand_in = m.stand_in.as_ref();
        if let Some(l) = self.link(to, new_name) {
            if !self.ours(&l.owner) {
                self.blocked.insert(to, new_name);
            }
            return;
        }
        let src = self.link(from, name).cloned();
        match (stand_in, src) {
            (Some(_), Some(l)) if !self.ours(&l.owner) || l.kind != LinkKind::Veth => {
                self.blocked.insert(to, new_name);
                return;
            }
            (Some(_), Some(_)) => {} // created by an interrupted run, not moved yet
            (Some(spec), None) => {
                if let LinkSpec::Veth {
                    peer_ns, peer_name, ..
                } = spec
                {
                    if let Some(p) = self.link(peer_ns, peer_name).cloned() {
                        if !self.ours(&p.owner) || !deletable(&p.kind) {
                            self.blocked.insert(to, new_name);
                            return;
                        }
                        self.removals.push(Action::DeleteLink {
                            ns: peer_ns.clone(),
                            spec: LinkSpec::from_observed(peer_ns, peer_name, &p),
                        });
                        self.forget(peer_ns, peer_name);
                    }
                }
                self.additions.push(Action::CreateLink {
                    ns: from.clone(),
                    spec: spec.clone(),
                });
                self.created(from, spec);
            }
            (None, Some(_)) => {}
            (None, None) => {
                // Not observed on the node: assume the NIC as the pristine state does,
                // so the plan still moves it (the backend's preflight finds it missing).
                let mac = super::expected::placeholder_nic_mac(t, to, new_name);
                self.ns_mut(from)
                    .links
                    .insert(name.to_string(), super::expected::physical_nic(mac));
            }
        }
        self.additions.push(m.action());
        let mut l = self
            .link(from, name)
            .cloned()
            .expect("the link to move was recorded above");
        self.forget(from, name);
        // Moving a link to another namespace takes it down and drops its addresses and
        // bridge membership; vnet marks it while it is in the container.
        l.up = false;
        l.addresses.clear();
        l.master = None;
        l.owner = if matches!(to, NsRef::Node(_)) {
            None
        } else {
            Some(self.topology.to_string())
        };
        let ns = self.ns_mut(to);
        ns.sysctls.insert(
            Sysctl::DisableIpv6(Name::from(new_name)),
            SYSCTL_DEFAULT.to_string(),
        );
        ns.links.insert(new_name.to_string(), l);
    }

    /// Deletes links that are ours but not wanted, in the namespaces in scope.
    fn unwanted(&mut self, d: &Desired) {
        let mut doomed: Vec<(NsRef, String, LinkSpec)> = Vec::new();
        for (ns, now) in &self.cur {
            let want = &d.namespaces[ns];
            for (name, l) in &now.links {
                if want.links.contains_key(name.as_str()) || !self.ours(&l.owner) {
                    continue;
                }
                let delete = match &l.kind {
                    // A veth end goes with its peer: vnet deletes pairs from the side it
                    // creates them on (the node's, or the LAN's for hosts and NICs).
                    LinkKind::Veth => matches!(ns, NsRef::Node(_) | NsRef::Lan(_)),
                    // A VLAN link whose parent goes too goes with it.
                    LinkKind::Vlan {
                        parent: Some(p), ..
                    } => want.links.contains_key(p.as_str()) || !now.links.contains_key(p),
                    LinkKind::Vlan { .. }
                    | LinkKind::Bridge { .. }
                    | LinkKind::Vxlan { .. }
                    | LinkKind::Macvlan { .. } => true,
                    LinkKind::Loopback | LinkKind::Other { .. } => false,
                };
                if delete {
                    doomed.push((
                        ns.clone(),
                        name.clone(),
                        LinkSpec::from_observed(ns, name, l),
                    ));
                }
            }
        }
        for (ns, name, spec) in doomed {
            if self.link(&ns, &name).is_none() {
                continue; // went with a link deleted before it
            }
            self.removals.push(Action::DeleteLink {
                ns: ns.clone(),
                spec,
            });
            self.forget(&ns, &name);
        }
    }

    /// Brings each wanted link to its MAC, MTU, `disable_ipv6`, master, up and addresses.
    fn links(&mut self, ns: &NsRef, dns: &DesiredNs) {
        // Parents before VLAN links: a VLAN link follows its parent's MAC change.
        let (vlans, others): (Vec<_>, Vec<_>) = dns
            .links
            .iter()
            .partition(|(_, l)| matches!(l.kind, LinkKind::Vlan { .. }));
        // The namespace's state and name sets are looked up once, not per link (a node
        // holds a host end per container).
        let Work {
            topology,
            removals,
            additions,
            cur,
            blocked,
            inherit_mtu,
            ..
        } = self;
        let Some(now) = cur.get_mut(ns) else {
            return;
        };
        let blocked = blocked.of(ns);
        let inherit = inherit_mtu.of(ns);
        for (name, want) in others.into_iter().chain(vlans) {
            if blocked.is_some_and(|b| b.contains(name.as_str())) {
                continue;
            }
            let Some(have) = now.links.get(name.as_str()).cloned() else {
                continue;
            };
            if have.owner.as_deref() != Some(*topology) {
                continue;
            }
            let (link, n) = (name.clone(), ns.clone());
            if let Some(mac) = want.mac {
                if have.mac != Some(mac) {
                    let previous = have.mac.unwrap_or(mac);
                    additions.push(Action::SetMac {
                        ns: n.clone(),
                        link: link.clone(),
                        mac,
                        previous,
                    });
                    follow_mac(now, name, previous, mac);
                }
            }
            if want.manage_mtu && have.mtu != want.mtu {
                if inherit.is_some_and(|i| i.contains(name.as_str())) {
                    // Created after its parent's `SetMtu` (see `order`), so it already has it.
                    now.links.get_mut(name.as_str()).expect("seen above").mtu = want.mtu;
                } else {
                    additions.push(Action::SetMtu {
                        ns: n.clone(),
                        link: link.clone(),
                        mtu: want.mtu,
                        previous: have.mtu,
                    });
                    follow_mtu(now, inherit, name, want.mtu);
                }
            }
            let key = Sysctl::DisableIpv6(name.clone());
            let off = now
                .sysctls
                .get(&key)
                .cloned()
                .unwrap_or_else(|| SYSCTL_DEFAULT.to_string());
            if off != want.disable_ipv6() {
                additions.push(Action::SetSysctl {
                    ns: n.clone(),
                    sysctl: key,
                    value: Name::from(want.disable_ipv6()),
                    previous: Name::from(off),
                });
            }
            if have.master.as_deref() != want.master.as_deref() {
                if let Some(old) = &have.master {
                    removals.push(Action::ClearMaster {
                        ns: n.clone(),
                        link: link.clone(),
                        master: Name::from(old),
                    });
                }
                if let Some(m) = &want.master {
                    if !blocked.is_some_and(|b| b.contains(m.as_str())) {
                        additions.push(Action::SetMaster {
                            ns: n.clone(),
                            link: link.clone(),
                            master: m.clone(),
                        });
                    }
                }
            }
            if !have.up {
                additions.push(Action::SetUp {
                    ns: n.clone(),
                    link: link.clone(),
                });
            }
            for a in have.addresses.difference(&want.addresses) {
                removals.push(Action::DelAddress {
                    ns: n.clone(),
                    link: link.clone(),
                    address: *a,
                });
            }
            for a in want.addresses.difference(&have.addresses) {
                additions.push(Action::AddAddress {
                    ns: n.clone(),
                    link: link.clone(),
                    address: *a,
                });
            }
        }
    }

    /// Puts the node's own devices listed as bridge ports into their bridges and brings
    /// them up. They are not vnet's: nothing else about them changes, and one that is a
    /// port of a bridge that is not vnet's either is left there (taking it would cut
    /// whatever uses that bridge; `verify` reports it).
    fn ports(&mut self, t: &ValidTopology, ns: &NsRef, dns: &DesiredNs) {
        for (port, bridge) in &dns.ports {
            let blocked = self.blocked.of(ns);
            if blocked.is_some_and(|b| b.contains(bridge.as_str()) || b.contains(port.as_str())) {
                continue;
            }
            let have = match self.link(ns, port) {
                Some(l) => l.clone(),
                None => {
                    // Not observed: assume it as the pristine state does, so the plan
                    // still enslaves it (the backend's preflight finds it missing).
                    let mac = super::expected::placeholder_nic_mac(t, ns, port);
                    let l = super::expected::node_port(mac);
                    self.ns_mut(ns).links.insert(port.to_string(), l.clone());
                    l
                }
            };
            if self.ours(&have.owner) {
                continue; // one of vnet's own links: `links` handled it
            }
            if have.master.as_deref() != Some(bridge.as_str()) {
                if let Some(old) = &have.master {
                    let old_is_ours = self.link(ns, old).is_some_and(|m| self.ours(&m.owner));
                    if !old_is_ours {
                        continue;
                    }
                    self.removals.push(Action::ClearMaster {
                        ns: ns.clone(),
                        link: port.clone(),
                        master: Name::from(old),
                    });
                }
                self.additions.push(Action::SetMaster {
                    ns: ns.clone(),
                    link: port.clone(),
                    master: bridge.clone(),
                });
            }
            if !have.up {
                self.additions.push(Action::SetUp {
                    ns: ns.clone(),
                    link: port.clone(),
                });
            }
        }
    }

    /// Brings `lo` up in a namespace vnet did not create when it is down (see
    /// [`DesiredNs::lo_up`]); `lo` stays unmarked, the machine's.
    fn loopback(&mut self, ns: &NsRef, dns: &DesiredNs) {
        if !dns.lo_up {
            return;
        }
        let Some(lo) = self.cur.get_mut(ns).and_then(|n| n.links.get_mut("lo")) else {
            return;
        };
        if !lo.up {
            lo.up = true;
            self.additions.push(Action::SetUp {
                ns: ns.clone(),
                link: Name::from("lo"),
            });
        }
    }

    /// Routes, forwarding and NAT of one namespace.
    fn rest(&mut self, ns: &NsRef, dns: &DesiredNs) {
        let now = &self.cur[ns];
        for r in now.routes.difference(&dns.routes) {
            self.removals.push(Action::DelRoute {
                ns: ns.clone(),
                route: r.clone(),
            });
        }
        for r in dns.routes.difference(&now.routes) {
            self.additions.push(Action::AddRoute {
                ns: ns.clone(),
                route: r.clone(),
            });
        }
        for (key, value) in &dns.sysctls {
            let have = now
                .sysctls
                .get(key)
                .map(String::as_str)
                .unwrap_or(SYSCTL_DEFAULT);
            if have != value {
                self.additions.push(Action::SetSysctl {
                    ns: ns.clone(),
                    sysctl: key.clone(),
                    value: value.clone(),
                    previous: Name::from(have),
                });
            }
        }
        if now.ruleset != dns.ruleset {
            // The table is replaced whole: after the links and addresses it names exist
            // (an addition), or removed before them (a removal).
            let set = Action::SetRuleset {
                ns: ns.clone(),
                from: now.ruleset.clone(),
                to: dns.ruleset.clone(),
            };
            if dns.ruleset.is_some() {
                self.additions.push(set);
            } else {
                self.removals.push(set);
            }
        }
    }

    /// Drops a link from the working state with what goes with it in the kernel: its
    /// VLAN links, its ports' membership, its `disable_ipv6`, the routes through it.
    fn forget(&mut self, ns: &NsRef, name: &str) {
        let Some(now) = self.cur.get_mut(ns) else {
            return;
        };
        let Some(gone) = now.links.remove(name) else {
            return;
        };
        now.sysctls.remove(&Sysctl::DisableIpv6(Name::from(name)));
        now.routes.retain(|r| {
            r.dev.as_deref() != Some(name)
                && !r
                    .via
                    .is_some_and(|via| gone.addresses.iter().any(|a: &IpNetwork| a.contains(via)))
        });
        let mut children = Vec::new();
        for (n, l) in now.links.iter_mut() {
            if l.master.as_deref() == Some(name) {
                l.master = None;
            }
            if matches!(&l.kind, LinkKind::Vlan { parent: Some(p), .. } if p == name) {
                children.push(n.clone());
            }
        }
        self.gone.insert(ns, name);
        for c in children {
            self.forget(ns, &c);
        }
    }
}

/// VLAN links on `name` that had its MAC take the new one, as the kernel does.
fn follow_mac(now: &mut ObservedNamespace, name: &str, old: Mac, new: Mac) {
    for l in now.links.values_mut() {
        if matches!(&l.kind, LinkKind::Vlan { parent: Some(p), .. } if p == name)
            && l.mac == Some(old)
        {
            l.mac = Some(new);
        }
    }
}

/// VLAN links this plan creates on `name` (`inherit`: those of the namespace that take
/// their parent's MTU) take its new MTU.
fn follow_mtu(
    now: &mut ObservedNamespace,
    inherit: Option<&BTreeSet<String>>,
    name: &str,
    mtu: u32,
) {
    for (n, l) in now.links.iter_mut() {
        if matches!(&l.kind, LinkKind::Vlan { parent: Some(p), .. } if p == name)
            && inherit.is_some_and(|i| i.contains(n))
        {
            l.mtu = mtu;
        }
    }
}

/// Link names per namespace, looked up by namespace without building an owned
/// key: the diff asks for every wanted link, and cloning a namespace and a name for
/// each question was a tenth of its allocations.
#[derive(Debug, Default)]
struct Names(BTreeMap<NsRef, BTreeSet<String>>);

impl Names {
    fn insert(&mut self, ns: &NsRef, name: &str) {
        if let Some(names) = self.0.get_mut(ns) {
            names.insert(name.to_string());
        } else {
            self.0
                .insert(ns.clone(), BTreeSet::from([name.to_string()]));
        }
    }

    /// The names in `ns`.
    fn of(&self, ns: &NsRef) -> Option<&BTreeSet<String>> {
        self.0.get(ns)
    }
}

/// A namespace as it is right after vnet creates it (or, on a real node, as assumed
/// when not observed).
fn fresh_namespace(owner: Option<String>, dns: &DesiredNs) -> ObservedNamespace {
    let mut ns = base_namespace(owner);
    for key in dns.sysctls.keys() {
        ns.sysctls.insert(key.clone(), SYSCTL_DEFAULT.to_string());
    }
    ns
}

/// Whether vnet deletes links of this kind (never `lo` or hardware).
fn deletable(kind: &LinkKind) -> bool {
    !matches!(kind, LinkKind::Loopback | LinkKind::Other { .. })
}
