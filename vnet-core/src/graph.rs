//! The validated topology as a graph: nodes, LANs, bridges, subnets, containers and their
//! interfaces, with the relations between them.

use foldhash::{HashMap, HashMapExt};
use petgraph::graph::{DiGraph, NodeIndex};
use std::fmt;
use std::sync::OnceLock;

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
    /// Entity -> vertex, built on the first lookup: validation builds the graph without
    /// one (every entity of a valid topology is new when added) and planning never looks
    /// entities up, so the index (a clone of every entity) is paid for only when used.
    /// Only ever looked up, never walked, so a hash map.
    index: OnceLock<HashMap<Entity, NodeIndex>>,
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
            index: OnceLock::new(),
        }
    }

    /// The index, built from the graph's vertices if it is not yet (the first of two
    /// equal entities wins, as with [`TopologyGraph::vertex`]).
    fn index(&self) -> &HashMap<Entity, NodeIndex> {
        self.index.get_or_init(|| {
            let mut index = HashMap::with_capacity(self.graph.node_count());
            for i in self.graph.node_indices() {
                index.entry(self.graph[i].clone()).or_insert(i);
            }
            index
        })
    }

    /// Adds `e`, which the caller knows is not in the graph yet (validation made it
    /// unique), without looking it up first.
    pub(crate) fn add_new(&mut self, e: Entity) -> NodeIndex {
        match self.index.get_mut() {
            Some(index) => {
                let i = self.graph.add_node(e.clone());
                let old = index.insert(e, i);
                debug_assert!(old.is_none(), "add_new of an entity already in the graph");
                i
            }
            None => self.graph.add_node(e),
        }
    }

    /// Adds an edge between two vertices already in the graph.
    pub(crate) fn edge(&mut self, from: NodeIndex, rel: Relation, to: NodeIndex) {
        self.graph.add_edge(from, to, rel);
    }

    /// The vertex of `e`, added if new.
    pub fn vertex(&mut self, e: Entity) -> NodeIndex {
        if let Some(i) = self.find(&e) {
            return i;
        }
        let i = self.graph.add_node(e.clone());
        if let Some(index) = self.index.get_mut() {
            index.insert(e, i);
        }
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
        self.index().get(e).copied()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_built_on_the_first_lookup_and_kept_up_to_date() {
        let seed = include_str!("../../examples/seed.toml");
        let doc = crate::Document::parse(seed, crate::Format::Toml).unwrap();
        let valid = doc.validate().unwrap();
        let mut g = valid.graph().clone();
        assert!(g.index.get().is_none(), "validation builds no index");
        for i in g.graph.node_indices() {
            assert_eq!(g.find(&g.graph[i]), Some(i));
        }
        let count = g.graph.node_count();
        let first = g.graph.node_indices().next().unwrap();
        assert_eq!(g.vertex(g.graph[first].clone()), first);
        let new = g.vertex(Entity::Node("m9".into()));
        let newer = g.add_new(Entity::Node("m10".into()));
        assert_eq!(g.graph.node_count(), count + 2);
        assert_eq!(g.find(&Entity::Node("m9".into())), Some(new));
        assert_eq!(g.find(&Entity::Node("m10".into())), Some(newer));
        let mail = valid.topology().ct_by_name("mail").unwrap();
        let has = g.targets(&Entity::Ct(mail.id), Relation::Has);
        assert_eq!(
            has.len(),
            mail.veth.len() + mail.nic.len() + mail.vlan.len()
        );
    }
}
