//! What `vnet start`, `vnet stop` and `vnet status` share: where they work (the sandbox,
//! or this machine as one real node), where a container runs now, which plan steps and
//! which differences are its own, and how it is stopped.
//!
//! On a real node (`--node N --this-host`) the machine's own network namespace is node
//! `N` and each container's network namespace is the named namespace
//! `/run/netns/<container>` (as `ip netns add` makes it, or `ip netns attach <ct> <pid>`
//! names a running OpenVZ/LXC container's). The container's runtime owns that namespace:
//! vnet never creates or deletes it there, it only builds and removes the container's
//! cables (veth pairs, a NIC passed in) and what lives on them.

use anyhow::anyhow;
use std::time::{Duration, Instant};
use vnet_core::plan::Name;

use vnet_backend_netlink::verify::Mismatch;
use vnet_backend_netlink::{ApplyOptions, Backend};
use vnet_core::model::Container;
use vnet_core::observed::ObservedState;
use vnet_core::plan::{Action, NsRef, Plan, Scope, Step};
use vnet_core::{CtObjects, PlacementError, ValidTopology};

use crate::exit::{Exit, Failure};
use crate::sandbox::{backend_failure, parse_prefix, Resolved, Target, DEFAULT_PREFIX};

/// How long a stop waits for the kernel to remove the host ends of a deleted
/// namespace's veth pairs (it does so asynchronously, a little after the delete).
pub const GONE_WAIT: Duration = Duration::from_secs(3);

/// Where the per-container commands work: the sandbox, or this machine as a real node.
#[derive(Debug, Clone, clap::Args)]
pub struct Where {
    /// The topology runs as network namespaces on this machine (`<prefix>-<name>`).
    #[arg(long, conflicts_with = "this_host")]
    pub sandbox: bool,
    /// The sandbox's namespace name prefix.
    #[arg(long, default_value = DEFAULT_PREFIX, value_parser = parse_prefix)]
    pub prefix: String,
    /// This machine is the node given with --node: vnet changes the network namespace
    /// it runs in (the node's bridges, the containers' host ends). Each container's
    /// namespace is `/run/netns/<container>`, made by its runtime (`ip netns attach CT
    /// PID`) or `ip netns add`; vnet never creates or deletes it on a node.
    #[arg(long)]
    pub this_host: bool,
}

impl Where {
    /// The target: the sandbox, or this host as `node` (which needs --this-host, the
    /// explicit consent to change the namespace vnet runs in). Neither is a usage error
    /// (exit 2), so nothing runs by accident on the machine itself.
    pub fn resolve(&self, t: &ValidTopology, node: Option<&str>) -> Result<Resolved, Failure> {
        if self.sandbox {
            return Target::sandbox(&self.prefix).resolve(t);
        }
        match (node, self.this_host) {
            (Some(node), true) => Target {
                sandbox: false,
                prefix: self.prefix.clone(),
                node: Some(node.to_string()),
                this_host: true,
            }
            .resolve(t),
            (Some(node), false) => Err(Failure::usage(anyhow!(
                "--node {node} without --sandbox works on the machine vnet runs on; add \
                 --this-host to confirm that this machine is node {node}, or use --sandbox"
            ))),
            (None, _) => Err(Failure::usage(anyhow!(
                "say where the containers run: --sandbox (namespaces {}-<name> on this \
                 machine), or --node NODE --this-host (this machine is NODE, each \
                 container's namespace is /run/netns/<container>)",
                self.prefix
            ))),
        }
    }
}

/// The node this host is, on a real node (`None` in the sandbox).
pub fn this_node(target: &Resolved) -> Option<&str> {
    match &target.scope {
        Scope::Sandbox => None,
        Scope::Node(n) => Some(n),
    }
}

/// The scope a container on `node` is planned in: the sandbox, or that real node. On a
/// real node only this host's node can be worked on (usage error, exit 2, otherwise).
pub fn scope_on(target: &Resolved, node: &str) -> Result<Scope, Failure> {
    match this_node(target) {
        None => Ok(Scope::Sandbox),
        Some(here) if here == node => Ok(Scope::Node(node.to_string())),
        Some(here) => Err(Failure::usage(anyhow!(
            "this host is node {here}: it cannot start containers on node {node}"
        ))),
    }
}

/// `CT... FILE` split into the containers and the file (a usage error without both).
pub fn split_words(words: &[String]) -> Result<(&[String], &str), Failure> {
    match words.split_last() {
        Some((file, cts)) if !cts.is_empty() => Ok((cts, file.as_str())),
        _ => Err(Failure::usage(anyhow!(
            "name the containers and then the topology file: CT... FILE"
        ))),
    }
}

