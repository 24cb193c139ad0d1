//! A drawable view of a [`ValidTopology`]: hardware nodes and LANs as clusters, containers
//! as clusters inside their home node, interfaces, bridges and LAN hosts as vertices, and
//! edges for veth pairs, NICs, VLANs, patches and failover.
//!
//! Ids are readable paths (`ct/101/eth0`, `bridge/br0@m1`); renderers quote or map them.

use std::collections::BTreeMap;

use vnet_core::model::{Container, Topology};
use vnet_core::resolve::MacKey;
use vnet_core::ValidTopology;

/// The whole drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The graph's title.
    pub title: String,
    /// Top-level clusters: nodes, then LANs.
    pub clusters: Vec<Cluster>,
    /// Vertices outside any cluster.
    pub vertices: Vec<Vertex>,
    /// Every edge, in a stable order.
    pub edges: Vec<Edge>,
}

/// A box around related vertices: a hardware node, a container, a LAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Unique id.
    pub id: String,
    /// Label lines.
    pub label: Vec<String>,
    /// Drawn emphasized: a container that forwards or does NAT.
    pub marked: bool,
    /// Vertices inside.
    pub vertices: Vec<Vertex>,
    /// Clusters inside.
    pub clusters: Vec<Cluster>,
}

/// What a vertex stands for; renderers pick a shape from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An interface in a container.
    Interface,
    /// A bridge on a node, or the host end of an unbridged veth.
    Bridge,
    /// The switch of a LAN.
    Switch,
    /// A host on a LAN.
    Host,
    /// A container without interfaces.
    Container,
}

/// One vertex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    /// Unique id.
    pub id: String,
    /// Label lines.
    pub label: Vec<String>,
    /// What it stands for.
    pub kind: Kind,
    /// Drawn emphasized: the outgoing interface of a NAT rule.
    pub marked: bool,
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A cable: veth pair, NIC, host on its LAN.
    Solid,
    /// A possibility or a layering: failover, VLAN on its parent.
    Dashed,
    /// A patch between two bridges.
    Bold,
}

/// One edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Id of the source vertex.
    pub from: String,
    /// Id of the target vertex.
    pub to: String,
    /// Label lines.
    pub label: Vec<String>,
    /// How it is drawn.
    pub style: Style,
}

impl View {
    /// The view of a valid topology.
    pub fn of(v: &ValidTopology) -> View {
        Builder::new(v).build()
    }
}

/// Collects clusters by node name so bridges and containers land in the right box,
/// whatever order the topology lists them in.
struct Builder<'a> {
    v: &'a ValidTopology,
    t: &'a Topology,
    nodes: BTreeMap<String, Cluster>,
    node_order: Vec<String>,
    loose: Vec<Vertex>,
    edges: Vec<Edge>,
}

impl<'a> Builder<'a> {
    fn new(v: &'a ValidTopology) -> Self {
        Builder {
            v,
            t: v.topology(),
            nodes: BTreeMap::new(),
            node_order: Vec::new(),
            loose: Vec::new(),
            edges: Vec::new(),
        }
    }

    fn build(mut self) -> View {
        for n in &self.t.node {
            self.node(&n.name);
        }
        for b in &self.t.bridge {
            for n in self.v.bridge_nodes(&b.name) {
                self.bridge(&b.name, n);
            }
        }
        self.patches();
        let mut lans = Vec::new();
        for lan in &self.t.lan {
            lans.push(self.lan(&lan.name));
        }
        for ct in &self.t.ct {
            self.container(ct);
        }
        let mut clusters: Vec<Cluster> = Vec::new();
        for name in &self.node_order {
            if let Some(c) = self.nodes.remove(name) {
                clusters.push(c);
            }
        }
        clusters.extend(lans);
        View {
            title: format!("topology {}", self.t.name),
            clusters,
            vertices: self.loose,
            edges: self.edges,
        }
    }

