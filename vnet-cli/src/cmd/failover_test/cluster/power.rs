//! The sandbox's power switch: what powering a node off means here, and the switch the
//! fence agent (`fence_vnet_sandbox`) asks through a directory.
//!
//! Off: every process of the node's namespaces is killed (SIGKILL of its pid 1), then
//! the containers it ran lose their namespaces (their veths, and with them their LAN and
//! bridge ports, go): what a machine losing power does to its containers. The switch
//! answers a request `NAME.off` with `NAME.done` once the node is off.

use anyhow::Context;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vnet_core::plan::{Name, NsRef};

use super::node::Node;
use crate::exit::Failure;
use crate::sandbox::Resolved;

/// A node behind the switch, with the containers it runs.
#[derive(Debug)]
pub struct Outlet {
    /// The node (killed when switched off).
    pub node: Mutex<Node>,
    /// The namespace files of the containers it runs.
    pub containers: Vec<PathBuf>,
    /// When it was switched off.
    pub off_at: Mutex<Option<Instant>>,
}

impl Outlet {
    /// `node`, running `cts` (namespace files from `target`).
    pub fn new(node: Node, cts: &[String], target: &Resolved) -> Outlet {
        let containers = cts
            .iter()
            .filter_map(|c| target.ns_path(&NsRef::Ct(Name::from(c))))
            .collect();
        Outlet {
            node: Mutex::new(node),
            containers,
            off_at: Mutex::new(None),
        }
    }

    /// Powers the node off (once): kills it, then removes its containers' namespaces.
    pub fn off(&self) -> Result<(), Failure> {
        let mut at = self.off_at.lock().unwrap_or_else(|e| e.into_inner());
        if at.is_some() {
            return Ok(());
        }
        self.node.lock().unwrap_or_else(|e| e.into_inner()).kill();
        *at = Some(Instant::now());
        for f in &self.containers {
            if f.exists() {
                nix::mount::umount2(f, nix::mount::MntFlags::MNT_DETACH)
                    .with_context(|| format!("unmount namespace file {}", f.display()))
                    .map_err(Failure::system)?;
                std::fs::remove_file(f)
                    .with_context(|| format!("remove namespace file {}", f.display()))
                    .map_err(Failure::system)?;
            }
        }
        Ok(())
    }
}

/// Serves the fence agent's requests in `pdu` for `outlet` (node name, outlet) until
/// `stop`; returns when the first request came, if one did.
pub fn serve(
    pdu: &std::path::Path,
    outlets: &[(&str, &Outlet)],
    stop: &AtomicBool,
) -> Result<Option<Instant>, Failure> {
    let mut first = None;
    while !stop.load(Ordering::Relaxed) {
        for (name, outlet) in outlets {
            let request = pdu.join(format!("{name}.off"));
            let done = pdu.join(format!("{name}.done"));
            if request.exists() && !done.exists() {
                first.get_or_insert_with(Instant::now);
                outlet.off()?;
                std::fs::write(&done, "")
                    .with_context(|| format!("write {}", done.display()))
                    .map_err(Failure::system)?;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(first)
}
