//! The moves done by processes, as an admin or Pacemaker does them (issue 17):
//!
//! - `cli`: one `vnet start CT... --node N FILE --sandbox --prefix P` process (this same
//!   binary), as the README's failover story runs it; after the measurement one `vnet
//!   stop CT... FILE` (it ends the detached announcers `vnet start` left).
//! - `ocf`: the OCF agent `vnet-backend-shell/ocf/vnet-ct`, installed as
//!   `<dir>/resource.d/vnet/ct` with the parameters `vnet render --dialect pacemaker`
//!   gives each resource (`topology`, `ct`) plus the node, the `vnet` binary and the
//!   sandbox, called as Pacemaker's executor calls it (`OCF_RESKEY_*` in the
//!   environment, the action as the argument) in the order of one transition: the
//!   leaves' starts at once, each followed by its monitor; the gateways' starts once
//!   every leaf's start returned (the render's "start the leaf, then the router"
//!   ordering); after the measurement the stops, gateways first.
//!
//! The failover node's copy of the topology (with the case's uplink MAC) is written as
//! JSON into a private directory for them, removed with [`Installed`].

use anyhow::{anyhow, Context};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

use vnet_core::ValidTopology;

use super::mover::{Mover, Prepared};
use crate::exit::Failure;

/// The OCF agent's script, as shipped.
const AGENT: &str = include_str!("../../../../vnet-backend-shell/ocf/vnet-ct");

/// The recurring monitor's interval Pacemaker passes the agent, in ms (`OCF_RESKEY_CRM_meta_interval`).
const MONITOR_INTERVAL_MS: &str = "10000";

/// The files a process mover needs: the failover node's topology file and, for `ocf`,
/// the installed agent. The directory is removed on drop.
#[derive(Debug)]
pub struct Installed {
    mover: Mover,
    dir: PathBuf,
    topology: PathBuf,
    agent: PathBuf,
    exe: PathBuf,
    prefix: String,
}

impl Installed {
    /// Writes `failover` (the failover node's copy) and, for `ocf`, the agent into a new
    /// private directory.
    pub fn new(mover: Mover, failover: &ValidTopology, prefix: &str) -> Result<Self, Failure> {
        let exe = std::env::current_exe()
            .context("find vnet's own executable")
            .map_err(Failure::system)?;
        let dir = std::env::temp_dir().join(format!(
            "vnet-failover-{}-{}",
            std::process::id(),
            failover.name()
        ));
        let installed = Installed {
            mover,
            topology: dir.join("topology.json"),
            agent: dir.join("resource.d/vnet/ct"),
            dir,
            exe,
            prefix: prefix.to_string(),
        };
        installed.write(failover).map_err(Failure::system)?;
        Ok(installed)
    }

