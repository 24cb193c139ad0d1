//! The move to the failover node, planned before the failure and executed after it
//! (`--mover in-process`; with `cli` or `ocf` only the waves are used, to order the
//! processes of [`super::external`]).
//!
//! Each moving container's steps on the failover node depend only on the topology: its
//! namespace, its veth pairs with their host ends on that node's bridges, its NIC, its
//! addresses, routes and forwarding (the planner's from-scratch plan for the topology
//! with the container placed there, cut to the container's own steps as `vnet start`
//! cuts its repair plan, [`vnet_core::lifecycle::start_plan`]). So they are planned while the
//! home node is healthy ([`prepare`], its time reported as `prepare_ms`), and at the
//! failure only executed ([`execute`]): the run measures the network's share of the
//! outage, not the planner's. Containers start in waves (every leaf at once, then the
//! gateways; or the gateways first), a thread per container. After the run has
//! measured, [`verify`] checks every moved container's own objects against the
//! topology (drift is exit 3).

use anyhow::anyhow;
use std::time::Instant;

use vnet_backend_netlink::ApplyOptions;
use vnet_core::plan::{compile, Plan, Scope};
use vnet_core::ValidTopology;

use crate::exit::{Exit, Failure};
use crate::sandbox::{backend_failure, Resolved};
use crate::sandbox::{container, placed};
use vnet_core::lifecycle::{is_gateway, start_plan};

/// What does the move at the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mover {
    /// This process executes the steps planned before the failure ([`execute`]).
    InProcess,
    /// A `vnet start` process, as an admin runs it ([`super::external`]).
    Cli,
    /// The OCF agent's start and monitor in Pacemaker's order ([`super::external`]).
    Ocf,
}

/// One container's steps on the failover node.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The container.
    pub name: String,
    /// Its own steps, from scratch.
    pub plan: Plan,
}

/// The steps of `order`'s containers on `node`, in waves that start together:
/// consecutive containers of the same kind (gateway or leaf).
pub fn prepare(
    t: &ValidTopology,
    order: &[String],
    node: &str,
) -> Result<Vec<Vec<Prepared>>, Failure> {
    let mut waves: Vec<Vec<Prepared>> = Vec::new();
    let mut last_kind = None;
    for name in order {
        let placed = placed(t, name, node)?;
        let full = compile(&placed, &Scope::Sandbox);
        let plan = start_plan(&placed, &full, name, node, &Scope::Sandbox);
        let kind = is_gateway(t, container(t, name)?);
        let p = Prepared {
            name: name.clone(),
            plan,
        };
        match waves.last_mut() {
            Some(w) if last_kind == Some(kind) => w.push(p),
            _ => waves.push(vec![p]),
        }
        last_kind = Some(kind);
    }
    Ok(waves)
}

/// Executes one wave, each container's plan on its own thread; returns each one's time
/// in milliseconds, in the wave's order.
pub fn execute(target: &Resolved, wave: &[Prepared]) -> Result<Vec<u128>, Failure> {
    let results: Vec<Result<u128, Failure>> = std::thread::scope(|s| {
        let handles: Vec<_> = wave
            .iter()
            .map(|p| {
                s.spawn(move || {
                    let begin = Instant::now();
                    target
                        .backend()
                        .execute(&p.plan, &ApplyOptions::default())
                        .map_err(backend_failure)?;
                    Ok(begin.elapsed().as_millis())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Failure::system(anyhow!("start thread panicked"))))
            })
            .collect()
    });
    results.into_iter().collect()
}

/// Checks that each of `names`, now on `node`, matches the topology in its own
/// objects (drift: exit 3, naming every difference).
pub fn verify(
    t: &ValidTopology,
    target: &Resolved,
    names: &[String],
    node: &str,
) -> Result<(), Failure> {
    let backend = target.backend();
    for name in names {
        // An unknown container or node is the caller's error (exit 1 or 2), not drift.
        placed(t, name, node)?;
        let drift: Vec<String> = backend
            .own_drift(t, name, node, &Scope::Sandbox)
            .map_err(backend_failure)?
            .iter()
            .map(ToString::to_string)
            .collect();
        if !drift.is_empty() {
            return Err(Failure {
                exit: Exit::Drift,
                error: Some(anyhow!(
                    "after the move, container {name} on {node} differs from the topology: {}",
                    drift.join("; ")
                )),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::plan::{Action, NsRef};

    #[test]
    fn leaves_start_together_then_the_gateway_each_with_its_own_steps() {
        let text = include_str!("../../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let waves = prepare(&t, &names(&["mail", "dbms", "router"]), "m2").unwrap();
        let shape: Vec<Vec<&str>> = waves
            .iter()
            .map(|w| w.iter().map(|p| p.name.as_str()).collect())
            .collect();
        assert_eq!(shape, [vec!["mail", "dbms"], vec!["router"]]);
        let gw = prepare(&t, &names(&["router", "mail", "dbms"]), "m2").unwrap();
        assert_eq!(gw.len(), 2);
        assert_eq!(gw[0][0].name, "router");
        // Mail's plan makes its namespace and its cable on m2, nothing of the others.
        let mail = &waves[0][0].plan;
        assert!(mail.actions().any(
            |a| matches!(a, Action::CreateNamespace { ns } if *ns == NsRef::Ct("mail".into()))
        ));
        assert!(mail.actions().any(|a| matches!(a,
            Action::CreateLink { ns, spec } if *ns == NsRef::Node("m2".into()) && spec.name() == "veth2")));
        assert!(!mail.actions().any(|a| format!("{a:?}").contains("veth3")));
        assert!(!mail
            .actions()
            .any(|a| a.ns() == Some(&NsRef::Node("m1".into()))));
        // The router brings its uplink's switch port on the LAN.
        let router = &waves[1][0].plan;
        assert!(router
            .actions()
            .any(|a| a.ns() == Some(&NsRef::Lan("lan46".into()))));
        assert!(prepare(&t, &names(&["mail"]), "m9").is_err());
    }
}
