//! One cluster node: `node.sh` as pid 1 of fresh net+mount+uts+pid namespaces made by
//! `unshare` for this run, with corosync and Pacemaker inside. Commands run in it by
//! `nsenter`; it ends by SIGKILL of its pid 1 (the kernel then kills every process of
//! its pid namespace), by pid, on [`Node::kill`] or drop.

use anyhow::{anyhow, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::workdir::Workdir;
use crate::exit::Failure;

/// A running cluster node.
#[derive(Debug)]
pub struct Node {
    /// The node's name (its hostname, its name in the topology and in corosync).
    pub name: String,
    /// The `unshare` process (parent of the node's pid 1).
    unshare: Child,
    /// The node's pid 1, as this process sees it.
    pub init: Pid,
}

impl Node {
    /// Starts node `name` from the script in `dir`; returns once its pid 1 is known.
    pub fn start(name: &str, dir: &Workdir) -> Result<Node, Failure> {
        let console = std::fs::File::create(dir.join(&format!("{name}/console.log")))
            .context("create the node's console log")
            .map_err(Failure::system)?;
        let err = console
            .try_clone()
            .context("clone the console log")
            .map_err(Failure::system)?;
        // Should this process die without cleaning up (SIGKILL), the kernel kills
        // unshare (setpriv's parent-death signal, kept across its exec), and unshare's
        // --kill-child the node's pid 1, which ends every process of the node.
        let unshare = Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "--", "unshare"])
            .arg("--kill-child")
            .args([
                "--net",
                "--mount",
                "--uts",
                "--pid",
                "--fork",
                "--mount-proc",
            ])
            // The test's /run/netns is shared: the node keeps a peer of it.
            .args(["--propagation", "unchanged", "--", "sh"])
            .arg(dir.join("node.sh"))
            .arg(name)
            .arg(&dir.path)
            // The daemons' log timestamps are compared with this clock's.
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(err)
            .spawn()
            .context("run unshare (util-linux) for a cluster node")
            .map_err(Failure::system)?;
        let mut node = Node {
            name: name.to_string(),
            init: Pid::from_raw(0),
            unshare,
        };
        let child_list = format!("/proc/{0}/task/{0}/children", node.unshare.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&child_list).unwrap_or_default();
            if let Some(pid) = text.split_whitespace().next().and_then(|p| p.parse().ok()) {
                node.init = Pid::from_raw(pid);
                return Ok(node);
            }
            if Instant::now() > deadline {
                return Err(Failure::system(anyhow!(
                    "cluster node {name} did not start (see {})",
                    dir.join(&format!("{name}/console.log")).display()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Runs `argv` inside the node's namespaces.
    pub fn exec(&self, argv: &[&str]) -> Result<Output, Failure> {
        Command::new("nsenter")
            .arg("-t")
            .arg(self.init.to_string())
            .args(["-n", "-m", "-u", "-p", "--"])
            .args(argv)
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("run {} on {}", argv.join(" "), self.name))
            .map_err(Failure::system)
    }

    /// Like [`Node::exec`], failing with its output when it fails.
    pub fn run(&self, argv: &[&str]) -> Result<String, Failure> {
        let out = self.exec(argv)?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Err(Failure::system(anyhow!(
            "{} on {}: {}: {}{}",
            argv.join(" "),
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }

    /// A file of the node's own mount namespace (its tmpfs logs), while it runs.
    pub fn file(&self, path: &str) -> PathBuf {
        Path::new(&format!("/proc/{}/root", self.init)).join(path.trim_start_matches('/'))
    }

    /// Every process of the node but its pid 1 (corosync, Pacemaker's daemons, the
    /// agents they run).
    pub fn processes(&self) -> Vec<Pid> {
        let mut found = Vec::new();
        let mut todo = vec![self.init];
        while let Some(p) = todo.pop() {
            let list = format!("/proc/{p}/task/{p}/children");
            for c in std::fs::read_to_string(list)
                .unwrap_or_default()
                .split_whitespace()
            {
                if let Ok(c) = c.parse() {
                    found.push(Pid::from_raw(c));
                    todo.push(Pid::from_raw(c));
                }
            }
        }
        found
    }

    /// Sends `sig` to every process of the node but its pid 1; returns how many.
    pub fn signal_all(&self, sig: Signal) -> usize {
        self.processes()
            .into_iter()
            .filter(|p| kill(*p, sig).is_ok())
            .count()
    }

    /// Kills the node: SIGKILL to its pid 1 ends its whole pid namespace; waits for it.
    pub fn kill(&mut self) {
        if self.init.as_raw() > 0 {
            let _ = kill(self.init, Signal::SIGKILL);
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
