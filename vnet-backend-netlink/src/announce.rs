//! Address announcements after a container moved: gratuitous ARP for IPv4 and
//! unsolicited Neighbor Advertisements for IPv6, sent from inside the container's
//! namespace on its interface, on a schedule; and a wait until the container's bridge
//! port forwards, so the first announcement is not dropped.
//!
//! Why vnet sends them itself: when a container moves to another node its MAC and
//! addresses stay, but the LAN switch's FDB and the neighbours' ARP caches may still
//! point at the old node (or at an old MAC when the uplink NIC changed). The kernel's
//! `arp_notify` announces when the link comes up, which is before the bridge port on the
//! node reaches the forwarding state, so the bridge drops it. vnet waits for
//! [`wait_forwarding`] and then calls [`announce`].
//!
//! **IPv4 form.** An ARP *request* with sender IP = target IP = the address, sender MAC =
//! the interface's MAC, target MAC zero, to the Ethernet broadcast: the "ARP
//! Announcement" of RFC 5227 §2.3. It is what the kernel's own `arp_notify` and
//! `arping -U` send and what keepalived sends by default. Linux receivers treat it as
//! gratuitous (`arp_is_garp`: sender IP = target IP) and override an existing entry even
//! inside its lock time; a gratuitous *reply* is only taken as gratuitous by Linux when
//! its target MAC equals the sender MAC, and some hosts ignore unsolicited replies, so
//! the request form is the one that works with most neighbours.
//!
//! **IPv6 form.** An unsolicited Neighbor Advertisement (RFC 4861 §7.2.6): override flag
//! set, solicited flag clear, target = the address, target link-layer address option =
//! the MAC, sent to all-nodes `ff02::1` with hop limit 255 (receivers drop NDP messages
//! with any other hop limit) from the address itself.
//!
//! All socket work happens on a dedicated thread that entered the namespace (see
//! [`crate::ns::Netns::run`]); a packet socket bound to the interface's index sends the
//! ARP frames, a raw ICMPv6 socket the advertisements (the kernel fills in the
//! checksum).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netlink_packet_route::link::{
    BridgePortState, InfoBridgePort, InfoPortData, LinkAttribute, LinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;
use nix::sys::socket::{
    bind, send, sendto, setsockopt, socket, sockopt, AddressFamily, LinkAddr, MsgFlags, SockFlag,
    SockProtocol, SockType, SockaddrIn6,
};

use crate::error::{Error, Result};
use crate::netlink::{RequestCounter, RtSocket};
use crate::ns::Netns;

/// The schedule `vnet` uses after a move: at once, then 20 ms, 200 ms, 1 s and 5 s
/// after the first (repeats cover a switch or neighbour that missed one frame).
pub const DEFAULT_SCHEDULE: [Duration; 5] = [
    Duration::ZERO,
    Duration::from_millis(20),
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(5),
];

/// How often [`wait_forwarding`] reads the port's state.
const POLL: Duration = Duration::from_millis(5);
/// The longest sleep of [`announce_until`] between two looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(10);

/// What [`announce`] sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceReport {
    /// The interface's index inside the namespace.
    pub ifindex: u32,
    /// The interface's MAC (the sender of every frame).
    pub mac: [u8; 6],
    /// Gratuitous ARP requests sent (IPv4 addresses x schedule offsets).
    pub arp_sent: usize,
    /// Unsolicited Neighbor Advertisements sent (IPv6 addresses x schedule offsets).
    pub na_sent: usize,
}

/// Announces `addrs` from inside the namespace at `ns` (`/run/netns/NAME`,
/// `/proc/PID/ns/net`) on interface `ifname`: at each offset of `schedule` (measured
/// from the call; offsets in increasing order) one gratuitous ARP per IPv4 address and
/// one unsolicited NA per IPv6 address. Blocks until the last offset has been sent.
pub fn announce(
    ns: &Path,
    ifname: &str,
    addrs: &[IpAddr],
    schedule: &[Duration],
) -> Result<AnnounceReport> {
    let netns = Netns::open(ns)?;
    netns.run("announce addresses", || {
        announce_here(ns, ifname, addrs, schedule, None)
    })?
}

