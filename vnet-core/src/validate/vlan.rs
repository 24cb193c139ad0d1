//! `vlan-invalid`: 802.1Q ids are 1..=4094 (0 means "no VLAN" and 4095 is reserved), and
//! a parent interface carries each id once.

use std::collections::BTreeMap;

use super::site::Site;
use super::{Ctx, Findings};
use crate::path::ElementPath;
use crate::rules::Rule;

/// Whether `id` is a usable 802.1Q VLAN id.
pub(crate) fn vlan_id_ok(id: u16) -> bool {
    (1..=4094).contains(&id)
}

fn check_id(id: u16, path: &ElementPath, f: &mut Findings) {
    if !vlan_id_ok(id) {
        f.push(
            Rule::VlanInvalid,
            path,
            format!("VLAN id {id} is outside 1..=4094"),
        );
    }
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    for (i, s) in t.subnet.iter().enumerate() {
        if let Some(v) = s.vlan {
            check_id(v, &Site::Subnet(i).path(t).field("vlan"), f);
        }
    }
    for (i, lan) in t.lan.iter().enumerate() {
        for (j, h) in lan.host.iter().enumerate() {
            if let Some(v) = h.vlan {
                check_id(v, &Site::Host(i, j).path(t).field("vlan"), f);
            }
        }
    }
    for (i, ct) in t.ct.iter().enumerate() {
        let mut seen: BTreeMap<(&str, u16), usize> = BTreeMap::new();
        for (j, v) in ct.vlan.iter().enumerate() {
            let path = Site::Vlan(i, j).path(t).field("id");
            check_id(v.id, &path, f);
            if let Some(first) = seen.get(&(v.parent.as_str(), v.id)) {
                f.push(
                    Rule::VlanInvalid,
                    &path,
                    format!(
                        "VLAN {} on {} is already {}",
                        v.id,
                        v.parent,
                        Site::Vlan(i, *first).path(t).human()
                    ),
                );
            } else {
                seen.insert((v.parent.as_str(), v.id), j);
            }
        }
    }
}
