//! IPv6 off from birth: which namespaces a plan creates can start with
//! `net.ipv6.conf.default.disable_ipv6 = 1`, so that the links created in them are born
//! with IPv6 off and their per-link `disable_ipv6 = 1` steps need no write.
//!
//! Why: a per-link write goes through `/proc/sys` inside the namespace (a thread enters
//! it, opens the file, writes), once per link; at 1,000 containers that was an eighth
//! of an apply. The kernel copies a namespace's `default` settings into every link
//! registered there, a veth peer created straight into the namespace included, so one
//! write per namespace, made by the thread that creates it while it is still inside,
//! does the same for all of them.
//!
//! Which namespaces and links is [`vnet_core::plan::BornOff`]'s rule, shared with the
//! shell backend (which writes the default right after `ip netns add` and leaves the
//! per-link writes that hold already out of its script); this module adds the guards
//! and the owned bookkeeping of the netlink backend.
//!
//! Only where the plan wants IPv6 off on every link it puts into the namespace (and
//! only in namespaces the plan creates, which hold nothing else but `lo`): a link that
//! wants IPv6 would otherwise be born with it off. A link that wants IPv6 on and is
//! created later in a namespace that already exists (a re-apply of a changed topology
//! in the sandbox, whose namespaces may have the default off) gets an explicit
//! `disable_ipv6 = 0` written after it is created ([`Ipv6Defaults::guards`]), which is
//! what the planner assumes a new link has.

use std::collections::{BTreeMap, BTreeSet};

use vnet_core::plan::{
    links_placed, links_wanting_ipv6_off, namespaces_created, Action, BornOff, Name, NsRef, Plan,
    Sysctl,
};

/// What a plan's execution does about the namespaces' IPv6 defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ipv6Defaults {
    /// Namespaces to create with `default.disable_ipv6 = 1`.
    pub off: BTreeSet<NsRef>,
    /// Links the plan creates in those namespaces (born with IPv6 off there).
    pub born_off: BTreeSet<(NsRef, Name)>,
    /// Per step index: links it creates in a namespace that already exists and that
    /// want IPv6 on, to write `disable_ipv6 = 0` for once they exist.
    pub guards: BTreeMap<usize, Vec<(NsRef, String)>>,
}

impl Ipv6Defaults {
    /// Nothing special (rollback, teardown, a single action).
    pub fn none() -> Self {
        Self::default()
    }

    /// Works out the defaults for `plan`: the namespaces are
    /// [`vnet_core::plan::born_without_ipv6`]'s, the rule the shell backend follows too.
    /// `sandbox`: the plan's namespaces are vnet's own, so ones that already exist may
    /// have been created with the default off.
    pub fn of(plan: &Plan, sandbox: bool) -> Self {
        let born = BornOff::of(plan);
        let created = namespaces_created(plan);
        let wants_off = links_wanting_ipv6_off(plan);
        let mut out = Ipv6Defaults::default();
        for (index, step) in plan.steps.iter().enumerate() {
            for (ns, name, created_here) in links_placed(&step.action) {
                // A moved link's IPv6 state is written as planned; one born in a
                // namespace whose default is off has it already (`born.links`).
                if !created_here || born.namespaces.contains(ns) {
                    continue;
                }
                if sandbox && !wants_off.contains(&(ns, name)) && !created.contains(ns) {
                    out.guards
                        .entry(index)
                        .or_default()
                        .push((ns.clone(), name.to_string()));
                }
            }
        }
        out.born_off = born
            .links
            .iter()
            .map(|(ns, name)| ((*ns).clone(), Name::from(*name)))
            .collect();
        out.off = born.namespaces.into_iter().cloned().collect();
        out
    }

    /// Whether `action` is a `disable_ipv6 = 1` that holds already because its link was
    /// born in a namespace whose default is off (`default_off`: the namespace was
    /// really created that way).
    pub fn holds_already(&self, action: &Action, default_off: bool) -> bool {
        match action {
            Action::SetSysctl {
                ns,
                sysctl: Sysctl::DisableIpv6(link),
                value,
                ..
            } => default_off && value == "1" && self.born_off.contains(&(ns.clone(), link.clone())),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::model::Mac;
    use vnet_core::plan::{LinkSpec, Step};

    fn ct(n: &str) -> NsRef {
        NsRef::Ct(n.into())
    }

    fn node() -> NsRef {
        NsRef::Node("m1".into())
    }

    fn veth(host: &str, peer: &NsRef) -> Action {
        Action::CreateLink {
            ns: node(),
            spec: LinkSpec::Veth {
                name: host.into(),
                mac: Mac::new(2, 0, 0, 0, 0, 1),
                mtu: None,
                peer_ns: peer.clone(),
                peer_name: "eth0".into(),
                peer_mac: Mac::new(2, 0, 0, 0, 0, 2),
            },
        }
    }

    fn off(ns: &NsRef, link: &str) -> Action {
        Action::SetSysctl {
            ns: ns.clone(),
            sysctl: Sysctl::DisableIpv6(link.into()),
            value: "1".into(),
            previous: "0".into(),
        }
    }

    fn plan(actions: Vec<Action>) -> Plan {
        Plan {
            topology: "t".into(),
            steps: actions
                .into_iter()
                .enumerate()
                .map(|(id, action)| Step {
                    id,
                    action,
                    after: vec![],
                    stage: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_created_namespace_whose_links_all_want_ipv6_off_starts_with_it_off() {
        let c0 = ct("c0");
        let c1 = ct("c1");
        let p = plan(vec![
            Action::CreateNamespace { ns: c0.clone() },
            Action::CreateNamespace { ns: c1.clone() },
            veth("h0", &c0),
            veth("h1", &c1),
            off(&node(), "h0"),
            off(&c0, "eth0"),
            // c1's eth0 wants IPv6: c1 keeps the kernel's default.
        ]);
        let d = Ipv6Defaults::of(&p, true);
        assert_eq!(d.off, BTreeSet::from([c0.clone()]));
        assert!(d.born_off.contains(&(c0.clone(), Name::from("eth0"))));
        // The node exists already and h0 wants IPv6 off: written as planned.
        assert!(!d.off.contains(&node()));
        assert!(d.holds_already(&off(&c0, "eth0"), true));
        assert!(!d.holds_already(&off(&c0, "eth0"), false));
        assert!(!d.holds_already(&off(&node(), "h0"), true));
        // h1 (wants IPv6, created in the existing node namespace) is guarded in the
        // sandbox; c1's eth0 is born in a namespace with the kernel's default.
        assert_eq!(d.guards.get(&3), Some(&vec![(node(), "h1".to_string())]));
        assert!(Ipv6Defaults::of(&p, false).guards.is_empty());
    }

    #[test]
    fn lo_is_not_born_and_a_namespace_without_links_is_left_alone() {
        let c0 = ct("c0");
        let p = plan(vec![
            Action::CreateNamespace { ns: c0.clone() },
            off(&c0, "lo"),
        ]);
        let d = Ipv6Defaults::of(&p, true);
        assert!(d.off.is_empty());
        assert!(!d.holds_already(&off(&c0, "lo"), true));
    }
}
