//! Sysctls under `/proc/sys/net`: `sysctl -w` and reads. `/proc/sys/net` shows the
//! network namespace of the thread that opens the file, so these run on a thread that
//! entered the namespace ([`crate::ns::Netns::run`]).

use std::fs;
use std::io;
use std::path::PathBuf;

use vnet_core::plan::Sysctl;

fn path(sysctl: &Sysctl) -> PathBuf {
    PathBuf::from("/proc/sys").join(sysctl.proc_path())
}

/// Reads the current value (trimmed), `Ok(None)` when the setting does not exist (the
/// link it belongs to is gone).
pub fn read(sysctl: &Sysctl) -> io::Result<Option<String>> {
    match fs::read_to_string(path(sysctl)) {
        Ok(v) => Ok(Some(v.trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `value`.
pub fn write(sysctl: &Sysctl, value: &str) -> io::Result<()> {
    fs::write(path(sysctl), value.as_bytes())
}

/// `sysctl -w net.ipv6.conf.default.disable_ipv6=1` in the calling thread's namespace:
/// links registered there from now on start with IPv6 off (see
/// `crate::ipv6_default`).
pub fn write_default_disable_ipv6() -> io::Result<()> {
    fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", b"1")
}

/// `/proc/sys/net` of one namespace, opened once, so each setting is opened relative
/// to it. Why: the kernel keeps one `net` entry per network namespace under
/// `/proc/sys`, all with the same name, and a full path lookup compares against every
/// one of them (`proc_sys_compare`, under a spinlock): with 1,000 namespaces, every
/// `/proc/sys/net/...` open walked 1,000 entries, and that was the largest single cost
/// of applying and observing at that scale. Below `net` the names are per namespace.
#[derive(Debug)]
pub struct SysctlDir {
    dir: std::os::fd::OwnedFd,
}

impl SysctlDir {
    /// Opens `/proc/sys/net` of the calling thread's namespace.
    pub fn open() -> io::Result<Self> {
        use nix::fcntl::{open, OFlag};
        use nix::sys::stat::Mode;
        let dir = open(
            "/proc/sys/net",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        Ok(SysctlDir { dir })
    }

    fn open_at(&self, sysctl: &Sysctl, write: bool) -> io::Result<fs::File> {
        use nix::fcntl::{openat, OFlag};
        use nix::sys::stat::Mode;
        let full = sysctl.proc_path();
        let rel = full.strip_prefix("net/").unwrap_or(&full);
        let mode = if write {
            OFlag::O_WRONLY
        } else {
            OFlag::O_RDONLY
        };
        let fd = openat(&self.dir, rel, mode | OFlag::O_CLOEXEC, Mode::empty())?;
        Ok(fs::File::from(fd))
    }

    /// Like [`read`], relative to this namespace's `/proc/sys/net`.
    pub fn read(&self, sysctl: &Sysctl) -> io::Result<Option<String>> {
        use std::io::Read;
        let mut file = match self.open_at(sysctl, false) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        Ok(Some(text.trim().to_string()))
    }

    /// Like [`write()`], relative to this namespace's `/proc/sys/net`.
    pub fn write(&self, sysctl: &Sysctl, value: &str) -> io::Result<()> {
        use std::io::Write;
        self.open_at(sysctl, true)?.write_all(value.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_setting_and_reports_a_missing_one_as_absent() {
        // Reading is harmless in any namespace.
        let v = read(&Sysctl::Ipv4Forward).unwrap();
        assert!(matches!(v.as_deref(), Some("0") | Some("1")));
        let gone = Sysctl::DisableIpv6("no-such-link-x".into());
        assert_eq!(read(&gone).unwrap(), None);
    }

    #[test]
    fn relative_reads_agree_with_full_paths() {
        let dir = SysctlDir::open().unwrap();
        for s in [
            Sysctl::Ipv4Forward,
            Sysctl::Ipv6Forward,
            Sysctl::DisableIpv6("lo".into()),
            Sysctl::DisableIpv6("no-such-link-x".into()),
        ] {
            assert_eq!(dir.read(&s).unwrap(), read(&s).unwrap(), "{s:?}");
        }
    }
}
