//! MACs, given and derived: unicast and non-zero (`mac-invalid`), and unique across the
//! topology (`mac-duplicate`, reported on the later element, naming both).
//!
//! Given MACs are checked in document order as written. Derived MACs avoid every given
//! one and each other by construction; they are checked anyway, in one pass over the
//! resolved map, and only a (never expected) finding pays for finding its element.

use foldhash::{HashMap, HashMapExt};

use super::site::Site;
use super::{Ctx, Findings};
use crate::model::{Mac, Topology};
use crate::path::ElementPath;
use crate::resolve::MacKey;
use crate::rules::Rule;

/// Where a given MAC was seen: the element and the field that gives it.
type Seen = (Site, &'static str);

fn at(t: &Topology, s: Seen) -> ElementPath {
    s.0.path(t).field(s.1)
}

/// Why a MAC cannot be an interface's, if it cannot.
fn invalid(mac: Mac) -> Option<&'static str> {
    if mac.octets() == [0xff; 6] {
        Some("the broadcast address")
    } else if mac.is_zero() {
        Some("all zero")
    } else if mac.is_multicast() {
        Some("a multicast (group) address")
    } else {
        None
    }
}

/// One given MAC, in document order.
fn given(t: &Topology, seen: &mut HashMap<Mac, Seen>, mac: Option<Mac>, s: Seen, f: &mut Findings) {
    let Some(mac) = mac else { return };
    if let Some(kind) = invalid(mac) {
        f.push(Rule::MacInvalid, &at(t, s), format!("MAC {mac} is {kind}"));
        return;
    }
    if let Some(first) = seen.get(&mac) {
        let first = at(t, *first);
        f.push_clash(
            Rule::MacDuplicate,
            &at(t, s),
            &first,
            format!(
                "MAC {mac} of {} is already the MAC of {}",
                at(t, s).human(),
                first.human()
            ),
        );
    } else {
        seen.insert(mac, s);
    }
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    // Looked up only, never walked: hash maps here and in `derived`.
    let mut seen: HashMap<Mac, Seen> = HashMap::new();
    let mut ports_taken = std::collections::BTreeSet::new();
    for (i, lan) in t.lan.iter().enumerate() {
        for (j, h) in lan.host.iter().enumerate() {
            given(t, &mut seen, h.mac, (Site::Host(i, j), "mac"), f);
        }
    }
    for (i, b) in t.bridge.iter().enumerate() {
        given(t, &mut seen, b.mac, (Site::Bridge(i), "mac"), f);
    }
    for (i, p) in t.patch.iter().enumerate() {
        given(t, &mut seen, p.a.mac, (Site::PatchEnd(i, false), "mac"), f);
        given(t, &mut seen, p.b.mac, (Site::PatchEnd(i, true), "mac"), f);
    }
    for (i, ct) in t.ct.iter().enumerate() {
        for (j, v) in ct.veth.iter().enumerate() {
            given(t, &mut seen, v.mac, (Site::Veth(i, j), "mac"), f);
            if took_port_mac(t, &mut ports_taken, v) {
                continue;
            }
            given(t, &mut seen, v.host_mac, (Site::Veth(i, j), "host_mac"), f);
        }
        for (j, n) in ct.nic.iter().enumerate() {
            given(t, &mut seen, n.mac, (Site::Nic(i, j), "mac"), f);
        }
        for (j, m) in ct.macvlan.iter().enumerate() {
            given(t, &mut seen, m.mac, (Site::Macvlan(i, j), "mac"), f);
        }
    }
    derived(ctx, &seen, f);
}

/// Whether `v`'s host end is the first port of its bridge whose MAC is the bridge's
/// own: what the kernel gives a bridge without an address of its own (its lowest port's
/// MAC), so a network built by hand and imported has it (`vnet import`). It is no clash:
/// the bridge answers for that MAC on the node either way. A second port with it is.
fn took_port_mac(
    t: &Topology,
    taken: &mut std::collections::BTreeSet<usize>,
    v: &crate::model::Veth,
) -> bool {
    let Some(b) = v
        .bridge
        .as_ref()
        .and_then(|b| t.bridge.iter().position(|x| &x.name == b))
    else {
        return false;
    };
    v.host_mac.is_some() && t.bridge[b].mac == v.host_mac && taken.insert(b)
}

