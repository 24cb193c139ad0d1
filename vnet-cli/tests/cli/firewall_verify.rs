//! Issue 20 in the kernel: a topology with port forwards and filter policies applies with
//! plain `vnet apply`, and `vnet verify` proves both what must pass (SMTP from the LAN
//! through the router's forward to mail; PostgreSQL from mail to dbms) and what must not
//! (PostgreSQL and pings from the LAN into the containers), by TCP probes and the ICMP
//! matrix. With the router's table flushed, verify and diff exit 3 and apply repairs it.
//!
//! Runs in private namespaces ([`vnet_testkit::isolated`]); needs root and `nft`.

use serde_json::Value;
use vnet_testkit::isolated;

use crate::kernel::{expect, run_steps};

/// The firewall topology: `examples/firewall.toml` once it exists, else the fixture copy
/// of it in vnet-core's tests (the same network). Either keeps gw46's route to
/// 192.168.199.0/24, so that what stops the LAN is the filter, not a missing route.
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
            let steps = run_steps(&[
                (
                    "apply",
                    &format!("$VNET --output json apply {file} --sandbox"),
                ),
                (
                    "verify",
                    &format!("$VNET --output json verify {file} --sandbox"),
                ),
                ("human", &format!("$VNET verify {file} --sandbox")),
                // The router's firewall gone: the forward no longer reaches mail and the
                // LAN gets into the containers. Verify and diff say so; apply repairs.
                ("flush", "ip netns exec vnet-router nft flush ruleset"),
                (
                    "flushed",
                    &format!("$VNET --output json verify {file} --sandbox --timeout 1000"),
                ),
                ("drift", &format!("$VNET diff {file} --sandbox")),
                (
                    "repair",
                    &format!("$VNET --output json apply {file} --sandbox"),
                ),
                (
                    "repaired",
                    &format!("$VNET --output json verify {file} --sandbox"),
                ),
                ("destroy", &format!("$VNET destroy {file} --sandbox")),
            ]);
            expect(&steps, "apply", 0);
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
            // ICMP honours the filters too: the LAN's echo to mail is dropped by the router.
            let ping = probe(probes, "host gw46", "192.168.199.2", "icmp", None);
            assert_eq!(
                (&ping["expected"], &ping["seen"]),
                (&Value::Bool(false), &Value::Bool(false)),
                "{ping}"
            );
            let human = &expect(&steps, "human", 0).stdout;
            assert!(human.contains("192.168.46.200 tcp/25 (ct mail)"), "{human}");
            assert!(human.contains("TCP/UDP flows:"), "{human}");

            let flushed = expect(&steps, "flushed", 3).json();
            let flushed = flushed["probes"].as_array().unwrap();
            let smtp = probe(flushed, "host gw46", "192.168.46.200", "tcp", Some(25));
            assert_eq!(smtp["seen"], false, "no forward, no SMTP: {smtp}");
            let ping = probe(flushed, "host gw46", "192.168.199.2", "icmp", None);
            assert_eq!(
                (&ping["expected"], &ping["seen"]),
                (&Value::Bool(false), &Value::Bool(true)),
                "{ping}"
            );
            let drift = expect(&steps, "drift", 3);
            assert!(drift.stdout.contains("router"), "{}", drift.stdout);
            expect(&steps, "repair", 0);
            assert_eq!(expect(&steps, "repaired", 0).json()["matched"], true);

            expect(&steps, "destroy", 0);
        },
    );
}

/// The fixture's router forward policy (and dbms's input policy) replaced by `router` (and
/// `dbms`): sections in TOML, inserted where the fixture has its own.
fn variant(router: &str, dbms: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vnet-core/tests/fixtures/firewall.toml");
    let text = std::fs::read_to_string(path).expect("the fixture is readable");
    let forward =
        "[ct.firewall.forward]\npolicy = \"drop\"\nallow = [{ from = \"192.168.199.0/24\" }]\n";
    let input = "[ct.firewall.input]\npolicy = \"drop\"\nallow = [{ from = \"mail\", proto = \"tcp\", port = 5432 }]\n";
    assert!(text.contains(forward) && text.contains(input));
    text.replace(forward, router).replace(input, dbms)
}

