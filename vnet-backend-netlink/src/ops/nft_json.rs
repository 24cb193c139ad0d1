//! Reading vnet's table back: `nft -j list table inet vnet` parsed into a [`Ruleset`],
//! the exact inverse of [`Ruleset::table_text`].
//!
//! Exact means: a listing parses only when loading the parsed ruleset would make the same
//! table. Every chain must have vnet's type, hook, priority and policy, every rule one of
//! the forms vnet writes with its matches in vnet's order, the filter chains must start
//! with their fixed rules, and nothing else may be in the table (no set, no counter, no
//! comment, no empty chain, no dormant flag). Anything else is an error saying what is
//! not vnet's form; the observer reports such a table as foreign, which no desired ruleset
//! equals, so the next apply replaces it whole.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde_json::{Map, Value};
use vnet_core::model::{PortRange, Proto, Verdict};
use vnet_core::ownership::NFT_TABLE;
use vnet_core::plan::{DnatRule, FilterChain, FilterRule, Name, NatRule, Ruleset};

/// The chains vnet writes: name, type, hook, priority (as `nft -j` gives it).
const CHAINS: [(&str, &str, i64); 4] = [
    ("postrouting", "nat", 100),
    ("prerouting", "nat", -100),
    ("forward", "filter", 0),
    ("input", "filter", 0),
];

/// Parses `nft -j list table inet vnet` output; `Err` says why it is not exactly a table
/// [`Ruleset::load_script`] makes.
pub fn parse(json: &str) -> Result<Ruleset, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("nft JSON: {e}"))?;
    let items = doc
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or("nft JSON without an nftables array")?;
    let mut table = false;
    // Chain name -> policy, then the rules of each chain in listing (kernel) order.
    let mut chains: BTreeMap<String, Verdict> = BTreeMap::new();
    let mut rules: BTreeMap<String, Vec<&Map<String, Value>>> = BTreeMap::new();
    for item in items {
        let (kind, body) = single_entry(item)?;
        match kind {
            "metainfo" => {}
            "table" => {
                only_keys(body, &["family", "name", "handle"], "the table")?;
                ours(body, "name")?;
                table = true;
            }
            "chain" => {
                let (name, policy) = chain(body)?;
                chains.insert(name, policy);
            }
            "rule" => {
                only_keys(
                    body,
                    &["family", "table", "chain", "handle", "expr"],
                    "a rule",
                )?;
                ours(body, "table")?;
                let chain = text(body, "chain")?;
                rules.entry(chain.to_string()).or_default().push(body);
            }
            other => return Err(format!("the table holds a {other}, which vnet never makes")),
        }
    }
    if !table {
        return Err("the listing holds no table inet vnet".into());
    }
    if let Some(chain) = rules.keys().find(|c| !chains.contains_key(*c)) {
        return Err(format!("rules of a chain {chain:?} that is not listed"));
    }
    let mut out = Ruleset::default();
    for (name, policy) in chains {
        let list = rules.remove(&name).unwrap_or_default();
        match name.as_str() {
            "postrouting" => out.masquerade = nat_rules(&name, &list, masquerade)?,
            "prerouting" => out.dnat = nat_rules(&name, &list, dnat)?,
            "forward" => out.forward = Some(filter(&list, policy, fixed_forward)?),
            _ => out.input = Some(filter(&list, policy, fixed_input)?),
        }
    }
    if out.is_empty() {
        return Err("the table holds no chain".into());
    }
    Ok(out)
}

/// `{"kind": {...}}`: the one key and its object.
fn single_entry(item: &Value) -> Result<(&str, &Map<String, Value>), String> {
    let obj = item.as_object().filter(|o| o.len() == 1);
    match obj.and_then(|o| o.iter().next()) {
        Some((k, Value::Object(body))) => Ok((k.as_str(), body)),
        _ => Err(format!(
            "an nft listing item that is not {{kind: {{...}}}}: {item}"
        )),
    }
}

/// Fails when `obj` has a key outside `allowed` (a flag, a comment, a device: something
/// vnet never writes).
fn only_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{what} has {k:?}, which vnet never sets: {obj:?}")),
        None => Ok(()),
    }
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no {key:?} in {obj:?}"))
}

/// Checks that an item is of `inet` and names vnet's table under `key`.
fn ours(obj: &Map<String, Value>, key: &str) -> Result<(), String> {
    if text(obj, "family")? == "inet" && text(obj, key)? == NFT_TABLE {
        Ok(())
    } else {
        Err(format!("an item of another table: {obj:?}"))
    }
}

