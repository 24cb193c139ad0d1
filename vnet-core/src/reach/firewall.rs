//! The firewall of one simulated namespace: its port forwards (destination NAT) and its
//! `forward` and `input` filter chains, read from the model with names resolved, and the
//! verdict each gives a packet.
//!
//! This reads the model's [`PortForward`]s and [`FilterPolicy`]s itself rather than the
//! [`Ruleset`](crate::plan::Ruleset) vnet loads, so that `vnet verify` compares the kernel
//! with what the topology says, not with vnet's own translation of it. The fixed rules of
//! that ruleset are honoured here as the kernel applies them: established and related
//! traffic is accepted ([`super::l3`] keeps the connection tracking), a packet a port
//! forward rewrote passes the `forward` chain, and everything else meets the allow rules
//! in order, then the chain's policy.

use ipnetwork::IpNetwork;
use std::collections::BTreeMap;
use std::net::IpAddr;

use super::l3::Host;
use crate::model::{Allow, Container, FilterPolicy, PortForward, PortRange, Proto, Verdict};
use crate::plan::{Name, NsRef};

/// What a simulated packet carries besides its addresses: ICMP (no protocol here) or a
/// TCP/UDP destination port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct L4 {
    /// `None` for an ICMP echo.
    pub(super) proto: Option<Proto>,
    /// The destination port (TCP and UDP).
    pub(super) dport: Option<u16>,
}

impl L4 {
    /// An ICMP echo.
    pub(super) const ICMP: L4 = L4 {
        proto: None,
        dport: None,
    };

    /// `tcp/25`, `udp/53`, `icmp`: for reasons.
    pub(super) fn describe(self) -> String {
        match (self.proto, self.dport) {
            (Some(p), Some(port)) => format!("{p}/{port}"),
            (Some(p), None) => p.to_string(),
            _ => "icmp".to_string(),
        }
    }
}

/// A port forward with the listening side as the kernel matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Forward {
    pub(super) proto: Proto,
    pub(super) iif: Option<String>,
    pub(super) daddr: Option<IpAddr>,
    pub(super) port: PortRange,
    pub(super) to: IpAddr,
    pub(super) to_port: Option<PortRange>,
}

/// One allow rule with its names resolved to prefixes (`None`: any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Match {
    pub(super) from: Option<Vec<IpNetwork>>,
    pub(super) to: Option<Vec<IpNetwork>>,
    pub(super) proto: Option<Proto>,
    pub(super) port: Option<PortRange>,
}

/// A filter chain: its policy and allow rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Chain {
    pub(super) policy: Verdict,
    pub(super) allow: Vec<Match>,
}

/// The firewall of one namespace; the default (nothing) accepts everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Rules {
    pub(super) dnat: Vec<Forward>,
    pub(super) forward: Option<Chain>,
    pub(super) input: Option<Chain>,
}

/// Which chain judges a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hook {
    /// Passing through the namespace.
    Forward,
    /// Addressed to the namespace itself.
    Input,
}

impl Hook {
    fn as_str(self) -> &'static str {
        match self {
            Hook::Forward => "forward",
            Hook::Input => "input",
        }
    }
}

impl Rules {
    /// The rules of container `ct`, names resolved against the namespaces of `hosts`.
    pub(super) fn of(ct: &Container, hosts: &BTreeMap<NsRef, Host>) -> Rules {
        let chain = |p: &Option<FilterPolicy>| {
            p.as_ref().map(|p| Chain {
                policy: p.policy,
                allow: p.allow.iter().map(|a| resolve_allow(a, hosts)).collect(),
            })
        };
        Rules {
            dnat: ct.port_forward.iter().map(forward).collect(),
            forward: ct.firewall.as_ref().and_then(|f| chain(&f.forward)),
            input: ct.firewall.as_ref().and_then(|f| chain(&f.input)),
        }
    }

    /// The destination (address, port) a port forward rewrites a new packet to, if one
    /// matches: arriving on `iif` for `dst`.
    pub(super) fn dnat(&self, iif: &str, dst: IpAddr, l4: L4) -> Option<(IpAddr, u16)> {
        let (proto, port) = (l4.proto?, l4.dport?);
        self.dnat.iter().find_map(|f| {
            let hit = f.proto == proto
                && f.port.contains(port)
                && f.iif.as_deref().is_none_or(|i| i == iif)
                && f.daddr.is_none_or(|a| a == dst)
                && f.to.is_ipv4() == dst.is_ipv4();
            // A range maps onto the target range port by port (the same offset).
            let to_port = |t: PortRange| t.first.saturating_add(port - f.port.first);
            hit.then(|| (f.to, f.to_port.map_or(port, to_port)))
        })
    }

    /// Whether the `hook` chain lets a new packet through; `Err` says which policy
    /// drops it. No chain, no filter.
    pub(super) fn judge(&self, hook: Hook, src: IpAddr, dst: IpAddr, l4: L4) -> Result<(), String> {
        let chain = match hook {
            Hook::Forward => &self.forward,
            Hook::Input => &self.input,
        };
        let Some(chain) = chain else { return Ok(()) };
        if chain.allow.iter().any(|m| m.matches(src, dst, l4)) || chain.policy == Verdict::Accept {
            return Ok(());
        }
        Err(format!(
            "the {} policy drops {} from {src} to {dst}",
            hook.as_str(),
            l4.describe()
        ))
    }

