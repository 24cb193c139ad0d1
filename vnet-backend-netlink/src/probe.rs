//! ICMP echo probes sent in-process from inside network namespaces, for `vnet verify`
//! (TCP and UDP flows: [`stream`]).
//!
//! No `ping` binary is involved: up to [`WORKERS`] threads each enter a namespace in
//! turn (`setns`), open raw ICMP and ICMPv6 sockets there (a socket stays bound to the
//! namespace it was created in), send one echo request per target as soon as the
//! neighbour table allows ([`pace`]), resend the unanswered ones every [`RESEND`] and
//! collect replies until every target answered or timed out, deleting the neighbour
//! entries of settled probes as they go ([`tidy`]). Raw sockets need CAP_NET_RAW, which
//! vnet has as root; datagram "ping sockets" would depend on each namespace's
//! `ping_group_range`.

use nix::errno::Errno;
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{
    recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol,
    SockType, SockaddrIn, SockaddrIn6, SockaddrStorage,
};
use nix::sys::time::TimeVal;
use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub mod neigh;
pub mod pace;
pub mod stream;
pub mod tidy;

pub use tidy::Tidy;

/// How often an unanswered echo request is sent again.
pub const RESEND: Duration = Duration::from_millis(200);

/// One echo to send: from inside the namespace at `ns`, to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The namespace's file (`/run/netns/NAME`, `/proc/PID/ns/net`).
    pub ns: PathBuf,
    /// The address to probe.
    pub to: IpAddr,
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// A reply came back after this round-trip time (from the last request sent).
    Reply(Duration),
    /// No reply before the deadline.
    Timeout,
    /// The network refused the probe: its namespace is not there, or sending failed for
    /// a reason of the network's (no such address family configured, a filter). Like a
    /// timeout, an answer about the network.
    Error(String),
}

/// This machine refused to let vnet probe at all: a namespace could not be opened or
/// entered, or no ICMP socket could be made there (not root, no CAP_NET_RAW, out of
/// file descriptors). Not an answer about the network, so `vnet verify` reports it as a
/// system error rather than as failed probes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} {ns}: {errno}", ns = ns.display(), errno = errno.desc())]
pub struct ProbeError {
    /// What could not be done, e.g. `enter namespace`.
    pub action: &'static str,
    /// The namespace's file.
    pub ns: PathBuf,
    /// The kernel's answer.
    pub errno: Errno,
}

/// How many namespaces are probed at once (each by a thread of its own, with a socket
/// per family): bounded so that a thousand namespaces need neither a thousand threads
/// nor two thousand file descriptors. A worker waits only for its own replies (each a
/// fraction of a millisecond here), so a few keep both cores busy; each thread costs
/// its allocator's heap: 32 workers peaked at 90-98 MiB at 1,000 containers, 8 at 42-57.
pub const WORKERS: usize = 8;

/// How long a send may keep failing with ENOBUFS (the neighbour table full, by someone
/// else's doing) before probing gives up with a [`ProbeError`].
pub const STALL: Duration = Duration::from_secs(20);

/// Sends every probe and waits up to `timeout` for each reply, counted from its first
/// send: probes start as the machine's neighbour table allows (see [`pace`]), so a
/// paced probe still gets its full time. Results are in the order of `probes`; the
/// first namespace that could not be probed at all (see [`ProbeError`]) fails the call.
/// Neighbour entries are left to the kernel.
pub fn probe_all(probes: &[Probe], timeout: Duration) -> Result<Vec<ProbeOutcome>, ProbeError> {
    probe_all_with(probes, timeout, &Tidy::none(), &|_| {})
}

