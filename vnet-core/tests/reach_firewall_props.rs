//! Properties of the expected matrix under random filter policies on the firewall
//! fixture's router, mail and dbms: an `accept` policy filters nothing, opening a `drop`
//! policy only ever adds reachability, and every TCP/UDP flow is well formed.

use proptest::prelude::*;
use std::collections::BTreeMap;
use vnet_core::model::{Allow, FilterPolicy, Firewall, PortRange, Proto, Topology, Verdict};
use vnet_core::plan::NsRef;
use vnet_core::reach::{classes, expectations, flows, Expectation, Flow, Network, ProbeProto};
use vnet_core::{Document, Format, ValidTopology};

/// The fixture with two more LAN hosts like gw46 (.2 and .3), so that classes have
/// members a rule naming gw46 must tell apart.
fn fixture() -> Topology {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/firewall.toml"
    ))
    .unwrap();
    let mut t = Document::parse(&text, Format::Toml).unwrap().topology;
    let lan = &mut t.lan[0];
    for k in [2, 3] {
        let mut h = lan.host[0].clone();
        h.name = format!("h{k}");
        h.addresses = vec![format!("192.168.46.{k}/24").parse().unwrap()];
        lan.host.push(h);
    }
    t
}

/// The topology validated, or `None` when validation refuses this combination.
fn valid(t: &Topology) -> Option<ValidTopology> {
    let text = vnet_core::source::to_toml(t);
    Document::parse(&text, Format::Toml).ok()?.validate().ok()
}

fn allow() -> impl Strategy<Value = Allow> {
    let name = |names: &'static [&'static str]| {
        prop::option::of(prop::sample::select(names).prop_map(String::from))
    };
    let service = prop::option::of(prop::sample::select(vec![
        (Proto::Tcp, None),
        (Proto::Tcp, Some(25)),
        (Proto::Tcp, Some(5432)),
        (Proto::Udp, Some(53)),
    ]));
    (
        name(&["gw46", "mail", "192.168.199.0/24", "192.168.46.0/24"]),
        name(&["dbms", "mail", "192.168.199.3", "192.168.46.1"]),
        service,
    )
        .prop_map(|(from, to, service)| Allow {
            from,
            to,
            proto: service.map(|(p, _)| p),
            port: service.and_then(|(_, port)| port.map(PortRange::single)),
        })
}

fn policy() -> impl Strategy<Value = Option<FilterPolicy>> {
    prop::option::of(
        (
            prop::sample::select(vec![Verdict::Accept, Verdict::Drop]),
            prop::collection::vec(allow(), 0..3),
        )
            .prop_map(|(policy, allow)| FilterPolicy { policy, allow }),
    )
}

/// (router forward, router input, mail input, dbms input).
type Policies = (
    Option<FilterPolicy>,
    Option<FilterPolicy>,
    Option<FilterPolicy>,
    Option<FilterPolicy>,
);

fn with(p: &Policies) -> Topology {
    let mut t = fixture();
    for ct in &mut t.ct {
        let (forward, input) = match ct.name.as_str() {
            "router" => (p.0.clone(), p.1.clone()),
            "mail" => (None, p.2.clone()),
            "dbms" => (None, p.3.clone()),
            _ => (None, None),
        };
        ct.firewall = (forward.is_some() || input.is_some()).then_some(Firewall { forward, input });
    }
    t
}

fn opened(p: &Option<FilterPolicy>) -> Option<FilterPolicy> {
    p.clone().map(|f| FilterPolicy {
        policy: Verdict::Accept,
        ..f
    })
}

type Key = (NsRef, std::net::IpAddr, Flow);

fn by_key(e: Vec<Expectation>) -> BTreeMap<Key, Expectation> {
    e.into_iter()
        .map(|e| ((e.from.clone(), e.to, e.flow), e))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn accept_filters_nothing_and_opening_a_drop_only_adds(p in (policy(), policy(), policy(), policy())) {
        let Some(t) = valid(&with(&p)) else { return Ok(()) };
        // Every flow is TCP or UDP with a port, delivered somewhere that listens.
        for f in flows(&t) {
            prop_assert!(f.flow.proto != ProbeProto::Icmp && f.flow.port.is_some(), "{:?}", f);
            prop_assert!(f.flow.listen_port.is_some(), "{:?}", f);
        }
        // Classes stay sound: alike endpoints get alike verdicts (per target address slot).
        let net = Network::from_topology(&t);
        let class: BTreeMap<NsRef, usize> = classes(&net)
            .into_iter()
            .enumerate()
            .flat_map(|(k, members)| members.into_iter().map(move |m| (m, k)))
            .collect();
        let mut slots: BTreeMap<NsRef, Vec<std::net::IpAddr>> = BTreeMap::new();
        for (ns, a) in net.addresses() {
            slots.entry(ns).or_default().push(a);
        }
        let mut verdicts = BTreeMap::new();
        for e in expectations(&t) {
            let slot = slots[&e.to_ns].iter().position(|a| *a == e.to);
            let key = (class[&e.from], class[&e.to_ns], slot, e.from == e.to_ns);
            let first = *verdicts.entry(key).or_insert(e.reachable);
            prop_assert_eq!(first, e.reachable, "{:?} unlike its class; {:?}", e, class);
        }
        // All policies `accept`: the ICMP matrix is the one without any filter.
        let all_open = (opened(&p.0), opened(&p.1), opened(&p.2), opened(&p.3));
        let none: Policies = (None, None, None, None);
        let n = valid(&with(&none)).expect("the fixture without filters is valid");
        if let Some(a) = valid(&with(&all_open)) {
            prop_assert_eq!(expectations(&a), expectations(&n));
        }
        // Opening any one chain never takes reachability away, ICMP or TCP/UDP.
        let before: Vec<Expectation> = expectations(&t).into_iter().chain(flows(&t)).collect();
        let before = by_key(before);
        for k in 0..4 {
            let mut q = p.clone();
            match k {
                0 => q.0 = opened(&q.0),
                1 => q.1 = opened(&q.1),
                2 => q.2 = opened(&q.2),
                _ => q.3 = opened(&q.3),
            }
            let Some(o) = valid(&with(&q)) else { continue };
            let after = by_key(expectations(&o).into_iter().chain(flows(&o)).collect());
            for (key, b) in &before {
                if let Some(a) = after.get(key) {
                    prop_assert!(!b.reachable || a.reachable, "chain {}: {:?} -> {:?}", k, b, a);
                }
            }
        }
    }
}

#[test]
fn the_generated_shapes_validate() {
    // The property above skips what validation refuses: make sure that is not everything.
    let drop_all = Some(FilterPolicy {
        policy: Verdict::Drop,
        allow: vec![Allow {
            from: Some("mail".into()),
            to: Some("dbms".into()),
            proto: Some(Proto::Tcp),
            port: Some(PortRange::single(5432)),
        }],
    });
    let p: Policies = (drop_all.clone(), None, None, drop_all);
    let t = valid(&with(&p)).expect("valid");
    assert!(flows(&t).iter().any(|f| f.reachable) && flows(&t).iter().any(|f| !f.reachable));
}
