//! `vnet check FILE`: parse and validate a topology; report every problem, or a one-line
//! summary of what the topology holds.

use serde::Serialize;
use std::path::PathBuf;

use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::{errln, input, outln, output};

/// Arguments of `vnet check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
}

/// Validates the file; exit 0 when valid, 1 when not (problems already reported).
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = match input::load_valid(&args.file, global) {
        Ok(l) => l,
        // Parse errors and findings were reported by `load_valid`; for `check` an invalid
        // file is a completed run whose answer is "no".
        Err(failure) if failure.error.is_none() => return Ok(failure.exit),
        Err(failure) => return Err(failure),
    };
    let summary = Summary::of(&loaded.valid);
    let warnings = loaded.valid.warnings();
    match global.output {
        Output::Human => {
            for w in warnings {
                errln!("warning: {w}");
            }
            outln!(
                "{}: topology `{}` is valid: {summary}",
                loaded.input.display_name,
                loaded.valid.name()
            )
        }
        Output::Json => output::json(&serde_json::json!({
            "valid": true,
            "diagnostics": [],
            "warnings": warnings,
            "summary": summary,
        })),
    }
    Ok(Exit::Success)
}

/// How many of each element a valid topology holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Hardware nodes.
    pub nodes: usize,
    /// Containers.
    pub cts: usize,
    /// Bridges.
    pub bridges: usize,
    /// Physical LANs.
    pub lans: usize,
    /// Hosts on the LANs.
    pub lan_hosts: usize,
    /// Subnets.
    pub subnets: usize,
    /// veth pairs.
    pub veths: usize,
    /// NICs passed into containers.
    pub nics: usize,
    /// VLAN interfaces.
    pub vlans: usize,
    /// Static routes, in containers and on LAN hosts.
    pub routes: usize,
    /// NAT rules.
    pub nat_rules: usize,
}

impl Summary {
    /// Counts the elements of `v`.
    pub fn of(v: &ValidTopology) -> Summary {
        let t = v.topology();
        Summary {
            nodes: t.node.len(),
            cts: t.ct.len(),
            bridges: t.bridge.len(),
            lans: t.lan.len(),
            lan_hosts: t.lan.iter().map(|l| l.host.len()).sum(),
            subnets: t.subnet.len(),
            veths: t.ct.iter().map(|c| c.veth.len()).sum(),
            nics: t.ct.iter().map(|c| c.nic.len()).sum(),
            vlans: t.ct.iter().map(|c| c.vlan.len()).sum(),
            routes: t.ct.iter().map(|c| c.route.len()).sum::<usize>()
                + t.lan
                    .iter()
                    .flat_map(|l| &l.host)
                    .map(|h| h.route.len())
                    .sum::<usize>(),
            nat_rules: t.ct.iter().map(|c| c.nat.len()).sum(),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            (self.nodes, "node", "nodes"),
            (self.cts, "CT", "CTs"),
            (self.bridges, "bridge", "bridges"),
            (self.lans, "LAN", "LANs"),
            (self.lan_hosts, "LAN host", "LAN hosts"),
            (self.subnets, "subnet", "subnets"),
            (self.veths, "veth pair", "veth pairs"),
            (self.nics, "NIC", "NICs"),
            (self.vlans, "VLAN", "VLANs"),
            (self.routes, "route", "routes"),
            (self.nat_rules, "NAT rule", "NAT rules"),
        ];
        for (i, (n, one, many)) in parts.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n} {}", if *n == 1 { one } else { many })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::{Document, Format};

    #[test]
    fn the_seed_summary_counts_the_article() {
        let seed = include_str!("../../../examples/seed.toml");
        let v = Document::parse(seed, Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(
            Summary::of(&v).to_string(),
            "2 nodes, 3 CTs, 1 bridge, 1 LAN, 1 LAN host, 2 subnets, 3 veth pairs, 1 NIC, \
             0 VLANs, 3 routes, 0 NAT rules"
        );
    }
}
