//! Comparing what the kernel holds with what the topology wants, field by field, as a
//! pure function over two [`ObservedState`]s.

use std::collections::BTreeSet;

use vnet_core::observed::{LinkKind, ObservedLink, ObservedState};
use vnet_core::plan::RouteSpec;

use vnet_core::lifecycle::ruleset_mismatches;
pub use vnet_core::lifecycle::{Field, Mismatch, Object};

/// Routes as observed always name their device; a desired route that names none (only
/// a gateway) matches whatever device the kernel chose. Rewrites `observed` routes to
/// the desired spelling where that is the only difference, so sets compare.
pub fn normalize_routes(desired: &ObservedState, observed: &mut ObservedState) {
    for (ns, want) in &desired.namespaces {
        let Some(have) = observed.namespaces.get_mut(ns) else {
            continue;
        };
        let rewritten: BTreeSet<RouteSpec> = have
            .routes
            .iter()
            .map(|r| {
                let devless = RouteSpec {
                    dev: None,
                    ..r.clone()
                };
                if r.via.is_some() && !want.routes.contains(r) && want.routes.contains(&devless) {
                    devless
                } else {
                    r.clone()
                }
            })
            .collect();
        have.routes = rewritten;
    }
}

/// Every difference, in a stable order. Objects the topology does not own and does not
/// name (a user's links, other sysctls) are not differences.
pub fn compare(topology: &str, desired: &ObservedState, observed: &ObservedState) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (ns, want) in &desired.namespaces {
        let mut diff = |object: Object, field: Field, desired: String, found: String| {
            out.push(Mismatch {
                ns: ns.clone(),
                object,
                field,
                desired,
                found,
            })
        };
        let yes = || "yes".to_string();
        let no = || "no".to_string();
        let Some(have) = observed.namespaces.get(ns) else {
            diff(Object::Namespace, Field::Exists, yes(), no());
            continue;
        };
        if want.owner.is_some() && want.owner != have.owner {
            diff(
                Object::Namespace,
                Field::Owner,
                show(&want.owner),
                show(&have.owner),
            );
        }
        for (name, wl) in &want.links {
            let object = Object::Link(name.clone());
            let Some(hl) = have.links.get(name) else {
                diff(object, Field::Exists, yes(), no());
                continue;
            };
            compare_link(wl, hl, |f, d, h| diff(object.clone(), f, d, h));
        }
        for (name, hl) in &have.links {
            if hl.owner.as_deref() == Some(topology) && !want.links.contains_key(name) {
                diff(Object::Link(name.clone()), Field::Exists, no(), yes());
            }
        }
        for r in want.routes.difference(&have.routes) {
            diff(Object::Route(r.dst), Field::Exists, r.to_string(), no());
        }
        for r in have.routes.difference(&want.routes) {
            diff(Object::Route(r.dst), Field::Exists, no(), r.to_string());
        }
        for (key, value) in &want.sysctls {
            let found = have.sysctls.get(key);
            if found != Some(value) {
                diff(
                    Object::Sysctl(key.clone()),
                    Field::Value,
                    value.clone(),
                    found.cloned().unwrap_or_else(|| "(absent)".into()),
                );
            }
        }
        out.extend(ruleset_mismatches(
            ns,
            want.ruleset.as_ref(),
            have.ruleset.as_ref(),
        ));
    }
    out
}

fn compare_link(
    want: &ObservedLink,
    have: &ObservedLink,
    mut diff: impl FnMut(Field, String, String),
) {
    // A NIC vnet passes in but does not create is expected as "hardware" (no kind);
    // whatever the machine's NIC really is (a bond, a veth stand-in) is fine.
    let any_kind = matches!(&want.kind, LinkKind::Other { kind } if kind.is_empty());
    if want.kind != have.kind && !any_kind {
        diff(Field::Kind, want.kind.describe(), have.kind.describe());
    }
    // A link whose desired MAC is unknown (a real NIC) keeps the one it has; lo has none.
    if (want.mac.is_some() || want.kind == LinkKind::Loopback) && want.mac != have.mac {
        diff(Field::Mac, show(&want.mac), show(&have.mac));
    }
    // Expected 0: the machine's MTU (a real NIC without `mtu`), whatever it is.
    if want.mtu != 0 && want.mtu != have.mtu {
        diff(Field::Mtu, want.mtu.to_string(), have.mtu.to_string());
    }
    if want.up != have.up {
        diff(Field::Up, want.up.to_string(), have.up.to_string());
    }
    if want.master != have.master {
        diff(Field::Master, show(&want.master), show(&have.master));
    }
    if want.owner != have.owner {
        diff(Field::Owner, show(&want.owner), show(&have.owner));
    }
    if want.addresses != have.addresses {
        let list = |s: &BTreeSet<ipnetwork::IpNetwork>| {
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        diff(
            Field::Addresses,
            list(&want.addresses),
            list(&have.addresses),
        );
    }
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "(none)".to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::observed::ObservedNamespace;
    use vnet_core::plan::NsRef;

    fn link(mac: [u8; 6]) -> ObservedLink {
        ObservedLink {
            kind: LinkKind::Veth,
            mac: Some(mac.into()),
            mtu: 1500,
            up: true,
            master: None,
            owner: Some("t".into()),
            addresses: BTreeSet::new(),
        }
    }

    #[test]
    fn names_object_and_field_of_each_difference() {
        let ns = NsRef::Ct("router".into());
        let mut want = ObservedState::empty();
        let mut wns = ObservedNamespace::default();
        wns.links.insert("eth0".into(), link([0, 1, 2, 3, 4, 5]));
        want.namespaces.insert(ns.clone(), wns);
        let mut have = want.clone();
        assert!(compare("t", &want, &have).is_empty());
        have.namespaces
            .get_mut(&ns)
            .unwrap()
            .links
            .get_mut("eth0")
            .unwrap()
            .mac = Some([0, 1, 2, 3, 4, 6].into());
        let diffs = compare("t", &want, &have);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].object, Object::Link("eth0".into()));
        assert_eq!(diffs[0].field, Field::Mac);
        assert_eq!(diffs[0].desired, "00:01:02:03:04:05");
    }

    #[test]
    fn a_gateway_route_without_device_matches_the_kernels_device() {
        let ns = NsRef::Ct("mail".into());
        let r = RouteSpec {
            dst: "198.18.0.0/15".parse().unwrap(),
            via: Some("198.18.1.1".parse().unwrap()),
            dev: None,
            metric: None,
        };
        let mut want = ObservedState::empty();
        want.namespaces
            .entry(ns.clone())
            .or_default()
            .routes
            .insert(r.clone());
        let mut have = ObservedState::empty();
        have.namespaces
            .entry(ns.clone())
            .or_default()
            .routes
            .insert(RouteSpec {
                dev: Some("eth0".into()),
                ..r.clone()
            });
        normalize_routes(&want, &mut have);
        assert!(compare("t", &want, &have).is_empty());
    }
}
