//! The crate's error type: every failure names what was being done, and keeps the
//! kernel's errno where the kernel answered.

use std::io;
use std::path::PathBuf;

use vnet_core::lifecycle::Mismatch;
use vnet_core::plan::NsRef;

/// Everything that can go wrong while talking to the kernel, planning or verifying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused a netlink request (`RTNETLINK answers: ...`).
    // The errno's text comes from `source`, which error reporters print after this line.
    #[error("netlink {request} failed (errno {errno})")]
    Kernel {
        /// What was asked, e.g. `add veth veth1 in vnet-m1`.
        request: String,
        /// The positive errno the kernel answered with.
        errno: i32,
        /// The errno as an I/O error, for its text.
        #[source]
        source: io::Error,
    },
    /// Sending to or receiving from a netlink socket failed.
    #[error("netlink socket I/O while {doing}: {source}")]
    Socket {
        /// What the socket was doing.
        doing: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A message from the kernel could not be decoded.
    #[error("cannot decode netlink reply to {request}: {detail}")]
    Decode {
        /// The request whose answer was garbled.
        request: String,
        /// The decoder's message.
        detail: String,
    },
    /// A dump kept being interrupted by concurrent changes (`NLM_F_DUMP_INTR`).
    #[error("netlink dump {request} interrupted {attempts} times by concurrent changes")]
    DumpInterrupted {
        /// The dump.
        request: String,
        /// How often it was tried.
        attempts: u32,
    },
    /// A namespace operation (open, setns, unshare, bind mount, unlink) failed.
    #[error("namespace {what} {path}: {source}", path = .path.display())]
    Namespace {
        /// The operation.
        what: &'static str,
        /// The namespace file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A topology namespace has no real namespace in this [`crate::NamespaceMap`].
    #[error("{ns} has no namespace in this map ({reason})")]
    Unmapped {
        /// The topology's namespace.
        ns: NsRef,
        /// Why it cannot be mapped.
        reason: &'static str,
    },
    /// A container's namespace could not be found from its `netns`: the pid file or
    /// the runtime did not give a running container's pid.
    #[error("{ns}: cannot find its namespace from netns {netns:?}: {answer}")]
    NetnsLookup {
        /// The container's namespace.
        ns: NsRef,
        /// The `netns` value, e.g. `lxc:router`.
        netns: String,
        /// What went wrong, with what the pid file or the runtime answered.
        answer: String,
    },
    /// A link named by an action does not exist where the action expects it.
    #[error("no link {link} in {ns}")]
    NoSuchLink {
        /// Namespace.
        ns: NsRef,
        /// Link name.
        link: String,
    },
    /// Reading or writing a sysctl failed.
    #[error("sysctl {key} in {ns}: {source}")]
    Sysctl {
        /// Namespace.
        ns: NsRef,
        /// The dotted key.
        key: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Running `nft` failed or it rejected the ruleset.
    #[error("nft in {ns} ({doing}): {detail}")]
    Nft {
        /// Namespace.
        ns: NsRef,
        /// What was being done.
        doing: String,
        /// nft's stderr, or the spawn error.
        detail: String,
    },
    /// A thread that entered a namespace panicked.
    #[error("namespace worker thread panicked while {doing}")]
    WorkerPanicked {
        /// What it was doing.
        doing: String,
    },
    /// vnet lacks a capability it needs (checked before the first change).
    #[error("missing capability {capability}: run as root or grant it")]
    MissingCapability {
        /// `CAP_NET_ADMIN` or `CAP_SYS_ADMIN`.
        capability: &'static str,
    },
    /// An object in the way is not vnet's (or another topology's): vnet never changes it.
    #[error("{ns}: {object} is in the way and not owned by topology {topology}{owner}",
        owner = .owner.as_ref().map(|o| format!(" (owned by {o})")).unwrap_or_default())]
    NotOwned {
        /// Namespace.
        ns: NsRef,
        /// The object, e.g. `link veth1`.
        object: String,
        /// The topology being applied.
        topology: String,
        /// Its owner, when another topology marked it.
        owner: Option<String>,
    },
    /// A link under a name the topology wants carries an alias that is not a vnet mark:
    /// someone labelled it, so it is theirs; vnet neither adopts, changes nor deletes it.
    #[error(
        "{ns}: link {link} is in the way and carries the alias {alias:?}, which is not \
         topology {topology}'s mark: it is someone else's and is left alone (rename it, \
         or remove it if it is nobody's)"
    )]
    ForeignAlias {
        /// Namespace.
        ns: NsRef,
        /// The link's name.
        link: String,
        /// Its alias.
        alias: String,
        /// The topology being applied.
        topology: String,
    },
    /// `--adopt`: unmarked objects in the topology's way differ from it; nothing was
    /// changed.
    #[error("nothing adopted, nothing changed: {0}")]
    AdoptRefused(#[from] vnet_core::plan::Refused),
    /// The plan would change the namespace vnet itself runs in, which was not allowed.
    #[error("{ns} is the namespace vnet runs in; changing it needs explicit permission")]
    OwnNamespace {
        /// The namespace.
        ns: NsRef,
    },
    /// An action this backend does not execute (persistence files belong to the shell
    /// backend).
    #[error("action {action} is not executed by the netlink backend")]
    Unsupported {
        /// The action's name.
        action: String,
    },
    /// A fault injected by [`crate::ApplyOptions::fail_at`] (tests only).
    #[error("fault injected at action {index}")]
    Injected {
        /// The action index.
        index: usize,
    },
    /// After apply, the kernel differs from what the topology says (the first
    /// difference; see [`crate::verify::compare`] for all).
    #[error("after apply, {0}")]
    Mismatch(Box<Mismatch>),
    /// A file where a network namespace should be that is none, and not the debris of
    /// an interrupted run either (an empty file under a sandbox name, which vnet
    /// removes: `ns::named::is_debris`): a file with content, or any file in a place an
    /// explicit map names. vnet neither uses nor removes it (it is not vnet's).
    #[error(
        "{path} is not a network namespace, nor the empty file an interrupted run \
         leaves (which vnet removes): it is left alone; remove it if it is nobody's: \
         rm {path}",
        path = .path.display()
    )]
    NotANamespace {
        /// The file.
        path: std::path::PathBuf,
    },
    /// Every step ran, but verification then failed (the kernel did not show what the
    /// topology says within the settle time, or could not be read back): the applied
    /// steps were undone, so the system is as it was before the apply, unless
    /// `rollback` says what could not be undone.
    #[error(
        "applied, but verification failed; {undone} applied steps undone{}",
        if rollback.is_empty() { String::new() } else { format!(", except: {}", list(rollback)) }
    )]
    NotVerified {
        /// How many steps were undone.
        undone: usize,
        /// The rollback's errors (empty: undone cleanly); when there are some, the
        /// system is in between.
        rollback: Vec<Error>,
        /// What verification found (usually an [`Error::Mismatch`]).
        #[source]
        source: Box<Error>,
    },
    /// A step failed and the applied prefix was undone.
    #[error("step {index} ({action}) failed; {undone} applied steps undone")]
    RolledBack {
        /// The failing step's index.
        index: usize,
        /// The failing action, as text.
        action: String,
        /// How many steps were undone.
        undone: usize,
        /// The failure.
        #[source]
        source: Box<Error>,
    },
    /// A step failed and undoing the applied prefix failed too: the system is in
    /// between.
    #[error(
        "step {index} ({action}) failed and the rollback failed too: {}",
        list(rollback)
    )]
    RollbackFailed {
        /// The failing step's index.
        index: usize,
        /// The failing action, as text.
        action: String,
        /// The rollback's errors (at least one).
        rollback: Vec<Error>,
        /// The original failure.
        #[source]
        source: Box<Error>,
    },
    /// Sending an address announcement (gratuitous ARP, unsolicited NA) failed.
    #[error("announce on {ifname} in {ns}: {doing}: {source}", ns = .ns.display())]
    Announce {
        /// The container's namespace file.
        ns: PathBuf,
        /// The interface inside it.
        ifname: String,
        /// What was being done.
        doing: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Reading, writing or removing a background announcer's record (see
    /// `lifecycle::announcer`), or signalling its process, failed.
    #[error("announcer record {path}: {doing}: {source}", path = .path.display())]
    AnnouncerRecord {
        /// The record file.
        path: PathBuf,
        /// What was being done.
        doing: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A bridge port did not reach the forwarding state in time.
    #[error("bridge port {port} in {ns} not forwarding after {waited:?} (state: {state})", ns = .ns.display())]
    PortNotForwarding {
        /// The port (host end of a container's veth).
        port: String,
        /// The node's namespace file.
        ns: PathBuf,
        /// The last state read.
        state: String,
        /// How long vnet waited.
        waited: std::time::Duration,
    },
    /// The topology has no such container, or it may not run on that node.
    #[error(transparent)]
    Placement(#[from] vnet_core::PlacementError),
    /// This machine is real node `here`: containers of another node are not its to
    /// start.
    #[error("this host is node {here}: it cannot start containers on node {node}")]
    OtherNode {
        /// The node this machine is.
        here: String,
        /// The node asked for.
        node: String,
    },
    /// A container is to start on a sandbox node that has not been built.
    #[error("node {node} is not there: apply the topology first (vnet apply FILE --sandbox)")]
    NodeAbsent {
        /// The node.
        node: String,
    },
    /// On a real node a container's runtime makes its namespace; it is not there.
    #[error(
        "container {ct} has no network namespace {path}: start the container first and \
         name its namespace (ip netns attach {ct} PID, or ip netns add {ct})",
        path = .path.display()
    )]
    NoCtNamespace {
        /// The container.
        ct: String,
        /// Where its namespace should be.
        path: PathBuf,
    },
    /// A container's namespace in the sandbox that vnet did not make: left alone.
    #[error("namespace {name} exists but was not made by topology {topology}: left alone")]
    NotOurNamespace {
        /// The namespace's name.
        name: String,
        /// The topology.
        topology: String,
    },
    /// A stopped container's host ends did not vanish in time.
    #[error("container {ct} stopped, but its host ends are still on node {node}")]
    HostEndsLeft {
        /// The container.
        ct: String,
        /// The node that still holds them.
        node: String,
    },
    /// A started container's own objects still differ from the topology.
    #[error(
        "after start, container {ct} differs from the topology: {}",
        mismatches(found)
    )]
    CtDrift {
        /// The container.
        ct: String,
        /// Its differences.
        found: Vec<Mismatch>,
    },
    /// Several independent steps (teardown) failed.
    #[error("{} errors, first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Many(Vec<Error>),
}

