//! `vnet plan` and `vnet render` end to end, and the embedding example.
//!
//! The plan of the article's topology must list its steps in the article's order
//! (namespaces, veth pairs, the bridge, its ports, addresses, routes, forwarding); the
//! scripts and files `render` prints must be exactly what the shell backend's golden
//! files hold for the same topology; persistence files go under `--root` and nowhere else.

use std::path::{Path, PathBuf};

use vnet_core::plan::{compile, Plan, Scope};
use vnet_core::{Document, Format};

use crate::common::{code, seed, seed_path, stderr, stdout, vnet, TempDir};

#[allow(dead_code)] // its `main` is the example's, not the test's
#[path = "../../examples/embed.rs"]
mod embed;

fn seed_arg() -> String {
    seed_path().to_str().expect("UTF-8 path").to_string()
}

/// The shell backend's golden case `case`: (topology text, expected output).
fn golden(case: &str) -> (String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vnet-backend-shell/tests/golden")
        .join(case);
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("golden {case}/{f}: {e}"))
    };
    (read("topology.toml"), read("expected"))
}

/// The numbered step lines of a listing: (number, description).
fn steps(listing: &str) -> Vec<(usize, String)> {
    listing
        .lines()
        .filter_map(|l| {
            let (n, rest) = l.trim_start().split_once(". ")?;
            Some((n.parse().ok()?, rest.to_string()))
        })
        .collect()
}

/// The number of the first step whose description starts with `prefix`.
fn first(steps: &[(usize, String)], prefix: &str) -> usize {
    steps
        .iter()
        .find(|(_, d)| d.starts_with(prefix))
        .map(|(n, _)| *n)
        .unwrap_or_else(|| panic!("no step `{prefix}...` in {steps:#?}"))
}

/// The number of the last step whose description starts with `prefix`.
fn last(steps: &[(usize, String)], prefix: &str) -> usize {
    steps
        .iter()
        .rev()
        .find(|(_, d)| d.starts_with(prefix))
        .map(|(n, _)| *n)
        .unwrap_or_else(|| panic!("no step `{prefix}...` in {steps:#?}"))
}

#[test]
fn plan_lists_the_article_in_its_order() {
    let o = vnet(&["plan", &seed_arg()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("# plan for topology `article`: 56 steps in "),
        "{out}"
    );
    let s = steps(&out);
    let numbers: Vec<usize> = s.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (1..=56).collect::<Vec<_>>(), "numbered 1..=56");

    // The article's order: namespaces, veth pairs, bridge, ports, addresses, routes,
    // forwarding.
    let order = [
        last(&s, "create namespace"),
        first(
            &s,
            "create veth pair veth1 (00:12:34:56:78:9A) <-> ct router:eth0",
        ),
        first(&s, "create bridge br0 (F2:1F:9D:D4:F7:CC, STP off)"),
        first(&s, "add port veth1 to bridge br0"),
        first(&s, "add address 192.168.199.1/24 to eth0"),
        first(&s, "add route 192.168.0.0/16 via 192.168.199.1"),
        first(&s, "set net.ipv4.ip_forward = 1"),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "out of order: {order:?}\n{out}"
    );
    assert!(first(&s, "create veth pair veth3") < first(&s, "create bridge br0"));
    assert!(last(&s, "add port veth") < first(&s, "add address"));
    assert!(last(&s, "add address") < first(&s, "add route"));
    assert_eq!(last(&s, "set net.ipv4.ip_forward"), 56, "forwarding last");

    // Grouped by namespace, each step with its command in that namespace.
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with(". add address 192.168.199.2/24 to eth0"))
        .expect("mail's address step");
    let header = lines[..at]
        .iter()
        .rev()
        .find(|l| l.starts_with("## "))
        .expect("a group header above the step");
    assert_eq!(*header, "## ct mail (vnet-mail)", "{out}");
    assert_eq!(
        lines[at + 1].trim(),
        "ip -n vnet-mail address add 192.168.199.2/24 dev eth0",
        "{out}"
    );
    assert!(out.contains("ip netns add vnet-router\n"), "{out}");
    assert!(
        out.contains("ip netns exec vnet-router sysctl -qw net/ipv4/ip_forward=1"),
        "{out}"
    );
}

