//! Address messages: `ip address add|del ADDR/LEN dev LINK`, and the dump.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

fn message(index: u32, address: IpNetwork) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(address.ip());
    msg.header.prefix_len = address.prefix();
    msg.header.index = index;
    // As `ip address add` does: the local address, and the same as the "peer" address.
    msg.attributes.push(AddressAttribute::Local(address.ip()));
    msg.attributes.push(AddressAttribute::Address(address.ip()));
    msg
}

/// The address family of `ip`.
pub fn family(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// `ip address add ADDR/LEN dev LINK` (`index` = the link's ifindex). IPv6 addresses
/// skip duplicate address detection (`nodad`): vnet assigns them, and a tentative
/// address would not route for a second after apply.
pub fn add(index: u32, address: IpNetwork) -> RouteNetlinkMessage {
    let mut msg = message(index, address);
    if address.is_ipv6() {
        msg.header.flags = AddressHeaderFlags::Nodad;
    }
    RouteNetlinkMessage::NewAddress(msg)
}

/// `ip address del ADDR/LEN dev LINK`.
pub fn delete(index: u32, address: IpNetwork) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelAddress(message(index, address))
}

/// `ip address show`: every address in the namespace.
pub fn dump() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetAddress(AddressMessage::default())
}

/// The link index and address of a dumped address message (`None` for messages without
/// an address).
pub fn parse(msg: &AddressMessage) -> Option<(u32, IpNetwork)> {
    // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on
    // point-to-point links); IPv6 messages carry only IFA_ADDRESS.
    let local = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    let addr = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(ip) => Some(*ip),
        _ => None,
    });
    let ip = local.or(addr)?;
    IpNetwork::new(ip, msg.header.prefix_len)
        .ok()
        .map(|net| (msg.header.index, net))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_then_parse_round_trips() {
        let net: IpNetwork = "198.18.0.1/24".parse().unwrap();
        let RouteNetlinkMessage::NewAddress(msg) = add(3, net) else {
            panic!("not newaddr");
        };
        assert_eq!(parse(&msg), Some((3, net)));
        assert_eq!(msg.header.family, AddressFamily::Inet);
    }
}