/// [`announce`] that gives up the offsets not reached yet once `stop` is set (checked
/// at least every 10 ms while waiting), so a caller can run a long schedule (e.g.
/// [`DEFAULT_SCHEDULE`]'s 5 s) on a background thread and end it early. The report
/// counts what was sent.
pub fn announce_until(
    ns: &Path,
    ifname: &str,
    addrs: &[IpAddr],
    schedule: &[Duration],
    stop: &AtomicBool,
) -> Result<AnnounceReport> {
    let netns = Netns::open(ns)?;
    netns.run("announce addresses", || {
        announce_here(ns, ifname, addrs, schedule, Some(stop))
    })?
}

/// Sleeps until `at`; returns false (early) when `stop` is set meanwhile.
fn sleep_until(at: Instant, stop: Option<&AtomicBool>) -> bool {
    loop {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return false;
        }
        let Some(left) = at.checked_duration_since(Instant::now()) else {
            return true;
        };
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(match stop {
            Some(_) => left.min(STOP_POLL),
            None => left,
        });
    }
}

/// [`announce`]'s body, on a thread that is inside the namespace.
fn announce_here(
    ns: &Path,
    ifname: &str,
    addrs: &[IpAddr],
    schedule: &[Duration],
    stop: Option<&AtomicBool>,
) -> Result<AnnounceReport> {
    let fail = |doing: &str, source: std::io::Error| Error::Announce {
        ns: ns.to_path_buf(),
        ifname: ifname.to_string(),
        doing: doing.to_string(),
        source,
    };
    let link = link_address(ifname).map_err(|e| fail("look up the interface", e))?;
    let ifindex = link.ifindex() as u32;
    let mac = link
        .addr()
        .ok_or_else(|| fail("read the MAC", std::io::Error::other("no Ethernet address")))?;
    let v4: Vec<Ipv4Addr> = addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    let v6: Vec<Ipv6Addr> = addrs
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        })
        .collect();
    let arp = if v4.is_empty() {
        None
    } else {
        Some(packet_socket(&link).map_err(|e| fail("open a packet socket", e.into()))?)
    };
    // One ICMPv6 socket per address: each is bound to its address, so the kernel uses
    // it as the source (a receiver takes an NA from any source, but a source that is
    // the announced address is what RFC 4861 hosts send).
    let na: Vec<(Ipv6Addr, OwnedFd)> = v6
        .iter()
        .map(|a| {
            icmpv6_socket(*a, ifindex)
                .map(|s| (*a, s))
                .map_err(|e| fail(&format!("open an ICMPv6 socket for {a}"), e.into()))
        })
        .collect::<Result<_>>()?;
    let start = Instant::now();
    let mut report = AnnounceReport {
        ifindex,
        mac,
        arp_sent: 0,
        na_sent: 0,
    };
    for offset in schedule {
        if !sleep_until(start + *offset, stop) {
            break;
        }
        if let Some(sock) = &arp {
            for a in &v4 {
                let frame = arp_announcement(mac, *a);
                send(sock.as_raw_fd(), &frame, MsgFlags::empty())
                    .map_err(|e| fail(&format!("send gratuitous ARP for {a}"), e.into()))?;
                report.arp_sent += 1;
            }
        }
        for (a, sock) in &na {
            let msg = neighbor_advertisement(mac, *a);
            let to = SockaddrIn6::from(SocketAddrV6::new(ALL_NODES, 0, 0, ifindex));
            sendto(sock.as_raw_fd(), &msg, &to, MsgFlags::empty())
                .map_err(|e| fail(&format!("send unsolicited NA for {a}"), e.into()))?;
            report.na_sent += 1;
        }
    }
    Ok(report)
}

/// IPv6 all-nodes multicast, where unsolicited advertisements go.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The interface's link-layer address (index and MAC) as `getifaddrs` reports it in
/// this thread's namespace. Its `sockaddr_ll` is what the packet socket binds to.
fn link_address(ifname: &str) -> std::io::Result<LinkAddr> {
    nix::ifaddrs::getifaddrs()?
        .filter(|i| i.interface_name == ifname)
        .find_map(|i| i.address.and_then(|a| a.as_link_addr().copied()))
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no interface {ifname} in this namespace"),
            )
        })
}

