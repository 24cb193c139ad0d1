//! The `pacemaker` dialect: the cluster resources and constraints that let
//! Pacemaker/Corosync move containers between nodes while vnet builds their network,
//! as a `pcs` script for a production cluster.
//!
//! `pcs` rather than the crm shell: it is the cluster shell of RHEL/Fedora and is packaged
//! by Debian and Ubuntu too, and its constraint commands are one line each.
//!
//! What the script does, in order:
//!
//! - failure detection ([`timings`]): corosync's totem timings in the node's
//!   `corosync.conf` (`pcs cluster config update --corosync_conf`), then a reload;
//! - fencing ([`Fence`], required: without it a hung node and its replacement
//!   both run the containers): one `stonith:` device per node, kept off the node it
//!   fences, and `stonith-enabled=true`; the render refuses a cluster without fencing;
//! - for every container whose `netns` names a runtime with an agent ([`runtime_of`]):
//!   its own resource `ct-<name>` (`ocf:heartbeat:ManageVE` for `openvz:`,
//!   `ocf:heartbeat:lxc` for `lxc:`), started before its network and kept with it;
//! - for every container: a resource `vnet-<ct>` of the OCF agent `ocf:vnet:ct` (the
//!   agent shipped as `ocf/vnet-ct`, installed as `/usr/lib/ocf/resource.d/vnet/ct`)
//!   with the parameters `topology` (the topology file's absolute path on the nodes),
//!   `vnet` (the binary's absolute path) and `ct`, monitored every 10 s, with a
//!   `resource-stickiness` above every location score, so a container that failed over
//!   stays where it is when its home node returns (a failback is a second outage);
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

mod options;
mod runtime;
pub mod timings;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use vnet_core::model::Container;

use crate::model::Model;
use crate::script::Script;
pub use options::{key_value, Fence, PacemakerError, PacemakerOptions};
pub use runtime::{runtime_of, Runtime};
use timings::FAST;

/// The OCF agent every resource uses (`ocf:<provider>:<type>`).
pub const AGENT: &str = "ocf:vnet:ct";

/// Score of the home node in the location constraints.
const HOME_SCORE: u32 = 200;
/// Score of the first failover node; later ones get one less each.
const FAILOVER_SCORE: u32 = 100;
/// Every resource's stickiness: above the home node's score, so a running container
/// never moves back by itself.
pub const STICKINESS: u32 = 1000;
/// Pacemaker's `load-threshold`: far above any load, so a failover's starts are never
/// throttled to one at a time.
const LOAD_THRESHOLD: &str = "1000%";
/// The corosync configuration file the timings are written to, on each node.
const COROSYNC_CONF: &str = "/etc/corosync/corosync.conf";

/// The resource id of container `ct` (a valid XML id: vnet names are letters, digits
/// and dashes).
pub fn resource_id(ct: &Container) -> String {
    format!("vnet-{}", ct.name)
}

/// The fence device id of node `node`.
pub fn fence_id(node: &str) -> String {
    format!("fence-{node}")
}

/// The words of a `pcs` command.
fn pcs(words: &[&str]) -> Vec<String> {
    std::iter::once("pcs")
        .chain(words.iter().copied())
        .map(String::from)
        .collect()
}

