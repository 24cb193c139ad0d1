//! Container stand-ins for tests of a real node (`Scope::Node`), where vnet finds a
//! container's network namespace by its process id, as on an OpenVZ host: each is a
//! process in a network namespace of its own, inside the test's private one.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::command::{run, succeeds};

/// A process (`sleep`) in a new network namespace with `lo` up, like a running
/// container's; killed on drop, also when the test fails.
#[derive(Debug)]
pub struct Container {
    name: String,
    child: Child,
}

impl Container {
    /// Starts the stand-in for container `name` and waits (at most 5 s) until it is in a
    /// namespace of its own with `lo` up.
    pub fn start(name: &str) -> Container {
        let own = std::fs::read_link("/proc/self/ns/net").expect("our network namespace");
        let child = Command::new("unshare")
            .args(["--net", "sh", "-c", "ip link set lo up && exec sleep 600"])
            .spawn()
            .expect("unshare --net sleep");
        let ct = Container {
            name: name.to_string(),
            child,
        };
        let path = format!("/proc/{}/ns/net", ct.pid());
        let deadline = Instant::now() + Duration::from_secs(5);
        // unshare runs before exec, and sh sets lo up after it: wait for both.
        let ready = || {
            std::fs::read_link(&path).ok().is_some_and(|ns| ns != own)
                && ct.succeeds(&["ip", "-br", "link", "show", "up", "lo"])
                && ct
                    .run(&["ip", "-br", "link", "show", "up", "lo"])
                    .contains("lo")
        };
        while !ready() {
            assert!(Instant::now() < deadline, "{name}: no namespace of its own");
            std::thread::sleep(Duration::from_millis(5));
        }
        ct
    }

    /// The container's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id vnet finds the namespace by.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `nsenter -t PID -n ARGV...`: runs `argv` in the container's network namespace and
    /// returns its stdout; panics when it fails.
    pub fn run(&self, argv: &[&str]) -> String {
        let pid = self.pid().to_string();
        let mut full = vec!["nsenter", "-t", &pid, "-n"];
        full.extend_from_slice(argv);
        run(&full)
    }

    /// Whether `argv` succeeds in the container's network namespace.
    pub fn succeeds(&self, argv: &[&str]) -> bool {
        let pid = self.pid().to_string();
        let mut full = vec!["nsenter", "-t", &pid, "-n"];
        full.extend_from_slice(argv);
        succeeds(&full)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
