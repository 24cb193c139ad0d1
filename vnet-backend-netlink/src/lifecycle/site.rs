//! [`Site`]: where a topology runs, and the [`NamespaceMap`] that follows from it.

use vnet_core::model::NetnsSource;
use vnet_core::plan::{Name, NsRef, Scope};
use vnet_core::ValidTopology;

use crate::ns::{NamespaceMap, NsLocation};
use crate::Backend;

/// Where a topology runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Site {
    /// The whole topology as named namespaces `<prefix>-<name>` on this machine.
    Sandbox {
        /// The namespaces' name prefix.
        prefix: String,
    },
    /// This machine is one real node: its bridges live in the namespace vnet runs in,
    /// and each container that may run here is found from its `netns` (by default the
    /// named namespace `/run/netns/<ct>` its runtime made).
    Node {
        /// The node this machine is.
        name: String,
    },
}

impl Site {
    /// The scope the planner builds for this site.
    pub fn scope(&self) -> Scope {
        match self {
            Site::Sandbox { .. } => Scope::Sandbox,
            Site::Node { name } => Scope::Node(name.clone()),
        }
    }

    /// Where `t`'s namespaces are on this site. On a real node: the node is the
    /// namespace vnet runs in (allowed to change), and the containers that may run on
    /// it (home or failover) are found from their `netns` when first used: by default
    /// their `ip netns` names, as the shell backend's node scripts name them (`ip netns
    /// attach NAME PID`), or through their runtime ([`crate::ns::runtime`]).
    pub fn map(&self, t: &ValidTopology) -> NamespaceMap {
        match self {
            Site::Sandbox { prefix } => NamespaceMap::sandbox(prefix),
            Site::Node { name } => {
                let mut map = NamespaceMap::explicit()
                    .with(NsRef::Node(Name::from(name.as_str())), NsLocation::Current)
                    .allow_current();
                for ct in t
                    .topology()
                    .ct
                    .iter()
                    .filter(|c| t.ct_nodes(c).contains(&name.as_str()))
                {
                    // Validated, so it parses; found afresh by each command's map.
                    let source =
                        NetnsSource::of(ct).unwrap_or_else(|_| NetnsSource::default_for(ct));
                    map = map.with_source(NsRef::Ct(Name::from(&ct.name)), source);
                }
                map
            }
        }
    }
}

impl Backend {
    /// A backend for `t` on `site`: over [`Site::map`], and knowing which real node
    /// this machine is (for [`Backend::start`], [`Backend::stop`], [`Backend::status`]).
    pub fn on_site(t: &ValidTopology, site: &Site) -> Backend {
        let backend = Backend::new(site.map(t));
        match site {
            Site::Sandbox { .. } => backend,
            Site::Node { name } => backend.here_is(name),
        }
    }
}
