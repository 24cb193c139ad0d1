//! Which namespace a container's network was built into on a real node, so that
//! [`Backend::status`] can tell a container that restarted (its runtime gave it a new
//! namespace, empty) from one that was never started.
//!
//! What a restart leaves in the kernel (measured, a `pid:` container killed and started
//! again): when the old namespace dies, its veth ends die with it and the kernel
//! deletes their host ends (and so their bridge ports) at once; nothing of the
//! container is left, and without a note its state would read "not running". When
//! something still holds the old namespace (a leftover process, a runtime's bind
//! mount), the host ends stay, bridge ports included, leading into the old namespace.
//!
//! So each apply or start on a node notes, per container, the cookie of the namespace
//! it built into ([`super::super::ns::cookie`]; the inode number is no identity, a new
//! namespace often gets the dead one's); every stop and destroy forgets it. A note is a
//! file `<run dir>/built/<topology>.<ct>` holding `cookie N`, beside the announcers'
//! records. vnet never opens or pins the namespace for it: the container's `netns` is
//! still looked up afresh on every command.

use std::fs;
use std::io;
use std::path::PathBuf;

use serde::Serialize;
use vnet_core::plan::{Name, NsRef, Scope};
use vnet_core::ValidTopology;

use super::{announcer, ns_file};
use crate::error::{Error, Result};
use crate::ns::{cookie, Netns};
use crate::Backend;

/// A container found in another namespace than the one its network was built into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Restarted {
    /// The cookie of the namespace its network was built into.
    pub built_in: u64,
    /// The cookie of the namespace it has now.
    pub now_in: u64,
}

/// The note of `ct` of `topology`.
fn note_path(topology: &str, ct: &str) -> PathBuf {
    let run_dir = announcer::records_dir();
    let run_dir = run_dir.parent().unwrap_or(&run_dir);
    run_dir.join("built").join(format!("{topology}.{ct}"))
}

/// The error of `doing` with note `path`.
fn failed(path: PathBuf, source: io::Error) -> Error {
    Error::Namespace {
        what: "note (for status) the namespace of",
        path,
        source,
    }
}

/// The cookie `ct`'s `netns` leads to now; `None` when it cannot be found (not
/// running, no namespace file).
fn cookie_now(backend: &Backend, ct: &str) -> Option<u64> {
    let path = ns_file(backend.map(), &NsRef::Ct(Name::from(ct))).ok()?;
    cookie(&Netns::open(path).ok()?).ok()
}

impl Backend {
    /// On a real node, notes the namespace each container of `t` placed on this node
    /// is in now, after its network was built there (an apply or a start). A container
    /// whose namespace cannot be found is skipped: nothing was built for it. Nothing in
    /// the sandbox, where vnet makes the namespaces itself.
    pub fn note_built(&self, t: &ValidTopology, scope: &Scope, cts: &[String]) -> Result<()> {
        if !matches!(scope, Scope::Node(_)) {
            return Ok(());
        }
        for ct in cts {
            let Some(now) = cookie_now(self, ct) else {
                continue;
            };
            let path = note_path(t.name(), ct);
            let dir = path.parent().expect("a note lives in a directory");
            fs::create_dir_all(dir).map_err(|e| failed(dir.to_path_buf(), e))?;
            fs::write(&path, format!("cookie {now}\n")).map_err(|e| failed(path, e))?;
        }
        Ok(())
    }

    /// Forgets the notes of `cts` (a stop, a destroy): a container that runs again in
    /// a new namespace afterwards was stopped, not restarted.
    pub fn forget_built(&self, t: &ValidTopology, cts: &[String]) -> Result<()> {
        for ct in cts {
            let path = note_path(t.name(), ct);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(failed(path, e)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether `ct` runs in another namespace than the one its network was built into
    /// (see the module's overview); `None` without a note, or when its namespace
    /// cannot be found now.
    pub fn restarted(&self, t: &ValidTopology, ct: &str) -> Option<Restarted> {
        let text = fs::read_to_string(note_path(t.name(), ct)).ok()?;
        let built_in: u64 = text.trim().strip_prefix("cookie ")?.parse().ok()?;
        let now_in = cookie_now(self, ct)?;
        (now_in != built_in).then_some(Restarted { built_in, now_in })
    }
}

/// The containers `scope` places on its node: those whose namespace `t`'s expected
/// state holds there.
pub fn cts_here(t: &ValidTopology, scope: &Scope) -> Vec<String> {
    vnet_core::plan::expected_state(t, scope)
        .namespaces
        .keys()
        .filter_map(|ns| match ns {
            NsRef::Ct(name) => Some(name.to_string()),
            _ => None,
        })
        .collect()
}
