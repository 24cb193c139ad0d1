//! Running programs from a kernel test: a command that must succeed ([`run`]), one that
//! may fail ([`succeeds`], [`sh`]), `ip -j` output as JSON ([`ip_json`], [`link`]), and a
//! ping from inside a namespace ([`ping`]).

use std::process::Command;

use serde_json::Value;

/// Runs `argv` and returns its stdout; panics with its stderr when it fails.
pub fn run(argv: &[&str]) -> String {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `argv` runs and exits 0.
pub fn succeeds(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `ip -n NS -d -j WHAT...` as JSON.
pub fn ip_json(ns: &str, what: &[&str]) -> Value {
    let mut argv = vec!["ip", "-n", ns, "-d", "-j"];
    argv.extend_from_slice(what);
    let text = run(&argv);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{argv:?}: {e}: {text}"))
}

/// The link `name` in `ip -n NS -d -j link` output; panics when there is none.
pub fn link(ns: &str, name: &str) -> Value {
    let links = ip_json(ns, &["link", "show"]);
    links
        .as_array()
        .expect("array")
        .iter()
        .find(|l| l["ifname"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no link {name} in {ns}: {links}"))
}

/// `ping -c1 -W1 TO` from inside namespace `ns`, tried up to five times (ARP, and
/// STP-less bridge ports need a moment after they come up).
pub fn ping(ns: &str, to: &str) -> bool {
    (0..5).any(|_| succeeds(&["ip", "netns", "exec", ns, "ping", "-c1", "-W1", to]))
}

/// What a shell command did: its exit code and both outputs.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exit code (128 + N when killed by signal N, as `sh` reports it).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// Standard output parsed as JSON; panics with both outputs when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Runs `command` with `sh -c` and the variables `env` added to ours, whatever its exit
/// code, and returns what it did.
pub fn sh(command: &str, env: &[(&str, &str)]) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("sh -c {command:?}: {e}"));
    let code = out
        .status
        .code()
        .or_else(|| out.status.signal().map(|s| 128 + s))
        .expect("an exit code or a signal");
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
