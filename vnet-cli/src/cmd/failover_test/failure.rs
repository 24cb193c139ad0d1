//! How the home node fails, as the LAN sees it.
//!
//! - Powered down ([`power_down`]): the switch ports of its containers' NICs lose
//!   carrier at once, so the switch forgets their MACs there, and nothing of the node
//!   is reachable any more.
//! - Hung ([`hang`]): its containers keep their namespaces and links up, so the LAN
//!   switch keeps their MACs on the node's ports, but lose every address and
//!   forwarding, so they answer nothing.
//!
//! Either way their namespace files are renamed to `ghost-<prefix>-<name>` (the new
//! containers on the failover node take the sandbox names) and removed after the run
//! ([`Ghosts`]), when the kernel's clean-up no longer competes with the measurement.
//!
//! The switch port of a home-node container's NIC stand-in is named `n<ctid>.<index>` by
//! the sandbox; the failover node's new NIC needs that name while the old port still
//! exists, so before the run starts the port is renamed `g<ctid>.<index>`
//! ([`rename_uplink_ports`]: a rename needs the link down, so this happens while the
//! node is still healthy, not at the failure).

use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use vnet_core::plan::Name;

use vnet_backend_netlink::{announce, ApplyOptions};
use vnet_core::model::Container;
use vnet_core::plan::{Action, NsRef, Plan, Step, Sysctl};
use vnet_core::ValidTopology;

use crate::exit::Failure;
use crate::sandbox::container;
use crate::sandbox::{backend_failure, Resolved};

/// How long a renamed switch port may take to forward again.
const PORT_TIMEOUT: Duration = Duration::from_secs(5);

/// The hung containers' namespace files, removed (and with them the namespaces and
/// their links, once nothing else holds them) by [`Ghosts::remove`] or on drop.
#[derive(Debug, Default)]
pub struct Ghosts {
    files: Vec<PathBuf>,
}

