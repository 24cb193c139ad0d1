//! Bridge forwarding database entries of VXLAN devices: the all-zero entries that make
//! a device flood broadcast and unknown-unicast frames to every remote node
//! (head-end replication), and reading them back.

use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::RouteType;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

/// `NUD_NOARP | NUD_PERMANENT`, the state `bridge fdb append` gives a static entry (the
/// VXLAN driver refuses entries that are neither permanent nor reachable).
const STATIC_STATE: u16 = 0x40 | 0x80;

/// `bridge fdb append 00:00:00:00:00:00 dev DEV dst REMOTE` for the device with index
/// `ifindex`. Sent with `NLM_F_CREATE | NLM_F_APPEND`: a second remote adds to the
/// all-zero entry instead of replacing it.
pub fn append_flood(ifindex: u32, remote: IpAddr) -> RouteNetlinkMessage {
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Bridge;
    msg.header.ifindex = ifindex;
    msg.header.state = NeighbourState::Other(STATIC_STATE);
    // `self`: the entry goes to the VXLAN device's own table, as iproute2's default.
    msg.header.flags = NeighbourFlags::Own;
    msg.header.kind = RouteType::Unspec;
    msg.attributes
        .push(NeighbourAttribute::LinkLayerAddress(vec![0; 6]));
    msg.attributes
        .push(NeighbourAttribute::Destination(match remote {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    RouteNetlinkMessage::NewNeighbour(msg)
}

/// `bridge fdb show`: a dump request for every bridge FDB entry of the namespace.
pub fn dump() -> RouteNetlinkMessage {
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Bridge;
    RouteNetlinkMessage::GetNeighbour(msg)
}

/// The remote of an all-zero (flooding) entry, with the index of its device; `None` for
/// any other entry (learned MACs, the bridge's own entries).
pub fn flood_remote(msg: &NeighbourMessage) -> Option<(u32, IpAddr)> {
    if msg.header.family != AddressFamily::Bridge {
        return None;
    }
    let mut zero = false;
    let mut dst = None;
    for a in &msg.attributes {
        match a {
            NeighbourAttribute::LinkLayerAddress(mac) => zero = mac.iter().all(|b| *b == 0),
            NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => {
                dst = Some(IpAddr::V4(*a))
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => {
                dst = Some(IpAddr::V6(*a))
            }
            // In an AF_BRIDGE message the parser cannot tell the destination's family
            // from the header: its length does.
            NeighbourAttribute::Destination(NeighbourAddress::Other(bytes)) => {
                dst = match bytes.len() {
                    4 => <[u8; 4]>::try_from(bytes.as_slice()).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(bytes.as_slice())
                        .ok()
                        .map(IpAddr::from),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    if zero {
        dst.map(|d| (msg.header.ifindex, d))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};

    /// The bytes of `bridge fdb append 00:00:00:00:00:00 dev vx-br0 dst 198.18.100.2`
    /// (ifindex 7), as `strace -e sendmsg` shows iproute2 sending them (payload after
    /// the 16-byte netlink header): ndmsg (family 7, ifindex 7, state 0xc0, flags
    /// NTF_SELF), NDA_LLADDR of six zeros, NDA_DST.
    #[test]
    fn append_is_what_bridge_fdb_append_sends() {
        let msg = append_flood(7, "198.18.100.2".parse().unwrap());
        let mut nl = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        nl.finalize();
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);
        let payload = &buf[16..];
        assert_eq!(
            payload,
            [
                7, 0, 0, 0, // family AF_BRIDGE, padding
                7, 0, 0, 0, // ifindex 7
                0xc0, 0, // NUD_NOARP | NUD_PERMANENT
                2, 0, // NTF_SELF, type
                10, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, // NDA_LLADDR 00:..:00
                8, 0, 1, 0, 198, 18, 100, 2, // NDA_DST
            ]
        );
        let RouteNetlinkMessage::NewNeighbour(back) = append_flood(7, "fd00::2".parse().unwrap())
        else {
            unreachable!()
        };
        assert_eq!(flood_remote(&back), Some((7, "fd00::2".parse().unwrap())));
    }
}
