//! The LAN observer: a thread in a LAN host's namespace that sends an ICMP echo every
//! 10 ms and records send and reply times; the 4-hour neighbour timers of a router-like
//! ("sticky") observer; and a snapshot of the observer's neighbour table.
//!
//! **Why these timers make a neighbour sticky** (the kernel's neighbour state machine,
//! `net/core/neighbour.c`): a resolved entry is REACHABLE for a random time between
//! 1/2 and 3/2 of `base_reachable_time_ms`, with no traffic at all; then it turns STALE
//! (or DELAY when just used). A STALE entry is still used as it is; the first packet
//! sent through it moves it to DELAY, and only after `delay_first_probe_time` seconds
//! without confirmation to PROBE (unicast ARP requests to the MAC it has, then
//! broadcast). Unused STALE entries are garbage-collected after `gc_stale_time`
//! seconds. So with all three at 4 hours (Cisco's default ARP timeout), an entry
//! resolved once keeps its MAC for 2-6 hours and is never re-probed in between: only an
//! ARP packet from the address (a gratuitous ARP, or a request it sends) changes it.
//! The kernel defaults (30 s, 5 s, 60 s) re-resolve within 15-45 s + 5 s + 3 probes.
//! The values are written for `default` and for every interface that exists already
//! (an interface copies `default` when it is created), IPv4 and IPv6.

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;
use serde::Serialize;
use vnet_backend_netlink::ns::Netns;
use vnet_backend_netlink::probe;

use super::record::Record;
use crate::exit::Failure;

/// How often the observer sends an echo request.
pub const INTERVAL: Duration = Duration::from_millis(10);
/// How long the observer still listens for replies after it stopped sending.
const DRAIN: Duration = Duration::from_millis(50);

/// The sticky observer's neighbour settings: (file under `neigh/<dev>/`, value).
pub const STICKY: [(&str, &str); 3] = [
    // 4 h in REACHABLE (the kernel picks 2-6 h from this base).
    ("base_reachable_time_ms", "14400000"),
    // 4 h in DELAY before a used STALE entry is probed.
    ("delay_first_probe_time", "14400"),
    // 4 h before an unused STALE entry is garbage-collected.
    ("gc_stale_time", "14400"),
];

/// The observer: from inside the namespace at `ns`, an echo to `to` every
/// [`INTERVAL`] until `stop`, recording into `record`.
pub fn observe(
    ns: &Path,
    to: IpAddr,
    stop: &AtomicBool,
    record: &Mutex<Record>,
) -> Result<(), String> {
    let file =
        std::fs::File::open(ns).map_err(|e| format!("open namespace {}: {e}", ns.display()))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("enter namespace {}: {e}", ns.display()))?;
    let sock = probe::icmp_socket(to.is_ipv6()).map_err(|e| format!("raw ICMP socket: {e}"))?;
    // A 1 ms receive timeout keeps the 10 ms send pace.
    setsockopt(&sock, sockopt::ReceiveTimeout, &TimeVal::new(0, 1_000))
        .map_err(|e| format!("socket timeout: {e}"))?;
    let ident = (std::process::id() as u16) ^ 0x5a5a;
    let mut next = Instant::now();
    let mut drain_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if drain_until.is_none() && stop.load(Ordering::Relaxed) {
            // Stop sending, but give the echoes in flight time to come back so they
            // are not counted as lost.
            drain_until = Some(now + DRAIN);
        }
        if drain_until.is_some_and(|d| now >= d) {
            return Ok(());
        }
        if drain_until.is_none() && now >= next {
            let mut r = record.lock().map_err(|_| "record poisoned".to_string())?;
            let seq = r.sent.len() as u16;
            match probe::send_echo(&sock, to, ident, seq) {
                // No route or neighbour right now: a lost echo, like ping counts it.
                Ok(()) | Err(nix::errno::Errno::ENETUNREACH | nix::errno::Errno::EHOSTUNREACH) => {}
                Err(e) => return Err(format!("send to {to}: {e}")),
            }
            r.sent.push(Instant::now());
            r.replied.push(None);
            // Keep the pace; after a stall, do not burst to catch up.
            next = (next + INTERVAL).max(now);
        }
        if let Some((from, seq)) = probe::recv_reply(&sock, ident, to.is_ipv6()) {
            let at = Instant::now();
            let mut r = record.lock().map_err(|_| "record poisoned".to_string())?;
            let k = usize::from(seq);
            if from == to && k < r.replied.len() && r.replied[k].is_none() {
                r.replied[k] = Some(at);
            }
        }
    }
}