/// The derived MACs: the resolved map minus the given keys, walked side by side (both
/// are sorted by key), so no key is looked up.
fn derived(ctx: &Ctx<'_>, given: &HashMap<Mac, Seen>, f: &mut Findings) {
    if derived_all_fine(ctx, given) {
        return;
    }
    let t = ctx.t;
    let mut given_keys = ctx.r.given_macs.iter().peekable();
    let mut first_of: HashMap<Mac, &MacKey> = HashMap::with_capacity(ctx.r.macs.len());
    for (key, mac) in &ctx.r.macs {
        while given_keys.next_if(|g| *g < key).is_some() {}
        if given_keys.peek() == Some(&key) {
            continue;
        }
        let other = if let Some(kind) = invalid(*mac) {
            Err(kind)
        } else if let Some(s) = given.get(mac) {
            Ok(at(t, *s))
        } else if let Some(k) = first_of.get(mac) {
            Ok(path_of(t, k))
        } else {
            first_of.insert(*mac, key);
            continue;
        };
        let path = path_of(t, key);
        match other {
            Err(kind) => f.push(
                Rule::MacInvalid,
                &path,
                format!("derived MAC {mac} of {key} is {kind}"),
            ),
            Ok(other) => f.push_clash(
                Rule::MacDuplicate,
                &path,
                &other,
                format!(
                    "derived MAC {mac} of {} is already the MAC of {}",
                    path.human(),
                    other.human()
                ),
            ),
        }
    }
}

/// The derived MACs (as [`derived`] walks them): whether none is invalid, none is a
/// given MAC and no two are equal, which is what resolution guarantees. One sort of
/// integers checks it; only when it fails does [`derived`] walk them with a map (a map of
/// 200,000 MACs probed at random cost far more once it outgrew the caches).
fn derived_all_fine(ctx: &Ctx<'_>, given: &HashMap<Mac, Seen>) -> bool {
    let mut given_keys = ctx.r.given_macs.iter().peekable();
    let mut macs: Vec<u64> = Vec::with_capacity(ctx.r.macs.len());
    for (key, mac) in &ctx.r.macs {
        while given_keys.next_if(|g| *g < key).is_some() {}
        if given_keys.peek() == Some(&key) {
            continue;
        }
        if invalid(*mac).is_some() || (!given.is_empty() && given.contains_key(mac)) {
            return false;
        }
        let [a, b, c, d, e, g] = mac.octets();
        macs.push(u64::from_be_bytes([0, 0, a, b, c, d, e, g]));
    }
    macs.sort_unstable();
    macs.windows(2).all(|w| w[0] != w[1])
}

/// The element a MAC key belongs to; a linear search, only ever run for a finding.
fn path_of(t: &Topology, key: &MacKey) -> ElementPath {
    let site = match key {
        MacKey::CtVeth { ct, name } | MacKey::HostVeth { ct, name } => {
            t.ct.iter().enumerate().find_map(|(i, c)| {
                let j = c.veth.iter().position(|v| &v.name == name)?;
                (c.id == *ct).then_some(Site::Veth(i, j))
            })
        }
        MacKey::Nic { ct, name } => t.ct.iter().enumerate().find_map(|(i, c)| {
            let j = c.nic.iter().position(|v| &v.name == name)?;
            (c.id == *ct).then_some(Site::Nic(i, j))
        }),
        MacKey::Bridge { name } => t
            .bridge
            .iter()
            .position(|b| &b.name == name)
            .map(Site::Bridge),
        MacKey::Patch { name } => t.patch.iter().enumerate().find_map(|(i, p)| {
            if &p.a.name == name {
                Some(Site::PatchEnd(i, false))
            } else {
                (&p.b.name == name).then_some(Site::PatchEnd(i, true))
            }
        }),
        MacKey::LanHost { lan, host } => t.lan.iter().enumerate().find_map(|(i, l)| {
            let j = l.host.iter().position(|h| &h.name == host)?;
            (&l.name == lan).then_some(Site::Host(i, j))
        }),
        MacKey::LanSwitch { lan } => t.lan.iter().position(|l| &l.name == lan).map(Site::Lan),
        MacKey::Macvlan { ct, name } => t.ct.iter().enumerate().find_map(|(i, c)| {
            let j = c.macvlan.iter().position(|v| &v.name == name)?;
            (c.id == *ct).then_some(Site::Macvlan(i, j))
        }),
    };
    match site {
        Some(s) => s.path(t),
        None => ElementPath::root(),
    }
}
