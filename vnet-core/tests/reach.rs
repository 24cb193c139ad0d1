//! The reachability matrix `vnet verify` expects, computed from the model.

use vnet_core::plan::NsRef;
use vnet_core::reach::expectations;
use vnet_core::{Document, Format, ValidTopology};

fn load(text: &str) -> ValidTopology {
    Document::parse(text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap()
}

fn seed() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/seed.toml"
    ))
    .unwrap()
}

fn expect(t: &ValidTopology, from: &str, to: &str) -> bool {
    let to: std::net::IpAddr = to.parse().unwrap();
    let e = expectations(t);
    let found = e
        .iter()
        .find(|e| e.from.name() == from && e.to == to)
        .unwrap_or_else(|| panic!("no probe {from} -> {to} in {e:#?}"));
    found.reachable
}

#[test]
fn the_article_network_is_reachable_as_the_article_says() {
    let t = load(&seed());
    // "The router can ping .2 and .3."
    assert!(expect(&t, "router", "192.168.199.2"));
    assert!(expect(&t, "router", "192.168.199.3"));
    // mail reaches 192.168.46.1 through the router, the LAN host routing back.
    assert!(expect(&t, "mail", "192.168.46.1"));
    assert!(expect(&t, "gw46", "192.168.199.3"));
    // mail and dbms share the bridge.
    assert!(expect(&t, "mail", "192.168.199.3"));
    let e = expectations(&t);
    assert!(
        e.iter().all(|e| e.reachable),
        "{:#?}",
        e.iter().filter(|e| !e.reachable).collect::<Vec<_>>()
    );
    // 4 namespaces with addresses, 5 addresses: every pair but the own ones.
    assert_eq!(e.len(), 4 * 5 - 5);
}

#[test]
fn without_the_route_back_the_lan_is_unreachable_and_says_why() {
    let text = seed().replace(
        "route = [{ to = \"192.168.199.0/24\", via = \"192.168.46.200\" }]",
        "",
    );
    let t = load(&text);
    assert!(!expect(&t, "mail", "192.168.46.1"));
    // The router's own uplink address is on the LAN's subnet: still reachable.
    assert!(expect(&t, "gw46", "192.168.46.200"));
    let e = expectations(&t);
    let broken = e
        .iter()
        .find(|e| e.from == NsRef::Ct("mail".into()) && e.to.to_string() == "192.168.46.1")
        .unwrap();
    assert!(
        broken.reason.contains("gw46 has no route"),
        "{}",
        broken.reason
    );
}

#[test]
fn masquerade_makes_the_lan_reachable_without_a_route_back() {
    let text = seed()
        .replace(
            "route = [{ to = \"192.168.199.0/24\", via = \"192.168.46.200\" }]",
            "",
        )
        .replace(
            "[[ct.nic]]",
            "[[ct.nat]]\nsource = \"192.168.199.0/24\"\nout = \"eth1\"\n\n[[ct.nic]]",
        );
    let t = load(&text);
    assert!(expect(&t, "mail", "192.168.46.1"));
    assert!(expect(&t, "dbms", "192.168.46.1"));
    // ... but the LAN cannot reach in.
    assert!(!expect(&t, "gw46", "192.168.199.2"));
}
