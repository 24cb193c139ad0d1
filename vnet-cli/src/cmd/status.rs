//! `vnet status CT FILE --sandbox` / `--node N --this-host`: whether a container's network
//! is up, on which node (where its host-side cables are), and how its own objects differ
//! from the topology. Exit 0 up and clean, 7 cleanly not running (nothing of it there:
//! OCF's "not running"), 3 broken (partly there, or drifted), so an OCF agent's
//! `monitor` maps it directly.
//!
//! Cleanly not running: in the sandbox, its namespace is gone and no host end is left
//! on any node; on a real node, its namespace `/run/netns/<ct>` is absent, or present
//! (the container runs) without any of its cables: no veth host end on this node and
//! no link of this topology inside (a NIC resting in the node's namespace is fine).

use serde::Serialize;
use std::path::PathBuf;

use vnet_core::plan::Scope;

use super::ct::{self, Where, Whereabouts};
use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::backend_failure;

/// Arguments of `vnet status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container.
    #[arg(value_name = "CT")]
    pub ct: String,
    /// The topology file (`.toml`, or `.json`).
    pub file: PathBuf,
    /// On a real node: the node this host is (with --this-host).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Where the topology runs.
    #[command(flatten)]
    pub target: Where,
}

/// The three answers a monitor needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Running, and its own objects match the topology.
    Up,
    /// Cleanly not running: nothing of it is there.
    Stopped,
    /// Partly there, or differing from the topology.
    Broken,
}

/// A container's state, as printed (and as the JSON document).
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The container.
    pub ct: String,
    /// Up, stopped or broken.
    pub state: State,
    /// Its network is there: in the sandbox its namespace exists and carries this
    /// topology's mark; on a real node its namespace holds some of its cables.
    pub running: bool,
    /// The node holding its host-side cables.
    pub node: Option<String>,
    /// Differences of its own objects from the topology.
    pub drift: Vec<String>,
}

impl Status {
    /// The exit code: 0 up, 7 stopped, 3 broken.
    pub fn exit(&self) -> Exit {
        match self.state {
            State::Up => Exit::Success,
            State::Stopped => Exit::NotRunning,
            State::Broken => Exit::Drift,
        }
    }

    /// The line people read.
    pub fn line(&self) -> String {
        match (&self.node, self.state) {
            (_, State::Stopped) => format!("{}: not running", self.ct),
            (Some(n), State::Up) => format!("{}: running on {n}, no drift", self.ct),
            (None, _) if !self.running => format!(
                "{}: broken, its namespace is there but not its network",
                self.ct
            ),
            (None, _) => format!("{}: running, but its cables are on no node", self.ct),
            (Some(n), _) => format!(
                "{}: running on {n}, drift:\n  {}",
                self.ct,
                self.drift.join("\n  ")
            ),
        }
    }
}

/// Up, stopped or broken, from where the container is and its drift.
pub fn state(sandbox: bool, now: &Whereabouts, drift: &[String]) -> State {
    let stopped = if sandbox {
        !now.ns_exists && now.node.is_none()
    } else {
        !now.ns_exists || (now.node.is_none() && !now.links_inside)
    };
    if stopped {
        State::Stopped
    } else if now.node.is_some() && drift.is_empty() && (!sandbox || now.ours) {
        State::Up
    } else {
        State::Broken
    }
}

/// Reports the container's state; exit 0 up, 7 cleanly not running, 3 broken.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t, args.node.as_deref())?;
    let c = ct::container(t, &args.ct)?;
    let backend = target.backend();
    let (view, scope) = match ct::this_node(&target) {
        None => (t.clone(), Scope::Sandbox),
        // A container that may not run here is simply not running here (Pacemaker
        // probes every node): the topology as it is does not map its namespace.
        Some(here) => (
            t.placed(&c.name, here).unwrap_or_else(|_| t.clone()),
            Scope::Node(here.to_string()),
        ),
    };
    let observed = backend.observe(&view, &scope).map_err(backend_failure)?;
    let now = match ct::this_node(&target) {
        None => ct::whereabouts(&view, c, &observed),
        Some(here) => ct::whereabouts_on_node(&view, c, &observed, here),
    };
    let sandbox = scope == Scope::Sandbox;
    let cabled = now.node.is_some() && (now.ours || !sandbox);
    let drift: Vec<String> = match &now.node {
        Some(node) if cabled && now.ns_exists => ct::drift(&backend, &view, &c.name, node, &scope)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let state = state(sandbox, &now, &drift);
    let status = Status {
        ct: c.name.clone(),
        state,
        running: if sandbox {
            now.running()
        } else {
            now.ns_exists && (now.node.is_some() || now.links_inside)
        },
        node: now.node,
        drift,
    };
    match global.output {
        Output::Human => println!("{}", status.line()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&status).map_err(Failure::system)?
        ),
    }
    Ok(status.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ns_exists: bool, ours: bool, node: Option<&str>, links_inside: bool) -> Whereabouts {
        Whereabouts {
            ns_exists,
            ours,
            node: node.map(str::to_string),
            links_inside,
        }
    }

    #[test]
    fn sandbox_states() {
        let none: &[String] = &[];
        assert_eq!(
            state(true, &at(false, false, None, false), none),
            State::Stopped
        );
        assert_eq!(
            state(true, &at(true, true, Some("m1"), true), none),
            State::Up
        );
        let drift = ["route 192.168.0.0/16 missing".to_string()];
        assert_eq!(
            state(true, &at(true, true, Some("m1"), true), &drift),
            State::Broken
        );
        // Its namespace without cables, or a namespace vnet did not make.
        assert_eq!(
            state(true, &at(true, true, None, true), none),
            State::Broken
        );
        assert_eq!(
            state(true, &at(true, false, Some("m1"), false), none),
            State::Broken
        );
    }

    #[test]
    fn node_states() {
        let none: &[String] = &[];
        // The container is not running at all, or runs without its network.
        assert_eq!(
            state(false, &at(false, false, None, false), none),
            State::Stopped
        );
        assert_eq!(
            state(false, &at(true, false, None, false), none),
            State::Stopped
        );
        // Up: its namespace is the runtime's (no mark), its cables are here.
        assert_eq!(
            state(false, &at(true, false, Some("m1"), true), none),
            State::Up
        );
        let drift = ["link eth0 missing".to_string()];
        assert_eq!(
            state(false, &at(true, false, Some("m1"), true), &drift),
            State::Broken
        );
        // A NIC passed in but the veth gone from the node: half there.
        assert_eq!(
            state(false, &at(true, false, None, true), none),
            State::Broken
        );
    }
}
