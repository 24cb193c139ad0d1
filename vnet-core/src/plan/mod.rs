//! The plan: the changes that take the system from what is to what the topology says,
//! ordered so every action comes after what it needs.

mod action;
pub mod command;
mod namespace;
mod scope;
mod steps;

pub use action::{Action, LinkSpec, NatRule, RouteSpec, Sysctl};
pub use namespace::NsRef;
pub use scope::Scope;
pub use steps::{Plan, Step};
