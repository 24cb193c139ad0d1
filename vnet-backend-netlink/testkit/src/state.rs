//! The kernel state two builds of one topology must share (the shell backend's script and
//! the netlink backend, or the shell executor and its script): per namespace in
//! `/run/netns`, `ip -d -j` links, addresses, IPv4 and IPv6 routes of every table, the
//! sysctls vnet manages and the nft ruleset, with what the kernel assigns or times left
//! out ([`crate::VOLATILE`]).
//!
//! The ruleset is compared as `nft -j list ruleset` whole (handles left out): every
//! backend writes vnet's table `inet vnet` from the same script
//! (`vnet_core::plan::Ruleset::load_script`), so the same topology leaves the same
//! tables, chains and rules, in the same order.

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

/// `nft -j list ruleset` in `ns`: its items in listing order, `metainfo` (nft's own
/// version) and handles left out.
fn nft(ns: &str) -> Value {
    let text = run(&["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"]);
    let mut doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("nft json: {e}: {text}"));
    scrub(&mut doc);
    let items: Vec<Value> = doc["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item.get("metainfo").is_none())
        .cloned()
        .collect();
    json!(items)
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
