//! A container that restarts on a real node (issue 16): its runtime gives it a new
//! network namespace, empty, and the old one dies with the network vnet built in it.
//! `vnet status` says it restarted (exit 3), `vnet apply FILE --node m1 --this-host`
//! builds its network in the new namespace, and `vnet verify` answers 0 again.
//!
//! The container `web` is found afresh on every command, once by a pid file (a `sleep`
//! in a namespace of its own, killed and started again), once by LXC (`lxc:web`,
//! `lxc-stop -k` then `lxc-start`) and once by Podman (`podman:web`, `podman stop` then
//! `podman start`); `db` beside it is a pid-file container that does not restart. The
//! test's private namespace plays node m1. Every process a test starts is stopped by its
//! pid (or by its runtime, by name) in the last step, which runs also when others fail.

use vnet_testkit::{isolated, succeeds};

use crate::kernel::{expect, run_steps};

/// The topology: two containers on node m1's bridge; `{web}` is web's `netns`, `{dir}`
/// the scratch directory (the pid files are there).
pub(crate) const TOPOLOGY: &str = r#"# Two containers on a node's bridge; web restarts.
name = "restart"

[[node]]
name = "m1"

[[bridge]]
name = "br0"
nodes = ["m1"]

[[subnet]]
cidr = "198.18.7.0/24"
bridge = "br0"

[[ct]]
id = 201
name = "web"
node = "m1"
netns = "{web}"

[[ct.veth]]
name = "eth0"
mac = "02:00:c6:12:07:02"
host_name = "vweb"
bridge = "br0"
addresses = ["198.18.7.2/24"]

[[ct]]
id = 202
name = "db"
node = "m1"
netns = "pid:{dir}/db.pid"

[[ct.veth]]
name = "eth0"
mac = "02:00:c6:12:07:03"
host_name = "vdb"
bridge = "br0"
addresses = ["198.18.7.3/24"]
"#;

/// Starts a pid-file container: a `sleep` in a network namespace of its own, its pid in
/// `$D/NAME.pid` (`unshare` execs `sleep`, so `$!` is the sleep's pid).
fn pid_container(name: &str) -> String {
    format!(
        "unshare --net sleep 600 >/dev/null 2>&1 </dev/null & echo $! > $D/{name}.pid; \
         sleep 0.2"
    )
}

/// How a runtime starts, restarts and removes the container `web`.
struct Runtime<'a> {
    /// web's `netns` in the topology (`{dir}` is the scratch directory).
    netns: &'a str,
    /// Prepares the runtime and starts web.
    start: String,
    /// Stops web and starts it again (a new namespace).
    restart: String,
    /// Stops and removes web and what the runtime left; runs also after a failure.
    cleanup: String,
}

/// The test's steps around `runtime`, and their checks.
fn follow_a_restart(runtime: Runtime<'_>) {
    let node = "--node m1 --this-host";
    // run_steps' `$D` is the scratch directory: the topology and db's pid file go there.
    let text = TOPOLOGY.replace("{web}", runtime.netns);
    let setup = format!(
        "sed \"s|{{dir}}|$D|g\" > $D/t.toml <<'EOF'\n{text}EOF\n{} && {}",
        pid_container("db"),
        runtime.start
    );
    let steps = run_steps(&[
        ("setup", &setup),
        ("apply", &format!("$VNET apply $D/t.toml {node}")),
        ("up", &format!("$VNET status web $D/t.toml {node}")),
        ("restart", &runtime.restart),
        ("restarted", &format!("$VNET status web $D/t.toml {node}")),
        (
            "restarted json",
            &format!("$VNET --output json status web $D/t.toml {node}"),
        ),
        ("db", &format!("$VNET status db $D/t.toml {node}")),
        ("repair", &format!("$VNET apply $D/t.toml {node}")),
        ("repaired", &format!("$VNET status web $D/t.toml {node}")),
        ("verify", &format!("$VNET verify $D/t.toml {node}")),
        ("destroy", &format!("$VNET destroy $D/t.toml {node}")),
        ("stopped", &format!("$VNET status web $D/t.toml {node}")),
        (
            "cleanup",
            &format!("{}; kill $(cat $D/db.pid)", runtime.cleanup),
        ),
    ]);
    expect(&steps, "setup", 0);
    expect(&steps, "apply", 0);
    expect(&steps, "up", 0);
    expect(&steps, "restart", 0);
    let line = &expect(&steps, "restarted", 3).stdout;
    assert!(line.contains("web: broken, it restarted"), "{line}");
    let json = expect(&steps, "restarted json", 3).json();
    let (before, now) = (&json["restarted"]["built_in"], &json["restarted"]["now_in"]);
    assert!(before.is_u64() && now.is_u64() && before != now, "{json}");
    assert_eq!(json["state"], "broken", "{json}");
    expect(&steps, "db", 0);
    let repair = &expect(&steps, "repair", 0).stdout;
    assert!(repair.contains("repaired"), "{repair}");
    expect(&steps, "repaired", 0);
    expect(&steps, "verify", 0);
    expect(&steps, "destroy", 0);
    // Destroyed, the container is cleanly not running, not restarted.
    expect(&steps, "stopped", 7);
    expect(&steps, "cleanup", 0);
}

