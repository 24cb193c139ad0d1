//! Name rules: the kernel's interface name limits and vnet's allowlist, for every name
//! that becomes an interface, a namespace or a file name, and uniqueness within each of
//! the three kinds of namespace:
//!
//! - the sandbox namespaces: nodes, containers, LANs and LAN hosts each become one;
//! - inside a container: its veth, NIC and VLAN names;
//! - on the nodes: bridges, host-side veth names (given and derived), bridge ports,
//!   patch ends and NIC devices. A container may run on any of its nodes, so these are
//!   kept unique across the topology (as [`crate::resolve`] does for derived names).
//!
//! Also the texts that shell scripts embed: hostname, OS template and config.

use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::BTreeMap;

use super::site::{ct_ifaces, ifaces, CtIface, Site};
use super::{Ctx, Findings};
use crate::path::ElementPath;
use crate::rules::Rule;

/// The longest interface name the kernel keeps (`IFNAMSIZ` - 1), in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 15;

/// The longest hostname (DNS), in bytes.
const MAX_HOSTNAME_BYTES: usize = 253;

/// Whether a byte may appear in a name or a plain word: `[A-Za-z0-9_.-]`.
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Checks one name against the length, character and reserved-word rules. The path is
/// built only for a finding: most names are fine, and paths cost allocations.
pub(crate) fn check_name(name: &str, path: impl Fn() -> ElementPath, f: &mut Findings) {
    if name.len() > MAX_NAME_BYTES {
        f.push(
            Rule::NameTooLong,
            &path(),
            format!(
                "name {name:?} is {} bytes long; at most {MAX_NAME_BYTES} bytes",
                name.len()
            ),
        );
    }
    if name.is_empty() || name.starts_with('-') || !name.bytes().all(word_byte) {
        f.push(
            Rule::NameInvalid,
            &path(),
            format!("name {name:?} may hold only [A-Za-z0-9_.-] and must not be empty or start with `-`"),
        );
    } else if matches!(name, "." | ".." | "lo" | "all" | "default") {
        f.push(
            Rule::NameReserved,
            &path(),
            format!("name {name:?} is reserved by the kernel"),
        );
    }
}

/// Checks a hostname: DNS labels of `[A-Za-z0-9-]` (1..=63 bytes, no `-` at either end)
/// joined by `.`, at most 253 bytes.
fn check_hostname(name: &str, path: &ElementPath, f: &mut Findings) {
    let ok = !name.is_empty()
        && name.len() <= MAX_HOSTNAME_BYTES
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !ok {
        f.push(
            Rule::TextInvalid,
            path,
            format!("hostname {name:?} is not a DNS name (labels of letters, digits and `-` joined by `.`, at most {MAX_HOSTNAME_BYTES} bytes)"),
        );
    }
}

/// Checks an OS template or config name: a plain word that scripts can embed and that
/// can never climb out of a directory.
fn check_word(what: &str, text: &str, path: &ElementPath, f: &mut Findings) {
    if text.is_empty()
        || text.starts_with('-')
        || text.contains("..")
        || !text.bytes().all(word_byte)
    {
        f.push(
            Rule::TextInvalid,
            path,
            format!("{what} {text:?} may hold only [A-Za-z0-9_.-], must not be empty, start with `-` or contain `..`"),
        );
    }
}

/// What kind of object on a node a name belongs to; ports colliding with ports or
/// bridges are L2 loops (reported by [`super::l2`]), not name clashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeObj {
    Bridge,
    Port,
    Other,
}

