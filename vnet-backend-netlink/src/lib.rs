//! # vnet-backend-netlink
//!
//! Executes vnet [`Plan`](vnet_core::plan::Plan)s on the running kernel over rtnetlink,
//! inside network namespaces, and observes the kernel back into
//! [`ObservedState`](vnet_core::observed::ObservedState).
//!
//! - [`netlink`]: the one choke point to the kernel: a socket per namespace, batched
//!   requests with ACKs, dumps, errno kept, mutating requests counted.
//! - [`ns`]: namespace handles, named namespaces (`ip netns` compatible), and the
//!   [`NamespaceMap`] from the topology's namespaces to real ones.
//! - [`ops`]: one module per action family, turning actions into messages.
//! - [`announce`]: gratuitous ARP and unsolicited NA from inside a moved container,
//!   after its bridge port forwards.
//! - [`probe`]: ICMP echo sent in-process from inside namespaces, for `vnet verify`.
//! - [`Backend`]: apply (observe, diff, execute, verify, undo on failure: vnet-core's
//!   [`converge`](vnet_core::lifecycle::converge())), destroy, observe, diff.
//! - [`lifecycle`]: one container's start (build its cables, announce), stop and
//!   status, in the sandbox or on a real node ([`Site`]).
//!
//! Kernel-touching code only ever runs inside namespaces: a thread enters a namespace,
//! works there and ends; no thread of the caller changes namespace.
//!
//! ```no_run
//! use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap};
//! use vnet_core::plan::Scope;
//! use vnet_core::{Document, Format};
//!
//! let text = std::fs::read_to_string("examples/seed.toml")?;
//! let topology = Document::parse(&text, Format::Toml)?.validate()?;
//! // The whole network as namespaces vnet-m1, vnet-router, ... on this machine.
//! let backend = Backend::new(NamespaceMap::sandbox("vnet"));
//! let report = backend.apply(&topology, &Scope::Sandbox, &ApplyOptions::default())?;
//! println!("{} steps, {} netlink changes", report.plan.len(), report.mutating_requests);
//! // Applying again changes nothing; destroy removes every namespace.
//! assert_eq!(backend.apply(&topology, &Scope::Sandbox, &ApplyOptions::default())?.mutating_requests, 0);
//! backend.destroy(&topology, &Scope::Sandbox)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod announce;
mod applying;
mod backend;
mod batches;
mod error;
mod exec;
pub mod import;
mod ipv6_default;
pub mod lifecycle;
pub mod netlink;
pub mod ns;
mod observe;
pub mod ops;
pub mod preflight;
pub mod probe;
mod session;
pub mod verify;
mod vxlan;

pub use backend::{ApplyOptions, ApplyReport, Backend, ExecReport};
pub use error::{Error, ErrorKind, Result};
pub use lifecycle::{Announced, Cabled, Site, StartOptions, Started, Status, Stopped};
pub use ns::{NamespaceMap, NsLocation};
