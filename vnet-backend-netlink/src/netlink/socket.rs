//! [`RtSocket`]: an rtnetlink socket bound to the namespace it was opened in.
//!
//! A netlink socket belongs to the network namespace of the thread that created it, for
//! its whole life; so the backend opens one per namespace (on a thread that entered it)
//! and keeps it. Mutating requests go out in batches: many messages in one `send`, then
//! the ACKs are collected by sequence number. The kernel processes the messages of one
//! datagram in order and answers each, a failure included, so one failing request does
//! not stop the others and every result is known (what rollback needs).

use std::collections::BTreeMap;
use std::io;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_DUMP_INTR, NLM_F_MULTIPART, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::RequestCounter;
use crate::error::{Error, Result};

/// How many requests are in flight at once: enough to amortize the syscalls, few enough
/// that the ACKs never overflow the receive buffer (which would lose them: ENOBUFS).
const MAX_IN_FLIGHT: usize = 256;
/// Bytes per `send`; the kernel accepts a datagram of many messages.
const MAX_SEND_BYTES: usize = 64 * 1024;
/// Receive buffer, held only while a call waits for answers ([`RtSocket::with_recv_buf`]).
/// The kernel sizes a dump's datagrams by the largest buffer a reader passed, capped at
/// 32 KiB (`netlink_recvmsg`'s `max_recvmsg_len`); an ACK (with `NETLINK_CAP_ACK`) or a
/// single answer is far smaller. A larger datagram (a dump whose one message exceeds it)
/// is received whole all the same: the buffer grows to the size a peek reports.
const RECV_BUF: usize = 32 * 1024;
/// The socket's kernel receive queue (`SO_RCVBUF`; the kernel doubles it for its
/// bookkeeping). Kernel memory, not ours, freed with the socket: it must hold a whole
/// round of ACKs (`MAX_IN_FLIGHT`, each a few hundred bytes of queued skb) or a dump's
/// datagrams arriving faster than they are read, else answers are lost (ENOBUFS).
const RCVBUF_BYTES: usize = 1024 * 1024;
/// `NLMSG_ERROR`: an error or ACK.
const NLMSG_ERROR: u16 = 2;
/// How often a dump interrupted by a concurrent change (`NLM_F_DUMP_INTR`) is retried.
const DUMP_ATTEMPTS: u32 = 5;

/// One request of a batch.
#[derive(Debug, Clone)]
pub struct Request {
    /// The message.
    pub message: RouteNetlinkMessage,
    /// Flags besides `NLM_F_REQUEST | NLM_F_ACK` (e.g. `NLM_F_CREATE | NLM_F_EXCL`).
    pub flags: u16,
    /// What it does, for errors: `add veth veth1 in vnet-m1`.
    pub what: String,
}

impl Request {
    /// A request with extra `flags`, described by `what`.
    pub fn new(message: RouteNetlinkMessage, flags: u16, what: impl Into<String>) -> Self {
        Request {
            message,
            flags,
            what: what.into(),
        }
    }
}

/// An rtnetlink socket bound to one namespace.
///
/// A session keeps one open per namespace it touches (a thousand, at scale), so an idle
/// socket holds no receive buffer: each call ([`RtSocket::execute`], [`RtSocket::dump`],
/// [`RtSocket::get`], [`RtSocket::get_raw`]) takes one for its answers and gives it back
/// when it returns. Memory then follows the calls in flight (a few worker threads), not
/// the number of namespaces: 256 KiB kept per socket was 256 MB at 1,000 containers.
#[derive(Debug)]
pub struct RtSocket {
    socket: Socket,
    seq: u32,
    counter: RequestCounter,
    /// Empty (no allocation) between calls; see [`RtSocket::with_recv_buf`].
    recv_buf: Vec<u8>,
}

impl RtSocket {
    /// Opens a socket in the calling thread's network namespace. Call it on a thread
    /// that entered the target namespace (see [`crate::ns::Netns::run`]).
    pub fn open(counter: RequestCounter) -> Result<Self> {
        let sock_err = |doing: &str, source: io::Error| Error::Socket {
            doing: doing.to_string(),
            source,
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| sock_err("open", e))?;
        socket.bind_auto().map_err(|e| sock_err("bind", e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| sock_err("connect", e))?;
        // ACKs of failed requests would otherwise carry the whole request back.
        socket
            .set_cap_ack(true)
            .map_err(|e| sock_err("set NETLINK_CAP_ACK", e))?;
        socket
            .set_rx_buf_sz(RCVBUF_BYTES)
            .map_err(|e| sock_err("set SO_RCVBUF", e))?;
        Ok(RtSocket {
            socket,
            seq: 0,
            counter,
            recv_buf: Vec::new(),
        })
    }

    /// Runs one call's exchange with a receive buffer, released afterwards whatever the
    /// outcome (the socket stays open, idle and small, for the next call).
    fn with_recv_buf<T>(&mut self, exchange: impl FnOnce(&mut Self) -> T) -> T {
        self.recv_buf = Vec::with_capacity(RECV_BUF);
        let out = exchange(self);
        self.recv_buf = Vec::new();
        out
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn serialize(&mut self, message: RouteNetlinkMessage, flags: u16) -> (u32, Vec<u8>) {
        let seq = self.next_seq();
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(message));
        msg.finalize();
        let mut bytes = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut bytes);
        (seq, bytes)
    }

