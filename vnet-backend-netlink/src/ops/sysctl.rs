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
}
