//! Subnets and addresses: each subnet on exactly one segment (`subnet-segment`), no two
//! subnets overlapping (`subnet-overlap`), every address declared once (`addr-duplicate`),
//! inside a subnet of its element's segment with that subnet's prefix length
//! (`addr-outside-subnet`), not a network or broadcast address (`addr-reserved`), and
//! gateways that are addresses of containers on the subnet's segment (`gateway-invalid`).
//!
//! Everything is a map lookup: a subnet is found by (segment, network, prefix length),
//! overlaps by one sweep over the sorted subnets, so the cost is O(n log n).

use foldhash::{HashMap, HashMapExt};
use ipnetwork::IpNetwork;
use std::net::IpAddr;

use super::site::{ct_ifaces, ifaces, segment_of, IfKind, Segment, Site};
use super::{Ctx, Findings};
use crate::rules::Rule;

/// Who holds an address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner<'a> {
    /// The element (its `addresses[k]` field holds the address).
    pub site: Site,
    /// The index in the element's `addresses`.
    pub k: usize,
    /// The container, when the element is a container's interface or venet.
    pub ct: Option<usize>,
    /// The segment of the element, when it has one.
    pub seg: Option<Segment<'a>>,
    /// The address with its prefix length.
    pub net: IpNetwork,
}

/// Every address of the topology, first holder wins. Only looked up (here and by the
/// route rules), never walked, so a hash map.
pub(crate) type Owners<'a> = HashMap<IpAddr, Owner<'a>>;

/// The path of an address, `ct[mail].veth[eth0].addresses[0]`.
fn addr_path(t: &crate::model::Topology, site: Site, k: usize) -> crate::path::ElementPath {
    site.path(t).field("addresses").index(k)
}

/// The segment of each subnet with a valid segment, keyed for lookup by address.
type SubnetIndex<'a> = HashMap<(Segment<'a>, IpAddr, u8), usize>;

/// Checks subnets and addresses; returns who holds each address, for the route rules.
pub(super) fn check<'a>(ctx: &Ctx<'a>, f: &mut Findings) -> Owners<'a> {
    let t = ctx.t;
    let subnets = subnet_segments(ctx, f);
    overlaps(ctx, f);
    let mut owners: Owners<'a> = HashMap::with_capacity(ctx.t.ct.len());
    let mut add = |owner: Owner<'a>, exempt: bool, f: &mut Findings| {
        address(ctx, &subnets, &mut owners, owner, exempt, f);
    };
    for (i, lan) in t.lan.iter().enumerate() {
        for (j, h) in lan.host.iter().enumerate() {
            let seg = Some(Segment::Lan(&lan.name, h.vlan));
            for (k, net) in h.addresses.iter().enumerate() {
                let site = Site::Host(i, j);
                add(
                    Owner {
                        site,
                        k,
                        ct: None,
                        seg,
                        net: *net,
                    },
                    false,
                    f,
                );
            }
        }
    }
    for (i, b) in t.bridge.iter().enumerate() {
        let seg = Some(Segment::Bridge(&b.name));
        for (k, net) in b.addresses.iter().enumerate() {
            let site = Site::Bridge(i);
            add(
                Owner {
                    site,
                    k,
                    ct: None,
                    seg,
                    net: *net,
                },
                false,
                f,
            );
        }
    }
    for (i, ct) in t.ct.iter().enumerate() {
        let ifs = ifaces(ct);
        let mut iface = |kind: IfKind, site: Site, nets: &[IpNetwork], f: &mut Findings| {
            let seg = segment_of(ct, &ifs, kind);
            for (k, net) in nets.iter().enumerate() {
                add(
                    Owner {
                        site,
                        k,
                        ct: Some(i),
                        seg,
                        net: *net,
                    },
                    false,
                    f,
                );
            }
        };
        for x in ct_ifaces(i, ct) {
            iface(x.kind, x.site, x.addresses, f);
        }
        if let Some(v) = &ct.venet {
            // venet is point-to-point through the node: no segment, but still unique.
            for (k, net) in v.addresses.iter().enumerate() {
                let site = Site::Venet(i);
                add(
                    Owner {
                        site,
                        k,
                        ct: Some(i),
                        seg: None,
                        net: *net,
                    },
                    true,
                    f,
                );
            }
        }
    }
    gateways(ctx, &owners, f);
    owners
}

/// `subnet-segment`, and the index of the subnets whose segment is valid.
fn subnet_segments<'a>(ctx: &Ctx<'a>, f: &mut Findings) -> SubnetIndex<'a> {
    let mut index = HashMap::with_capacity(ctx.t.subnet.len());
    for (i, s) in ctx.t.subnet.iter().enumerate() {
        let seg = match (&s.bridge, &s.lan) {
            (Some(_), Some(_)) => Err("sets both `bridge` and `lan`"),
            (None, None) => Err("sets neither `bridge` nor `lan`"),
            (Some(_), None) if s.vlan.is_some() => {
                Err("sets `vlan` with `bridge`; VLAN subnets live on a LAN")
            }
            (Some(b), None) => Ok(Segment::Bridge(b)),
            (None, Some(l)) => Ok(Segment::Lan(l, s.vlan)),
        };
        match seg {
            Ok(seg) => {
                index
                    .entry((seg, s.cidr.network(), s.cidr.prefix()))
                    .or_insert(i);
            }
            Err(why) => f.push(
                Rule::SubnetSegment,
                &Site::Subnet(i).path(ctx.t),
                format!("subnet {} {why}", s.cidr),
            ),
        }
    }
    index
}

