//! `examples/macvlan.toml` in a sandbox: containers on a node's NIC through macvlan
//! (bridge mode). Check, apply, the kernel's view of the macvlans, every probe of
//! `vnet verify` as the model expects (across one parent and across the LAN), an empty
//! diff, rollback at every step, destroy; and on a real node (the test's namespace, the
//! containers found by pid): a missing parent refused before any change, the node's
//! own NIC used and left in place.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use vnet_backend_netlink::probe::{probe_all, Probe, ProbeOutcome};
use vnet_backend_netlink::{ApplyOptions, Backend, Error, NamespaceMap, NsLocation};
use vnet_core::plan::{Action, LinkSpec, Name, NsRef, Scope};
use vnet_core::{Document, Format, ValidTopology};
use vnet_testkit::{isolated, link, ping, run, snapshot, succeeds};

fn example() -> ValidTopology {
    let text = include_str!("../../examples/macvlan.toml");
    Document::parse(text, Format::Toml)
        .expect("the example parses")
        .validate()
        .expect("the example is valid")
}

fn backend() -> Backend {
    Backend::new(NamespaceMap::sandbox("vnet"))
}

#[test]
fn macvlan_example_applies_verifies_diffs_clean_and_is_destroyed() {
    isolated(
        "macvlan_example_applies_verifies_diffs_clean_and_is_destroyed",
        || {
            let t = example();
            let b = backend();
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified && report.exec.applied == report.plan.len());
            assert!(report.plan.actions().any(|a| matches!(
                a,
                Action::CreateLink {
                    spec: LinkSpec::Macvlan { .. },
                    ..
                }
            )));

            // Each container's eth0 is a bridge-mode macvlan whose lower device is in
            // another namespace (the node's), with its MAC and mark.
            for ct in ["web", "mail", "db"] {
                let ns = format!("vnet-{ct}");
                let details = vnet_testkit::ip_json(&ns, &["-d", "link", "show", "dev", "eth0"]);
                let l = &details[0];
                assert_eq!(l["linkinfo"]["info_kind"], "macvlan", "{ct}: {l}");
                assert_eq!(l["linkinfo"]["info_data"]["mode"], "bridge", "{ct}: {l}");
                assert!(
                    l.get("link_netnsid").is_some(),
                    "{ct}: lower elsewhere: {l}"
                );
                assert_eq!(l["ifalias"], "vnet:macvlan");
            }
            assert_eq!(link("vnet-mail", "eth0")["address"], "02:00:00:46:00:11");
            // The parent stand-ins are the nodes' eth1, on the LAN's switch.
            assert_eq!(link("vnet-m1", "eth1")["ifalias"], "vnet:macvlan");
            assert_eq!(link("vnet-lan46", "mv+0")["master"], "switch");

            // What `vnet verify` does: every probe of the model, from inside.
            let expectations = vnet_core::reach::expectations(&t);
            let probes: Vec<Probe> = expectations
                .iter()
                .map(|e| Probe {
                    ns: PathBuf::from(format!("/run/netns/{}", e.from.sandbox_name("vnet"))),
                    to: e.to,
                })
                .collect();
            let outcomes =
                probe_all(&probes, Duration::from_secs(3)).expect("the machine lets vnet probe");
            for (e, o) in expectations.iter().zip(&outcomes) {
                let answered = matches!(o, ProbeOutcome::Reply(_));
                assert_eq!(
                    answered, e.reachable,
                    "{} -> {}: {o:?} ({})",
                    e.from, e.to, e.reason
                );
            }
            // Across one parent (web and mail on m1's eth1), across the LAN (to db on
            // m2, to the LAN host).
            assert!(ping("vnet-web", "192.168.46.11"));
            assert!(ping("vnet-web", "192.168.46.12"));
            assert!(ping("vnet-db", "192.168.46.1"));
            assert!(expectations.iter().filter(|e| e.reachable).count() >= 12);

            assert!(b.diff(&t, &Scope::Sandbox).unwrap().is_empty());
            assert!(b.check(&t, &Scope::Sandbox).unwrap().is_empty());

            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

#[test]
fn a_fault_at_any_step_of_the_macvlan_example_leaves_the_system_as_before() {
    isolated(
        "a_fault_at_any_step_of_the_macvlan_example_leaves_the_system_as_before",
        || {
            let t = example();
            let b = backend();
            let plan = vnet_core::plan::compile(&t, &Scope::Sandbox);
            let macvlans: Vec<usize> = plan
                .actions()
                .enumerate()
                .filter(|(_, a)| {
                    matches!(
                        a,
                        Action::CreateLink {
                            spec: LinkSpec::Macvlan { .. },
                            ..
                        }
                    )
                })
                .map(|(k, _)| k)
                .collect();
            assert_eq!(macvlans.len(), 3, "one macvlan per container");
            let before = snapshot();
            for k in 0..plan.len() {
                let options = ApplyOptions {
                    fail_at: Some(k),
                    ..ApplyOptions::default()
                };
                match b.apply(&t, &Scope::Sandbox, &options) {
                    Err(Error::RolledBack { index, .. }) => assert_eq!(index, k),
                    other => panic!("fault at {k}: expected a rollback, got {other:?}"),
                }
                assert_eq!(
                    before,
                    snapshot(),
                    "state differs after a fault at step {k}"
                );
            }
            // Faults past the macvlans' creation undid them too (the loop covered them).
            assert!(macvlans.iter().all(|k| *k + 1 < plan.len()));
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}

/// Container stand-ins on a real node: processes in their own network namespace, `lo`
/// up; killed on drop.
struct Cts(Vec<(String, Child)>);

impl Drop for Cts {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Cts {
    fn start(names: &[&str]) -> Cts {
        let mut cts = Cts(Vec::new());
        for name in names {
            let child = Command::new("unshare")
                .args(["--net", "sh", "-c", "ip link set lo up && exec sleep 120"])
                .spawn()
                .expect("unshare --net sleep");
            let pid = child.id().to_string();
            cts.0.push((name.to_string(), child));
            let deadline = Instant::now() + Duration::from_secs(5);
            while !Self::in_pid(&pid, &["ip", "-br", "link", "show", "up", "lo"]).contains("lo") {
                assert!(Instant::now() < deadline, "{name}: no namespace with lo up");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        cts
    }

    fn in_pid(pid: &str, argv: &[&str]) -> String {
        let mut full = vec!["nsenter", "-t", pid, "-n"];
        full.extend_from_slice(argv);
        if succeeds(&full) {
            run(&full)
        } else {
            String::new()
        }
    }

    fn pid(&self, name: &str) -> String {
        let (_, c) = self.0.iter().find(|(n, _)| n == name).expect("started");
        c.id().to_string()
    }

    /// Node m1 is the test's own namespace; the containers are found by pid.
    fn backend(&self) -> Backend {
        let mut map = NamespaceMap::explicit()
            .with(NsRef::Node("m1".into()), NsLocation::Current)
            .allow_current();
        for (name, child) in &self.0 {
            map = map.with(
                NsRef::Ct(Name::from(name.as_str())),
                NsLocation::Pid(child.id()),
            );
        }
        Backend::new(map)
    }
}

#[test]
fn macvlans_on_a_real_nodes_nic_and_a_missing_parent_refused_first() {
    isolated(
        "macvlans_on_a_real_nodes_nic_and_a_missing_parent_refused_first",
        || {
            let t = example();
            let cts = Cts::start(&["web", "mail"]);
            run(&["ip", "link", "set", "lo", "up"]);
            let b = cts.backend();
            let scope = Scope::Node("m1".into());

            // No eth1 on the node: refused before any change, naming it.
            let before = snapshot();
            let err = b
                .apply(&t, &scope, &ApplyOptions::default())
                .expect_err("the parent is missing");
            assert!(err.to_string().contains("eth1"), "{err}");
            assert_eq!(before, snapshot());
            assert!(!Cts::in_pid(&cts.pid("web"), &["ip", "-br", "link"]).contains("eth0"));

            // The node's NIC (a veth here, its other end the "LAN").
            run(&[
                "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "lanport",
            ]);
            run(&["ip", "link", "set", "eth1", "up"]);
            run(&["ip", "link", "set", "lanport", "up"]);
            let report = b.apply(&t, &scope, &ApplyOptions::default()).unwrap();
            assert!(report.verified);
            let web = Cts::in_pid(
                &cts.pid("web"),
                &["ip", "-d", "-br", "address", "show", "eth0"],
            );
            assert!(web.contains("192.168.46.10/24"), "{web}");
            let kind = Cts::in_pid(&cts.pid("web"), &["ip", "-d", "link", "show", "eth0"]);
            assert!(kind.contains("macvlan mode bridge"), "{kind}");
            // Bridge mode: the two macvlans of eth1 reach each other.
            let mail_pid = cts.pid("mail");
            assert!(
                (0..5).any(|_| succeeds(&[
                    "nsenter",
                    "-t",
                    &mail_pid,
                    "-n",
                    "ping",
                    "-c1",
                    "-W1",
                    "192.168.46.10"
                ])),
                "mail reaches web across eth1"
            );
            let again = b.apply(&t, &scope, &ApplyOptions::default()).unwrap();
            assert_eq!(again.mutating_requests, 0, "{:?}", again.plan);

            b.destroy(&t, &scope).unwrap();
            for ct in ["web", "mail"] {
                let links = Cts::in_pid(&cts.pid(ct), &["ip", "-br", "link"]);
                assert!(!links.contains("eth0"), "{ct}: {links}");
            }
            assert!(
                succeeds(&["ip", "link", "show", "eth1"]),
                "the node's NIC stays"
            );
            drop(cts);
        },
    );
}