/// [`probe_all`], deleting the neighbour entries of settled probes in the namespaces
/// `tidy` allows, and calling `done(n)` as each namespace's `n` probes finish (for a
/// progress bar).
pub fn probe_all_with(
    probes: &[Probe],
    timeout: Duration,
    tidy: &Tidy,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<ProbeOutcome>, ProbeError> {
    let pacer = pace::Pacer::default();
    let grew =
        |before: Option<u64>| before.is_some_and(|b| pacer.overflows().is_some_and(|now| now > b));
    let before = pacer.overflows();
    let mut out = probe_round(probes, timeout, tidy, done, &pacer)?;
    // The machine's table overflowed meanwhile (whoever filled it): an ARP request may
    // have been dropped, so a silent probe proves nothing. Probe those once more; if it
    // overflows again, that is the machine failing, not the network (exit 4).
    if grew(before) {
        let again: Vec<usize> = (0..out.len())
            .filter(|i| out[*i] == ProbeOutcome::Timeout)
            .collect();
        if let Some(first) = again.first() {
            let before = pacer.overflows();
            let retry: Vec<Probe> = again.iter().map(|i| probes[*i].clone()).collect();
            let outcomes = probe_round(&retry, timeout, tidy, &|_| {}, &pacer)?;
            if grew(before) && outcomes.contains(&ProbeOutcome::Timeout) {
                return Err(ProbeError {
                    action: "trust a silent probe (the machine's neighbour table overflowed \
                             meanwhile) from",
                    ns: probes[*first].ns.clone(),
                    errno: Errno::ENOBUFS,
                });
            }
            for (i, o) in again.into_iter().zip(outcomes) {
                out[i] = o;
            }
        }
    }
    Ok(out)
}

/// One pass over `probes`: every one sent, answered or timed out.
fn probe_round(
    probes: &[Probe],
    timeout: Duration,
    tidy: &Tidy,
    done: &(dyn Fn(usize) + Sync),
    pacer: &pace::Pacer,
) -> Result<Vec<ProbeOutcome>, ProbeError> {
    let mut by_ns: BTreeMap<&Path, Vec<(usize, IpAddr)>> = BTreeMap::new();
    for (i, p) in probes.iter().enumerate() {
        by_ns.entry(&p.ns).or_default().push((i, p.to));
    }
    let groups: Vec<(&Path, Vec<(usize, IpAddr)>)> = by_ns.into_iter().collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let out = Mutex::new(vec![ProbeOutcome::Timeout; probes.len()]);
    let refused: Mutex<Option<ProbeError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(groups.len()) {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= groups.len() || failed.load(Ordering::SeqCst) {
                    break;
                }
                let (ns, targets) = &groups[n];
                // A distinct ICMP identifier per namespace, so replies to another
                // namespace's echoes (raw sockets see every ICMP packet) are never taken.
                let ident = (std::process::id() as u16).wrapping_add((n as u16).wrapping_mul(7919));
                match probe_namespace(ns, targets, ident, timeout, pacer, tidy) {
                    Ok(results) => {
                        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                        for ((i, _), r) in targets.iter().zip(results) {
                            out[*i] = r;
                        }
                        drop(out);
                        done(targets.len());
                    }
                    Err(e) => {
                        failed.store(true, Ordering::SeqCst);
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

/// Where one target's probe stands.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Not admitted yet.
    Waiting,
    /// Admitted; sends so far failed with ENOBUFS since this instant.
    Blocked(Instant),
    /// Sent first at this instant (the timeout counts from here).
    Sent(Instant),
    /// Answered or timed out.
    Done,
}

/// Runs on a worker thread: enters `ns` (until the worker enters the next one).
fn probe_namespace(
    ns: &Path,
    targets: &[(usize, IpAddr)],
    ident: u16,
    timeout: Duration,
    pacer: &pace::Pacer,
    tidy: &Tidy,
) -> Result<Vec<ProbeOutcome>, ProbeError> {
    let refused = |action: &'static str, errno: Errno| ProbeError {
        action,
        ns: ns.to_path_buf(),
        errno,
    };
    let file = match File::open(ns) {
        Ok(f) => f,
        // A namespace that is not there is the network's state (a sandbox partly built),
        // not the machine refusing.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let why = format!("namespace {} does not exist", ns.display());
            return Ok(vec![ProbeOutcome::Error(why); targets.len()]);
        }
        Err(e) => return Err(refused("open namespace", io_errno(&e))),
    };
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| refused("enter namespace", e))?;
    let v4 = targets
        .iter()
        .any(|(_, a)| a.is_ipv4())
        .then(|| icmp_socket(false))
        .transpose();
    let v6 = targets
        .iter()
        .any(|(_, a)| a.is_ipv6())
        .then(|| icmp_socket(true))
        .transpose();
    let (v4, v6) = match (v4, v6) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(refused("open a raw ICMP socket in", e)),
    };
    let mut sweeper = tidy::Sweeper::new(tidy, ns);
    let mut results: Vec<Option<ProbeOutcome>> = vec![None; targets.len()];
    let mut stage = vec![Stage::Waiting; targets.len()];
    let mut last_sent: Vec<Option<Instant>> = vec![None; targets.len()];
    // When each admitted probe sends (again): at once, then every RESEND.
    let mut next_send: Vec<Instant> = vec![Instant::now(); targets.len()];
    // Settled probes whose neighbour entries are still to delete.
    let mut untidy: Vec<IpAddr> = Vec::new();
    // Probes not settled before this pass.
    let mut unsettled = targets.len();
    // Settles a probe: its result, its place in flight freed, its entries to delete.
    let settle = |k: usize,
                  r: ProbeOutcome,
                  results: &mut Vec<Option<ProbeOutcome>>,
                  stage: &mut Vec<Stage>,
                  untidy: &mut Vec<IpAddr>| {
        if !matches!(stage[k], Stage::Waiting) {
            pacer.release();
        }
        stage[k] = Stage::Done;
        results[k] = Some(r);
        untidy.push(targets[k].1);
    };
    while unsettled > 0 {
        // Each pass (at most one receive timeout apart) starts what the pacer admits,
        // so a place in flight freed by a reply is taken at once; after one refusal the
        // pass asks no more (the pacer is shared by every worker).
        let mut admitting = true;
        for (k, (_, to)) in targets.iter().enumerate() {
            let sock = if to.is_ipv4() {
                v4.as_ref()
            } else {
                v6.as_ref()
            };
            let Some(sock) = sock else { continue };
            match stage[k] {
                Stage::Done => continue,
                Stage::Sent(first) => {
                    if first.elapsed() >= timeout {
                        settle(
                            k,
                            ProbeOutcome::Timeout,
                            &mut results,
                            &mut stage,
                            &mut untidy,
                        );
                        continue;
                    }
                }
                Stage::Waiting => {
                    if !admitting {
                        continue;
                    }
                    if !pacer.admit(to.is_ipv6()) {
                        admitting = false;
                        // Nothing admitted anywhere for long: the table stays full.
                        if pacer.stalled(STALL) {
                            return Err(refused(
                                "probe (the neighbour table stays full) from",
                                Errno::ENOBUFS,
                            ));
                        }
                        continue;
                    }
                    stage[k] = Stage::Blocked(Instant::now());
                }
                Stage::Blocked(_) => {}
            }
            let now = Instant::now();
            if now < next_send[k] {
                continue;
            }
            next_send[k] = now + RESEND;
            match send_echo(sock, *to, ident, k as u16) {
                Ok(()) => {
                    last_sent[k] = Some(now);
                    if let Stage::Blocked(_) = stage[k] {
                        stage[k] = Stage::Sent(now);
                    }
                }
                // The neighbour table (or a queue) is full for now: try again on the
                // next round, without starting the probe's clock.
                Err(Errno::ENOBUFS | Errno::EAGAIN) => {
                    if let Stage::Blocked(since) = stage[k] {
                        if since.elapsed() > STALL {
                            return Err(refused(
                                "send an echo (no buffer space) from",
                                Errno::ENOBUFS,
                            ));
                        }
                    }
                }
                // Answers about the network: no route, the neighbour failed, a
                // filter refused. It may change during the wait: the clock runs.
                Err(
                    Errno::ENETUNREACH
                    | Errno::EHOSTUNREACH
                    | Errno::ENETDOWN
                    | Errno::EHOSTDOWN
                    | Errno::EPERM
                    | Errno::EACCES
                    | Errno::EADDRNOTAVAIL,
                ) => {
                    if let Stage::Blocked(_) = stage[k] {
                        stage[k] = Stage::Sent(now);
                    }
                }
                // Anything else is this machine failing to send: not an answer.
                Err(e) => return Err(refused("send an echo from", e)),
            }
        }
        for (sock, is_v6) in [(v4.as_ref(), false), (v6.as_ref(), true)] {
            let Some(sock) = sock else { continue };
            // Read until nothing more waits, or nothing more is awaited (a read past
            // the last reply would wait a whole receive timeout for nothing).
            while untidy.len() < unsettled {
                let Some((from, seq)) = recv_reply(sock, ident, is_v6) else {
                    break;
                };
                let k = seq as usize;
                if k < targets.len() && results[k].is_none() && from == targets[k].1 {
                    let rtt = last_sent[k].map(|t| t.elapsed()).unwrap_or_default();
                    settle(
                        k,
                        ProbeOutcome::Reply(rtt),
                        &mut results,
                        &mut stage,
                        &mut untidy,
                    );
                }
            }
        }
        if !untidy.is_empty() {
            unsettled -= untidy.len();
            sweeper.settled(&untidy);
            untidy.clear();
        }
    }
    sweeper.finish();
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(ProbeOutcome::Timeout))
        .collect())
}