/// A chain vnet writes: its name and policy.
fn chain(body: &Map<String, Value>) -> Result<(String, Verdict), String> {
    only_keys(
        body,
        &[
            "family", "table", "name", "handle", "type", "hook", "prio", "policy",
        ],
        "a chain",
    )?;
    ours(body, "table")?;
    let name = text(body, "name")?;
    let Some((_, kind, prio)) = CHAINS.iter().find(|(n, ..)| *n == name) else {
        return Err(format!("a chain {name:?}, which vnet never makes"));
    };
    let same = text(body, "type")? == *kind
        && text(body, "hook")? == name
        && body.get("prio").and_then(Value::as_i64) == Some(*prio);
    if !same {
        return Err(format!(
            "chain {name} is not a {kind} chain on hook {name} at priority {prio}: {body:?}"
        ));
    }
    let policy = match text(body, "policy")? {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        other => return Err(format!("chain {name} has policy {other:?}")),
    };
    if *kind == "nat" && policy != Verdict::Accept {
        return Err(format!("nat chain {name} has policy drop"));
    }
    Ok((name.to_string(), policy))
}

/// One match of a rule, as vnet writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    Saddr(IpNetwork),
    Daddr(IpNetwork),
    Iifname(String),
    Oifname(String),
    L4proto(Proto),
    Dport(Proto, PortRange),
    /// `ct state established,related`.
    Established,
    /// `ct status dnat`.
    Dnatted,
}

/// What ends a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verb {
    Accept,
    Masquerade,
    Dnat(IpAddr, PortRange),
}