/// Fails under `CI` when `program` is missing, else says the test skipped; whether it
/// is there.
pub(crate) fn needs(program: &str, package: &str) -> bool {
    if succeeds(&["sh", "-c", &format!("command -v {program}")]) {
        return true;
    }
    let why = format!("{program} missing (apt-get install {package})");
    assert!(std::env::var_os("CI").is_none(), "{why}; CI must not skip");
    eprintln!("skipped: {why}");
    false
}

#[test]
fn a_pid_file_container_is_followed_across_a_restart() {
    isolated(
        "restart::a_pid_file_container_is_followed_across_a_restart",
        || {
            follow_a_restart(Runtime {
                netns: "pid:{dir}/web.pid",
                start: pid_container("web"),
                restart: format!("kill $(cat $D/web.pid); {}", pid_container("web")),
                cleanup: "kill $(cat $D/web.pid)".into(),
            })
        },
    );
}

/// LXC's state in the test's own mount namespace: a scratch directory over
/// `/var/lib/lxc` (vnet asks `lxc-info -n web` without `-P`); `/run` is the test's tmpfs.
/// The busybox template's init runs `udhcpc`, which would take the address vnet gives
/// eth0 off again: a container configured by vnet runs no DHCP client of its own.
const LXC_START: &str = "mkdir -p $D/lxc /var/lib/lxc && mount --bind $D/lxc /var/lib/lxc && \
     echo 'lxc.net.0.type = empty' > $D/web.conf && \
     lxc-create -n web -t busybox -f $D/web.conf >/dev/null && \
     sed -i /udhcpc/d $D/lxc/web/rootfs/etc/init.d/rcS && lxc-start -n web -d && \
     lxc-wait -n web -s RUNNING -t 5";

/// Stops and destroys LXC's web and removes the empty cgroups LXC leaves in every
/// hierarchy (they hold no process once it is stopped).
const LXC_CLEANUP: &str = "lxc-stop -n web -k; lxc-destroy -n web >/dev/null; \
     for r in /sys/fs/cgroup/*; do rmdir $r/lxc.payload.web $r/lxc.monitor.web \
     $r/lxc.pivot 2>/dev/null; done; true";

#[test]
fn an_lxc_container_is_followed_across_a_restart() {
    if !needs("lxc-create", "lxc busybox-static") {
        return;
    }
    isolated(
        "restart::an_lxc_container_is_followed_across_a_restart",
        || {
            follow_a_restart(Runtime {
                netns: "lxc:web",
                start: LXC_START.into(),
                restart: "lxc-stop -n web -k && lxc-start -n web -d && \
                          lxc-wait -n web -s RUNNING -t 5"
                    .into(),
                cleanup: LXC_CLEANUP.into(),
            })
        },
    );
}

/// Podman as FINDINGS runs it here (its storage in the scratch directory, the vfs
/// driver, no cgroups, no events), set in its configuration files rather than on its
/// command line, because vnet asks a plain `podman inspect`: in the test's own mount
/// namespace a scratch directory covers `/etc/containers` (the store is in the scratch
/// directory, the run root on the test's tmpfs `/run`) and Podman refuses hybrid
/// cgroups until `/sys/fs/cgroup/unified` is unmounted.
const PODMAN_SETUP: &str = "(umount /sys/fs/cgroup/unified 2>/dev/null; true) && \
     mkdir -p $D/etc $D/lib && \
     printf '[storage]\\ndriver = \"vfs\"\\nrunroot = \"/run/containers/storage\"\\n\
graphroot = \"%s\"\\n' $D/lib > $D/etc/storage.conf && \
     printf '[engine]\\ncgroup_manager = \"cgroupfs\"\\nevents_logger = \"none\"\\n' \
       > $D/etc/containers.conf && \
     mount --bind $D/etc /etc/containers";

#[test]
fn a_podman_container_is_followed_across_a_restart() {
    if !needs("podman", "podman crun") || !needs("busybox", "busybox-static") {
        return;
    }
    isolated(
        "restart::a_podman_container_is_followed_across_a_restart",
        || {
            // A busybox root file system (no image pull), no network (the container's
            // own namespace with `lo`), the limits the sandbox allows (root may not
            // raise them here, and Podman would).
            let start = format!(
                "{PODMAN_SETUP} && mkdir -p $D/rootfs/bin && cp /bin/busybox $D/rootfs/bin/ && \
                 ln -s busybox $D/rootfs/bin/sleep && \
                 podman run -d --name web --network none --cgroups=disabled \
                 --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
                 --rootfs $D/rootfs /bin/sleep 600 >/dev/null"
            );
            follow_a_restart(Runtime {
                netns: "podman:web",
                start,
                restart: "podman stop -t 0 web >/dev/null && podman start web >/dev/null".into(),
                cleanup: "podman rm -f -t 0 web >/dev/null".into(),
            })
        },
    );
}
