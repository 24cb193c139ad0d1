//! Routes and NAT, in containers and on LAN hosts: one default route per family
//! (`default-route-duplicate`), none beside venet's (`default-route-venet`), next hops
//! on-link (`route-nexthop-offlink`), routers that forward (`router-not-forwarding`),
//! and NAT that can work (`nat-invalid`).

use ipnetwork::IpNetwork;
use std::net::IpAddr;

use super::addrs::Owners;
use super::site::{ct_ifaces, ifaces, Site};
use super::{Ctx, Findings};
use crate::model::{Forwarding, Route, RouteDest};
use crate::path::ElementPath;
use crate::rules::Rule;

/// Whether a route is IPv6: by its next hop, else its destination; `default` with neither
/// is IPv4, as `ip route add default dev X` is.
fn is_v6(r: &Route) -> bool {
    match (r.via, r.to) {
        (Some(v), _) => v.is_ipv6(),
        (None, RouteDest::Prefix(p)) => p.is_ipv6(),
        (None, RouteDest::Default) => false,
    }
}

fn forwards(fw: &Forwarding, v6: bool) -> bool {
    if v6 {
        fw.ipv6
    } else {
        fw.ipv4
    }
}

fn family(v6: bool) -> &'static str {
    if v6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// The namespace whose routes are checked: a container or a LAN host.
struct Space<'x> {
    /// `ct[i]` or `lan[i].host[j]`.
    site: Site,
    /// The container's index, for "a route via my own address" checks.
    ct: Option<usize>,
    /// The interfaces' addresses, by interface name.
    addrs: Vec<(&'x str, IpNetwork)>,
    /// Whether venet's implicit IPv4 default route exists.
    venet: bool,
}

pub(super) fn check(ctx: &Ctx<'_>, owners: &Owners<'_>, f: &mut Findings) {
    let t = ctx.t;
    for (i, lan) in t.lan.iter().enumerate() {
        for (j, h) in lan.host.iter().enumerate() {
            // The host's interface is eth0, or eth0.N on VLAN N (see the architecture).
            let dev = match h.vlan {
                Some(v) => format!("eth0.{v}"),
                None => "eth0".to_string(),
            };
            let space = Space {
                site: Site::Host(i, j),
                ct: None,
                addrs: h.addresses.iter().map(|a| (dev.as_str(), *a)).collect(),
                venet: false,
            };
            routes(ctx, owners, &space, &h.route, f);
            for (k, r) in h.route.iter().enumerate() {
                if let Some(d) = r.dev.as_deref().filter(|d| *d != dev) {
                    f.push(
                        Rule::RefMissing,
                        &Site::Host(i, j).path(t).item("route", k, k).field("dev"),
                        format!(
                            "interface {d:?} is not declared; LAN host {} has only {dev}",
                            h.name
                        ),
                    );
                }
            }
        }
    }
    // One buffer for every container's addresses, not an allocation per container.
    let mut buffer: Vec<(&str, IpNetwork)> = Vec::new();
    for (i, ct) in t.ct.iter().enumerate() {
        nat(ctx, i, f);
        if ct.route.is_empty() {
            continue; // the common leaf: nothing to collect
        }
        let mut addrs = std::mem::take(&mut buffer);
        addrs.clear();
        for x in ct_ifaces(i, ct) {
            addrs.extend(x.addresses.iter().map(|a| (x.name, *a)));
        }
        let venet = ct.venet.as_ref().is_some_and(|v| v.is_on());
        let space = Space {
            site: Site::Ct(i),
            ct: Some(i),
            addrs,
            venet,
        };
        routes(ctx, owners, &space, &ct.route, f);
        buffer = space.addrs;
    }
}

