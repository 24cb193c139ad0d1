//! [`Backend::stop`]: take a container's network down. In the sandbox its namespace is
//! deleted (its veth pairs and NIC stand-in go with it; a namespace this topology did
//! not make is left alone). On a real node its own objects are removed (veth pairs, a
//! NIC moved back to the node, routes, NAT, forwarding) and its namespace, which its
//! runtime owns, stays. A background announcer of its start is ended first
//! ([`super::announcer::cancel`]). Idempotent: a container that is not running is fine.

use std::time::{Duration, Instant};

use serde::Serialize;
use vnet_core::lifecycle::{concerns, Whereabouts};
use vnet_core::plan::{Action, Name, NsRef, Plan, Scope, Step};
use vnet_core::ValidTopology;

use super::{announcer, container, ns_file};
use crate::error::{Error, Result};
use crate::{ApplyOptions, Backend};

/// How long a stop waits for the kernel to remove the host ends of a deleted
/// namespace's veth pairs (it does so asynchronously, a little after the delete).
pub const GONE_WAIT: Duration = Duration::from_secs(3);

/// What stopping one container did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    /// The container.
    pub ct: String,
    /// Whether it was running (false: nothing to do).
    pub was_running: bool,
    /// The pid of the background announcer this stop ended, if one was running.
    pub announcer_ended: Option<u32>,
}

impl Backend {
    /// Stops container `ct` (see the module's overview).
    pub fn stop(&self, t: &ValidTopology, ct: &str) -> Result<Stopped> {
        let c = container(t, ct)?;
        // First the announcer: it must not announce addresses that are going away
        // (nor, on a real node, send on an interface being removed).
        let record = ns_file(self.map(), &NsRef::Ct(Name::from(ct)))
            .ok()
            .and_then(|ct_ns| announcer::record_path(ct, &ct_ns));
        let announcer_ended = match record {
            Some(record) => announcer::cancel(&record)?,
            None => None,
        };
        let was_running = match self.here() {
            None => self.stop_in_sandbox(t, ct)?,
            Some(here) => self.stop_on_node(t, &c.name, here)?,
        };
        Ok(Stopped {
            ct: ct.to_string(),
            was_running,
            announcer_ended,
        })
    }

    /// On real node `here`: removes the container's own objects only, best effort and
    /// only what is there, so a second stop sends nothing. A container that may not
    /// run here has nothing here to stop.
    fn stop_on_node(&self, t: &ValidTopology, ct: &str, here: &str) -> Result<bool> {
        if let Some(one) = self.for_one(ct, true) {
            return one.stop_on_node(t, ct, here);
        }
        let Ok(view) = t.placed(ct, here) else {
            return Ok(false);
        };
        let scope = Scope::Node(here.to_string());
        let objects = view.ct_objects(ct, here, &scope);
        let report = self.destroy_where(&view, &scope, &|a| concerns(&objects, a))?;
        self.forget_built(t, &[ct.to_string()])?;
        Ok(report.applied > 0)
    }

    /// In the sandbox: deletes the container's namespace when it carries this
    /// topology's mark, then waits until the kernel has removed its host ends on every
    /// node.
    fn stop_in_sandbox(&self, t: &ValidTopology, ct: &str) -> Result<bool> {
        let c = container(t, ct)?;
        let ns = NsRef::Ct(Name::from(ct));
        let now = Whereabouts::in_sandbox(t, c, &self.observe(t, &Scope::Sandbox)?);
        if !now.ns_exists {
            return Ok(false);
        }
        if !now.ours {
            return Err(Error::NotOurNamespace {
                name: self
                    .map()
                    .creatable(&ns)
                    .map(|(_, n)| n)
                    .unwrap_or_else(|_| ns.to_string()),
                topology: t.name().to_string(),
            });
        }
        let plan = Plan {
            topology: t.name().to_string(),
            steps: vec![Step {
                id: 0,
                action: Action::DeleteNamespace { ns },
                after: Vec::new(),
                stage: 0,
            }],
        };
        self.execute(&plan, &ApplyOptions::default())?;
        let deadline = Instant::now() + GONE_WAIT;
        loop {
            let left = Whereabouts::in_sandbox(t, c, &self.observe(t, &Scope::Sandbox)?);
            if left.node.is_none() && !left.ns_exists {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Err(Error::HostEndsLeft {
                    ct: ct.to_string(),
                    node: left.node.unwrap_or_default(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
