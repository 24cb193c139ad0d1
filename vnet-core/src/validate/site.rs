//! Where things are, cheaply: [`Site`] names an element by indices (no allocation) and
//! becomes an [`ElementPath`] only when a rule reports it; [`Segment`] is the L2 segment
//! an address lives on; [`ifaces`] maps a container's interface names to their kinds.

use ipnetwork::IpNetwork;

use crate::model::{Container, Topology};
use crate::path::ElementPath;

/// An element of the topology by position. Rules keep these in their maps (100,000
/// containers must validate in milliseconds) and build paths only for findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Site {
    /// `node[i]`.
    Node(usize),
    /// `lan[i]`.
    Lan(usize),
    /// `lan[i].host[j]`.
    Host(usize, usize),
    /// `bridge[i]`.
    Bridge(usize),
    /// `bridge[i].ports[j]`.
    BridgePort(usize, usize),
    /// `patch[i].a` (`false`) or `patch[i].b` (`true`).
    PatchEnd(usize, bool),
    /// `subnet[i]`.
    Subnet(usize),
    /// `ct[i]`.
    Ct(usize),
    /// `ct[i].veth[j]`.
    Veth(usize, usize),
    /// `ct[i].nic[j]`.
    Nic(usize, usize),
    /// `ct[i].vlan[j]`.
    Vlan(usize, usize),
    /// `ct[i].macvlan[j]`.
    Macvlan(usize, usize),
    /// `ct[i].venet`.
    Venet(usize),
}

impl Site {
    /// The element's path. Indices come from walking the same topology, so they are in
    /// range; `label` falls back to the index if a caller ever passed a stale one.
    pub(crate) fn path(self, t: &Topology) -> ElementPath {
        let root = ElementPath::root();
        match self {
            Site::Node(i) => root.item("node", i, label(t.node.get(i).map(|n| &n.name), i)),
            Site::Lan(i) => root.item("lan", i, label(t.lan.get(i).map(|l| &l.name), i)),
            Site::Host(i, j) => Site::Lan(i).path(t).item(
                "host",
                j,
                label(t.lan.get(i).and_then(|l| l.host.get(j)).map(|h| &h.name), j),
            ),
            Site::Bridge(i) => root.item("bridge", i, label(t.bridge.get(i).map(|b| &b.name), i)),
            Site::BridgePort(i, j) => Site::Bridge(i).path(t).field("ports").index(j),
            Site::PatchEnd(i, b) => root.item("patch", i, i).field(if b { "b" } else { "a" }),
            Site::Subnet(i) => root.item(
                "subnet",
                i,
                t.subnet
                    .get(i)
                    .map_or_else(|| i.to_string(), |s| s.cidr.to_string()),
            ),
            Site::Ct(i) => root.item("ct", i, label(t.ct.get(i).map(|c| &c.name), i)),
            Site::Veth(i, j) => Site::Ct(i).path(t).item(
                "veth",
                j,
                label(t.ct.get(i).and_then(|c| c.veth.get(j)).map(|v| &v.name), j),
            ),
            Site::Nic(i, j) => Site::Ct(i).path(t).item(
                "nic",
                j,
                label(t.ct.get(i).and_then(|c| c.nic.get(j)).map(|v| &v.name), j),
            ),
            Site::Vlan(i, j) => Site::Ct(i).path(t).item(
                "vlan",
                j,
                label(t.ct.get(i).and_then(|c| c.vlan.get(j)).map(|v| &v.name), j),
            ),
            Site::Macvlan(i, j) => Site::Ct(i).path(t).item(
                "macvlan",
                j,
                label(
                    t.ct.get(i).and_then(|c| c.macvlan.get(j)).map(|v| &v.name),
                    j,
                ),
            ),
            Site::Venet(i) => Site::Ct(i).path(t).field("venet"),
        }
    }
}

fn label(name: Option<&String>, index: usize) -> String {
    name.cloned().unwrap_or_else(|| index.to_string())
}

/// An L2 segment: a bridge (on every node it exists on) or a LAN, untagged or one VLAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Segment<'a> {
    /// The segment of a bridge.
    Bridge(&'a str),
    /// A LAN, untagged (`None`) or one 802.1Q VLAN of it.
    Lan(&'a str, Option<u16>),
}

impl std::fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Segment::Bridge(b) => write!(f, "bridge {b}"),
            Segment::Lan(l, None) => write!(f, "LAN {l}"),
            Segment::Lan(l, Some(v)) => write!(f, "VLAN {v} of LAN {l}"),
        }
    }
}

/// What a container-side interface name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfKind {
    /// `veth[j]`.
    Veth(usize),
    /// `nic[j]`.
    Nic(usize),
    /// `vlan[j]`.
    Vlan(usize),
    /// `macvlan[j]`.
    Macvlan(usize),
}

