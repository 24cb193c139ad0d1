//! [`Netns`]: an open handle to a network namespace, and running code inside one.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::sched::{setns, CloneFlags};

use crate::error::{Error, Result};

/// The identity of a namespace: device and inode of its nsfs file. Two handles with the
/// same id are the same namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetnsId {
    /// Device number of nsfs.
    pub dev: u64,
    /// Inode number (what `ip netns identify` and `/proc/PID/ns/net` show).
    pub ino: u64,
}

/// An open network namespace. Holding it keeps the namespace alive.
#[derive(Debug)]
pub struct Netns {
    file: File,
    path: PathBuf,
}

impl Netns {
    /// Opens the namespace file at `path` (`/run/netns/NAME`, `/proc/PID/ns/net`).
    pub fn open(path: impl AsRef<Path>) -> Result<Netns> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| Error::Namespace {
            what: "open",
            path: path.clone(),
            source,
        })?;
        // A plain file where a namespace should be (what an `ip netns add` killed
        // between creating the file and mounting the namespace on it leaves): say so
        // here, not as an `EINVAL` from `setns` later.
        let fs = nix::sys::statfs::fstatfs(&file).map_err(|e| Error::Namespace {
            what: "statfs",
            path: path.clone(),
            source: e.into(),
        })?;
        if fs.filesystem_type() != nix::sys::statfs::NSFS_MAGIC {
            return Err(Error::NotANamespace { path });
        }
        Ok(Netns { file, path })
    }

    /// The namespace of process `pid` (a container's init).
    pub fn of_pid(pid: u32) -> Result<Netns> {
        Netns::open(format!("/proc/{pid}/ns/net"))
    }

    /// The namespace the calling thread is in.
    pub fn current() -> Result<Netns> {
        Netns::open("/proc/thread-self/ns/net")
    }

    /// Where it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its identity.
    pub fn id(&self) -> Result<NetnsId> {
        let meta = self.file.metadata().map_err(|source| Error::Namespace {
            what: "stat",
            path: self.path.clone(),
            source,
        })?;
        Ok(NetnsId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// The file descriptor, e.g. for `IFLA_NET_NS_FD`.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Runs `f` on a new thread that entered this namespace, and returns its result.
    /// The thread ends afterwards, so the caller's threads never change namespace.
    /// Sockets and `/proc/sys/net` files opened by `f` belong to this namespace, and so
    /// do processes it spawns.
    pub fn run<T: Send>(&self, doing: &str, f: impl FnOnce() -> T + Send) -> Result<T> {
        let fd = self.file.as_fd();
        let path = &self.path;
        std::thread::scope(|s| {
            s.spawn(move || {
                setns(fd, CloneFlags::CLONE_NEWNET).map_err(|errno| Error::Namespace {
                    what: "setns into",
                    path: path.clone(),
                    source: errno.into(),
                })?;
                Ok(f())
            })
            .join()
            .map_err(|_| Error::WorkerPanicked {
                doing: doing.to_string(),
            })?
        })
    }
}

/// Runs `f` for every job, each inside its job's namespace, on a few dedicated worker
/// threads at once (a worker enters one namespace after the other, and ends when its
/// jobs are done). Results are in the order of `jobs`.
pub fn run_many<J: Sync, T: Send>(
    jobs: &[(&Netns, J)],
    f: impl Fn(&J) -> T + Sync,
) -> Vec<Result<T>> {
    const WORKERS: usize = 4;
    let chunk = jobs.len().div_ceil(WORKERS).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let workers: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(netns, job)| {
                            setns(netns.fd(), CloneFlags::CLONE_NEWNET).map_err(|errno| {
                                Error::Namespace {
                                    what: "setns into",
                                    path: netns.path.clone(),
                                    source: errno.into(),
                                }
                            })?;
                            Ok(f(job))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .zip(jobs.chunks(chunk))
            .flat_map(|(w, part)| {
                w.join().unwrap_or_else(|_| {
                    part.iter()
                        .map(|_| {
                            Err(Error::WorkerPanicked {
                                doing: "work in namespaces".into(),
                            })
                        })
                        .collect()
                })
            })
            .collect()
    })
}
