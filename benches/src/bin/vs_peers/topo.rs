//! The benchmark's network, the same for every method: N containers on one bridge
//! `br0`, each with `eth0` addressed in 198.18.0.0/16 and one route to 198.19.0.0/16
//! via 198.18.0.1 (an address of the segment), IPv6 off on every link.

use std::fmt::Write;
use std::net::Ipv4Addr;

use anyhow::{Context, Result};
use vnet_core::{Document, Format, ValidTopology};

/// The bridge every container's host end is enslaved to.
pub const BRIDGE: &str = "br0";
/// Prefix length of the containers' addresses.
pub const PREFIX_LEN: u8 = 16;
/// The next hop of every container's route (on the segment; no one holds it).
pub const VIA: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// The destination of every container's route.
pub const ROUTE_TO: &str = "198.19.0.0/16";

/// One container as the peer methods spell it.
#[derive(Debug, Clone)]
pub struct Ct {
    /// Its name (vnet's container name; the peers' namespace is `<prefix>-<name>`).
    pub name: String,
    /// The address of its `eth0`.
    pub address: Ipv4Addr,
    /// Host end name for the `ip` methods.
    pub host: String,
    /// MAC of `eth0` for the `ip` methods.
    pub mac: String,
    /// MAC of the host end for the `ip` methods.
    pub host_mac: String,
}

/// The `n` containers: `c0` at 198.18.0.2, `c1` at 198.18.0.3, ... (the order the
/// CNI plugin's host-local IPAM hands addresses out from `rangeStart` 198.18.0.2).
pub fn cts(n: usize) -> Vec<Ct> {
    (0..n)
        .map(|i| {
            let base = u32::from(Ipv4Addr::new(198, 18, 0, 2));
            let hi = (i >> 8) as u8;
            let lo = (i & 0xff) as u8;
            Ct {
                name: format!("c{i}"),
                address: Ipv4Addr::from(base + i as u32),
                host: format!("h{i}"),
                mac: format!("02:00:00:00:{hi:02x}:{lo:02x}"),
                host_mac: format!("02:00:01:00:{hi:02x}:{lo:02x}"),
            }
        })
        .collect()
}

/// The same network as a vnet topology (MACs and host-end names derived by vnet).
pub fn vnet_topology(cts: &[Ct]) -> Result<ValidTopology> {
    let mut text = format!(
        "name = \"bench\"\n[[node]]\nname = \"m1\"\n[[bridge]]\nname = \"{BRIDGE}\"\n\
         [[subnet]]\ncidr = \"198.18.0.0/{PREFIX_LEN}\"\nbridge = \"{BRIDGE}\"\n"
    );
    for (i, ct) in cts.iter().enumerate() {
        let _ = write!(
            text,
            "[[ct]]\nid = {}\nname = \"{}\"\n[[ct.veth]]\nname = \"eth0\"\nbridge = \"{BRIDGE}\"\n\
             addresses = [\"{}/{PREFIX_LEN}\"]\n[[ct.route]]\nto = \"{ROUTE_TO}\"\nvia = \"{VIA}\"\n",
            1000 + i,
            ct.name,
            ct.address
        );
    }
    let doc = Document::parse(&text, Format::Toml).context("parse the generated topology")?;
    doc.validate()
        .map_err(|e| anyhow::anyhow!("the generated topology is invalid: {e:?}"))
}
