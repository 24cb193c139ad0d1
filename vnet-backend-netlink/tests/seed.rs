//! The article's network (`examples/seed.toml`) in a sandbox: apply, reach, repair,
//! idempotence, rollback at every step and after a failed verification, what a killed
//! run leaves behind, destroy.

use vnet_backend_netlink::verify::{Field, Object};
use vnet_backend_netlink::{ApplyOptions, Backend, Error, NamespaceMap};
use vnet_core::plan::{Action, NsRef, Scope};
use vnet_core::ValidTopology;
use vnet_testkit::{fault_at_every_step, isolated, link, ping, run, seed, snapshot};

fn backend() -> Backend {
    Backend::new(NamespaceMap::sandbox("vnet"))
}

fn addresses(ns: &str, dev: &str) -> Vec<String> {
    let v = vnet_testkit::ip_json(ns, &["address", "show", "dev", dev]);
    v[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["family"] == "inet")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect()
}

#[test]
fn seed_network_works_and_a_second_apply_changes_nothing() {
    isolated(
        "seed_network_works_and_a_second_apply_changes_nothing",
        || {
            let t = seed();
            let b = backend();
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified && report.exec.applied == report.plan.len());
            assert!(report.mutating_requests > 0);

            for (port, mac) in [("veth1", "9a"), ("veth2", "9c"), ("veth3", "9e")] {
                let l = link("vnet-m1", port);
                assert_eq!(l["master"], "br0", "{port}");
                assert_eq!(l["address"], format!("00:12:34:56:78:{mac}"), "{port}");
                assert_eq!(l["ifalias"], "vnet:article");
            }
            for (ct, mac, addr) in [
                ("router", "9b", "192.168.199.1/24"),
                ("mail", "9d", "192.168.199.2/24"),
                ("dbms", "9f", "192.168.199.3/24"),
            ] {
                let ns = format!("vnet-{ct}");
                assert_eq!(
                    link(&ns, "eth0")["address"],
                    format!("00:12:34:56:78:{mac}")
                );
                assert_eq!(addresses(&ns, "eth0"), vec![addr.to_string()]);
            }
            assert_eq!(addresses("vnet-router", "eth1"), vec!["192.168.46.200/24"]);
            let routes = run(&["ip", "-n", "vnet-mail", "route", "show", "proto", "118"]);
            assert!(
                routes.contains("192.168.0.0/16 via 192.168.199.1"),
                "{routes}"
            );
            let fwd = run(&[
                "ip",
                "netns",
                "exec",
                "vnet-router",
                "cat",
                "/proc/sys/net/ipv4/ip_forward",
            ]);
            assert_eq!(fwd.trim(), "1", "router forwards");
            assert!(ping("vnet-router", "192.168.199.2"));
            assert!(ping("vnet-router", "192.168.199.3"));
            assert!(
                ping("vnet-mail", "192.168.46.1"),
                "mail reaches the LAN through the router"
            );

            let again = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(again.plan.is_empty(), "second plan: {:?}", again.plan);
            assert_eq!(
                again.mutating_requests, 0,
                "second apply sent mutating requests"
            );

            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(
                run(&["ip", "netns", "list"]).trim(),
                "",
                "destroy leaves nothing"
            );
            b.destroy(&t, &Scope::Sandbox).unwrap();
        },
    );
}

#[test]
fn destroy_of_a_never_applied_topology_is_ok() {
    isolated("destroy_of_a_never_applied_topology_is_ok", || {
        let report = backend().destroy(&seed(), &Scope::Sandbox).unwrap();
        assert_eq!(report.applied, 0);
        assert_eq!(report.mutating_requests, 0);
    });
}

#[test]
fn repair_names_and_fixes_exactly_what_was_broken_by_hand() {
    isolated(
        "repair_names_and_fixes_exactly_what_was_broken_by_hand",
        || {
            let t = seed();
            let b = backend();
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            run(&[
                "ip",
                "-n",
                "vnet-mail",
                "address",
                "del",
                "192.168.199.2/24",
                "dev",
                "eth0",
            ]);
            run(&["ip", "-n", "vnet-m1", "link", "set", "veth3", "nomaster"]);

            let mismatches = b.check(&t, &Scope::Sandbox).unwrap();
            assert!(mismatches.iter().any(|m| m.ns == NsRef::Ct("mail".into())
                && m.object == Object::Link("eth0".into())
                && m.field == Field::Addresses));
            assert!(mismatches.iter().any(|m| m.ns == NsRef::Node("m1".into())
                && m.object == Object::Link("veth3".into())
                && m.field == Field::Master));

            let plan = b.diff(&t, &Scope::Sandbox).unwrap();
            let actions: Vec<&Action> = plan.actions().collect();
            assert!(actions.contains(&&Action::AddAddress {
                ns: NsRef::Ct("mail".into()),
                link: "eth0".into(),
                address: "192.168.199.2/24".parse().unwrap(),
            }));
            assert!(actions.contains(&&Action::SetMaster {
                ns: NsRef::Node("m1".into()),
                link: "veth3".into(),
                master: "br0".into(),
            }));
            // Besides those two, only the route the kernel removed with mail's address.
            for a in &actions {
                assert!(
                    matches!(a, Action::AddAddress { .. } | Action::SetMaster { .. })
                        || matches!(a, Action::AddRoute { ns, .. } if *ns == NsRef::Ct("mail".into())),
                    "unexpected repair action {a:?}"
                );
            }
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert_eq!(report.plan, plan);
            assert!(b.check(&t, &Scope::Sandbox).unwrap().is_empty());
            assert!(ping("vnet-mail", "192.168.199.3"));
            b.destroy(&t, &Scope::Sandbox).unwrap();
        },
    );
}