    fn write(&self, failover: &ValidTopology) -> anyhow::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("create {}", self.dir.display()))?;
        let json = serde_json::to_string_pretty(failover.topology())?;
        std::fs::write(&self.topology, json)
            .with_context(|| format!("write {}", self.topology.display()))?;
        if self.mover == Mover::Ocf {
            let parent = self.agent.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent)
                .with_context(|| format!("create {}", parent.display()))?;
            std::fs::write(&self.agent, AGENT)
                .with_context(|| format!("write {}", self.agent.display()))?;
            std::fs::set_permissions(&self.agent, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("make {} executable", self.agent.display()))?;
        }
        Ok(())
    }

    /// Starts `waves` (the containers in start order, leaves and gateways in separate
    /// waves) on `node` with `schedule_ms` (cli only; the agent uses vnet start's
    /// default). Returns each process's wall time in ms and, for `cli`, the
    /// announcements `vnet start` reports it sent itself.
    pub fn start(
        &self,
        waves: &[Vec<Prepared>],
        node: &str,
        schedule_ms: &[u128],
    ) -> Result<(Vec<u128>, Option<usize>), Failure> {
        match self.mover {
            Mover::Cli => {
                let names: Vec<&str> = waves.iter().flatten().map(|p| p.name.as_str()).collect();
                let schedule: Vec<String> = schedule_ms.iter().map(u128::to_string).collect();
                let mut args = vec!["--output", "json", "start"];
                args.extend(&names);
                let topology = self.topology_arg()?;
                args.extend(["--node", node, topology, "--sandbox", "--prefix"]);
                args.push(&self.prefix);
                let schedule = format!("--announce-schedule={}", schedule.join(","));
                args.push(&schedule);
                let (ms, out) = self.vnet(&args)?;
                Ok((vec![ms], Some(first_announcements(&out)?)))
            }
            Mover::Ocf => {
                let mut times = Vec::new();
                std::thread::scope(|s| -> Result<(), Failure> {
                    let mut monitors = Vec::new();
                    for wave in waves {
                        let starts: Vec<_> = wave
                            .iter()
                            .map(|p| s.spawn(move || self.agent("start", &p.name, node)))
                            .collect();
                        for (p, h) in wave.iter().zip(starts) {
                            times.push(joined(h)??);
                            // The recurring monitor's first run follows its start
                            // without waiting for the next wave.
                            monitors.push(s.spawn(move || self.agent("monitor", &p.name, node)));
                        }
                    }
                    for m in monitors {
                        joined(m)??;
                    }
                    Ok(())
                })?;
                Ok((times, None))
            }
            Mover::InProcess => Err(Failure::system(anyhow!(
                "the in-process move runs no processes"
            ))),
        }
    }

    /// Stops `order`'s containers on `node` as the mover does (ending the announcers
    /// the starts left); returns the wall time in ms.
    pub fn stop(&self, order: &[String], node: &str) -> Result<u128, Failure> {
        let begin = Instant::now();
        match self.mover {
            Mover::Cli => {
                let mut args = vec!["--output", "json", "stop"];
                args.extend(order.iter().map(String::as_str));
                args.extend([self.topology_arg()?, "--sandbox", "--prefix", &self.prefix]);
                self.vnet(&args)?;
            }
            Mover::Ocf => {
                for name in order.iter().rev() {
                    self.agent("stop", name, node)?;
                }
            }
            Mover::InProcess => {}
        }
        Ok(begin.elapsed().as_millis())
    }

    fn topology_arg(&self) -> Result<&str, Failure> {
        self.topology
            .to_str()
            .ok_or_else(|| Failure::system(anyhow!("{} is not UTF-8", self.topology.display())))
    }

    /// Runs `vnet ARGS`; returns its wall time in ms and its output (an error unless it
    /// exited 0).
    fn vnet(&self, args: &[&str]) -> Result<(u128, Output), Failure> {
        let begin = Instant::now();
        let out = Command::new(&self.exe)
            .args(args)
            .output()
            .with_context(|| format!("run {} {}", self.exe.display(), args.join(" ")))
            .map_err(Failure::system)?;
        let ms = begin.elapsed().as_millis();
        check(&out, || format!("vnet {}", args.join(" ")))?;
        Ok((ms, out))
    }

    /// Runs the agent's `action` for container `ct` on `node` as Pacemaker's executor
    /// does; returns its wall time in ms (an error unless it returned OCF_SUCCESS).
    fn agent(&self, action: &str, ct: &str, node: &str) -> Result<u128, Failure> {
        let begin = Instant::now();
        let out = Command::new(&self.agent)
            .arg(action)
            .env("OCF_ROOT", &self.dir)
            .env("OCF_RESOURCE_INSTANCE", format!("vnet-{ct}"))
            .env("OCF_RESKEY_topology", &self.topology)
            .env("OCF_RESKEY_ct", ct)
            .env("OCF_RESKEY_node", node)
            .env("OCF_RESKEY_vnet", &self.exe)
            .env("OCF_RESKEY_sandbox", "true")
            .env("OCF_RESKEY_prefix", &self.prefix)
            // The monitor after a start is the recurring one (the render's 10 s), not a
            // probe (interval 0), as Pacemaker's executor says.
            .env("OCF_RESKEY_CRM_meta_interval", MONITOR_INTERVAL_MS)
            .output()
            .with_context(|| format!("run the OCF agent {}", self.agent.display()))
            .map_err(Failure::system)?;
        let ms = begin.elapsed().as_millis();
        check(&out, || {
            format!("the OCF agent's {action} of {ct} on {node}")
        })?;
        Ok(ms)
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        // Nothing to tell anyone: the directory is ours and private.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An error naming `what` with its exit code and output unless `out` is a success.
fn check(out: &Output, what: impl FnOnce() -> String) -> Result<(), Failure> {
    if out.status.success() {
        return Ok(());
    }
    Err(Failure::system(anyhow!(
        "{} ended with {}: {}{}",
        what(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )))
}

/// A scoped thread's result (a panic as a failure).
fn joined<T>(
    h: std::thread::ScopedJoinHandle<'_, Result<T, Failure>>,
) -> Result<Result<T, Failure>, Failure> {
    h.join()
        .map_err(|_| Failure::system(anyhow!("a mover thread panicked")))
}

/// The gratuitous ARPs and unsolicited NAs `vnet start --output json` reports sending
/// before it returned.
fn first_announcements(out: &Output) -> Result<usize, Failure> {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .context("read vnet start's JSON report")
        .map_err(Failure::system)?;
    let sent = doc["started"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["announced"].as_array().into_iter().flatten())
        .map(|a| a["arp_sent"].as_u64().unwrap_or(0) + a["na_sent"].as_u64().unwrap_or(0))
        .sum::<u64>();
    Ok(sent as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failover_copy_is_written_as_a_topology_vnet_reads_back_and_removed() {
        let text = include_str!("../../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let copies =
            super::super::uplink::copies(&t, super::super::case::UplinkMac::Changed, "m1", "m2")
                .unwrap();
        let dir;
        {
            let i = Installed::new(Mover::Ocf, &copies.failover, "vt").unwrap();
            dir = i.dir.clone();
            let back = std::fs::read_to_string(&i.topology).unwrap();
            let back = vnet_core::Document::parse(&back, vnet_core::Format::Json)
                .unwrap()
                .validate()
                .unwrap();
            assert_eq!(back.topology(), copies.failover.topology());
            assert!(i.agent.ends_with("resource.d/vnet/ct"));
            let agent = std::fs::read_to_string(&i.agent).unwrap();
            assert!(agent.starts_with("#!/bin/sh"), "{agent}");
        }
        assert!(!dir.exists(), "removed on drop");
    }
}
