//! `probe::stream` against the kernel: two namespaces on a veth pair, a filter in the
//! target's, and every answer a TCP or UDP flow can get: echoed by our listener,
//! accepted by a service already holding the port, refused (RST), dropped (timeout, in
//! the short time a denied flow is given), and a source namespace that is not there.
//! Runs in private namespaces ([`vnet_testkit::isolated`]).

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};
use vnet_backend_netlink::probe::stream::{probe_streams, StreamOutcome, StreamProbe};
use vnet_core::model::Proto;
use vnet_testkit::{isolated, run};

/// `a` (198.18.7.1) and `b` (198.18.7.2) on a veth pair; in `b`, TCP 7002 and UDP 7004
/// dropped, TCP 7003 refused with a reset.
fn build() {
    for argv in [
        &["ip", "netns", "add", "a"][..],
        &["ip", "netns", "add", "b"],
        &[
            "ip", "-n", "a", "link", "add", "v", "type", "veth", "peer", "name", "v", "netns", "b",
        ],
        &["ip", "-n", "a", "addr", "add", "198.18.7.1/24", "dev", "v"],
        &["ip", "-n", "b", "addr", "add", "198.18.7.2/24", "dev", "v"],
        &["ip", "-n", "a", "link", "set", "v", "up"],
        &["ip", "-n", "b", "link", "set", "v", "up"],
        &["ip", "-n", "a", "link", "set", "lo", "up"],
        &["ip", "-n", "b", "link", "set", "lo", "up"],
    ] {
        run(argv);
    }
    let rules = "table inet t {\n chain input {\n  type filter hook input priority filter;\n  \
                 tcp dport 7002 drop\n  tcp dport 7003 reject with tcp reset\n  \
                 udp dport 7004 drop\n }\n}\n";
    std::fs::write("/run/stream-probe.nft", rules).unwrap();
    run(&[
        "ip",
        "netns",
        "exec",
        "b",
        "nft",
        "-f",
        "/run/stream-probe.nft",
    ]);
}

fn probe(proto: Proto, port: u16, timeout_ms: u64) -> StreamProbe {
    StreamProbe {
        from: PathBuf::from("/run/netns/a"),
        listen: PathBuf::from("/run/netns/b"),
        proto,
        to: SocketAddr::new("198.18.7.2".parse().unwrap(), port),
        listen_port: port,
        timeout: Duration::from_millis(timeout_ms),
    }
}

#[test]
fn tcp_and_udp_flows_are_answered_refused_or_dropped_as_the_kernel_says() {
    isolated(
        "tcp_and_udp_flows_are_answered_refused_or_dropped_as_the_kernel_says",
        || {
            build();
            // A "real service" holding TCP 7005 in b: a listener this thread opens there.
            let b = File::open("/run/netns/b").unwrap();
            setns(&b, CloneFlags::CLONE_NEWNET).unwrap();
            let service = TcpListener::bind("0.0.0.0:7005").unwrap();
            let missing = StreamProbe {
                from: PathBuf::from("/run/netns/nowhere"),
                ..probe(Proto::Tcp, 7000, 3000)
            };
            let probes = [
                probe(Proto::Tcp, 7000, 3000),
                probe(Proto::Udp, 7001, 3000),
                probe(Proto::Tcp, 7002, 300),
                probe(Proto::Tcp, 7003, 300),
                probe(Proto::Udp, 7004, 300),
                probe(Proto::Tcp, 7005, 3000),
                missing,
            ];
            let start = Instant::now();
            let out = probe_streams(&probes).expect("this machine lets vnet probe");
            let took = start.elapsed();
            assert!(
                matches!(out[0], StreamOutcome::Answered { echoed: true, .. }),
                "{out:?}"
            );
            assert!(
                matches!(out[1], StreamOutcome::Answered { echoed: true, .. }),
                "{out:?}"
            );
            assert_eq!(out[2], StreamOutcome::Timeout, "{out:?}");
            assert_eq!(out[3], StreamOutcome::Refused, "{out:?}");
            assert_eq!(out[4], StreamOutcome::Timeout, "{out:?}");
            assert!(
                matches!(out[5], StreamOutcome::Answered { echoed: false, .. }),
                "a service's port: connected counts {out:?}"
            );
            assert!(matches!(out[6], StreamOutcome::Unreachable(_)), "{out:?}");
            // Two drops of 300 ms and quick answers: well under a second or two.
            assert!(took < Duration::from_secs(2), "{took:?}");
            drop(service);
        },
    );
}