/// Makes the observer in the namespace at `ns` sticky: writes [`STICKY`] for
/// `default` and every existing interface, IPv4 and IPv6 (where the kernel has the
/// directory: no IPv6 means no `net/ipv6/neigh`).
pub fn make_sticky(ns: &Path) -> Result<(), Failure> {
    let netns = Netns::open(ns).map_err(crate::sandbox::backend_failure)?;
    netns
        .run("set the observer's neighbour timers", || {
            for family in ["ipv4", "ipv6"] {
                let dir = Path::new("/proc/sys/net").join(family).join("neigh");
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                let mut devs: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
                devs.sort();
                for dev in devs {
                    for (file, value) in STICKY {
                        let path = dev.join(file);
                        std::fs::write(&path, value)
                            .with_context(|| format!("write {value} to {}", path.display()))?;
                    }
                }
            }
            Ok(())
        })
        .map_err(crate::sandbox::backend_failure)?
        .map_err(|e: anyhow::Error| Failure::system(e.context("make the observer sticky")))
}

/// One entry of the observer's neighbour table, as `ip -j neigh` reports it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour's address.
    pub dst: String,
    /// The MAC the observer sends to (none while INCOMPLETE or FAILED).
    pub lladdr: Option<String>,
    /// Its NUD state(s), e.g. `REACHABLE`, `STALE`.
    pub state: Vec<String>,
}

impl Neighbour {
    /// `192.168.46.200 02:00:..:.. REACHABLE`.
    pub fn line(&self) -> String {
        format!(
            "{} {} {}",
            self.dst,
            self.lladdr.as_deref().unwrap_or("-"),
            self.state.join(",")
        )
    }
}

/// The observer's neighbour table (the namespace `ns_name` in `/run/netns`), read with
/// `ip -j neigh show` from iproute2.
pub fn neighbours(ns_name: &str) -> Result<Vec<Neighbour>, Failure> {
    let out = std::process::Command::new("ip")
        .args(["-n", ns_name, "-j", "neigh", "show"])
        .output()
        .context("run ip (iproute2) to read the observer's neighbour table")
        .map_err(Failure::system)?;
    if !out.status.success() {
        return Err(Failure::system(anyhow!(
            "ip -n {ns_name} -j neigh show: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse_neighbours(&String::from_utf8_lossy(&out.stdout)).map_err(Failure::system)
}

/// Parses `ip -j neigh show` output (an empty output is an empty table).
fn parse_neighbours(text: &str) -> anyhow::Result<Vec<Neighbour>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let v: serde_json::Value = serde_json::from_str(text).context("parse ip -j neigh")?;
    let list = v
        .as_array()
        .ok_or_else(|| anyhow!("ip -j neigh: not a list"))?;
    Ok(list
        .iter()
        .map(|e| Neighbour {
            dst: e["dst"].as_str().unwrap_or_default().to_string(),
            lladdr: e["lladdr"].as_str().map(str::to_string),
            state: e["state"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_neigh_json_becomes_entries() {
        let text = r#"[{"dst":"192.168.46.200","dev":"eth0","lladdr":"02:00:aa:bb:cc:dd","state":["REACHABLE"]},{"dst":"192.168.46.7","dev":"eth0","state":["FAILED"]}]"#;
        let n = parse_neighbours(text).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].line(), "192.168.46.200 02:00:aa:bb:cc:dd REACHABLE");
        assert_eq!(n[1].lladdr, None);
        assert!(parse_neighbours("\n").unwrap().is_empty());
        assert!(parse_neighbours("{").is_err());
    }

    #[test]
    fn sticky_timers_are_four_hours() {
        let get = |k: &str| STICKY.iter().find(|(f, _)| *f == k).unwrap().1;
        assert_eq!(get("base_reachable_time_ms"), (4 * 3600 * 1000).to_string());
        assert_eq!(get("delay_first_probe_time"), (4 * 3600).to_string());
        assert_eq!(get("gc_stale_time"), (4 * 3600).to_string());
    }
}
