//! A network namespace's cookie: a 64-bit number the kernel gives each namespace once
//! and never gives again (`SO_NETNS_COOKIE`, Linux 5.14), unlike the nsfs inode
//! number, which a namespace made after another died often gets again (measured here:
//! five `unshare --net` in a row all had `net:[4026532174]`). It is what tells a
//! restarted container's new namespace from the one vnet built its network into.

use std::io;

use nix::libc;
// The macro calls itself by its bare name, and its helper by their bare names, so both are imported.
use nix::sys::socket::{getsockopt, socket, AddressFamily, SockFlag, SockType};
use nix::{getsockopt_impl, sockopt_impl};

use super::Netns;
use crate::error::{Error, Result};

/// `SO_NETNS_COOKIE` from the kernel's `asm-generic/socket.h` (the value on every
/// architecture this builds for but sparc, alpha and parisc); the libc crate does not
/// export it yet.
const SO_NETNS_COOKIE: libc::c_int = 71;

sockopt_impl!(
    /// `SO_NETNS_COOKIE`: the cookie of the socket's namespace (read only).
    NetnsCookie,
    GetOnly,
    libc::SOL_SOCKET,
    SO_NETNS_COOKIE,
    u64
);

/// The cookie of `netns` (`getsockopt(SO_NETNS_COOKIE)` on a socket made inside it;
/// `ip` has no command for it).
pub fn cookie(netns: &Netns) -> Result<u64> {
    let failed = |source: io::Error| Error::Namespace {
        what: "read the cookie of",
        path: netns.path().to_path_buf(),
        source,
    };
    netns
        .run("read a namespace cookie", || {
            let sock = socket(
                AddressFamily::Unix,
                SockType::Datagram,
                SockFlag::SOCK_CLOEXEC,
                None,
            )?;
            getsockopt(&sock, NetnsCookie)
        })?
        .map_err(|e| failed(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_namespace_we_run_in_has_one_cookie() {
        let here = Netns::current().unwrap();
        let first = cookie(&here).unwrap();
        assert_ne!(first, 0);
        assert_eq!(cookie(&here).unwrap(), first);
    }
}
