//! Masquerade rules wherever an admin wrote them (`nft add rule ip nat postrouting ip
//! saddr X oifname Y masquerade`), read with `nft -j list ruleset` inside each
//! namespace. Kept apart and thin: only the rule vnet can express (source prefix, out
//! interface) is read; other rules are not the topology's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use vnet_core::plan::{NatRule, NsRef};

use crate::error::{Error, Result};
use crate::ops::nft::run_nft;
use crate::ops::nft_json::masquerade_rule;
use crate::session::Session;

/// Per namespace of `namespaces`, the masquerade rules of every table.
pub(super) fn masquerades(
    session: &mut Session<'_>,
    namespaces: &[NsRef],
) -> Result<BTreeMap<NsRef, BTreeSet<NatRule>>> {
    let mut out = BTreeMap::new();
    for ns in namespaces {
        let netns = &session.require(ns)?.netns;
        let listed = netns.run("list the nft ruleset", || {
            run_nft(&["-j", "list", "ruleset"], None)
        })?;
        let json = listed.map_err(|(_, detail)| Error::Nft {
            ns: ns.clone(),
            doing: "list ruleset".into(),
            detail,
        })?;
        let rules = parse(&json).map_err(|detail| Error::Nft {
            ns: ns.clone(),
            doing: "read the ruleset".into(),
            detail,
        })?;
        if !rules.is_empty() {
            out.insert(ns.clone(), rules);
        }
    }
    Ok(out)
}

/// The masquerade rules of an `nft -j list ruleset` document.
fn parse(json: &str) -> std::result::Result<BTreeSet<NatRule>, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("nft JSON: {e}"))?;
    let items = doc.get("nftables").and_then(Value::as_array);
    Ok(items
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("rule")?.as_object())
        .filter_map(masquerade_rule)
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_masquerade_in_the_admins_own_table_is_read() {
        // `nft -j list ruleset` after `nft add table ip nat; nft add chain ip nat post
        // { type nat hook postrouting priority 100 ; }; nft add rule ip nat post ip
        // saddr 198.18.0.0/24 oifname "eth1" masquerade` (nftables 1.0.6).
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
          {"table": {"family": "ip", "name": "nat", "handle": 1}},
          {"chain": {"family": "ip", "table": "nat", "name": "post", "handle": 1,
            "type": "nat", "hook": "postrouting", "prio": 100, "policy": "accept"}},
          {"rule": {"family": "ip", "table": "nat", "chain": "post", "handle": 2, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
              "right": {"prefix": {"addr": "198.18.0.0", "len": 24}}}},
            {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth1"}},
            {"masquerade": null}]}},
          {"rule": {"family": "ip", "table": "nat", "chain": "post", "handle": 3, "expr": [
            {"accept": null}]}}]}"#;
        let rules = super::parse(json).expect("parses");
        let found: Vec<String> = rules
            .iter()
            .map(|r| format!("{} {}", r.source, r.out))
            .collect();
        assert_eq!(found, vec!["198.18.0.0/24 eth1".to_string()]);
    }
}