/// Where a name was first seen: the element and the field holding the name (`None`
/// for a derived name, which belongs to the element as a whole).
type Seen = (Site, Option<&'static str>);

fn at(ctx: &Ctx<'_>, seen: Seen) -> ElementPath {
    let p = seen.0.path(ctx.t);
    match seen.1 {
        Some(field) => p.field(field),
        None => p,
    }
}

/// Records `name` in `space`; a repeat is reported on the later element.
fn unique<'a>(
    ctx: &Ctx<'_>,
    space: &mut HashMap<&'a str, Seen>,
    what: &str,
    name: &'a str,
    seen: Seen,
    f: &mut Findings,
) {
    if let Some(first) = space.get(name) {
        let first = at(ctx, *first);
        f.push_clash(
            Rule::NameDuplicate,
            &at(ctx, seen),
            &first,
            format!("{what} {name:?} is already used by {}", first.human()),
        );
    } else {
        space.insert(name, seen);
    }
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let t = ctx.t;
    let root = ElementPath::root();
    check_name(&t.name, || root.field("name"), f);

    // Sandbox namespaces: nodes, containers, LANs and LAN hosts.
    // Name spaces are only looked up, never walked: hash maps.
    let mut sandbox: HashMap<&str, Seen> = HashMap::new();
    let ns = "namespace name";
    for (i, n) in t.node.iter().enumerate() {
        let s = (Site::Node(i), Some("name"));
        check_name(&n.name, || at(ctx, s), f);
        unique(ctx, &mut sandbox, ns, &n.name, s, f);
    }
    // Container ids to indices, built only if a host name looks like a NIC port.
    let ids = std::cell::OnceCell::new();
    for (i, lan) in t.lan.iter().enumerate() {
        let s = (Site::Lan(i), Some("name"));
        check_name(&lan.name, || at(ctx, s), f);
        unique(ctx, &mut sandbox, ns, &lan.name, s, f);
        for (j, h) in lan.host.iter().enumerate() {
            let s = (Site::Host(i, j), Some("name"));
            check_name(&h.name, || at(ctx, s), f);
            unique(ctx, &mut sandbox, ns, &h.name, s, f);
            lan_port_name(ctx, &ids, i, j, f);
        }
    }
    // Container names are checked for repeats after the walk, by sorting their hashes
    // (a map of 100,000 names probed at random cost far more once it outgrew the
    // caches); only a repeated hash sends them through the map, in document order.
    let state = foldhash::fast::RandomState::default();
    let hash = |name: &str| std::hash::BuildHasher::hash_one(&state, name);
    let mut hashes: Vec<u64> = Vec::with_capacity(t.ct.len() + sandbox.len());
    for (i, ct) in t.ct.iter().enumerate() {
        let s = (Site::Ct(i), Some("name"));
        check_name(&ct.name, || at(ctx, s), f);
        hashes.push(hash(&ct.name));
        let p = || Site::Ct(i).path(t);
        if let Some(h) = &ct.hostname {
            check_hostname(h, &p().field("hostname"), f);
        }
        if let Some(o) = &ct.ostemplate {
            check_word("ostemplate", o, &p().field("ostemplate"), f);
        }
        if let Some(c) = &ct.config {
            check_word("config", c, &p().field("config"), f);
        }
    }

    // Nodes, LANs and hosts hold distinct names in `sandbox` (first wins), so a repeat
    // among these hashes involves a container.
    hashes.extend(sandbox.keys().map(|k| hash(k)));
    hashes.sort_unstable();
    if hashes.windows(2).any(|w| w[0] == w[1]) {
        for (i, ct) in t.ct.iter().enumerate() {
            let s = (Site::Ct(i), Some("name"));
            unique(ctx, &mut sandbox, ns, &ct.name, s, f);
        }
    }

    // On the nodes.
    node_space(ctx, f);

    // Inside each container: a scan, as interfaces are few (at most 64) and a map per
    // container would cost an allocation each.
    for (i, ct) in t.ct.iter().enumerate() {
        let ifs = ifaces(ct);
        for CtIface {
            name, kind, site, ..
        } in ct_ifaces(i, ct)
        {
            let s = (site, Some("name"));
            check_name(name, || at(ctx, s), f);
            if name == "venet0" && ct.venet.as_ref().is_some_and(|v| v.is_on()) {
                f.push(
                    Rule::NameDuplicate,
                    &at(ctx, s),
                    "interface name \"venet0\" is OpenVZ's venet interface, which this container has",
                );
            }
            let first = ifs.get(name).filter(|k| *k != kind);
            if let Some(first) = first {
                let first_site = first.site(i);
                let first = at(ctx, (first_site, Some("name")));
                f.push_clash(
                    Rule::NameDuplicate,
                    &at(ctx, s),
                    &first,
                    format!(
                        "interface name in the container {name:?} is already used by {}",
                        first.human()
                    ),
                );
            }
        }
    }
}

