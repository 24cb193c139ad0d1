//! A container's desired [`Ruleset`] from its model: `nat`, `port_forward` and
//! `firewall`, with the names in allow rules resolved to the prefixes they stand for.
//!
//! A name is an address (`192.168.199.2`: a /32 or /128), a prefix (`192.168.199.0/24`,
//! host bits cleared as nft stores it), or an element of the topology: a container or a
//! LAN host, standing for each of its addresses as a /32 or /128. An allow rule naming
//! several prefixes becomes one accept rule per (source, destination) pair of the same
//! family.

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::{DnatRule, FilterChain, FilterRule, Name, NatRule, Ruleset};
use crate::model::{Allow, Container, FilterPolicy, Topology};

/// The prefixes `text` stands for in `t`: an address or prefix as written, or every
/// address of the container or LAN host so named; `None` when it is none of them (or an
/// element without addresses).
pub fn resolve_endpoint(t: &Topology, text: &str) -> Option<Vec<IpNetwork>> {
    if let Ok(a) = text.parse::<IpAddr>() {
        return Some(vec![IpNetwork::from(a)]);
    }
    if let Ok(p) = text.parse::<IpNetwork>() {
        return Some(vec![canonical(p)]);
    }
    let hosts: Vec<IpNetwork> = element_addresses(t, text)?
        .into_iter()
        .map(|a| IpNetwork::from(a.ip()))
        .collect();
    (!hosts.is_empty()).then_some(hosts)
}

/// Every address (with its prefix length) of the container or LAN host named `name`.
pub fn element_addresses(t: &Topology, name: &str) -> Option<Vec<IpNetwork>> {
    if let Some(ct) = t.ct_by_name(name) {
        return Some(container_addresses(ct));
    }
    t.lan
        .iter()
        .flat_map(|l| &l.host)
        .find(|h| h.name == name)
        .map(|h| h.addresses.clone())
}

/// Every address of a container, on any of its interfaces.
pub fn container_addresses(ct: &Container) -> Vec<IpNetwork> {
    let venet = ct.venet.iter().flat_map(|v| &v.addresses);
    ct.veth
        .iter()
        .flat_map(|v| &v.addresses)
        .chain(ct.nic.iter().flat_map(|n| &n.addresses))
        .chain(ct.vlan.iter().flat_map(|v| &v.addresses))
        .chain(ct.macvlan.iter().flat_map(|m| &m.addresses))
        .chain(venet)
        .copied()
        .collect()
}

/// A prefix with its host bits cleared.
pub fn canonical(p: IpNetwork) -> IpNetwork {
    IpNetwork::new(p.network(), p.prefix()).unwrap_or(p)
}

impl Ruleset {
    /// The table `ct` wants in its namespace, `None` when it wants none (no NAT, no
    /// forward, no filter). Names that resolve to nothing (validation refuses them)
    /// match nothing: their rule is left out.
    pub fn from_model(t: &Topology, ct: &Container) -> Option<Ruleset> {
        let r = Ruleset {
            masquerade: ct
                .nat
                .iter()
                .map(|n| NatRule {
                    source: canonical(n.source),
                    out: Name::from(&n.out),
                })
                .collect(),
            dnat: ct
                .port_forward
                .iter()
                .map(|f| DnatRule {
                    proto: f.proto,
                    iif: f.interface.as_deref().map(Name::from),
                    daddr: f.address,
                    dport: f.port,
                    to: f.to,
                    to_port: f.to_port,
                })
                .collect(),
            forward: ct
                .firewall
                .as_ref()
                .and_then(|f| f.forward.as_ref())
                .map(|p| chain(t, p)),
            input: ct
                .firewall
                .as_ref()
                .and_then(|f| f.input.as_ref())
                .map(|p| chain(t, p)),
        };
        (!r.is_empty()).then_some(r)
    }
}

fn chain(t: &Topology, p: &FilterPolicy) -> FilterChain {
    FilterChain {
        policy: p.policy,
        accept: p.allow.iter().flat_map(|a| accept_rules(t, a)).collect(),
    }
}

/// One allow rule as accept rules: one per same-family (source, destination) pair.
fn accept_rules(t: &Topology, a: &Allow) -> Vec<FilterRule> {
    let side = |s: &Option<String>| -> Option<Vec<Option<IpNetwork>>> {
        match s {
            None => Some(vec![None]),
            Some(text) => resolve_endpoint(t, text).map(|v| v.into_iter().map(Some).collect()),
        }
    };
    let (Some(from), Some(to)) = (side(&a.from), side(&a.to)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in &from {
        for d in &to {
            if let (Some(s), Some(d)) = (s, d) {
                if s.is_ipv4() != d.is_ipv4() {
                    continue;
                }
            }
            let rule = FilterRule {
                saddr: *s,
                daddr: *d,
                proto: a.proto,
                dport: a.port,
            };
            if !out.contains(&rule) {
                out.push(rule);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Firewall, PortForward, PortRange, Proto, Verdict};

    fn article() -> Topology {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/seed.toml"
        ))
        .unwrap();
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn names_resolve_to_host_prefixes_and_prefixes_are_canonical() {
        let t = article();
        let mail = resolve_endpoint(&t, "mail").unwrap();
        assert_eq!(mail, vec!["192.168.199.2/32".parse().unwrap()]);
        let gw = resolve_endpoint(&t, "gw46").unwrap();
        assert_eq!(gw, vec!["192.168.46.1/32".parse().unwrap()]);
        let net = resolve_endpoint(&t, "192.168.199.7/24").unwrap();
        assert_eq!(net, vec!["192.168.199.0/24".parse().unwrap()]);
        assert_eq!(resolve_endpoint(&t, "nobody"), None);
    }

    #[test]
    fn a_router_without_nat_forward_or_filter_wants_no_table() {
        let t = article();
        assert_eq!(
            Ruleset::from_model(&t, t.ct_by_name("router").unwrap()),
            None
        );
    }

    #[test]
    fn forwards_and_filters_become_rules() {
        let t = article();
        let mut ct = t.ct_by_name("dbms").unwrap().clone();
        ct.port_forward.push(PortForward {
            proto: Proto::Udp,
            address: None,
            interface: Some("eth0".into()),
            port: PortRange::single(53),
            to: "192.168.199.2".parse().unwrap(),
            to_port: None,
        });
        ct.firewall = Some(Firewall {
            forward: None,
            input: Some(FilterPolicy {
                policy: Verdict::Drop,
                allow: vec![Allow {
                    from: Some("mail".into()),
                    proto: Some(Proto::Tcp),
                    port: Some(PortRange::single(5432)),
                    ..Allow::default()
                }],
            }),
        });
        let r = Ruleset::from_model(&t, &ct).unwrap();
        assert_eq!(r.dnat.len(), 1);
        assert_eq!(r.dnat[0].iif.as_deref(), Some("eth0"));
        let input = r.input.unwrap();
        assert_eq!(input.policy, Verdict::Drop);
        assert_eq!(
            input.accept,
            vec![FilterRule {
                saddr: Some("192.168.199.2/32".parse().unwrap()),
                daddr: None,
                proto: Some(Proto::Tcp),
                dport: Some(PortRange::single(5432)),
            }]
        );
    }
}
