//! Gateways and the order containers start in: leaves first, so that a gateway's first
//! forwarded packet finds the containers behind it (a gateway started first costs a
//! 1 s ARP retry, issue 7).

use std::net::IpAddr;

use crate::model::Container;
use crate::{PlacementError, ValidTopology};

/// Whether `ct` is a gateway: a next hop of another container's route, or a subnet's
/// declared gateway.
pub fn is_gateway(t: &ValidTopology, ct: &Container) -> bool {
    let mine: Vec<IpAddr> = ct
        .veth
        .iter()
        .flat_map(|v| v.addresses.iter())
        .chain(ct.nic.iter().flat_map(|n| n.addresses.iter()))
        .chain(ct.vlan.iter().flat_map(|v| v.addresses.iter()))
        .map(|a| a.ip())
        .collect();
    let subnet_gateway = t
        .topology()
        .subnet
        .iter()
        .any(|s| s.gateway.is_some_and(|g| mine.contains(&g)));
    subnet_gateway
        || t.topology()
            .ct
            .iter()
            .filter(|o| o.name != ct.name)
            .flat_map(|o| o.route.iter())
            .any(|r| r.via.is_some_and(|via| mine.contains(&via)))
}

/// `names` in start order: leaves first, gateways last, otherwise as given; each name
/// once. An unknown name is [`PlacementError::NoContainer`].
pub fn leaves_first<'a, S: AsRef<str>>(
    t: &ValidTopology,
    names: &'a [S],
) -> Result<Vec<&'a str>, PlacementError> {
    let mut keyed = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let n = n.as_ref();
        let Some(c) = t.topology().ct.iter().find(|c| c.name == n) else {
            return Err(PlacementError::NoContainer {
                topology: t.name().to_string(),
                ct: n.to_string(),
            });
        };
        keyed.push((is_gateway(t, c), i, n));
    }
    keyed.sort();
    let mut seen = std::collections::BTreeSet::new();
    Ok(keyed
        .into_iter()
        .filter(|(_, _, n)| seen.insert(*n))
        .map(|(_, _, n)| n)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::tests::seed;

    fn ct<'a>(t: &'a ValidTopology, name: &str) -> &'a Container {
        t.topology().ct_by_name(name).unwrap()
    }

    #[test]
    fn the_router_is_a_gateway_and_starts_after_its_leaves() {
        let t = seed();
        assert!(is_gateway(&t, ct(&t, "router")));
        assert!(!is_gateway(&t, ct(&t, "mail")));
        let names = ["router", "mail", "dbms", "mail"];
        assert_eq!(
            leaves_first(&t, &names).unwrap(),
            ["mail", "dbms", "router"]
        );
        assert!(matches!(
            leaves_first(&t, &["nosuch"]),
            Err(PlacementError::NoContainer { .. })
        ));
    }

    #[test]
    fn a_subnet_gateway_is_a_gateway_without_routes_through_it() {
        let route = "[[ct.route]]\nto = \"192.168.0.0/16\"\nvia = \"192.168.199.1\"\n";
        let seed = include_str!("../../../examples/seed.toml");
        assert!(seed.contains(route));
        let parse = |text: &str| {
            crate::Document::parse(text, crate::Format::Toml)
                .unwrap()
                .validate()
                .unwrap()
        };
        let no_routes = seed.replace(route, "");
        let t = parse(&no_routes);
        assert!(t.topology().ct.iter().all(|c| c.route.is_empty()));
        assert!(is_gateway(&t, ct(&t, "router")));
        let t = parse(&no_routes.replace("gateway = \"192.168.199.1\"\n", ""));
        assert!(!is_gateway(&t, ct(&t, "router")));
    }
}
