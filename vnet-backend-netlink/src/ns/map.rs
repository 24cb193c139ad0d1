//! [`NamespaceMap`]: which real namespace each of the topology's namespaces is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vnet_core::model::NetnsSource;
use vnet_core::plan::NsRef;

use super::named;
use crate::error::{Error, Result};

/// Where a real namespace is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsLocation {
    /// The namespace vnet itself runs in (a real node's own network). Changing it needs
    /// [`NamespaceMap::allow_current`].
    Current,
    /// A namespace file: `/run/netns/NAME`, `/proc/PID/ns/net`, a bind mount.
    Path(PathBuf),
    /// The namespace of a process (a container's init).
    Pid(u32),
}

#[derive(Debug, Clone)]
enum Kind {
    /// Every namespace is `<dir>/<prefix>-<name>`, created and deleted by vnet.
    Sandbox { prefix: String, dir: PathBuf },
    /// Namespaces that exist already, given one by one.
    Explicit { entries: BTreeMap<NsRef, Entry> },
}

/// One namespace of an explicit map.
#[derive(Debug, Clone)]
enum Entry {
    /// Where it is, given.
    Fixed(NsLocation),
    /// Found from a container's `netns` on first use (a runtime asked for its pid),
    /// then kept for the life of this map, i.e. one command; a failed lookup is not
    /// kept, so a container that starts meanwhile is found on the next try.
    Found {
        source: NetnsSource,
        found: OnceLock<NsLocation>,
    },
}

/// Turns the topology's [`NsRef`]s into real namespaces.
///
/// ```
/// use vnet_backend_netlink::{NamespaceMap, NsLocation};
/// use vnet_core::plan::NsRef;
/// let sandbox = NamespaceMap::sandbox("vnet");
/// assert_eq!(
///     sandbox.locate(&NsRef::Ct("router".into())).unwrap(),
///     NsLocation::Path("/run/netns/vnet-router".into())
/// );
/// let node = NamespaceMap::explicit()
///     .with(NsRef::Node("m1".into()), NsLocation::Current)
///     .with(NsRef::Ct("router".into()), NsLocation::Pid(4242));
/// assert!(node.locate(&NsRef::Lan("lan46".into())).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct NamespaceMap {
    kind: Kind,
    allow_current: bool,
    /// What a container that cannot be found is.
    not_found: NotFound,
}

/// What a failed lookup of a container's namespace means.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NotFound {
    /// An error (an apply builds every container: all must be there).
    Error,
    /// Absent, but for the one container given: an error for that one.
    AbsentBut(NsRef),
    /// Absent, for every container (a status: not running is an answer).
    Absent,
}

/// Where a container whose runtime finds no namespace is located for commands about
/// another container: the namespace file of pid 0, which no process has, so the file
/// never exists and every reader sees the namespace absent, as a `name:` namespace
/// whose file is gone.
pub const NOT_FOUND: &str = "/proc/0/ns/net";

impl NamespaceMap {
    /// A sandbox: each namespace is `/run/netns/<prefix>-<name>`, made by vnet.
    pub fn sandbox(prefix: &str) -> Self {
        Self::sandbox_in(prefix, Path::new(named::DEFAULT_DIR))
    }

    /// A sandbox whose namespace files live in `dir` instead of `/run/netns`.
    pub fn sandbox_in(prefix: &str, dir: &Path) -> Self {
        NamespaceMap {
            kind: Kind::Sandbox {
                prefix: prefix.to_string(),
                dir: dir.to_path_buf(),
            },
            allow_current: false,
            not_found: NotFound::Error,
        }
    }

    /// An explicit map with no entries yet (a real node).
    pub fn explicit() -> Self {
        NamespaceMap {
            kind: Kind::Explicit {
                entries: BTreeMap::new(),
            },
            allow_current: false,
            not_found: NotFound::Error,
        }
    }

    /// Adds an entry to an explicit map (ignored by a sandbox, which maps everything).
    pub fn with(mut self, ns: NsRef, location: NsLocation) -> Self {
        if let Kind::Explicit { entries } = &mut self.kind {
            entries.insert(ns, Entry::Fixed(location));
        }
        self
    }

    /// Adds an entry found from a container's `netns` (see [`super::runtime`]) when it
    /// is first located; ignored by a sandbox.
    pub fn with_source(mut self, ns: NsRef, source: NetnsSource) -> Self {
        if let Kind::Explicit { entries } = &mut self.kind {
            entries.insert(
                ns,
                Entry::Found {
                    source,
                    found: OnceLock::new(),
                },
            );
        }
        self
    }

