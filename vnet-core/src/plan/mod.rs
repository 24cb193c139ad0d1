//! The plan: the changes that take the system from what is to what the topology says,
//! ordered so every action comes after what it needs.

mod action;
pub mod command;
mod desired;
mod diff;
mod expected;
mod fresh;
mod intern;
mod ipv6_birth;
mod json;
pub mod listing;
mod name;
mod namespace;
mod order;
mod restrict;
mod ruleset;
pub mod ruleset_of;
mod scope;
mod steps;
mod teardown;

pub use crate::kind::{vxlan_device, LinkSpec};
pub use action::{Action, NatRule, RouteSpec, Sysctl};
pub use desired::LAN_SWITCH;
pub use diff::{compile, diff};
pub use expected::{expected_state, placeholder_nic_mac, pristine_state};
pub use ipv6_birth::{
    born_without_ipv6, links_placed, links_wanting_ipv6_off, namespaces_created, BornOff,
};
pub use name::Name;
pub use namespace::NsRef;
pub use ruleset::{DnatRule, FilterChain, FilterRule, Ruleset, RulesetPart};
pub use scope::Scope;
pub use steps::{Plan, Step};
pub use teardown::teardown;
