//! Route messages: `ip route add|del DST [via GW] [dev LINK] [metric N] proto 118`
//! in the main table, and the dump with its normalization to [`RouteSpec`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use vnet_core::ownership::ROUTE_PROTOCOL;
use vnet_core::plan::RouteSpec;

use super::address::family;

/// `RT_TABLE_MAIN`.
pub const MAIN_TABLE: u32 = 254;
/// The metric the kernel gives an IPv6 route without one (IPv4's is 0).
pub const IPV6_DEFAULT_METRIC: u32 = 1024;

fn message(route: &RouteSpec, oif: Option<u32>) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header.address_family = family(route.dst.ip());
    msg.header.destination_prefix_length = route.dst.prefix();
    msg.header.table = MAIN_TABLE as u8;
    msg.header.protocol = RouteProtocol::from(ROUTE_PROTOCOL);
    msg.header.kind = RouteType::Unicast;
    // A route without a gateway reaches its destination directly on the link.
    msg.header.scope = if route.via.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    if route.dst.prefix() > 0 {
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(
                route.dst.network(),
            )));
    }
    if let Some(via) = route.via {
        msg.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(via)));
    }
    if let Some(oif) = oif {
        msg.attributes.push(RouteAttribute::Oif(oif));
    }
    if let Some(metric) = route.metric {
        msg.attributes.push(RouteAttribute::Priority(metric));
    }
    msg
}

/// `ip route add ...` (`oif` = the index of `route.dev`, when it names one).
pub fn add(route: &RouteSpec, oif: Option<u32>) -> RouteNetlinkMessage {
    RouteNetlinkMessage::NewRoute(message(route, oif))
}

/// `ip route replace ... proto PROTOCOL` (with `NLM_F_CREATE | NLM_F_REPLACE`): the
/// route of this destination and metric, in place, with another protocol, which is how
/// `vnet apply --adopt` marks a route (and the inverse unmarks it).
pub fn replace(route: &RouteSpec, oif: Option<u32>, protocol: u8) -> RouteNetlinkMessage {
    let mut msg = message(route, oif);
    msg.header.protocol = RouteProtocol::from(protocol);
    RouteNetlinkMessage::NewRoute(msg)
}

/// `RTPROT_KERNEL`: the routes the kernel adds itself for its links' subnets.
pub const KERNEL_PROTOCOL: u8 = 2;

/// `ip route del ...`: matches only a route with vnet's protocol.
pub fn delete(route: &RouteSpec, oif: Option<u32>) -> RouteNetlinkMessage {
    let mut msg = message(route, oif);
    // The kernel matches the scope only when it is below "nowhere"; leave it open so a
    // route added with another scope by hand is still found.
    msg.header.scope = RouteScope::NoWhere;
    RouteNetlinkMessage::DelRoute(msg)
}

/// `ip route show table all`: every route of both families.
pub fn dump() -> RouteNetlinkMessage {
    RouteNetlinkMessage::GetRoute(RouteMessage::default())
}

/// One dumped route as vnet would have written it, or `None` when it is not vnet's
/// (another protocol or table, or not unicast). `oif` comes back as an index; the
/// caller names it.
pub fn parse(msg: &RouteMessage) -> Option<(RouteSpec, Option<u32>)> {
    parse_any(msg)
        .filter(|(_, _, protocol)| *protocol == ROUTE_PROTOCOL)
        .map(|(route, oif, _)| (route, oif))
}

/// One dumped unicast route of the main table, whoever installed it, with its protocol.
pub fn parse_any(msg: &RouteMessage) -> Option<(RouteSpec, Option<u32>, u8)> {
    let table = msg
        .attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(msg.header.table));
    if table != MAIN_TABLE || msg.header.kind != RouteType::Unicast {
        return None;
    }
    let v6 = msg.header.address_family == AddressFamily::Inet6;
    let mut dst_ip: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    let mut via = None;
    let mut oif = None;
    let mut metric = None;
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(a) => dst_ip = to_ip(a)?,
            RouteAttribute::Gateway(a) => via = to_ip(a),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = Some(*p),
            _ => {}
        }
    }
    let default_metric = if v6 { IPV6_DEFAULT_METRIC } else { 0 };
    let metric = metric.filter(|m| *m != default_metric);
    let dst = IpNetwork::new(dst_ip, msg.header.destination_prefix_length).ok()?;
    Some((
        RouteSpec {
            dst,
            via,
            dev: None,
            metric,
        },
        oif,
        u8::from(msg.header.protocol),
    ))
}

fn to_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnet_routes_parse_back_and_foreign_ones_do_not() {
        let spec = RouteSpec {
            dst: "198.18.0.0/16".parse().unwrap(),
            via: Some("198.18.1.1".parse().unwrap()),
            dev: None,
            metric: None,
        };
        let RouteNetlinkMessage::NewRoute(msg) = add(&spec, Some(4)) else {
            panic!("not newroute");
        };
        assert_eq!(parse(&msg), Some((spec.clone(), Some(4))));
        let mut foreign = msg.clone();
        foreign.header.protocol = RouteProtocol::Static;
        assert_eq!(parse(&foreign), None);
    }
}
