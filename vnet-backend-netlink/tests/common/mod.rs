//! Test harness for kernel tests: each test re-executes itself inside a private network
//! and mount namespace (`unshare --net --mount --propagation private`), where a private
//! tmpfs on `/run/netns` holds the sandbox's namespaces. Nothing a test does is visible
//! to the machine: not its links, not its namespaces, not its `/run/netns` files.
#![allow(dead_code)]

use std::process::Command;

use serde_json::Value;

pub mod vm;

/// Marks the re-executed child.
const CHILD_ENV: &str = "VNET_NETLINK_TEST_CHILD";

/// Runs `body` in a private network and mount namespace. `name` is the test's name (for
/// `--exact`). Without root: fails when `CI` is set, else prints the skip reason.
pub fn isolated(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        std::fs::create_dir_all("/run/netns").expect("mkdir /run/netns");
        nix::mount::mount(
            Some("tmpfs"),
            "/run/netns",
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .expect("private tmpfs on /run/netns");
        body();
        return;
    }
    if !nix::unistd::Uid::effective().is_root() {
        let reason = "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create network namespaces";
        if std::env::var_os("CI").is_some() {
            panic!("{name}: {reason}, and CI must not skip kernel tests");
        }
        eprintln!("SKIPPED: {name}: {reason}");
        return;
    }
    let exe = std::env::current_exe().expect("test executable");
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .status()
        .expect("run unshare (util-linux)");
    assert!(
        status.success(),
        "{name} failed in its private namespace: {status}"
    );
}

/// Runs a command and returns its stdout; panics with stderr on failure.
pub fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a command succeeds.
pub fn succeeds(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `ip -n NS -d -j link show` as JSON.
pub fn ip_json(ns: &str, what: &[&str]) -> Value {
    let mut argv = vec!["ip", "-n", ns, "-d", "-j"];
    argv.extend_from_slice(what);
    let text = run(&argv);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{argv:?}: {e}: {text}"))
}

/// The link `name` in `ip -n NS -d -j link` output.
pub fn link(ns: &str, name: &str) -> Value {
    let links = ip_json(ns, &["link", "show"]);
    links
        .as_array()
        .expect("array")
        .iter()
        .find(|l| l["ifname"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no link {name} in {ns}: {links}"))
}

/// `ping -c1 -W1 TO` from inside namespace `ns` (retried a few times: ARP, and STP-less
/// bridge ports need a moment after they come up).
pub fn ping(ns: &str, to: &str) -> bool {
    (0..5).any(|_| succeeds(&["ip", "netns", "exec", ns, "ping", "-c1", "-W1", to]))
}

/// Everything a test compares to prove "as before": per namespace in `/run/netns`
/// (sorted), links, addresses and routes from `ip -d -j` (with counters that change by
/// themselves removed), IPv4/IPv6 forwarding and every link's disable_ipv6, and the
/// nft ruleset; plus the root test namespace's links.
pub fn snapshot() -> String {
    let mut out = String::new();
    let mut names: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    out.push_str(&format!("netns: {names:?}\n"));
    let mut targets: Vec<Option<String>> = vec![None];
    targets.extend(names.into_iter().map(Some));
    for ns in targets {
        let prefix: Vec<String> = match &ns {
            Some(n) => vec!["ip".into(), "-n".into(), n.clone()],
            None => vec!["ip".into()],
        };
        for what in [["link", "show"], ["address", "show"], ["route", "show"]] {
            let mut argv: Vec<String> = prefix.clone();
            argv.extend(["-d", "-j"].map(String::from));
            argv.extend(what.map(String::from));
            let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
            let mut v: Value = serde_json::from_str(&run(&refs)).expect("ip json");
            scrub(&mut v);
            out.push_str(&format!("{ns:?} {what:?}: {v}\n"));
        }
        let exec: Vec<String> = match &ns {
            Some(n) => vec!["ip".into(), "netns".into(), "exec".into(), n.clone()],
            None => vec![],
        };
        let mut argv = exec.clone();
        argv.extend(["sh", "-c", "grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/*/forwarding /proc/sys/net/ipv6/conf/*/disable_ipv6 2>/dev/null | sort; nft list ruleset"].map(String::from));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        out.push_str(&run(&refs));
    }
    out
}

/// Removes fields that change without anyone changing the configuration.
fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in [
                "stats",
                "stats64",
                "operstate",
                "linkinfo_stats",
                "valid_life_time",
                "preferred_life_time",
                "carrier_changes",
                "carrier_up_count",
                "carrier_down_count",
                "hello_timer",
                "tcn_timer",
                "topology_change_timer",
                "gc_timer",
                "root_id",
                "bridge_id",
                "root_port",
                "root_path_cost",
                "topology_change",
                "topology_change_detected",
                "state",
                "designated_root",
                "designated_bridge",
                "designated_port",
                "designated_cost",
                "port_id",
                "port_no",
                "forward_delay_timer",
                "hold_timer",
                "message_age_timer",
                "config_pending",
                "proxy_arp",
                "vlan_stats_enabled",
            ] {
                map.remove(k);
            }
            // Carrier follows the peer asynchronously; the admin state (UP) stays.
            if let Some(Value::Array(flags)) = map.get_mut("flags") {
                flags.retain(|f| !matches!(f.as_str(), Some("LOWER_UP" | "NO-CARRIER" | "M-DOWN")));
            }
            for (_, x) in map.iter_mut() {
                scrub(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}