/// The errno of an I/O error from the kernel (`EIO` for one that carries none).
fn io_errno(e: &std::io::Error) -> Errno {
    e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
}

/// A raw ICMP (or ICMPv6) socket in the calling thread's namespace, with a 20 ms
/// receive timeout (also used by `vnet failover-test`'s observer).
pub fn icmp_socket(v6: bool) -> nix::Result<OwnedFd> {
    let (family, proto) = if v6 {
        (AddressFamily::Inet6, SockProtocol::IcmpV6)
    } else {
        (AddressFamily::Inet, SockProtocol::Icmp)
    };
    let fd = socket(family, SockType::Raw, SockFlag::SOCK_CLOEXEC, proto)?;
    // A short receive timeout turns the read loop into a poll that also paces resends.
    setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::new(0, 20_000))?;
    Ok(fd)
}

/// The Internet checksum (RFC 1071) of an ICMPv4 message. ICMPv6 checksums are filled in
/// by the kernel on raw ICMPv6 sockets.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: type, code, checksum, identifier, sequence, 16 bytes of payload.
fn echo_request(v6: bool, ident: u16, seq: u16) -> Vec<u8> {
    let mut msg = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    msg.extend_from_slice(&ident.to_be_bytes());
    msg.extend_from_slice(&seq.to_be_bytes());
    msg.extend_from_slice(b"vnet verify ping");
    if !v6 {
        let c = checksum(&msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
    }
    msg
}

/// Sends one echo request with `ident` and `seq` to `to`.
pub fn send_echo(sock: &OwnedFd, to: IpAddr, ident: u16, seq: u16) -> nix::Result<()> {
    let msg = echo_request(to.is_ipv6(), ident, seq);
    match to {
        IpAddr::V4(a) => sendto(
            sock.as_raw_fd(),
            &msg,
            &SockaddrIn::from(SocketAddrV4::new(a, 0)),
            MsgFlags::empty(),
        ),
        IpAddr::V6(a) => sendto(
            sock.as_raw_fd(),
            &msg,
            &SockaddrIn6::from(SocketAddrV6::new(a, 0, 0, 0)),
            MsgFlags::empty(),
        ),
    }
    .map(|_| ())
}

/// Reads one packet; returns the sender and sequence of an echo reply carrying our
/// identifier, skipping anything else. `None` when nothing is waiting.
pub fn recv_reply(sock: &OwnedFd, ident: u16, v6: bool) -> Option<(IpAddr, u16)> {
    let mut buf = [0u8; 1500];
    loop {
        let (n, from) = recvfrom::<SockaddrStorage>(sock.as_raw_fd(), &mut buf).ok()?;
        let from = from?;
        let (icmp, addr) = if v6 {
            (&buf[..n], IpAddr::V6(from.as_sockaddr_in6()?.ip()))
        } else {
            // Raw IPv4 sockets deliver the IP header too.
            let ihl = usize::from(buf.first()? & 0x0f) * 4;
            (buf.get(ihl..n)?, IpAddr::V4(from.as_sockaddr_in()?.ip()))
        };
        let reply_type = if v6 { 129 } else { 0 };
        if icmp.len() >= 8
            && icmp[0] == reply_type
            && u16::from_be_bytes([icmp[4], icmp[5]]) == ident
        {
            return Some((addr, u16::from_be_bytes([icmp[6], icmp[7]])));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmpv4_checksum_matches_rfc1071_example() {
        // RFC 1071's worked example: the ones' complement sum of these words is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        // A message with its checksum filled in sums to zero.
        let msg = echo_request(false, 0x1234, 7);
        assert_eq!(checksum(&msg), 0);
    }

    #[test]
    fn echo_requests_carry_type_identifier_and_sequence() {
        let m = echo_request(true, 0xabcd, 3);
        assert_eq!((m[0], &m[4..8]), (128, &[0xab, 0xcd, 0, 3][..]));
        assert_eq!(echo_request(false, 1, 2)[0], 8);
    }
}
