//! [`Backend::start`]: bring a container's network up on one of its nodes (home or
//! failover) and announce its addresses once its ports forward.
//!
//! In the sandbox, when its namespace exists on another node it is stopped there
//! first (deleting the namespace removes its veth pairs); on a real node its namespace
//! `/run/netns/<ct>` must exist (its runtime made it). Then: diff against the topology
//! with the container placed on the node, keep only its own steps (and, on a real node,
//! the node's shared bridges: the first container started there brings them up, see
//! [`vnet_core::lifecycle::start_plan`]), execute them, wait until its own objects
//! match, and announce.

use std::time::{Duration, Instant};

use serde::Serialize;
use vnet_core::lifecycle::{start_plan, Whereabouts};
use vnet_core::plan::{Name, NsRef, Scope};
use vnet_core::ValidTopology;

use super::{container, ns_file, Announced};
use crate::error::{Error, Result};
use crate::{ApplyOptions, Backend};

/// How a container is started.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// When to announce each address, after its port forwards (sorted, offsets from
    /// the first).
    pub schedule: Vec<Duration>,
    /// How long to wait for a port to forward before giving up.
    pub forward_timeout: Duration,
    /// How long the container's own objects may take to settle after executing.
    pub settle: Duration,
}

impl Default for StartOptions {
    /// `vnet start`'s defaults: announce at 0, 20 and 200 ms; wait 10 s for a port; let
    /// the kernel settle for 3 s.
    fn default() -> Self {
        StartOptions {
            schedule: [0, 20, 200].map(Duration::from_millis).to_vec(),
            forward_timeout: Duration::from_secs(10),
            settle: Duration::from_secs(3),
        }
    }
}

/// What building a container's network did (the first half of a start).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cabled {
    /// The node it was stopped on first, when it ran elsewhere.
    pub moved_from: Option<String>,
    /// Steps executed (0: it was already up there).
    pub steps: usize,
    /// Mutating netlink requests sent.
    pub mutating_requests: u64,
}

/// What starting one container did.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// The container.
    pub ct: String,
    /// The node it runs on now.
    pub node: String,
    /// The node it was stopped on first, when it ran elsewhere.
    pub moved_from: Option<String>,
    /// Steps executed (0: it was already up there).
    pub steps: usize,
    /// Mutating netlink requests sent.
    pub mutating_requests: u64,
    /// The announcements.
    pub announced: Vec<Announced>,
    /// Wall time for this container, in milliseconds.
    pub elapsed_ms: u128,
}

impl Started {
    /// The line people read.
    pub fn line(&self) -> String {
        let moved = self
            .moved_from
            .as_ref()
            .map(|n| format!(" (stopped on {n} first)"))
            .unwrap_or_default();
        let what = if self.steps == 0 {
            "already up".to_string()
        } else {
            format!(
                "{} steps, {} netlink changes",
                self.steps, self.mutating_requests
            )
        };
        let sent: usize = self.announced.iter().map(|a| a.arp_sent + a.na_sent).sum();
        format!(
            "started {} on {}{moved}: {what}; {sent} announcements on {} interfaces ({} ms)",
            self.ct,
            self.node,
            self.announced.len(),
            self.elapsed_ms
        )
    }
}

impl Backend {
    /// Starts container `ct` on `node`: [`Backend::cable`], then
    /// [`Backend::announce_started`].
    pub fn start(
        &self,
        t: &ValidTopology,
        ct: &str,
        node: &str,
        options: &StartOptions,
    ) -> Result<Started> {
        let begin = Instant::now();
        let cabled = self.cable(t, ct, node)?;
        self.announce_started(t, ct, node, cabled, options, begin)
    }

