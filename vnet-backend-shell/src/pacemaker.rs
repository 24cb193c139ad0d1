//! The `pacemaker` dialect: the cluster resources and constraints that let
//! Pacemaker/Corosync move containers between nodes while vnet builds their network,
//! as a `pcs` script.
//!
//! `pcs` rather than the crm shell: it is the cluster shell of RHEL/Fedora and is packaged
//! by Debian and Ubuntu too, and its constraint commands are one line each.
//!
//! What the script creates, for every container:
//!
//! - a resource `vnet-<ct>` of the OCF agent `ocf:vnet:ct` (the agent shipped as
//!   `ocf/vnet-ct`, installed as `/usr/lib/ocf/resource.d/vnet/ct`) with the parameters
//!   `topology` (the topology file as given to `vnet render`, which must be where the
//!   nodes read it) and `ct` (the container's name), monitored every 10 s;
//! - location preferences: the home node 200, the failover nodes 100, 99, ... in the
//!   order written, and `avoids` for every other node of the topology (vnet renders no
//!   network for a container there);
//! - for every *leaf* and each of its *routers* (a container that owns the next hop of
//!   one of the leaf's routes, or the gateway of a subnet the leaf has an address in): a
//!   colocation of the leaf with the router (`INFINITY`: a leaf cut off from its gateway
//!   is useless), and an optional ordering "start the leaf, then the router". Leaves
//!   first, gateway last: a router started before its leaves answers the first forwarded
//!   packet with an INCOMPLETE ARP entry and retries only after a second (issue 7's 1 s
//!   outage). The ordering is `kind=Optional`: it orders the starts of one transition (a
//!   failover) without stopping the router whenever a leaf fails.
//!
//! A pair of containers that are each other's router gets only the colocation and
//! ordering with the lower id as the leaf, so the constraints never form a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use vnet_core::model::Container;

use crate::error::ShellError;
use crate::model::Model;
use crate::script::Script;

/// The OCF agent every resource uses (`ocf:<provider>:<type>`).
pub const AGENT: &str = "ocf:vnet:ct";

/// Score of the home node in the location constraints.
const HOME_SCORE: u32 = 200;
/// Score of the first failover node; later ones get one less each.
const FAILOVER_SCORE: u32 = 100;

/// The resource id of container `ct` (a valid XML id: vnet names are letters, digits
/// and dashes).
pub fn resource_id(ct: &Container) -> String {
    format!("vnet-{}", ct.name)
}

/// The `pcs` script creating the resources and constraints for every container of the
/// topology; `topology_path` is the topology file's path on the cluster nodes.
pub fn render_pacemaker(model: &Model, topology_path: &str) -> Result<String, ShellError> {
    let topology = model.topology();
    let mut cts: Vec<&Container> = topology.ct.iter().collect();
    cts.sort_by_key(|c| c.id);
    let mut script = Script::new(&[
        format!(
            "Pacemaker resources for topology {} ({} containers), for pcs.",
            model.name(),
            cts.len()
        ),
        format!("Each container is an {AGENT} resource (agent: ocf/vnet-ct in vnet's sources)."),
        "Run once on one cluster node; the topology file must be at the same path on every node."
            .into(),
    ]);

    script.block("Resources: one per container.");
    for ct in &cts {
        script.command(&[
            "pcs".to_string(),
            "resource".into(),
            "create".into(),
            resource_id(ct),
            AGENT.into(),
            format!("topology={topology_path}"),
            format!("ct={}", ct.name),
            "op".into(),
            "monitor".into(),
            "interval=10s".into(),
            "timeout=20s".into(),
            "op".into(),
            "start".into(),
            "timeout=60s".into(),
            "op".into(),
            "stop".into(),
            "timeout=60s".into(),
        ])?;
    }

    script.block("Placement: home node first, then the failover nodes in order; never elsewhere.");
    for ct in &cts {
        let mut prefers = Vec::new();
        if let Some(home) = model.home_node(ct) {
            prefers.push(format!("{home}={HOME_SCORE}"));
        }
        for (i, node) in ct.failover.iter().enumerate() {
            let score = FAILOVER_SCORE.saturating_sub(i as u32).max(1);
            prefers.push(format!("{node}={score}"));
        }
        if !prefers.is_empty() {
            let mut argv = vec![
                "pcs".to_string(),
                "constraint".into(),
                "location".into(),
                resource_id(ct),
                "prefers".into(),
            ];
            argv.extend(prefers);
            script.command(&argv)?;
        }
        let avoids: Vec<String> = topology
            .node
            .iter()
            .map(|n| n.name.clone())
            .filter(|n| !model.may_run_on(ct, n))
            .collect();
        if !avoids.is_empty() {
            let mut argv = vec![
                "pcs".to_string(),
                "constraint".into(),
                "location".into(),
                resource_id(ct),
                "avoids".into(),
            ];
            argv.extend(avoids);
            script.command(&argv)?;
        }
    }

    let edges = leaf_router_pairs(model);
    if !edges.is_empty() {
        script.block(
            "Each leaf runs where its router runs; on a move leaves start first, the router last.",
        );
        let by_id: BTreeMap<u32, &Container> = cts.iter().map(|c| (c.id, *c)).collect();
        for (leaf, router) in &edges {
            let (leaf, router) = (by_id[leaf], by_id[router]);
            script.note(&format!("{} routes through {}.", leaf.name, router.name));
            script.command(&[
                "pcs".to_string(),
                "constraint".into(),
                "colocation".into(),
                "add".into(),
                resource_id(leaf),
                "with".into(),
                resource_id(router),
                "INFINITY".into(),
            ])?;
            script.command(&[
                "pcs".to_string(),
                "constraint".into(),
                "order".into(),
                "start".into(),
                resource_id(leaf),
                "then".into(),
                "start".into(),
                resource_id(router),
                "kind=Optional".into(),
            ])?;
        }
    }
    Ok(script.finish())
}

