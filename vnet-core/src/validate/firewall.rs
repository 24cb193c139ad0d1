//! The firewall rules of a container: port forwards (`forward-listen-invalid`,
//! `forward-target-unreachable`, `forward-port-invalid`, `forward-duplicate`), filters
//! (`allow-invalid`, and the warning `allow-shadowed`), and both only where the
//! container forwards (`firewall-not-forwarding`).

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::site::{ct_ifaces, ifaces, Site};
use super::{Ctx, Findings};
use crate::model::{Allow, Container, FilterPolicy, PortForward, PortRange, RouteDest, Topology};
use crate::path::ElementPath;
use crate::plan::ruleset_of::resolve_endpoint;
use crate::rules::Rule;

/// Checks every container's port forwards and filters.
pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    for (i, ct) in t.ct.iter().enumerate() {
        if ct.port_forward.is_empty() && ct.firewall.is_none() {
            continue;
        }
        let at = Site::Ct(i).path(t);
        for (k, pf) in ct.port_forward.iter().enumerate() {
            forward(i, ct, pf, &at.item("port_forward", k, k), f);
        }
        duplicates(ct, &at, f);
        let Some(fw) = &ct.firewall else { continue };
        let at = at.field("firewall");
        if let Some(p) = &fw.forward {
            if ct.forward.is_off() {
                f.push(
                    Rule::FirewallNotForwarding,
                    &at.field("forward"),
                    format!(
                        "container {} does not forward, so a `forward` filter has nothing to filter",
                        ct.name
                    ),
                );
            }
            chain(t, p, &at.field("forward"), f);
        }
        if let Some(p) = &fw.input {
            chain(t, p, &at.field("input"), f);
        }
    }
}

/// One port forward: where it listens, where it sends, its ports.
fn forward(i: usize, ct: &Container, pf: &PortForward, at: &ElementPath, f: &mut Findings) {
    let v6 = pf.to.is_ipv6();
    let on = if v6 { ct.forward.ipv6 } else { ct.forward.ipv4 };
    if !on {
        f.push(
            Rule::FirewallNotForwarding,
            at,
            format!(
                "container {} does not forward {}, so it cannot forward port {} to {}",
                ct.name,
                if v6 { "IPv6" } else { "IPv4" },
                pf.port,
                pf.to
            ),
        );
    }
    let own: Vec<IpNetwork> = ct_ifaces(i, ct)
        .flat_map(|x| x.addresses.iter().copied())
        .collect();
    if let Some(a) = pf.address {
        if !own.iter().any(|n| n.ip() == a) {
            f.push(
                Rule::ForwardListenInvalid,
                &at.field("address"),
                format!("{a} is not an address of container {}", ct.name),
            );
        } else if a.is_ipv6() != v6 {
            f.push(
                Rule::ForwardListenInvalid,
                &at.field("address"),
                format!("{a} and the target {} are of different families", pf.to),
            );
        }
    }
    if pf.address.is_none() && pf.interface.is_none() {
        // Without either it would catch the containers' own outgoing traffic to that
        // port too (mail's SMTP to the world would come back to mail).
        f.push(
            Rule::ForwardListenInvalid,
            at,
            format!(
                "the forward of {} port {} names neither an `address` nor an `interface` to listen on",
                pf.proto, pf.port
            ),
        );
    }
    if let Some(name) = &pf.interface {
        if !ifaces(ct).contains_key(name) {
            f.push(
                Rule::ForwardListenInvalid,
                &at.field("interface"),
                format!("{name:?} is not an interface of container {}", ct.name),
            );
        }
    }
    if !reachable(ct, &own, pf.to) {
        f.push(
            Rule::ForwardTargetUnreachable,
            &at.field("to"),
            format!(
                "{} is on no subnet of container {} and no route of it covers it",
                pf.to, ct.name
            ),
        );
    }
    if !valid_ports(pf.port) {
        f.push(
            Rule::ForwardPortInvalid,
            &at.field("port"),
            format!("{} is not a range of ports 1-65535", pf.port),
        );
    }
    if let Some(to) = pf.to_port {
        // nft's dnat picks a port of a target range (keeping the incoming one when it
        // is in it): a range maps one to one only onto itself.
        let shifted = pf.port.len() > 1 && to != pf.port;
        if !valid_ports(to) || to.len() != pf.port.len() || shifted {
            f.push(
                Rule::ForwardPortInvalid,
                &at.field("to_port"),
                format!(
                    "to_port {to} does not map port {} one to one (a single port goes to any \
                     port, a range only to itself)",
                    pf.port
                ),
            );
        }
    }
}

