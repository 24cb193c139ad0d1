//! Observing the forwarding switches over netlink (`RTM_GETNETCONF`) reads what
//! `/proc/sys` holds, for every combination of IPv4 and IPv6 forwarding, in namespaces
//! of the test's own sandbox.

use vnet_backend_netlink::netlink::{RequestCounter, RtSocket};
use vnet_backend_netlink::ops::netconf;
use vnet_backend_netlink::{Backend, NamespaceMap, NsLocation};
use vnet_core::plan::Name;
use vnet_core::plan::{NsRef, Sysctl};
use vnet_testkit::{isolated, run};

/// `(v4, v6)` forwarding per namespace; every combination once.
const CASES: [(&str, &str, &str); 4] = [
    ("vnc-00", "0", "0"),
    ("vnc-10", "1", "0"),
    ("vnc-01", "0", "1"),
    ("vnc-11", "1", "1"),
];

fn proc_value(ns: &str, path: &str) -> String {
    run(&["ip", "netns", "exec", ns, "cat", path])
        .trim()
        .to_string()
}

#[test]
fn forwarding_over_netlink_matches_proc() {
    isolated("forwarding_over_netlink_matches_proc", || {
        let mut map = NamespaceMap::explicit();
        let mut refs = Vec::new();
        for (name, v4, v6) in CASES {
            run(&["ip", "netns", "add", name]);
            run(&[
                "ip",
                "netns",
                "exec",
                name,
                "sysctl",
                "-qw",
                &format!("net.ipv4.ip_forward={v4}"),
            ]);
            run(&[
                "ip",
                "netns",
                "exec",
                name,
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.all.forwarding={v6}"),
            ]);
            let ns = NsRef::Ct(Name::from(name));
            map = map.with(
                ns.clone(),
                NsLocation::Path(format!("/run/netns/{name}").into()),
            );
            refs.push(ns);
        }
        let observed = Backend::new(map)
            .observe_namespaces(&refs)
            .expect("observe");
        for ((name, v4, v6), ns) in CASES.into_iter().zip(&refs) {
            let sysctls = &observed.namespaces[ns].sysctls;
            assert_eq!(sysctls[&Sysctl::Ipv4Forward], v4, "{name} ipv4");
            assert_eq!(sysctls[&Sysctl::Ipv6Forward], v6, "{name} ipv6");
            assert_eq!(v4, proc_value(name, "/proc/sys/net/ipv4/ip_forward"));
            assert_eq!(
                v6,
                proc_value(name, "/proc/sys/net/ipv6/conf/all/forwarding")
            );
        }
        // The netlink answer itself, not a /proc fallback: in the test's own private
        // namespace, both switches flipped to differ.
        run(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        run(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=0"]);
        let counter = RequestCounter::new();
        let mut sock = RtSocket::open(counter.clone()).expect("socket");
        let requests = [
            (
                netconf::RTM_GETNETCONF,
                netconf::get_all(nix::libc::AF_INET as u8),
            ),
            (
                netconf::RTM_GETNETCONF,
                netconf::get_all(nix::libc::AF_INET6 as u8),
            ),
        ];
        let answers = sock.get_raw(&requests, "get netconf").expect("netconf");
        let values: Vec<Option<String>> = answers
            .iter()
            .map(|a| a.as_deref().and_then(netconf::forwarding))
            .collect();
        assert_eq!(values, [Some("1".to_string()), Some("0".to_string())]);
        assert_eq!(counter.reads(), 2);
        for (name, _, _) in CASES {
            run(&["ip", "netns", "del", name]);
        }
    });
}