impl IfKind {
    /// The interface's site in container `i`.
    pub(crate) fn site(self, i: usize) -> Site {
        match self {
            IfKind::Veth(j) => Site::Veth(i, j),
            IfKind::Nic(j) => Site::Nic(i, j),
            IfKind::Vlan(j) => Site::Vlan(i, j),
            IfKind::Macvlan(j) => Site::Macvlan(i, j),
        }
    }
}

/// The container's interfaces by name, looked up by a scan: a container has at most 64
/// (see `limits`), and most have one, so a map would cost more than it saves.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ifaces<'a>(&'a Container);

impl Ifaces<'_> {
    /// The interface called `name`; the first of two equal names wins (the names rule
    /// reports the second).
    pub(crate) fn get(&self, name: &str) -> Option<IfKind> {
        let c = self.0;
        if let Some(j) = c.veth.iter().position(|v| v.name == name) {
            return Some(IfKind::Veth(j));
        }
        if let Some(j) = c.nic.iter().position(|v| v.name == name) {
            return Some(IfKind::Nic(j));
        }
        if let Some(j) = c.vlan.iter().position(|v| v.name == name) {
            return Some(IfKind::Vlan(j));
        }
        c.macvlan
            .iter()
            .position(|v| v.name == name)
            .map(IfKind::Macvlan)
    }

    /// Whether the container has an interface called `name`.
    pub(crate) fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The container's interfaces.
pub(crate) fn ifaces(ct: &Container) -> Ifaces<'_> {
    Ifaces(ct)
}

/// One interface of a container, as the rules that treat every kind alike read it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CtIface<'a> {
    /// Its name in the container.
    pub name: &'a str,
    /// Which one it is.
    pub kind: IfKind,
    /// Where it is written.
    pub site: Site,
    /// Its addresses.
    pub addresses: &'a [IpNetwork],
}

/// The interfaces of container `i` (`ct`), every kind, in a fixed order (veths, NICs,
/// VLANs, macvlans: the first of two equal names is the one reported as taken). A kind
/// of interface is added here once, and every rule that walks them sees it.
pub(crate) fn ct_ifaces(i: usize, ct: &Container) -> impl Iterator<Item = CtIface<'_>> {
    let veth = ct.veth.iter().enumerate().map(move |(j, v)| CtIface {
        name: &v.name,
        kind: IfKind::Veth(j),
        site: Site::Veth(i, j),
        addresses: &v.addresses,
    });
    let nic = ct.nic.iter().enumerate().map(move |(j, n)| CtIface {
        name: &n.name,
        kind: IfKind::Nic(j),
        site: Site::Nic(i, j),
        addresses: &n.addresses,
    });
    let vlan = ct.vlan.iter().enumerate().map(move |(j, v)| CtIface {
        name: &v.name,
        kind: IfKind::Vlan(j),
        site: Site::Vlan(i, j),
        addresses: &v.addresses,
    });
    let macvlan = ct.macvlan.iter().enumerate().map(move |(j, m)| CtIface {
        name: &m.name,
        kind: IfKind::Macvlan(j),
        site: Site::Macvlan(i, j),
        addresses: &m.addresses,
    });
    veth.chain(nic).chain(vlan).chain(macvlan)
}

/// The segment an interface's addresses live on: a veth's bridge, a NIC's LAN, a VLAN
/// on a NIC that VLAN of the NIC's LAN. A VLAN on a veth, or an unbridged veth, has no
/// declared segment (subnets carry VLANs only on LANs).
pub(crate) fn segment_of<'a>(
    ct: &'a Container,
    ifs: &Ifaces<'_>,
    kind: IfKind,
) -> Option<Segment<'a>> {
    match kind {
        IfKind::Veth(j) => ct.veth.get(j)?.bridge.as_deref().map(Segment::Bridge),
        IfKind::Nic(j) => ct.nic.get(j).map(|n| Segment::Lan(&n.lan, None)),
        // In bridge mode a macvlan is on its parent's LAN.
        IfKind::Macvlan(j) => ct.macvlan.get(j).map(|m| Segment::Lan(&m.lan, None)),
        IfKind::Vlan(j) => {
            let v = ct.vlan.get(j)?;
            match ifs.get(v.parent.as_str())? {
                IfKind::Nic(p) => ct.nic.get(p).map(|n| Segment::Lan(&n.lan, Some(v.id))),
                IfKind::Veth(_) | IfKind::Vlan(_) | IfKind::Macvlan(_) => None,
            }
        }
    }
}

/// The nodes a container may run on: home (its `node`, else the first node), then its
/// failover nodes, without repeats. An iterator, so the common case allocates nothing.
pub(crate) fn ct_nodes<'a>(t: &'a Topology, ct: &'a Container) -> impl Iterator<Item = &'a str> {
    let home = ct
        .node
        .as_deref()
        .or_else(|| t.node.first().map(|n| n.name.as_str()));
    let failover = ct
        .failover
        .iter()
        .enumerate()
        .filter(move |(k, f)| Some(f.as_str()) != home && !ct.failover[..*k].contains(f))
        .map(|(_, f)| f.as_str());
    home.into_iter().chain(failover)
}
