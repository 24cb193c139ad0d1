//! [`teardown`]: the plan that removes everything a topology built in a scope.
//!
//! In the sandbox every namespace is vnet's, and deleting a namespace deletes its links
//! and their veth peers: the kernel cleans a batch of namespaces up in one RCU grace
//! period where deleting link by link costs one period per link (see FINDINGS.md,
//! 0.7-1.0 ms per container against 16-23 ms per link). So the sandbox teardown is one
//! `DeleteNamespace` per namespace: containers first, then nodes, hosts and LANs.
//!
//! On a real node the namespaces are the machine's: vnet's nftables table, routes and forwarding go first,
//! then addresses, then ports leave their bridges (the node's own devices among them,
//! which are otherwise left as they are), VLAN links and veth pairs are deleted,
//! a NIC goes down and returns to the node unmarked, and the bridges go last. The NIC's MAC and MTU stay as vnet set them:
//! its hardware values are not known without observing (a `diff` records them).

use super::desired::{Desired, Unit, SYSCTL_DEFAULT};
use super::order::order;
use super::{Action, Name, Plan, Scope, Sysctl};
use crate::ValidTopology;

/// The plan that removes what `t` builds in `scope`, in reverse dependency order.
pub fn teardown(t: &ValidTopology, scope: &Scope) -> Plan {
    let d = Desired::build(t, scope);
    let mut removals = Vec::new();
    if d.sandbox {
        for ns in d.namespaces.keys() {
            removals.push(Action::DeleteNamespace { ns: ns.clone() });
        }
        return order(t.name(), removals, Vec::new());
    }
    for (ns, dns) in &d.namespaces {
        if let Some(r) = &dns.ruleset {
            removals.push(Action::SetRuleset {
                ns: ns.clone(),
                from: Some(r.clone()),
                to: None,
            });
        }
        for route in &dns.routes {
            removals.push(Action::DelRoute {
                ns: ns.clone(),
                route: route.clone(),
            });
        }
        for (key, value) in &dns.sysctls {
            if value != SYSCTL_DEFAULT {
                removals.push(Action::SetSysctl {
                    ns: ns.clone(),
                    sysctl: key.clone(),
                    value: Name::from(SYSCTL_DEFAULT),
                    previous: value.clone(),
                });
            }
        }
        for (name, l) in &dns.links {
            // Addresses go before their links, so the routes through them go first
            // (a route's link is known from the address holding its next hop).
            for address in &l.addresses {
                removals.push(Action::DelAddress {
                    ns: ns.clone(),
                    link: name.clone(),
                    address: *address,
                });
            }
            if let Some(master) = &l.master {
                removals.push(Action::ClearMaster {
                    ns: ns.clone(),
                    link: name.clone(),
                    master: master.clone(),
                });
            }
        }
        // The node's own devices leave vnet's bridges and stay as they are otherwise.
        for (port, bridge) in &dns.ports {
            removals.push(Action::ClearMaster {
                ns: ns.clone(),
                link: port.clone(),
                master: bridge.clone(),
            });
        }
    }
    for unit in &d.units {
        match unit {
            Unit::Create { ns, spec } => removals.push(Action::DeleteLink {
                ns: ns.clone(),
                spec: spec.clone(),
            }),
            Unit::Move(m) => {
                let (to, new_name) = (&m.to, &m.new_name);
                let Some(nic) = d.namespaces.get(to).and_then(|n| n.links.get(new_name)) else {
                    continue;
                };
                if nic.disable_ipv6() != SYSCTL_DEFAULT {
                    removals.push(Action::SetSysctl {
                        ns: to.clone(),
                        sysctl: Sysctl::DisableIpv6(new_name.clone()),
                        value: Name::from(SYSCTL_DEFAULT),
                        previous: Name::from(nic.disable_ipv6()),
                    });
                }
                removals.push(Action::SetDown {
                    ns: to.clone(),
                    link: new_name.clone(),
                });
                // Back out to the node, under its name there.
                removals.push(m.action().inverse());
            }
        }
    }
    order(t.name(), removals, Vec::new())
}
