//! vnet's nftables table (`table inet vnet`) against the real `nft`: every ruleset vnet
//! loads reads back as exactly that ruleset; a table edited by hand reads as foreign (so
//! the next apply replaces it) and a reload repairs it; tables of others are never read
//! or changed. And the firewall topology in a sandbox: applied, read back, the port
//! forwards and filters doing what the model says over real TCP, a flushed or edited
//! table found by diff and repaired by apply, rollback at every step, destroy.

#[path = "firewall/rulesets.rs"]
mod rulesets;
#[path = "firewall/tcp.rs"]
mod tcp;

use vnet_backend_netlink::ops::nft::{self, Table};
use vnet_backend_netlink::{ApplyOptions, Backend, Error, NamespaceMap};
use vnet_core::model::{PortRange, Proto, Verdict};
use vnet_core::plan::{
    compile, Action, DnatRule, FilterChain, FilterRule, Name, NatRule, NsRef, Ruleset, Scope,
};
use vnet_core::{Document, Format, ValidTopology};
use vnet_testkit::{fault_at_every_step, isolated, run, snapshot};

use tcp::{connect, listen, Reached};

/// `nft -f -` with `script`, in the test's namespace.
fn nft_script(script: &str) {
    nft::run_nft(&["-f", "-"], Some(script))
        .unwrap_or_else(|(code, e)| panic!("nft -f ({code:?}): {e}\n{script}"));
}

/// `nft list table FAMILY NAME` as text.
fn listed(family: &str, name: &str) -> String {
    nft::run_nft(&["list", "table", family, name], None)
        .unwrap_or_else(|(_, e)| panic!("nft list table {family} {name}: {e}"))
}

/// The router of `examples/firewall.toml`: masquerade, SMTP and submission forwarded
/// from the LAN address, a drop policy with the LAN side allowed.
fn article() -> Ruleset {
    let forward = |port| DnatRule {
        proto: Proto::Tcp,
        iif: None,
        daddr: Some("192.168.46.200".parse().unwrap()),
        dport: PortRange::single(port),
        to: "192.168.199.2".parse().unwrap(),
        to_port: None,
    };
    Ruleset {
        masquerade: vec![NatRule {
            source: "192.168.199.0/24".parse().unwrap(),
            out: Name::from("eth1"),
        }],
        dnat: vec![forward(25), forward(587)],
        forward: Some(FilterChain {
            policy: Verdict::Drop,
            accept: vec![
                FilterRule {
                    saddr: Some("192.168.199.0/24".parse().unwrap()),
                    ..FilterRule::default()
                },
                FilterRule {
                    saddr: Some("192.168.199.2/32".parse().unwrap()),
                    daddr: Some("192.168.199.3/32".parse().unwrap()),
                    proto: Some(Proto::Tcp),
                    dport: Some(PortRange::single(5432)),
                },
            ],
        }),
        input: Some(FilterChain {
            policy: Verdict::Accept,
            accept: vec![],
        }),
    }
}

fn read() -> Table {
    nft::read().expect("nft answers")
}

#[test]
fn every_ruleset_reads_back_exactly_as_loaded() {
    isolated("every_ruleset_reads_back_exactly_as_loaded", || {
        assert_eq!(read(), Table::Absent, "a fresh namespace has no table");
        nft::remove().expect("removing no table is no error");
        let mut cases = vec![(u64::MAX, article())];
        cases.extend((0..48).map(|seed| (seed, rulesets::ruleset(seed))));
        let mut rules = 0;
        for (seed, want) in cases {
            // Each load replaces the previous case's table whole.
            nft::load(&want).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", want.load_script()));
            assert_eq!(
                read(),
                Table::Vnet(want.clone()),
                "seed {seed}:\n{}",
                want.load_script()
            );
            rules += want.masquerade.len()
                + want.dnat.len()
                + want
                    .forward
                    .iter()
                    .chain(&want.input)
                    .map(|c| c.accept.len())
                    .sum::<usize>();
        }
        assert!(
            rules > 200,
            "the cases hold {rules} rules: too few to mean much"
        );
        nft::load(&Ruleset::default()).unwrap();
        assert_eq!(read(), Table::Absent, "the empty ruleset removes the table");
    });
}

