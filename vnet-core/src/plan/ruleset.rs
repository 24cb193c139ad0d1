//! The whole nftables table vnet owns in one namespace (`table inet vnet`): masquerade,
//! port forwards and filter chains, as one value.
//!
//! One mechanism for every backend: the table is always replaced whole and atomically by
//! one `nft -f` transaction ([`Ruleset::load_script`]: create-if-missing, delete, add, in
//! one batch, so no packet ever meets a half-built table), and removed by
//! [`Ruleset::remove_script`]. The netlink backend pipes the script into `nft` inside the
//! namespace, the shell backends write the same text into their scripts and into the
//! ruleset file a router loads at boot. Reading back, the netlink backend parses
//! `nft -j list table inet vnet` into a [`Ruleset`]; anything it cannot read as one is not
//! vnet's form and is replaced by the next apply.
//!
//! Chains (each only when it has something to hold):
//! - `postrouting` (nat, srcnat): `ip saddr SRC oifname "OUT" masquerade`;
//! - `prerouting` (nat, dstnat): `[iifname "IF"] [ip daddr A] tcp dport P dnat ip to T[:P2]`;
//! - `forward` / `input` (filter): policy, then `ct state established,related accept`,
//!   (`forward`) `ct status dnat accept` (a port forward needs no allow rule), (`input`)
//!   `iifname "lo" accept`, then one `accept` rule per allow rule.

use std::fmt::Write as _;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

use super::{Name, NatRule};
use crate::model::{PortRange, Proto, Verdict};
use crate::ownership::NFT_TABLE;

/// vnet's nftables table in one namespace: what it should hold, or what it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ruleset {
    /// Source NAT rules (chain `postrouting`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masquerade: Vec<NatRule>,
    /// Port forwards (chain `prerouting`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dnat: Vec<DnatRule>,
    /// What the namespace forwards (chain `forward`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<FilterChain>,
    /// What reaches the namespace itself (chain `input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<FilterChain>,
}

/// A port forward with its addresses resolved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DnatRule {
    /// The protocol.
    pub proto: Proto,
    /// The incoming interface it listens on, if the forward names one.
    pub iif: Option<Name>,
    /// The local address it listens on, if the forward names one.
    pub daddr: Option<IpAddr>,
    /// The port or range forwarded.
    pub dport: PortRange,
    /// The target address.
    pub to: IpAddr,
    /// The target port (range), when it differs from `dport`.
    pub to_port: Option<PortRange>,
}

/// A filter chain: its policy and its accept rules, in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FilterChain {
    /// What happens to traffic no rule accepts.
    pub policy: Verdict,
    /// The accept rules after the fixed ones (established/related, dnat, lo).
    pub accept: Vec<FilterRule>,
}

/// One accept rule with names resolved to prefixes. An allow rule naming an element with
/// several addresses becomes one rule per (source, destination) prefix pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FilterRule {
    /// Source prefix, if any.
    pub saddr: Option<IpNetwork>,
    /// Destination prefix, if any.
    pub daddr: Option<IpNetwork>,
    /// Protocol, if any.
    pub proto: Option<Proto>,
    /// Destination port (range), if any (needs `proto`).
    pub dport: Option<PortRange>,
}

/// A part of the table, as a difference names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RulesetPart {
    /// The masquerade rules (chain `postrouting`).
    Masquerade,
    /// The port forwards (chain `prerouting`).
    PortForward,
    /// The `forward` filter chain.
    Forward,
    /// The `input` filter chain.
    Input,
}

impl RulesetPart {
    /// Every part, in the table's order.
    pub const ALL: [RulesetPart; 4] = [
        RulesetPart::Masquerade,
        RulesetPart::PortForward,
        RulesetPart::Forward,
        RulesetPart::Input,
    ];
}

impl std::fmt::Display for RulesetPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RulesetPart::Masquerade => "masquerade",
            RulesetPart::PortForward => "port_forward",
            RulesetPart::Forward => "forward",
            RulesetPart::Input => "input",
        })
    }
}

