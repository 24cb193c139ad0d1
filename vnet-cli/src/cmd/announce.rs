//! `vnet announce CT --ns PATH --record PATH --interface IF=ADDR,... --schedule MS,...`:
//! the background announcer `vnet start` leaves behind (issue 17). It sends the later
//! offsets of a start's announcement schedule from inside the container's namespace,
//! so the start itself returns once the ports forward and the first announcement is
//! out. It ends when the schedule does, when its record is removed (every `vnet stop`
//! does that and ends it by pid) or when the container's namespace is gone; see
//! `vnet_backend_netlink::lifecycle::announcer`. [`spawn`] is how a start runs it:
//! detached (its own process group, no terminal, no inherited output) and recorded.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::anyhow;
use vnet_backend_netlink::lifecycle::announcer::{self, Target};

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::sandbox::backend_failure;

/// Arguments of `vnet announce`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container (names the announcer in process lists).
    #[arg(value_name = "CT")]
    pub ct: String,
    /// The container's network namespace file (`/run/netns/NAME`).
    #[arg(long, value_name = "PATH")]
    pub ns: PathBuf,
    /// The announcer's record, which names its pid; removing it ends the announcer.
    #[arg(long, value_name = "PATH")]
    pub record: PathBuf,
    /// An interface inside the namespace and its addresses: `eth0=198.18.0.2,2001:db8::2`.
    #[arg(long = "interface", required = true, value_name = "IF=ADDR,...", value_parser = parse_target)]
    pub interfaces: Vec<Target>,
    /// When to announce, in milliseconds from now.
    #[arg(long, value_delimiter = ',', required = true, value_name = "MS,...")]
    pub schedule: Vec<u64>,
}

/// `IF=ADDR,ADDR...` as a [`Target`].
fn parse_target(s: &str) -> Result<Target, String> {
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

/// Follows the schedule; exit 0 however it ended (done, cancelled, container gone).
pub fn run(args: &Args, global: &Global) -> Outcome {
    let mut schedule: Vec<Duration> = args
        .schedule
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    schedule.sort_unstable();
    let ended = announcer::follow(&args.record, &args.ns, &args.interfaces, &schedule)
        .map_err(backend_failure)?;
    match global.output {
        Output::Human => crate::outln!("announcer of {} ended: {ended:?}", args.ct),
        Output::Json => crate::output::json(&serde_json::json!({
            "ct": args.ct,
            "ended": ended,
        })),
    }
    Ok(Exit::Success)
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
