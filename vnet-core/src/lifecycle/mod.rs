//! The rules of a container's life on its nodes: which plan steps are its own, which
//! containers are gateways and so start last, where a container is now, and whether it
//! is up, stopped or broken. Pure functions over the topology, plans and observed
//! states; the backends do the work (`vnet-backend-netlink`'s `Backend::start`, `stop`
//! and `status`), the CLI only parses and prints.
//!
//! - [`steps`]: a container's own steps ([`concerns`]), a node's shared objects
//!   ([`node_shared`]), the part of a plan that starts one container ([`start_plan`]),
//!   and which differences are its own ([`own_mismatch`]).
//! - [`gateway`]: gateways ([`is_gateway`]) and the start order ([`leaves_first`]).
//! - [`whereabouts`]: where a container is in an observed state ([`Whereabouts`]), in
//!   the sandbox or on a real node.
//! - [`state`]: up / stopped / broken ([`State`]) from where it is and its differences.
//! - [`mismatch`]: one typed difference between desired and found ([`Mismatch`]).
//! - [`mod@converge`]: apply, verify, undo on failure: the one loop every executor runs
//!   ([`Executor`], [`converge()`]).

pub mod converge;
pub mod gateway;
pub mod mismatch;
pub mod state;
pub mod steps;
pub mod whereabouts;

pub use converge::{converge, ConvergeError, Executor};
pub use gateway::{is_gateway, leaves_first};
pub use mismatch::{ruleset_mismatches, Field, Mismatch, Object};
pub use state::State;
pub use steps::{concerns, node_shared, own_mismatch, start_plan};
pub use whereabouts::Whereabouts;

#[cfg(test)]
mod tests {
    /// The article's network (`examples/seed.toml`).
    pub fn seed() -> crate::ValidTopology {
        let text = include_str!("../../../examples/seed.toml");
        crate::Document::parse(text, crate::Format::Toml)
            .unwrap()
            .validate()
            .unwrap()
    }
}