/// The first and last address of a prefix as integers, IPv4 and IPv6 apart.
fn range(n: &IpNetwork) -> (bool, u128, u128) {
    match n {
        IpNetwork::V4(v) => {
            let start = u32::from(v.network());
            let end = u32::from(v.broadcast());
            (false, u128::from(start), u128::from(end))
        }
        IpNetwork::V6(v) => {
            let start = u128::from(v.network());
            // A /128 has no host bits; `>>` by 128 would overflow.
            let host = u128::MAX.checked_shr(u32::from(v.prefix())).unwrap_or(0);
            (true, start, start | host)
        }
    }
}

/// `subnet-overlap`: prefixes nest or are disjoint, so after sorting by start a subnet
/// overlaps an earlier one exactly when it starts before the furthest end seen so far.
fn overlaps(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    let mut sorted: Vec<(bool, u128, u128, usize)> = t
        .subnet
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (v6, start, end) = range(&s.cidr);
            (v6, start, end, i)
        })
        .collect();
    // Wider first at equal starts, then document order.
    sorted.sort_by(|a, b| (a.0, a.1, b.2, a.3).cmp(&(b.0, b.1, a.2, b.3)));
    let mut widest: Option<(bool, u128, usize)> = None;
    for (v6, start, end, i) in sorted {
        match widest {
            Some((fam, max_end, j)) if fam == v6 && start <= max_end => {
                let (first, later) = if j < i { (j, i) } else { (i, j) };
                f.push(
                    Rule::SubnetOverlap,
                    &Site::Subnet(later).path(t).field("cidr"),
                    format!(
                        "subnet {} overlaps subnet {} ({})",
                        t.subnet[later].cidr,
                        t.subnet[first].cidr,
                        Site::Subnet(first).path(t).human()
                    ),
                );
                if end > max_end {
                    widest = Some((v6, end, i));
                }
            }
            _ => widest = Some((v6, end, i)),
        }
    }
}

/// One address: unique, not reserved, inside a subnet of its segment.
fn address<'a>(
    ctx: &Ctx<'a>,
    subnets: &SubnetIndex<'a>,
    owners: &mut Owners<'a>,
    o: Owner<'a>,
    exempt: bool,
    f: &mut Findings,
) {
    let t = ctx.t;
    let ip = o.net.ip();
    let path = || addr_path(t, o.site, o.k);
    if let Some(first) = owners.get(&ip) {
        f.push(
            Rule::AddrDuplicate,
            &path(),
            format!(
                "address {ip} is already declared at {}",
                addr_path(t, first.site, first.k).human()
            ),
        );
    } else {
        owners.insert(ip, o);
    }
    if let IpNetwork::V4(v) = o.net {
        if v.prefix() < 31 && (v.ip() == v.network() || v.ip() == v.broadcast()) {
            let which = if v.ip() == v.network() {
                "network"
            } else {
                "broadcast"
            };
            f.push(
                Rule::AddrReserved,
                &path(),
                format!(
                    "{ip} is the {which} address of {}/{}",
                    v.network(),
                    v.prefix()
                ),
            );
        }
    }
    if exempt {
        return;
    }
    let prefix = o.net.prefix();
    match o.seg {
        None => f.push(
            Rule::AddrOutsideSubnet,
            &path(),
            format!(
                "address {} is on an interface with no segment that carries subnets (an unbridged veth, or a VLAN on a veth)",
                o.net
            ),
        ),
        Some(seg) => {
            if !subnets.contains_key(&(seg, o.net.network(), prefix)) {
                f.push(
                    Rule::AddrOutsideSubnet,
                    &path(),
                    format!(
                        "no subnet {}/{prefix} is declared on {seg}",
                        o.net.network()
                    ),
                );
            }
        }
    }
}

/// `gateway-invalid`: a subnet's gateway is an address of a container interface on the
/// subnet's own segment.
fn gateways(ctx: &Ctx<'_>, owners: &Owners<'_>, f: &mut Findings) {
    let t = ctx.t;
    for (i, s) in t.subnet.iter().enumerate() {
        let Some(g) = s.gateway else { continue };
        let seg = match (&s.bridge, &s.lan) {
            (Some(b), None) => Segment::Bridge(b),
            (None, Some(l)) => Segment::Lan(l, s.vlan),
            _ => continue, // subnet-segment already fired
        };
        let ok = s.cidr.contains(g)
            && owners
                .get(&g)
                .is_some_and(|o| o.ct.is_some() && o.seg == Some(seg));
        if !ok {
            f.push(
                Rule::GatewayInvalid,
                &Site::Subnet(i).path(t).field("gateway"),
                format!(
                    "gateway {g} is not an address of a container interface on {seg} in {}",
                    s.cidr
                ),
            );
        }
    }
}