/// The `pcs` script creating the fencing, resources and constraints for every
/// container of the topology (see the module docs). Refuses relative paths and a
/// cluster without fencing, each with the fix.
pub fn render_pacemaker(model: &Model, opts: &PacemakerOptions) -> Result<String, PacemakerError> {
    opts.check()?;
    let fence = opts.fence.as_ref().ok_or(PacemakerError::NoFencing)?;
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
        "Run once on one cluster node; the topology file and vnet must be at the same paths on every node."
            .into(),
    ]);

    script.block(&format!(
        "Failure detection: a node silent for {} ms is lost (corosync's default is 3000). \
         The file must be the same on every node (pcs cluster sync, or a copy) before the reload.",
        FAST.token
    ));
    let mut totem = pcs(&["cluster", "config", "update", "totem"]);
    totem.extend(FAST.totem_words());
    totem.extend(["--corosync_conf".to_string(), COROSYNC_CONF.into()]);
    script.command(&totem)?;
    script.command(&["corosync-cfgtool", "-R"])?;
    script.note(&format!(
        "Pacemaker runs one action at a time on a node above its load-threshold (default 80% \
         CPU): a failover on a busy node would start its containers one by one. {}",
        "A busy node recovers at full speed."
    ));
    script.command(&pcs(&[
        "property",
        "set",
        &format!("load-threshold={LOAD_THRESHOLD}"),
    ]))?;

    script.block("Fencing: one device per node, never run by the node it fences; required.");
    for node in &topology.node {
        let mut argv = pcs(&["stonith", "create", &fence_id(&node.name), &fence.agent]);
        argv.extend(
            fence
                .params
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace("{node}", &node.name))),
        );
        argv.push(format!("pcmk_host_list={}", node.name));
        argv.extend(["op", "monitor", "interval=60s"].map(String::from));
        script.command(&argv)?;
        script.command(&pcs(&[
            "constraint",
            "location",
            &fence_id(&node.name),
            "avoids",
            &node.name,
        ]))?;
    }
    script.command(&pcs(&["property", "set", "stonith-enabled=true"]))?;

    let runtimes = container_resources(&mut script, &cts)?;

    script.block("Networks: one resource per container.");
    for ct in &cts {
        let mut argv = pcs(&["resource", "create", &resource_id(ct), AGENT]);
        argv.push(format!("topology={}", opts.topology.display()));
        argv.push(format!("vnet={}", opts.vnet.display()));
        argv.push(format!("ct={}", ct.name));
        argv.extend(opts.agent_params.iter().map(|(k, v)| format!("{k}={v}")));
        argv.extend(
            [
                "op",
                "monitor",
                "interval=10s",
                "timeout=20s",
                "op",
                "start",
                "timeout=60s",
                "op",
                "stop",
                "timeout=60s",
                "meta",
            ]
            .map(String::from),
        );
        argv.push(format!("resource-stickiness={STICKINESS}"));
        script.command(&argv)?;
    }

    script.block("Placement: home node first, then the failover nodes in order; never elsewhere.");
    for ct in &cts {
        placement(&mut script, model, ct, &resource_id(ct))?;
        if let Some(r) = runtimes.get(&ct.id) {
            placement(&mut script, model, ct, &r.id)?;
        }
    }

    if !runtimes.is_empty() {
        script
            .block("Each container starts before its network, and its network runs where it runs.");
        for ct in &cts {
            let Some(r) = runtimes.get(&ct.id) else {
                continue;
            };
            script.command(&pcs(&[
                "constraint",
                "order",
                "start",
                &r.id,
                "then",
                "start",
                &resource_id(ct),
            ]))?;
            script.command(&pcs(&[
                "constraint",
                "colocation",
                "add",
                &resource_id(ct),
                "with",
                &r.id,
                "INFINITY",
            ]))?;
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
            script.command(&pcs(&[
                "constraint",
                "colocation",
                "add",
                &resource_id(leaf),
                "with",
                &resource_id(router),
                "INFINITY",
            ]))?;
            script.command(&pcs(&[
                "constraint",
                "order",
                "start",
                &resource_id(leaf),
                "then",
                "start",
                &resource_id(router),
                "kind=Optional",
            ]))?;
        }
    }
    Ok(script.finish())
}

/// The containers' own resources (where their `netns` names a runtime with an agent),
/// by container id; a note for each container whose runtime has none.
fn container_resources(
    script: &mut Script,
    cts: &[&Container],
) -> Result<BTreeMap<u32, Runtime>, PacemakerError> {
    let mut found = BTreeMap::new();
    let mut notes = Vec::new();
    for ct in cts {
        match runtime_of(ct) {
            Ok(Some(r)) => {
                found.insert(ct.id, r);
            }
            Ok(None) => {}
            Err(kind) => notes.push(format!(
                "{}: netns {kind}: has no resource agent here; its runtime must start it before vnet-{}.",
                ct.name, ct.name
            )),
        }
    }
    if found.is_empty() && notes.is_empty() {
        return Ok(found);
    }
    script.block("Containers: the runtime named by each container's netns runs it.");
    for note in &notes {
        script.note(note);
    }
    for ct in cts {
        let Some(r) = found.get(&ct.id) else {
            continue;
        };
        let mut argv = pcs(&["resource", "create", &r.id, r.agent]);
        argv.extend(r.params.iter().cloned());
        argv.extend(["op", "monitor", "interval=10s", "timeout=20s", "meta"].map(String::from));
        argv.push(format!("resource-stickiness={STICKINESS}"));
        script.command(&argv)?;
    }
    Ok(found)
}

