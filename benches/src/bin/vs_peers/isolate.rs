//! Running the whole benchmark in a private network and mount namespace: the binary
//! re-executes itself under `unshare --net --mount --propagation private`, then mounts
//! private tmpfs on `/run/netns` (every method's named namespaces) and `/var/lib/cni`
//! (the CNI plugin's host-local IPAM state). The bridges the methods create live in the
//! private network namespace; when the child exits, everything it made goes with it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use nix::mount::{mount, MsFlags};

/// Set in the re-executed child: the parent's network namespace (`dev:ino`), which
/// the child must not be in.
const CHILD_ENV: &str = "VS_PEERS_ISOLATED";

/// `dev:ino` of the calling thread's network namespace.
fn netns_id() -> Result<String> {
    let m = std::fs::metadata("/proc/thread-self/ns/net").context("stat own netns")?;
    Ok(format!("{}:{}", m.dev(), m.ino()))
}

/// Whether this process is the isolated child.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Runs this binary again with the same arguments in a private network and mount
/// namespace, and returns its exit code.
pub fn reexec() -> Result<i32> {
    if !nix::unistd::Uid::effective().is_root() {
        bail!("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create private namespaces");
    }
    let exe = std::env::current_exe().context("find this executable")?;
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, netns_id()?)
        .status()
        .context("run unshare (util-linux)")?;
    Ok(status.code().unwrap_or(1))
}

/// In the child: refuses to go on unless this really is a namespace of its own, then
/// mounts the private tmpfs and turns IPv6 off for new links of this namespace (the
/// bridges and host ends the `ip` and CNI methods create here).
pub fn prepare() -> Result<()> {
    let parent = std::env::var(CHILD_ENV).context("the parent's namespace id")?;
    if netns_id()? == parent {
        bail!("refusing to run: still in the caller's network namespace");
    }
    for dir in ["/run/netns", "/var/lib/cni"] {
        std::fs::create_dir_all(dir).with_context(|| format!("mkdir {dir}"))?;
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::empty(),
            None::<&str>,
        )
        .with_context(|| format!("private tmpfs on {dir}"))?;
    }
    write_sysctl(Path::new(DEFAULT_DISABLE_IPV6), "1")
}

/// New links of a namespace start with IPv6 off when this is 1 (read in the namespace
/// of the thread that opens it).
pub const DEFAULT_DISABLE_IPV6: &str = "/proc/sys/net/ipv6/conf/default/disable_ipv6";

/// Writes a sysctl file of the calling thread's namespace.
pub fn write_sysctl(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).with_context(|| format!("write {value} to {}", path.display()))
}
