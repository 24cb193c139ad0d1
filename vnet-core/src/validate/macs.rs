//! MACs, given and derived: unicast and non-zero (`mac-invalid`), and unique across the
//! topology (`mac-duplicate`, reported on the later element, naming both). Derived MACs
//! avoid every given one, so in practice only given MACs collide.

use std::collections::BTreeMap;

use super::site::Site;
use super::{Ctx, Findings};
use crate::model::Mac;
use crate::path::ElementPath;
use crate::resolve::MacKey;
use crate::rules::Rule;

/// Where a MAC was seen: the element and the field that gives it (`None`: derived).
type Seen = (Site, Option<&'static str>);

fn at(ctx: &Ctx<'_>, s: Seen) -> ElementPath {
    let p = s.0.path(ctx.t);
    match s.1 {
        Some(field) => p.field(field),
        None => p,
    }
}

struct Walk<'c, 'a> {
    ctx: &'c Ctx<'a>,
    seen: BTreeMap<Mac, Seen>,
}

impl Walk<'_, '_> {
    /// One interface: its given MAC (checked as written) or its derived one.
    fn one(
        &mut self,
        key: impl FnOnce() -> MacKey,
        given: Option<Mac>,
        site: Site,
        field: &'static str,
        f: &mut Findings,
    ) {
        let (mac, s) = match given {
            Some(m) => (m, (site, Some(field))),
            None => {
                let key = key();
                let Some(m) = self.ctx.r.macs.get(&key).copied() else {
                    return;
                };
                // The same element twice (or a repeated container id) shares one key:
                // the name and id rules report it, not this one.
                if self.ctx.r.given_macs.contains(&key) {
                    return;
                }
                (m, (site, None))
            }
        };
        let what = if given.is_some() {
            "MAC"
        } else {
            "derived MAC"
        };
        if mac.is_multicast() || mac.is_zero() {
            let kind = if mac.octets() == [0xff; 6] {
                "the broadcast address"
            } else if mac.is_zero() {
                "all zero"
            } else {
                "a multicast (group) address"
            };
            f.push(
                Rule::MacInvalid,
                &at(self.ctx, s),
                format!("{what} {mac} is {kind}"),
            );
            return;
        }
        if let Some(first) = self.seen.get(&mac) {
            if given.is_none() && first.1.is_none() {
                // Derived MACs differ per key, so two equal ones are one key walked twice.
                return;
            }
            f.push(
                Rule::MacDuplicate,
                &at(self.ctx, s),
                format!(
                    "{what} {mac} of {} is already the MAC of {}",
                    at(self.ctx, s).human(),
                    at(self.ctx, *first).human()
                ),
            );
        } else {
            self.seen.insert(mac, s);
        }
    }
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    let mut w = Walk {
        ctx,
        seen: BTreeMap::new(),
    };
    for (i, lan) in t.lan.iter().enumerate() {
        let key = || MacKey::LanSwitch {
            lan: lan.name.clone(),
        };
        w.one(key, None, Site::Lan(i), "mac", f);
        for (j, h) in lan.host.iter().enumerate() {
            let key = || MacKey::LanHost {
                lan: lan.name.clone(),
                host: h.name.clone(),
            };
            w.one(key, h.mac, Site::Host(i, j), "mac", f);
        }
    }
    for (i, b) in t.bridge.iter().enumerate() {
        let key = || MacKey::Bridge {
            name: b.name.clone(),
        };
        w.one(key, b.mac, Site::Bridge(i), "mac", f);
    }
    for (i, p) in t.patch.iter().enumerate() {
        for (end, e) in [(false, &p.a), (true, &p.b)] {
            let key = || MacKey::Patch {
                name: e.name.clone(),
            };
            w.one(key, e.mac, Site::PatchEnd(i, end), "mac", f);
        }
    }
    for (i, ct) in t.ct.iter().enumerate() {
        for (j, v) in ct.veth.iter().enumerate() {
            let key = || MacKey::CtVeth {
                ct: ct.id,
                name: v.name.clone(),
            };
            w.one(key, v.mac, Site::Veth(i, j), "mac", f);
            let key = || MacKey::HostVeth {
                ct: ct.id,
                name: v.name.clone(),
            };
            w.one(key, v.host_mac, Site::Veth(i, j), "host_mac", f);
        }
        for (j, n) in ct.nic.iter().enumerate() {
            let key = || MacKey::Nic {
                ct: ct.id,
                name: n.name.clone(),
            };
            w.one(key, n.mac, Site::Nic(i, j), "mac", f);
        }
    }
}
