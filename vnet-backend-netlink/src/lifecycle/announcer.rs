//! The background half of a start's announcements: a detached announcer process
//! (`vnet announce`) sends the schedule's later offsets (20 ms, 200 ms, 1 s, 5 s after
//! the first) so that a start returns as soon as the container's ports forward and its
//! first announcement is out (issue 17: each start used to block on its own schedule).
//!
//! Each announcer has a *record*, a small file vnet owns under `/run/vnet/announce`
//! (`$VNET_RUN_DIR/announce` when that is set), named after the container and the inode
//! of its network namespace, so two sandboxes with the same names (tests in private
//! namespaces, two prefixes) never share one. Its first line is `pid N`; the announcer
//! appends one `sent OFFSET_MS arp A na B` line per offset it sent. The record is how
//! [`cancel`] (called by every stop) finds the process to end, by its pid, and how the
//! announcer knows it is still wanted: it stops when its record is removed or names
//! another pid, when the namespace is gone or replaced (the container stopped), and
//! when the schedule ends (it then removes its record). Between two sends it holds
//! nothing of the namespace open, so a stop's namespace delete is never held up by it.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::announce;
use crate::error::{Error, Result};

/// The environment variable that moves vnet's runtime directory (tests point it into a
/// directory of their own).
pub const RUN_DIR_ENV: &str = "VNET_RUN_DIR";
/// vnet's runtime directory unless [`RUN_DIR_ENV`] says otherwise.
pub const RUN_DIR: &str = "/run/vnet";
/// How often the announcer looks at its record while it waits for the next offset.
const LOOK: Duration = Duration::from_millis(10);
/// How long a new announcer waits for the start that spawned it to write its record.
const REGISTER_WAIT: Duration = Duration::from_secs(2);
/// How long [`cancel`] waits for a signalled announcer to end.
const END_WAIT: Duration = Duration::from_secs(1);

/// One interface an announcer sends for, inside the container's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The interface inside the container.
    pub ifname: String,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
}

/// Why an announcer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// Every offset of its schedule was sent.
    Done,
    /// Its record was removed or taken over (a stop, or a newer start).
    Cancelled,
    /// The container's namespace or interface is gone or was replaced.
    Gone,
}

/// The directory of the announcers' records.
pub fn records_dir() -> PathBuf {
    std::env::var_os(RUN_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(RUN_DIR))
        .join("announce")
}

/// The record of container `ct`'s announcer, whose namespace file is `ct_ns`; `None`
/// when the namespace is not there (nothing can announce in it).
pub fn record_path(ct: &str, ct_ns: &Path) -> Option<PathBuf> {
    let inode = fs::metadata(ct_ns).ok()?.ino();
    Some(records_dir().join(format!("{ct}.{inode}")))
}

/// The error of `doing` on `path`.
fn failed(path: &Path, doing: &str, source: std::io::Error) -> Error {
    Error::AnnouncerRecord {
        path: path.to_path_buf(),
        doing: doing.to_string(),
        source,
    }
}

/// Writes `record` for the announcer with `pid` (replacing an older one whole, by
/// rename, so a reader never sees half a file).
pub fn register(record: &Path, pid: u32) -> Result<()> {
    let dir = record.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| failed(dir, "create the directory", e))?;
    let partial = record.with_extension("new");
    fs::write(&partial, format!("pid {pid}\n")).map_err(|e| failed(&partial, "write", e))?;
    fs::rename(&partial, record).map_err(|e| failed(record, "rename into place", e))
}

/// The pid a record names (`None`: no record, or not one of ours).
pub fn recorded_pid(record: &Path) -> Option<u32> {
    let text = fs::read_to_string(record).ok()?;
    text.lines().next()?.strip_prefix("pid ")?.parse().ok()
}

/// The offsets (in milliseconds) a record says were sent.
pub fn recorded_sends(record: &Path) -> Vec<u64> {
    fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("sent ")?.split(' ').next()?.parse().ok())
        .collect()
}

/// Whether process `pid` is running (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may hold spaces.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// Whether `pid` is an announcer (`vnet announce ...`): the check that keeps a stale
/// record from ending a process that reused its pid.
fn is_announcer(pid: u32) -> bool {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| c.split(|b| *b == 0).any(|arg| arg == b"announce"))
        .unwrap_or(false)
}

