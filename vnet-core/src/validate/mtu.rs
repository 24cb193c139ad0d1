//! `mtu-invalid`: an MTU lies in 68..=65535 (IPv4's minimum, the kernel's maximum for
//! these links), and an interface with IPv6 addresses needs at least 1280 (RFC 8200).

use ipnetwork::IpNetwork;

use super::site::Site;
use super::{Ctx, Findings};
use crate::rules::Rule;

/// The smallest MTU IPv4 allows.
const MIN_MTU: u32 = 68;
/// The largest MTU of a veth, bridge or VLAN link.
const MAX_MTU: u32 = 65_535;
/// The smallest MTU IPv6 allows.
const MIN_MTU_V6: u32 = 1280;

fn check_one(ctx: &Ctx<'_>, site: Site, mtu: Option<u32>, addrs: &[IpNetwork], f: &mut Findings) {
    let Some(mtu) = mtu else { return };
    let v6 = addrs.iter().any(IpNetwork::is_ipv6);
    let why = if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        format!("MTU {mtu} is outside {MIN_MTU}..={MAX_MTU}")
    } else if v6 && mtu < MIN_MTU_V6 {
        format!("MTU {mtu} is below {MIN_MTU_V6}, the least an interface with IPv6 addresses needs")
    } else {
        return;
    };
    f.push(Rule::MtuInvalid, &site.path(ctx.t).field("mtu"), why);
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    for (i, b) in t.bridge.iter().enumerate() {
        check_one(ctx, Site::Bridge(i), b.mtu, &b.addresses, f);
    }
    for (i, ct) in t.ct.iter().enumerate() {
        for (j, v) in ct.veth.iter().enumerate() {
            check_one(ctx, Site::Veth(i, j), v.mtu, &v.addresses, f);
        }
        for (j, n) in ct.nic.iter().enumerate() {
            check_one(ctx, Site::Nic(i, j), n.mtu, &n.addresses, f);
        }
        for (j, v) in ct.vlan.iter().enumerate() {
            check_one(ctx, Site::Vlan(i, j), v.mtu, &v.addresses, f);
        }
    }
}
