//! The single choke point to rtnetlink: one [`RtSocket`] per namespace, owning sequence
//! numbers, batching, ACKs, multipart dumps and the kernel's errno. Everything that
//! changes or reads links, addresses and routes goes through here, so the mutation
//! counter sees every change.

mod counter;
mod socket;

pub use counter::RequestCounter;
pub use socket::{Request, RtSocket};
