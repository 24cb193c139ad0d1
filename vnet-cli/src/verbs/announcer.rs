//! The background announcer as `vnet start` runs it: a detached `vnet announce` process
//! (its own process group, no terminal, no inherited output) whose pid is recorded, so
//! `vnet stop` ends it; and its `--interface IF=ADDR,...` argument, which the start
//! writes and `vnet announce` reads.

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::anyhow;
use vnet_backend_netlink::lifecycle::announcer::{self, Target};

use crate::exit::Failure;
use crate::sandbox::backend_failure;

/// `IF=ADDR,ADDR...` as a [`Target`].
pub fn parse_target(s: &str) -> Result<Target, String> {
    let (ifname, addrs) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not IF=ADDR,...: no `=`"))?;
    let addresses = addrs
        .split(',')
        .map(|a| {
            a.parse::<IpAddr>()
                .map_err(|e| format!("`{a}` in `{s}`: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ifname.is_empty() {
        return Err(format!("`{s}` names no interface"));
    }
    Ok(Target {
        ifname: ifname.to_string(),
        addresses,
    })
}

/// The `--interface` value of `target`.
fn target_arg(target: &Target) -> String {
    let addrs: Vec<String> = target.addresses.iter().map(|a| a.to_string()).collect();
    format!("{}={}", target.ifname, addrs.join(","))
}

/// Starts the background announcer of container `ct` (namespace file `ct_ns`) for
/// `targets` at `schedule` (offsets from now), after ending an older one of the same
/// container, and records its pid. Returns the pid (`None`: nothing to announce, or the
/// namespace is gone).
pub fn spawn(
    ct: &str,
    ct_ns: &Path,
    targets: &[Target],
    schedule: &[Duration],
) -> Result<Option<u32>, Failure> {
    if targets.is_empty() || schedule.is_empty() {
        return Ok(None);
    }
    let Some(record) = announcer::record_path(ct, ct_ns) else {
        return Ok(None);
    };
    announcer::cancel(&record).map_err(backend_failure)?;
    let exe = std::env::current_exe()
        .map_err(|e| Failure::system(anyhow!("cannot find vnet's own executable: {e}")))?;
    let ms: Vec<String> = schedule.iter().map(|d| d.as_millis().to_string()).collect();
    let mut command = Command::new(exe);
    command
        .arg("announce")
        .arg(ct)
        .arg("--ns")
        .arg(ct_ns)
        .arg("--record")
        .arg(&record)
        .arg("--schedule")
        .arg(ms.join(","));
    for t in targets {
        command.arg("--interface").arg(target_arg(t));
    }
    // Detached: its own process group (a Ctrl-C of the start does not end it), and no
    // inherited output (a caller reading the start's output, e.g. the OCF agent's
    // `$(vnet start ...)`, would otherwise wait for the announcer to finish).
    let child = std::os::unix::process::CommandExt::process_group(&mut command, 0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::system(anyhow!("cannot start the announcer of {ct}: {e}")))?;
    let pid = child.id();
    announcer::register(&record, pid).map_err(backend_failure)?;
    Ok(Some(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interface_argument_round_trips() {
        let t = parse_target("eth0=198.18.0.2,2001:db8::2").unwrap();
        assert_eq!(t.ifname, "eth0");
        assert_eq!(t.addresses.len(), 2);
        assert_eq!(target_arg(&t), "eth0=198.18.0.2,2001:db8::2");
        assert!(parse_target("eth0").unwrap_err().contains("no `=`"));
        assert!(parse_target("eth0=nope").unwrap_err().contains("nope"));
        assert!(parse_target("=198.18.0.2").is_err());
    }
}
