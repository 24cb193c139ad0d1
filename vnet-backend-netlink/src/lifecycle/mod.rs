//! One container's life on its nodes, as library verbs: [`Backend::start`] (with its
//! two halves [`Backend::cable`] and [`Backend::announce_started`]), [`Backend::stop`]
//! and [`Backend::status`]; a start's later announcements run in a background
//! announcer ([`announcer`]) that every stop cancels. The rules (which steps are a container's, gateways, where a
//! container is, up/stopped/broken) are vnet-core's [`vnet_core::lifecycle`]; this
//! module observes, executes, polls and announces.
//!
//! Where: a backend made with [`Backend::on_site`] knows its [`Site`]. In the sandbox
//! every node, container and LAN is a namespace `<prefix>-<name>` and a container moves
//! between nodes by being stopped on one and started on the other. On a real node
//! (this machine is node `N`) the machine's own namespace is `N` and each container's
//! namespace is `/run/netns/<container>`, made by its runtime (`ip netns attach CT
//! PID`): vnet never creates or deletes it there, it only builds and removes the
//! container's cables (veth pairs, a NIC passed in) and what lives on them.
//!
//! ```no_run
//! use vnet_backend_netlink::{ApplyOptions, Backend, Site, StartOptions};
//! use vnet_core::{Document, Format};
//! let text = std::fs::read_to_string("examples/seed.toml")?;
//! let t = Document::parse(&text, Format::Toml)?.validate()?;
//! let site = Site::Sandbox { prefix: "vnet".into() };
//! let backend = Backend::on_site(&t, &site);
//! backend.apply(&t, &site.scope(), &ApplyOptions::default())?;
//! let started = backend.start(&t, "mail", "m2", &StartOptions::default())?;
//! assert_eq!(started.moved_from.as_deref(), Some("m1"));
//! assert!(backend.status(&t, "mail")?.node.as_deref() == Some("m2"));
//! backend.stop(&t, "mail")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod announce_ct;
pub mod announcer;
mod site;
mod start;
mod status;
mod status_netns;
mod stop;

pub use announce_ct::Announced;
pub use site::Site;
pub use start::{Cabled, StartOptions, Started};
pub use status::Status;
pub use status_netns::{cts_here, Restarted};
pub use stop::Stopped;

use std::path::PathBuf;

use vnet_core::model::Container;
use vnet_core::plan::{Name, NsRef, Scope};
use vnet_core::{PlacementError, ValidTopology};

use crate::error::{Error, Result};
use crate::ns::{NamespaceMap, NsLocation};
use crate::Backend;

impl Backend {
    /// The scope a container on `node` is planned in: the sandbox, or this machine's
    /// node (containers of other nodes are not this machine's: [`Error::OtherNode`]).
    pub fn scope_on(&self, node: &str) -> Result<Scope> {
        match self.here() {
            None => Ok(Scope::Sandbox),
            Some(here) if here == node => Ok(Scope::Node(node.to_string())),
            Some(here) => Err(Error::OtherNode {
                here: here.to_string(),
                node: node.to_string(),
            }),
        }
    }

    /// The scope this backend observes in: the sandbox, or this machine's node.
    pub fn scope(&self) -> Scope {
        match self.here() {
            None => Scope::Sandbox,
            Some(here) => Scope::Node(here.to_string()),
        }
    }
}

impl Backend {
    /// On a real node, the backend for a start or stop of `ct` alone (`strict_self`)
    /// or its status: the same map, but another container that its runtime cannot find
    /// (not running) is absent, not an error, and for a status `ct` too
    /// ([`NamespaceMap::others_absent_when_not_found`],
    /// [`NamespaceMap::absent_when_not_found`]). `None` in the sandbox, or when this
    /// backend is such a one already.
    fn for_one(&self, ct: &str, strict_self: bool) -> Option<Backend> {
        let here = self.here()?;
        if !self.map().is_strict() {
            return None;
        }
        let map = self.map().clone();
        let map = match strict_self {
            true => map.others_absent_when_not_found(NsRef::Ct(Name::from(ct))),
            false => map.absent_when_not_found(),
        };
        Some(Backend::new(map).here_is(here))
    }
}

/// The container named `name`.
pub fn container<'a>(t: &'a ValidTopology, name: &str) -> Result<&'a Container> {
    t.topology()
        .ct
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            Error::Placement(PlacementError::NoContainer {
                topology: t.name().to_string(),
                ct: name.to_string(),
            })
        })
}

/// The namespace file of `ns` in `map` (`/run/netns/...`; the node's own namespace on
/// a real node is `/proc/self/ns/net`).
pub fn ns_file(map: &NamespaceMap, ns: &NsRef) -> Result<PathBuf> {
    Ok(match map.locate(ns)? {
        NsLocation::Path(p) => p,
        NsLocation::Current => PathBuf::from("/proc/self/ns/net"),
        NsLocation::Pid(pid) => PathBuf::from(format!("/proc/{pid}/ns/net")),
    })
}
