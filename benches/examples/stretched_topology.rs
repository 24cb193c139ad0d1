//! Writes a `vnet_core::generate::stretched` topology as TOML to stdout: one bridge
//! stretched over VXLAN across NODES nodes, PER_NODE containers on each, the router on
//! `m1`. `cargo run --release -p benches --example stretched_topology -- 10 100`
//! (defaults 10 and 100). `scripts/stretch-scale` uses it.

use vnet_core::generate::{stretched, MAX_STRETCHED_CTS};
use vnet_core::source::to_toml;

fn arg(i: usize, default: usize, what: &str) -> usize {
    match std::env::args().nth(i) {
        None => default,
        Some(a) => a.parse().unwrap_or_else(|_| {
            eprintln!("stretched_topology: {what} must be a number, got {a:?}");
            std::process::exit(2);
        }),
    }
}

fn main() {
    let nodes = arg(1, 10, "NODES");
    let per_node = arg(2, 100, "PER_NODE");
    if nodes == 0 || nodes > 250 || nodes * per_node > MAX_STRETCHED_CTS {
        eprintln!(
            "stretched_topology: 1 to 250 nodes and at most {MAX_STRETCHED_CTS} containers in all"
        );
        std::process::exit(2);
    }
    print!("{}", to_toml(&stretched(nodes, per_node)));
}
