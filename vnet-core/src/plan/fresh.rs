//! [`compile`] of a sandbox: the plan that builds a topology from nothing, emitted
//! directly from the flat desired state (see `desired.rs`) without diffing.
//!
//! From nothing, everything is missing: every namespace is created, every unit makes its
//! links, every link gets its `disable_ipv6`, master, up and addresses, every namespace
//! its routes, forwarding and NAT. That is what [`super::diff()`] plans against the empty
//! state too, but it gets there by copying the state into maps and comparing field by
//! field, which was most of the cost of compiling a large sandbox.
//!
//! This shortcut is taken only where it provably plans the same as the diff: each link
//! name is made once per namespace and wanted there once, a made link has the MAC and
//! MTU it is wanted with, a NIC lands in a container. Anything else (a name clash the diff
//! would report as blocked, a MAC the diff would change) returns `None` and the caller
//! diffs. A property test (`tests/plan_fresh.rs`) checks the two agree.

use super::desired::{Flat, Unit, SYSCTL_DEFAULT};
use super::intern::HashMap;
use super::order::order;
use super::{Action, LinkSpec, Name, NsRef, Plan, Sysctl};
use crate::model::Mac;

/// A link the plan makes, as it is right after: down, no master, no addresses,
/// `disable_ipv6` at the default.
#[derive(Debug, Clone, Copy)]
struct Made {
    mac: Option<Mac>,
    mtu: u32,
    /// A VLAN link created without an MTU: it takes its parent's, and the diff does not
    /// set it again.
    inherits_mtu: bool,
    /// Whether a wanted link of that name was seen.
    wanted: bool,
}

/// The links made so far, by namespace (position in `Flat::spaces`) and name.
#[derive(Debug, Default)]
struct Links<'a> {
    ns: HashMap<&'a NsRef, u32>,
    at: HashMap<(u32, &'a str), usize>,
    made: Vec<Made>,
}

impl<'a> Links<'a> {
    fn ns(&self, ns: &NsRef) -> Option<u32> {
        self.ns.get(ns).copied()
    }

    fn get(&self, ns: u32, name: &str) -> Option<Made> {
        self.at.get(&(ns, name)).map(|i| self.made[*i])
    }

    /// Records a new link; `None` when the name is taken (or is `lo`, which every
    /// namespace has) or the namespace is not in scope.
    fn make(
        &mut self,
        ns: &NsRef,
        name: &'a str,
        mac: Option<Mac>,
        mtu: u32,
        inherits_mtu: bool,
    ) -> Option<()> {
        let ns = self.ns(ns)?;
        if name == "lo" || self.at.contains_key(&(ns, name)) {
            return None;
        }
        self.at.insert((ns, name), self.made.len());
        self.made.push(Made {
            mac,
            mtu,
            inherits_mtu,
            wanted: false,
        });
        Some(())
    }

    /// Records the link(s) one `CreateLink` makes, as the kernel makes them (see
    /// [`crate::kind::End::born`]).
    fn create(&mut self, ns: &'a NsRef, spec: &'a LinkSpec) -> Option<()> {
        for end in spec.ends(ns) {
            let lower = match end.lower {
                Some((lns, lname)) => {
                    let n = self.ns(lns)?;
                    self.get(n, lname).map(|p| (p.mac, p.mtu))
                }
                None => None,
            };
            let born = end.born(lower);
            self.make(end.ns, end.name, born.mac, born.mtu, born.inherits_mtu)?;
        }
        Some(())
    }
}

/// The plan that builds `d` (a sandbox) from nothing, or `d` back when the shortcut does
/// not apply (see the module docs).
///
/// In two passes: [`check`] reads `d` and decides, then [`emit`] takes it apart into the
/// actions, moving each unit's link and each name's last use instead of cloning them (a
/// plan of 10,000 containers is most of its time allocating names).
pub(crate) fn compile(topology: &str, d: Flat) -> Result<Plan, Flat> {
    match check(&d) {
        Some(made) => Ok(order(topology, Vec::new(), emit(d, &made))),
        None => Err(d),
    }
}

/// Whether the shortcut plans `d` as the diff would; if so, for each wanted link of each
/// namespace in order, whether a unit makes it (the diff skips the others).
fn check(d: &Flat) -> Option<Vec<bool>> {
    if !d.sandbox {
        return None;
    }
    let mut links = Links::default();
    for (i, (ns, _)) in d.spaces.iter().enumerate() {
        links.ns.insert(ns, u32::try_from(i).ok()?);
    }
    for unit in &d.units {
        match unit {
            Unit::Create { ns, spec } => links.create(ns, spec)?,
            Unit::Move(m) => {
                // The diff would leave a NIC on a node unmarked and untouched.
                let (Some(spec), NsRef::Ct(_)) = (&m.stand_in, &m.to) else {
                    return None;
                };
                let (f, t) = (links.ns(&m.from)?, links.ns(&m.to)?);
                if links.get(t, &m.new_name).is_some() || m.new_name == "lo" {
                    return None;
                }
                links.create(&m.from, spec)?;
                // Moving takes the link down, without addresses or master, to its new
                // name.
                let at = links.at.remove(&(f, m.name.as_str()))?;
                links.at.insert((t, &m.new_name), at);
            }
        }
    }
    let mut made = Vec::new();
    for (i, (_, parts)) in d.spaces.iter().enumerate() {
        let n = u32::try_from(i).ok()?;
        for (name, want) in &parts.links {
            if name == "lo" {
                return None;
            }
            let Some(at) = links.at.get(&(n, name.as_str())).copied() else {
                made.push(false); // nothing makes it: the diff skips it too
                continue;
            };
            made.push(true);
            let have = &mut links.made[at];
            if have.wanted {
                return None; // wanted twice: the diff keeps only the last
            }
            have.wanted = true;
            if want.mac.is_some_and(|mac| have.mac != Some(mac)) {
                return None;
            }
            if want.manage_mtu && have.mtu != want.mtu && !have.inherits_mtu {
                return None;
            }
        }
    }
    // A made link nobody wants would be deleted again by the diff.
    if links.made.iter().any(|m| !m.wanted) {
        return None;
    }
    Some(made)
}

