//! NAT (masquerade) in vnet's own nftables table `inet vnet`, through the `nft` binary.
//!
//! Why `nft` and not raw nf_tables netlink: nf_tables messages are a bytecode of
//! expressions (payload loads, compares, masquerade) wrapped in batch-begin/end with
//! generation checks; no maintained crate of our netlink family encodes them, and a hand
//! encoding would be the riskiest code in the crate for rules applied once per router.
//! `nft` is the reference encoder; it runs on a thread inside the namespace (the child
//! inherits the thread's namespace) and reads its ruleset from stdin. Rules are read
//! back with `nft -j`, so what vnet checks is what the kernel holds.
//!
//! Layout: `table inet vnet { chain postrouting { type nat hook postrouting priority
//! srcnat; } }`, one rule `ip saddr X oifname "Y" masquerade` per [`NatRule`]. Deleting
//! the last rule deletes the table.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde_json::Value;
use vnet_core::ownership::NFT_TABLE;
use vnet_core::plan::{Name, NatRule};

pub use super::nft::{run_nft, table_exists};

/// The chain holding the rules.
pub const CHAIN: &str = "postrouting";

/// The source prefix in canonical form (host bits cleared), as nft stores it.
pub fn canonical(source: IpNetwork) -> IpNetwork {
    IpNetwork::new(source.network(), source.prefix()).unwrap_or(source)
}

fn rule_text(rule: &NatRule) -> String {
    let source = canonical(rule.source);
    let proto = if source.is_ipv4() { "ip" } else { "ip6" };
    format!(
        "{proto} saddr {source} oifname \"{}\" masquerade",
        rule.out.replace('"', "")
    )
}

/// The script that adds `rule`, creating the table and chain when missing (a `table`
/// block adds to an existing table instead of failing).
pub fn add_script(rule: &NatRule) -> String {
    format!(
        "table inet {NFT_TABLE} {{\n  chain {CHAIN} {{ type nat hook postrouting priority srcnat; policy accept; }}\n}}\nadd rule inet {NFT_TABLE} {CHAIN} {}\n",
        rule_text(rule)
    )
}

/// A rule as found in the table: where it is, so it can be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRule {
    /// The rule.
    pub rule: NatRule,
    /// Its chain (vnet's own layout uses [`CHAIN`]; the shell renderer's layout, one
    /// chain per rule, is read too, so either backend can read what the other wrote).
    pub chain: String,
    /// Its handle.
    pub handle: u64,
}

/// The script that deletes `found`, and the whole table when no other rule is left.
pub fn delete_script(found: &FoundRule, last: bool) -> String {
    if last {
        format!("delete table inet {NFT_TABLE}\n")
    } else {
        format!(
            "delete rule inet {NFT_TABLE} {} handle {}\n",
            found.chain, found.handle
        )
    }
}

/// The rules in `nft -j -a list table inet vnet` output, from every chain of the table.
pub fn parse_rules(json: &str) -> Result<Vec<FoundRule>, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("nft JSON: {e}"))?;
    let items = doc
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or("nft JSON without an nftables array")?;
    let mut out = Vec::new();
    for item in items {
        let Some(rule) = item.get("rule") else {
            continue;
        };
        let chain = rule
            .get("chain")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let handle = rule.get("handle").and_then(Value::as_u64).unwrap_or(0);
        let exprs = rule
            .get("expr")
            .and_then(Value::as_array)
            .ok_or("nft rule without expressions")?;
        if let Some(nat) = parse_exprs(exprs) {
            out.push(FoundRule {
                rule: nat,
                chain,
                handle,
            });
        } else {
            return Err(format!(
                "rule {handle} in table inet {NFT_TABLE} is not vnet's masquerade form: {rule}"
            ));
        }
    }
    Ok(out)
}

