//! Named namespaces as `ip netns` keeps them: a file `/run/netns/NAME` on which the
//! namespace is bind-mounted, so it lives on without any process in it.
//!
//! `ip netns add` = [`create`], `ip netns del` = [`delete`], `ip netns list` = [`list`].

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

/// Names the namespace the calling thread is in `dir/name` (which must not exist): a
/// file there with the thread's namespace bind-mounted on it. On failure nothing is
/// left.
pub fn publish_here(dir: &Path, name: &str) -> Result<Netns> {
    let path = dir.join(name);
    let ns_err = |what: &'static str, source: io::Error| Error::Namespace {
        what,
        path: path.clone(),
        source,
    };
    fs::create_dir_all(dir).map_err(|e| ns_err("create directory for", e))?;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| ns_err("create file", e))?;
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

/// Deletes the namespace `dir/name`: unmount and unlink. The namespace itself dies
/// when nothing else holds it (no process, no open handle or socket). Returns whether
/// the file existed; deleting a missing namespace is not an error.
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
    match fs::remove_file(&path) {
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
