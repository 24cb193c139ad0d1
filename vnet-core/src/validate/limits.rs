//! `limit-exceeded`: caps on the size of the model, so hostile input cannot make the other
//! rules (some of which compare within one container) expensive. When a cap is passed,
//! only these findings are reported and the other rules do not run.

use super::site::ct_ifaces;
use super::{Ctx, Findings};
use crate::path::ElementPath;
use crate::rules::Rule;

/// Most containers in one topology.
pub(crate) const MAX_CTS: usize = 200_000;
/// Most interfaces (veth + NIC + VLAN) of one container.
pub(crate) const MAX_IFACES_PER_CT: usize = 64;
/// Most addresses of one interface (or of venet, or of a LAN host or bridge).
pub(crate) const MAX_ADDRS: usize = 256;
/// Most routes of one container or LAN host.
pub(crate) const MAX_ROUTES: usize = 1024;
/// Most NAT rules of one container.
pub(crate) const MAX_NAT: usize = 256;
/// Most failover nodes of one container.
pub(crate) const MAX_FAILOVER: usize = 64;
/// Most nodes, LANs, bridges, patches, hosts per LAN, ports per bridge.
pub(crate) const MAX_SMALL: usize = 4096;
/// Most subnets.
pub(crate) const MAX_SUBNETS: usize = 200_000;

fn cap(f: &mut Findings, path: &ElementPath, what: &str, n: usize, max: usize) {
    if n > max {
        f.push(
            Rule::LimitExceeded,
            path,
            format!("{n} {what}; vnet accepts at most {max}"),
        );
    }
}

/// Checks every cap; returns whether all held.
pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) -> bool {
    let t = ctx.t;
    let before = f.len();
    let root = ElementPath::root();
    cap(f, &root.field("ct"), "containers", t.ct.len(), MAX_CTS);
    cap(
        f,
        &root.field("subnet"),
        "subnets",
        t.subnet.len(),
        MAX_SUBNETS,
    );
    cap(f, &root.field("node"), "nodes", t.node.len(), MAX_SMALL);
    cap(f, &root.field("lan"), "LANs", t.lan.len(), MAX_SMALL);
    cap(
        f,
        &root.field("bridge"),
        "bridges",
        t.bridge.len(),
        MAX_SMALL,
    );
    cap(f, &root.field("patch"), "patches", t.patch.len(), MAX_SMALL);
    if f.len() > before {
        // Do not walk a million containers just to list more caps.
        return false;
    }
    for (i, lan) in t.lan.iter().enumerate() {
        let p = root.item("lan", i, &lan.name);
        cap(f, &p.field("host"), "hosts", lan.host.len(), MAX_SMALL);
        for (j, h) in lan.host.iter().enumerate() {
            let hp = p.item("host", j, &h.name);
            cap(
                f,
                &hp.field("addresses"),
                "addresses",
                h.addresses.len(),
                MAX_ADDRS,
            );
            cap(f, &hp.field("route"), "routes", h.route.len(), MAX_ROUTES);
        }
    }
    for (i, b) in t.bridge.iter().enumerate() {
        let p = root.item("bridge", i, &b.name);
        cap(f, &p.field("ports"), "ports", b.ports.len(), MAX_SMALL);
        cap(
            f,
            &p.field("addresses"),
            "addresses",
            b.addresses.len(),
            MAX_ADDRS,
        );
        if let Some(ns) = &b.nodes {
            cap(f, &p.field("nodes"), "nodes", ns.len(), MAX_SMALL);
        }
    }
    for (i, ct) in t.ct.iter().enumerate() {
        let n = ct_ifaces(i, ct).count();
        let big = n > MAX_IFACES_PER_CT
            || ct.route.len() > MAX_ROUTES
            || ct.nat.len() > MAX_NAT
            || ct.failover.len() > MAX_FAILOVER
            || ct
                .venet
                .as_ref()
                .is_some_and(|v| v.addresses.len() > MAX_ADDRS)
            || ct_ifaces(i, ct).any(|x| x.addresses.len() > MAX_ADDRS);
        if !big {
            continue; // the common case: no paths built
        }
        let p = root.item("ct", i, &ct.name);
        cap(f, &p, "interfaces", n, MAX_IFACES_PER_CT);
        cap(f, &p.field("route"), "routes", ct.route.len(), MAX_ROUTES);
        cap(f, &p.field("nat"), "NAT rules", ct.nat.len(), MAX_NAT);
        cap(
            f,
            &p.field("failover"),
            "failover nodes",
            ct.failover.len(),
            MAX_FAILOVER,
        );
        if let Some(v) = &ct.venet {
            let vp = p.field("venet").field("addresses");
            cap(f, &vp, "addresses", v.addresses.len(), MAX_ADDRS);
        }
        for x in ct_ifaces(i, ct) {
            let vp = x.site.path(t).field("addresses");
            cap(f, &vp, "addresses", x.addresses.len(), MAX_ADDRS);
        }
    }
    f.len() == before
}
