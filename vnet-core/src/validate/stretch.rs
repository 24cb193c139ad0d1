//! Rules of bridges stretched across nodes with VXLAN, and of the nodes' underlays:
//!
//! - `stretch-underlay`: every node a stretched bridge exists on has an underlay; the
//!   underlays of a bridge are of one address family (a VXLAN device's local and remote
//!   ends are); no two nodes share an underlay address; an underlay's `lan` is declared.
//! - `stretch-mtu`: the bridge's and its veths' MTUs fit in the smallest underlay MTU
//!   of its nodes minus the VXLAN overhead (the kernel refuses a VXLAN MTU above it, and
//!   bigger frames would be dropped on the way).
//! - `stretch-vni`: the VNI fits in 24 bits and is not 0, the port is not 0, and each
//!   stretched bridge has its own VNI.
//!
//! Also the names the stretch adds on the nodes: the underlay's `dev` follows the name
//! rules, and the derived VXLAN device name (`vx-<bridge>`) and the underlay device
//! must not collide with another name on the nodes (`name-duplicate`); in the sandbox a
//! node's cable on the LAN switch is named after the node, which must not be `switch`.
//! The underlay MTU lies in 68..=65535 (`mtu-invalid`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::names::check_name;
use super::refs::Declared;
use super::site::Site;
use super::{Ctx, Findings};
use crate::model::{Bridge, Stretch, Underlay};
use crate::plan::LAN_SWITCH;
use crate::rules::Rule;

/// The MTU a port gets when the topology gives none.
const DEFAULT_MTU: u32 = 1500;

pub(super) fn check(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    underlays(ctx, d, f);
    let t = ctx.t;
    let mut vnis: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, b) in t.bridge.iter().enumerate() {
        let Some(s) = &b.stretch else { continue };
        let at = Site::Bridge(i).path(t).field("stretch");
        if s.vni == 0 || s.vni > Stretch::MAX_VNI {
            f.push(
                Rule::StretchVni,
                &at.field("vni"),
                format!("VNI {} is outside 1..={}", s.vni, Stretch::MAX_VNI),
            );
        } else if let Some(k) = vnis.insert(s.vni, i) {
            f.push(
                Rule::StretchVni,
                &at.field("vni"),
                format!(
                    "VNI {} is bridge {}'s already; each stretched bridge needs its own",
                    s.vni, t.bridge[k].name
                ),
            );
        }
        if s.port == Some(0) {
            f.push(
                Rule::StretchVni,
                &at.field("port"),
                "UDP port 0 cannot carry VXLAN",
            );
        }
        bridge(ctx, d, i, b, f);
    }
    names(ctx, f);
}

/// One stretched bridge: an underlay on each of its nodes, one family, MTU room.
fn bridge(ctx: &Ctx<'_>, d: &Declared<'_>, i: usize, b: &Bridge, f: &mut Findings) {
    let t = ctx.t;
    let Some(on) = d.bridges.get(b.name.as_str()) else {
        return;
    };
    let mut limit: Option<(u32, &str)> = None;
    let mut family: Option<(bool, &str)> = None;
    for (k, n) in t.node.iter().enumerate() {
        if !on.contains(n.name.as_str()) {
            continue;
        }
        let Some(u) = &n.underlay else {
            f.push(
                Rule::StretchUnderlay,
                &Site::Node(k).path(t),
                format!(
                    "bridge {} is stretched over node {}, which has no underlay address for \
                     its VXLAN tunnels",
                    b.name, n.name
                ),
            );
            continue;
        };
        let v6 = u.address.is_ipv6();
        match family {
            Some((fam, other)) if fam != v6 => f.push(
                Rule::StretchUnderlay,
                &Site::Node(k).path(t).field("underlay").field("address"),
                format!(
                    "bridge {} is stretched over node {other} and node {} with underlays of \
                     different address families; a VXLAN tunnel has one",
                    b.name, n.name
                ),
            ),
            Some(_) => {}
            None => family = Some((v6, &n.name)),
        }
        // An MTU out of range is `mtu-invalid`'s; it sets no limit here.
        let room = u.mtu().saturating_sub(u.vxlan_overhead());
        if mtu_valid(u) && limit.is_none_or(|(l, _)| room < l) {
            limit = Some((room, &n.name));
        }
    }
    let Some((limit, node)) = limit else { return };
    let mut too_big = |mtu: Option<u32>, path: crate::path::ElementPath, what: String| {
        let mtu = mtu.unwrap_or(DEFAULT_MTU);
        if mtu > limit {
            f.push(
                Rule::StretchMtu,
                &path,
                format!(
                    "{what} has MTU {mtu}, but bridge {} is stretched over node {node}'s \
                     underlay, which leaves room for {limit}",
                    b.name
                ),
            );
        }
    };
    too_big(
        b.mtu,
        Site::Bridge(i).path(t).field("mtu"),
        format!("bridge {}", b.name),
    );
    for (ci, ct) in t.ct.iter().enumerate() {
        for (j, v) in ct.veth.iter().enumerate() {
            if v.bridge.as_deref() == Some(b.name.as_str()) {
                too_big(
                    v.mtu,
                    Site::Veth(ci, j).path(t).field("mtu"),
                    format!("veth {} of container {}", v.name, ct.name),
                );
            }
        }
    }
}