/// In the sandbox a LAN's namespace holds its switch `switch`, one port per host named
/// after the host, and one port `n<ctid>.<index>` per NIC plugged into the LAN (see
/// ARCHITECTURE.md); a host must not take the switch's or a NIC port's name.
fn lan_port_name(
    ctx: &Ctx<'_>,
    ids: &std::cell::OnceCell<BTreeMap<u32, usize>>,
    i: usize,
    j: usize,
    f: &mut Findings,
) {
    let t = ctx.t;
    let (lan, host) = (&t.lan[i], &t.lan[i].host[j]);
    let s = (Site::Host(i, j), Some("name"));
    if host.name == "switch" {
        f.push(
            Rule::NameDuplicate,
            &at(ctx, s),
            format!(
                "\"switch\" is the name of LAN {}'s switch in the sandbox",
                lan.name
            ),
        );
        return;
    }
    // Only a name shaped like a NIC port costs a search over the containers.
    let Some((id, index)) = host
        .name
        .strip_prefix('n')
        .and_then(|r| r.split_once('.'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<usize>().ok()?)))
    else {
        return;
    };
    let ids = ids.get_or_init(|| {
        let mut m = BTreeMap::new();
        for (ci, c) in t.ct.iter().enumerate() {
            m.entry(c.id).or_insert(ci);
        }
        m
    });
    let nic = ids
        .get(&id)
        .copied()
        .filter(|ci| t.ct[*ci].nic.get(index).is_some_and(|n| n.lan == lan.name));
    if let Some(ci) = nic {
        f.push(
            Rule::NameDuplicate,
            &at(ctx, s),
            format!(
                "{:?} is the LAN-side port of {} in the sandbox",
                host.name,
                Site::Nic(ci, index).path(t).human()
            ),
        );
    }
}

/// Names on the nodes: bridges, bridge ports, patch ends, host-side veth names (given and
/// derived) and NIC devices.
fn node_space<'a>(ctx: &Ctx<'a>, f: &mut Findings) {
    let t: &'a crate::model::Topology = ctx.t;
    let mut space: HashMap<&'a str, (Seen, NodeObj)> = HashMap::new();
    let mut add = |name: &'a str, seen: Seen, obj: NodeObj, f: &mut Findings| {
        if let Some((first, first_obj)) = space.get(name) {
            // A port named like a bridge or another port is an L2 loop (see `l2`).
            let l2 = matches!(
                (first_obj, obj),
                (NodeObj::Port | NodeObj::Bridge, NodeObj::Port) | (NodeObj::Port, NodeObj::Bridge)
            );
            if !l2 {
                let first = at(ctx, *first);
                f.push_clash(
                    Rule::NameDuplicate,
                    &at(ctx, seen),
                    &first,
                    format!(
                        "interface name {name:?} on the nodes is already used by {}",
                        first.human()
                    ),
                );
            }
        } else {
            space.insert(name, (seen, obj));
        }
    };
    for (i, b) in t.bridge.iter().enumerate() {
        let s = (Site::Bridge(i), Some("name"));
        check_name(&b.name, || at(ctx, s), f);
        add(&b.name, s, NodeObj::Bridge, f);
    }
    for (i, b) in t.bridge.iter().enumerate() {
        for (j, port) in b.ports.iter().enumerate() {
            let s = (Site::BridgePort(i, j), None);
            check_name(port, || at(ctx, s), f);
            add(port, s, NodeObj::Port, f);
        }
    }
    for (i, p) in t.patch.iter().enumerate() {
        for (end, e) in [(false, &p.a), (true, &p.b)] {
            let s = (Site::PatchEnd(i, end), Some("name"));
            check_name(&e.name, || at(ctx, s), f);
            add(&e.name, s, NodeObj::Other, f);
        }
    }
    for (i, ct) in t.ct.iter().enumerate() {
        for (j, v) in ct.veth.iter().enumerate() {
            if let Some(h) = &v.host_name {
                let s = (Site::Veth(i, j), Some("host_name"));
                check_name(h, || at(ctx, s), f);
                add(h, s, NodeObj::Other, f);
            }
        }
        for (j, n) in ct.nic.iter().enumerate() {
            let (name, field) = match &n.device {
                Some(d) => (d.as_str(), "device"),
                None => (n.name.as_str(), "name"),
            };
            let s = (Site::Nic(i, j), Some(field));
            if field == "device" {
                check_name(name, || at(ctx, s), f);
            }
            add(name, s, NodeObj::Other, f);
        }
    }
    derived_host_names(ctx, &space, f);
}

