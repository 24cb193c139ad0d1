//! Starting with the container (issue 16): a real LXC container whose config is what
//! `vnet render --dialect lxc` prints gets its network from its `start-host` hook
//! (`vnet start`) when `lxc-start` starts it, and loses it through its stop hook
//! (`vnet stop`) when `lxc-stop` stops it; and the unit `vnet render --dialect systemd`
//! prints passes `systemd-analyze verify`.
//!
//! The test's private namespace plays node m1; LXC's state is in the test's own mount
//! namespace (a scratch directory over `/var/lib/lxc`, the test's tmpfs on `/run`).

use vnet_testkit::isolated;

use crate::common::{code, stderr, stdout, vnet, TempDir};
use crate::kernel::{expect, run_steps};
use crate::restart::{needs, TOPOLOGY};

/// The restart tests' topology (web and db on m1's bridge), web an LXC container.
fn topology() -> String {
    TOPOLOGY.replace("{web}", "lxc:web")
}

#[test]
fn an_lxc_containers_hooks_start_and_stop_its_network() {
    if !needs("lxc-create", "lxc") || !needs("busybox", "busybox-static") {
        return;
    }
    isolated(
        "lxc_hook::an_lxc_containers_hooks_start_and_stop_its_network",
        || {
            let node = "--node m1 --this-host";
            let setup = format!(
                "sed \"s|{{dir}}|$D|g\" > $D/t.toml <<'EOF'\n{}EOF\n\
                 unshare --net sleep 600 >/dev/null 2>&1 </dev/null & echo $! > $D/db.pid; \
                 sleep 0.2; mkdir -p $D/lxc /var/lib/lxc && mount --bind $D/lxc /var/lib/lxc",
                topology()
            );
            let steps = run_steps(&[
                ("setup", &setup),
                (
                    "render",
                    &format!(
                        "$VNET render $D/t.toml --dialect lxc {} > $D/web.conf",
                        "--node m1"
                    ),
                ),
                ("config", "cat $D/web.conf"),
                // The busybox template's init runs `udhcpc`, which would take the
                // address off the eth0 vnet gives it: a container configured by vnet
                // runs no DHCP client of its own.
                (
                    "create",
                    "lxc-create -n web -t busybox -f $D/web.conf >/dev/null && \
                     sed -i /udhcpc/d $D/lxc/web/rootfs/etc/init.d/rcS",
                ),
                // db first, while web is not running (lxc-info answers no pid): a
                // command about db sees web absent, not an error.
                ("db", &format!("$VNET start db $D/t.toml {node}")),
                (
                    "lxc-start",
                    "lxc-start -n web -d -l INFO -o $D/lxc.log && lxc-wait -n web -s RUNNING -t 10",
                ),
                ("status", &format!("$VNET status web $D/t.toml {node}")),
                (
                    "inside",
                    "nsenter -t $(lxc-info -n web -pH) -n ip -br address show eth0",
                ),
                ("verify", &format!("$VNET verify $D/t.toml {node}")),
                // What `vnet start` noted for `vnet status` (the namespace it built in),
                // and every `vnet stop` forgets.
                ("noted", "test -s /run/vnet/built/restart.web"),
                ("lxc-stop", "lxc-stop -n web -k"),
                ("host end", "ip link show vweb"),
                ("forgotten", "test ! -e /run/vnet/built/restart.web"),
                ("db still up", &format!("$VNET status db $D/t.toml {node}")),
                ("web stopped", &format!("$VNET status web $D/t.toml {node}")),
                ("log", "cat $D/lxc.log"),
                (
                    "cleanup",
                    &format!(
                        "lxc-stop -n web -k; lxc-destroy -n web >/dev/null; \
                         for r in /sys/fs/cgroup/*; do rmdir $r/lxc.payload.web \
                         $r/lxc.monitor.web $r/lxc.pivot 2>/dev/null; done; \
                         $VNET destroy $D/t.toml {node} >/dev/null; kill $(cat $D/db.pid)"
                    ),
                ),
            ]);
            let log = &steps["log"].stdout;
            expect(&steps, "setup", 0);
            expect(&steps, "render", 0);
            let config = &expect(&steps, "config", 0).stdout;
            assert!(
                config.contains("lxc.hook.start-host = ") && config.contains(" start web "),
                "{config}"
            );
            expect(&steps, "create", 0);
            expect(&steps, "db", 0);
            let started = &steps["lxc-start"];
            assert_eq!(
                started.code, 0,
                "{}{}\n{log}",
                started.stdout, started.stderr
            );
            expect(&steps, "status", 0);
            let inside = &expect(&steps, "inside", 0).stdout;
            assert!(
                inside.contains("198.18.7.2/24"),
                "the hook cabled web: {inside}"
            );
            expect(&steps, "verify", 0);
            expect(&steps, "noted", 0);
            expect(&steps, "lxc-stop", 0);
            let host_end = &steps["host end"];
            assert_ne!(host_end.code, 0, "vweb is gone: {}\n{log}", host_end.stdout);
            // The kernel deletes vweb with the namespace anyway; that `vnet stop` ran in
            // the stop hook shows in its forgetting the note.
            let forgotten = &steps["forgotten"];
            assert_eq!(forgotten.code, 0, "the stop hook ran vnet stop\n{log}");
            expect(&steps, "db still up", 0);
            // Stopped by LXC, web is cleanly not running (what an OCF monitor wants).
            let web = &expect(&steps, "web stopped", 7).stdout;
            assert!(web.contains("web: not running"), "{web}");
            expect(&steps, "cleanup", 0);
        },
    );
}

/// The boot unit passes `systemd-analyze verify` (which runs without systemd as pid 1)
/// and a broken one (a relative `ExecStart=`) does not, so the check can fail.
#[test]
fn the_boot_unit_passes_systemd_analyze_verify() {
    if !needs("systemd-analyze", "systemd") {
        return;
    }
    let dir = TempDir::new("systemd-unit");
    let topology = dir.write("t.toml", &topology().replace("{dir}", "/run/vnet-test"));
    let o = vnet(&["render", &topology, "--dialect", "systemd", "--node", "m1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let unit = stdout(&o);
    let exec = format!(
        "ExecStart={} apply {topology} --node m1 --this-host\n",
        env!("CARGO_BIN_EXE_vnet")
    );
    assert!(unit.contains(&exec), "{unit}");
    assert!(unit.contains("After=network-pre.target\n"), "{unit}");
    assert!(
        unit.contains("Before=lxc@web.service network.target\n"),
        "{unit}"
    );
    let verify = |text: &str| {
        let file = dir.write("vnet-restart.service", text);
        let out = std::process::Command::new("systemd-analyze")
            .args(["verify", &file])
            .output()
            .expect("systemd-analyze");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, why) = verify(&unit);
    assert!(ok, "systemd-analyze verify refused the unit: {why}\n{unit}");
    let (ok, _) = verify(&unit.replace("ExecStart=/", "ExecStart="));
    assert!(!ok, "a relative ExecStart= is refused");
}
