//! Writes a `vnet_core::generate::large` topology of N containers as TOML to stdout, to
//! feed the `vnet` binary at scale: `cargo run --release -p benches --example
//! large_topology -- 1000 > large.toml` (N defaults to 1,000). `scripts/rss` uses it.

use vnet_core::generate::{large, LargeParams};
use vnet_core::source::to_toml;

fn main() {
    let cts = match std::env::args().nth(1) {
        None => 1_000,
        Some(a) => match a.replace([',', '_'], "").parse() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("large_topology: the container count must be a number, got {a:?}");
                std::process::exit(2);
            }
        },
    };
    print!("{}", to_toml(&large(&LargeParams::new(cts))));
}
