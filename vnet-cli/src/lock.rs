//! The lock that makes the commands that change namespaces (`apply`, `destroy`, `demo`,
//! `start`, `stop`) run one at a time on a machine.
//!
//! Two runs that build the same namespaces at once interfere: both see them missing,
//! each creates some, each fails on the other's with "File exists" and undoes its own,
//! and neither is left standing (four parallel applies of the seed all failed this way,
//! some with rollbacks that failed too). Pacemaker starts independent containers in
//! parallel on a real node, and the first creates the node's shared bridges. So every
//! changing command takes an exclusive `flock` on the namespace directory (`/run/netns`)
//! and waits for it, saying so when it has to: the second run then finds the work done
//! (an apply changes nothing) instead of tearing the first one's down. A lock on the
//! directory itself leaves no file behind; it is released when the process ends, even
//! when it is killed. Disjoint topologies are serialized too, at milliseconds each.
//!
//! It is iproute2's lock too: `ip netns add` (6.1 here) waits on the same `flock`, so
//! vnet and a person's `ip netns add` take turns as well. For the same reason
//! `vnet apply --backend shell`, which runs `ip netns add` itself, does not take it (the
//! command would wait for its own parent forever).
//!
//! The wait is bounded (`--wait SECONDS`, [`DEFAULT_WAIT`]): a run stuck while holding
//! the lock (or a shell that holds it with `flock /run/netns ...`) must not make every
//! later run hang. `flock` does not tell who holds a lock, so the one giving up reads
//! the holder from `/proc/locks` (the kernel's list of every lock, by device and inode)
//! and names its pid and command line: no file of vnet's own is needed, and the lock
//! stays the very one iproute2 takes.

use anyhow::anyhow;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use crate::exit::Failure;
use crate::sandbox::Resolved;

/// Where the named namespaces are, sandbox's and containers' alike; what [`take`] locks.
pub const NETNS_DIR: &str = "/run/netns";

/// How long a command waits for another run's lock unless told otherwise (`--wait`):
/// far longer than an apply or destroy of the article's network takes (well under a
/// second), short enough that a stuck holder is reported while someone still watches.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How often a waiting run tries the lock again.
const POLL: Duration = Duration::from_millis(20);

/// The held lock; released when dropped.
pub type Held = Flock<File>;

/// [`take_for`] with the [`DEFAULT_WAIT`].
pub fn take() -> Result<Held, Failure> {
    take_for(DEFAULT_WAIT)
}

/// Takes the machine's namespace lock, waiting at most `wait` while another run holds
/// it (saying so on stderr, which JSON output leaves alone). Gives up with a system
/// failure (exit 4) that names the holder's pid.
pub fn take_for(wait: Duration) -> Result<Held, Failure> {
    std::fs::create_dir_all(NETNS_DIR)
        .map_err(|e| Failure::system(anyhow!("cannot create {NETNS_DIR}: {e}")))?;
    let mut file = File::open(NETNS_DIR).map_err(|e| {
        Failure::system(anyhow!(
            "cannot open {NETNS_DIR} (the namespaces' directory) to lock it: {e}"
        ))
    })?;
    let deadline = Instant::now() + wait;
    let mut said = false;
    loop {
        file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(held) => return Ok(held),
            Err((file, Errno::EWOULDBLOCK)) => file,
            Err((_, e)) => return Err(Failure::system(anyhow!("cannot lock {NETNS_DIR}: {e}"))),
        };
        if Instant::now() >= deadline {
            return Err(Failure::system(anyhow!(
                "gave up after {} s waiting for {NETNS_DIR}, which {} holds locked \
                 (see --wait SECONDS)",
                wait.as_secs_f64(),
                describe(holder(&file))
            )));
        }
        if !said {
            crate::errln!(
                "waiting up to {} s for {} to finish (it holds {NETNS_DIR})",
                wait.as_secs_f64(),
                describe(holder(&file))
            );
            said = true;
        }
        std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// The pid holding an exclusive `flock` on `file`, from `/proc/locks`: a line such as
/// `1: FLOCK  ADVISORY  WRITE 4242 00:1a:17 0 EOF` (device as hex major:minor, inode in
/// decimal); lines of waiters start with `->` and are skipped. `None` when it cannot
/// be told (the holder ended meanwhile, or lives in a pid namespace we cannot see: 0).
fn holder(file: &File) -> Option<u32> {
    let meta = file.metadata().ok()?;
    let (major, minor, ino) = (
        nix::sys::stat::major(meta.dev()),
        nix::sys::stat::minor(meta.dev()),
        meta.ino(),
    );
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // "N:" "FLOCK" "ADVISORY" "WRITE" pid "maj:min:ino" ...
        if fields.len() < 6 || fields[1] != "FLOCK" || fields[3] != "WRITE" {
            return None;
        }
        let mut id = fields[5].split(':');
        let hex = |s: Option<&str>| s.and_then(|s| u64::from_str_radix(s, 16).ok());
        let same = hex(id.next()) == Some(major)
            && hex(id.next()) == Some(minor)
            && id.next().and_then(|s| s.parse::<u64>().ok()) == Some(ino);
        same.then(|| fields[4].parse().ok())
            .flatten()
            .filter(|pid| *pid != 0)
    })
}

/// "pid 4242 (vnet apply seed.toml --sandbox)", or what is known.
fn describe(pid: Option<u32>) -> String {
    let Some(pid) = pid else {
        return "another process (its pid cannot be read from /proc/locks)".into();
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    if words.is_empty() {
        format!("pid {pid}")
    } else {
        format!("pid {pid} ({})", words.join(" "))
    }
}

/// [`take`] on a real node (`--node N --this-host`), nothing in the sandbox: `start` and
/// `stop` of single containers, which Pacemaker runs in parallel on a node, and which
/// `vnet failover-test` runs in its own private sandbox on purpose side by side.
pub fn take_on_node(target: &Resolved) -> Result<Option<Held>, Failure> {
    target.this_node().map(|_| take()).transpose()
}