fn routes(ctx: &Ctx<'_>, owners: &Owners<'_>, s: &Space<'_>, routes: &[Route], f: &mut Findings) {
    let t = ctx.t;
    let rpath = |k: usize| s.site.path(t).item("route", k, k);
    // The first explicit default route of each family: [IPv4, IPv6].
    let mut first_default: [Option<usize>; 2] = [None, None];
    for (k, r) in routes.iter().enumerate() {
        let v6 = is_v6(r);
        if r.to.is_default() {
            if s.venet && !v6 {
                f.push(
                    Rule::DefaultRouteVenet,
                    &rpath(k).field("to"),
                    "a default route beside venet's `default via 192.0.2.1 dev venet0` cannot be added",
                );
            }
            match first_default[usize::from(v6)] {
                Some(first) => f.push(
                    Rule::DefaultRouteDuplicate,
                    &rpath(k).field("to"),
                    format!(
                        "a second {} default route; the first is {}",
                        family(v6),
                        rpath(first).human()
                    ),
                ),
                None => first_default[usize::from(v6)] = Some(k),
            }
        }
        match r.via {
            None if r.dev.is_none() => f.push(
                Rule::RouteNextHopOffLink,
                &rpath(k),
                format!("route to {} has neither `via` nor `dev`", r.to),
            ),
            None => {}
            Some(via) => next_hop(ctx, owners, s, &|| rpath(k), r, via, f),
        }
    }
}

/// The next hop `via` of route `r`: same family as the destination, on-link, and a
/// forwarding router when it is another container's address. `path` builds the route's
/// element path, only for a finding (building it for every route was 6% of validation).
fn next_hop(
    ctx: &Ctx<'_>,
    owners: &Owners<'_>,
    s: &Space<'_>,
    path: &dyn Fn() -> ElementPath,
    r: &Route,
    via: IpAddr,
    f: &mut Findings,
) {
    if let RouteDest::Prefix(p) = r.to {
        if p.is_ipv6() != via.is_ipv6() {
            f.push(
                Rule::RouteNextHopOffLink,
                &path().field("via"),
                format!("next hop {via} is not of the family of {p}"),
            );
            return;
        }
    }
    let on_link = s
        .addrs
        .iter()
        .any(|(name, net)| r.dev.as_deref().is_none_or(|d| d == *name) && net.contains(via));
    if !on_link {
        let dev = r
            .dev
            .as_deref()
            .map(|d| format!(" of `{d}`"))
            .unwrap_or_default();
        f.push(
            Rule::RouteNextHopOffLink,
            &path().field("via"),
            format!(
                "next hop {via} is in no subnet of the interfaces{dev} of {}",
                s.site.path(ctx.t).human()
            ),
        );
    }
    if let Some(o) = owners.get(&via) {
        if let Some(c) = o.ct.filter(|c| Some(*c) != s.ct) {
            let router = &ctx.t.ct[c];
            let v6 = via.is_ipv6();
            if !forwards(&router.forward, v6) {
                f.push_hint(
                    Rule::RouterNotForwarding,
                    &path().field("via"),
                    format!(
                        "next hop {via} is container {} which does not forward {}",
                        router.name,
                        family(v6)
                    ),
                    format!(
                        "set `forward = {{ {} = true }}` on container {}",
                        if v6 { "ipv6" } else { "ipv4" },
                        router.name
                    ),
                );
            }
        }
    }
}

/// `nat-invalid`: the container forwards the source's family and `out` is one of its
/// interfaces.
fn nat(ctx: &Ctx<'_>, i: usize, f: &mut Findings) {
    let t = ctx.t;
    let ct = &t.ct[i];
    if ct.nat.is_empty() {
        return;
    }
    let ifs = ifaces(ct);
    let venet = ct.venet.as_ref().is_some_and(|v| v.is_on());
    for (k, n) in ct.nat.iter().enumerate() {
        let p = Site::Ct(i).path(t).item("nat", k, k);
        let v6 = n.source.is_ipv6();
        if !forwards(&ct.forward, v6) {
            f.push(
                Rule::NatInvalid,
                &p.field("source"),
                format!(
                    "NAT of {} needs {} forwarding in container {}",
                    n.source,
                    family(v6),
                    ct.name
                ),
            );
        }
        let known = ifs.contains_key(n.out.as_str()) || (venet && n.out == "venet0");
        if !known {
            f.push(
                Rule::NatInvalid,
                &p.field("out"),
                format!(
                    "outgoing interface {:?} is not an interface of container {}",
                    n.out, ct.name
                ),
            );
        }
    }
}
