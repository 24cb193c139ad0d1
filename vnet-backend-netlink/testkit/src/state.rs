//! The kernel state two builds of one topology must share (the shell backend's script and
//! the netlink backend, or the shell executor and its script): per namespace in
//! `/run/netns`, `ip -d -j` links, addresses, IPv4 and IPv6 routes of every table, the
//! sysctls vnet manages and the nft ruleset, with what the kernel assigns or times left
//! out ([`crate::VOLATILE`]) and NAT normalized.
//!
//! NAT is compared as the set of base-chain kinds plus the set of masquerade rules
//! (family, source, out interface), whatever chain holds them: the shell backend puts
//! each NAT rule in its own base chain `masq_<hash>` (so it can delete it by name) where
//! the netlink backend uses one `postrouting` chain.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::command::run;
use crate::scrub::scrub;
use crate::snapshot::namespaces;

/// Per namespace, per part (`link`, `address`, `route4`, `route6`, `sysctl`, `nft`).
pub type NetworkState = BTreeMap<String, BTreeMap<&'static str, Value>>;

/// The state of every namespace in `/run/netns`, once IPv6 has settled.
pub fn network_state() -> NetworkState {
    settle_ipv6();
    namespaces()
        .into_iter()
        .map(|ns| {
            let mut parts = BTreeMap::new();
            parts.insert("link", ip(&ns, &["link", "show"]));
            parts.insert("address", ip(&ns, &["address", "show"]));
            parts.insert("route4", ip(&ns, &["-4", "route", "show", "table", "all"]));
            parts.insert("route6", ip(&ns, &["-6", "route", "show", "table", "all"]));
            parts.insert("sysctl", sysctls(&ns));
            parts.insert("nft", nft(&ns));
            (ns, parts)
        })
        .collect()
}

/// Where `a` and `b` differ: a namespace only one has, or a part whose values differ
/// (both shown, `a` first). Empty when they are equal.
pub fn differences(a: &NetworkState, b: &NetworkState) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for ns in names {
        match (a.get(ns), b.get(ns)) {
            (Some(x), Some(y)) => {
                for (part, value) in x {
                    let other = &y[part];
                    if value != other {
                        out.push(format!(
                            "{ns} {part}:\n  first:  {value}\n  second: {other}"
                        ));
                    }
                }
            }
            (Some(_), None) => out.push(format!("{ns}: only in the first")),
            _ => out.push(format!("{ns}: only in the second")),
        }
    }
    out
}

/// `ip -n NS -d -j WHAT...`, scrubbed (empty output, as some `ip` versions print for no
/// routes, is an empty list).
fn ip(ns: &str, what: &[&str]) -> Value {
    let mut argv = vec!["ip", "-n", ns, "-d", "-j"];
    argv.extend_from_slice(what);
    let text = run(&argv);
    let mut v: Value = if text.trim().is_empty() {
        json!([])
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{argv:?}: {e}: {text}"))
    };
    scrub(&mut v);
    v
}

/// The sysctls vnet manages in `ns`, as path -> value (`conf/default` included: both
/// backends create some namespaces with `default.disable_ipv6 = 1`).
fn sysctls(ns: &str) -> Value {
    let text = run(&[
        "ip",
        "netns",
        "exec",
        ns,
        "sh",
        "-c",
        "grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/*/forwarding \
         /proc/sys/net/ipv6/conf/*/disable_ipv6 2>/dev/null || true",
    ]);
    let map: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once(':')).collect();
    json!(map)
}

/// `nft -j list ruleset` in `ns` with NAT normalized (see the module docs): tables, the
/// set of base-chain kinds (name left out), masquerade rules as (family, source, out),
/// any other rule with its chain.
fn nft(ns: &str) -> Value {
    let text = run(&["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"]);
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("nft json: {e}: {text}"));
    let mut tables = BTreeSet::new();
    let mut chains = BTreeSet::new();
    let mut masquerade = BTreeSet::new();
    let mut other = BTreeSet::new();
    for item in doc["nftables"].as_array().into_iter().flatten() {
        if let Some(t) = item.get("table") {
            tables.insert(format!("{} {}", t["family"], t["name"]));
        } else if let Some(c) = item.get("chain") {
            chains.insert(format!(
                "{} {} type={} hook={} prio={} policy={}",
                c["family"], c["table"], c["type"], c["hook"], c["prio"], c["policy"]
            ));
        } else if let Some(r) = item.get("rule") {
            let expr = r["expr"].as_array().cloned().unwrap_or_default();
            if expr.iter().any(|e| e.get("masquerade").is_some()) {
                let field = |want: &dyn Fn(&Value) -> bool| {
                    expr.iter()
                        .filter_map(|e| e.get("match"))
                        .find(|m| want(&m["left"]))
                        .map(|m| m["right"].to_string())
                        .unwrap_or_default()
                };
                let source = field(&|l| l["payload"]["field"] == "saddr");
                let out = field(&|l| l["meta"]["key"] == "oifname");
                masquerade.insert(format!(
                    "{} {} saddr={source} oifname={out} exprs={}",
                    r["family"],
                    r["table"],
                    expr.len()
                ));
            } else {
                let mut r = r.clone();
                scrub(&mut r);
                other.insert(r.to_string());
            }
        }
    }
    json!({ "tables": tables, "chains": chains, "masquerade": masquerade, "other": other })
}

/// Waits (at most 5 s) until no namespace holds a tentative IPv6 address. The kernel
/// gives every link with IPv6 on a link-local address and runs duplicate address
/// detection on it for about a second; until it ends the address is `tentative` and its
/// local route missing. That is timing, not configuration, so states are compared once
/// it is over.
fn settle_ipv6() {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let tentative = namespaces().into_iter().any(|ns| {
            !run(&["ip", "-n", &ns, "-6", "address", "show", "tentative"])
                .trim()
                .is_empty()
        });
        if !tentative || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
