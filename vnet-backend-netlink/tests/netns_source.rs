//! A real node whose containers' namespaces are found from their `netns` (issue 16):
//! the router by a pid file (a [`Container`] stand-in whose pid is written there), mail
//! as the named namespace `mailns`, dbms by the default `name:dbms`. The names are made
//! with `ip netns add`, which leaves `lo` down; the node is the test's private namespace.

use vnet_backend_netlink::{ApplyOptions, Backend, ErrorKind, Site};
use vnet_core::plan::Scope;
use vnet_core::{Document, Format, ValidTopology};
use vnet_testkit::{isolated, run, snapshot, succeeds, Container};

/// The seed with the router found by `pid_file` and mail as `mailns`.
fn seed_with_netns(pid_file: &str) -> ValidTopology {
    let text = include_str!("../../examples/seed.toml")
        .replace(
            "name = \"router\"\n",
            &format!("name = \"router\"\nnetns = \"pid:{pid_file}\"\n"),
        )
        .replace(
            "name = \"mail\"\n",
            "name = \"mail\"\nnetns = \"name:mailns\"\n",
        );
    Document::parse(&text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap()
}

fn pid_file(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("vnet-{tag}-{}.pid", std::process::id()))
}

#[test]
fn containers_found_by_pid_file_and_by_name_are_built_and_torn_down() {
    isolated(
        "containers_found_by_pid_file_and_by_name_are_built_and_torn_down",
        || {
            let file = pid_file("router");
            let t = seed_with_netns(file.to_str().unwrap());
            let router = Container::start("router");
            std::fs::write(&file, format!("{}\n", router.pid())).unwrap();
            run(&["ip", "netns", "add", "mailns"]);
            run(&["ip", "netns", "add", "dbms"]);
            run(&[
                "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "lanport",
            ]);
            let site = Site::Node { name: "m1".into() };
            let scope = Scope::Node("m1".into());
            let report = Backend::on_site(&t, &site)
                .apply(&t, &scope, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified);
            let addrs = router.run(&["ip", "-br", "address", "show"]);
            assert!(
                addrs.contains("192.168.46.200/24"),
                "NIC in the router: {addrs}"
            );
            let lo = run(&["ip", "-n", "mailns", "-br", "link", "show", "lo"]);
            assert!(lo.contains("UP"), "mail's lo brought up: {lo}");
            // Static neighbours: the neighbour table is one for the whole machine (FINDINGS),
            // and other tests running at the same time can fill it, so ARP here may fail
            // for reasons that are not this test's. What is checked is the path vnet built.
            run(&[
                "ip",
                "-n",
                "mailns",
                "neigh",
                "replace",
                "192.168.199.1",
                "lladdr",
                "00:12:34:56:78:9b",
                "dev",
                "eth0",
                "nud",
                "permanent",
            ]);
            router.run(&[
                "ip",
                "neigh",
                "replace",
                "192.168.199.2",
                "lladdr",
                "00:12:34:56:78:9d",
                "dev",
                "eth0",
                "nud",
                "permanent",
            ]);
            assert!(
                (0..5).any(|_| succeeds(&[
                    "ip",
                    "netns",
                    "exec",
                    "mailns",
                    "ping",
                    "-c1",
                    "-W1",
                    "192.168.199.1"
                ])),
                "mail (by name) reaches the router (by pid file)"
            );
            // Each command finds the namespaces afresh: a new backend sees it converged.
            let plan = Backend::on_site(&t, &site).diff(&t, &scope).unwrap();
            assert!(plan.is_empty(), "{}", plan.to_json());

            Backend::on_site(&t, &site).destroy(&t, &scope).unwrap();
            assert!(succeeds(&["ip", "link", "show", "eth1"]), "the NIC is back");
            assert!(
                !succeeds(&["ip", "link", "show", "br0"]),
                "the bridge is gone"
            );
            let _ = std::fs::remove_file(&file);
            run(&["ip", "netns", "del", "mailns"]);
            run(&["ip", "netns", "del", "dbms"]);
            run(&["ip", "link", "del", "eth1"]);
            drop(router);
        },
    );
}

#[test]
fn a_pid_file_of_a_stopped_container_is_refused_naming_it_before_any_change() {
    isolated(
        "a_pid_file_of_a_stopped_container_is_refused_naming_it_before_any_change",
        || {
            let file = pid_file("stopped");
            let t = seed_with_netns(file.to_str().unwrap());
            std::fs::write(&file, "0\n").unwrap();
            run(&["ip", "netns", "add", "mailns"]);
            run(&["ip", "netns", "add", "dbms"]);
            run(&[
                "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "lanport",
            ]);
            let before = snapshot();
            let err = Backend::on_site(&t, &Site::Node { name: "m1".into() })
                .apply(&t, &Scope::Node("m1".into()), &ApplyOptions::default())
                .unwrap_err();
            let _ = std::fs::remove_file(&file);
            let text = err.to_string();
            assert!(
                text.contains("ct router")
                    && text.contains("pid file")
                    && text.contains("not running"),
                "{text}"
            );
            assert_eq!(err.kind(), ErrorKind::NotReady, "{err:?}");
            assert_eq!(before, snapshot(), "nothing changed");
        },
    );
}
