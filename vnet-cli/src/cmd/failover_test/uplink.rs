//! The topology as each node of the failover sees it: with the uplink MAC pinned, every
//! NIC passed into a container has the same MAC on both nodes; with the MAC changed,
//! each node's copy gives the NIC a MAC of that node's own (as when the node's
//! physical NIC is passed in), derived from the topology, node, container and NIC.

use anyhow::anyhow;

use vnet_core::model::Mac;
use vnet_core::resolve::MacKey;
use vnet_core::ValidTopology;

use super::case::UplinkMac;
use crate::exit::Failure;

/// The topology used on the failing node and the one used on the failover node.
pub struct NodeCopies {
    /// Applied at the start (every container on its home node).
    pub home: ValidTopology,
    /// Used to start the containers on the failover node.
    pub failover: ValidTopology,
}

/// The two copies for `mac` (`home` and `failover` are node names).
pub fn copies(
    t: &ValidTopology,
    mac: UplinkMac,
    home: &str,
    failover: &str,
) -> Result<NodeCopies, Failure> {
    Ok(NodeCopies {
        home: on_node(t, mac, home)?,
        failover: on_node(t, mac, failover)?,
    })
}

/// `t` with every NIC's MAC written out: the one `t` gives it (pinned), or the node's
/// own (changed, and marked as following the node).
fn on_node(t: &ValidTopology, mac: UplinkMac, node: &str) -> Result<ValidTopology, Failure> {
    let mut topo = t.topology().clone();
    for ct in &mut topo.ct {
        for (index, nic) in ct.nic.iter_mut().enumerate() {
            let (m, follows) = match mac {
                UplinkMac::Pinned => (
                    t.mac(&MacKey::Nic {
                        ct: ct.id,
                        name: nic.name.clone(),
                    }),
                    false,
                ),
                UplinkMac::Changed => (node_mac(t.name(), node, ct.id, index)?, true),
            };
            nic.mac = Some(m);
            nic.mac_follows_node = follows;
        }
    }
    vnet_core::validate(topo).map_err(|d| {
        Failure::invalid(anyhow!(
            "the topology with the uplink MACs of node {node} is not valid: {d}"
        ))
    })
}

/// A MAC of node `node`'s own for NIC `index` of container `ct`: locally administered
/// and unicast (`02:...`), four bytes of an FNV-1a hash of the four names.
pub fn node_mac(topology: &str, node: &str, ct: u32, index: usize) -> Result<Mac, Failure> {
    let key = format!("vnet-uplink\0{topology}\0{node}\0{ct}\0{index}");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", b[4], b[5], b[6], b[7])
        .parse()
        .map_err(|e| Failure::system(anyhow!("derive the uplink MAC of node {node}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> ValidTopology {
        let text = include_str!("../../../../examples/seed.toml");
        vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap()
    }

    fn router_mac(t: &ValidTopology) -> Mac {
        t.mac(&MacKey::Nic {
            ct: 101,
            name: "eth1".into(),
        })
    }

    #[test]
    fn pinned_keeps_one_mac_and_changed_gives_each_node_its_own() {
        let t = seed();
        let pinned = copies(&t, UplinkMac::Pinned, "m1", "m2").unwrap();
        assert_eq!(router_mac(&pinned.home), router_mac(&t));
        assert_eq!(router_mac(&pinned.failover), router_mac(&t));
        let changed = copies(&t, UplinkMac::Changed, "m1", "m2").unwrap();
        let (m1, m2) = (router_mac(&changed.home), router_mac(&changed.failover));
        assert_ne!(m1, m2);
        assert_ne!(m1, router_mac(&t));
        assert_eq!(m1, node_mac("article", "m1", 101, 0).unwrap());
        assert!(m2.to_string().to_lowercase().starts_with("02:00:"), "{m2}");
        // Everything else stays as it was.
        assert_eq!(changed.failover.topology().ct.len(), t.topology().ct.len());
        assert!(changed.failover.topology().ct[0].nic[0].mac_follows_node);
    }
}
