//! Named namespaces as `ip netns` keeps them: a file `/run/netns/NAME` on which the
//! namespace is bind-mounted, so it lives on without any process in it.
//!
//! `ip netns add` = [`create`], `ip netns del` = [`delete`], `ip netns list` = [`list`].
//!
//! Two things keep a run killed at any moment recoverable by the next one:
//! - the directory is a shared mount point, as iproute2 makes it ([`prepare_dir`]), so a
//!   later `ip netns add` does not bind-mount it over itself and hide vnet's mounts;
//! - a name is given (file, then mount) and taken back (unmount, then unlink) in two
//!   steps each, and what a kill between them leaves, an empty regular file, is told
//!   apart from anything else ([`is_debris`]) and cleared by the next run.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use super::Netns;
use crate::error::{Error, Result};

/// Where `ip netns` keeps its namespaces.
pub const DEFAULT_DIR: &str = "/run/netns";

/// Creates the namespace `dir/name` (it must not exist), running `init` inside it
/// before it gets its name (e.g. to open a netlink socket there, or to set it up so that
/// no one sees it half-made).
///
/// A new thread does [`enter_new`], `init` and [`publish_here`], then ends: a failure
/// or a kill before the name is given leaves nothing behind.
pub fn create<T: Send>(
    dir: &Path,
    name: &str,
    init: impl FnOnce() -> T + Send,
) -> Result<(Netns, T)> {
    std::thread::scope(|s| {
        s.spawn(|| -> Result<(Netns, T)> {
            enter_new(&dir.join(name))?;
            let made = init();
            Ok((publish_here(dir, name)?, made))
        })
        .join()
        .map_err(|_| Error::WorkerPanicked {
            doing: format!("create namespace {name}"),
        })?
    })
}

/// Moves the calling thread into a new network namespace that has no name yet: it lives
/// while the thread is in it or a socket or handle holds it, and vanishes with them, so
/// a process killed here leaves nothing behind. `path` is only for errors.
///
/// Only for a dedicated thread that ends when its work is done (no caller's thread may
/// change namespace); such a thread can make many, each `unshare` a fresh one.
///
/// Creating a network namespace is the slow part (milliseconds); giving it its name
/// after it is set up, instead of before as `ip netns add` does, keeps the window where
/// a kill leaves an empty file in the namespace directory down to two system calls.
pub fn enter_new(path: &Path) -> Result<()> {
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| Error::Namespace {
        what: "unshare for",
        path: path.to_path_buf(),
        source: e.into(),
    })
}

/// Names the namespace the calling thread is in `dir/name` (which must not exist, or be
/// an empty file left by an interrupted run, see [`is_debris`], which is replaced): a
/// file there with the thread's namespace bind-mounted on it. On failure nothing is
/// left.
pub fn publish_here(dir: &Path, name: &str) -> Result<Netns> {
    let path = dir.join(name);
    let ns_err = |what: &'static str, source: io::Error| Error::Namespace {
        what,
        path: path.clone(),
        source,
    };
    prepare_dir(dir)?;
    if is_debris(&path) {
        // An earlier run (or an `ip netns add`) killed between file and mount: the
        // name is the caller's to give, and the empty file holds nothing.
        fs::remove_file(&path).map_err(|e| ns_err("remove the empty file", e))?;
    }
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| ns_err("create file", e))?;
    super::kill_point::reached("publish");
    let made = (|| {
        mount(
            Some("/proc/thread-self/ns/net"),
            &path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| ns_err("bind mount", e.into()))?;
        Netns::open(&path)
    })();
    if made.is_err() {
        // Undo: the mount may or may not have happened.
        let _ = umount2(&path, MntFlags::MNT_DETACH);
        let _ = fs::remove_file(&path);
    }
    made
}

/// Makes `dir` exist and be a shared mount point, as `ip netns add` does (iproute2's
/// `netns_add`): when it is not a mount point yet, it is bind-mounted over itself
/// (recursively) first, then made shared (recursively).
///
/// Why: a namespace file is a bind mount inside `dir`. When `dir` is a plain directory,
/// the machine's next `ip netns add` bind-mounts it over itself, copying every mount in
/// it: each vnet namespace is then mounted twice, an unmount takes away only the visible
/// copy, the unlink fails with `EBUSY`, and the namespace lives on, hidden. Done first,
/// `ip netns add` finds the mount point and leaves it be. Shared, an unmount in one
/// mount namespace reaches its peers (a namespace file seen from a container runtime's
/// mount namespace goes too). Idempotent: a shared mount point stays as it is.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    let err = |what: &'static str, source: io::Error| Error::Namespace {
        what,
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(|e| err("create directory for", e))?;
    let shared = || {
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match shared() {
        Ok(()) => return Ok(()),
        // EINVAL: not a mount point; make it one, then try again.
        Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(err("make shared", e.into())),
    }
    mount(
        Some(dir),
        dir,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| err("bind mount over itself", e.into()))?;
    shared().map_err(|e| err("make shared", e.into()))
}

/// Whether `path` is what a run killed half-way through naming or unnaming a namespace
/// leaves: an empty regular file with nothing mounted on it (a mounted namespace file
/// looks like an empty regular file too, on nsfs). Only such a file under a name the
/// caller owns may be taken as debris; a non-empty file, a directory or a symlink is
/// someone else's.
pub fn is_debris(path: &Path) -> bool {
    let plain_empty =
        fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file() && m.len() == 0);
    plain_empty
        && nix::sys::statfs::statfs(path)
            .is_ok_and(|fs| fs.filesystem_type() != nix::sys::statfs::NSFS_MAGIC)
}

/// Deletes the namespace `dir/name`: unmount and unlink. The namespace itself dies
/// when nothing else holds it (no process, no open handle or socket). Returns whether
/// the file existed; deleting a missing namespace is not an error, and an empty file
/// left by an interrupted run (see [`is_debris`]) is simply removed.
///
/// A kill between the two steps leaves that empty file, which the next run removes: the
/// unmount comes first because a file cannot be unlinked while mounted on.
pub fn delete(dir: &Path, name: &str) -> Result<bool> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(false);
    }
    match umount2(&path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (a stale file); remove it all the same.
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => {
            return Err(Error::Namespace {
                what: "unmount",
                path,
                source: e.into(),
            })
        }
    }
    super::kill_point::reached("unmounted");
    let removed = fs::remove_file(&path);
    super::kill_point::reached("deleted");
    match removed {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Namespace {
            what: "remove",
            path,
            source,
        }),
    }
}

/// The names of the namespaces in `dir`, sorted; an absent directory is empty.
pub fn list(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Namespace {
                what: "list",
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// The path of namespace `name` in `dir`.
pub fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
