//! Surveying this machine as a real node for `vnet import`: the node's namespace and
//! each container's, observed as every command observes them (`observe.rs`), plus what
//! an import needs beyond that: which veth end in a container pairs with which on the
//! node, and masquerade rules in any nftables table (`nat.rs`). The conversion to a
//! topology is vnet-core's ([`vnet_core::import::topology`]).

mod nat;

use std::collections::BTreeMap;

use vnet_core::import::Survey;
use vnet_core::model::NetnsSource;
use vnet_core::observed::{LinkKind, ObservedState};
use vnet_core::plan::{Name, NsRef};

use crate::error::Result;
use crate::netlink::RequestCounter;
use crate::ns::{NamespaceMap, NsLocation};
use crate::observe;
use crate::session::Session;

/// What the kernel holds on this machine as node `node`, with the containers `cts`
/// (name, where its namespace is). A container whose namespace is not there is absent
/// from the survey.
pub fn survey(node: &str, cts: &[(String, NetnsSource)]) -> Result<Survey> {
    let node_ns = NsRef::Node(Name::from(node));
    let mut map = NamespaceMap::explicit().with(node_ns.clone(), NsLocation::Current);
    let mut refs = vec![node_ns.clone()];
    for (ct, source) in cts {
        let ns = NsRef::Ct(Name::from(ct.as_str()));
        map = map.with_source(ns.clone(), source.clone());
        refs.push(ns);
    }
    let mut session = Session::new(&map, RequestCounter::new());
    let state = observe::observe(&mut session, &refs)?;
    let cables = cables(&mut session, &node_ns, &state)?;
    let present: Vec<NsRef> = refs
        .into_iter()
        .filter(|ns| state.namespaces.contains_key(ns))
        .collect();
    let nat = nat::masquerades(&mut session, &present)?;
    let netns = cts
        .iter()
        .filter(|(ct, source)| *source != NetnsSource::Name(ct.clone()))
        .map(|(ct, source)| (ct.clone(), source.to_string()))
        .collect();
    Ok(Survey {
        node: node.to_string(),
        state,
        cables,
        nat,
        netns,
    })
}

/// A veth end: its index in its namespace and its peer's index (in the peer's).
type End = (u32, Option<u32>);

/// The veth pairs with one end in a container and the other on the node: (container,
/// its end) -> the node's end. The kernel names a peer in another namespace only by its
/// index there; an end pairs with the node's link whose index is its peer's and whose
/// peer's index is its own (both ways, so a peer in a third namespace that happens to
/// have a matching index on one side is not taken for the node's).
fn cables(
    session: &mut Session<'_>,
    node: &NsRef,
    state: &ObservedState,
) -> Result<BTreeMap<(String, String), String>> {
    let mut ends: BTreeMap<&NsRef, Vec<(&str, End)>> = BTreeMap::new();
    for (ns, o) in &state.namespaces {
        for (name, l) in &o.links {
            if l.kind != LinkKind::Veth {
                continue;
            }
            let h = session.require(ns)?;
            let end = (h.index_of(ns, name)?, h.peer_index_of(ns, name)?);
            ends.entry(ns).or_default().push((name, end));
        }
    }
    let on_node: BTreeMap<u32, (&str, Option<u32>)> = ends
        .get(node)
        .into_iter()
        .flatten()
        .map(|(name, (index, peer))| (*index, (*name, *peer)))
        .collect();
    let mut out = BTreeMap::new();
    for (ns, list) in &ends {
        let NsRef::Ct(ct) = ns else { continue };
        for (name, (index, peer)) in list {
            let Some((host, back)) = peer.and_then(|p| on_node.get(&p)) else {
                continue;
            };
            if *back == Some(*index) {
                out.insert((ct.to_string(), name.to_string()), host.to_string());
            }
        }
    }
    Ok(out)
}
