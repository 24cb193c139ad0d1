//! vnet's nftables table (`table inet vnet`) against the real `nft`: every ruleset vnet
//! loads reads back as exactly that ruleset; a table edited by hand reads as foreign (so
//! the next apply replaces it) and a reload repairs it; tables of others are never read
//! or changed.

#[path = "firewall/rulesets.rs"]
mod rulesets;

use vnet_backend_netlink::ops::nft::{self, Table};
use vnet_core::model::{PortRange, Proto, Verdict};
use vnet_core::plan::{DnatRule, FilterChain, FilterRule, Name, NatRule, Ruleset};
use vnet_testkit::isolated;

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
