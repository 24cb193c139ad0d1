//! # vnet-backend-shell
//!
//! Renders vnet's plans and topologies as reviewable, safely quoted shell scripts and
//! persistence files, and runs plans command by command.
//!
//! - [`quote()`]: the one quoting function every renderer uses (POSIX `sh`).
//! - [`iproute2`]: a [`vnet_core::plan::Plan`] as an `ip`/`nft`/`sysctl` script, runnable
//!   with `ip netns` on any Linux host.
//! - [`vzctl`]: the article's procedure on an OpenVZ node (`vzctl create`, `--veth_add`,
//!   `brctl addif` ...), from the topology.
//! - [`persist`]: files that make the network survive restarts (etcnet inside the
//!   containers, the node's bridge, vzctl's NETIF and vznet hook, systemd-networkd,
//!   sysctl.d), written by [`tree`] under a root directory.
//! - [`pacemaker`]: `pcs` commands for the cluster: a resource per container,
//!   placement, colocation and ordering (leaves before their router).
//! - [`lxc`]: the lines of each container's LXC config whose hooks run `vnet start` and
//!   `vnet stop` as LXC starts and stops it.
//! - [`systemd`]: a oneshot unit that applies a node's topology at boot.
//! - [`exec`]: runs a plan's commands as argv, stops at the first failure and undoes
//!   what was applied.
//!
//! ```
//! use vnet_backend_shell::{vzctl, Model};
//! use vnet_core::{Document, Format};
//! let seed = include_str!("../../examples/seed.toml");
//! let valid = Document::parse(seed, Format::Toml).unwrap().validate().unwrap();
//! let script = vzctl::render_vzctl(&Model::new(&valid), "m1", &Default::default()).unwrap();
//! assert!(script.contains("vzctl set mail --veth_add veth2,00:12:34:56:78:9C,eth0,00:12:34:56:78:9D --save"));
//! ```

#![deny(missing_docs)]

mod error;
pub mod exec;
pub mod iproute2;
pub mod lxc;
mod model;
pub mod pacemaker;
pub mod persist;
mod quote;
mod script;
pub mod systemd;
pub mod tree;
pub mod vzctl;

pub use error::{RollbackFailure, ShellError};
pub use model::Model;
pub use quote::{quote, quote_argv};
pub use script::Script;
