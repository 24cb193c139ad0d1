//! The containers' own resources, where the topology says which runtime runs a
//! container (its `netns` key): Pacemaker starts the container, then vnet its network.
//!
//! | `netns` | resource `ct-<name>` |
//! |---|---|
//! | `openvz:CTID` | `ocf:heartbeat:ManageVE veid=CTID` |
//! | `lxc:NAME` | `ocf:heartbeat:lxc container=NAME config=/var/lib/lxc/NAME/config` |
//!
//! Other kinds (a named namespace, a pid file, Podman, Docker, nspawn) have no resource
//! agent in resource-agents that runs the container; the script says so in a comment
//! and their runtime must start them before the network resource.

use vnet_core::model::{Container, NetnsSource};

/// The container's own resource: its id, agent and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// The resource id, `ct-<name>`.
    pub id: String,
    /// `ocf:heartbeat:ManageVE` or `ocf:heartbeat:lxc`.
    pub agent: &'static str,
    /// The agent's `KEY=VALUE` parameters.
    pub params: Vec<String>,
}

/// The resource running `ct`, when its `netns` names a runtime with an agent; `Err`
/// carries the kind that has none (for the script's note).
pub fn runtime_of(ct: &Container) -> Result<Option<Runtime>, &'static str> {
    let Some(_) = &ct.netns else {
        return Ok(None);
    };
    let id = format!("ct-{}", ct.name);
    match NetnsSource::of(ct) {
        Ok(NetnsSource::Openvz(veid)) => Ok(Some(Runtime {
            id,
            agent: "ocf:heartbeat:ManageVE",
            params: vec![format!("veid={veid}")],
        })),
        Ok(NetnsSource::Lxc(name)) => Ok(Some(Runtime {
            id,
            agent: "ocf:heartbeat:lxc",
            params: vec![
                format!("container={name}"),
                format!("config=/var/lib/lxc/{name}/config"),
            ],
        })),
        Ok(other) => Err(other.kind()),
        // Validation refused a bad value already; an unchecked model gets no resource.
        Err(_) => Ok(None),
    }
}