/// A raw packet socket bound to the interface: frames written to it go out as they are.
/// Protocol 0: it sends only and receives nothing.
fn packet_socket(link: &LinkAddr) -> nix::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind(fd.as_raw_fd(), link)?;
    Ok(fd)
}

/// A raw ICMPv6 socket with source `addr`, hop limit 255, sending on `ifindex`.
fn icmpv6_socket(addr: Ipv6Addr, ifindex: u32) -> nix::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Inet6,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::IcmpV6,
    )?;
    setsockopt(&fd, sockopt::Ipv6MulticastHops, &255)?;
    setsockopt(&fd, sockopt::Ipv6Ttl, &255)?;
    // A link-local source needs the interface as its scope; a global one does not mind.
    let scope = if addr.is_unicast_link_local() {
        ifindex
    } else {
        0
    };
    bind(
        fd.as_raw_fd(),
        &SockaddrIn6::from(SocketAddrV6::new(addr, 0, 0, scope)),
    )?;
    Ok(fd)
}

/// The Ethernet frame of a gratuitous ARP request (RFC 5227 ARP Announcement) for
/// `ip` from `mac`: broadcast destination, sender IP = target IP, target MAC zero.
pub fn arp_announcement(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&[0xff; 6]); // Ethernet destination: broadcast
    f[6..12].copy_from_slice(&mac); // Ethernet source
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes()); // EtherType ARP
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // hardware type Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol IPv4
    f[18] = 6; // hardware address length
    f[19] = 4; // protocol address length
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // operation: request
    f[22..28].copy_from_slice(&mac); // sender hardware address
    f[28..32].copy_from_slice(&ip.octets()); // sender protocol address
                                             // f[32..38]: target hardware address, zero (unknown) as RFC 5227 says.
    f[38..42].copy_from_slice(&ip.octets()); // target protocol address = sender's
    f
}

/// An unsolicited Neighbor Advertisement for `target` at `mac` (ICMPv6 message without
/// checksum: raw ICMPv6 sockets have the kernel compute it).
pub fn neighbor_advertisement(mac: [u8; 6], target: Ipv6Addr) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136; // type: Neighbor Advertisement
    m[1] = 0; // code
              // m[2..4]: checksum, filled in by the kernel.
    m[4] = 0x20; // flags: Override (R = 0: not claiming to be a router; S = 0: unsolicited)
    m[8..24].copy_from_slice(&target.octets());
    m[24] = 2; // option: Target Link-Layer Address
    m[25] = 1; // option length in units of 8 bytes
    m[26..32].copy_from_slice(&mac);
    m
}

/// The STP state of bridge port `port` in the namespace at `node_ns` (`None` when the
/// link is not a bridge port).
pub fn port_state(node_ns: &Path, port: &str) -> Result<Option<BridgePortState>> {
    let netns = Netns::open(node_ns)?;
    netns.run("read bridge port state", || {
        let mut sock = RtSocket::open(RequestCounter::new())?;
        port_state_with(&mut sock, node_ns, port)
    })?
}

/// One read of the port's state over an open socket in the node's namespace.
fn port_state_with(
    sock: &mut RtSocket,
    node_ns: &Path,
    port: &str,
) -> Result<Option<BridgePortState>> {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(port.to_string()));
    let what = format!("get link {port} in {}", node_ns.display());
    let Some(RouteNetlinkMessage::NewLink(link)) =
        sock.get(RouteNetlinkMessage::GetLink(msg), &what)?
    else {
        return Err(Error::PortNotForwarding {
            port: port.to_string(),
            ns: node_ns.to_path_buf(),
            state: "no such link".into(),
            waited: Duration::ZERO,
        });
    };
    Ok(bridge_port_state(&link))
}

/// `IFLA_BRPORT_STATE` from a link's `IFLA_LINKINFO`/`IFLA_INFO_SLAVE_DATA`.
fn bridge_port_state(link: &LinkMessage) -> Option<BridgePortState> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
            LinkInfo::PortData(InfoPortData::BridgePort(attrs)) => {
                attrs.iter().find_map(|b| match b {
                    InfoBridgePort::State(s) => Some(*s),
                    _ => None,
                })
            }
            _ => None,
        }),
        _ => None,
    })
}

