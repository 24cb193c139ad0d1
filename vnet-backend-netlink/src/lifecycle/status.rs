//! [`Backend::status`]: whether a container's network is up, on which node (where its
//! host-side cables are), and how its own objects differ from the topology; the state
//! itself is vnet-core's [`State::of`], except that on a real node a container that
//! runs in another namespace than the one its network was built into is broken
//! whatever else is seen ([`super::status_netns`]): it restarted, and its network
//! stayed behind or died with the old namespace.

use serde::{Serialize, Serializer};
use vnet_core::lifecycle::{own_mismatch, Mismatch, State, Whereabouts};
use vnet_core::plan::Scope;
use vnet_core::ValidTopology;

use super::{container, Restarted};
use crate::error::Result;
use crate::Backend;

/// A container's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The container.
    pub ct: String,
    /// Up, stopped or broken.
    pub state: State,
    /// Its network is there (see [`Whereabouts::running`]).
    pub running: bool,
    /// The node holding its host-side cables.
    pub node: Option<String>,
    /// Differences of its own objects from the topology (serialized as sentences).
    #[serde(serialize_with = "sentences")]
    pub drift: Vec<Mismatch>,
    /// On a real node: it runs in a new namespace, not the one its network was built
    /// into.
    pub restarted: Option<Restarted>,
}

/// Serializes differences as the sentences people read.
fn sentences<S: Serializer>(drift: &[Mismatch], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(drift.iter().map(ToString::to_string))
}

impl Status {
    /// The line people read.
    pub fn line(&self) -> String {
        if let Some(r) = self.restarted {
            // Host ends still here lead into the old namespace: something holds it.
            let left = if self.node.is_some() {
                "; its host-side cables still lead into the old one"
            } else {
                ""
            };
            return format!(
                "{}: broken, it restarted: its network was built in namespace cookie {}, \
                 it runs in {} now, without it{left} (`vnet apply` or `vnet start` builds \
                 it there)",
                self.ct, r.built_in, r.now_in
            );
        }
        match (&self.node, self.state) {
            (_, State::Stopped) => format!("{}: not running", self.ct),
            (Some(n), State::Up) => format!("{}: running on {n}, no drift", self.ct),
            (None, _) if !self.running => format!(
                "{}: broken, its namespace is there but not its network",
                self.ct
            ),
            (None, _) => format!("{}: running, but its cables are on no node", self.ct),
            (Some(n), _) => {
                let drift: Vec<String> = self.drift.iter().map(ToString::to_string).collect();
                format!(
                    "{}: running on {n}, drift:\n  {}",
                    self.ct,
                    drift.join("\n  ")
                )
            }
        }
    }
}

impl Backend {
    /// The state of container `ct`: where it is, and its own differences when its
    /// cables are somewhere. On a real node a container that may not run here is
    /// simply not running here (Pacemaker probes every node).
    pub fn status(&self, t: &ValidTopology, ct: &str) -> Result<Status> {
        if let Some(one) = self.for_one(ct, false) {
            return one.status(t, ct);
        }
        let c = container(t, ct)?;
        let scope = self.scope();
        let view = match &scope {
            Scope::Sandbox => t.clone(),
            Scope::Node(here) => t.placed(ct, here).unwrap_or_else(|_| t.clone()),
        };
        let observed = self.observe(&view, &scope)?;
        let now = Whereabouts::of(&view, c, &observed, &scope);
        let drift = match &now.node {
            Some(node) if now.cabled() => self.own_drift(&view, ct, node, &scope)?,
            _ => Vec::new(),
        };
        // A network that is all there in the new namespace (built by someone else
        // since) is up; anything less in a new namespace is the restart's doing.
        let mut state = State::of(&now, &drift);
        let restarted = match scope {
            Scope::Node(_) if state != State::Up => self.restarted(t, ct),
            _ => None,
        };
        if restarted.is_some() {
            state = State::Broken;
        }
        Ok(Status {
            ct: ct.to_string(),
            state,
            restarted,
            running: now.running(),
            node: now.node,
            drift,
        })
    }

    /// The differences of `ct`'s own objects on `node` right now.
    pub fn own_drift(
        &self,
        t: &ValidTopology,
        ct: &str,
        node: &str,
        scope: &Scope,
    ) -> Result<Vec<Mismatch>> {
        let placed = t.placed(ct, node)?;
        let objects = placed.ct_objects(ct, node, scope);
        let mut all = self.check(&placed, scope)?;
        all.retain(|m| own_mismatch(&objects, m));
        Ok(all)
    }
}