/// A rule's matches (in order) and its final statement.
fn split(rule: &Map<String, Value>) -> Result<(Vec<Match>, Verb), String> {
    let exprs = rule
        .get("expr")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("a rule without expressions: {rule:?}"))?;
    let (last, matches) = exprs
        .split_last()
        .ok_or_else(|| format!("an empty rule: {rule:?}"))?;
    let matches = matches
        .iter()
        .map(|e| match e.get("match") {
            Some(m) if e.as_object().is_some_and(|o| o.len() == 1) => parse_match(m),
            _ => Err(format!("a statement vnet never writes: {e}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((matches, verb(last)?))
}

fn verb(e: &Value) -> Result<Verb, String> {
    let (kind, body) = match e.as_object().filter(|o| o.len() == 1) {
        Some(o) => o
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v))
            .unwrap_or_default(),
        None => ("", &Value::Null),
    };
    match (kind, body) {
        ("accept", Value::Null) => Ok(Verb::Accept),
        ("masquerade", Value::Null) => Ok(Verb::Masquerade),
        ("dnat", Value::Object(d)) => {
            only_keys(d, &["family", "addr", "port"], "a dnat")?;
            let addr: IpAddr = text(d, "addr")?
                .parse()
                .map_err(|e| format!("dnat address: {e}: {d:?}"))?;
            if text(d, "family")? != family(&addr) {
                return Err(format!("dnat family does not match its address: {d:?}"));
            }
            let port = d
                .get("port")
                .ok_or_else(|| format!("a dnat without a port: {d:?}"))
                .and_then(ports)?;
            Ok(Verb::Dnat(addr, port))
        }
        _ => Err(format!("a statement vnet never writes: {e}")),
    }
}

fn family(a: &IpAddr) -> &'static str {
    if a.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

fn parse_match(m: &Value) -> Result<Match, String> {
    let bad = || format!("a match vnet never writes: {m}");
    let obj = m.as_object().ok_or_else(bad)?;
    only_keys(obj, &["op", "left", "right"], "a match")?;
    let op = obj.get("op").and_then(Value::as_str).ok_or_else(bad)?;
    let (left, right) = (&obj["left"], obj.get("right").ok_or_else(bad)?);
    // `ct state`/`ct status` are bit sets: nft writes them with op "in".
    if let Some(key) = left.pointer("/ct/key").and_then(Value::as_str) {
        let ct = left.get("ct").and_then(Value::as_object).ok_or_else(bad)?;
        only_keys(ct, &["key"], "a ct match")?;
        if op != "in" && op != "==" {
            return Err(bad());
        }
        let mut words: Vec<&str> = match right {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => return Err(bad()),
        };
        words.sort_unstable();
        return match (key, words.as_slice()) {
            ("state", ["established", "related"]) => Ok(Match::Established),
            ("status", ["dnat"]) => Ok(Match::Dnatted),
            _ => Err(bad()),
        };
    }
    if op != "==" {
        return Err(bad());
    }
    if let Some(meta) = left.get("meta").and_then(Value::as_object) {
        only_keys(meta, &["key"], "a meta match")?;
        let word = right.as_str().ok_or_else(bad)?;
        return match meta.get("key").and_then(Value::as_str) {
            Some("iifname") => Ok(Match::Iifname(word.to_string())),
            Some("oifname") => Ok(Match::Oifname(word.to_string())),
            Some("l4proto") => proto(word).map(Match::L4proto).ok_or_else(bad),
            _ => Err(bad()),
        };
    }
    let payload = left
        .get("payload")
        .and_then(Value::as_object)
        .ok_or_else(bad)?;
    only_keys(payload, &["protocol", "field"], "a payload match")?;
    let protocol = payload
        .get("protocol")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    let field = payload
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    match (protocol, field) {
        ("ip" | "ip6", "saddr" | "daddr") => {
            let net = prefix(right).ok_or_else(bad)?;
            if family(&net.ip()) != protocol {
                return Err(bad());
            }
            Ok(if field == "saddr" {
                Match::Saddr(net)
            } else {
                Match::Daddr(net)
            })
        }
        (p, "dport") => {
            let p = proto(p).ok_or_else(bad)?;
            Ok(Match::Dport(p, ports(right)?))
        }
        _ => Err(bad()),
    }
}

fn proto(word: &str) -> Option<Proto> {
    match word {
        "tcp" => Some(Proto::Tcp),
        "udp" => Some(Proto::Udp),
        _ => None,
    }
}

/// `25` or `{"range": [8000, 8010]}`.
fn ports(v: &Value) -> Result<PortRange, String> {
    let port = |v: &Value| {
        v.as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
    };
    let range = match v.get("range").and_then(Value::as_array).map(Vec::as_slice) {
        Some([a, b]) => port(a)
            .zip(port(b))
            .map(|(first, last)| PortRange { first, last }),
        Some(_) => None,
        None => port(v).map(PortRange::single),
    };
    range
        .filter(|r| !r.is_empty())
        .ok_or_else(|| format!("not a port or a range of ports: {v}"))
}

/// `"198.18.0.5"` (a host) or `{"prefix": {"addr": ..., "len": ...}}`.
fn prefix(v: &Value) -> Option<IpNetwork> {
    if let Some(s) = v.as_str() {
        return Some(IpNetwork::from(s.parse::<IpAddr>().ok()?));
    }
    let p = v.get("prefix")?.as_object()?;
    if p.len() != 2 {
        return None;
    }
    let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
    let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
    let net = IpNetwork::new(addr, len).ok()?;
    // nft stores prefixes with host bits cleared; anything else was not loaded by nft.
    (net.network() == addr).then_some(net)
}

/// The rules of a nat chain, each read by `read`; a nat chain vnet writes is never empty.
fn nat_rules<T>(
    chain: &str,
    rules: &[&Map<String, Value>],
    read: fn(Vec<Match>, Verb) -> Option<T>,
) -> Result<Vec<T>, String> {
    if rules.is_empty() {
        return Err(format!("chain {chain} holds no rule"));
    }
    rules
        .iter()
        .map(|r| {
            let (matches, verb) = split(r)?;
            read(matches, verb)
                .ok_or_else(|| format!("a rule in chain {chain} that is not vnet's form: {r:?}"))
        })
        .collect()
}

/// `ip saddr SRC oifname "OUT" masquerade`.
fn masquerade(matches: Vec<Match>, verb: Verb) -> Option<NatRule> {
    match (matches.as_slice(), verb) {
        ([Match::Saddr(source), Match::Oifname(out)], Verb::Masquerade) => Some(NatRule {
            source: *source,
            out: Name::from(out.as_str()),
        }),
        _ => None,
    }
}

/// `[iifname "IF"] [ip daddr A] tcp dport P dnat ip to T:P2`.
fn dnat(matches: Vec<Match>, verb: Verb) -> Option<DnatRule> {
    let Verb::Dnat(to, to_port) = verb else {
        return None;
    };
    let mut rest = matches.as_slice();
    let iif = match rest {
        [Match::Iifname(name), tail @ ..] => {
            rest = tail;
            Some(Name::from(name.as_str()))
        }
        _ => None,
    };
    let daddr = match rest {
        [Match::Daddr(net), tail @ ..] if net.prefix() == max_prefix(net) => {
            rest = tail;
            Some(net.ip())
        }
        _ => None,
    };
    let [Match::Dport(proto, dport)] = rest else {
        return None;
    };
    Some(DnatRule {
        proto: *proto,
        iif,
        daddr,
        dport: *dport,
        to,
        // vnet writes the target port always; the same port is no `to_port`.
        to_port: (to_port != *dport).then_some(to_port),
    })
}

fn max_prefix(net: &IpNetwork) -> u8 {
    if net.is_ipv4() {
        32
    } else {
        128
    }
}

/// A filter chain: `fixed` must read its fixed rules off the front of `rules`; the rest
/// are accept rules.
fn filter(
    rules: &[&Map<String, Value>],
    policy: Verdict,
    fixed: fn(&[Vec<Match>]) -> Option<usize>,
) -> Result<FilterChain, String> {
    let parsed = rules
        .iter()
        .map(|r| match split(r)? {
            (matches, Verb::Accept) => Ok(matches),
            _ => Err(format!("a filter rule that does not accept: {r:?}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let skip = fixed(&parsed).ok_or_else(|| {
        "a filter chain without vnet's fixed rules (established/related first)".to_string()
    })?;
    let accept = parsed[skip..]
        .iter()
        .map(|m| accept_rule(m).ok_or_else(|| format!("an accept rule vnet never writes: {m:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FilterChain { policy, accept })
}

/// `forward` starts with `ct state established,related accept`, `ct status dnat accept`.
fn fixed_forward(rules: &[Vec<Match>]) -> Option<usize> {
    match rules {
        [a, b, ..] if a[..] == [Match::Established] && b[..] == [Match::Dnatted] => Some(2),
        _ => None,
    }
}

/// `input` starts with `ct state established,related accept`, `iifname "lo" accept`.
fn fixed_input(rules: &[Vec<Match>]) -> Option<usize> {
    match rules {
        [a, b, ..] if a[..] == [Match::Established] && b[..] == [Match::Iifname("lo".into())] => {
            Some(2)
        }
        _ => None,
    }
}

/// `[ip saddr A] [ip daddr B] [tcp dport P | meta l4proto tcp] accept`.
fn accept_rule(matches: &[Match]) -> Option<FilterRule> {
    let mut rule = FilterRule::default();
    let mut rest = matches;
    if let [Match::Saddr(s), tail @ ..] = rest {
        rule.saddr = Some(*s);
        rest = tail;
    }
    if let [Match::Daddr(d), tail @ ..] = rest {
        rule.daddr = Some(*d);
        rest = tail;
    }
    match rest {
        [] => {}
        [Match::L4proto(p)] => rule.proto = Some(*p),
        [Match::Dport(p, port)] => {
            rule.proto = Some(*p);
            rule.dport = Some(*port);
        }
        _ => return None,
    }
    Some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nft -j list table inet vnet` (nft 1.0.6) after loading every form vnet writes.
    const LISTING: &str = include_str!("testdata/nft-list-table.json");

    fn dnat(text: &str) -> DnatRule {
        // "iif daddr proto dport to to_port", "-" for none.
        let f: Vec<&str> = text.split(' ').collect();
        let opt = |s: &str| (s != "-").then(|| s.to_string());
        DnatRule {
            iif: opt(f[0]).map(Name::from),
            daddr: opt(f[1]).map(|a| a.parse().unwrap()),
            proto: proto(f[2]).unwrap(),
            dport: f[3].parse().unwrap(),
            to: f[4].parse().unwrap(),
            to_port: opt(f[5]).map(|p| p.parse().unwrap()),
        }
    }

    #[test]
    fn every_form_vnet_writes_parses() {
        let r = parse(LISTING).unwrap();
        let masq: Vec<String> = r
            .masquerade
            .iter()
            .map(|m| format!("{} {}", m.source, m.out))
            .collect();
        assert_eq!(
            masq,
            [
                "192.168.199.0/24 eth1",
                "fd00::/64 eth1",
                "192.168.199.5/32 eth1"
            ]
        );
        assert_eq!(
            r.dnat,
            [
                dnat("eth1 192.168.46.200 tcp 25 192.168.199.2 -"),
                dnat("- - tcp 8000-8010 192.168.199.2 9000-9010"),
                dnat("- - udp 53 192.168.199.2 -"),
                dnat("- fd00::1 tcp 80 fd00::2 8080"),
                dnat("eth1 - tcp 81 fd00::2 -"),
            ]
        );
        let forward = r.forward.unwrap();
        assert_eq!(forward.policy, Verdict::Drop);
        assert_eq!(forward.accept.len(), 5);
        assert_eq!(forward.accept[4], FilterRule::default(), "a bare accept");
        assert_eq!(
            forward.accept[3],
            FilterRule {
                saddr: Some("fd00::/64".parse().unwrap()),
                daddr: Some("fd01::/64".parse().unwrap()),
                proto: Some(Proto::Udp),
                dport: Some("1000-2000".parse().unwrap()),
            }
        );
        let input = r.input.unwrap();
        assert_eq!((input.policy, input.accept.len()), (Verdict::Accept, 0));
    }

    #[test]
    fn a_missing_fixed_rule_or_a_counter_is_not_vnets_form() {
        let without_dnat_status = LISTING.replace(
            r#"{"match": {"op": "in", "left": {"ct": {"key": "status"}}, "right": "dnat"}}, "#,
            "",
        );
        assert_ne!(without_dnat_status, LISTING);
        assert!(parse(&without_dnat_status).is_err());
        let counted = LISTING.replacen(
            r#"{"masquerade": null}"#,
            r#"{"counter": {"packets": 0, "bytes": 0}}, {"masquerade": null}"#,
            1,
        );
        assert!(parse(&counted).unwrap_err().contains("counter"));
    }
}