    /// Sends one mutating request and waits for its ACK.
    pub fn execute_one(&mut self, request: Request) -> Result<()> {
        self.execute(vec![request])
            .pop()
            .unwrap_or_else(unreachable_empty)
    }

    /// Sends mutating requests in batches and returns each one's result, in order. The
    /// kernel runs them in order; a failure does not stop the ones after it.
    pub fn execute(&mut self, requests: Vec<Request>) -> Vec<Result<()>> {
        self.with_recv_buf(|sock| sock.execute_batches(requests))
    }

    fn execute_batches(&mut self, requests: Vec<Request>) -> Vec<Result<()>> {
        let mut results: Vec<Option<Result<()>>> = (0..requests.len()).map(|_| None).collect();
        let mut requests = requests.into_iter().enumerate().peekable();
        while requests.peek().is_some() {
            // seq -> (index, description) for this round.
            let mut pending: BTreeMap<u32, (usize, String)> = BTreeMap::new();
            let mut datagram: Vec<u8> = Vec::new();
            let mut send_failed = None;
            while pending.len() < MAX_IN_FLIGHT {
                let Some((index, req)) = requests.next() else {
                    break;
                };
                let (seq, bytes) = self.serialize(req.message, req.flags | NLM_F_ACK);
                if !datagram.is_empty() && datagram.len() + bytes.len() > MAX_SEND_BYTES {
                    if let Err(e) = self.send(&datagram) {
                        send_failed = Some(e);
                    }
                    datagram.clear();
                }
                datagram.extend_from_slice(&bytes);
                pending.insert(seq, (index, req.what));
            }
            if send_failed.is_none() && !datagram.is_empty() {
                if let Err(e) = self.send(&datagram) {
                    send_failed = Some(e);
                }
            }
            self.counter.add_mutating(pending.len() as u64);
            if let Some(e) = send_failed {
                // Which of the round's requests reached the kernel is unknown; report
                // the socket error for all, the caller verifies by observing.
                let text = e.to_string();
                for (_, (index, what)) in pending {
                    results[index] = Some(Err(Error::Socket {
                        doing: format!("{what} ({text})"),
                        source: io::Error::other(text.clone()),
                    }));
                }
                continue;
            }
            if let Err(e) = self.collect_acks(&mut pending, &mut results) {
                for (_, (index, _)) in std::mem::take(&mut pending) {
                    results[index] = Some(Err(Error::Socket {
                        doing: "wait for ACK".into(),
                        source: io::Error::other(e.to_string()),
                    }));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(unreachable_empty))
            .collect()
    }

    fn collect_acks(
        &mut self,
        pending: &mut BTreeMap<u32, (usize, String)>,
        results: &mut [Option<Result<()>>],
    ) -> Result<()> {
        while !pending.is_empty() {
            let messages = self.recv_messages("ACK")?;
            for msg in messages {
                let seq = msg.header.sequence_number;
                let NetlinkPayload::Error(err) = msg.payload else {
                    // Not an ACK (e.g. an echo); ignore.
                    continue;
                };
                let Some((index, what)) = pending.remove(&seq) else {
                    continue;
                };
                results[index] = Some(match err.code {
                    None => Ok(()),
                    Some(code) => Err(kernel_error(what, code.get())),
                });
            }
        }
        Ok(())
    }

    /// Dumps (e.g. all links), retrying when a concurrent change interrupted the dump.
    pub fn dump(
        &mut self,
        request: RouteNetlinkMessage,
        what: &str,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.dump_map(request, what, Some)
    }

    /// Like [`RtSocket::dump`], but each message goes through `keep` as soon as it is
    /// decoded, and only what `keep` returns is collected: a namespace holding a
    /// thousand links need not hold a thousand fully decoded messages at once (each
    /// decodes to ~20 KB of attributes, most of which no one reads).
    pub fn dump_map<T>(
        &mut self,
        request: RouteNetlinkMessage,
        what: &str,
        mut keep: impl FnMut(RouteNetlinkMessage) -> Option<T>,
    ) -> Result<Vec<T>> {
        self.with_recv_buf(|sock| sock.dump_retrying(request, what, &mut keep))
    }

    fn dump_retrying<T>(
        &mut self,
        request: RouteNetlinkMessage,
        what: &str,
        keep: &mut impl FnMut(RouteNetlinkMessage) -> Option<T>,
    ) -> Result<Vec<T>> {
        for _ in 0..DUMP_ATTEMPTS {
            match self.dump_once(request.clone(), what, keep)? {
                Some(out) => return Ok(out),
                None => continue,
            }
        }
        Err(Error::DumpInterrupted {
            request: what.to_string(),
            attempts: DUMP_ATTEMPTS,
        })
    }

    /// One dump; `None` when it was interrupted (`NLM_F_DUMP_INTR`).
    fn dump_once<T>(
        &mut self,
        request: RouteNetlinkMessage,
        what: &str,
        keep: &mut impl FnMut(RouteNetlinkMessage) -> Option<T>,
    ) -> Result<Option<Vec<T>>> {
        let (seq, bytes) = self.serialize(request, NLM_F_DUMP);
        self.counter.add_read();
        self.send(&bytes)?;
        let mut out = Vec::new();
        let mut interrupted = false;
        loop {
            let messages = self.recv_messages(what)?;
            for msg in messages {
                if msg.header.sequence_number != seq {
                    continue; // a late answer to something else
                }
                if msg.header.flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match msg.payload {
                    NetlinkPayload::Done(_) => {
                        return Ok((!interrupted).then_some(out));
                    }
                    NetlinkPayload::Error(err) => match err.code {
                        Some(code) => return Err(kernel_error(what.to_string(), code.get())),
                        None => return Ok((!interrupted).then_some(out)),
                    },
                    NetlinkPayload::InnerMessage(inner) => out.extend(keep(inner)),
                    _ => {}
                }
                if msg.header.flags & NLM_F_MULTIPART == 0 {
                    // A single-part answer (a plain get) ends here.
                    return Ok((!interrupted).then_some(out));
                }
            }
        }
    }

    /// Sends a get of one object and returns the answer; `Ok(None)` when the kernel
    /// says it does not exist (ENODEV/ENOENT/ESRCH).
    pub fn get(
        &mut self,
        request: RouteNetlinkMessage,
        what: &str,
    ) -> Result<Option<RouteNetlinkMessage>> {
        self.with_recv_buf(|sock| sock.get_one(request, what))
    }

    fn get_one(
        &mut self,
        request: RouteNetlinkMessage,
        what: &str,
    ) -> Result<Option<RouteNetlinkMessage>> {
        let (seq, bytes) = self.serialize(request, 0);
        self.counter.add_read();
        self.send(&bytes)?;
        loop {
            for msg in self.recv_messages(what)? {
                if msg.header.sequence_number != seq {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::InnerMessage(inner) => return Ok(Some(inner)),
                    NetlinkPayload::Error(err) => {
                        return match err.code.map(|c| c.get().abs()) {
                            None => Ok(None),
                            Some(nix::libc::ENODEV | nix::libc::ENOENT | nix::libc::ESRCH) => {
                                Ok(None)
                            }
                            Some(code) => Err(kernel_error(what.to_string(), -code)),
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends gets that `netlink-packet-route` cannot encode (e.g. `RTM_GETNETCONF`), all
    /// in one datagram, and returns each answer's payload in order: `(message type,
    /// payload)` in, the answer's payload out, `None` when the kernel says there is
    /// nothing to answer (ENODEV/ENOENT/EOPNOTSUPP/EAFNOSUPPORT: e.g. IPv6 disabled).
    pub fn get_raw(
        &mut self,
        requests: &[(u16, Vec<u8>)],
        what: &str,
    ) -> Result<Vec<Option<Vec<u8>>>> {
        self.with_recv_buf(|sock| sock.get_raw_batch(requests, what))
    }

    fn get_raw_batch(
        &mut self,
        requests: &[(u16, Vec<u8>)],
        what: &str,
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let mut datagram = Vec::new();
        let mut pending: BTreeMap<u32, usize> = BTreeMap::new();
        for (index, (kind, payload)) in requests.iter().enumerate() {
            let seq = self.next_seq();
            let len = 16 + payload.len();
            datagram.extend_from_slice(&(len as u32).to_ne_bytes());
            datagram.extend_from_slice(&kind.to_ne_bytes());
            datagram.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
            datagram.extend_from_slice(&seq.to_ne_bytes());
            datagram.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
            datagram.extend_from_slice(payload);
            datagram.resize((datagram.len() + 3) & !3, 0);
            pending.insert(seq, index);
            self.counter.add_read();
        }
        let mut out: Vec<Option<Vec<u8>>> = vec![None; requests.len()];
        if pending.is_empty() {
            return Ok(out);
        }
        self.send(&datagram)?;
        while !pending.is_empty() {
            for (kind, seq, payload) in self.recv_raw(what)? {
                let Some(index) = pending.remove(&seq) else {
                    continue; // a late answer to something else
                };
                if kind != NLMSG_ERROR {
                    out[index] = Some(payload);
                    continue;
                }
                let code = payload
                    .get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                match code.abs() {
                    0
                    | nix::libc::ENODEV
                    | nix::libc::ENOENT
                    | nix::libc::EOPNOTSUPP
                    | nix::libc::EAFNOSUPPORT => {}
                    errno => return Err(kernel_error(what.to_string(), errno)),
                }
            }
        }
        Ok(out)
    }

    /// Receives one datagram and splits it into `(message type, sequence, payload)`
    /// without decoding the payloads.
    fn recv_raw(&mut self, what: &str) -> Result<Vec<(u16, u32, Vec<u8>)>> {
        let n = self.recv_datagram(what)?;
        let mut out = Vec::new();
        let mut offset = 0;
        while offset + 16 <= n {
            let b = &self.recv_buf[offset..n];
            let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
            if len < 16 || len > b.len() {
                return Err(Error::Decode {
                    request: what.to_string(),
                    detail: format!("message of {len} bytes in {} left", b.len()),
                });
            }
            let kind = u16::from_ne_bytes([b[4], b[5]]);
            let seq = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
            out.push((kind, seq, b[16..len].to_vec()));
            offset += (len + 3) & !3;
        }
        Ok(out)
    }

    fn send(&self, bytes: &[u8]) -> Result<()> {
        let sent = self.socket.send(bytes, 0).map_err(|source| Error::Socket {
            doing: "send".into(),
            source,
        })?;
        if sent != bytes.len() {
            return Err(Error::Socket {
                doing: "send".into(),
                source: io::Error::other(format!("short send: {sent} of {} bytes", bytes.len())),
            });
        }
        Ok(())
    }

    /// Receives one datagram into the receive buffer; its length. A peek with
    /// `MSG_TRUNC` first learns the datagram's full length (the kernel reports it even
    /// when it does not fit), so one larger than the buffer is never cut short: the
    /// buffer grows to fit and the datagram is then read whole.
    fn recv_datagram(&mut self, what: &str) -> Result<usize> {
        loop {
            self.recv_buf.clear();
            if self.recv_buf.capacity() < RECV_BUF {
                self.recv_buf.reserve(RECV_BUF);
            }
            let capacity = self.recv_buf.capacity();
            let n = self.recv(what, nix::libc::MSG_PEEK | nix::libc::MSG_TRUNC)?;
            if n > capacity {
                self.recv_buf.clear();
                self.recv_buf.reserve(n);
                continue;
            }
            self.recv_buf.clear();
            let got = self.recv(what, 0)?;
            if got != n {
                return Err(Error::Decode {
                    request: what.to_string(),
                    detail: format!("peeked a datagram of {n} bytes, received {got}"),
                });
            }
            return Ok(n);
        }
    }

    /// One `recv` into the receive buffer with `flags`, retried when a signal interrupts
    /// it; the datagram's length (with `MSG_TRUNC`, also when it did not fit).
    fn recv(&mut self, what: &str, flags: i32) -> Result<usize> {
        loop {
            match self.socket.recv(&mut self.recv_buf, flags) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Socket {
                        doing: format!("receive answer to {what}"),
                        source,
                    })
                }
            }
        }
    }

    /// Receives one datagram and decodes the messages in it.
    fn recv_messages(&mut self, what: &str) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>> {
        let n = self.recv_datagram(what)?;
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < n {
            let buf = &self.recv_buf[offset..n];
            let len = NetlinkBuffer::new_checked(buf)
                .map_err(|e| Error::Decode {
                    request: what.to_string(),
                    detail: e.to_string(),
                })?
                .length() as usize;
            if len == 0 || len > buf.len() {
                break;
            }
            let msg =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[..len]).map_err(|e| {
                    Error::Decode {
                        request: what.to_string(),
                        detail: e.to_string(),
                    }
                })?;
            out.push(msg);
            // Messages are 4-byte aligned.
            offset += (len + 3) & !3;
        }
        Ok(out)
    }
}

/// The kernel answers with a negative errno.
fn kernel_error(request: String, code: i32) -> Error {
    let errno = code.abs();
    Error::Kernel {
        request,
        errno,
        source: io::Error::from_raw_os_error(errno),
    }
}

/// Every request gets a result: an ACK, a NACK, or the socket error of its round.
fn unreachable_empty<T>() -> T {
    panic!("netlink batch finished without a result for a request (bug in RtSocket)")
}