#[test]
fn a_table_edited_by_hand_is_foreign_and_a_reload_repairs_it() {
    isolated(
        "a_table_edited_by_hand_is_foreign_and_a_reload_repairs_it",
        || {
            let edits = [
                "add rule inet vnet forward counter accept",
                "add rule inet vnet forward ip saddr 198.18.0.1 accept comment \"by hand\"",
                "add rule inet vnet forward ip saddr 198.18.0.1 drop",
                "add rule inet vnet input ip saddr { 198.18.0.1, 198.18.0.2 } accept",
                "add rule inet vnet input tcp dport 22 meta l4proto tcp accept",
                "add rule inet vnet input ip daddr 198.18.0.1 ip saddr 198.18.0.2 accept",
                "insert rule inet vnet forward ip saddr 198.18.0.1 accept",
                "flush chain inet vnet input",
                "flush chain inet vnet prerouting",
                "add rule inet vnet postrouting ip saddr 198.18.0.0/24 masquerade",
                "add rule inet vnet postrouting ip saddr 198.18.0.0/24 oifname \"eth1\" masquerade random",
                "add rule inet vnet prerouting tcp dport 80 redirect to :8080",
                "add rule inet vnet prerouting ip daddr 198.18.0.0/24 tcp dport 80 dnat ip to 198.18.1.1:80",
                "add chain inet vnet extra",
                "add chain inet vnet output { type filter hook output priority 0; policy accept; }",
                "add set inet vnet hosts { type ipv4_addr; }",
                "add table inet vnet { flags dormant; }",
                "add chain inet vnet postrouting { policy drop; }",
            ];
            for edit in edits {
                nft::load(&article()).unwrap();
                nft_script(&format!("{edit}\n"));
                match read() {
                    Table::Foreign(why) => assert!(!why.is_empty()),
                    other => panic!("after `{edit}` the table reads as {other:?}"),
                }
                nft::load(&article()).unwrap();
                assert_eq!(read(), Table::Vnet(article()), "the reload after `{edit}`");
            }
            // A table by vnet's name that lost every chain is not vnet's either.
            nft_script("flush table inet vnet\ndelete chain inet vnet postrouting\ndelete chain inet vnet prerouting\ndelete chain inet vnet forward\ndelete chain inet vnet input\n");
            assert!(matches!(read(), Table::Foreign(_)), "{:?}", read());
            nft::remove().unwrap();
            assert_eq!(read(), Table::Absent);
        },
    );
}

#[test]
fn tables_of_others_are_never_read_or_changed() {
    isolated("tables_of_others_are_never_read_or_changed", || {
        nft_script(concat!(
            "table inet other {\n",
            "\tchain input { type filter hook input priority 0; policy drop; tcp dport 22 accept; }\n",
            "}\n",
            "table ip nat {\n",
            "\tchain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname \"eth9\" masquerade; }\n",
            "}\n",
            "table ip vnet {\n",
            "\tchain forward { type filter hook forward priority 0; policy drop; }\n",
            "}\n",
        ));
        let others = || {
            [("inet", "other"), ("ip", "nat"), ("ip", "vnet")]
                .map(|(family, name)| listed(family, name))
        };
        let before = others();
        assert_eq!(read(), Table::Absent, "`table ip vnet` is not vnet's");
        nft::load(&article()).unwrap();
        assert_eq!(read(), Table::Vnet(article()));
        nft::load(&rulesets::ruleset(7)).unwrap();
        assert_eq!(read(), Table::Vnet(rulesets::ruleset(7)));
        assert_eq!(
            others(),
            before,
            "loading vnet's table left the others alone"
        );
        nft::remove().unwrap();
        assert_eq!(read(), Table::Absent);
        assert_eq!(
            others(),
            before,
            "removing vnet's table left the others alone"
        );
    });
}

/// The firewall topology: the article's network with NAT on the router, SMTP and
/// submission forwarded from the router's LAN address to mail, a forward policy that
/// drops what the LAN sends in otherwise, and dbms answering mail only.
fn firewall() -> ValidTopology {
    Document::parse(include_str!("firewall/firewall.toml"), Format::Toml)
        .expect("parses")
        .validate()
        .expect("valid")
}

fn backend() -> Backend {
    Backend::new(NamespaceMap::sandbox("vnet"))
}

/// The router's table as the model wants it.
fn router_ruleset(t: &ValidTopology) -> Ruleset {
    let router = t.topology().ct_by_name("router").expect("a router");
    Ruleset::from_model(t.topology(), router).expect("the router has a table")
}

/// The ruleset observed in CT `name`'s namespace.
fn observed(b: &Backend, name: &str) -> Option<Ruleset> {
    let ns = NsRef::Ct(name.into());
    let state = b.observe_namespaces(std::slice::from_ref(&ns)).unwrap();
    state.namespaces[&ns].ruleset.clone()
}

/// `nft` in the sandbox namespace of CT `ct`.
fn nft_in(ct: &str, args: &[&str]) -> String {
    let ns = format!("vnet-{ct}");
    let mut argv = vec!["ip", "netns", "exec", ns.as_str(), "nft"];
    argv.extend_from_slice(args);
    run(&argv)
}

