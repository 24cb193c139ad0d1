//! Issue 20 in the kernel: a topology with port forwards and filter policies applies, and
//! `vnet verify` proves both what must pass (SMTP from the LAN through the router's
//! forward to mail; PostgreSQL from mail to dbms) and what must not (PostgreSQL from the
//! LAN, anything else from the LAN into the containers, ICMP into dbms), by TCP probes
//! and the ICMP matrix.
//!
//! Runs in private namespaces ([`vnet_testkit::isolated`]); needs root and `nft`.
//!
//! Until `vnet apply` reads a whole ruleset back (the netlink backend's part of issue 20),
//! the test applies the topology without its port forwards and filters, then loads each
//! container's full ruleset ([`Ruleset::from_model`], the one `vnet apply` loads) with
//! `nft -f` in the sandbox, as apply will.

use serde_json::Value;
use vnet_core::plan::Ruleset;
use vnet_core::{Document, Format};
use vnet_testkit::isolated;

use crate::common::TempDir;
use crate::kernel::{expect, run_steps};

/// `text` without its port forwards and filter policies (the paragraphs holding them).
fn without_firewall(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.contains("[[ct.port_forward]]") && !p.contains("[ct.firewall."))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Writes `base.toml` (no firewall) and one `CT.nft` load script per container with a
/// ruleset into `dir`; returns the shell commands loading the scripts in the sandbox.
fn stage(dir: &TempDir, file: &str) -> String {
    let text = std::fs::read_to_string(file).expect("the firewall topology is readable");
    let base = without_firewall(&text);
    assert!(
        !base.contains("[ct.firewall") && !base.contains("port_forward"),
        "{base}"
    );
    dir.write("base.toml", &base);
    let t = Document::parse(&text, Format::Toml)
        .expect("parses")
        .validate()
        .expect("valid");
    let mut load = Vec::new();
    for ct in &t.topology().ct {
        if let Some(r) = Ruleset::from_model(t.topology(), ct) {
            let script = dir.write(&format!("{}.nft", ct.name), &r.load_script());
            load.push(format!("ip netns exec vnet-{} nft -f {script}", ct.name));
        }
    }
    assert!(load.len() >= 2, "the router and dbms have rulesets");
    load.join(" && ")
}

/// The shell commands removing vnet's table from the router and dbms
/// (so that `vnet destroy` meets the masquerade-only table it reads back today).
fn unstage(dir: &TempDir) -> String {
    let script = dir.write("remove.nft", &Ruleset::remove_script());
    ["router", "dbms"]
        .map(|ct| format!("ip netns exec vnet-{ct} nft -f {script}"))
        .join(" && ")
}

/// The firewall topology: `examples/firewall.toml` once it exists, else this crate's
/// fixture copy of it (the same network, see the file's header).
fn firewall_path() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = dir.join("../examples/firewall.toml");
    let path = if example.exists() {
        example
    } else {
        dir.join("../vnet-core/tests/fixtures/firewall.toml")
    };
    path.to_str().expect("UTF-8 path").to_string()
}

/// The probe `from` -> `to` of protocol `proto` (and `port`).
fn probe<'a>(
    probes: &'a [Value],
    from: &str,
    to: &str,
    proto: &str,
    port: Option<u16>,
) -> &'a Value {
    probes
        .iter()
        .find(|p| {
            p["from"] == from
                && p["to"] == to
                && p["proto"] == proto
                && p.get("port").and_then(Value::as_u64) == port.map(u64::from)
        })
        .unwrap_or_else(|| panic!("a {proto} probe {from} -> {to}:{port:?} in {probes:#?}"))
}

#[test]
fn firewall_apply_then_verify_proves_what_passes_and_what_does_not() {
    isolated(
        "firewall_verify::firewall_apply_then_verify_proves_what_passes_and_what_does_not",
        || {
            let file = firewall_path();
            let dir = TempDir::new("firewall-verify");
            let load = stage(&dir, &file);
            let base = format!("{}/base.toml", dir.0.display());
            let steps = run_steps(&[
                (
                    "apply",
                    &format!("$VNET --output json apply {base} --sandbox"),
                ),
                ("load", &load),
                (
                    "ruleset",
                    "ip netns exec vnet-router nft list table inet vnet",
                ),
                (
                    "verify",
                    &format!("$VNET --output json verify {file} --sandbox"),
                ),
                ("human", &format!("$VNET verify {file} --sandbox")),
                ("open", "ip netns exec vnet-dbms nft flush ruleset"),
                (
                    "opened",
                    &format!("$VNET --output json verify {file} --sandbox"),
                ),
                ("unload", &unstage(&dir)),
                ("destroy", &format!("$VNET destroy {file} --sandbox")),
            ]);
            expect(&steps, "apply", 0);
            expect(&steps, "load", 0);
            expect(&steps, "load", 0);
            let verify = expect(&steps, "verify", 0).json();
            assert_eq!(verify["matched"], true, "{verify:#}");
            let probes = verify["probes"].as_array().unwrap();
            for p in probes {
                assert!(
                    ["icmp", "tcp", "udp"].contains(&p["proto"].as_str().unwrap()),
                    "{p}"
                );
                assert_eq!(p["proto"] != "icmp", p.get("port").is_some(), "{p}");
            }
            // Through the forward: gw46 reaches mail's SMTP listener at the router's address.
            let smtp = probe(probes, "host gw46", "192.168.46.200", "tcp", Some(25));
            assert_eq!(smtp["to_ns"], "ct mail", "{smtp}");
            assert_eq!(
                (&smtp["expected"], &smtp["seen"]),
                (&Value::Bool(true), &Value::Bool(true)),
                "{smtp}"
            );
            assert_eq!(smtp["answer"], "echoed", "{smtp}");
            // PostgreSQL: mail yes, the LAN no (dropped by the router's forward policy).
            let pg = probe(probes, "ct mail", "192.168.199.3", "tcp", Some(5432));
            assert_eq!(
                (&pg["expected"], &pg["seen"]),
                (&Value::Bool(true), &Value::Bool(true)),
                "{pg}"
            );
            let denied = probe(probes, "host gw46", "192.168.199.3", "tcp", Some(5432));
            assert_eq!(
                (&denied["expected"], &denied["seen"]),
                (&Value::Bool(false), &Value::Bool(false)),
                "{denied}"
            );
            assert_eq!(denied["answer"], "timeout", "{denied}");
            // ICMP honours the filters too: dbms answers nobody's echo.
            let ping = probe(probes, "ct mail", "192.168.199.3", "icmp", None);
            assert_eq!(
                (&ping["expected"], &ping["seen"]),
                (&Value::Bool(false), &Value::Bool(false)),
                "{ping}"
            );
            let human = &expect(&steps, "human", 0).stdout;
            assert!(human.contains("192.168.46.200 tcp/25 (ct mail)"), "{human}");
            assert!(human.contains("TCP/UDP flows:"), "{human}");

            // Without dbms's rules, what must not pass does: verify says so, exit 3.
            let opened = expect(&steps, "opened", 3).json();
            let leaked = probe(
                opened["probes"].as_array().unwrap(),
                "ct mail",
                "192.168.199.3",
                "tcp",
                Some(9),
            );
            assert_eq!(
                (&leaked["expected"], &leaked["seen"]),
                (&Value::Bool(false), &Value::Bool(true)),
                "{leaked}"
            );
            expect(&steps, "destroy", 0);
        },
    );
}
