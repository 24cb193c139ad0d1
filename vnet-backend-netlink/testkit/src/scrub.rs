//! The one list of fields kernel tests leave out when they compare kernel state: values
//! that change by themselves (counters, timers, carrier, spanning tree) or that the kernel
//! assigns (interface indexes, namespace ids, nftables handles).

use serde_json::Value;

/// Keys removed from `ip -d -j` and `nft -j` output before comparing.
pub const VOLATILE: &[&str] = &[
    // Counted or timed by the kernel.
    "stats",
    "stats64",
    "linkinfo_stats",
    "valid_life_time",
    "preferred_life_time",
    "expires",
    // Carrier follows the peer asynchronously (the admin state, UP, stays).
    "operstate",
    "carrier_changes",
    "carrier_up_count",
    "carrier_down_count",
    // The bridge's spanning tree and its timers.
    "hello_timer",
    "tcn_timer",
    "topology_change_timer",
    "gc_timer",
    "forward_delay_timer",
    "hold_timer",
    "message_age_timer",
    "root_id",
    "bridge_id",
    "root_port",
    "root_path_cost",
    "topology_change",
    "topology_change_detected",
    "state",
    "designated_root",
    "designated_bridge",
    "designated_port",
    "designated_cost",
    "port_id",
    "port_no",
    "config_pending",
    "proxy_arp",
    "vlan_stats_enabled",
    // Assigned by the kernel in creation order: two equal builds differ here.
    "ifindex",
    "link_index",
    "link_netnsid",
    "netnsid",
    "handle",
    "inet6_addr_gen_mode",
];

/// Removes [`VOLATILE`] keys, keys ending in `_timer`, and carrier flags everywhere in `v`, and sorts arrays of
/// objects (dump order follows interface indexes and insertion order, which equal builds
/// may choose differently).
pub fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in VOLATILE {
                map.remove(*k);
            }
            // Whatever else a newer iproute2 shows of the bridge's timers counts down too.
            map.retain(|k, _| !k.ends_with("_timer"));
            if let Some(Value::Array(flags)) = map.get_mut("flags") {
                flags.retain(|f| !matches!(f.as_str(), Some("LOWER_UP" | "NO-CARRIER" | "M-DOWN")));
            }
            map.values_mut().for_each(scrub);
        }
        Value::Array(items) => {
            items.iter_mut().for_each(scrub);
            if items.iter().all(Value::is_object) {
                items.sort_by_key(|x| x.to_string());
            }
        }
        _ => {}
    }
}