    /// The same map for a command about container `ct` alone (its start or stop on a
    /// node): another container whose namespace cannot be found (its runtime says it
    /// is not running) is absent ([`NOT_FOUND`]) instead of an error, so one stopped
    /// container does not stop the others' lifecycle. `ct`'s own lookup still fails
    /// loudly; an apply, which builds them all, keeps the strict map.
    pub fn others_absent_when_not_found(mut self, ct: NsRef) -> Self {
        self.not_found = NotFound::AbsentBut(ct);
        self
    }

    /// The same map for a status: every container that cannot be found is absent,
    /// the one asked about included (not running is a state, not an error).
    pub fn absent_when_not_found(mut self) -> Self {
        self.not_found = NotFound::Absent;
        self
    }

    /// Whether a failed lookup is an error for every container (the map as made).
    pub fn is_strict(&self) -> bool {
        self.not_found == NotFound::Error
    }

    /// Allows plans to change the namespace vnet runs in (a real node's bridges).
    /// Without this, preflight refuses any plan that would.
    pub fn allow_current(mut self) -> Self {
        self.allow_current = true;
        self
    }

    /// Whether changing vnet's own namespace was allowed.
    pub fn allows_current(&self) -> bool {
        self.allow_current
    }

    /// Whether this is a sandbox (vnet creates and deletes the namespaces).
    pub fn is_sandbox(&self) -> bool {
        matches!(self.kind, Kind::Sandbox { .. })
    }

    /// Where `ns` is.
    pub fn locate(&self, ns: &NsRef) -> Result<NsLocation> {
        match &self.kind {
            Kind::Sandbox { prefix, dir } => {
                Ok(NsLocation::Path(dir.join(ns.sandbox_name(prefix))))
            }
            Kind::Explicit { entries } => match entries.get(ns) {
                None => Err(Error::Unmapped {
                    ns: ns.clone(),
                    reason: "not given in the explicit map",
                }),
                Some(Entry::Fixed(location)) => Ok(location.clone()),
                Some(Entry::Found { source, found }) => {
                    if let Some(location) = found.get() {
                        return Ok(location.clone());
                    }
                    let location = match super::runtime::resolve(source) {
                        Ok(location) => location,
                        // Not kept: it may start before this map looks again.
                        Err(_)
                            if match &self.not_found {
                                NotFound::Error => false,
                                NotFound::AbsentBut(one) => one != ns,
                                NotFound::Absent => true,
                            } =>
                        {
                            return Ok(NsLocation::Path(PathBuf::from(NOT_FOUND)))
                        }
                        Err(answer) => {
                            return Err(Error::NetnsLookup {
                                ns: ns.clone(),
                                netns: source.to_string(),
                                answer,
                            })
                        }
                    };
                    Ok(found.get_or_init(|| location).clone())
                }
            },
        }
    }

    /// For a namespace vnet creates (sandbox only): the directory and the file name,
    /// as `ip netns` would use them.
    pub fn creatable(&self, ns: &NsRef) -> Result<(PathBuf, String)> {
        match &self.kind {
            Kind::Sandbox { prefix, dir } => Ok((dir.clone(), ns.sandbox_name(prefix))),
            Kind::Explicit { .. } => Err(Error::Unmapped {
                ns: ns.clone(),
                reason: "an explicit map names existing namespaces; vnet creates none",
            }),
        }
    }

    /// Whether the file of sandbox namespace `ns` is debris of an interrupted run (an
    /// empty file, nothing mounted: [`named::is_debris`]). The name is the topology's
    /// own (`<prefix>-<name>`), so such a file is the sandbox's to remove: apply
    /// replaces it, destroy removes it, diff and check see no namespace. Never for an
    /// explicit map, whose files vnet did not make.
    pub fn is_debris(&self, ns: &NsRef) -> bool {
        match &self.kind {
            Kind::Sandbox { prefix, dir } => named::is_debris(&dir.join(ns.sandbox_name(prefix))),
            Kind::Explicit { .. } => false,
        }
    }

    /// The sandbox's namespace directory and prefix.
    pub fn sandbox_dir(&self) -> Option<(&Path, &str)> {
        match &self.kind {
            Kind::Sandbox { prefix, dir } => Some((dir.as_path(), prefix.as_str())),
            Kind::Explicit { .. } => None,
        }
    }
}
