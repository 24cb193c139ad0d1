//! Network namespaces: handles ([`Netns`]), named namespaces compatible with `ip netns`
//! ([`named`]), containers' namespaces found through their runtimes ([`runtime`]), and the map from the topology's [`vnet_core::plan::NsRef`] to real
//! namespaces ([`NamespaceMap`]).
//!
//! Namespace switching happens only on short-lived dedicated threads ([`Netns::run`]):
//! the thread enters the namespace, does its work and ends, so no thread of the caller
//! ever changes namespace and nothing needs restoring.

mod cookie;
pub mod kill_point;
mod map;
pub mod named;
mod netns;
pub mod runtime;

pub use cookie::cookie;
pub use map::{NamespaceMap, NsLocation, NOT_FOUND};
pub use netns::{run_many, Netns, NetnsId};
