//! The kernel-test harness shared by the integration tests of `vnet-backend-netlink`,
//! `vnet-backend-shell` and `vnet-cli` (a dev-dependency of each, never published).
//!
//! A kernel test wraps its body in [`isolated`]: the test binary re-executes the one test
//! under `unshare --net --mount --propagation private`, checks that the fresh network
//! namespace holds nothing but `lo`, and puts a private tmpfs on `/run/netns`, so nothing
//! the test makes (links, namespaces, their files, firewall rules) is visible to the
//! machine, and everything vanishes with the child, also when it fails. Processes the body
//! starts (the `vnet` binary, `sh`) inherit both namespaces.
//!
//! ```no_run
//! use vnet_testkit::{isolated, run, snapshot};
//!
//! #[test]
//! fn builds_a_namespace() {
//!     isolated("builds_a_namespace", || {
//!         let before = snapshot();
//!         run(&["ip", "netns", "add", "t1"]);
//!         run(&["ip", "netns", "del", "t1"]);
//!         assert_eq!(before, snapshot());
//!     });
//! }
//! ```
//!
//! Further: commands and `ip -j` ([`run`], [`succeeds`], [`ip_json`], [`link`], [`ping`]),
//! the state "as before" ([`snapshot()`]) and the state two builds must share
//! ([`network_state`]), both cleaned by one list of volatile fields ([`VOLATILE`], [`scrub()`]); a fault
//! injected at every step of a plan ([`fault_at_every_step`]); container stand-ins found
//! by pid ([`Container`]); and tests that need 802.1Q
//! run in a QEMU guest where this kernel has none ([`vm::vlan_kernel`]).

mod command;
mod container;
mod example;
mod fault;
mod isolate;
mod scrub;
mod snapshot;
mod state;
pub mod vm;

pub use command::{ip_json, link, ping, run, sh, succeeds, Outcome};
pub use container::Container;
pub use example::{example, example_path, seed};
pub use fault::fault_at_every_step;
pub use isolate::{isolated, only_lo};
pub use scrub::{scrub, VOLATILE};
pub use snapshot::{namespaces, snapshot};
pub use state::{differences, network_state, NetworkState};
