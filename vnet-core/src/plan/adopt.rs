//! Adopting (`vnet apply FILE --node N --this-host --adopt`): taking over objects that
//! exist without any mark exactly as the topology wants them (a network built by hand,
//! veths vzctl made from its NETIF) by writing vnet's mark on them and changing nothing
//! else, so that from then on they are the topology's like anything vnet built.
//!
//! [`adopt`] compares every wanted object that is there unmarked with what the topology
//! wants: a link (kind, MAC, MTU, up, bridge, addresses) and a route (next hop, device,
//! metric) of someone else's protocol. An exact match becomes an [`Action::Adopt`] and
//! counts as the topology's in the observed state the diff then starts from; any
//! difference refuses the whole adoption with every difference ([`Refused`]), before
//! anything changes. Sysctls carry no mark (the diff sets them as usual), and NAT is
//! vnet's only in its own table (the diff adds the rule there; a hand-made rule in
//! another table is left where it is).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

use super::{expected_state, Action, Name, NsRef, RouteSpec, Scope};
use crate::lifecycle::{Field, Mismatch, Object};
use crate::observed::{LinkKind, ObservedLink, ObservedNamespace, ObservedState};
use crate::ValidTopology;

/// An object an adopt step marks, with what undoes the mark.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum Adoptee {
    /// A link without alias: its alias becomes vnet's mark (`ip link set DEV alias
    /// vnet:TOPOLOGY`); disowning clears it again.
    Link {
        /// The link.
        link: Name,
    },
    /// A route of another protocol: replaced in place by the same route with vnet's
    /// protocol (`ip route replace ... proto 118`); disowning puts `protocol` back.
    Route {
        /// The route, as the topology wants it.
        route: RouteSpec,
        /// The protocol it had (`boot` is 3, `static` 4).
        protocol: u8,
    },
}

impl Adoptee {
    /// The link it is, for a link.
    pub fn link(&self) -> Option<&str> {
        match self {
            Adoptee::Link { link } => Some(link),
            Adoptee::Route { .. } => None,
        }
    }
}

impl fmt::Display for Adoptee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Adoptee::Link { link } => write!(f, "link {link}"),
            Adoptee::Route { route, .. } => write!(f, "route {route}"),
        }
    }
}

/// The adoption refused: unmarked objects in the topology's way that differ from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} object(s) in the way differ from the topology: {}", .differences.len(), list(.differences))]
pub struct Refused {
    /// Every difference, desired against found.
    pub differences: Vec<Mismatch>,
}

fn list(differences: &[Mismatch]) -> String {
    let all: Vec<String> = differences.iter().map(ToString::to_string).collect();
    all.join("; ")
}

/// What adopting leads to: the adopt steps, and the observed state with those objects
/// counted as the topology's (what the diff starts from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// One [`Action::Adopt`] per object taken over.
    pub actions: Vec<Action>,
    /// `observed` with the adopted links marked and the adopted routes among vnet's.
    pub observed: ObservedState,
}

/// Takes over every object of `t` in `scope` that `observed` holds unmarked exactly as
/// `t` wants it; refuses (changing nothing) when any such object differs.
///
/// A link with someone's alias is refused too: the label says someone claims it.
pub fn adopt(
    t: &ValidTopology,
    scope: &Scope,
    observed: &ObservedState,
) -> Result<Adopted, Refused> {
    let topology = t.name();
    let expected = expected_state(t, scope);
    let mut seen = observed.clone();
    let mut actions = Vec::new();
    let mut differences = Vec::new();
    for (ns, want) in &expected.namespaces {
        let Some(have) = seen.namespaces.get_mut(ns) else {
            continue;
        };
        for (name, w) in &want.links {
            if w.owner.as_deref() != Some(topology) {
                continue; // the machine's (lo, a bridge's port): never marked
            }
            match take_link(ns, name, w, have) {
                Ok(true) => {
                    if let Some(l) = have.links.get_mut(name) {
                        l.owner = Some(topology.to_string());
                    }
                    actions.push(Action::Adopt {
                        ns: ns.clone(),
                        object: Adoptee::Link {
                            link: Name::from(name),
                        },
                    });
                }
                Ok(false) => {}
                Err(found) => differences.extend(found),
            }
        }
        let missing: Vec<&RouteSpec> = want
            .routes
            .iter()
            .filter(|r| !have.routes.contains(*r))
            .collect();
        for route in missing {
            match take_route(ns, route, have) {
                InTheWay::Same(protocol) => {
                    have.routes.insert(route.clone());
                    actions.push(Action::Adopt {
                        ns: ns.clone(),
                        object: Adoptee::Route {
                            route: route.clone(),
                            protocol,
                        },
                    });
                }
                InTheWay::Nothing => {}
                InTheWay::Differs(found) => differences.push(found),
            }
        }
    }
    if differences.is_empty() {
        Ok(Adopted {
            actions,
            observed: seen,
        })
    } else {
        Err(Refused { differences })
    }
}

