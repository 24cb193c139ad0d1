//! TCP from inside sandbox namespaces, in process: a listener bound in one namespace and
//! a connection from another, classified as the firewall tests need (open, refused,
//! dropped, unreachable).

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use vnet_backend_netlink::ns::Netns;

/// How long a connection may take before it counts as dropped.
const DROPPED_AFTER: Duration = Duration::from_millis(1500);

/// What a connection attempt met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reached {
    /// The listener accepted it; the source address it saw.
    Open(IpAddr),
    /// A TCP reset (no listener, or a reject).
    Refused,
    /// No answer before [`DROPPED_AFTER`].
    Dropped,
    /// The source has no route (or an ICMP unreachable came back).
    Unreachable,
    /// Something else: the error.
    Other(String),
}

fn in_ns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    Netns::open(format!("/run/netns/{ns}"))
        .unwrap_or_else(|e| panic!("open {ns}: {e}"))
        .run("tcp test", f)
        .unwrap_or_else(|e| panic!("run in {ns}: {e}"))
}

/// A listener on `addr` inside `ns` (the socket stays in that namespace).
pub fn listen(ns: &str, addr: &str) -> TcpListener {
    let l = in_ns(ns, || TcpListener::bind(addr))
        .unwrap_or_else(|e| panic!("listen on {addr} in {ns}: {e}"));
    l.set_nonblocking(true).expect("nonblocking listener");
    l
}

/// Connects from `ns` to `to`; when it opens and `listener` is given, the source
/// address the listener saw.
pub fn connect(ns: &str, to: &str, listener: Option<&TcpListener>) -> Reached {
    let to: SocketAddr = to.parse().expect("a socket address");
    let result = in_ns(ns, || TcpStream::connect_timeout(&to, DROPPED_AFTER));
    match result {
        Ok(stream) => {
            let local = stream.local_addr().expect("local address").ip();
            let Some(l) = listener else {
                return Reached::Open(local);
            };
            // The handshake is done, so the connection waits in the backlog.
            let mut tries = 0;
            loop {
                match l.accept() {
                    Ok((_, peer)) => return Reached::Open(peer.ip()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock && tries < 50 => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => return Reached::Other(format!("connected, but accept: {e}")),
                }
            }
        }
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Reached::Refused,
        Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
            Reached::Dropped
        }
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(nix::libc::ENETUNREACH | nix::libc::EHOSTUNREACH)
            ) =>
        {
            Reached::Unreachable
        }
        Err(e) => Reached::Other(e.to_string()),
    }
}
