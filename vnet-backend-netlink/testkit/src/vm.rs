//! Kernel tests that need 802.1Q VLAN links. Where the running kernel has 802.1Q (probed
//! in a private network namespace) they run like any kernel test, through
//! [`crate::isolated`]. Where it has not (this project's Firecracker machines), the test
//! binary re-executes the one test inside a QEMU guest booted with Debian's kernel
//! (`scripts/vlan-kernel`); the guest mounts this machine's root read-only, so it runs this
//! very binary, which then takes the ordinary `isolated()` path inside the guest's kernel.
//!
//! `VNET_VLAN_VM=always` runs in the guest even when the kernel has 802.1Q (to test this
//! harness), `never` never does; `VNET_VM_TIMEOUT` (seconds) bounds one guest run.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::isolate::{isolated, CHILD_ENV};

/// Set in the guest's environment: the test is already in the guest.
pub const GUEST_ENV: &str = "VNET_VM_GUEST";

/// The guest's marker line: `VNET-VM-EXIT <code>` of the command it ran.
const EXIT_MARKER: &str = "VNET-VM-EXIT ";

/// Printed by the guest's test process once `isolated()` came back: the test ran and
/// passed (an exit code 0 alone would also come from a name that matches no test).
const PASSED_MARKER: &str = "VNET-VM-PASSED ";

/// One guest run's time limit when `VNET_VM_TIMEOUT` does not say (emulated guests are slow).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Variables the guest's test process inherits from ours (the rest of the guest's
/// environment is empty: it is a fresh machine).
const PASSED_ENV: &[&str] = &["PATH", "CI", "RUST_BACKTRACE", "RUST_LOG", "HOME"];

/// Runs `body` in a private network namespace on a kernel that has 802.1Q: this one, or a
/// guest's. `name` is the test's name (for `--exact`). When no such kernel can be had:
/// fails when `CI` is set, else prints the skip reason.
pub fn vlan_kernel(name: &str, body: impl FnOnce()) {
    let child = std::env::var_os(CHILD_ENV).is_some();
    if !child && std::env::var_os(GUEST_ENV).is_some() {
        isolated(name, body);
        println!("{PASSED_MARKER}{name}");
        return;
    }
    if child || !nix::unistd::Uid::effective().is_root() {
        // Already re-executed; or without root, where isolated() says why.
        return isolated(name, body);
    }
    let mode = std::env::var("VNET_VLAN_VM").unwrap_or_else(|_| "auto".into());
    let missing = match mode.as_str() {
        "never" => None,
        "always" => Some("VNET_VLAN_VM=always".to_string()),
        "auto" => probe_8021q().err(),
        other => panic!("VNET_VLAN_VM must be auto, always or never, not {other:?}"),
    };
    let Some(why) = missing else {
        return isolated(name, body);
    };
    eprintln!("{name}: running in a guest with Debian's kernel: {why}");
    match in_guest(name) {
        Ok((0, true)) => {}
        Ok((0, false)) => panic!("{name}: the guest ran no such test"),
        Ok((code, _)) => panic!("{name} failed in the guest: exit code {code}"),
        Err(reason) => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{name}: no kernel with 802.1Q: this one has none ({why}) and the guest \
                     gave no result: {reason}; CI must not skip kernel tests"
                );
            }
            eprintln!("SKIPPED: {name}: no kernel with 802.1Q ({why}); guest: {reason}");
        }
    }
}

/// Whether this kernel makes a VLAN link: tried on a veth pair in a network namespace of
/// its own that disappears with the probe process. The error is the kernel's answer.
pub fn probe_8021q() -> Result<(), String> {
    let out = Command::new("unshare")
        .args(["--net", "--", "sh", "-c"])
        .arg(
            "ip link add vnetprobe0 type veth peer name vnetprobe1 && \
             ip link add link vnetprobe0 name vnetprobe0.10 type vlan id 10",
        )
        .output()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "creating a VLAN link in a private namespace failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `scripts/vlan-kernel` of this workspace (this crate sits two levels below its root).
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/vlan-kernel")
}

/// Quotes `s` for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Paths the guest covers with its own tmpfs: this machine's files there are invisible
/// unless passed to the guest to keep (`scripts/vlan-kernel run FILE KEEP...`); `/dev/`
/// cannot be kept.
const HIDDEN_IN_GUEST: &[&str] = &["/tmp/", "/run/", "/var/tmp/", "/dev/"];