/// A port range as nft takes it: 1-65535, first <= last.
fn valid_ports(p: PortRange) -> bool {
    p.first >= 1 && !p.is_empty()
}

/// Whether `to` lies in a subnet of one of the container's interfaces or under one of
/// its routes (a default route of the family included).
fn reachable(ct: &Container, own: &[IpNetwork], to: IpAddr) -> bool {
    own.iter().any(|n| n.contains(to))
        || ct.route.iter().any(|r| match r.to {
            RouteDest::Prefix(p) => p.contains(to),
            RouteDest::Default => r.via.is_none_or(|v| v.is_ipv6() == to.is_ipv6()),
        })
}

/// `forward-duplicate`: two forwards of one protocol whose ports overlap and whose
/// listening sides overlap (the same address or interface, or one of them any).
fn duplicates(ct: &Container, at: &ElementPath, f: &mut Findings) {
    let fw = &ct.port_forward;
    for (k, b) in fw.iter().enumerate() {
        let first = fw[..k].iter().position(|a| {
            a.proto == b.proto
                && a.port.first <= b.port.last
                && b.port.first <= a.port.last
                && same_or_any(&a.address, &b.address)
                && same_or_any(&a.interface, &b.interface)
        });
        if let Some(j) = first {
            f.push_clash(
                Rule::ForwardDuplicate,
                &at.item("port_forward", k, k),
                &at.item("port_forward", j, j),
                format!(
                    "{} port {} is forwarded already (to {})",
                    b.proto, b.port, fw[j].to
                ),
            );
        }
    }
}

fn same_or_any<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// One allow rule with its endpoints resolved (`None`: any).
struct Resolved {
    from: Option<Vec<IpNetwork>>,
    to: Option<Vec<IpNetwork>>,
}

/// `allow-invalid` for each rule of a chain, and `allow-shadowed` for a rule an earlier
/// one covers.
fn chain(t: &Topology, p: &FilterPolicy, at: &ElementPath, f: &mut Findings) {
    let mut seen: Vec<(usize, &Allow, Resolved)> = Vec::new();
    for (k, a) in p.allow.iter().enumerate() {
        let here = at.item("allow", k, k);
        let mut ok = true;
        let mut side = |text: &Option<String>, field: &str| -> Option<Vec<IpNetwork>> {
            let text = text.as_ref()?;
            let found = resolve_endpoint(t, text);
            if found.is_none() {
                ok = false;
                f.push(
                    Rule::AllowInvalid,
                    &here.field(field),
                    format!(
                        "{text:?} is no address, prefix, or container or LAN host with addresses"
                    ),
                );
            }
            found
        };
        let r = Resolved {
            from: side(&a.from, "from"),
            to: side(&a.to, "to"),
        };
        if a.port.is_some() && a.proto.is_none() {
            ok = false;
            f.push(
                Rule::AllowInvalid,
                &here.field("port"),
                "a port needs a protocol: add `proto = \"tcp\"` or `\"udp\"`",
            );
        }
        if let Some(port) = a.port.filter(|p| !valid_ports(*p)) {
            ok = false;
            f.push(
                Rule::AllowInvalid,
                &here.field("port"),
                format!("{port} is not a range of ports 1-65535"),
            );
        }
        if !ok {
            continue;
        }
        if let Some((j, _, _)) = seen.iter().find(|(_, e, er)| covers(e, er, a, &r)) {
            f.push_clash(
                Rule::AllowShadowed,
                &here,
                &at.item("allow", *j, *j),
                format!("allow rule {k} accepts nothing rule {j} does not accept already"),
            );
        }
        seen.push((k, a, r));
    }
}

/// Whether earlier rule `e` accepts everything rule `a` does.
fn covers(e: &Allow, er: &Resolved, a: &Allow, ar: &Resolved) -> bool {
    let nets = |outer: &Option<Vec<IpNetwork>>, inner: &Option<Vec<IpNetwork>>| match (outer, inner)
    {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(o), Some(i)) => i.iter().all(|n| o.iter().any(|w| within(*n, *w))),
    };
    let proto = e.proto.is_none() || e.proto == a.proto;
    let port = match (e.port, a.port) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(w), Some(n)) => w.first <= n.first && n.last <= w.last,
    };
    proto && port && nets(&er.from, &ar.from) && nets(&er.to, &ar.to)
}

/// Whether prefix `inner` lies inside prefix `outer`.
fn within(inner: IpNetwork, outer: IpNetwork) -> bool {
    inner.is_ipv4() == outer.is_ipv4()
        && outer.prefix() <= inner.prefix()
        && outer.contains(inner.network())
}