/// The container named `name`, or invalid input (exit 1).
pub fn container<'a>(t: &'a ValidTopology, name: &str) -> Result<&'a Container, Failure> {
    t.topology()
        .ct
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Failure::invalid(anyhow!("topology {} has no container {name}", t.name())))
}

/// The topology with `ct` on `node`: an unknown container is invalid input (1), a node
/// it may not run on a usage error (2).
pub fn placed(t: &ValidTopology, ct: &str, node: &str) -> Result<ValidTopology, Failure> {
    t.placed(ct, node).map_err(|e| match e {
        PlacementError::NoContainer { .. } => Failure::invalid(e),
        PlacementError::NotItsNode { .. } => Failure::usage(e),
    })
}

/// Where a container is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whereabouts {
    /// Its namespace exists.
    pub ns_exists: bool,
    /// The namespace carries this topology's mark (vnet made it).
    pub ours: bool,
    /// The first of its nodes that holds one of its host-side cables.
    pub node: Option<String>,
    /// Its namespace holds links (other than `lo`) marked by this topology: its cables'
    /// inner ends or a NIC passed in.
    pub links_inside: bool,
}

impl Whereabouts {
    /// Running: its namespace is there and is ours.
    pub fn running(&self) -> bool {
        self.ns_exists && self.ours
    }
}

/// Where `ct` is in `observed`.
pub fn whereabouts(t: &ValidTopology, ct: &Container, observed: &ObservedState) -> Whereabouts {
    let ns = observed.namespaces.get(&NsRef::Ct(Name::from(&ct.name)));
    let node = t
        .ct_nodes(ct)
        .into_iter()
        .find(|n| {
            let node_ns = NsRef::Node(Name::from(*n));
            let objects = t.ct_objects(&ct.name, n, &Scope::Sandbox);
            observed.namespaces.get(&node_ns).is_some_and(|o| {
                objects
                    .links
                    .iter()
                    .any(|(ns, link)| *ns == node_ns && o.links.contains_key(link))
            })
        })
        .map(str::to_string);
    Whereabouts {
        ns_exists: ns.is_some(),
        ours: ns.is_some_and(|o| o.owner.as_deref() == Some(t.name())),
        node,
        links_inside: ns.is_some_and(|o| {
            o.links
                .iter()
                .any(|(name, l)| name != "lo" && l.owner.as_deref() == Some(t.name()))
        }),
    }
}

/// Where `ct` is in `observed` on real node `here` (this host): its namespace, and
/// whether any of its veth pairs has its host end here or any link of this topology is
/// inside its namespace (then `node` is `here`). Unlike [`whereabouts`], a NIC device
/// in the node's namespace does not count: that is where a NIC rests when no container
/// holds it.
pub fn whereabouts_on_node(
    t: &ValidTopology,
    ct: &Container,
    observed: &ObservedState,
    here: &str,
) -> Whereabouts {
    let ns = observed.namespaces.get(&NsRef::Ct(Name::from(&ct.name)));
    let node_ns = observed.namespaces.get(&NsRef::Node(Name::from(here)));
    let host_end = ct
        .veth
        .iter()
        .any(|v| node_ns.is_some_and(|o| o.links.contains_key(t.veth_host_name(ct, v))));
    let links_inside = ns.is_some_and(|o| {
        o.links
            .iter()
            .any(|(name, l)| name != "lo" && l.owner.as_deref() == Some(t.name()))
    });
    Whereabouts {
        ns_exists: ns.is_some(),
        ours: false,
        node: (host_end || links_inside).then(|| here.to_string()),
        links_inside,
    }
}

/// The link an action works on, if any.
fn action_link(a: &Action) -> Option<&str> {
    use Action::*;
    match a {
        CreateLink { spec, .. } | DeleteLink { spec, .. } => Some(spec.name()),
        MoveLink { name, .. } => Some(name),
        SetMac { link, .. }
        | SetMtu { link, .. }
        | SetUp { link, .. }
        | SetDown { link, .. }
        | SetMaster { link, .. }
        | ClearMaster { link, .. }
        | AddAddress { link, .. }
        | DelAddress { link, .. } => Some(link),
        SetSysctl { sysctl, .. } => sysctl.link(),
        _ => None,
    }
}

