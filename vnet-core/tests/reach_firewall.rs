//! The expected matrix with port forwards and filters: what must pass and what must not,
//! ICMP and TCP/UDP, computed by simulating the model's policy.

use proptest::prelude::*;
use vnet_core::reach::{by_class, expectations, flows, full, Expectation, ProbeProto, Role};
use vnet_core::{Document, Format, ValidTopology};

fn fixture() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/firewall.toml"
    ))
    .unwrap()
}

fn load(text: &str) -> ValidTopology {
    Document::parse(text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap()
}

fn ping(t: &ValidTopology, from: &str, to: &str) -> Expectation {
    let to: std::net::IpAddr = to.parse().unwrap();
    expectations(t)
        .into_iter()
        .find(|e| e.from.name() == from && e.to == to)
        .unwrap_or_else(|| panic!("no ping {from} -> {to}"))
}

fn flow(t: &ValidTopology, from: &str, to: &str, port: u16) -> Expectation {
    let to: std::net::IpAddr = to.parse().unwrap();
    let all = flows(t);
    all.iter()
        .find(|e| e.from.name() == from && e.to == to && e.flow.port == Some(port))
        .cloned()
        .unwrap_or_else(|| panic!("no flow {from} -> {to}:{port} in {all:#?}"))
}

#[test]
fn a_port_forward_reaches_its_target_from_the_lan_through_a_drop_policy() {
    let t = load(&fixture());
    for port in [25, 587] {
        let e = flow(&t, "gw46", "192.168.46.200", port);
        assert!(e.reachable, "{e:#?}");
        assert_eq!(e.flow.proto, ProbeProto::Tcp);
        // Delivered to mail, which listens on the same port.
        assert_eq!(e.to_ns.name(), "mail");
        assert_eq!(e.flow.listen_port, Some(port));
        assert!(
            e.reason.contains("forwards to 192.168.199.2"),
            "{}",
            e.reason
        );
    }
}

#[test]
fn allow_rules_give_a_passing_and_a_denied_flow_and_say_which_policy_drops() {
    let t = load(&fixture());
    let ok = flow(&t, "mail", "192.168.199.3", 5432);
    assert!(ok.reachable, "{ok:#?}");
    assert_eq!(ok.to_ns.name(), "dbms");
    let denied = flow(&t, "gw46", "192.168.199.3", 5432);
    assert!(!denied.reachable);
    assert!(
        denied
            .reason
            .contains("router: the forward policy drops tcp/5432"),
        "{}",
        denied.reason
    );
    // Each drop policy has a flow nothing allows: the router's forward, dbms's input.
    let through = flow(&t, "gw46", "192.168.199.3", 9);
    assert!(!through.reachable && through.reason.starts_with("router:"));
    let to_dbms = flow(&t, "mail", "192.168.199.3", 9);
    assert!(!to_dbms.reachable && to_dbms.reason.starts_with("dbms: the input policy"));
}

#[test]
fn the_icmp_matrix_honours_the_filters_and_established_replies() {
    let t = load(&fixture());
    // The LAN may not reach the containers, though it has a route.
    let e = ping(&t, "gw46", "192.168.199.2");
    assert!(
        !e.reachable && e.reason.contains("forward policy drops icmp"),
        "{e:?}"
    );
    // The containers go out (masqueraded); the reply is established.
    assert!(ping(&t, "mail", "192.168.46.1").reachable);
    // dbms answers nobody's ping, but its own pings come back.
    assert!(!ping(&t, "mail", "192.168.199.3").reachable);
    assert!(!ping(&t, "router", "192.168.199.3").reachable);
    assert!(ping(&t, "dbms", "192.168.199.2").reachable);
    // The router's own address is not filtered (it has no input policy).
    assert!(ping(&t, "gw46", "192.168.46.200").reachable);
}

#[test]
fn without_a_firewall_nothing_changes_and_there_are_no_flows() {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/seed.toml"
    ))
    .unwrap();
    let t = load(&seed);
    assert!(flows(&t).is_empty());
    assert!(expectations(&t).iter().all(|e| e.reachable));
}

#[test]
fn both_plans_carry_the_flows_once() {
    let t = load(&fixture());
    let n = flows(&t).len();
    // 2 forwards, 5432 allowed and denied, 2 drop policies.
    assert_eq!(n, 6, "{:#?}", flows(&t));
    for plan in [full(&t), by_class(&t)] {
        let f: Vec<_> = plan
            .probes
            .iter()
            .filter(|p| p.role == Role::Flow)
            .collect();
        assert_eq!(f.len(), n);
        assert!(f
            .iter()
            .all(|p| p.expectation.flow.proto != ProbeProto::Icmp));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Opening a drop policy with an allow rule for everything changes no verdict but
    /// the ones that policy dropped: those now pass (when routing lets them); and a
    /// forward answers whatever port it is written for.
    #[test]
    fn an_allow_all_rule_only_opens_what_the_policy_dropped(port in 1000u16..60000) {
        let base = fixture().replace("port = 587", &format!("port = {port}"));
        let t = load(&base);
        let e = flow(&t, "gw46", "192.168.46.200", port);
        prop_assert!(e.reachable);
        prop_assert_eq!(e.flow.listen_port, Some(port));
        let open = load(&base.replace(
            "allow = [{ from = \"192.168.199.0/24\" }]",
            "allow = [{ from = \"192.168.199.0/24\" }, {}]",
        ));
        let (before, after) = (expectations(&t), expectations(&open));
        prop_assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            prop_assert!(!b.reachable || a.reachable, "{:?} -> {:?}", b, a);
            if !b.reachable && b.reason.contains("router: the forward policy") {
                prop_assert!(a.reachable || a.reason.contains("dbms:"), "{:?}", a);
            }
        }
    }
}
