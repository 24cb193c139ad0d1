//! Kernel tests of `announce`: an address moves from one namespace to another on the same
//! bridge (a container moving between nodes, as the LAN sees it), and an observer's
//! neighbour entry follows only because of vnet's gratuitous ARP / unsolicited NA; and
//! an announcement sent before the new bridge port forwards is lost, while one sent after
//! `wait_forwarding` arrives (the reason the failover waits). Each test runs in its own
//! private network and mount namespace (see `vnet_testkit::isolated`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use vnet_backend_netlink::announce::{announce, port_state, wait_forwarding};
use vnet_testkit::{isolated, ping, run, succeeds};

const MAC_OBS: &str = "02:00:5e:00:00:01";
const MAC_A: &str = "02:00:5e:00:00:0a";
const MAC_B: &str = "02:00:5e:00:00:0b";
const V4: &str = "198.18.0.2";
const V6: &str = "2001:db8:18::2";

fn ns_path(name: &str) -> PathBuf {
    PathBuf::from("/run/netns").join(name)
}

/// A node namespace with bridge `br0` (STP as given), and namespaces `obs` and `a`
/// attached to it through ports `p-obs` and `p-a`, addresses on both.
fn build(stp: bool) {
    for ns in ["node", "obs", "a", "b"] {
        run(&["ip", "netns", "add", ns]);
        run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    let mut br = vec!["ip", "-n", "node", "link", "add", "br0", "type", "bridge"];
    if stp {
        // Kernel STP (no userspace helper in a non-initial namespace); the shortest
        // forward delay the kernel allows, so a new port forwards after about 4 s.
        br.extend(["stp_state", "1", "forward_delay", "200"]);
    }
    run(&br);
    run(&["ip", "-n", "node", "link", "set", "br0", "up"]);
    attach("obs", MAC_OBS);
    attach("a", MAC_A);
    for (ns, v4, v6) in [
        ("obs", "198.18.0.1/24", "2001:db8:18::1/64"),
        ("a", "198.18.0.2/24", "2001:db8:18::2/64"),
    ] {
        run(&["ip", "-n", ns, "address", "add", v4, "dev", "eth0"]);
        run(&["ip", "-n", ns, "address", "add", v6, "dev", "eth0", "nodad"]);
    }
}

/// A veth `eth0` in `ns` with `mac`, its peer `p-<ns>` a port of the node's `br0`, up.
fn attach(ns: &str, mac: &str) {
    let port = format!("p-{ns}");
    run(&[
        "ip", "-n", "node", "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
        ns, "address", mac,
    ]);
    run(&[
        "ip", "-n", "node", "link", "set", &port, "master", "br0", "up",
    ]);
    run(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
}

/// The observer's neighbour entry for `ip` on eth0: its MAC, if it has one.
fn neigh_mac(ip: &str) -> Option<String> {
    let text = run(&[
        "ip", "-n", "obs", "-j", "neigh", "show", "to", ip, "dev", "eth0",
    ]);
    let v: Value = serde_json::from_str(&text).expect("ip -j neigh");
    v.as_array()?
        .first()?
        .get("lladdr")?
        .as_str()
        .map(str::to_string)
}

/// Waits up to `limit` for the observer's entry for `ip` to show `mac`.
fn shows_within(ip: &str, mac: &str, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        if neigh_mac(ip).as_deref() == Some(mac) {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The observer learns A's MAC for both addresses by pinging them.
fn learn_a() {
    assert!(ping("obs", V4), "observer cannot reach {V4}");
    assert!(
        (0..5).any(|_| succeeds(&["ip", "netns", "exec", "obs", "ping", "-6", "-c1", "-W1", V6])),
        "observer cannot reach {V6}"
    );
    assert_eq!(neigh_mac(V4).as_deref(), Some(MAC_A));
    assert_eq!(neigh_mac(V6).as_deref(), Some(MAC_A));
}

/// The addresses leave `a` (its link goes down, so it cannot answer) and appear on `b`.
fn move_to_b() {
    run(&["ip", "-n", "a", "link", "set", "eth0", "down"]);
    run(&["ip", "-n", "a", "address", "flush", "dev", "eth0"]);
    run(&[
        "ip",
        "-n",
        "b",
        "address",
        "add",
        "198.18.0.2/24",
        "dev",
        "eth0",
    ]);
    run(&[
        "ip",
        "-n",
        "b",
        "address",
        "add",
        "2001:db8:18::2/64",
        "dev",
        "eth0",
        "nodad",
    ]);
}

fn addrs() -> Vec<IpAddr> {
    vec![V4.parse().unwrap(), V6.parse().unwrap()]
}

#[test]
fn announcements_move_the_observers_neighbour_entries() {
    isolated("announcements_move_the_observers_neighbour_entries", || {
        build(false);
        learn_a();
        attach("b", MAC_B);
        move_to_b();
        // Without announcements nothing tells the observer: its entries stay on A (this
        // is the stale state the failover must remove, and what makes the test able to
        // fail).
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            neigh_mac(V4).as_deref(),
            Some(MAC_A),
            "IPv4 entry changed by itself"
        );
        assert_eq!(
            neigh_mac(V6).as_deref(),
            Some(MAC_A),
            "IPv6 entry changed by itself"
        );

        let report = announce(
            &ns_path("b"),
            "eth0",
            &addrs(),
            &[Duration::ZERO, Duration::from_millis(20)],
        )
        .expect("announce");
        assert_eq!((report.arp_sent, report.na_sent), (2, 2));
        assert_eq!(report.mac, [0x02, 0x00, 0x5e, 0x00, 0x00, 0x0b]);
        assert!(
            shows_within(V4, MAC_B, Duration::from_secs(1)),
            "IPv4 entry: {:?}",
            neigh_mac(V4)
        );
        assert!(
            shows_within(V6, MAC_B, Duration::from_secs(1)),
            "IPv6 entry: {:?}",
            neigh_mac(V6)
        );
        // The observer never sent anything to the moved address after the move, so the
        // change came from the announcements; and the new MAC answers.
        assert!(ping("obs", V4));
    });
}

#[test]
fn announcing_before_the_port_forwards_is_lost_and_waiting_fixes_it() {
    isolated(
        "announcing_before_the_port_forwards_is_lost_and_waiting_fixes_it",
        || {
            build(true);
            let node = ns_path("node");
            for port in ["p-obs", "p-a"] {
                wait_forwarding(&node, port, Duration::from_secs(10)).expect("first ports forward");
            }
            learn_a();
            attach("b", MAC_B);
            move_to_b();
            let state = port_state(&node, "p-b")
                .expect("state")
                .expect("p-b is a bridge port");
            assert_ne!(
                format!("{state:?}"),
                "Forwarding",
                "a new STP port must start listening"
            );
            // What arp_notify does: announce as soon as the link is up. The bridge drops it.
            announce(&ns_path("b"), "eth0", &addrs(), &[Duration::ZERO]).expect("early announce");
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(
                neigh_mac(V4).as_deref(),
                Some(MAC_A),
                "early ARP got through"
            );
            assert_eq!(
                neigh_mac(V6).as_deref(),
                Some(MAC_A),
                "early NA got through"
            );

            let waited =
                wait_forwarding(&node, "p-b", Duration::from_secs(10)).expect("p-b forwards");
            assert!(
                waited >= Duration::from_secs(1),
                "forwarded after only {waited:?}"
            );
            announce(&ns_path("b"), "eth0", &addrs(), &[Duration::ZERO]).expect("announce");
            assert!(
                shows_within(V4, MAC_B, Duration::from_secs(1)),
                "IPv4 entry: {:?}",
                neigh_mac(V4)
            );
            assert!(
                shows_within(V6, MAC_B, Duration::from_secs(1)),
                "IPv6 entry: {:?}",
                neigh_mac(V6)
            );
        },
    );
}

#[test]
fn waiting_for_a_link_that_is_no_bridge_port_times_out() {
    isolated(
        "waiting_for_a_link_that_is_no_bridge_port_times_out",
        || {
            run(&["ip", "netns", "add", "node"]);
            run(&[
                "ip", "-n", "node", "link", "add", "d0", "type", "veth", "peer", "name", "d1",
            ]);
            let err =
                wait_forwarding(&ns_path("node"), "d0", Duration::from_millis(50)).unwrap_err();
            assert!(err.to_string().contains("not a bridge port"), "{err}");
            assert!(
                wait_forwarding(&ns_path("node"), "missing", Duration::from_millis(50)).is_err()
            );
        },
    );
}