/// Whether `a` is one of the container's own steps: anything in its namespace, and in
/// other namespaces only what works on its cables.
pub fn concerns(objects: &CtObjects, a: &Action) -> bool {
    let Some(ns) = a.ns() else { return false };
    if Some(ns) == objects.ns.as_ref() {
        return true;
    }
    action_link(a).is_some_and(|link| objects.has_link(ns, link))
}

/// Whether `a` builds something of node `node` that all its containers share (a bridge,
/// a patch, a bridge's own port or address): in the node's namespace, and not a cable of
/// any container. On a real node the first container started there brings these up.
pub fn node_shared(t: &ValidTopology, node: &str, scope: &Scope, a: &Action) -> bool {
    let node_ns = NsRef::Node(Name::from(node));
    if a.ns() != Some(&node_ns) {
        return false;
    }
    match action_link(a) {
        None => true,
        Some(link) => !t
            .topology()
            .ct
            .iter()
            .any(|c| t.ct_objects(&c.name, node, scope).has_link(&node_ns, link)),
    }
}

pub use vnet_core::lifecycle::own_mismatch;

/// The differences of `ct`'s own objects on `node` right now (`scope`: the sandbox, or
/// that real node).
pub fn drift(
    backend: &Backend,
    t: &ValidTopology,
    ct: &str,
    node: &str,
    scope: &Scope,
) -> Result<Vec<Mismatch>, Failure> {
    let placed = placed(t, ct, node)?;
    let objects = placed.ct_objects(ct, node, scope);
    let all = backend.check(&placed, scope).map_err(backend_failure)?;
    Ok(all
        .into_iter()
        .filter(|m| own_mismatch(&objects, m))
        .collect())
}

/// Stops `ct` and returns whether there was something to stop: in the sandbox see
/// [`stop_in_sandbox`], on a real node [`stop_on_node`].
pub fn stop(target: &Resolved, t: &ValidTopology, ct: &Container) -> Result<bool, Failure> {
    match this_node(target) {
        None => stop_in_sandbox(target, t, ct),
        Some(here) => stop_on_node(target, t, ct, here),
    }
}

/// Stops `ct` on this host, real node `here`: removes its own objects only (its veth
/// pairs from the node's side, a NIC moved back to the node, its routes, NAT rules and
/// forwarding switches), best effort and only what is there, so a second stop sends
/// nothing. Its namespace belongs to its runtime and stays; the node's bridges stay for
/// the other containers. A container that may not run here has nothing here to stop.
pub fn stop_on_node(
    target: &Resolved,
    t: &ValidTopology,
    ct: &Container,
    here: &str,
) -> Result<bool, Failure> {
    let Ok(view) = t.placed(&ct.name, here) else {
        return Ok(false);
    };
    let scope = Scope::Node(here.to_string());
    let objects = view.ct_objects(&ct.name, here, &scope);
    let report = target
        .backend()
        .destroy_where(&view, &scope, &|a| concerns(&objects, a))
        .map_err(backend_failure)?;
    Ok(report.applied > 0)
}

