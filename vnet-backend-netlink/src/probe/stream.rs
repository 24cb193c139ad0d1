//! TCP and UDP probes, for `vnet verify`'s flows through port forwards and filters.
//!
//! In-process, like the ICMP probes: a worker thread enters the namespace the flow must
//! arrive in (`setns`) and opens a listener there on the port the flow arrives on (a
//! socket stays in the namespace it was made in), then enters each source namespace in
//! turn and connects from there to the address and port the flow is sent to.
//!
//! - TCP: connected, then 8 bytes (a nonce) echoed by our listener, is an answer; refused
//!   (RST) or no answer before the probe's timeout are how a flow is denied. When a real
//!   service already holds the port, a connection it accepts is an answer (its data is its
//!   own, no echo is asked).
//! - UDP: a datagram with a nonce, sent every [`RESEND`] until the timeout; the listener
//!   answers with the same nonce. A port a real service holds cannot be checked this way
//!   and says so.
//!
//! A failure of this machine (a socket that cannot be made, an error no network gives)
//! is a [`ProbeError`], never "no answer".

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use vnet_core::model::Proto;

use super::{ProbeError, WORKERS};

/// How often an unanswered UDP datagram is sent again.
pub const RESEND: Duration = Duration::from_millis(100);

/// How long one wait on a socket lasts inside a probe's loop.
const TICK: Duration = Duration::from_millis(10);

/// One TCP or UDP flow to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamProbe {
    /// The source namespace's file.
    pub from: PathBuf,
    /// The namespace the flow must arrive in (a port forward's target, or the owner of
    /// `to`), where the listener is opened.
    pub listen: PathBuf,
    /// TCP or UDP.
    pub proto: Proto,
    /// The address and port the source sends to.
    pub to: SocketAddr,
    /// The port the flow arrives on in `listen` (differs from `to`'s behind a forward).
    pub listen_port: u16,
    /// How long to wait for an answer: short for a flow that must be denied.
    pub timeout: Duration,
}

/// What one flow saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamOutcome {
    /// An answer after this long: `echoed` when our listener sent the nonce back, not
    /// when a real service holding the port accepted the connection.
    Answered {
        /// From the first send (TCP: connection set up and nonce echoed).
        rtt: Duration,
        /// Whether the nonce came back from vnet's own listener.
        echoed: bool,
    },
    /// The target or a filter refused: a TCP RST, or ICMP port unreachable.
    Refused,
    /// Nothing came back before the timeout (dropped).
    Timeout,
    /// The network said no before the target could: no route, host unreachable, or a
    /// namespace that is not there.
    Unreachable(String),
    /// The flow cannot be checked: a UDP port a real service holds.
    Unchecked(String),
}

/// Probes every flow; results are in the order of `probes`. Flows arriving in the same
/// namespace are probed one after the other by one worker (their listeners stay open for
/// the worker's whole turn); up to [`WORKERS`] namespaces at once.
pub fn probe_streams(probes: &[StreamProbe]) -> Result<Vec<StreamOutcome>, ProbeError> {
    let mut by_ns: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, p) in probes.iter().enumerate() {
        by_ns.entry(&p.listen).or_default().push(i);
    }
    let groups: Vec<(&Path, Vec<usize>)> = by_ns.into_iter().collect();
    let next = AtomicUsize::new(0);
    let out = Mutex::new(vec![StreamOutcome::Timeout; probes.len()]);
    let refused: Mutex<Option<ProbeError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(groups.len()) {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= groups.len() || refused.lock().is_ok_and(|r| r.is_some()) {
                    break;
                }
                let (ns, members) = &groups[n];
                match probe_group(ns, members, probes) {
                    Ok(results) => {
                        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                        for (i, r) in members.iter().zip(results) {
                            out[*i] = r;
                        }
                    }
                    Err(e) => {
                        refused
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
        }
    });
    match refused.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(out.into_inner().unwrap_or_else(|e| e.into_inner())),
    }
}