/// What kind of failure an [`Error`] is, for exit codes and retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// vnet lacks privileges.
    Permission,
    /// Something in the way is not vnet's, or the namespace vnet runs in was not
    /// allowed: nothing was changed.
    Conflict,
    /// The kernel refused a change, or talking to it failed; the applied prefix was
    /// undone (see [`Error::RolledBack`]) unless the error says otherwise.
    Kernel,
    /// The rollback itself failed: the system is in between.
    Inconsistent,
    /// Applied, but the kernel does not show what the topology says.
    Verify,
    /// A fault injected by a test.
    Injected,
    /// Anything else (a namespace missing from the map, an unsupported action, a
    /// container the topology does not have).
    Usage,
    /// A container asked for on a node it may not run on, or not on this machine's.
    WrongNode,
    /// What a container's start needs is not there yet (its node, its namespace).
    NotReady,
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::MissingCapability { .. } => ErrorKind::Permission,
            Error::NotOwned { .. }
            | Error::ForeignAlias { .. }
            | Error::AdoptRefused(_)
            | Error::OwnNamespace { .. }
            | Error::NotANamespace { .. } => ErrorKind::Conflict,
            Error::Kernel { errno, .. } if *errno == nix::libc::EPERM => ErrorKind::Permission,
            Error::Kernel { .. }
            | Error::Socket { .. }
            | Error::Decode { .. }
            | Error::DumpInterrupted { .. }
            | Error::Namespace { .. }
            | Error::NoSuchLink { .. }
            | Error::Sysctl { .. }
            | Error::Nft { .. }
            | Error::WorkerPanicked { .. }
            | Error::Announce { .. }
            | Error::AnnouncerRecord { .. }
            | Error::PortNotForwarding { .. } => ErrorKind::Kernel,
            Error::RollbackFailed { .. } => ErrorKind::Inconsistent,
            Error::NotVerified { rollback, .. } if !rollback.is_empty() => ErrorKind::Inconsistent,
            Error::NotVerified { .. } => ErrorKind::Verify,
            Error::Mismatch(_) => ErrorKind::Verify,
            Error::Injected { .. } => ErrorKind::Injected,
            Error::RolledBack { source, .. } => match source.kind() {
                ErrorKind::Injected => ErrorKind::Injected,
                ErrorKind::Permission => ErrorKind::Permission,
                _ => ErrorKind::Kernel,
            },
            Error::Many(errors) => {
                if errors.iter().all(|e| e.kind() == ErrorKind::Conflict) {
                    ErrorKind::Conflict
                } else {
                    errors.first().map_or(ErrorKind::Usage, Error::kind)
                }
            }
            Error::Unmapped { .. } | Error::Unsupported { .. } => ErrorKind::Usage,
            Error::Placement(vnet_core::PlacementError::NoContainer { .. }) => ErrorKind::Usage,
            Error::Placement(_) | Error::OtherNode { .. } => ErrorKind::WrongNode,
            Error::NodeAbsent { .. } | Error::NoCtNamespace { .. } => ErrorKind::NotReady,
            Error::NetnsLookup { .. } => ErrorKind::NotReady,
            Error::NotOurNamespace { .. } => ErrorKind::Conflict,
            Error::HostEndsLeft { .. } => ErrorKind::Kernel,
            Error::CtDrift { .. } => ErrorKind::Verify,
        }
    }

    /// What to do about this failure, when vnet knows, as a sentence for people (the
    /// CLI prints it after the error).
    pub fn hint(&self) -> Option<String> {
        match self {
            // EOPNOTSUPP on a new link: the kernel has no driver for its kind. On the
            // kernels vnet meets that is 802.1Q more than any other (FINDINGS).
            Error::Kernel { errno, .. } if *errno == nix::libc::EOPNOTSUPP => Some(
                "the kernel lacks support for this link kind; a VLAN needs 802.1Q: \
                 `modprobe 8021q` (or a kernel built with CONFIG_VLAN_8021Q)"
                    .into(),
            ),
            Error::NotOwned {
                owner: Some(owner), ..
            } => Some(format!(
                "topology {owner} holds it: give this one its own sandbox with another \
                 --prefix, or remove {owner}'s first with `vnet destroy` of its file"
            )),
            Error::RolledBack { source, .. }
            | Error::RollbackFailed { source, .. }
            | Error::NotVerified { source, .. } => source.hint(),
            Error::Many(errors) => errors.iter().find_map(Error::hint),
            _ => None,
        }
    }

    /// The kernel's errno, when the kernel refused a request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::RolledBack { source, .. } | Error::RollbackFailed { source, .. } => {
                source.errno()
            }
            _ => None,
        }
    }
}

impl From<Mismatch> for Error {
    fn from(m: Mismatch) -> Error {
        Error::Mismatch(Box::new(m))
    }
}

/// Several errors as one line, `; ` between them.
fn list(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Differences as one line, `; ` between them.
fn mismatches(found: &[Mismatch]) -> String {
    found
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