/// Waits until bridge port `port` in the node namespace at `node_ns` is forwarding,
/// reading its state over netlink every few milliseconds, and returns how long that
/// took. Fails with [`Error::PortNotForwarding`] after `timeout` (the port is still
/// listening/learning, disabled, or not a bridge port).
pub fn wait_forwarding(node_ns: &Path, port: &str, timeout: Duration) -> Result<Duration> {
    let netns = Netns::open(node_ns)?;
    netns.run("wait for bridge port forwarding", || {
        let mut sock = RtSocket::open(RequestCounter::new())?;
        let start = Instant::now();
        loop {
            let state = port_state_with(&mut sock, node_ns, port)?;
            if state == Some(BridgePortState::Forwarding) {
                return Ok(start.elapsed());
            }
            if start.elapsed() >= timeout {
                return Err(Error::PortNotForwarding {
                    port: port.to_string(),
                    ns: node_ns.to_path_buf(),
                    state: state.map_or("not a bridge port".into(), |s| format!("{s:?}")),
                    waited: start.elapsed(),
                });
            }
            std::thread::sleep(POLL);
        }
    })?
}

/// One container interface to announce after a move, and the bridge port that carries
/// it on the node (see [`announce_after_forwarding`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedInterface {
    /// The node's namespace, where the bridge port is.
    pub node_ns: PathBuf,
    /// The host end of the container's veth (the bridge port).
    pub port: String,
    /// The container's namespace.
    pub ct_ns: PathBuf,
    /// The interface inside the container.
    pub ifname: String,
    /// Its addresses.
    pub addrs: Vec<IpAddr>,
}

/// Waits (at most `timeout`) until the interface's bridge port forwards, then announces
/// its addresses on `schedule`: the order the failover needs.
pub fn announce_after_forwarding(
    moved: &MovedInterface,
    timeout: Duration,
    schedule: &[Duration],
) -> Result<AnnounceReport> {
    wait_forwarding(&moved.node_ns, &moved.port, timeout)?;
    announce(&moved.ct_ns, &moved.ifname, &moved.addrs, schedule)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x12, 0x34, 0x56, 0x78, 0x9a];

    #[test]
    fn arp_announcement_is_a_broadcast_request_with_sender_ip_equal_target_ip() {
        let f = arp_announcement(MAC, Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &MAC);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&f[22..28], &MAC);
        assert_eq!(&f[28..32], &[198, 18, 0, 2]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[198, 18, 0, 2]);
    }

    #[test]
    fn neighbor_advertisement_overrides_and_carries_the_mac() {
        let target: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let m = neighbor_advertisement(MAC, target);
        assert_eq!(m[0], 136);
        assert_eq!(m[4], 0x20, "override set, solicited and router clear");
        assert_eq!(&m[8..24], &target.octets());
        assert_eq!(&m[24..26], &[2, 1]);
        assert_eq!(&m[26..32], &MAC);
    }

    #[test]
    fn default_schedule_is_increasing_and_starts_at_once() {
        assert_eq!(DEFAULT_SCHEDULE[0], Duration::ZERO);
        assert!(DEFAULT_SCHEDULE.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_set_stop_flag_ends_the_wait_early() {
        let stop = AtomicBool::new(false);
        let start = Instant::now();
        assert!(sleep_until(start, Some(&stop)), "an offset already reached");
        stop.store(true, Ordering::Relaxed);
        assert!(!sleep_until(start + Duration::from_secs(3600), Some(&stop)));
        let err = announce_until(
            Path::new("/nonexistent/vnet-ns"),
            "eth0",
            &[],
            &[Duration::ZERO],
            &stop,
        )
        .unwrap_err();
        assert!(matches!(err, Error::Namespace { .. }), "{err}");
    }

    #[test]
    fn a_missing_namespace_is_an_error_not_a_panic() {
        let err = announce(
            Path::new("/nonexistent/vnet-ns"),
            "eth0",
            &[],
            &[Duration::ZERO],
        )
        .unwrap_err();
        assert!(matches!(err, Error::Namespace { .. }), "{err}");
    }
}