/// The actions that build `d` from nothing, `made` as [`check`] found it.
fn emit(d: Flat, made: &[bool]) -> Vec<Action> {
    // Sized up front: an action is large, and doubling the vector copies them all.
    let per_ns: usize = d
        .spaces
        .iter()
        .map(|(_, p)| {
            let links: usize = p.links.iter().map(|(_, l)| 3 + l.addresses.len()).sum();
            1 + links + p.routes.len() + p.sysctls.len() + 1
        })
        .sum();
    let mut additions: Vec<Action> = Vec::with_capacity(per_ns + 2 * d.units.len());
    for (ns, _) in &d.spaces {
        additions.push(Action::CreateNamespace { ns: ns.clone() });
    }
    for unit in d.units {
        match unit {
            Unit::Create { ns, spec } => additions.push(Action::CreateLink { ns, spec }),
            Unit::Move(m) => {
                let move_link = m.action();
                if let Some(spec) = m.stand_in {
                    additions.push(Action::CreateLink { ns: m.from, spec });
                }
                additions.push(move_link);
            }
        }
    }
    let mut made = made.iter();
    for (ns, parts) in d.spaces {
        for (name, want) in parts.links {
            if !made.next().copied().unwrap_or(false) {
                continue;
            }
            if want.disable_ipv6() != SYSCTL_DEFAULT {
                additions.push(Action::SetSysctl {
                    ns: ns.clone(),
                    sysctl: Sysctl::DisableIpv6(name.clone()),
                    value: Name::from(want.disable_ipv6()),
                    previous: Name::from(SYSCTL_DEFAULT),
                });
            }
            if let Some(master) = want.master {
                additions.push(Action::SetMaster {
                    ns: ns.clone(),
                    link: name.clone(),
                    master,
                });
            }
            for address in &want.addresses {
                additions.push(Action::AddAddress {
                    ns: ns.clone(),
                    link: name.clone(),
                    address: *address,
                });
            }
            additions.push(Action::SetUp {
                ns: ns.clone(),
                link: name,
            });
        }
        for route in parts.routes {
            additions.push(Action::AddRoute {
                ns: ns.clone(),
                route,
            });
        }
        for (k, (key, value)) in parts.sysctls.iter().enumerate() {
            // A later value for the same sysctl replaces this one.
            let replaced = parts.sysctls[k + 1..].iter().any(|(other, _)| other == key);
            if !replaced && value != SYSCTL_DEFAULT {
                additions.push(Action::SetSysctl {
                    ns: ns.clone(),
                    sysctl: key.clone(),
                    value: value.clone(),
                    previous: Name::from(SYSCTL_DEFAULT),
                });
            }
        }
        if let Some(to) = parts.ruleset {
            additions.push(Action::SetRuleset {
                ns: ns.clone(),
                from: None,
                to: Some(to),
            });
        }
    }
    additions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{large, LargeParams};
    use crate::plan::Scope;

    fn flat(cts: usize) -> (crate::ValidTopology, Flat) {
        let t = crate::validate(large(&LargeParams::new(cts))).expect("large() is valid");
        let d = Flat::build(&t, &Scope::Sandbox);
        (t, d)
    }

    #[test]
    fn a_valid_sandbox_takes_the_shortcut() {
        let (t, d) = flat(30);
        let plan = compile(t.name(), d).expect("no clash in large()");
        assert!(plan.len() > 30 * 8, "{} steps", plan.len());
    }

    #[test]
    fn a_node_scope_is_left_to_the_diff() {
        let t = crate::validate(large(&LargeParams::new(3))).expect("large() is valid");
        let d = Flat::build(&t, &Scope::Node("m1".to_string()));
        assert!(compile(t.name(), d).is_err());
    }

    #[test]
    fn a_name_made_twice_is_left_to_the_diff() {
        let (t, mut d) = flat(3);
        let twice = d
            .units
            .iter()
            .find(|u| matches!(u, Unit::Create { .. }))
            .cloned()
            .expect("a unit");
        d.units.push(twice);
        assert!(compile(t.name(), d).is_err());
    }

    #[test]
    fn a_mac_the_diff_would_change_is_left_to_the_diff() {
        let (t, mut d) = flat(3);
        let (_, parts) = d
            .spaces
            .iter_mut()
            .find(|(ns, _)| matches!(ns, NsRef::Ct(_)))
            .expect("a container");
        parts.links[0].1.mac = Some(Mac::new(2, 0, 0, 0, 0, 0x99));
        assert!(compile(t.name(), d).is_err());
    }
}