/// Every (leaf id, router id) pair, sorted: the router owns the next hop of one of the
/// leaf's routes or the gateway of a subnet one of the leaf's addresses is in. Mutual
/// pairs keep only the direction with the lower id as the leaf.
pub fn leaf_router_pairs(model: &Model) -> BTreeSet<(u32, u32)> {
    let topology = model.topology();
    let mut owner: BTreeMap<IpAddr, u32> = BTreeMap::new();
    for ct in &topology.ct {
        let nets = ct
            .veth
            .iter()
            .flat_map(|v| &v.addresses)
            .chain(ct.nic.iter().flat_map(|n| &n.addresses))
            .chain(ct.vlan.iter().flat_map(|v| &v.addresses));
        for net in nets {
            owner.entry(net.ip()).or_insert(ct.id);
        }
    }
    let mut pairs = BTreeSet::new();
    for ct in &topology.ct {
        let mut hops: Vec<IpAddr> = ct.route.iter().filter_map(|r| r.via).collect();
        let nets = ct
            .veth
            .iter()
            .flat_map(|v| &v.addresses)
            .chain(ct.nic.iter().flat_map(|n| &n.addresses))
            .chain(ct.vlan.iter().flat_map(|v| &v.addresses));
        for net in nets {
            hops.extend(
                topology
                    .subnet
                    .iter()
                    .filter(|s| s.cidr.contains(net.ip()))
                    .filter_map(|s| s.gateway),
            );
        }
        for hop in hops {
            if let Some(&router) = owner.get(&hop) {
                if router != ct.id {
                    pairs.insert((ct.id, router));
                }
            }
        }
    }
    let mutual: Vec<(u32, u32)> = pairs
        .iter()
        .filter(|(l, r)| l > r && pairs.contains(&(*r, *l)))
        .copied()
        .collect();
    for p in mutual {
        pairs.remove(&p);
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::{Document, Format};

    #[test]
    fn seed_leaves_route_through_the_router_only() {
        let seed = include_str!("../../examples/seed.toml");
        let valid = Document::parse(seed, Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let pairs = leaf_router_pairs(&Model::new(&valid));
        assert_eq!(pairs, BTreeSet::from([(102, 101), (103, 101)]));
    }

    #[test]
    fn mutual_routers_keep_one_direction() {
        let text = r#"
name = "pair"
[[node]]
name = "m1"
[[bridge]]
name = "br0"
[[subnet]]
cidr = "198.18.0.0/24"
bridge = "br0"
[[ct]]
id = 1
name = "a"
[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.0.1/24"]
[[ct.route]]
to = "198.19.2.0/24"
via = "198.18.0.2"
[[ct]]
id = 2
name = "b"
[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.0.2/24"]
[[ct.route]]
to = "198.19.1.0/24"
via = "198.18.0.1"
"#;
        let doc = Document::parse(text, Format::Toml).unwrap();
        let model = Model::unchecked(&doc.topology);
        assert_eq!(leaf_router_pairs(&model), BTreeSet::from([(1, 2)]));
    }
}
