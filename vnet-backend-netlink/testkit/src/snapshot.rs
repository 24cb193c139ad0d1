//! The machine's state as a kernel test sees it, to prove "as before": after a rollback,
//! a destroy, or a refused apply, [`snapshot`] must equal the one taken before.

use serde_json::Value;

use crate::command::run;
use crate::scrub::scrub;

/// The namespaces in (the test's private) `/run/netns`, sorted; none when it is missing.
pub fn namespaces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Everything a test compares to prove "as before": the namespaces in `/run/netns`; for
/// the test's own namespace and each of them, links, addresses and routes from
/// `ip -d -j` (cleaned by [`scrub()`]), IPv4/IPv6 forwarding and every link's
/// `disable_ipv6`, and the nft ruleset.
pub fn snapshot() -> String {
    let mut out = String::new();
    let names = namespaces();
    out.push_str(&format!("netns: {names:?}\n"));
    let mut targets: Vec<Option<String>> = vec![None];
    targets.extend(names.into_iter().map(Some));
    for ns in targets {
        let prefix: Vec<&str> = match &ns {
            Some(n) => vec!["ip", "-n", n],
            None => vec!["ip"],
        };
        for what in [["link", "show"], ["address", "show"], ["route", "show"]] {
            let mut argv = prefix.clone();
            argv.extend(["-d", "-j"]);
            argv.extend(what);
            let mut v: Value = serde_json::from_str(&run(&argv)).expect("ip json");
            scrub(&mut v);
            out.push_str(&format!("{ns:?} {what:?}: {v}\n"));
        }
        let mut argv: Vec<&str> = match &ns {
            Some(n) => vec!["ip", "netns", "exec", n],
            None => vec![],
        };
        argv.extend([
            "sh",
            "-c",
            "grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/*/forwarding \
             /proc/sys/net/ipv6/conf/*/disable_ipv6 2>/dev/null | sort; nft list ruleset",
        ]);
        out.push_str(&run(&argv));
    }
    out
}