impl Ghosts {
    /// Unmounts and deletes every ghost namespace file; returns the first error.
    pub fn remove(&mut self) -> Result<(), Failure> {
        let mut first = None;
        for f in self.files.drain(..) {
            if let Err(e) = unmount_and_delete(&f) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Ghosts {
    fn drop(&mut self) {
        // Also when a run failed half-way; errors were reported by `remove` already
        // when it was called, and there is nobody to tell here.
        let _ = self.remove();
    }
}

fn unmount_and_delete(f: &Path) -> Result<(), Failure> {
    nix::mount::umount2(f, nix::mount::MntFlags::MNT_DETACH)
        .with_context(|| format!("unmount namespace file {}", f.display()))
        .map_err(Failure::system)?;
    std::fs::remove_file(f)
        .with_context(|| format!("remove namespace file {}", f.display()))
        .map_err(Failure::system)
}

/// The containers named `names`.
fn containers<'a>(t: &'a ValidTopology, names: &[String]) -> Result<Vec<&'a Container>, Failure> {
    names.iter().map(|n| container(t, n)).collect()
}

/// The node powers down: at once, the LAN switch port of every NIC of `names` goes
/// down (what a switch sees when the machine behind it loses power: no carrier, its
/// MACs flushed from that port), and their namespaces become ghosts, cut off from the
/// LAN, until the run ends.
///
/// The sandbox does not delete the namespaces at the failure: tearing down a namespace
/// makes this same kernel delete every veth under the RTNL lock with an RCU grace
/// period each, which would slow the failover node's start by tens to hundreds of
/// milliseconds, a cost a real failover node never pays for a dead peer.
pub fn power_down(
    t: &ValidTopology,
    target: &Resolved,
    names: &[String],
) -> Result<Ghosts, Failure> {
    let cts = containers(t, names)?;
    let mut actions = Vec::new();
    for c in &cts {
        for (index, nic) in c.nic.iter().enumerate() {
            actions.push(Action::SetDown {
                ns: NsRef::Lan(Name::from(&nic.lan)),
                link: Name::from(uplink_port_names(c, index).1),
            });
        }
    }
    execute(t, target, actions)?;
    ghost(target, &cts)
}

/// Runs `actions` as one plan of independent steps with the netlink backend.
fn execute(t: &ValidTopology, target: &Resolved, actions: Vec<Action>) -> Result<(), Failure> {
    let steps = actions
        .into_iter()
        .enumerate()
        .map(|(id, action)| Step {
            id,
            action,
            after: Vec::new(),
            stage: 0,
        })
        .collect();
    let plan = Plan {
        topology: t.name().to_string(),
        steps,
    };
    target
        .backend()
        .execute(&plan, &ApplyOptions::default())
        .map_err(backend_failure)?;
    Ok(())
}

/// The sandbox name of a switch port of a container's NIC stand-in, and the name it
/// has while its container is a ghost.
fn uplink_port_names(c: &Container, index: usize) -> (String, String) {
    (format!("n{}.{index}", c.id), format!("g{}.{index}", c.id))
}

/// Before the run: renames the LAN switch ports of `names`' NICs to their ghost names
/// (down, rename, up: iproute2's `ip link set`) and waits until each forwards again.
pub fn rename_uplink_ports(
    t: &ValidTopology,
    target: &Resolved,
    names: &[String],
) -> Result<(), Failure> {
    for c in containers(t, names)? {
        for (index, nic) in c.nic.iter().enumerate() {
            let lan = NsRef::Lan(Name::from(&nic.lan));
            let ns_name = target
                .prefix
                .as_deref()
                .map(|p| lan.sandbox_name(p))
                .ok_or_else(|| Failure::system(anyhow!("failover-test runs in a sandbox")))?;
            let (port, ghost) = uplink_port_names(c, index);
            for args in [
                vec!["link", "set", "dev", &port, "down"],
                vec!["link", "set", "dev", &port, "name", &ghost],
                vec!["link", "set", "dev", &ghost, "up"],
            ] {
                ip(&ns_name, &args)?;
            }
            let lan_ns = target
                .ns_path(&lan)
                .ok_or_else(|| Failure::system(anyhow!("no namespace file for {lan}")))?;
            announce::wait_forwarding(&lan_ns, &ghost, PORT_TIMEOUT).map_err(backend_failure)?;
        }
    }
    Ok(())
}

/// Runs `ip -n NS ARGS...`.
fn ip(ns: &str, args: &[&str]) -> Result<(), Failure> {
    let out = Command::new("ip")
        .arg("-n")
        .arg(ns)
        .args(args)
        .output()
        .context("run ip (iproute2)")
        .map_err(Failure::system)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Failure::system(anyhow!(
            "ip -n {ns} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The node hangs: in one plan every address of `names` is deleted and forwarding
/// turned off (links stay up); then their namespace files are renamed to ghosts.
pub fn hang(t: &ValidTopology, target: &Resolved, names: &[String]) -> Result<Ghosts, Failure> {
    let cts = containers(t, names)?;
    let mut actions = Vec::new();
    for c in &cts {
        let ns = NsRef::Ct(Name::from(&c.name));
        let links = c
            .veth
            .iter()
            .map(|v| (&v.name, &v.addresses))
            .chain(c.nic.iter().map(|n| (&n.name, &n.addresses)))
            .chain(c.vlan.iter().map(|v| (&v.name, &v.addresses)));
        for (link, addresses) in links {
            for a in addresses {
                actions.push(Action::DelAddress {
                    ns: ns.clone(),
                    link: Name::from(link.as_str()),
                    address: *a,
                });
            }
        }
        let forward = &c.forward;
        for (on, sysctl) in [
            (forward.ipv4, Sysctl::Ipv4Forward),
            (forward.ipv6, Sysctl::Ipv6Forward),
        ] {
            if on {
                actions.push(Action::SetSysctl {
                    ns: ns.clone(),
                    sysctl,
                    value: "0".into(),
                    previous: "1".into(),
                });
            }
        }
    }
    execute(t, target, actions)?;
    ghost(target, &cts)
}

/// Renames the namespace files of `cts` to ghosts (the failover node's containers
/// take the sandbox names).
fn ghost(target: &Resolved, cts: &[&Container]) -> Result<Ghosts, Failure> {
    let mut ghosts = Ghosts::default();
    for c in cts {
        let ns = NsRef::Ct(Name::from(&c.name));
        let file = target
            .ns_path(&ns)
            .ok_or_else(|| Failure::system(anyhow!("no namespace file for {ns}")))?;
        let ghost = ghost_file(&file, target.prefix.as_deref().unwrap_or("vnet"), &c.name);
        rename_ns_file(&file, &ghost)?;
        ghosts.files.push(ghost);
    }
    Ok(ghosts)
}

/// `/run/netns/ghost-<prefix>-<name>` next to `file`.
fn ghost_file(file: &Path, prefix: &str, name: &str) -> PathBuf {
    file.with_file_name(format!("ghost-{prefix}-{name}"))
}

/// Gives a namespace another file name: bind-mounts it on a new file, then unmounts
/// and deletes the old one (what `ip netns` would do, had it a rename).
fn rename_ns_file(from: &Path, to: &Path) -> Result<(), Failure> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .with_context(|| format!("create namespace file {}", to.display()))
        .map_err(Failure::system)?;
    nix::mount::mount(
        Some(from),
        to,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .with_context(|| format!("bind-mount {} on {}", from.display(), to.display()))
    .map_err(Failure::system)?;
    unmount_and_delete(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghost_names_stay_apart_from_the_sandbox_names() {
        let f = ghost_file(Path::new("/run/netns/vnet-router"), "vnet", "router");
        assert_eq!(f, PathBuf::from("/run/netns/ghost-vnet-router"));
        let text = include_str!("../../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let router = container(&t, "router").unwrap();
        let (port, ghost) = uplink_port_names(router, 0);
        assert_eq!((port.as_str(), ghost.as_str()), ("n101.0", "g101.0"));
    }
}