#[test]
fn a_fault_at_any_step_of_the_seed_leaves_the_system_as_before() {
    isolated(
        "a_fault_at_any_step_of_the_seed_leaves_the_system_as_before",
        || {
            let t = seed();
            let b = backend();
            let plan = vnet_core::plan::compile(&t, &Scope::Sandbox);
            let actions: Vec<_> = plan.actions().collect();
            assert!(actions.len() > 20, "seed plan has {} steps", actions.len());
            fault_at_every_step(&actions, |k| rolled_back_at(&b, &t, k));
            // And from a partly broken state: a failing repair restores the broken state.
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            run(&[
                "ip",
                "-n",
                "vnet-mail",
                "address",
                "del",
                "192.168.199.2/24",
                "dev",
                "eth0",
            ]);
            run(&["ip", "-n", "vnet-m1", "link", "set", "veth3", "nomaster"]);
            run(&["ip", "-n", "vnet-m1", "link", "set", "veth2", "down"]);
            let repair = b.diff(&t, &Scope::Sandbox).unwrap();
            let actions: Vec<_> = repair.actions().collect();
            assert!(actions.len() >= 3, "{actions:?}");
            fault_at_every_step(&actions, |k| rolled_back_at(&b, &t, k));
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

/// Applies `t` with a fault injected at step `k`; an error unless it rolled back there.
fn rolled_back_at(b: &Backend, t: &ValidTopology, k: usize) -> Result<(), String> {
    let options = ApplyOptions {
        fail_at: Some(k),
        ..ApplyOptions::default()
    };
    match b.apply(t, &Scope::Sandbox, &options) {
        Err(Error::RolledBack { index, .. }) if index == k => Ok(()),
        other => Err(format!("expected a rollback at {k}, got {other:?}")),
    }
}

/// Changes what the apply just did, behind its back: mail's host end down again.
fn veth2_down() {
    run(&["ip", "-n", "vnet-m1", "link", "set", "veth2", "down"]);
}

/// An apply whose verification fails (someone takes a port down between the last step
/// and the read-back) is undone: from nothing back to nothing, and a repair of a broken
/// state back to exactly that broken state; the error names the difference.
#[test]
fn an_apply_that_fails_verification_is_undone() {
    isolated("an_apply_that_fails_verification_is_undone", || {
        let t = seed();
        let b = backend();
        let options = ApplyOptions {
            before_verify: Some(veth2_down),
            settle: std::time::Duration::from_millis(200),
            ..ApplyOptions::default()
        };
        let before = snapshot();
        let err = b.apply(&t, &Scope::Sandbox, &options).unwrap_err();
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(
            matches!(&err, Error::NotVerified { rollback, undone, .. } if rollback.is_empty() && *undone > 20),
            "{chain}"
        );
        assert!(
            chain.contains("link veth2: up is false, expected true"),
            "{chain}"
        );
        assert_eq!(err.kind(), vnet_backend_netlink::ErrorKind::Verify);
        assert_eq!(before, snapshot(), "nothing is left of the apply");

        // A repair that cannot be verified leaves the broken state as it found it.
        b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
            .unwrap();
        run(&["ip", "-n", "vnet-m1", "link", "set", "veth2", "down"]);
        run(&["ip", "-n", "vnet-m1", "link", "set", "veth3", "nomaster"]);
        let broken = snapshot();
        let err = b.apply(&t, &Scope::Sandbox, &options).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::NotVerified {
                    rollback,
                    undone: 2..,
                    ..
                } if rollback.is_empty()
            ),
            "{err}"
        );
        assert_eq!(broken, snapshot(), "the repair is undone");
        b.destroy(&t, &Scope::Sandbox).unwrap();
        assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
    });
}

/// Deletes dbms's host end behind vnet's back (its peer goes with it).
fn veth3_deleted() {
    run(&["ip", "-n", "vnet-m1", "link", "del", "veth3"]);
}

/// A rollback that cannot undo everything says so: the repair of two breaks (veth2
/// down, veth3 out of the bridge) is not verified because veth3 vanished meanwhile; its
/// undo still takes veth2 down again, cannot take the vanished veth3 out of the bridge,
/// and the error names both the difference and the failed undo (kind `Inconsistent`).
/// The next apply repairs all of it.
#[test]
fn a_rollback_that_cannot_undo_a_step_says_so_and_the_next_apply_repairs() {
    isolated(
        "a_rollback_that_cannot_undo_a_step_says_so_and_the_next_apply_repairs",
        || {
            let t = seed();
            let b = backend();
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            run(&["ip", "-n", "vnet-m1", "link", "set", "veth2", "down"]);
            run(&["ip", "-n", "vnet-m1", "link", "set", "veth3", "nomaster"]);
            let options = ApplyOptions {
                before_verify: Some(veth3_deleted),
                settle: std::time::Duration::from_millis(200),
                ..ApplyOptions::default()
            };
            let err = b.apply(&t, &Scope::Sandbox, &options).unwrap_err();
            let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
            match &err {
                Error::NotVerified {
                    rollback: failed,
                    undone,
                    ..
                } if !failed.is_empty() => {
                    assert_eq!(*undone, 2, "{chain}");
                    assert!(
                        failed.iter().any(|e| e.to_string().contains("veth3")),
                        "{chain}"
                    );
                }
                other => panic!("expected an incomplete rollback: {other:?}"),
            }
            assert!(chain.contains("link veth3"), "{chain}");
            assert_eq!(err.kind(), vnet_backend_netlink::ErrorKind::Inconsistent);
            let flags = link("vnet-m1", "veth2")["flags"].to_string();
            assert!(!flags.contains("\"UP\""), "veth2's undo ran: {flags}");

            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified);
            assert!(
                ping("vnet-dbms", "192.168.199.1"),
                "dbms reaches the router"
            );
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

/// Destroy after parts vanished by hand (a container's namespace deleted, a host end
/// deleted, the bridge deleted): what is left goes, nothing fails, and a second destroy
/// has nothing to do (FINDINGS case 28).
#[test]
fn destroy_after_parts_vanished_by_hand_removes_the_rest() {
    isolated(
        "destroy_after_parts_vanished_by_hand_removes_the_rest",
        || {
            let t = seed();
            let b = backend();
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            run(&["ip", "netns", "del", "vnet-mail"]);
            run(&["ip", "-n", "vnet-m1", "link", "del", "veth3"]);
            run(&["ip", "-n", "vnet-m1", "link", "del", "br0"]);
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
            let again = b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(again.mutating_requests, 0, "{again:?}");
        },
    );
}

/// What a run killed between creating a link and marking it leaves: links without
/// vnet's mark, under names the topology wants, in vnet's own namespaces. The next
/// apply takes them as vnet's instead of refusing them as someone else's; an unmarked
/// link under another name stays someone else's.
#[test]
fn unmarked_links_in_vnets_namespaces_are_vnets() {
    isolated("unmarked_links_in_vnets_namespaces_are_vnets", || {
        let t = seed();
        let b = backend();
        b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
            .unwrap();
        let alias = |ns: &str, dev: &str| link(ns, dev)["ifalias"].as_str().map(str::to_string);
        assert_eq!(alias("vnet-mail", "eth0").as_deref(), Some("vnet:article"));
        for (ns, dev) in [("vnet-mail", "eth0"), ("vnet-m1", "veth2")] {
            run(&["ip", "-n", ns, "link", "set", dev, "alias", ""]);
            assert_eq!(alias(ns, dev), None, "{dev} unmarked");
        }
        run(&[
            "ip",
            "-n",
            "vnet-mail",
            "link",
            "add",
            "look0",
            "type",
            "veth",
            "peer",
            "name",
            "look1",
        ]);
        let report = b
            .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
            .unwrap();
        assert!(report.verified);
        assert!(report.plan.is_empty(), "nothing to do: {:?}", report.plan);
        assert_eq!(
            link("vnet-mail", "look0")["ifname"],
            "look0",
            "not vnet's: kept"
        );
        assert!(
            ping("vnet-mail", "192.168.199.1"),
            "mail still reaches the router"
        );
        b.destroy(&t, &Scope::Sandbox).unwrap();
        assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
    });
}

/// A file with content where a namespace should be (not the empty file an interrupted
/// run leaves, which the next run clears: `tests/netns_files.rs`) is named in the
/// refusal, and nothing changes.
#[test]
fn a_file_that_is_no_namespace_is_named_and_left_alone() {
    isolated(
        "a_file_that_is_no_namespace_is_named_and_left_alone",
        || {
            let t = seed();
            std::fs::write("/run/netns/vnet-dbms", "not a namespace\n").unwrap();
            // `snapshot` cannot enter that file; what could change is the files and links.
            let state = || {
                let mut files: Vec<String> = std::fs::read_dir("/run/netns")
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                files.sort();
                (files, run(&["ip", "-d", "link", "show"]))
            };
            let before = state();
            let err = backend()
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap_err();
            assert!(matches!(err, Error::NotANamespace { .. }), "{err:?}");
            let text = err.to_string();
            assert!(
                text.contains("/run/netns/vnet-dbms is not a network namespace")
                    && text.contains("rm /run/netns/vnet-dbms"),
                "{text}"
            );
            assert_eq!(err.kind(), vnet_backend_netlink::ErrorKind::Conflict);
            assert_eq!(before, state(), "nothing changed");
            std::fs::remove_file("/run/netns/vnet-dbms").unwrap();
        },
    );
}
