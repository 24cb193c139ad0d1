//! The validated topology as a graph: nodes, LANs, bridges, subnets, containers and their
//! interfaces, with the relations between them.

use petgraph::graph::{DiGraph, NodeIndex};
use foldhash::{HashMap, HashMapExt};
use std::fmt;

/// A vertex of the topology graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// A hardware node.
    Node(String),
    /// A physical LAN.
    Lan(String),
    /// A host on a LAN.
    LanHost {
        /// The LAN.
        lan: String,
        /// The host's name.
        name: String,
    },
    /// A bridge (one per name; it exists on each of its nodes).
    Bridge(String),
    /// A subnet.
    Subnet(ipnetwork::IpNetwork),
    /// A container, by id.
    Ct(u32),
    /// An interface of a container: veth end, NIC or VLAN link.
    Iface {
        /// The container's id.
        ct: u32,
        /// The interface's name inside the container.
        name: String,
    },
}

/// An edge of the topology graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    /// Container -> node it normally runs on.
    RunsOn,
    /// Container -> node it may fail over to.
    MayRunOn,
    /// Bridge -> node where it exists.
    ExistsOn,
    /// Container -> its interface.
    Has,
    /// veth interface -> bridge its host end joins.
    PortOf,
    /// NIC -> LAN it is plugged into; LAN host -> its LAN.
    PluggedInto,
    /// VLAN interface -> parent interface.
    VlanOf,
    /// Subnet -> the bridge or LAN carrying it.
    CarriedBy,
    /// Interface or LAN host -> subnet one of its addresses is in.
    AddressedIn,
    /// Bridge -> bridge, joined by a patch.
    Patched,
}

/// The graph a [`crate::ValidTopology`] owns, with an index from entity to vertex.
#[derive(Clone, Default)]
pub struct TopologyGraph {
    /// The graph.
    pub graph: DiGraph<Entity, Relation>,
    /// Entity -> vertex. Only ever looked up, never walked, so a hash map: with 100,000
    /// containers a `BTreeMap` of string-keyed entities was a third of validation.
    index: HashMap<Entity, NodeIndex>,
}

impl fmt::Debug for TopologyGraph {
    // The index repeats the graph's vertices in a hash order; leaving it out keeps the
    // output deterministic.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopologyGraph")
            .field("graph", &self.graph)
            .finish_non_exhaustive()
    }
}

impl TopologyGraph {
    /// An empty graph with room for `vertices` and `edges`.
    pub(crate) fn with_capacity(vertices: usize, edges: usize) -> Self {
        TopologyGraph {
            graph: DiGraph::with_capacity(vertices, edges),
            index: HashMap::with_capacity(vertices),
        }
    }

    /// Adds `e`, which the caller knows is not in the graph yet (validation made it
    /// unique), without looking it up first.
    pub(crate) fn add_new(&mut self, e: Entity) -> NodeIndex {
        let i = self.graph.add_node(e.clone());
        let old = self.index.insert(e, i);
        debug_assert!(old.is_none(), "add_new of an entity already in the graph");
        i
    }

    /// Adds an edge between two vertices already in the graph.
    pub(crate) fn edge(&mut self, from: NodeIndex, rel: Relation, to: NodeIndex) {
        self.graph.add_edge(from, to, rel);
    }

    /// The vertex of `e`, added if new.
    pub fn vertex(&mut self, e: Entity) -> NodeIndex {
        if let Some(i) = self.index.get(&e) {
            return *i;
        }
        let i = self.graph.add_node(e.clone());
        self.index.insert(e, i);
        i
    }

    /// Adds an edge `from -> to`, adding the vertices if new.
    pub fn relate(&mut self, from: Entity, rel: Relation, to: Entity) {
        let a = self.vertex(from);
        let b = self.vertex(to);
        self.graph.add_edge(a, b, rel);
    }

    /// The vertex of `e`, if it is in the graph.
    pub fn find(&self, e: &Entity) -> Option<NodeIndex> {
        self.index.get(e).copied()
    }

    /// The entities `e` points to through `rel`, in a stable order.
    pub fn targets(&self, e: &Entity, rel: Relation) -> Vec<&Entity> {
        let Some(i) = self.find(e) else {
            return Vec::new();
        };
        let mut out: Vec<&Entity> = self
            .graph
            .edges(i)
            .filter(|edge| *edge.weight() == rel)
            .map(|edge| &self.graph[petgraph::visit::EdgeRef::target(&edge)])
            .collect();
        out.sort();
        out
    }

    /// The entities that point to `e` through `rel`, in a stable order.
    pub fn sources(&self, e: &Entity, rel: Relation) -> Vec<&Entity> {
        let Some(i) = self.find(e) else {
            return Vec::new();
        };
        let mut out: Vec<&Entity> = self
            .graph
            .edges_directed(i, petgraph::Direction::Incoming)
            .filter(|edge| *edge.weight() == rel)
            .map(|edge| &self.graph[petgraph::visit::EdgeRef::source(&edge)])
            .collect();
        out.sort();
        out
    }
}