/// Cancels the announcer of `record`, if any: removes the record, ends its process
/// (SIGTERM, by the recorded pid, when that pid is still an announcer) and waits (at
/// most a second) until it has. Returns the pid it ended.
pub fn cancel(record: &Path) -> Result<Option<u32>> {
    let pid = recorded_pid(record);
    match fs::remove_file(record) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(record, "remove", e)),
    }
    let Some(pid) = pid.filter(|p| alive(*p) && is_announcer(*p)) else {
        return Ok(None);
    };
    let raw = nix::unistd::Pid::from_raw(pid as i32);
    match nix::sys::signal::kill(raw, nix::sys::signal::Signal::SIGTERM) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(e) => return Err(failed(record, &format!("end announcer {pid}"), e.into())),
    }
    let deadline = Instant::now() + END_WAIT;
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(Some(pid))
}

/// Whether `record` still names this process.
fn still_mine(record: &Path) -> bool {
    recorded_pid(record) == Some(std::process::id())
}

/// Appends one line to the record.
fn note(record: &Path, line: &str) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(record)
        .map_err(|e| failed(record, "open to append", e))?;
    writeln!(f, "{line}").map_err(|e| failed(record, "append", e))
}

/// The announcer's body (in its own process): waits until `record` names it, then at
/// each offset of `schedule` (from the call) announces every target's addresses once
/// inside the namespace at `ct_ns`, noting each send in the record. Ends early when
/// the record goes or names another pid, or the namespace is gone or replaced; removes
/// its record when it ends while the record still names it (the schedule ended, the
/// namespace went: a `vnet destroy`, or the private mount namespace of a test).
pub fn follow(
    record: &Path,
    ct_ns: &Path,
    targets: &[Target],
    schedule: &[Duration],
) -> Result<Ended> {
    let ended = follow_schedule(record, ct_ns, targets, schedule);
    if still_mine(record) {
        fs::remove_file(record).map_err(|e| failed(record, "remove", e))?;
    }
    ended
}

/// [`follow`] up to removing the record.
fn follow_schedule(
    record: &Path,
    ct_ns: &Path,
    targets: &[Target],
    schedule: &[Duration],
) -> Result<Ended> {
    let start = Instant::now();
    let registered_by = start + REGISTER_WAIT;
    while !still_mine(record) {
        if Instant::now() >= registered_by {
            return Ok(Ended::Cancelled);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let Ok(inode) = fs::metadata(ct_ns).map(|m| m.ino()) else {
        return Ok(Ended::Gone);
    };
    for offset in schedule {
        loop {
            if !still_mine(record) {
                return Ok(Ended::Cancelled);
            }
            let left = (start + *offset).saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(LOOK));
        }
        if fs::metadata(ct_ns).map(|m| m.ino()).ok() != Some(inode) {
            return Ok(Ended::Gone);
        }
        let (mut arp, mut na) = (0, 0);
        for target in targets {
            match announce::announce(ct_ns, &target.ifname, &target.addresses, &[Duration::ZERO]) {
                Ok(report) => {
                    arp += report.arp_sent;
                    na += report.na_sent;
                }
                // The namespace or the interface went away between the look and the
                // send: the container stopped.
                Err(Error::Namespace { .. } | Error::Announce { .. }) => return Ok(Ended::Gone),
                Err(e) => return Err(e),
            }
        }
        note(
            record,
            &format!("sent {} arp {arp} na {na}", offset.as_millis()),
        )?;
    }
    Ok(Ended::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_pid_and_its_sends_and_cancel_removes_it() {
        let dir = std::env::temp_dir().join(format!("vnet-announcer-{}", std::process::id()));
        let record = dir.join("mail.1");
        register(&record, 4_000_000).unwrap();
        assert_eq!(recorded_pid(&record), Some(4_000_000));
        note(&record, "sent 20 arp 1 na 0").unwrap();
        note(&record, "sent 200 arp 1 na 0").unwrap();
        assert_eq!(recorded_sends(&record), vec![20, 200]);
        // No such process: the record goes, nothing is signalled.
        assert_eq!(cancel(&record).unwrap(), None);
        assert!(!record.exists());
        assert_eq!(cancel(&record).unwrap(), None, "a second cancel is fine");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_announcer_without_its_record_ends_cancelled() {
        let dir = std::env::temp_dir().join(format!("vnet-announcer-x-{}", std::process::id()));
        let record = dir.join("mail.2");
        register(&record, std::process::id() + 1).unwrap();
        let started = Instant::now();
        let ended = follow(&record, Path::new("/nonexistent"), &[], &[Duration::ZERO]).unwrap();
        assert_eq!(ended, Ended::Cancelled);
        assert!(started.elapsed() >= REGISTER_WAIT);
        fs::remove_dir_all(&dir).unwrap();
    }
}