/// Other policies, applied one after the other onto the same sandbox: each time verify
/// (every ICMP pair and every flow the rules decide) agrees with the kernel, so the
/// simulation's reading of the filters is the kernel's, not only for the example.
#[test]
fn other_policies_verify_as_the_kernel_filters() {
    isolated(
        "firewall_verify::other_policies_verify_as_the_kernel_filters",
        || {
            let dir = crate::common::TempDir::new("firewall-variants");
            // The router's own services: DNS for the containers only; mail takes SMTP from
            // anyone, nothing else; a UDP forward to mail.
            let a = dir.write(
            "a.toml",
            &variant(
                "[[ct.port_forward]]\nproto = \"udp\"\naddress = \"192.168.46.200\"\nport = 5353\nto = \"192.168.199.2\"\n\n\
                 [ct.firewall.input]\npolicy = \"drop\"\nallow = [{ from = \"192.168.199.0/24\", proto = \"udp\", port = 53 }]\n",
                "",
            )
            .replace(
                "[[ct]]\nid = 103",
                "[ct.firewall.input]\npolicy = \"drop\"\nallow = [{ proto = \"tcp\", port = 25 }]\n\n[[ct]]\nid = 103",
            ),
        );
            // The LAN host may reach dbms's PostgreSQL and nothing else; dbms filters nothing.
            let b = dir.write(
            "b.toml",
            &variant(
                "[ct.firewall.forward]\npolicy = \"drop\"\nallow = [{ from = \"192.168.199.0/24\" }, { from = \"gw46\", to = \"dbms\", proto = \"tcp\", port = 5432 }]\n",
                "",
            ),
        );
            let steps = run_steps(&[
                (
                    "apply_a",
                    &format!("$VNET --output json apply {a} --sandbox"),
                ),
                (
                    "verify_a",
                    &format!("$VNET --output json verify {a} --sandbox --timeout 1500"),
                ),
                (
                    "apply_b",
                    &format!("$VNET --output json apply {b} --sandbox"),
                ),
                (
                    "verify_b",
                    &format!("$VNET --output json verify {b} --sandbox --timeout 1500"),
                ),
                ("destroy", &format!("$VNET destroy {b} --sandbox")),
            ]);
            expect(&steps, "apply_a", 0);
            let va = expect(&steps, "verify_a", 0).json();
            let pa = va["probes"].as_array().unwrap();
            let dns = probe(pa, "ct dbms", "192.168.199.1", "udp", Some(53));
            assert_eq!(
                (&dns["expected"], &dns["seen"]),
                (&Value::Bool(true), &Value::Bool(true)),
                "{dns}"
            );
            let dns = probe(pa, "host gw46", "192.168.199.1", "udp", Some(53));
            assert_eq!(
                (&dns["expected"], &dns["seen"]),
                (&Value::Bool(false), &Value::Bool(false)),
                "{dns}"
            );
            let udp = probe(pa, "host gw46", "192.168.46.200", "udp", Some(5353));
            assert_eq!(udp["to_ns"], "ct mail", "{udp}");
            // mail's input policy lets only SMTP in: the UDP forward reaches mail's filter.
            assert_eq!(
                (&udp["expected"], &udp["seen"]),
                (&Value::Bool(false), &Value::Bool(false)),
                "{udp}"
            );
            let smtp = probe(pa, "host gw46", "192.168.46.200", "tcp", Some(25));
            assert_eq!(
                (&smtp["expected"], &smtp["seen"]),
                (&Value::Bool(true), &Value::Bool(true)),
                "{smtp}"
            );

            expect(&steps, "apply_b", 0);
            let vb = expect(&steps, "verify_b", 0).json();
            let pb = vb["probes"].as_array().unwrap();
            let pg = probe(pb, "host gw46", "192.168.199.3", "tcp", Some(5432));
            assert_eq!(
                (&pg["expected"], &pg["seen"]),
                (&Value::Bool(true), &Value::Bool(true)),
                "{pg}"
            );
            expect(&steps, "destroy", 0);
        },
    );
}
