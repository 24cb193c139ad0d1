//! One-shot timing of validate and compile at growing sizes (a quick look without
//! criterion): `cargo run --release -p benches --example plan_timing`.

use std::time::Instant;
use vnet_core::generate::{large, LargeParams};
use vnet_core::plan::{compile, Scope};

fn main() {
    for cts in [100usize, 1_000, 10_000, 100_000] {
        let t = large(&LargeParams::new(cts));
        let start = Instant::now();
        let valid = vnet_core::validate(t).expect("large() is valid");
        let validated = start.elapsed();
        let plan = compile(&valid, &Scope::Sandbox);
        let total = start.elapsed();
        println!(
            "{cts:>7} CTs: validate {:>9.2?}, compile {:>9.2?}, {} steps",
            validated,
            total - validated,
            plan.len()
        );
    }
}
