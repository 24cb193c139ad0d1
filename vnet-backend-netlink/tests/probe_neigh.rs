//! Probing and the machine's neighbour table, on the kernel, in private namespaces:
//! the table's machine-wide size and `gc_thresh3` are read through rtnetlink from a
//! namespace that is not the initial one (where `/proc/net/stat/arp_cache` does not
//! exist), and a probe whose namespaces may be tidied leaves no neighbour entry behind
//! on either side, where an untidied one leaves one on each.

use std::path::PathBuf;
use std::time::Duration;

use vnet_backend_netlink::netlink::{RequestCounter, RtSocket};
use vnet_backend_netlink::probe::{neigh, probe_all_with, Probe, ProbeOutcome, Tidy};
use vnet_testkit::{isolated, sh};

/// The neighbour entries of namespace `ns` (`ip -4 -n NS neigh show`), one per line.
fn entries(ns: &str) -> String {
    let o = sh(&format!("ip -4 -n {ns} neigh show"), &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout
}

#[test]
fn the_table_is_read_from_a_private_namespace_and_probes_leave_no_entries() {
    isolated(
        "the_table_is_read_from_a_private_namespace_and_probes_leave_no_entries",
        || {
            assert!(
                !std::path::Path::new("/proc/net/stat/arp_cache").exists(),
                "the test runs outside the initial namespace"
            );
            let mut sock = RtSocket::open(RequestCounter::new()).expect("rtnetlink socket");
            let table = neigh::table(&mut sock, false)
                .expect("RTM_GETNEIGHTBL answers")
                .expect("the ARP table is there");
            let shown = sh("ip -s ntable show name arp_cache", &[]).stdout;
            assert!(
                shown.contains(&format!("thresh3 {} ", table.thresh3)),
                "{table:?} against:\n{shown}"
            );
            // Overflows only grow (other tests share the table): read later, not fewer.
            let fulls: u64 = shown
                .split("table_fulls ")
                .nth(1)
                .and_then(|t| t.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("ip -s ntable shows table_fulls:\n{shown}"));
            assert!(
                table.overflows <= fulls && (fulls == 0 || table.overflows > 0),
                "{table:?} against:\n{shown}"
            );

            let setup = sh(
                "ip netns add a && ip netns add b && \
                 ip -n a link add eth0 type veth peer name eth0 netns b && \
                 ip -n a addr add 198.18.0.1/24 dev eth0 && ip -n b addr add 198.18.0.2/24 dev eth0 && \
                 ip -n a link set eth0 up && ip -n b link set eth0 up",
                &[],
            );
            assert_eq!(setup.code, 0, "{}", setup.stderr);
            let (a, b) = (PathBuf::from("/run/netns/a"), PathBuf::from("/run/netns/b"));
            let probe = [Probe {
                ns: a.clone(),
                to: "198.18.0.2".parse().unwrap(),
            }];
            let answered = |tidy: &Tidy| {
                let out = probe_all_with(&probe, Duration::from_secs(3), tidy, &|_| {})
                    .expect("the machine lets vnet probe");
                assert!(matches!(out[0], ProbeOutcome::Reply(_)), "{out:?}");
            };

            answered(&Tidy::none());
            assert!(entries("a").contains("198.18.0.2"), "{}", entries("a"));
            assert!(entries("b").contains("198.18.0.1"), "{}", entries("b"));

            let flush = sh("ip -n a neigh flush all && ip -n b neigh flush all", &[]);
            assert_eq!(flush.code, 0, "{}", flush.stderr);
            answered(&Tidy::new([
                ("198.18.0.1".parse().unwrap(), a),
                ("198.18.0.2".parse().unwrap(), b),
            ]));
            assert_eq!(entries("a"), "", "the sender's entry is deleted");
            assert_eq!(entries("b"), "", "the target's entry is deleted");

            let cleanup = sh("ip netns del a && ip netns del b", &[]);
            assert_eq!(cleanup.code, 0, "{}", cleanup.stderr);
        },
    );
}