/// Each node's underlay on its own: its device name, LAN, MTU and a unique address.
fn underlays(ctx: &Ctx<'_>, d: &Declared<'_>, f: &mut Findings) {
    let t = ctx.t;
    let mut addrs: BTreeMap<IpAddr, &str> = BTreeMap::new();
    for (k, n) in t.node.iter().enumerate() {
        let Some(u) = &n.underlay else { continue };
        let at = Site::Node(k).path(t).field("underlay");
        check_name(&u.dev, || at.field("dev"), f);
        if let Some(lan) = &u.lan {
            if !d.lans.contains(lan.as_str()) {
                f.push(
                    Rule::RefMissing,
                    &at.field("lan"),
                    format!("LAN {lan:?} is not declared"),
                );
            }
            if n.name == LAN_SWITCH {
                f.push(
                    Rule::NameDuplicate,
                    &Site::Node(k).path(t).field("name"),
                    format!(
                        "in the sandbox node {}'s cable on LAN {lan} is named after the node, \
                         and {LAN_SWITCH:?} is the LAN switch's name",
                        n.name
                    ),
                );
            }
        }
        mtu(u, &at, f);
        if let Some(other) = addrs.insert(u.address.ip(), &n.name) {
            f.push(
                Rule::StretchUnderlay,
                &at.field("address"),
                format!(
                    "underlay address {} is node {other}'s already",
                    u.address.ip()
                ),
            );
        }
    }
}

/// Whether the underlay's MTU is one its address family allows.
fn mtu_valid(u: &Underlay) -> bool {
    let min = if u.address.is_ipv6() { 1280 } else { 68 };
    (min..=65_535).contains(&u.mtu())
}

fn mtu(u: &Underlay, at: &crate::path::ElementPath, f: &mut Findings) {
    let Some(m) = u.mtu else { return };
    let min = if u.address.is_ipv6() { 1280 } else { 68 };
    if !mtu_valid(u) {
        f.push(
            Rule::MtuInvalid,
            &at.field("mtu"),
            format!("underlay MTU {m} is outside {min}..=65535"),
        );
    }
}

/// The VXLAN devices' and underlay devices' names against every other name on the nodes.
fn names(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    // Name -> where it was declared. Only the stretch's names are checked; the rest of
    // the node's names are the names rule's.
    let mut ours: BTreeMap<String, crate::path::ElementPath> = BTreeMap::new();
    for (i, b) in t.bridge.iter().enumerate() {
        if let Some(name) = b.vxlan_name() {
            let at = Site::Bridge(i).path(t).field("stretch");
            if let Some(first) = ours.insert(name.clone(), at.clone()) {
                f.push(
                    Rule::NameDuplicate,
                    &at,
                    format!("VXLAN device name {name:?} is also {first}'s"),
                );
            }
        }
    }
    if ours.is_empty() {
        return;
    }
    let mut devs: BTreeSet<&str> = BTreeSet::new();
    for (k, n) in t.node.iter().enumerate() {
        if let Some(u) = &n.underlay {
            if devs.insert(&u.dev) {
                clash(
                    &ours,
                    &u.dev,
                    || Site::Node(k).path(t).field("underlay").field("dev"),
                    f,
                );
            }
        }
    }
    for (i, b) in t.bridge.iter().enumerate() {
        clash(&ours, &b.name, || Site::Bridge(i).path(t).field("name"), f);
        for (j, p) in b.ports.iter().enumerate() {
            clash(&ours, p, || Site::BridgePort(i, j).path(t), f);
        }
    }
    for (i, p) in t.patch.iter().enumerate() {
        clash(
            &ours,
            &p.a.name,
            || Site::PatchEnd(i, false).path(t).field("name"),
            f,
        );
        clash(
            &ours,
            &p.b.name,
            || Site::PatchEnd(i, true).path(t).field("name"),
            f,
        );
    }
    for (i, ct) in t.ct.iter().enumerate() {
        for (j, v) in ct.veth.iter().enumerate() {
            if let Some(h) = ctx.r.host_names.get(&(ct.id, v.name.clone())) {
                clash(&ours, h, || Site::Veth(i, j).path(t).field("host_name"), f);
            }
        }
        for (j, n) in ct.nic.iter().enumerate() {
            let device = n.device.as_deref().unwrap_or(&n.name);
            clash(&ours, device, || Site::Nic(i, j).path(t).field("device"), f);
        }
    }
}

fn clash(
    ours: &BTreeMap<String, crate::path::ElementPath>,
    name: &str,
    at: impl Fn() -> crate::path::ElementPath,
    f: &mut Findings,
) {
    if let Some(vx) = ours.get(name) {
        f.push(
            Rule::NameDuplicate,
            &at(),
            format!("{name:?} is the name of the VXLAN device of {vx} on the nodes"),
        );
    }
}