/// A listener: ours, or the port is held by someone else (a real service).
enum Listener {
    Tcp(TcpListener),
    Udp(UdpSocket),
    Taken,
}

/// Enters `ns`, opens the listeners its flows need, then probes each flow from its source.
fn probe_group(
    ns: &Path,
    members: &[usize],
    probes: &[StreamProbe],
) -> Result<Vec<StreamOutcome>, ProbeError> {
    if !enter(ns)? {
        let why = format!("namespace {} does not exist", ns.display());
        return Ok(vec![StreamOutcome::Unreachable(why); members.len()]);
    }
    let mut listeners: BTreeMap<(Proto, bool, u16), Listener> = BTreeMap::new();
    for &i in members {
        let p = &probes[i];
        let key = (p.proto, p.to.is_ipv6(), p.listen_port);
        if let std::collections::btree_map::Entry::Vacant(slot) = listeners.entry(key) {
            let l = listen(p.proto, p.to.ip(), p.listen_port)
                .map_err(|e| refused("open a listener in", ns, e))?;
            slot.insert(l);
        }
    }
    let mut out = Vec::with_capacity(members.len());
    for &i in members {
        let p = &probes[i];
        if !enter(&p.from)? {
            let why = format!("namespace {} does not exist", p.from.display());
            out.push(StreamOutcome::Unreachable(why));
            continue;
        }
        let l = &listeners[&(p.proto, p.to.is_ipv6(), p.listen_port)];
        let r = match (p.proto, l) {
            (Proto::Tcp, l) => tcp(p, l),
            (Proto::Udp, l) => udp(p, l),
        };
        out.push(r.map_err(|e| refused("probe from", &p.from, e))?);
    }
    Ok(out)
}

/// Enters the namespace at `ns`; `false` when it does not exist (the network's state,
/// not this machine refusing).
fn enter(ns: &Path) -> Result<bool, ProbeError> {
    let file = match File::open(ns) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(refused("open namespace", ns, errno(&e))),
    };
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| refused("enter namespace", ns, e))?;
    Ok(true)
}

fn refused(action: &'static str, ns: &Path, errno: Errno) -> ProbeError {
    ProbeError {
        action,
        ns: ns.to_path_buf(),
        errno,
    }
}

fn errno(e: &std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

/// A listener on every address of `to`'s family in the calling thread's namespace.
fn listen(proto: Proto, to: IpAddr, port: u16) -> Result<Listener, Errno> {
    let any = match to {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let at = SocketAddr::new(any, port);
    let made = match proto {
        Proto::Tcp => TcpListener::bind(at).and_then(|l| {
            l.set_nonblocking(true)?;
            Ok(Listener::Tcp(l))
        }),
        Proto::Udp => UdpSocket::bind(at).and_then(|s| {
            s.set_read_timeout(Some(TICK))?;
            Ok(Listener::Udp(s))
        }),
    };
    match made {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == ErrorKind::AddrInUse => Ok(Listener::Taken),
        Err(e) => Err(errno(&e)),
    }
}

/// A value no other probe of this process sends.
fn nonce() -> [u8; 8] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let seed = u64::from(std::process::id()) << 40;
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos().into());
    (seed ^ (clock << 16) ^ n).to_be_bytes()
}

/// How the network answered a failed connect or send; `Err` for an error no network
/// gives (this machine's).
fn network_answer(e: &std::io::Error) -> Result<StreamOutcome, Errno> {
    let code = errno(e);
    match code {
        Errno::ECONNREFUSED => Ok(StreamOutcome::Refused),
        Errno::ETIMEDOUT | Errno::EAGAIN | Errno::EINPROGRESS => Ok(StreamOutcome::Timeout),
        Errno::ENETUNREACH
        | Errno::EHOSTUNREACH
        | Errno::ENETDOWN
        | Errno::EHOSTDOWN
        | Errno::EADDRNOTAVAIL => Ok(StreamOutcome::Unreachable(code.desc().to_string())),
        _ if e.kind() == ErrorKind::TimedOut => Ok(StreamOutcome::Timeout),
        _ => Err(code),
    }
}

