//! The lock that makes the commands that change namespaces (`apply`, `destroy`, `demo`,
//! `start`, `stop`) run one at a time on a machine.
//!
//! Two runs that build the same namespaces at once interfere: both see them missing,
//! each creates some, each fails on the other's with "File exists" and undoes its own,
//! and neither is left standing (four parallel applies of the seed all failed this way,
//! some with rollbacks that failed too). Pacemaker starts independent containers in
//! parallel on a real node, and the first creates the node's shared bridges. So every
//! changing command takes an exclusive `flock` on the namespace directory (`/run/netns`)
//! and waits for it, saying so when it has to: the second run then finds the work done
//! (an apply changes nothing) instead of tearing the first one's down. A lock on the
//! directory itself leaves no file behind; it is released when the process ends, even
//! when it is killed. Disjoint topologies are serialized too, at milliseconds each.
//!
//! It is iproute2's lock too: `ip netns add` (6.1 here) waits on the same `flock`, so
//! vnet and a person's `ip netns add` take turns as well. For the same reason
//! `vnet apply --backend shell`, which runs `ip netns add` itself, does not take it (the
//! command would wait for its own parent forever).

use anyhow::anyhow;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;

use crate::exit::Failure;
use crate::sandbox::Resolved;

/// Where the named namespaces are, sandbox's and containers' alike; what [`take`] locks.
pub const NETNS_DIR: &str = "/run/netns";

/// The held lock; released when dropped.
pub type Held = Flock<File>;

/// Takes the machine's namespace lock, waiting while another vnet run holds it (and
/// saying so on stderr, which JSON output leaves alone).
pub fn take() -> Result<Held, Failure> {
    std::fs::create_dir_all(NETNS_DIR)
        .map_err(|e| Failure::system(anyhow!("cannot create {NETNS_DIR}: {e}")))?;
    let open = || {
        File::open(NETNS_DIR).map_err(|e| {
            Failure::system(anyhow!(
                "cannot open {NETNS_DIR} (the namespaces' directory) to lock it: {e}"
            ))
        })
    };
    let failed = |e: Errno| Failure::system(anyhow!("cannot lock {NETNS_DIR}: {e}"));
    match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
        Ok(held) => Ok(held),
        Err((_, Errno::EWOULDBLOCK)) => {
            eprintln!("waiting for another vnet run to finish (it holds {NETNS_DIR})");
            Flock::lock(open()?, FlockArg::LockExclusive).map_err(|(_, e)| failed(e))
        }
        Err((_, e)) => Err(failed(e)),
    }
}

/// [`take`] on a real node (`--node N --this-host`), nothing in the sandbox: `start` and
/// `stop` of single containers, which Pacemaker runs in parallel on a node, and which
/// `vnet failover-test` runs in its own private sandbox on purpose side by side.
pub fn take_on_node(target: &Resolved) -> Result<Option<Held>, Failure> {
    target.this_node().map(|_| take()).transpose()
}
