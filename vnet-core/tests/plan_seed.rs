//! The article's network compiled for the sandbox: the plan follows the article's order
//! of things (namespaces, veth pairs, bridge, ports, addresses, routes, forwarding), its
//! listing shows the commands, and teardown deletes namespaces, containers first.

use vnet_core::plan::{
    born_without_ipv6, compile, listing::listing, namespaces_created, teardown, Action, BornOff,
    LinkSpec, NsRef, Scope, Sysctl,
};
use vnet_core::{Document, Format, ValidTopology};

fn seed() -> ValidTopology {
    example(include_str!("../../examples/seed.toml"))
}

fn example(text: &str) -> ValidTopology {
    Document::parse(text, Format::Toml)
        .expect("the example parses")
        .validate()
        .expect("the example is valid")
}

/// Which of the article's steps an action is, if it is one of them.
fn article_step(a: &Action) -> Option<usize> {
    let article_ct =
        |ns: &NsRef| matches!(ns, NsRef::Ct(n) if ["router", "mail", "dbms"].contains(&n.as_str()));
    match a {
        Action::CreateNamespace { .. } => Some(0),
        Action::CreateLink {
            ns: NsRef::Node(n),
            spec: LinkSpec::Veth { name, .. },
        } if n == "m1" && name.starts_with("veth") => Some(1),
        Action::CreateLink {
            ns: NsRef::Node(n),
            spec: LinkSpec::Bridge { name, .. },
        } if n == "m1" && name == "br0" => Some(2),
        Action::SetMaster {
            ns: NsRef::Node(_),
            master,
            ..
        } if master == "br0" => Some(3),
        Action::AddAddress { ns, .. } if article_ct(ns) => Some(4),
        Action::AddRoute { ns, .. } if article_ct(ns) => Some(5),
        Action::SetSysctl {
            ns,
            sysctl: Sysctl::Ipv4Forward,
            ..
        } if article_ct(ns) => Some(6),
        _ => None,
    }
}

#[test]
fn seed_plan_follows_the_articles_order() {
    let plan = compile(&seed(), &Scope::Sandbox);
    let steps: Vec<usize> = plan.actions().filter_map(article_step).collect();
    for kind in 0..=6 {
        assert!(
            steps.contains(&kind),
            "article step {kind} missing from the plan"
        );
    }
    let mut sorted = steps.clone();
    sorted.sort();
    assert_eq!(
        steps,
        sorted,
        "the article's steps come out of order:\n{}",
        listing(&plan, &|n| n.sandbox_name("vnet"))
    );
}

#[test]
fn seed_listing_names_namespaces_and_commands() {
    let plan = compile(&seed(), &Scope::Sandbox);
    let text = listing(&plan, &|n| n.sandbox_name("vnet"));
    println!("{text}");
    assert!(text.contains("## node m1 (vnet-m1)"), "{text}");
    assert!(
        text.contains("ip -n vnet-m1 link set veth1 master br0"),
        "{text}"
    );
    assert!(
        text.contains("route add 192.168.0.0/16 via 192.168.199.1"),
        "{text}"
    );
    // Numbered 1.. in order.
    let numbers: Vec<usize> = text
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .split_once(". ")
                .and_then(|(n, _)| n.parse().ok())
        })
        .collect();
    assert_eq!(numbers, (1..=plan.len()).collect::<Vec<_>>());
}

/// The command lines the listing gives step `create namespace <ns>`.
fn namespace_commands(text: &str, ns: &str) -> Vec<String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.ends_with(&format!("create namespace {ns}")));
    lines.next().expect("the namespace is created");
    lines
        .take_while(|l| l.starts_with("        "))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn listing_shows_links_born_with_ipv6_off() {
    // Namespaces whose links all want IPv6 off are created with the default off, so no
    // link ever sends IPv6 DAD/MLD; the listing shows that write right after the
    // namespace's creation, and only there. nat-vlan has both kinds: the router holds
    // IPv6 addresses, node m2 (a bridge and host ends of veth pairs) does not.
    let plan = compile(
        &example(include_str!("../../examples/nat-vlan.toml")),
        &Scope::Sandbox,
    );
    let text = listing(&plan, &|n| n.sandbox_name("vnet"));
    let born_off = born_without_ipv6(&plan);
    let created = namespaces_created(&plan);
    for ns in ["node m2", "ct router"] {
        assert!(
            created.iter().any(|n| n.to_string() == ns),
            "{ns} is created"
        );
    }
    assert!(born_off.iter().any(|n| n.to_string() == "node m2"));
    assert!(!born_off.iter().any(|n| n.to_string() == "ct router"));
    for ns in &created {
        let commands = namespace_commands(&text, &ns.to_string());
        let name = ns.sandbox_name("vnet");
        let default_off =
            format!("ip netns exec {name} sysctl -qw net/ipv6/conf/default/disable_ipv6=1");
        assert_eq!(commands.first(), Some(&format!("ip netns add {name}")));
        assert_eq!(
            commands.contains(&default_off),
            born_off.contains(ns),
            "{ns}: {commands:?}"
        );
    }
}

#[test]
fn a_link_born_with_ipv6_off_runs_no_write_and_a_nic_moved_in_does() {
    // The seed's router namespace is born with IPv6 off: its eth0 (created there as a
    // veth peer) needs no write, its eth1 (a NIC moved in, registered on the node) does.
    let plan = compile(&seed(), &Scope::Sandbox);
    let born = BornOff::of(&plan);
    let text = listing(&plan, &|n| n.sandbox_name("vnet"));
    let write = |link: &str| {
        format!("ip netns exec vnet-router sysctl -qw net/ipv6/conf/{link}/disable_ipv6=1")
    };
    let router = NsRef::Ct("router".into());
    assert!(born.namespaces.contains(&router));
    assert!(born.links.contains(&(&router, "eth0")));
    assert!(!born.links.contains(&(&router, "eth1")));
    assert!(!text.contains(&write("eth0")), "{text}");
    assert!(text.contains(&write("eth1")), "{text}");
    let held = plan.actions().filter(|a| born.holds_already(a)).count();
    assert_eq!(
        text.matches("(nothing to run: the link was born with IPv6 off)")
            .count(),
        held
    );
    assert!(held >= 6, "{held} writes held already");
}

#[test]
fn seed_teardown_deletes_namespaces_containers_first() {
    let t = seed();
    let plan = teardown(&t, &Scope::Sandbox);
    let order: Vec<&NsRef> = plan
        .actions()
        .map(|a| match a {
            Action::DeleteNamespace { ns } => ns,
            other => panic!("sandbox teardown deletes namespaces only, not {other:?}"),
        })
        .collect();
    let rank = |ns: &NsRef| match ns {
        NsRef::Ct(_) => 0,
        NsRef::Node(_) => 1,
        NsRef::Host(_) => 2,
        NsRef::Lan(_) => 3,
    };
    let ranks: Vec<u8> = order.iter().map(|n| rank(n)).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted);
    // router, mail, dbms, m1, m2, gw46, lan46
    assert_eq!(order.len(), 7);
}