    /// Builds `ct`'s network on `node` (stopping it on another sandbox node first):
    /// its own steps of the repair plan, and on a real node the node's shared ones.
    /// A caller that serializes starts (Pacemaker starts containers in parallel on a
    /// node, and the first builds the bridges) holds its lock around this half only.
    pub fn cable(&self, t: &ValidTopology, ct: &str, node: &str) -> Result<Cabled> {
        if let Some(one) = self.for_one(ct, true) {
            return one.cable(t, ct, node);
        }
        let c = container(t, ct)?;
        let on_node = t.placed(ct, node)?;
        let scope = self.scope_on(node)?;
        let mut moved_from = None;
        let ct_ns = ns_file(self.map(), &NsRef::Ct(Name::from(ct)))?;
        if scope == Scope::Sandbox && !ct_ns.exists() {
            // Not running anywhere (the usual start, and a failover's): nothing to stop,
            // so only the node's namespace is needed, not a look at the whole sandbox.
            let node_ns = ns_file(self.map(), &NsRef::Node(Name::from(node)))?;
            if !node_ns.exists() {
                return Err(Error::NodeAbsent {
                    node: node.to_string(),
                });
            }
        } else if scope == Scope::Sandbox {
            let observed = self.observe(t, &Scope::Sandbox)?;
            if !observed
                .namespaces
                .contains_key(&NsRef::Node(Name::from(node)))
            {
                return Err(Error::NodeAbsent {
                    node: node.to_string(),
                });
            }
            let now = Whereabouts::in_sandbox(t, c, &observed);
            if now.ns_exists && now.node.as_deref() != Some(node) {
                // Its namespace holds the other ends of its cables on the old node;
                // deleting it removes them, and the steps below build it afresh.
                moved_from = now.node.clone();
                self.stop(t, ct)?;
            }
        } else {
            // On a real node the container's runtime makes its namespace; without it
            // there is nothing to cable (the other nodes are other machines: Pacemaker
            // stops the container there before starting it here).
            if !ct_ns.exists() {
                return Err(Error::NoCtNamespace {
                    ct: ct.to_string(),
                    path: ct_ns,
                });
            }
        }
        let plan = self.diff(&on_node, &scope)?;
        let mine = start_plan(&on_node, &plan, ct, node, &scope);
        let mutating_requests = if mine.is_empty() {
            0
        } else {
            self.execute(&mine, &ApplyOptions::default())?
                .mutating_requests
        };
        self.note_built(t, &scope, &[ct.to_string()])?;
        Ok(Cabled {
            moved_from,
            steps: mine.len(),
            mutating_requests,
        })
    }

    /// The second half of a start: announces each address of `ct` on `node` once its
    /// port forwards and, at the same time, waits (at most `options.settle`) until its
    /// own objects match the topology ([`Error::CtDrift`] otherwise, also when it was
    /// announced). The two overlap because in a failover the announcement is the
    /// outage's end and the check takes milliseconds of observing. `begin` is when the
    /// start began.
    pub fn announce_started(
        &self,
        t: &ValidTopology,
        ct: &str,
        node: &str,
        cabled: Cabled,
        options: &StartOptions,
        begin: Instant,
    ) -> Result<Started> {
        if let Some(one) = self.for_one(ct, true) {
            return one.announce_started(t, ct, node, cabled, options, begin);
        }
        let scope = self.scope_on(node)?;
        let on_node = t.placed(ct, node)?;
        let c = container(t, ct)?;
        let (settled, announced) = std::thread::scope(|s| {
            let settled = s.spawn(|| self.settle(t, ct, node, &scope, options.settle));
            let announced = self.announce_all(&on_node, c, node, &scope, options);
            let settled = settled.join().unwrap_or_else(|_| {
                Err(Error::WorkerPanicked {
                    doing: format!("checking {ct}'s objects after its start"),
                })
            });
            (settled, announced)
        });
        settled?;
        let announced = announced?;
        Ok(Started {
            ct: ct.to_string(),
            node: node.to_string(),
            moved_from: cabled.moved_from,
            steps: cabled.steps,
            mutating_requests: cabled.mutating_requests,
            announced,
            elapsed_ms: begin.elapsed().as_millis(),
        })
    }

    /// Waits (at most `settle`) until `ct`'s own objects on `node` match the topology.
    fn settle(
        &self,
        t: &ValidTopology,
        ct: &str,
        node: &str,
        scope: &Scope,
        settle: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + settle;
        loop {
            let drift = self.own_drift(t, ct, node, scope)?;
            if drift.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::CtDrift {
                    ct: ct.to_string(),
                    found: drift,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