#[test]
fn plan_prefix_node_and_teardown() {
    let o = vnet(&["plan", &seed_arg(), "--prefix", "lab"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("## ct mail (lab-mail)") && out.contains("ip netns add lab-m1"));
    assert!(!out.contains("vnet-"), "{out}");

    let o = vnet(&["plan", &seed_arg(), "--node", "m1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("## node m1 (this namespace)"), "{out}");
    assert!(
        !out.contains("ip netns add"),
        "a node creates no namespaces: {out}"
    );
    assert!(
        out.contains("move eth1 into ct router as eth1"),
        "the NIC is moved in: {out}"
    );

    let o = vnet(&["plan", &seed_arg(), "--teardown"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = steps(&stdout(&o));
    assert_eq!(s.len(), 7, "one namespace deletion each: {s:?}");
    assert!(s.iter().all(|(_, d)| d.starts_with("delete namespace")));
    assert!(
        first(&s, "delete namespace ct") < first(&s, "delete namespace node"),
        "containers before nodes: {s:?}"
    );
}

#[test]
fn plan_json_is_the_planners_plan() {
    let o = vnet(&["--output", "json", "plan", &seed_arg()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("one JSON document");
    assert_eq!(doc["topology"], "article");
    let steps = doc["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 56);
    assert_eq!(steps[0]["id"], 0);
    assert!(steps[0]["action"].is_object());

    let read = Plan::from_json(&text).expect("the plan reads back");
    let valid = Document::parse(&seed(), Format::Toml)
        .unwrap()
        .validate()
        .unwrap();
    assert_eq!(read, compile(&valid, &Scope::Sandbox));

    let o = vnet(&["--output", "json", "plan", &seed_arg(), "--node", "m2"]);
    assert_eq!(code(&o), 0);
    let read = Plan::from_json(&stdout(&o)).unwrap();
    assert_eq!(read, compile(&valid, &Scope::Node("m2".into())));
}

#[test]
fn plan_and_render_exit_codes() {
    let dir = TempDir::new("plan-invalid");
    let broken = seed().replacen("00:12:34:56:78:9F", "00:12:34:56:78:9D", 1);
    let file = dir.write("mac.toml", &broken);
    for args in [
        vec!["plan", file.as_str()],
        vec!["render", file.as_str(), "--dialect", "vzctl"],
        vec!["render", file.as_str(), "--dialect", "etcnet"],
    ] {
        let o = vnet(&args);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "nothing rendered for {args:?}");
        assert!(stderr(&o).contains("mac-duplicate"), "{}", stderr(&o));
    }
    let o = vnet(&["plan", "/nonexistent/vnet/t.toml"]);
    assert_eq!(code(&o), 1);

    let seed = seed_arg();
    for args in [
        vec!["plan", seed.as_str(), "--node", "m9"],
        vec!["plan", seed.as_str(), "--prefix", "../etc"],
        vec!["plan", seed.as_str(), "--node", "m1", "--sandbox"],
        vec!["render", seed.as_str()],
        vec!["render", seed.as_str(), "--dialect", "bash"],
        vec![
            "render",
            seed.as_str(),
            "--dialect",
            "vzctl",
            "--node",
            "m9",
        ],
        vec![
            "render",
            seed.as_str(),
            "--dialect",
            "vzctl",
            "--root",
            "/tmp",
        ],
    ] {
        let o = vnet(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn render_scripts_equal_the_shell_backends_golden_files() {
    for (case, args) in [
        ("seed-vzctl", vec!["--dialect", "vzctl"]),
        ("seed-vzctl", vec!["--dialect", "vzctl", "--node", "m1"]),
        ("seed-vzctl-m2", vec!["--dialect", "vzctl", "--node", "m2"]),
        (
            "seed-vzctl-netif-ip",
            vec![
                "--dialect",
                "vzctl",
                "--veth-style",
                "netif-add",
                "--bridge-tool",
                "iproute2",
            ],
        ),
        ("seed-iproute2", vec!["--dialect", "iproute2"]),
        (
            "seed-iproute2",
            vec!["--dialect", "iproute2", "--sandbox", "--prefix", "vnet"],
        ),
        ("seed-etcnet", vec!["--dialect", "etcnet", "--node", "m1"]),
        ("seed-networkd", vec!["--dialect", "networkd"]),
        ("seed-sysctl", vec!["--dialect", "sysctl"]),
        ("seed-vz", vec!["--dialect", "vz"]),
    ] {
        let (topology, expected) = golden(case);
        assert_eq!(topology, seed(), "golden {case} renders the seed");
        let mut full = vec!["render".to_string(), seed_arg()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let o = vnet(&full);
        assert_eq!(code(&o), 0, "{full:?}: {}", stderr(&o));
        assert_eq!(
            stdout(&o),
            expected,
            "vnet {full:?} differs from golden {case}"
        );
    }
}

/// The text of `rel` under `root`.
fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn render_etcnet_writes_the_articles_files_under_root() {
    let dir = TempDir::new("etcnet-root");
    let root: PathBuf = dir.0.join("m1");
    let root_arg = root.to_str().unwrap();
    let o = vnet(&[
        "render",
        &seed_arg(),
        "--dialect",
        "etcnet",
        "--root",
        root_arg,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mail = "var/lib/vz/private/102/etc/net/ifaces/eth0";
    assert_eq!(
        read(&root, &format!("{mail}/ipv4address")),
        "192.168.199.2/24\n"
    );
    assert_eq!(
        read(&root, &format!("{mail}/ipv4route")),
        "192.168.0.0/16 via 192.168.199.1 dev eth0\n"
    );
    let options = read(&root, &format!("{mail}/options"));
    for line in ["BOOTPROTO=static", "ONBOOT=yes", "TYPE=eth"] {
        assert!(options.lines().any(|l| l == line), "{options}");
    }
    assert_eq!(
        read(
            &root,
            "var/lib/vz/private/101/etc/net/ifaces/eth1/ipv4address"
        ),
        "192.168.46.200/24\n"
    );
    assert!(read(&root, "etc/net/ifaces/br0/options").contains("TYPE=bri"));
    // What was written is listed, one line per file, each under the root.
    let out = stdout(&o);
    let wrote: Vec<&str> = out.lines().filter(|l| l.starts_with("wrote ")).collect();
    assert!(wrote.len() >= 8, "{out}");
    assert!(
        wrote
            .iter()
            .all(|l| l.starts_with(&format!("wrote {root_arg}/"))),
        "{out}"
    );
    assert!(
        out.contains(&format!("wrote {root_arg}/{mail}/ipv4address (0644)")),
        "{out}"
    );

    // JSON lists the same files with their contents.
    let o = vnet(&[
        "--output",
        "json",
        "render",
        &seed_arg(),
        "--dialect",
        "etcnet",
    ]);
    assert_eq!(code(&o), 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["dialect"], "etcnet");
    assert_eq!(doc["node"], "m1");
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), wrote.len());
    let addr = files
        .iter()
        .find(|f| f["path"] == format!("{mail}/ipv4address"))
        .expect("mail's address file");
    assert_eq!(addr["contents"], "192.168.199.2/24\n");
    assert_eq!(addr["mode"], "0644");
}

#[test]
fn render_etcnet_warns_that_a_stretched_bridge_loses_its_tunnel() {
    let stretch = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/stretch.toml");
    let dir = TempDir::new("etcnet-stretch");
    let root = dir.0.join("m2");
    let root_arg = root.to_str().unwrap();
    let args = ["render", stretch, "--dialect", "etcnet", "--node", "m2"];
    let o = vnet(&[&args[..], &["--root", root_arg]].concat());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let warning = "warning: bridge br0 is stretched across nodes, and etcnet has no VXLAN \
                   type: these files do not create its tunnel vx-br0 at boot";
    assert!(stderr(&o).contains(warning), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("warning"),
        "stdout is the list of files"
    );
    // The bridge itself is still written.
    assert!(read(&root, "etc/net/ifaces/br0/options").contains("TYPE=bri"));

    let o = vnet(&[&["--output", "json"], &args[..]].concat());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "JSON carries the warnings");
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let warnings = doc["warnings"].as_array().expect("a warnings array");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("vx-br0"));

    // networkd renders the tunnel: nothing to warn about.
    let o = vnet(&["render", stretch, "--dialect", "networkd", "--node", "m2"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert!(stdout(&o).contains("Kind=vxlan"));
    // Nor is there for the seed, which stretches nothing.
    let o = vnet(&["render", &seed_arg(), "--dialect", "etcnet"]);
    assert_eq!((code(&o), stderr(&o)), (0, String::new()));
}

#[test]
fn render_refuses_to_write_through_a_symlink_out_of_the_root() {
    let dir = TempDir::new("etcnet-escape");
    let root = dir.0.join("root");
    let outside = dir.0.join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("var")).unwrap();
    let o = vnet(&[
        "render",
        &seed_arg(),
        "--dialect",
        "etcnet",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("refusing"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside the root"
    );
}

#[test]
fn render_json_scripts() {
    let o = vnet(&[
        "--output",
        "json",
        "render",
        &seed_arg(),
        "--dialect",
        "vzctl",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["dialect"], "vzctl");
    assert_eq!(doc["node"], "m1");
    assert_eq!(doc["script"], golden("seed-vzctl").1);
}

#[test]
fn the_embed_example_plans_its_topology() {
    let text = embed::plan_listing().expect("the embedded topology is valid");
    assert!(
        text.starts_with("# plan for topology `embedded`: "),
        "{text}"
    );
    let s = steps(&text);
    assert!(
        last(&s, "create namespace") < first(&s, "create veth pair vr0")
            && first(&s, "create bridge br0") < first(&s, "add port vr0 to bridge br0")
            && first(&s, "add address 198.18.0.2/24 to eth0")
                < first(&s, "add route 0.0.0.0/0 via 198.18.0.1")
            && first(&s, "add port vr2 to bridge br0") < first(&s, "set net.ipv4.ip_forward = 1"),
        "{text}"
    );
    for ns in ["lab1", "router", "web", "db"] {
        assert!(
            text.contains(&format!("ip netns add embed-{ns}\n")),
            "{text}"
        );
    }
    assert!(
        text.contains("ip -n embed-web address add 198.18.0.2/24 dev eth0"),
        "{text}"
    );
}

#[test]
fn plan_and_render_have_help_with_examples_and_completions() {
    for sub in ["plan", "render"] {
        let o = vnet(&[sub, "--help"]);
        assert_eq!(code(&o), 0);
        let help = stdout(&o);
        assert!(
            help.contains("Examples:") && help.contains("Exit codes:"),
            "{sub}: {help}"
        );
    }
    let help = stdout(&vnet(&["render", "--help"]));
    for dialect in ["vzctl", "iproute2", "etcnet", "networkd", "sysctl", "vz"] {
        assert!(
            help.contains(dialect),
            "render --help lacks {dialect}: {help}"
        );
    }
    let script = stdout(&vnet(&["completions", "bash"]));
    assert!(
        script.contains("render") && script.contains("etcnet"),
        "bash completes render's dialects"
    );
}
