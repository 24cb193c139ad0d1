//! A real node whose router is an LXC container (`netns = "lxc:router"`, issue 16): LXC
//! 5 with the busybox template (no download), its namespace found by `lxc-info -n router
//! -pH` on every command. LXC leaves the container's `lo` down, so vnet brings it up.
//! The LXC state lives in the test's private mount namespace (a tmpfs on `/run`, a
//! scratch directory over `/var/lib/lxc`); the empty cgroups LXC leaves are removed.
//!
//! Needs `lxc` and `busybox-static` (Debian); without them the test fails under `CI`.

use std::path::Path;

use vnet_backend_netlink::{ApplyOptions, Backend, ErrorKind, Site};
use vnet_core::plan::Scope;
use vnet_core::{Document, Format};
use vnet_testkit::{isolated, run, sh, succeeds};

/// Removes the empty cgroups `lxc-start` leaves (`lxc.pivot`, `lxc.monitor.router`,
/// `lxc.payload.router`) in every hierarchy; they hold no process once it is stopped.
fn remove_lxc_cgroups() {
    let Ok(roots) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for root in roots.flatten() {
        for name in ["lxc.payload.router", "lxc.monitor.router", "lxc.pivot"] {
            let _ = std::fs::remove_dir(root.path().join(name));
        }
    }
}

#[test]
fn a_router_in_an_lxc_container_is_found_by_its_runtime() {
    if !succeeds(&["sh", "-c", "command -v lxc-create && test -x /bin/busybox"]) {
        let why = "lxc or busybox-static missing (apt-get install lxc busybox-static)";
        assert!(std::env::var_os("CI").is_none(), "{why}; CI must not skip");
        eprintln!("skipped: {why}");
        return;
    }
    isolated(
        "a_router_in_an_lxc_container_is_found_by_its_runtime",
        || {
            let scratch = std::env::temp_dir().join(format!("vnet-lxc-{}", std::process::id()));
            std::fs::create_dir_all(scratch.join("lib")).unwrap();
            std::fs::write(scratch.join("router.conf"), "lxc.net.0.type = empty\n").unwrap();
            let s = scratch.display();
            // /run private (LXC's lock and monitor sockets), /run/netns back on it.
            run(&[
                "sh",
                "-c",
                &format!(
                    "mount -t tmpfs tmpfs /run && mkdir -p /run/netns /var/lib/lxc && \
             mount --bind {s}/lib /var/lib/lxc"
                ),
            ]);
            let lxc = sh(
                &format!(
                    "lxc-create -n router -t busybox -f {s}/router.conf >/dev/null && \
                 lxc-start -n router -d && sleep 0.3 && lxc-info -n router -pH"
                ),
                &[],
            );
            let result = std::panic::catch_unwind(|| {
                assert_eq!(lxc.code, 0, "lxc: {}{}", lxc.stdout, lxc.stderr);
                let pid = lxc.stdout.trim().to_string();
                let inside = |cmd: &str| run(&["sh", "-c", &format!("nsenter -t {pid} -n {cmd}")]);
                assert!(
                    !inside("ip -br link show lo").contains("UP"),
                    "LXC leaves lo down"
                );
                let text = include_str!("../../examples/seed.toml").replace(
                    "name = \"router\"\n",
                    "name = \"router\"\nnetns = \"lxc:router\"\n",
                );
                let t = Document::parse(&text, Format::Toml)
                    .unwrap()
                    .validate()
                    .unwrap();
                run(&["ip", "netns", "add", "mail"]);
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
                let addrs = inside("ip -br address show");
                assert!(
                    addrs.contains("192.168.46.200/24"),
                    "NIC in the LXC router: {addrs}"
                );
                assert!(addrs.contains("192.168.199.1/24"), "{addrs}");
                assert!(
                    inside("ip -br link show lo").contains("UP"),
                    "lo brought up"
                );
                let plan = Backend::on_site(&t, &site).diff(&t, &scope).unwrap();
                assert!(plan.is_empty(), "{}", plan.to_json());
                Backend::on_site(&t, &site).destroy(&t, &scope).unwrap();
                assert!(succeeds(&["ip", "link", "show", "eth1"]), "the NIC is back");

                // Stopped: LXC answers no pid, and the apply says so before any change.
                run(&["lxc-stop", "-n", "router", "-k"]);
                let err = Backend::on_site(&t, &site)
                    .apply(&t, &scope, &ApplyOptions::default())
                    .unwrap_err();
                let text = err.to_string();
                assert!(
                    text.contains("lxc:router")
                        && text.contains("lxc-info")
                        && text.contains("not running"),
                    "{text}"
                );
                assert_eq!(err.kind(), ErrorKind::NotReady);
                assert!(succeeds(&["ip", "link", "show", "eth1"]), "the NIC stayed");
            });
            let _ = sh("lxc-stop -n router -k; lxc-destroy -n router", &[]);
            remove_lxc_cgroups();
            let _ = std::fs::remove_dir_all(Path::new(&scratch));
            if let Err(e) = result {
                std::panic::resume_unwind(e);
            }
        },
    );
}
