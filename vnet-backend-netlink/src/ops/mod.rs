//! Netlink messages for each action family, as pure functions: an action's data in, an
//! rtnetlink message out (the `ip` command each one equals is named at the function).
//! Executing them is the executor's job (`crate::exec`).

pub mod address;
pub mod fdb;
pub(crate) mod fdb_exec;
pub mod link;
pub mod nat;
pub mod netconf;
pub mod nft;
pub mod nft_json;
pub mod route;
pub mod sysctl;
