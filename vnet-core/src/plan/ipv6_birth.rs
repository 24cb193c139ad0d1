//! IPv6 off from birth: the namespaces a plan creates in which every link it puts wants
//! IPv6 off. Both backends create those with `net.ipv6.conf.default.disable_ipv6 = 1`
//! before any link exists, so the links are born with IPv6 off (the kernel copies a
//! namespace's `default` settings into every link registered there, a veth peer created
//! straight into it included) and never send the DAD/MLD multicast that floods a bridge.
//!
//! One rule for both backends, so a namespace looks the same whichever built it (the
//! differential test compares `conf/default` too): the netlink backend writes the default
//! from the thread that creates the namespace and skips the per-link writes that then hold
//! already; the shell backend writes it right after `ip netns add`.
//!
//! Only where every link the plan places in the namespace wants IPv6 off: a link that
//! wants it on would otherwise be born with it off. A namespace the plan places no link
//! in keeps the kernel's default.

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, NsRef, Plan, Sysctl};

/// The links `action` puts into namespaces: (namespace, name, whether it is created there,
/// as opposed to moved in).
pub fn links_placed(action: &Action) -> Vec<(&NsRef, &str, bool)> {
    match action {
        Action::CreateLink { ns, spec } => spec
            .ends(ns)
            .into_iter()
            .map(|e| (e.ns, e.name, true))
            .collect(),
        Action::MoveLink { to, new_name, .. } => vec![(to, new_name.as_str(), false)],
        _ => Vec::new(),
    }
}

/// The namespaces `plan` creates.
pub fn namespaces_created(plan: &Plan) -> BTreeSet<&NsRef> {
    plan.actions()
        .filter_map(|a| match a {
            Action::CreateNamespace { ns } => Some(ns),
            _ => None,
        })
        .collect()
}

/// The links `plan` sets `disable_ipv6 = 1` on, as (namespace, name).
pub fn links_wanting_ipv6_off(plan: &Plan) -> BTreeSet<(&NsRef, &str)> {
    plan.actions()
        .filter_map(|a| match a {
            Action::SetSysctl {
                ns,
                sysctl: Sysctl::DisableIpv6(link),
                value,
                ..
            } if value == "1" => Some((ns, link.as_str())),
            _ => None,
        })
        .collect()
}

/// The namespaces `plan` creates that start with IPv6 off by default (see the module
/// docs).
pub fn born_without_ipv6(plan: &Plan) -> BTreeSet<&NsRef> {
    let created = namespaces_created(plan);
    let wants_off = links_wanting_ipv6_off(plan);
    // Whether every link placed in each created namespace wants IPv6 off.
    let mut all_off: BTreeMap<&NsRef, bool> = BTreeMap::new();
    for action in plan.actions() {
        for (ns, name, _) in links_placed(action) {
            if created.contains(ns) {
                *all_off.entry(ns).or_insert(true) &= wants_off.contains(&(ns, name));
            }
        }
    }
    all_off
        .into_iter()
        .filter_map(|(ns, off)| off.then_some(ns))
        .collect()
}

/// The namespaces of [`born_without_ipv6`] and the links `plan` creates in them, which are
/// born with IPv6 off: a plan's `disable_ipv6 = 1` on one of those holds already when it
/// runs, and a backend need not write it (the shell backend's script leaves it out, the
/// netlink backend skips it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BornOff<'a> {
    /// The namespaces created with `default.disable_ipv6 = 1`.
    pub namespaces: BTreeSet<&'a NsRef>,
    /// The links created in them, as (namespace, name); not the links moved in, which
    /// were registered elsewhere.
    pub links: BTreeSet<(&'a NsRef, &'a str)>,
}

impl<'a> BornOff<'a> {
    /// Works it out for `plan`.
    pub fn of(plan: &'a Plan) -> Self {
        let namespaces = born_without_ipv6(plan);
        let links = plan
            .actions()
            .flat_map(links_placed)
            .filter(|(ns, _, created)| *created && namespaces.contains(ns))
            .map(|(ns, name, _)| (ns, name))
            .collect();
        BornOff { namespaces, links }
    }

    /// Whether `action` sets `disable_ipv6 = 1` on a link born with it.
    pub fn holds_already(&self, action: &Action) -> bool {
        matches!(action, Action::SetSysctl {
            ns,
            sysctl: Sysctl::DisableIpv6(link),
            value,
            ..
        } if value == "1" && self.links.contains(&(ns, link.as_str())))
    }
}
