//! # vnet-core
//!
//! The model of a container virtual network, its validation, and the plan that builds it.
//! The only I/O here is reading a topology file (`Document::from_path`, within a size
//! cap): backends (`vnet-backend-netlink`, `vnet-backend-shell`) execute what this crate
//! computes.
//!
//! The flow is parse -> validate -> plan, and every failure on the way is one [`Error`]:
//!
//! ```text
//! file --Document::from_path--+
//! text --Document::parse------+-> Topology --validate()--> ValidTopology --compile()--> Plan
//! ```
//!
//! A topology holds hardware **nodes** (`m1`, `m2`), physical **LANs** with their hosts,
//! **bridges** on the nodes, **subnets** on bridges or LANs, and **containers** (`ct`), each
//! with veth pairs (one end in the container, one on a node's bridge), NICs passed in,
//! VLANs, routes, forwarding and NAT. The article's network in four lines of code:
//!
//! ```
//! use vnet_core::{Document, Format};
//! let seed = include_str!("../../examples/seed.toml");
//! let valid = Document::parse(seed, Format::Toml).unwrap().validate().unwrap();
//! let mail = valid.topology().ct_by_name("mail").unwrap();
//! assert_eq!(valid.veth_host_name(mail, &mail.veth[0]), "veth2");
//! ```
#![deny(missing_docs)]

mod derived;
mod diagnostic;
mod error;
pub mod generate;
pub mod graph;
pub mod import;
pub mod kind;
pub mod lifecycle;
mod location;
pub mod model;
pub mod observed;
pub mod ownership;
pub mod path;
mod placement;
pub mod plan;
pub mod reach;
pub mod resolve;
mod rules;
pub mod source;
mod valid;
mod validate;

pub use derived::Derived;
pub use diagnostic::{Diagnostic, Diagnostics, Related};
pub use error::Error;
pub use location::Location;
pub use model::Topology;
pub use placement::{CtObjects, PlacementError};
pub use rules::Rule;
pub use source::{Document, Format};
pub use valid::ValidTopology;
pub use validate::validate;
