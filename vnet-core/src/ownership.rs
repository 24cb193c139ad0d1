//! How vnet marks what it owns on the kernel objects themselves, so ownership survives a
//! crash of vnet and two topologies on one machine never touch each other's objects.
//!
//! - Links (both veth ends, bridges, VLAN links, a NIC passed in): the link alias
//!   (`IFLA_IFALIAS`, `ip link set DEV alias`) is `vnet:<topology>`.
//! - Namespaces vnet creates: the alias of their loopback device is `vnet:<topology>`.
//! - Addresses: those on links vnet owns.
//! - Routes: the route protocol [`ROUTE_PROTOCOL`] (`ip route add ... proto 118`), on
//!   top of being in a namespace vnet manages.
//! - NAT: the nftables table [`NFT_TABLE`] of family `inet` in the namespace, which vnet
//!   alone writes; a reload of other rules does not touch it.
//! - Sysctls carry no mark; vnet records the previous value in the plan and writes only
//!   values that differ.

/// The prefix of every alias vnet writes.
pub const ALIAS_PREFIX: &str = "vnet:";

/// The alias that marks a link (or a namespace's loopback) as owned by `topology`.
pub fn alias_for(topology: &str) -> String {
    format!("{ALIAS_PREFIX}{topology}")
}

/// The topology that owns an object with this alias, if vnet wrote it.
pub fn owner_of(alias: &str) -> Option<&str> {
    alias.strip_prefix(ALIAS_PREFIX)
}

/// The route protocol number vnet installs its routes with. 118 ('v') is unassigned in
/// iproute2's `rt_protos` and used by no routing daemon we know of.
pub const ROUTE_PROTOCOL: u8 = 118;

/// The nftables table (family `inet`) holding vnet's NAT rules in a namespace.
pub const NFT_TABLE: &str = "vnet";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_round_trips_and_foreign_aliases_are_not_ours() {
        assert_eq!(owner_of(&alias_for("article")), Some("article"));
        assert_eq!(owner_of("uplink to core switch"), None);
    }
}