/// The guest's job: the script to run and the directories it needs kept visible.
struct Job {
    file: PathBuf,
    keep: Vec<PathBuf>,
}

/// Writes the guest's job: cd to our directory, our environment's [`PASSED_ENV`], then
/// this binary running only `name`. Our binary, directory and the job itself may live
/// under a path the guest covers (a checkout in /tmp): those directories are kept.
fn job_file(name: &str) -> Result<Job, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let out = Command::new(script())
        .arg("dir")
        .output()
        .map_err(|e| format!("{}: {e}", script().display()))?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("jobs");
    let exe_dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut keep = Vec::new();
    for path in [&exe_dir, &cwd, &dir] {
        let text = path.to_string_lossy();
        if let Some(h) = HIDDEN_IN_GUEST.iter().find(|h| text.starts_with(**h)) {
            if *h == "/dev/" || text.contains(|c: char| c == ',' || c.is_whitespace()) {
                return Err(format!(
                    "{text} is under {h}, which the guest covers with its own tmpfs"
                ));
            }
            keep.push(path.clone());
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let mut text = format!("cd {} || exit 126\n", sh_quote(&cwd.to_string_lossy()));
    for var in PASSED_ENV {
        if let Ok(value) = std::env::var(var) {
            text.push_str(&format!("export {var}={}\n", sh_quote(&value)));
        }
    }
    text.push_str(&format!("export {GUEST_ENV}=1\n"));
    text.push_str(&format!(
        "exec {} --exact {} --nocapture --test-threads=1\n",
        sh_quote(&exe.to_string_lossy()),
        sh_quote(name)
    ));
    let file = dir.join(format!("{}-{name}.sh", std::process::id()));
    std::fs::write(&file, text).map_err(|e| format!("write {}: {e}", file.display()))?;
    Ok(Job { file, keep })
}

/// What a reader thread reports.
enum Line {
    Out(String),
    Closed,
}

/// Forwards `from` line by line to our stdout (not the test harness's capture, like the
/// output of `isolated()`'s child), sending each line to `tx`.
fn forward(from: impl Read + Send + 'static, tx: mpsc::Sender<Line>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            let line = line.trim_end_matches('\r').to_string();
            let _ = writeln!(std::io::stdout().lock(), "{line}");
            if tx.send(Line::Out(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(Line::Closed);
    });
}

/// Boots the guest to run `name`, streams its console, and returns the test's exit code
/// and whether it reported `name` passed; an error says why the guest gave no exit code
/// (not prepared, no QEMU, did not boot, timeout).
fn in_guest(name: &str) -> Result<(i32, bool), String> {
    let job = job_file(name)?;
    let result = boot(&job, &format!("{PASSED_MARKER}{name}"));
    let _ = std::fs::remove_file(&job.file);
    result
}

/// Runs the guest on `job`; see [`in_guest`].
fn boot(job: &Job, passed_line: &str) -> Result<(i32, bool), String> {
    let timeout = std::env::var("VNET_VM_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let started = Instant::now();
    // `run` ends in `exec qemu`: this child's pid is QEMU's.
    let mut child = Command::new(script())
        .arg("run")
        .arg(&job.file)
        .args(&job.keep)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", script().display()))?;
    let (tx, rx) = mpsc::channel();
    forward(child.stdout.take().expect("piped"), tx.clone());
    forward(child.stderr.take().expect("piped"), tx);
    let mut last: Vec<String> = Vec::new();
    let mut open = 2;
    let mut code = None;
    let mut passed = false;
    while open > 0 && code.is_none() {
        let left = timeout.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(Line::Out(line)) => {
                passed |= line == passed_line;
                if let Some(rest) = line.strip_prefix(EXIT_MARKER) {
                    code = rest.trim().parse::<i32>().ok();
                }
                last.push(line);
                if last.len() > 10 {
                    last.remove(0);
                }
            }
            Ok(Line::Closed) => open -= 1,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "no result after {timeout:?}; QEMU (pid {}) killed; last lines: {last:?}",
                    child.id()
                ));
            }
        }
    }
    // The guest powers off after the marker; do not wait long for QEMU to notice.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("wait for QEMU: {e}"))?
        {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("guest run took {:.1} s", started.elapsed().as_secs_f64());
    code.map(|c| (c, passed)).ok_or_else(|| {
        format!("the guest printed no exit code (QEMU: {status:?}); last lines: {last:?}")
    })
}
