//! The TCP and UDP flows `vnet verify` probes besides the ICMP matrix: what the
//! firewalls of the topology decide, both what must pass and what must not.
//!
//! - every port forward: from each class of LAN hosts to the forward's address and
//!   (first) port;
//! - every allow rule with a port: from a source it allows and, when it names sources,
//!   from one it does not, to a destination it covers;
//! - every `drop` policy: one flow nothing allows (TCP to a port no rule opens), through
//!   the router (`forward`) or to it (`input`).
//!
//! Which flows are chosen is read from the rules; whether each passes is not: it comes
//! from simulating the flow through routing, port forwards and every filter on its way
//! ([`super::l3`]), like the ICMP matrix.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

use super::classes::{classes, Planned, Role};
use super::firewall::{Hook, Match, L4};
use super::l3::Network;
use super::Expectation;
use crate::model::{Proto, Verdict};
use crate::plan::NsRef;

/// What a probe sends: an ICMP echo, a TCP connection or a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeProto {
    /// An ICMP (or ICMPv6) echo request.
    Icmp,
    /// A TCP connection.
    Tcp,
    /// A UDP datagram.
    Udp,
}

impl ProbeProto {
    /// `icmp`, `tcp`, `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeProto::Icmp => "icmp",
            ProbeProto::Tcp => "tcp",
            ProbeProto::Udp => "udp",
        }
    }
}

/// The protocol and ports of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Flow {
    /// What is sent.
    pub proto: ProbeProto,
    /// The destination port the source sends to (TCP and UDP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The port the target listens on: `port`, or the one a port forward rewrites it to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen_port: Option<u16>,
}

impl Flow {
    /// An ICMP echo.
    pub const ICMP: Flow = Flow {
        proto: ProbeProto::Icmp,
        port: None,
        listen_port: None,
    };

    /// A TCP or UDP flow to `port`.
    pub fn stream(proto: Proto, port: u16) -> Flow {
        Flow {
            proto: match proto {
                Proto::Tcp => ProbeProto::Tcp,
                Proto::Udp => ProbeProto::Udp,
            },
            port: Some(port),
            listen_port: Some(port),
        }
    }

    fn l4(self) -> L4 {
        let proto = match self.proto {
            ProbeProto::Icmp => return L4::ICMP,
            ProbeProto::Tcp => Proto::Tcp,
            ProbeProto::Udp => Proto::Udp,
        };
        L4 {
            proto: Some(proto),
            dport: self.port,
        }
    }
}

/// Ports tried, in order, for a flow a `drop` policy must stop: well-known, rarely
/// served ones (discard, echo, daytime, ...) that no allow rule or forward opens.
const DENIED_PORTS: [u16; 8] = [9, 7, 13, 19, 37, 79, 1, 4];

/// The simulated outcome of `flow` from `from` to `to`; `None` when nothing holds the
/// address the flow is delivered to (no namespace to listen in).
pub(super) fn expect(net: &Network, from: &NsRef, to: IpAddr, flow: Flow) -> Option<Expectation> {
    let o = net.send(from, to, flow.l4());
    let to_ns = net.holder(o.target)?.clone();
    Some(Expectation {
        from: from.clone(),
        source: o.source,
        to,
        to_ns,
        reachable: o.reachable,
        reason: o.reason,
        flow: Flow {
            listen_port: o.port,
            ..flow
        },
    })
}

/// The flows the firewalls of `net` decide (see the module's doc), each once, in a
/// stable order.
pub(super) fn flows(net: &Network) -> Vec<Expectation> {
    let lan: Vec<NsRef> = classes(net)
        .into_iter()
        .filter_map(|c| c.into_iter().next())
        .filter(|ns| matches!(ns, NsRef::Host(_)))
        .collect();
    let mut wanted: Vec<(NsRef, IpAddr, Flow)> = Vec::new();
    for (r, h) in &net.hosts {
        for f in &h.rules.dnat {
            let addr = f.daddr.or_else(|| {
                h.ifaces
                    .iter()
                    .filter(|i| Some(&i.name) == f.iif.as_ref())
                    .flat_map(|i| &i.addresses)
                    .map(|a| a.ip())
                    .find(|a| a.is_ipv4() == f.to.is_ipv4())
            });
            let Some(addr) = addr else { continue };
            for src in lan.iter().filter(|s| net.has_family(s, addr)) {
                wanted.push((src.clone(), addr, Flow::stream(f.proto, f.port.first)));
            }
        }
        for (hook, chain) in [
            (Hook::Forward, &h.rules.forward),
            (Hook::Input, &h.rules.input),
        ] {
            let Some(chain) = chain else { continue };
            for m in &chain.allow {
                let (Some(proto), Some(port)) = (m.proto, m.port) else {
                    continue;
                };
                let Some((to_ns, to)) = destination(net, r, hook, m) else {
                    continue;
                };
                let flow = Flow::stream(proto, port.first);
                let mut sources = sources(net, r, &to_ns, to);
                if let Some(ok) = sources.iter().find(|(_, s)| m.admits_source(*s)) {
                    wanted.push((ok.0.clone(), to, flow));
                }
                if m.from.is_some() {
                    sources.retain(|(_, s)| !m.admits_source(*s));
                    if let Some((ns, _)) = sources.first() {
                        wanted.push((ns.clone(), to, flow));
                    }
                }
            }
            if chain.policy == Verdict::Drop {
                wanted.extend(denied(net, r, hook, &lan));
            }
        }
    }
    let mut seen = BTreeSet::new();
    wanted
        .into_iter()
        .filter(|w| seen.insert(w.clone()))
        .filter_map(|(from, to, flow)| expect(net, &from, to, flow))
        .collect()
}