/// Whether the link `name` that `have` holds is an unmarked one to adopt (`Ok(true)`),
/// not one to adopt (absent, or marked already: `Ok(false)`), or in the way and
/// different (`Err`, every difference).
fn take_link(
    ns: &NsRef,
    name: &str,
    want: &ObservedLink,
    have: &ObservedNamespace,
) -> Result<bool, Vec<Mismatch>> {
    let Some(h) = have.links.get(name) else {
        return Ok(false);
    };
    if h.owner.is_some() || h.kind == LinkKind::Loopback {
        return Ok(false); // vnet's (this or another topology's: the usual rules)
    }
    let differ = |field: Field, desired: String, found: String| Mismatch {
        ns: ns.clone(),
        object: Object::Link(name.to_string()),
        field,
        desired,
        found,
    };
    let mut out = Vec::new();
    if let Some(alias) = have.foreign_aliases.get(name) {
        out.push(differ(
            Field::Owner,
            "(none)".into(),
            format!("alias {alias:?}"),
        ));
    }
    // A NIC passed in is expected as hardware of any kind.
    let any_kind = matches!(&want.kind, LinkKind::Other { kind } if kind.is_empty());
    if want.kind != h.kind && !any_kind {
        out.push(differ(Field::Kind, want.kind.describe(), h.kind.describe()));
    }
    if want.mac.is_some() && want.mac != h.mac {
        out.push(differ(Field::Mac, shown(&want.mac), shown(&h.mac)));
    }
    if want.mtu != 0 && want.mtu != h.mtu {
        out.push(differ(Field::Mtu, want.mtu.to_string(), h.mtu.to_string()));
    }
    if want.up != h.up {
        out.push(differ(Field::Up, want.up.to_string(), h.up.to_string()));
    }
    if want.master != h.master {
        out.push(differ(Field::Master, shown(&want.master), shown(&h.master)));
    }
    if want.addresses != h.addresses {
        let text = |a: &BTreeSet<ipnetwork::IpNetwork>| {
            a.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push(differ(
            Field::Addresses,
            text(&want.addresses),
            text(&h.addresses),
        ));
    }
    if out.is_empty() {
        Ok(true)
    } else {
        Err(out)
    }
}

/// What stands where the topology wants a route.
enum InTheWay {
    /// No route of someone's with its destination and metric: the diff adds it.
    Nothing,
    /// Someone's route that is the wanted one exactly, with its protocol.
    Same(u8),
    /// Someone's route there with another next hop or device.
    Differs(Mismatch),
}

/// What of someone's stands where `want` goes in `have`.
fn take_route(ns: &NsRef, want: &RouteSpec, have: &ObservedNamespace) -> InTheWay {
    let Some((found, protocol)) = have
        .foreign_routes
        .iter()
        .find(|(r, _)| r.dst == want.dst && r.metric == want.metric)
    else {
        return InTheWay::Nothing;
    };
    // Observed routes name their device; a wanted route without one takes any.
    let same = found.via == want.via && (want.dev.is_none() || found.dev == want.dev);
    if same {
        InTheWay::Same(*protocol)
    } else {
        InTheWay::Differs(Mismatch {
            ns: ns.clone(),
            object: Object::Route(want.dst),
            field: Field::Exists,
            desired: want.to_string(),
            found: found.to_string(),
        })
    }
}

fn shown<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "(none)".to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::diff;

    fn seed() -> ValidTopology {
        let text = include_str!("../../../examples/seed.toml");
        crate::Document::parse(text, crate::Format::Toml)
            .expect("seed parses")
            .validate()
            .expect("seed is valid")
    }

    /// m1 as built by hand: the expected state with no marks, and the containers' routes
    /// of protocol `boot`.
    fn by_hand(t: &ValidTopology, scope: &Scope) -> ObservedState {
        let mut seen = expected_state(t, scope);
        for ns in seen.namespaces.values_mut() {
            for l in ns.links.values_mut() {
                l.owner = None;
            }
            let routes = std::mem::take(&mut ns.routes);
            ns.foreign_routes = routes
                .into_iter()
                .map(|r| {
                    let dev = Some(Name::from("eth0"));
                    (RouteSpec { dev, ..r }, 3)
                })
                .collect();
        }
        seen
    }

    #[test]
    fn a_hand_built_node_is_adopted_with_marks_only() {
        let t = seed();
        let scope = Scope::Node("m1".into());
        let adopted = adopt(&t, &scope, &by_hand(&t, &scope)).expect("everything matches");
        let plan = crate::plan::diff_adopted(&t, &scope, &adopted);
        assert_eq!(plan.len(), adopted.actions.len(), "{plan:?}");
        let text: Vec<String> = adopted
            .actions
            .iter()
            .map(|a| match a {
                Action::Adopt { ns, object } => format!("{ns} {object}"),
                other => panic!("not an adopt step: {other:?}"),
            })
            .collect();
        for want in [
            "link br0",
            "link veth1",
            "link eth1",
            "route 192.168.0.0/16",
        ] {
            assert!(text.iter().any(|t| t.contains(want)), "{want} in {text:?}");
        }
        // Adopted, the node needs no further step.
        assert!(diff(&t, &scope, &adopted.observed).is_empty());
    }

    /// The shell backend's commands for the marks, and for taking them off again.
    #[test]
    fn adopt_steps_are_ip_commands_that_write_marks_only() {
        let ns = NsRef::Ct("mail".into());
        let route = RouteSpec {
            dst: "192.168.0.0/16".parse().expect("prefix"),
            via: Some("192.168.199.1".parse().expect("ip")),
            dev: None,
            metric: None,
        };
        let names = |n: &NsRef| n.name().to_string();
        let text = |a: &Action| {
            let argv = crate::plan::command::iproute2_argv(a, "article", &names);
            argv.iter()
                .map(|a| a.join(" "))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let link = Action::Adopt {
            ns: ns.clone(),
            object: Adoptee::Link {
                link: Name::from("eth0"),
            },
        };
        assert_eq!(text(&link), "ip -n mail link set eth0 alias vnet:article");
        assert_eq!(text(&link.inverse()), "ip -n mail link set eth0 alias ");
        let route = Action::Adopt {
            ns,
            object: Adoptee::Route { route, protocol: 3 },
        };
        assert_eq!(
            text(&route),
            "ip -n mail route replace 192.168.0.0/16 via 192.168.199.1 proto 118"
        );
        assert_eq!(
            text(&route.inverse()),
            "ip -n mail route replace 192.168.0.0/16 via 192.168.199.1 proto 3"
        );
    }

    #[test]
    fn a_different_object_in_the_way_refuses_the_adoption() {
        let t = seed();
        let scope = Scope::Node("m1".into());
        let mut seen = by_hand(&t, &scope);
        let node = seen
            .namespaces
            .get_mut(&NsRef::Node("m1".into()))
            .expect("m1");
        node.links.get_mut("veth2").expect("veth2").mac = Some([2, 0, 0, 0, 0, 1].into());
        let mail = seen
            .namespaces
            .get_mut(&NsRef::Ct("mail".into()))
            .expect("mail");
        let (route, proto) = mail.foreign_routes.pop_first().expect("a route");
        let via = Some("192.168.199.3".parse().expect("ip"));
        mail.foreign_routes
            .insert(RouteSpec { via, ..route }, proto);
        let refused = adopt(&t, &scope, &seen).expect_err("veth2's MAC differs");
        let text = refused.to_string();
        assert!(
            text.contains("veth2") && text.contains("02:00:00:00:00:01"),
            "{text}"
        );
        assert!(text.contains("via 192.168.199.3"), "{text}");
    }
}