/// The SetRuleset steps of a repair plan, as (namespace, from, to).
fn ruleset_steps(plan: &vnet_core::plan::Plan) -> Vec<(NsRef, Option<Ruleset>, Option<Ruleset>)> {
    plan.actions()
        .filter_map(|a| match a {
            Action::SetRuleset { ns, from, to } => Some((ns.clone(), from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_firewall_forwards_filters_and_is_repaired_after_a_flush() {
    isolated(
        "the_firewall_forwards_filters_and_is_repaired_after_a_flush",
        || {
            let t = firewall();
            let b = backend();
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified, "{report:?}");
            let want = router_ruleset(&t);
            assert_eq!(want.dnat.len(), 2, "{want:?}");
            assert_eq!(observed(&b, "router"), Some(want.clone()));
            assert!(observed(&b, "dbms").is_some_and(|r| r.input.is_some()));
            assert_eq!(observed(&b, "mail"), None, "mail has no table");
            assert!(b.diff(&t, &Scope::Sandbox).unwrap().is_empty());

            // SMTP from the LAN host through the router's address reaches mail, which
            // sees the LAN host's own address (destination NAT only).
            let smtp = listen("vnet-mail", "0.0.0.0:25");
            let submission = listen("vnet-mail", "0.0.0.0:587");
            assert_eq!(
                connect("vnet-gw46", "192.168.46.200:25", Some(&smtp)),
                Reached::Open("192.168.46.1".parse().unwrap())
            );
            assert!(matches!(
                connect("vnet-gw46", "192.168.46.200:587", Some(&submission)),
                Reached::Open(_)
            ));
            // Straight to mail's own address (with a route the LAN host does not have
            // in the model) the router's forward policy drops it.
            run(&[
                "ip",
                "-n",
                "vnet-gw46",
                "route",
                "add",
                "192.168.199.0/24",
                "via",
                "192.168.46.200",
            ]);
            assert_eq!(
                connect("vnet-gw46", "192.168.199.2:25", Some(&smtp)),
                Reached::Dropped
            );
            run(&["ip", "-n", "vnet-gw46", "route", "del", "192.168.199.0/24"]);
            // dbms answers mail on 5432 and nobody else: the router is dropped.
            let pg = listen("vnet-dbms", "0.0.0.0:5432");
            assert!(matches!(
                connect("vnet-mail", "192.168.199.3:5432", Some(&pg)),
                Reached::Open(_)
            ));
            assert_eq!(
                connect("vnet-router", "192.168.199.3:5432", Some(&pg)),
                Reached::Dropped
            );

            // `nft flush ruleset` in the router: diff wants the table back, apply
            // repairs it, the forward works again.
            nft_in("router", &["flush", "ruleset"]);
            assert_eq!(observed(&b, "router"), None);
            // A table of someone else's in the router, which vnet must leave alone.
            nft_in("router", &["add", "table", "inet", "other"]);
            assert!(!b.check(&t, &Scope::Sandbox).unwrap().is_empty());
            let repair = b.diff(&t, &Scope::Sandbox).unwrap();
            assert_eq!(
                ruleset_steps(&repair),
                vec![(NsRef::Ct("router".into()), None, Some(want.clone()))],
                "{repair:?}"
            );
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert_eq!(observed(&b, "router"), Some(want.clone()));
            assert!(matches!(
                connect("vnet-gw46", "192.168.46.200:25", Some(&smtp)),
                Reached::Open(_)
            ));

            // A rule added by hand makes the table not vnet's: replaced whole.
            nft_in(
                "router",
                &[
                    "add", "rule", "inet", "vnet", "forward", "counter", "accept",
                ],
            );
            assert_eq!(observed(&b, "router"), Some(Ruleset::default()));
            let repair = b.diff(&t, &Scope::Sandbox).unwrap();
            assert_eq!(
                ruleset_steps(&repair),
                vec![(
                    NsRef::Ct("router".into()),
                    Some(Ruleset::default()),
                    Some(want.clone())
                )]
            );
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert_eq!(observed(&b, "router"), Some(want));
            assert!(b.diff(&t, &Scope::Sandbox).unwrap().is_empty());
            let tables = nft_in("router", &["list", "tables"]);
            assert!(tables.contains("table inet other"), "{tables}");

            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

#[test]
fn a_fault_at_any_step_of_the_firewall_network_leaves_the_system_as_before() {
    isolated(
        "a_fault_at_any_step_of_the_firewall_network_leaves_the_system_as_before",
        || {
            let b = backend();
            let t = firewall();
            let plan = compile(&t, &Scope::Sandbox);
            let actions: Vec<_> = plan.actions().collect();
            assert_eq!(
                actions
                    .iter()
                    .filter(|a| matches!(a, Action::SetRuleset { .. }))
                    .count(),
                2,
                "the router's and dbms's tables"
            );
            let before = snapshot();
            let faults = fault_at_every_step(&actions, |k| {
                let options = ApplyOptions {
                    fail_at: Some(k),
                    ..ApplyOptions::default()
                };
                match b.apply(&t, &Scope::Sandbox, &options) {
                    Err(Error::RolledBack { .. }) => Ok(()),
                    other => Err(format!("expected a rollback, got {other:?}")),
                }
            });
            assert_eq!(faults, actions.len());
            assert_eq!(snapshot(), before);
        },
    );
}