    /// The cluster of node `name`, created on first use.
    fn node(&mut self, name: &str) -> &mut Cluster {
        if !self.nodes.contains_key(name) {
            self.node_order.push(name.to_string());
            self.nodes.insert(
                name.to_string(),
                Cluster {
                    id: format!("node/{name}"),
                    label: vec![format!("node {name}")],
                    marked: false,
                    vertices: Vec::new(),
                    clusters: Vec::new(),
                },
            );
        }
        self.nodes
            .get_mut(name)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// The id of bridge `bridge` on node `node`, adding the vertex on first use.
    fn bridge(&mut self, bridge: &str, node: &str) -> String {
        let id = bridge_id(bridge, node);
        let exists = self
            .nodes
            .get(node)
            .is_some_and(|c| c.vertices.iter().any(|x| x.id == id));
        if !exists {
            let label = self.bridge_label(bridge);
            self.node(node).vertices.push(Vertex {
                id: id.clone(),
                label,
                kind: Kind::Bridge,
                marked: false,
            });
        }
        id
    }

    fn bridge_label(&self, name: &str) -> Vec<String> {
        let mut label = vec![format!("bridge {name}")];
        label.push(self.mac_line(&MacKey::Bridge {
            name: name.to_string(),
        }));
        if let Some(b) = self.t.bridge.iter().find(|b| b.name == name) {
            if b.stp {
                label.push("STP on".to_string());
            }
            if let Some(mtu) = b.mtu {
                label.push(format!("mtu {mtu}"));
            }
            for a in &b.addresses {
                label.push(a.to_string());
            }
            if !b.ports.is_empty() {
                label.push(format!("ports: {}", b.ports.join(", ")));
            }
        }
        for s in self
            .t
            .subnet
            .iter()
            .filter(|s| s.bridge.as_deref() == Some(name))
        {
            label.push(match s.gateway {
                Some(g) => format!("subnet {} gw {g}", s.cidr),
                None => format!("subnet {}", s.cidr),
            });
        }
        label
    }

    /// `MAC xx` for a MAC the topology gives, `MAC xx (derived)` for one vnet derives.
    fn mac_line(&self, key: &MacKey) -> String {
        match self.v.resolved().macs.get(key) {
            Some(m) if self.v.resolved().given_macs.contains(key) => format!("MAC {m}"),
            Some(m) => format!("MAC {m} (derived)"),
            None => "MAC unknown".to_string(),
        }
    }

    /// A NIC keeps its hardware MAC unless the topology sets one; the derived MAC is
    /// only the sandbox stand-in's.
    fn nic_mac_line(&self, ct: u32, name: &str) -> String {
        let key = MacKey::Nic {
            ct,
            name: name.to_string(),
        };
        match self.v.resolved().macs.get(&key) {
            Some(m) if self.v.resolved().given_macs.contains(&key) => format!("MAC {m}"),
            Some(m) => format!("hardware MAC (sandbox {m})"),
            None => "hardware MAC".to_string(),
        }
    }

    fn patches(&mut self) {
        let patches = self.t.patch.clone();
        let node_names: Vec<String> = self.node_order.clone();
        for p in &patches {
            for n in &node_names {
                let on = |b: &str| self.v.bridge_nodes(b).contains(&n.as_str());
                if !(on(&p.a.bridge) && on(&p.b.bridge)) {
                    continue;
                }
                let a = self.bridge(&p.a.bridge, n);
                let b = self.bridge(&p.b.bridge, n);
                let label = vec![
                    format!(
                        "patch {} {}",
                        p.a.name,
                        self.mac_line(&MacKey::Patch {
                            name: p.a.name.clone()
                        })
                    ),
                    format!(
                        "patch {} {}",
                        p.b.name,
                        self.mac_line(&MacKey::Patch {
                            name: p.b.name.clone()
                        })
                    ),
                ];
                self.edges.push(Edge {
                    from: a,
                    to: b,
                    label,
                    style: Style::Bold,
                });
            }
        }
    }

    fn lan(&mut self, name: &str) -> Cluster {
        let lan = self.t.lan.iter().find(|l| l.name == name);
        let mut label = vec![format!("LAN {name}")];
        for s in self
            .t
            .subnet
            .iter()
            .filter(|s| s.lan.as_deref() == Some(name))
        {
            let mut line = format!("subnet {}", s.cidr);
            if let Some(vlan) = s.vlan {
                line.push_str(&format!(" on VLAN {vlan}"));
            }
            if let Some(g) = s.gateway {
                line.push_str(&format!(" gw {g}"));
            }
            label.push(line);
        }
        let switch = lan_id(name);
        let mut vertices = vec![Vertex {
            id: switch.clone(),
            label: vec![
                format!("{name} switch"),
                self.mac_line(&MacKey::LanSwitch {
                    lan: name.to_string(),
                }),
            ],
            kind: Kind::Switch,
            marked: false,
        }];
        for h in lan.map(|l| l.host.as_slice()).unwrap_or_default() {
            let id = format!("lan/{name}/host/{}", h.name);
            let mut hl = vec![
                format!("host {}", h.name),
                self.mac_line(&MacKey::LanHost {
                    lan: name.to_string(),
                    host: h.name.clone(),
                }),
            ];
            if let Some(vlan) = h.vlan {
                hl.push(format!("VLAN {vlan}"));
            }
            hl.extend(h.addresses.iter().map(|a| a.to_string()));
            hl.extend(h.route.iter().map(route_line));
            vertices.push(Vertex {
                id: id.clone(),
                label: hl,
                kind: Kind::Host,
                marked: false,
            });
            self.edges.push(Edge {
                from: id,
                to: switch.clone(),
                label: h.vlan.map(|v| format!("VLAN {v}")).into_iter().collect(),
                style: Style::Solid,
            });
        }
        Cluster {
            id: format!("lan/{name}"),
            label,
            marked: false,
            vertices,
            clusters: Vec::new(),
        }
    }

    fn container(&mut self, ct: &Container) {
        let home = self.v.home_node(ct).to_string();
        let nodes: Vec<String> = self.v.ct_nodes(ct).iter().map(|s| s.to_string()).collect();
        let failover = &nodes[1..];
        let cid = format!("ct/{}", ct.id);
        let iface = |name: &str| format!("ct/{}/{name}", ct.id);
        let nat_outs: Vec<&str> = ct.nat.iter().map(|n| n.out.as_str()).collect();
        let mut vertices = Vec::new();
        for veth in &ct.veth {
            let mut label = vec![
                format!("{} (veth)", veth.name),
                format!("MAC {}", self.v.veth_mac(ct, veth)),
            ];
            label.extend(veth.addresses.iter().map(|a| a.to_string()));
            if let Some(mtu) = veth.mtu {
                label.push(format!("mtu {mtu}"));
            }
            vertices.push(Vertex {
                id: iface(&veth.name),
                label,
                kind: Kind::Interface,
                marked: nat_outs.contains(&veth.name.as_str()),
            });
            let host_name = self.v.veth_host_name(ct, veth).to_string();
            let host_mac = self.v.veth_host_mac(ct, veth);
            let cable = vec![host_name.clone(), format!("MAC {host_mac}")];
            for (i, node) in nodes.iter().enumerate() {
                let to = match &veth.bridge {
                    Some(b) => self.bridge(b, node),
                    None => self.host_end(ct.id, &veth.name, &host_name, node),
                };
                let (label, style) = if i == 0 {
                    (cable.clone(), Style::Solid)
                } else {
                    (vec![format!("failover to {node}")], Style::Dashed)
                };
                self.edges.push(Edge {
                    from: iface(&veth.name),
                    to,
                    label,
                    style,
                });
            }
        }
        for nic in &ct.nic {
            let mut label = vec![
                match &nic.device {
                    Some(d) => format!("{} (NIC {d} of the node)", nic.name),
                    None => format!("{} (NIC of the node)", nic.name),
                },
                self.nic_mac_line(ct.id, &nic.name),
            ];
            label.extend(nic.addresses.iter().map(|a| a.to_string()));
            if let Some(mtu) = nic.mtu {
                label.push(format!("mtu {mtu}"));
            }
            vertices.push(Vertex {
                id: iface(&nic.name),
                label,
                kind: Kind::Interface,
                marked: nat_outs.contains(&nic.name.as_str()),
            });
            self.edges.push(Edge {
                from: iface(&nic.name),
                to: lan_id(&nic.lan),
                label: vec![nic.device.clone().unwrap_or_else(|| nic.name.clone())],
                style: Style::Solid,
            });
        }
        for m in &ct.macvlan {
            let key = MacKey::Macvlan {
                ct: ct.id,
                name: m.name.clone(),
            };
            let mut label = vec![
                format!(
                    "{} (macvlan {} on {} of the node)",
                    m.name,
                    m.mode.as_str(),
                    m.parent
                ),
                self.mac_line(&key),
            ];
            label.extend(m.addresses.iter().map(|a| a.to_string()));
            vertices.push(Vertex {
                id: iface(&m.name),
                label,
                kind: Kind::Interface,
                marked: nat_outs.contains(&m.name.as_str()),
            });
            self.edges.push(Edge {
                from: iface(&m.name),
                to: lan_id(&m.lan),
                label: vec![m.parent.clone()],
                style: Style::Solid,
            });
        }
        for vlan in &ct.vlan {
            let mut label = vec![format!(
                "{} (VLAN {} on {})",
                vlan.name, vlan.id, vlan.parent
            )];
            label.extend(vlan.addresses.iter().map(|a| a.to_string()));
            if let Some(mtu) = vlan.mtu {
                label.push(format!("mtu {mtu}"));
            }
            vertices.push(Vertex {
                id: iface(&vlan.name),
                label,
                kind: Kind::Interface,
                marked: nat_outs.contains(&vlan.name.as_str()),
            });
            self.edges.push(Edge {
                from: iface(&vlan.name),
                to: iface(&vlan.parent),
                label: vec![format!("VLAN {}", vlan.id)],
                style: Style::Dashed,
            });
        }
        if vertices.is_empty() {
            // An empty cluster is not drawn, so give the container a vertex of its own.
            vertices.push(Vertex {
                id: format!("{cid}/self"),
                label: vec![format!("CT {} has no interfaces", ct.id)],
                kind: Kind::Container,
                marked: false,
            });
        }
        let marked = !ct.forward.is_off() || !ct.nat.is_empty();
        let cluster = Cluster {
            id: cid,
            label: ct_label(ct, failover),
            marked,
            vertices,
            clusters: Vec::new(),
        };
        self.node(&home).clusters.push(cluster);
    }

    /// The host end of a veth that joins no bridge, on `node`.
    fn host_end(&mut self, ct: u32, veth: &str, host_name: &str, node: &str) -> String {
        let id = format!("hostveth/{ct}/{veth}@{node}");
        self.node(node).vertices.push(Vertex {
            id: id.clone(),
            label: vec![format!("{host_name} (no bridge)")],
            kind: Kind::Bridge,
            marked: false,
        });
        id
    }
}

fn bridge_id(bridge: &str, node: &str) -> String {
    format!("bridge/{bridge}@{node}")
}

fn lan_id(lan: &str) -> String {
    format!("lan/{lan}/switch")
}

fn route_line(r: &vnet_core::model::Route) -> String {
    let mut s = format!("route {}", r.to);
    if let Some(via) = r.via {
        s.push_str(&format!(" via {via}"));
    }
    if let Some(dev) = &r.dev {
        s.push_str(&format!(" dev {dev}"));
    }
    if let Some(m) = r.metric {
        s.push_str(&format!(" metric {m}"));
    }
    s
}

/// The container's label: id, name, hostname, OpenVZ settings, forwarding, NAT, venet,
/// routes and failover nodes.
fn ct_label(ct: &Container, failover: &[String]) -> Vec<String> {
    let mut label = vec![format!("CT {} {}", ct.id, ct.name)];
    if let Some(h) = &ct.hostname {
        label.push(h.clone());
    }
    let openvz: Vec<String> = [
        ct.ostemplate.clone(),
        ct.config.clone(),
        ct.onboot
            .map(|b| format!("onboot={}", if b { "yes" } else { "no" })),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !openvz.is_empty() {
        label.push(openvz.join(", "));
    }
    let mut fwd = Vec::new();
    if ct.forward.ipv4 {
        fwd.push("IPv4");
    }
    if ct.forward.ipv6 {
        fwd.push("IPv6");
    }
    if !fwd.is_empty() {
        label.push(format!("FORWARDING {}", fwd.join("+")));
    }
    for n in &ct.nat {
        label.push(format!("NAT masquerade {} out {}", n.source, n.out));
    }
    if let Some(v) = ct.venet.as_ref().filter(|v| v.is_on()) {
        let addrs: Vec<String> = v.addresses.iter().map(|a| a.to_string()).collect();
        label.push(
            format!("venet on {}", addrs.join(" "))
                .trim_end()
                .to_string(),
        );
    }
    label.extend(ct.route.iter().map(route_line));
    if !failover.is_empty() {
        label.push(format!("failover: {}", failover.join(", ")));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::{Document, Format};

    fn seed() -> ValidTopology {
        let seed = include_str!("../../../examples/seed.toml");
        Document::parse(seed, Format::Toml)
            .unwrap()
            .validate()
            .unwrap()
    }

    #[test]
    fn containers_sit_in_their_home_node_and_bridges_on_every_node() {
        let view = View::of(&seed());
        let ids: Vec<&str> = view.clusters.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["node/m1", "node/m2", "lan/lan46"]);
        let m1 = &view.clusters[0];
        let cts: Vec<&str> = m1.clusters.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(cts, ["ct/101", "ct/102", "ct/103"]);
        assert!(view.clusters[1]
            .vertices
            .iter()
            .any(|v| v.id == "bridge/br0@m2"));
        assert!(m1.clusters[0].marked, "the router forwards");
        assert!(!m1.clusters[1].marked);
    }

    #[test]
    fn every_edge_ends_at_a_vertex_of_the_view() {
        let view = View::of(&seed());
        let mut ids = Vec::new();
        fn walk<'a>(c: &'a Cluster, ids: &mut Vec<&'a str>) {
            ids.extend(c.vertices.iter().map(|v| v.id.as_str()));
            for c in &c.clusters {
                walk(c, ids);
            }
        }
        for c in &view.clusters {
            walk(c, &mut ids);
        }
        for e in &view.edges {
            assert!(ids.contains(&e.from.as_str()), "{}", e.from);
            assert!(ids.contains(&e.to.as_str()), "{}", e.to);
        }
        let veth1 = view
            .edges
            .iter()
            .find(|e| e.from == "ct/101/eth0" && e.to == "bridge/br0@m1")
            .unwrap();
        assert_eq!(veth1.label, ["veth1", "MAC 00:12:34:56:78:9A"]);
    }
}