/// The flows as probes of a plan.
pub(super) fn planned(net: &Network) -> Vec<Planned> {
    flows(net)
        .into_iter()
        .map(|e| Planned {
            expectation: e,
            stands_for: 0,
            role: Role::Flow,
        })
        .collect()
}

/// Where an allow rule of `r`'s `hook` chain lets traffic go: `r` itself (input), or
/// another namespace (forward): the first address the rule covers, or without `to` the
/// first container on one of `r`'s segments.
fn destination(net: &Network, r: &NsRef, hook: Hook, m: &Match) -> Option<(NsRef, IpAddr)> {
    match hook {
        Hook::Input => addresses(net, r)
            .find(|a| m.admits_destination(*a))
            .map(|a| (r.clone(), a)),
        Hook::Forward if m.to.is_some() => net
            .addresses()
            .into_iter()
            .find(|(ns, a)| ns != r && m.admits_destination(*a)),
        Hook::Forward => behind(net, r),
    }
}

/// The first container other than `r` with an address on one of `r`'s segments.
fn behind(net: &Network, r: &NsRef) -> Option<(NsRef, IpAddr)> {
    let segments: Vec<_> = net.hosts[r].ifaces.iter().map(|i| &i.segment).collect();
    net.hosts
        .iter()
        .filter(|(ns, _)| *ns != r && matches!(ns, NsRef::Ct(_)))
        .flat_map(|(ns, h)| h.ifaces.iter().map(move |i| (ns, i)))
        .filter(|(_, i)| segments.contains(&&i.segment))
        .find_map(|(ns, i)| i.addresses.first().map(|a| (ns.clone(), a.ip())))
}

fn addresses<'a>(net: &'a Network, ns: &NsRef) -> impl Iterator<Item = IpAddr> + 'a {
    net.hosts[ns]
        .ifaces
        .iter()
        .flat_map(|i| &i.addresses)
        .map(|a| a.ip())
}

/// Namespaces that could send to `to` (LAN hosts first, then in order), with the source
/// address they would use; neither `r`, whose own traffic its chains do not judge, nor
/// the destination.
fn sources(net: &Network, r: &NsRef, to_ns: &NsRef, to: IpAddr) -> Vec<(NsRef, IpAddr)> {
    let mut out: Vec<(NsRef, IpAddr)> = net
        .namespaces()
        .filter(|ns| *ns != r && *ns != to_ns)
        .filter_map(|ns| net.source_towards(ns, to).map(|s| (ns.clone(), s)))
        .collect();
    out.sort_by_key(|(ns, _)| !matches!(ns, NsRef::Host(_)));
    out
}

/// One flow `r`'s `drop` policy on `hook` must stop: TCP to a port nothing opens, from
/// the first LAN host class to the first container behind `r` (forward), or from a
/// neighbour to `r` (input).
fn denied(net: &Network, r: &NsRef, hook: Hook, lan: &[NsRef]) -> Option<(NsRef, IpAddr, Flow)> {
    let rules = &net.hosts[r].rules;
    let chain = match hook {
        Hook::Forward => rules.forward.as_ref()?,
        Hook::Input => rules.input.as_ref()?,
    };
    let opened = |p: u16| {
        chain
            .allow
            .iter()
            .any(|m| m.port.is_some_and(|r| r.contains(p)))
            || rules.dnat.iter().any(|f| f.port.contains(p))
    };
    let port = DENIED_PORTS.into_iter().find(|p| !opened(*p))?;
    let flow = Flow::stream(Proto::Tcp, port);
    match hook {
        Hook::Forward => {
            let (to_ns, to) = behind(net, r)?;
            let from = lan.iter().find(|s| **s != to_ns && net.has_family(s, to))?;
            Some((from.clone(), to, flow))
        }
        Hook::Input => {
            let (from, to) = net.hosts[r].ifaces.iter().find_map(|i| {
                let a = i.addresses.first()?.ip();
                let peer = net
                    .hosts
                    .iter()
                    .find(|(ns, h)| *ns != r && h.ifaces.iter().any(|j| j.segment == i.segment))?;
                Some((peer.0.clone(), a))
            })?;
            Some((from, to, flow))
        }
    }
}