impl Ruleset {
    /// One part's rules as nft writes them, `; `-separated (a filter chain starts with
    /// its policy); empty when the part holds nothing.
    pub fn part_text(&self, part: RulesetPart) -> String {
        let chain = |c: &Option<FilterChain>| {
            c.as_ref().map_or_else(String::new, |c| {
                std::iter::once(format!("policy {}", c.policy.as_str()))
                    .chain(c.accept.iter().map(filter_text))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        };
        match part {
            RulesetPart::Masquerade => self
                .masquerade
                .iter()
                .map(masquerade_text)
                .collect::<Vec<_>>()
                .join("; "),
            RulesetPart::PortForward => self
                .dnat
                .iter()
                .map(dnat_text)
                .collect::<Vec<_>>()
                .join("; "),
            RulesetPart::Forward => chain(&self.forward),
            RulesetPart::Input => chain(&self.input),
        }
    }

    /// Whether the table would hold nothing (then vnet keeps no table at all).
    pub fn is_empty(&self) -> bool {
        self.masquerade.is_empty()
            && self.dnat.is_empty()
            && self.forward.is_none()
            && self.input.is_none()
    }

    /// What the table holds, in a few words: `1 masquerade, 2 forwards, forward policy
    /// drop (1 allow rule)`.
    pub fn summary(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if !self.masquerade.is_empty() {
            parts.push(plural(self.masquerade.len(), "masquerade", "masquerades"));
        }
        if !self.dnat.is_empty() {
            parts.push(plural(self.dnat.len(), "port forward", "port forwards"));
        }
        for (name, chain) in [("forward", &self.forward), ("input", &self.input)] {
            if let Some(c) = chain {
                parts.push(format!(
                    "{name} policy {} ({})",
                    c.policy.as_str(),
                    plural(c.accept.len(), "accept rule", "accept rules")
                ));
            }
        }
        if parts.is_empty() {
            return "empty".to_string();
        }
        parts.join(", ")
    }

    /// The `nft -f` script that replaces vnet's table with this one in one transaction.
    /// An empty ruleset removes the table (the same as [`Ruleset::remove_script`]).
    pub fn load_script(&self) -> String {
        let mut out = Ruleset::remove_script();
        if self.is_empty() {
            return out;
        }
        out.push_str(&self.table_text());
        out
    }

    /// The `nft -f` script that removes vnet's table, whether it exists or not (the empty
    /// `table` line creates it first, so `delete` never fails).
    pub fn remove_script() -> String {
        format!("table inet {NFT_TABLE} {{}}\ndelete table inet {NFT_TABLE}\n")
    }

    /// The table alone, as `nft list` would write it back (the text of a ruleset file).
    pub fn table_text(&self) -> String {
        let mut t = format!("table inet {NFT_TABLE} {{\n");
        if !self.masquerade.is_empty() {
            t.push_str("\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
            for r in &self.masquerade {
                let _ = writeln!(t, "\t\t{}", masquerade_text(r));
            }
            t.push_str("\t}\n");
        }
        if !self.dnat.is_empty() {
            t.push_str("\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
            for r in &self.dnat {
                let _ = writeln!(t, "\t\t{}", dnat_text(r));
            }
            t.push_str("\t}\n");
        }
        if let Some(chain) = &self.forward {
            chain_text(&mut t, "forward", chain, "\t\tct status dnat accept\n");
        }
        if let Some(chain) = &self.input {
            chain_text(&mut t, "input", chain, "\t\tiifname \"lo\" accept\n");
        }
        t.push_str("}\n");
        t
    }
}

fn family(a: &IpAddr) -> &'static str {
    if a.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', ""))
}

/// `ip saddr 192.168.199.0/24 oifname "eth1" masquerade`, with the prefix's host bits
/// cleared as nft stores it.
fn masquerade_text(r: &NatRule) -> String {
    let source = IpNetwork::new(r.source.network(), r.source.prefix()).unwrap_or(r.source);
    format!(
        "{} saddr {source} oifname {} masquerade",
        family(&source.ip()),
        quoted(&r.out)
    )
}

/// `iifname "eth1" ip daddr 192.168.46.200 tcp dport 25 dnat ip to 192.168.199.2:25`.
fn dnat_text(r: &DnatRule) -> String {
    let mut t = String::new();
    if let Some(iif) = &r.iif {
        let _ = write!(t, "iifname {} ", quoted(iif));
    }
    if let Some(daddr) = &r.daddr {
        let _ = write!(t, "{} daddr {daddr} ", family(daddr));
    }
    let to = match r.to {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    let port = r.to_port.unwrap_or(r.dport);
    let _ = write!(
        t,
        "{} dport {} dnat {} to {to}:{port}",
        r.proto,
        r.dport,
        family(&r.to)
    );
    t
}

fn chain_text(t: &mut String, name: &str, chain: &FilterChain, fixed: &str) {
    let _ = writeln!(
        t,
        "\tchain {name} {{\n\t\ttype filter hook {name} priority filter; policy {};",
        chain.policy.as_str()
    );
    t.push_str("\t\tct state established,related accept\n");
    t.push_str(fixed);
    for r in &chain.accept {
        let _ = writeln!(t, "\t\t{}", filter_text(r));
    }
    t.push_str("\t}\n");
}

/// `ip saddr A ip daddr B tcp dport 5432 accept`; a rule with only a protocol is
/// `meta l4proto tcp accept`.
fn filter_text(r: &FilterRule) -> String {
    let mut t = String::new();
    if let Some(s) = &r.saddr {
        let _ = write!(t, "{} saddr {s} ", family(&s.ip()));
    }
    if let Some(d) = &r.daddr {
        let _ = write!(t, "{} daddr {d} ", family(&d.ip()));
    }
    match (r.proto, r.dport) {
        (Some(p), Some(port)) => {
            let _ = write!(t, "{p} dport {port} ");
        }
        (Some(p), None) => {
            let _ = write!(t, "meta l4proto {p} ");
        }
        _ => {}
    }
    t.push_str("accept");
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PortRange;

    fn article_router() -> Ruleset {
        Ruleset {
            masquerade: vec![NatRule {
                source: "192.168.199.0/24".parse().unwrap(),
                out: Name::from("eth1"),
            }],
            dnat: vec![DnatRule {
                proto: Proto::Tcp,
                iif: None,
                daddr: Some("192.168.46.200".parse().unwrap()),
                dport: PortRange::single(25),
                to: "192.168.199.2".parse().unwrap(),
                to_port: None,
            }],
            forward: Some(FilterChain {
                policy: Verdict::Drop,
                accept: vec![FilterRule {
                    saddr: Some("192.168.199.0/24".parse().unwrap()),
                    ..FilterRule::default()
                }],
            }),
            input: None,
        }
    }

    #[test]
    fn the_load_script_replaces_the_table_in_one_transaction() {
        let s = article_router().load_script();
        assert!(s.starts_with("table inet vnet {}\ndelete table inet vnet\ntable inet vnet {\n"));
        assert!(s.contains("ip saddr 192.168.199.0/24 oifname \"eth1\" masquerade"));
        assert!(s.contains("ip daddr 192.168.46.200 tcp dport 25 dnat ip to 192.168.199.2:25"));
        assert!(s.contains("policy drop;\n\t\tct state established,related accept\n\t\tct status dnat accept\n\t\tip saddr 192.168.199.0/24 accept\n"));
        assert!(!s.contains("chain input"));
    }

    #[test]
    fn an_empty_ruleset_only_removes_the_table() {
        assert_eq!(Ruleset::default().load_script(), Ruleset::remove_script());
    }
}