/// Connects, sends a nonce and waits for our listener to echo it.
fn tcp(p: &StreamProbe, l: &Listener) -> Result<StreamOutcome, Errno> {
    let start = Instant::now();
    let deadline = start + p.timeout;
    let mut client = match TcpStream::connect_timeout(&p.to, p.timeout) {
        Ok(s) => s,
        Err(e) => return network_answer(&e),
    };
    let Listener::Tcp(listener) = l else {
        // A real service holds the port: the connection is the answer.
        return Ok(StreamOutcome::Answered {
            rtt: start.elapsed(),
            echoed: false,
        });
    };
    let nonce = nonce();
    client.write_all(&nonce).map_err(|e| errno(&e))?;
    // Serve our side: accept what is queued and echo what it sends, until ours is back.
    let mut served = Vec::new();
    let mut back = [0u8; 8];
    let mut got = 0;
    client.set_nonblocking(true).map_err(|e| errno(&e))?;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((conn, _)) => served.push(conn),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(errno(&e)),
        }
        for conn in &mut served {
            let mut buf = [0u8; 64];
            conn.set_nonblocking(true).map_err(|e| errno(&e))?;
            if let Ok(n) = conn.read(&mut buf) {
                let _ = conn.write_all(&buf[..n]);
            }
        }
        match client.read(&mut back[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if got == back.len() {
                    let echoed = back == nonce;
                    return Ok(StreamOutcome::Answered {
                        rtt: start.elapsed(),
                        echoed,
                    });
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(TICK),
            Err(e) => return network_answer(&e),
        }
    }
    // Connected, but not to our listener (something else on the way accepted it).
    Ok(StreamOutcome::Answered {
        rtt: start.elapsed(),
        echoed: false,
    })
}

/// Sends a nonce until our listener answers with it or the timeout passes.
fn udp(p: &StreamProbe, l: &Listener) -> Result<StreamOutcome, Errno> {
    let Listener::Udp(server) = l else {
        return Ok(StreamOutcome::Unchecked(format!(
            "udp port {} is taken by another program there: only a TCP flow or ICMP \
             can be checked",
            p.listen_port
        )));
    };
    let any = match p.to {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let client = UdpSocket::bind(SocketAddr::new(any, 0)).map_err(|e| errno(&e))?;
    if let Err(e) = client.connect(p.to) {
        return network_answer(&e);
    }
    client.set_read_timeout(Some(TICK)).map_err(|e| errno(&e))?;
    let nonce = nonce();
    let start = Instant::now();
    let mut next_send = start;
    let mut buf = [0u8; 64];
    while start.elapsed() < p.timeout {
        if Instant::now() >= next_send {
            if let Err(e) = client.send(&nonce) {
                return network_answer(&e);
            }
            next_send += RESEND;
        }
        if let Ok((n, peer)) = server.recv_from(&mut buf) {
            if buf[..n] == nonce {
                server.send_to(&nonce, peer).map_err(|e| errno(&e))?;
            }
        }
        match client.recv(&mut buf) {
            Ok(n) if buf[..n] == nonce => {
                return Ok(StreamOutcome::Answered {
                    rtt: start.elapsed(),
                    echoed: true,
                })
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return network_answer(&e),
        }
    }
    Ok(StreamOutcome::Timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce(), nonce());
    }

    #[test]
    fn refused_and_unreachable_are_answers_of_the_network_other_errors_are_not() {
        let e = |c: Errno| std::io::Error::from_raw_os_error(c as i32);
        assert_eq!(
            network_answer(&e(Errno::ECONNREFUSED)),
            Ok(StreamOutcome::Refused)
        );
        assert!(matches!(
            network_answer(&e(Errno::EHOSTUNREACH)),
            Ok(StreamOutcome::Unreachable(_))
        ));
        assert_eq!(network_answer(&e(Errno::EMFILE)), Err(Errno::EMFILE));
        assert_eq!(network_answer(&e(Errno::EPERM)), Err(Errno::EPERM));
    }
}