/// Derived host-side names are valid and distinct from every other name on the nodes by
/// construction ([`crate::resolve`]); they are checked anyway, in one pass over the
/// resolved map, and only a finding pays for finding its veth.
fn derived_host_names(ctx: &Ctx<'_>, space: &HashMap<&str, (Seen, NodeObj)>, f: &mut Findings) {
    let t = ctx.t;
    // The veths whose host-side name is given (usually few).
    let given: HashSet<(u32, &str)> =
        t.ct.iter()
            .flat_map(|c| {
                c.veth
                    .iter()
                    .filter(|v| v.host_name.is_some())
                    .map(move |v| (c.id, v.name.as_str()))
            })
            .collect();
    // Walked in the resolved map's (sorted) order; looked up only, so a hash map.
    if derived_all_fine(ctx, space, &given) {
        return;
    }
    let mut derived: HashMap<&str, &(u32, String)> = HashMap::with_capacity(ctx.r.host_names.len());
    for (key, name) in &ctx.r.host_names {
        if given.contains(&(key.0, key.1.as_str())) {
            continue; // a given name, checked with the other names
        }
        let clash = match space.get(name.as_str()) {
            Some((first, _)) => Some(at(ctx, *first)),
            None => derived.get(name.as_str()).map(|k| veth_path(t, k)),
        };
        let bad = name.len() > MAX_NAME_BYTES || !name.bytes().all(word_byte);
        if clash.is_none() && !bad {
            derived.insert(name, key);
            continue;
        }
        let path = veth_path(t, key);
        check_name(name, || path.clone(), f);
        if let Some(other) = clash {
            f.push_clash(
                Rule::NameDuplicate,
                &path,
                &other,
                format!(
                    "derived host-side name {name:?} is already used by {}",
                    other.human()
                ),
            );
        }
    }
}

/// Whether every derived host-side name (as [`derived_host_names`] walks them) is valid,
/// not a name on the nodes already and unlike every other: what resolution guarantees.
/// Checked by sorting hashes of the names (a repeated hash sends the full walk to look
/// closely); a map of 100,000 names probed at random cost far more once it outgrew the
/// caches.
fn derived_all_fine(
    ctx: &Ctx<'_>,
    space: &HashMap<&str, (Seen, NodeObj)>,
    given: &HashSet<(u32, &str)>,
) -> bool {
    let state = foldhash::fast::RandomState::default();
    let mut hashes: Vec<u64> = Vec::with_capacity(ctx.r.host_names.len());
    for (key, name) in &ctx.r.host_names {
        if !given.is_empty() && given.contains(&(key.0, key.1.as_str())) {
            continue;
        }
        let bad = name.len() > MAX_NAME_BYTES || !name.bytes().all(word_byte);
        if bad || space.contains_key(name.as_str()) {
            return false;
        }
        hashes.push(std::hash::BuildHasher::hash_one(&state, name.as_str()));
    }
    hashes.sort_unstable();
    hashes.windows(2).all(|w| w[0] != w[1])
}

/// The veth of container id `key.0` named `key.1`; a linear search, only for findings.
fn veth_path(t: &crate::model::Topology, key: &(u32, String)) -> ElementPath {
    t.ct.iter()
        .enumerate()
        .find_map(|(i, c)| {
            let j = c.veth.iter().position(|v| v.name == key.1)?;
            (c.id == key.0).then_some(Site::Veth(i, j).path(t))
        })
        .unwrap_or_else(ElementPath::root)
}