    /// Every prefix the rules tell addresses apart by (for the classes of alike
    /// endpoints: a host an allow rule names is not like its neighbours).
    pub(super) fn prefixes(&self) -> Vec<IpNetwork> {
        let mut out: Vec<IpNetwork> = Vec::new();
        for c in [&self.forward, &self.input].into_iter().flatten() {
            for m in &c.allow {
                for list in [&m.from, &m.to].into_iter().flatten() {
                    out.extend(list.iter().copied());
                }
            }
        }
        for f in &self.dnat {
            out.extend(f.daddr.map(IpNetwork::from));
            out.push(IpNetwork::from(f.to));
        }
        out
    }
}

impl Match {
    fn matches(&self, src: IpAddr, dst: IpAddr, l4: L4) -> bool {
        self.admits_source(src)
            && self.admits_destination(dst)
            && self.proto.is_none_or(|p| l4.proto == Some(p))
            && self
                .port
                .is_none_or(|r| l4.dport.is_some_and(|p| r.contains(p)))
    }

    /// Whether `a` is inside the rule's source (any source when it names none).
    pub(super) fn admits_source(&self, a: IpAddr) -> bool {
        inside(&self.from, a)
    }

    /// Whether `a` is inside the rule's destination (any when it names none).
    pub(super) fn admits_destination(&self, a: IpAddr) -> bool {
        inside(&self.to, a)
    }
}

/// Whether `a` is in one of the prefixes (any address when there is no list).
fn inside(list: &Option<Vec<IpNetwork>>, a: IpAddr) -> bool {
    list.as_ref().is_none_or(|l| {
        l.iter()
            .any(|p| p.is_ipv4() == a.is_ipv4() && p.contains(a))
    })
}

fn forward(f: &PortForward) -> Forward {
    Forward {
        proto: f.proto,
        iif: f.interface.clone(),
        daddr: f.address,
        port: f.port,
        to: f.to,
        to_port: f.to_port,
    }
}

fn resolve_allow(a: &Allow, hosts: &BTreeMap<NsRef, Host>) -> Match {
    Match {
        from: a.from.as_deref().map(|n| resolve(n, hosts)),
        to: a.to.as_deref().map(|n| resolve(n, hosts)),
        proto: a.proto,
        port: a.port,
    }
}

/// An address, a prefix, or a container or LAN host by name (all its addresses). A name
/// nothing holds resolves to no prefix (validation rejects it before this runs).
pub(super) fn resolve(name: &str, hosts: &BTreeMap<NsRef, Host>) -> Vec<IpNetwork> {
    if let Ok(p) = name.parse::<IpNetwork>() {
        return vec![p];
    }
    if let Ok(a) = name.parse::<IpAddr>() {
        return vec![IpNetwork::from(a)];
    }
    [NsRef::Ct(Name::from(name)), NsRef::Host(Name::from(name))]
        .iter()
        .filter_map(|ns| hosts.get(ns))
        .flat_map(|h| h.ifaces.iter().flat_map(|i| &i.addresses))
        .map(|a| IpNetwork::from(a.ip()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(port: u16) -> L4 {
        L4 {
            proto: Some(Proto::Tcp),
            dport: Some(port),
        }
    }

    fn rules() -> Rules {
        Rules {
            dnat: vec![Forward {
                proto: Proto::Tcp,
                iif: Some("eth1".into()),
                daddr: None,
                port: "8000-8010".parse().unwrap(),
                to: "10.0.0.2".parse().unwrap(),
                to_port: Some("9000-9010".parse().unwrap()),
            }],
            forward: Some(Chain {
                policy: Verdict::Drop,
                allow: vec![Match {
                    from: Some(vec!["10.0.0.0/24".parse().unwrap()]),
                    to: None,
                    proto: Some(Proto::Tcp),
                    port: Some(PortRange::single(5432)),
                }],
            }),
            input: None,
        }
    }

    #[test]
    fn a_forward_maps_a_range_port_by_port_on_its_interface_only() {
        let r = rules();
        let any: IpAddr = "198.18.0.1".parse().unwrap();
        assert_eq!(
            r.dnat("eth1", any, tcp(8003)),
            Some(("10.0.0.2".parse().unwrap(), 9003))
        );
        assert_eq!(r.dnat("eth0", any, tcp(8003)), None);
        assert_eq!(r.dnat("eth1", any, tcp(7999)), None);
        assert_eq!(r.dnat("eth1", any, L4::ICMP), None);
    }

    #[test]
    fn allow_rules_match_every_field_given_and_the_policy_decides_the_rest() {
        let r = rules();
        let (inside, outside, dst): (IpAddr, IpAddr, IpAddr) = (
            "10.0.0.9".parse().unwrap(),
            "198.18.0.1".parse().unwrap(),
            "10.0.1.1".parse().unwrap(),
        );
        assert!(r.judge(Hook::Forward, inside, dst, tcp(5432)).is_ok());
        let why = r.judge(Hook::Forward, outside, dst, tcp(5432)).unwrap_err();
        assert_eq!(
            why,
            "the forward policy drops tcp/5432 from 198.18.0.1 to 10.0.1.1"
        );
        assert!(r.judge(Hook::Forward, inside, dst, tcp(22)).is_err());
        assert!(r.judge(Hook::Forward, inside, dst, L4::ICMP).is_err());
        // No input chain: nothing filtered.
        assert!(r.judge(Hook::Input, outside, dst, tcp(22)).is_ok());
    }
}