/// The location constraints of resource `id` of container `ct`: prefers its home and
/// failover nodes, avoids every other node.
fn placement(
    script: &mut Script,
    model: &Model,
    ct: &Container,
    id: &str,
) -> Result<(), PacemakerError> {
    let mut prefers = Vec::new();
    if let Some(home) = model.home_node(ct) {
        prefers.push(format!("{home}={HOME_SCORE}"));
    }
    for (i, node) in ct.failover.iter().enumerate() {
        let score = FAILOVER_SCORE.saturating_sub(i as u32).max(1);
        prefers.push(format!("{node}={score}"));
    }
    if !prefers.is_empty() {
        let mut argv = pcs(&["constraint", "location", id, "prefers"]);
        argv.extend(prefers);
        script.command(&argv)?;
    }
    let avoids: Vec<String> = model
        .topology()
        .node
        .iter()
        .map(|n| n.name.clone())
        .filter(|n| !model.may_run_on(ct, n))
        .collect();
    if !avoids.is_empty() {
        let mut argv = pcs(&["constraint", "location", id, "avoids"]);
        argv.extend(avoids);
        script.command(&argv)?;
    }
    Ok(())
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

    fn seed_model_options() -> (vnet_core::ValidTopology, PacemakerOptions) {
        let seed = include_str!("../../examples/seed.toml");
        let valid = Document::parse(seed, Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let opts = PacemakerOptions {
            topology: "/etc/vnet/seed.toml".into(),
            vnet: "/usr/bin/vnet".into(),
            fence: Some(Fence {
                agent: "fence_ipmilan".into(),
                params: vec![("ip".into(), "{node}-ipmi".into())],
            }),
            agent_params: Vec::new(),
        };
        (valid, opts)
    }

    #[test]
    fn refuses_relative_paths_and_no_fencing_with_the_fix() {
        let (valid, opts) = seed_model_options();
        let model = Model::new(&valid);
        let relative = PacemakerOptions {
            topology: "examples/seed.toml".into(),
            ..opts.clone()
        };
        let e = render_pacemaker(&model, &relative).unwrap_err().to_string();
        assert!(e.contains("relative") && e.contains("absolute path"), "{e}");
        let bare_vnet = PacemakerOptions {
            vnet: "vnet".into(),
            ..opts.clone()
        };
        let e = render_pacemaker(&model, &bare_vnet)
            .unwrap_err()
            .to_string();
        assert!(e.contains("absolute path"), "{e}");
        let unfenced = PacemakerOptions {
            fence: None,
            ..opts.clone()
        };
        let e = render_pacemaker(&model, &unfenced).unwrap_err().to_string();
        assert!(
            e.contains("no fencing") && e.contains("--fence-agent"),
            "{e}"
        );
        let bad = PacemakerOptions {
            agent_params: vec![("a b".into(), "1".into())],
            ..opts
        };
        assert!(matches!(
            render_pacemaker(&model, &bad),
            Err(PacemakerError::BadParam(_))
        ));
    }

    #[test]
    fn fencing_is_enabled_and_never_disabled() {
        let (valid, opts) = seed_model_options();
        let script = render_pacemaker(&Model::new(&valid), &opts).unwrap();
        assert!(script.contains("pcs property set stonith-enabled=true"));
        assert!(!script.contains("stonith-enabled=false"));
        assert!(script
            .contains("pcs stonith create fence-m2 fence_ipmilan ip=m2-ipmi pcmk_host_list=m2"));
        assert!(script.contains("pcs constraint location fence-m2 avoids m2"));
        assert_eq!(
            script
                .matches(&format!("resource-stickiness={STICKINESS}"))
                .count(),
            3
        );
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
