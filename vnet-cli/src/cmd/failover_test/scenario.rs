//! Who pings whom and which containers move where: the observer (a LAN host), the
//! address it pings, the failing node, the failover node, the containers homed on the
//! failing node in start order (leaves first, or the gateways first), and when each
//! moved interface is announced.

use anyhow::anyhow;
use std::net::IpAddr;
use std::time::Duration;

use vnet_core::model::Container;
use vnet_core::ValidTopology;

use super::Args;
use crate::exit::Failure;
use crate::sandbox::{container, placed};
use vnet_core::lifecycle::{is_gateway, leaves_first};

/// The failover scenario of one topology.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The LAN host that pings.
    pub from: String,
    /// The address it pings.
    pub to: IpAddr,
    /// The node that fails.
    pub home: String,
    /// The node the containers move to.
    pub failover: String,
    /// The containers homed on the failing node, in start order.
    pub order: Vec<String>,
    /// When to announce each moved interface after its port forwards (empty: never).
    pub schedule: Vec<Duration>,
}

impl Scenario {
    /// The scenario `args` ask for in `t`: an unknown `--from` is a usage error, a
    /// topology without a LAN host, an addressed leaf or a failover node invalid input.
    pub fn new(t: &ValidTopology, args: &Args) -> Result<Scenario, Failure> {
        let topo = t.topology();
        let hosts: Vec<&str> = topo
            .lan
            .iter()
            .flat_map(|l| l.host.iter())
            .map(|h| h.name.as_str())
            .collect();
        let from = match &args.from {
            Some(h) if hosts.contains(&h.as_str()) => h.clone(),
            Some(h) => {
                return Err(Failure::usage(anyhow!(
                    "topology {} has no LAN host {h}",
                    t.name()
                )))
            }
            None => hosts.first().map(|h| h.to_string()).ok_or_else(|| {
                Failure::invalid(anyhow!(
                    "topology {} has no LAN host to ping from",
                    t.name()
                ))
            })?,
        };
        let leaf = topo.ct.iter().find(|c| !is_gateway(t, c));
        let to = match args.target {
            Some(a) => a,
            None => leaf.and_then(first_address).ok_or_else(|| {
                Failure::invalid(anyhow!("no addressed non-gateway container to ping"))
            })?,
        };
        let mover = leaf
            .or(topo.ct.first())
            .ok_or_else(|| Failure::invalid(anyhow!("topology {} has no container", t.name())))?;
        let home = home_of(t, mover)
            .ok_or_else(|| Failure::invalid(anyhow!("container {} has no node", mover.name)))?;
        let homed: Vec<&Container> = topo
            .ct
            .iter()
            .filter(|c| home_of(t, c).as_deref() == Some(home.as_str()))
            .collect();
        let failover = mover.failover.first().cloned().ok_or_else(|| {
            Failure::invalid(anyhow!("container {} has no failover node", mover.name))
        })?;
        let names: Vec<String> = homed.iter().map(|c| c.name.clone()).collect();
        for n in &names {
            placed(t, n, &failover)?;
        }
        let mut order: Vec<String> = leaves_first(t, &names)
            .map_err(Failure::invalid)?
            .into_iter()
            .map(str::to_string)
            .collect();
        if args.gateway_first {
            // Gateways first, then the leaves, each group in its leaves-first order.
            let (gw, leaves): (Vec<String>, Vec<String>) = order
                .into_iter()
                .partition(|n| container(t, n).is_ok_and(|c| is_gateway(t, c)));
            order = gw.into_iter().chain(leaves).collect();
        }
        let schedule = if args.no_announce {
            Vec::new()
        } else if args.mover == super::mover::Mover::Ocf {
            // The agent runs `vnet start` with its default schedule.
            vnet_backend_netlink::StartOptions::default().schedule
        } else {
            let mut ms = args.announce_schedule.clone();
            ms.sort_unstable();
            ms.dedup();
            ms.into_iter().map(Duration::from_millis).collect()
        };
        Ok(Scenario {
            from,
            to,
            home,
            failover,
            order,
            schedule,
        })
    }
}

/// A container's first address (veth, then NIC, then VLAN).
fn first_address(c: &Container) -> Option<IpAddr> {
    c.veth
        .iter()
        .flat_map(|v| v.addresses.iter())
        .chain(c.nic.iter().flat_map(|n| n.addresses.iter()))
        .chain(c.vlan.iter().flat_map(|v| v.addresses.iter()))
        .map(|a| a.ip())
        .next()
}

/// A container's home node: the declared one, else the first it may run on.
fn home_of(t: &ValidTopology, c: &Container) -> Option<String> {
    c.node
        .clone()
        .or_else(|| t.ct_nodes(c).first().map(|n| n.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn args(extra: &[&str]) -> Args {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrap {
            #[command(flatten)]
            a: Args,
        }
        let mut argv = vec!["vnet", "seed.toml"];
        argv.extend_from_slice(extra);
        Wrap::parse_from(argv).a
    }

    #[test]
    fn the_seed_moves_all_of_m1_to_m2_leaves_first() {
        let text = include_str!("../../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let s = Scenario::new(&t, &args(&[])).unwrap();
        assert_eq!(s.from, "gw46");
        assert_eq!(s.to, "192.168.199.2".parse::<IpAddr>().unwrap());
        assert_eq!((s.home.as_str(), s.failover.as_str()), ("m1", "m2"));
        assert_eq!(s.order, ["mail", "dbms", "router"]);
        let ms: Vec<u128> = s.schedule.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 20, 200, 1000, 5000], "the issue's schedule");
        let g = Scenario::new(&t, &args(&["--gateway-first", "--no-announce"])).unwrap();
        assert_eq!(g.order, ["router", "mail", "dbms"]);
        assert!(g.schedule.is_empty());
        assert!(Scenario::new(&t, &args(&["--from", "nosuch"])).is_err());
        let ocf = Scenario::new(&t, &args(&["--mover", "ocf"])).unwrap();
        let ms: Vec<u128> = ocf.schedule.iter().map(Duration::as_millis).collect();
        assert_eq!(
            ms,
            [0, 20, 200],
            "vnet start's default, which the agent uses"
        );
    }
}