/// Stops `ct` in the sandbox: deletes its namespace when it carries this topology's
/// mark (its veth pairs and NIC stand-in go with it), then waits until the kernel has
/// removed its host ends on every node. Returns whether there was something to stop; a
/// namespace vnet did not make is refused (exit 4) and left alone.
pub fn stop_in_sandbox(
    target: &Resolved,
    t: &ValidTopology,
    ct: &Container,
) -> Result<bool, Failure> {
    let backend = target.backend();
    let observed = backend
        .observe(t, &Scope::Sandbox)
        .map_err(backend_failure)?;
    let now = whereabouts(t, ct, &observed);
    if !now.ns_exists {
        return Ok(false);
    }
    if !now.ours {
        return Err(Failure::system(anyhow!(
            "namespace {} exists but was not made by topology {}: left alone",
            NsRef::Ct(Name::from(&ct.name)).sandbox_name(target.prefix.as_deref().unwrap_or("")),
            t.name()
        )));
    }
    let plan = Plan {
        topology: t.name().to_string(),
        steps: vec![Step {
            id: 0,
            action: Action::DeleteNamespace {
                ns: NsRef::Ct(Name::from(&ct.name)),
            },
            after: Vec::new(),
            stage: 0,
        }],
    };
    backend
        .execute(&plan, &ApplyOptions::default())
        .map_err(backend_failure)?;
    let deadline = Instant::now() + GONE_WAIT;
    loop {
        let observed = backend
            .observe(t, &Scope::Sandbox)
            .map_err(backend_failure)?;
        let left = whereabouts(t, ct, &observed);
        if left.node.is_none() && !left.ns_exists {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Err(Failure {
                exit: Exit::System,
                error: Some(anyhow!(
                    "container {} stopped, but its host ends are still on node {}",
                    ct.name,
                    left.node.unwrap_or_default()
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `ct` is a gateway: a next hop of another container's route, or a subnet's
/// declared gateway (started last, after the containers that route through it).
pub fn is_gateway(t: &ValidTopology, ct: &Container) -> bool {
    let mine: Vec<std::net::IpAddr> = ct
        .veth
        .iter()
        .flat_map(|v| v.addresses.iter())
        .chain(ct.nic.iter().flat_map(|n| n.addresses.iter()))
        .chain(ct.vlan.iter().flat_map(|v| v.addresses.iter()))
        .map(|a| a.ip())
        .collect();
    let subnet_gateway = t
        .topology()
        .subnet
        .iter()
        .any(|s| s.gateway.is_some_and(|g| mine.contains(&g)));
    subnet_gateway
        || t.topology()
            .ct
            .iter()
            .filter(|o| o.name != ct.name)
            .flat_map(|o| o.route.iter())
            .any(|r| r.via.is_some_and(|via| mine.contains(&via)))
}

/// `names` in start order: leaves first, gateways last, otherwise as given.
pub fn leaves_first<'a>(t: &ValidTopology, names: &'a [String]) -> Result<Vec<&'a str>, Failure> {
    let mut keyed = Vec::new();
    for (i, n) in names.iter().enumerate() {
        keyed.push((is_gateway(t, container(t, n)?), i, n.as_str()));
    }
    keyed.sort();
    keyed.dedup_by(|a, b| a.2 == b.2);
    Ok(keyed.into_iter().map(|(_, _, n)| n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> ValidTopology {
        let text = include_str!("../../../examples/seed.toml");
        vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap()
    }

    #[test]
    fn a_real_node_needs_this_host_and_maps_every_container_that_may_run_there() {
        let t = seed();
        let at = |sandbox, this_host| Where {
            sandbox,
            prefix: DEFAULT_PREFIX.into(),
            this_host,
        };
        let nowhere = at(false, false).resolve(&t, None).unwrap_err();
        assert_eq!(nowhere.exit, Exit::Usage);
        let unconfirmed = at(false, false).resolve(&t, Some("m2")).unwrap_err();
        assert_eq!(unconfirmed.exit, Exit::Usage);
        assert!(
            unconfirmed.to_string().contains("--this-host"),
            "{unconfirmed}"
        );
        let sandbox = at(true, false).resolve(&t, Some("m2")).unwrap();
        assert_eq!(this_node(&sandbox), None);
        assert_eq!(scope_on(&sandbox, "m2").unwrap(), Scope::Sandbox);
        let m2 = at(false, true).resolve(&t, Some("m2")).unwrap();
        assert_eq!(this_node(&m2), Some("m2"));
        // mail's home is m1; it may fail over to m2, so m2 finds its namespace.
        assert_eq!(
            m2.ns_path(&NsRef::Ct("mail".into())),
            Some(std::path::PathBuf::from("/run/netns/mail"))
        );
        assert_eq!(scope_on(&m2, "m2").unwrap(), Scope::Node("m2".into()));
        assert_eq!(scope_on(&m2, "m1").unwrap_err().exit, Exit::Usage);
    }

    #[test]
    fn on_a_node_the_shared_steps_are_its_bridges_not_other_containers_cables() {
        let t = seed();
        let scope = Scope::Node("m1".into());
        let plan = vnet_core::plan::compile(&t, &scope);
        let shared: Vec<&Action> = plan
            .actions()
            .filter(|a| node_shared(&t, "m1", &scope, a))
            .collect();
        assert!(shared.iter().any(|a| matches!(a,
            Action::CreateLink { spec, .. } if spec.name() == "br0")));
        for a in &shared {
            assert_eq!(a.ns(), Some(&NsRef::Node("m1".into())), "{a:?}");
            let link = action_link(a);
            for cable in ["veth1", "veth2", "veth3", "eth1"] {
                assert_ne!(link, Some(cable), "{a:?}");
            }
        }
    }

    #[test]
    fn on_a_node_a_resting_nic_is_not_a_cable() {
        let t = seed();
        let router = container(&t, "router").unwrap();
        let up = vnet_core::plan::expected_state(&t, &Scope::Node("m1".into()));
        let now = whereabouts_on_node(&t, router, &up, "m1");
        assert!(now.ns_exists && now.links_inside, "{now:?}");
        assert_eq!(now.node.as_deref(), Some("m1"));
        // Stopped: the veth pair gone, the NIC back in the node's namespace (marked).
        let mut stopped = up.clone();
        let nic = stopped.namespaces[&NsRef::Ct("router".into())].links["eth1"].clone();
        let node = stopped
            .namespaces
            .get_mut(&NsRef::Node("m1".into()))
            .unwrap();
        node.links.remove("veth1");
        node.links.insert("eth1".into(), nic);
        let inside = stopped
            .namespaces
            .get_mut(&NsRef::Ct("router".into()))
            .unwrap();
        inside.links.retain(|name, _| name == "lo");
        let now = whereabouts_on_node(&t, router, &stopped, "m1");
        assert!(now.ns_exists && !now.links_inside, "{now:?}");
        assert_eq!(now.node, None, "a NIC resting on the node is no cable");
        // The sandbox's rule would count it: that is why the node has its own.
        assert!(whereabouts(&t, router, &stopped).node.is_some());
    }

    #[test]
    fn a_subnet_gateway_is_a_gateway_without_routes_through_it() {
        let route = "[[ct.route]]\nto = \"192.168.0.0/16\"\nvia = \"192.168.199.1\"\n";
        let seed = include_str!("../../../examples/seed.toml");
        assert!(seed.contains(route));
        let no_routes = seed.replace(route, "");
        let t = vnet_core::Document::parse(&no_routes, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        assert!(t.topology().ct.iter().all(|c| c.route.is_empty()));
        assert!(is_gateway(&t, container(&t, "router").unwrap()));
        let without_gateway = no_routes.replace("gateway = \"192.168.199.1\"\n", "");
        let t = vnet_core::Document::parse(&without_gateway, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        assert!(!is_gateway(&t, container(&t, "router").unwrap()));
    }

    #[test]
    fn the_last_word_is_the_file() {
        let words: Vec<String> = ["mail", "dbms", "seed.toml"].map(String::from).to_vec();
        let (cts, file) = split_words(&words).unwrap();
        assert_eq!(cts, ["mail", "dbms"]);
        assert_eq!(file, "seed.toml");
        assert_eq!(split_words(&words[2..]).unwrap_err().exit, Exit::Usage);
    }

    #[test]
    fn the_router_is_a_gateway_and_starts_after_its_leaves() {
        let t = seed();
        assert!(is_gateway(&t, container(&t, "router").unwrap()));
        assert!(!is_gateway(&t, container(&t, "mail").unwrap()));
        let names: Vec<String> = ["router", "mail", "dbms"].map(String::from).to_vec();
        assert_eq!(
            leaves_first(&t, &names).unwrap(),
            ["mail", "dbms", "router"]
        );
        let unknown = leaves_first(&t, &["nosuch".to_string()]).unwrap_err();
        assert_eq!(unknown.exit, Exit::Invalid);
    }

    #[test]
    fn a_containers_steps_are_its_namespace_and_its_cables_only() {
        let t = seed();
        let on_m2 = placed(&t, "mail", "m2").unwrap();
        let objects = on_m2.ct_objects("mail", "m2", &Scope::Sandbox);
        let plan = vnet_core::plan::compile(&on_m2, &Scope::Sandbox);
        let mine = plan.restricted_to(|a| concerns(&objects, a));
        assert!(!mine.is_empty());
        for a in mine.actions() {
            let ns = a.ns().unwrap();
            assert!(
                *ns == NsRef::Ct("mail".into()) || *ns == NsRef::Node("m2".into()),
                "{a:?}"
            );
        }
        assert!(mine.actions().any(|a| matches!(a,
            Action::CreateLink { ns, spec } if *ns == NsRef::Node("m2".into()) && spec.name() == "veth2")));
        assert!(mine.actions().any(
            |a| matches!(a, Action::CreateNamespace { ns } if *ns == NsRef::Ct("mail".into()))
        ));
        // Nothing of the other containers, the bridges or the LANs.
        assert!(!mine.actions().any(|a| format!("{a:?}").contains("veth3")));
        assert!(!mine.actions().any(|a| action_link(a) == Some("br0")));
        assert_eq!(
            placed(&t, "mail", "m9").unwrap_err().exit,
            Exit::Usage,
            "m9 is not one of mail's nodes"
        );
    }
}