fn parse_exprs(exprs: &[Value]) -> Option<NatRule> {
    let mut source = None;
    let mut out = None;
    let mut masquerade = false;
    for e in exprs {
        if e.get("masquerade").is_some() {
            masquerade = true;
        } else if let Some(m) = e.get("match") {
            let left = m.get("left")?;
            let right = m.get("right")?;
            if left.pointer("/payload/field").and_then(Value::as_str) == Some("saddr") {
                source = Some(parse_prefix(right)?);
            } else if left.pointer("/meta/key").and_then(Value::as_str) == Some("oifname") {
                out = Some(right.as_str()?.to_string());
            } else {
                return None;
            }
        } else {
            return None;
        }
    }
    masquerade.then_some(())?;
    Some(NatRule {
        source: source?,
        out: Name::from(out?),
    })
}

fn parse_prefix(v: &Value) -> Option<IpNetwork> {
    if let Some(s) = v.as_str() {
        let ip: IpAddr = s.parse().ok()?;
        return Some(IpNetwork::from(ip));
    }
    let addr: IpAddr = v.pointer("/prefix/addr")?.as_str()?.parse().ok()?;
    let len = u8::try_from(v.pointer("/prefix/len")?.as_u64()?).ok()?;
    IpNetwork::new(addr, len).ok()
}

/// The rules in vnet's table in the calling thread's namespace, with handles; empty
/// when the table does not exist.
pub fn list(table_exists_hint: bool) -> Result<Vec<FoundRule>, String> {
    if !table_exists_hint {
        return Ok(Vec::new());
    }
    match run_nft(&["-j", "-a", "list", "table", "inet", NFT_TABLE], None) {
        Ok(json) => parse_rules(&json),
        Err((_, err)) if err.contains("No such file or directory") => Ok(Vec::new()),
        Err((_, err)) => Err(err),
    }
}

/// Adds `rule` in the calling thread's namespace; adding a rule that is there already
/// does nothing (no duplicates, plugins #215).
pub fn add(rule: &NatRule) -> Result<(), String> {
    let have = list(true)?;
    let want = NatRule {
        source: canonical(rule.source),
        out: rule.out.clone(),
    };
    if have.iter().any(|f| f.rule == want) {
        return Ok(());
    }
    run_nft(&["-f", "-"], Some(&add_script(&want)))
        .map(drop)
        .map_err(|(_, e)| e)
}

/// Deletes `rule` in the calling thread's namespace, and the table with the last rule.
/// A rule that is not there is not an error.
pub fn delete(rule: &NatRule) -> Result<(), String> {
    let have = list(true)?;
    let want = NatRule {
        source: canonical(rule.source),
        out: rule.out.clone(),
    };
    let Some(found) = have.iter().find(|f| f.rule == want) else {
        return Ok(());
    };
    let last = have.iter().all(|f| f.rule == want);
    run_nft(&["-f", "-"], Some(&delete_script(found, last)))
        .map(drop)
        .map_err(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "vnet", "handle": 1}}, {"chain": {"family": "inet", "table": "vnet", "name": "postrouting", "handle": 1, "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}}, {"rule": {"family": "inet", "table": "vnet", "chain": "postrouting", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "198.18.0.0", "len": 24}}}}, {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth1"}}, {"masquerade": null}]}}, {"rule": {"family": "inet", "table": "vnet", "chain": "postrouting", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "198.18.0.5"}}, {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth1"}}, {"masquerade": null}]}}]}"#;

    #[test]
    fn parses_prefix_and_host_rules_with_handles() {
        let rules = parse_rules(LISTING).unwrap();
        assert_eq!(
            rules,
            vec![
                FoundRule {
                    rule: NatRule {
                        source: "198.18.0.0/24".parse().unwrap(),
                        out: "eth1".into()
                    },
                    chain: CHAIN.into(),
                    handle: 2
                },
                FoundRule {
                    rule: NatRule {
                        source: "198.18.0.5/32".parse().unwrap(),
                        out: "eth1".into()
                    },
                    chain: CHAIN.into(),
                    handle: 3
                },
            ]
        );
    }

    #[test]
    fn script_uses_the_canonical_prefix() {
        let s = add_script(&NatRule {
            source: "198.18.0.7/24".parse().unwrap(),
            out: "eth1".into(),
        });
        assert!(
            s.contains("ip saddr 198.18.0.0/24 oifname \"eth1\" masquerade"),
            "{s}"
        );
        assert!(s.contains("table inet vnet"));
    }
}
