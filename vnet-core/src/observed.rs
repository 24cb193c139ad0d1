//! The state of the namespaces a topology touches, in the model's own terms.
//!
//! Backends fill it from the kernel (`observe`); the planner also computes the state a
//! topology *should* produce in the same shape, so desired and observed compare field by
//! field.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::model::Mac;
use crate::plan::{NsRef, RouteSpec, Ruleset, Sysctl};

/// What kind of link an observed link is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LinkKind {
    /// One end of a veth pair.
    Veth,
    /// A bridge.
    Bridge {
        /// Whether STP runs.
        stp: bool,
    },
    /// An 802.1Q VLAN link.
    Vlan {
        /// The parent link's name, when it is in the same namespace.
        parent: Option<String>,
        /// The VLAN id.
        id: u16,
    },
    /// A VXLAN device, with the remotes of its all-zero (flooding) FDB entries.
    Vxlan {
        /// The VXLAN network identifier.
        vni: u32,
        /// The local underlay address, if set.
        local: Option<IpAddr>,
        /// The UDP destination port.
        port: u16,
        /// The underlay device's name, when it is in the same namespace.
        dev: Option<String>,
        /// Destinations of the all-zero FDB entries, sorted.
        remotes: Vec<IpAddr>,
    },
    /// A macvlan link (its lower device is in another namespace, so not named here).
    Macvlan {
        /// Its mode.
        mode: crate::model::MacvlanMode,
    },
    /// The loopback device.
    Loopback,
    /// Anything else (a physical NIC, a dummy, a tunnel ...), with the kernel's kind.
    Other {
        /// The kernel's link kind (`IFLA_INFO_KIND`), empty for hardware.
        kind: String,
    },
}

/// One link as seen in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLink {
    /// The link's kind.
    pub kind: LinkKind,
    /// Its MAC.
    pub mac: Option<Mac>,
    /// Its MTU.
    pub mtu: u32,
    /// Whether it is administratively up.
    pub up: bool,
    /// The bridge it is a port of.
    pub master: Option<String>,
    /// The topology that owns it (from its alias), if vnet made it.
    pub owner: Option<String>,
    /// Its addresses (link-local IPv6 addresses the kernel assigns are left out).
    pub addresses: BTreeSet<IpNetwork>,
}

/// One namespace as seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedNamespace {
    /// The topology that owns the namespace (from its loopback's alias), if vnet made it.
    pub owner: Option<String>,
    /// Links by name.
    pub links: BTreeMap<String, ObservedLink>,
    /// Routes vnet installed (its route protocol), in the main table.
    pub routes: BTreeSet<RouteSpec>,
    /// The sysctls vnet manages, with their current values.
    pub sysctls: BTreeMap<Sysctl, String>,
    /// vnet's nftables table (`table inet vnet`) as read back; `None` when there is
    /// none. A table vnet cannot read as a [`Ruleset`] reads as an empty one, so the
    /// next apply replaces it.
    pub ruleset: Option<Ruleset>,
    /// Link name -> its alias, for the links here whose alias is not a vnet mark
    /// (someone's label, `ip link set DEV alias TEXT`): proof that someone else made or
    /// claimed the link, so it is never adopted (see
    /// [`ObservedState::adopt_unmarked_links`]). Empty in an expected state.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub foreign_aliases: BTreeMap<String, String>,
}

/// Every namespace a topology touches; a namespace that does not exist is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedState {
    /// Namespaces by reference.
    pub namespaces: BTreeMap<NsRef, ObservedNamespace>,
}

impl ObservedState {
    /// The state where none of the topology's namespaces exist.
    pub fn empty() -> Self {
        ObservedState::default()
    }

    /// Counts every link with no alias at all in a namespace that carries `topology`'s
    /// mark (one vnet made: the sandbox's) as `topology`'s own where `expected` (the
    /// topology's expected state) wants a link of that name there.
    ///
    /// vnet creates a link and marks it in two requests (the kernel takes no alias in
    /// `RTM_NEWLINK`, nor for a veth's peer), so a run killed between them leaves a link
    /// without alias under a name the topology wants; without this, every later apply
    /// would refuse it as someone else's. A link with any other alias (a label someone
    /// gave it, [`ObservedNamespace::foreign_aliases`]) was claimed by someone: it stays
    /// theirs, and preflight refuses it instead of deleting or taking it over. Other
    /// links there (a link added by hand to look around) stay someone else's, and go
    /// with the namespace on destroy. Namespaces vnet did not make (a real node's, a
    /// container's) carry no mark, so nothing there is adopted.
    pub fn adopt_unmarked_links(&mut self, topology: &str, expected: &ObservedState) {
        for (ns, have) in &mut self.namespaces {
            let Some(want) = expected.namespaces.get(ns) else {
                continue;
            };
            if have.owner.as_deref() != Some(topology) {
                continue;
            }
            let labelled = &have.foreign_aliases;
            for (name, link) in &mut have.links {
                let wanted = want
                    .links
                    .get(name)
                    .is_some_and(|w| w.owner.as_deref() == Some(topology));
                let bare = link.owner.is_none() && !labelled.contains_key(name);
                if wanted && bare && link.kind != LinkKind::Loopback {
                    link.owner = Some(topology.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{expected_state, Name, Scope};

    fn seed() -> crate::ValidTopology {
        let text = include_str!("../../examples/seed.toml");
        crate::Document::parse(text, crate::Format::Toml)
            .expect("seed parses")
            .validate()
            .expect("seed is valid")
    }

    /// The expected sandbox of the seed with `mail`'s marks as given: its namespace's
    /// (`lo`), its `eth0`'s, and a stray link `look0` of nobody's.
    fn observed(ns_owner: Option<&str>) -> (ObservedState, ObservedState) {
        let expected = expected_state(&seed(), &Scope::Sandbox);
        let mut seen = expected.clone();
        let mail = seen
            .namespaces
            .get_mut(&NsRef::Ct(Name::from("mail")))
            .expect("mail");
        mail.owner = ns_owner.map(str::to_string);
        let eth0 = mail.links.get_mut("eth0").expect("eth0");
        eth0.owner = None;
        let stray = ObservedLink {
            owner: None,
            ..eth0.clone()
        };
        mail.links.insert("look0".into(), stray);
        (seen, expected)
    }

    fn owners(seen: &ObservedState) -> (Option<String>, Option<String>) {
        let mail = &seen.namespaces[&NsRef::Ct(Name::from("mail"))];
        (
            mail.links["eth0"].owner.clone(),
            mail.links["look0"].owner.clone(),
        )
    }

    #[test]
    fn a_wanted_link_with_someone_elses_alias_is_not_adopted() {
        let (mut seen, expected) = observed(Some("article"));
        seen.namespaces
            .get_mut(&NsRef::Ct(Name::from("mail")))
            .expect("mail")
            .foreign_aliases
            .insert("eth0".into(), "hand-made".into());
        seen.adopt_unmarked_links("article", &expected);
        assert_eq!(owners(&seen), (None, None));
    }

    #[test]
    fn only_wanted_links_in_the_topologys_own_namespaces_are_adopted() {
        let (mut seen, expected) = observed(Some("article"));
        seen.adopt_unmarked_links("article", &expected);
        assert_eq!(owners(&seen), (Some("article".into()), None));
        // Another topology's namespace, or one nobody marked (a container's): nothing.
        for owner in [Some("other"), None] {
            let (mut seen, expected) = observed(owner);
            seen.adopt_unmarked_links("article", &expected);
            assert_eq!(owners(&seen), (None, None), "namespace owner {owner:?}");
        }
    }
}
