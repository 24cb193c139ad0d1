//! The machine's neighbour (ARP/NDP) table through rtnetlink, for pacing and tidying
//! probes: its machine-wide size, read from any namespace, and the deletion of entries.
//!
//! `RTM_GETNEIGHTBL` (`ip ntable show`) answers in every network namespace with the
//! table's global configuration, including the number of entries of all namespaces
//! together and `gc_thresh3`: unlike `/proc/net/stat/arp_cache`, which exists only in
//! the initial namespace, it lets a vnet that runs in a private namespace see the
//! table it shares with the whole machine.

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::neighbour_table::{NeighbourTableAttribute, NeighbourTableMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

use crate::error::Result;
use crate::netlink::{Request, RtSocket};

/// The size and hard limit of one family's neighbour table, machine-wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// Entries of every namespace together.
    pub entries: usize,
    /// `gc_thresh3`: past it, new entries fail (sends get ENOBUFS).
    pub thresh3: usize,
    /// How often, ever, a new entry was refused because the table was full
    /// (`table_fulls`): an ARP request then goes unanswered, whoever filled the table.
    pub overflows: u64,
}

/// Reads the ARP (or, with `v6`, NDP) table's size: `ip ntable show name arp_cache`.
/// `None` when the kernel's answer carries no such table (IPv6 compiled out).
pub fn table(sock: &mut RtSocket, v6: bool) -> Result<Option<Table>> {
    let mut msg = NeighbourTableMessage::default();
    msg.header.family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let tables = sock.dump_map(
        RouteNetlinkMessage::GetNeighbourTable(msg),
        "read the neighbour table's size",
        |m| match m {
            RouteNetlinkMessage::NewNeighbourTable(t) => parse_table(&t.attributes),
            _ => None,
        },
    )?;
    Ok(tables.into_iter().next())
}

/// The table's own message (not a device's parameters): the one with a configuration.
fn parse_table(attributes: &[NeighbourTableAttribute]) -> Option<Table> {
    let mut entries = None;
    let mut thresh3 = None;
    let mut overflows = 0;
    for a in attributes {
        match a {
            NeighbourTableAttribute::Config(c) => entries = Some(c.entries as usize),
            NeighbourTableAttribute::Threshold3(t) => thresh3 = Some(*t as usize),
            NeighbourTableAttribute::Stats(s) => overflows = s.table_fulls,
            _ => {}
        }
    }
    Some(Table {
        entries: entries?,
        thresh3: thresh3?,
        overflows,
    })
}

/// Deletes from the namespace of `sock` every neighbour entry whose destination `pick`
/// selects, except those an administrator set (permanent, no-ARP) and those still being
/// resolved (incomplete: deleting one would drop the packets queued on it). Returns how
/// many were deleted. `ip neigh flush to ADDR`, for a set of addresses.
pub fn delete(sock: &mut RtSocket, pick: impl Fn(IpAddr) -> bool) -> Result<usize> {
    let found = sock.dump_map(
        RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()),
        "list neighbour entries",
        |m| match m {
            RouteNetlinkMessage::NewNeighbour(n) => removable(n, &pick),
            _ => None,
        },
    )?;
    let n = found.len();
    let requests = found
        .into_iter()
        .map(|n| {
            Request::new(
                RouteNetlinkMessage::DelNeighbour(n),
                0,
                "delete a neighbour",
            )
        })
        .collect();
    // An entry the kernel reclaimed meanwhile (ENOENT) is as good as deleted.
    sock.execute(requests).into_iter().for_each(drop);
    Ok(n)
}

/// The delete request for entry `n` when it is one to delete.
fn removable(n: NeighbourMessage, pick: &impl Fn(IpAddr) -> bool) -> Option<NeighbourMessage> {
    if matches!(
        n.header.state,
        NeighbourState::Permanent | NeighbourState::Noarp | NeighbourState::Incomplete
    ) {
        return None;
    }
    let dst = n.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => Some(IpAddr::V4(*a)),
        NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
        _ => None,
    })?;
    if !pick(dst) {
        return None;
    }
    let mut del = NeighbourMessage::default();
    del.header = n.header;
    del.attributes
        .push(NeighbourAttribute::Destination(match dst {
            IpAddr::V4(a) => NeighbourAddress::Inet(a),
            IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    Some(del)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_devices_parameters_are_not_the_table() {
        let device = [
            NeighbourTableAttribute::Name("arp_cache".into()),
            NeighbourTableAttribute::Threshold3(1024),
        ];
        assert_eq!(parse_table(&device), None);
    }

    #[test]
    fn only_resolved_entries_of_picked_addresses_are_deleted() {
        let entry = |state, dst: &str| {
            let mut n = NeighbourMessage::default();
            n.header.state = state;
            n.header.ifindex = 7;
            n.attributes.push(NeighbourAttribute::Destination(
                match dst.parse().unwrap() {
                    IpAddr::V4(a) => NeighbourAddress::Inet(a),
                    IpAddr::V6(a) => NeighbourAddress::Inet6(a),
                },
            ));
            n
        };
        let pick = |a: IpAddr| a != "198.18.0.9".parse::<IpAddr>().unwrap();
        let del = removable(entry(NeighbourState::Stale, "198.18.0.2"), &pick).unwrap();
        assert_eq!(del.header.ifindex, 7);
        assert!(removable(entry(NeighbourState::Reachable, "fd00::2"), &pick).is_some());
        for state in [
            NeighbourState::Permanent,
            NeighbourState::Noarp,
            NeighbourState::Incomplete,
        ] {
            assert!(removable(entry(state, "198.18.0.2"), &pick).is_none());
        }
        assert!(removable(entry(NeighbourState::Stale, "198.18.0.9"), &pick).is_none());
    }
}
