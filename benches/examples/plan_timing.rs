//! One-shot timing of validate and compile at growing sizes (a quick look without
//! criterion): `cargo run --release -p benches --example plan_timing [CTS...]`.
//!
//! The sizes default to 100, 1,000, 10,000 and 100,000 containers; giving one size runs
//! only that one, which is what a profiler wants (e.g.
//! `valgrind --tool=callgrind target/release/examples/plan_timing 10000`).
//!
//! With `PLAN_DIGEST=1` it also prints a hash of each plan's JSON (sandbox and node
//! `m1`, compile and teardown): an optimisation of the planner must leave these
//! unchanged, since plans are meant to be byte-identical whatever the implementation.

use std::time::Instant;
use vnet_core::generate::{large, LargeParams};
use vnet_core::plan::{compile, teardown, Scope};

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.replace([',', '_'], "")
                .parse()
                .expect("sizes are numbers")
        })
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1_000, 10_000, 100_000]
    } else {
        sizes
    };
    for cts in sizes {
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
        if std::env::var_os("PLAN_DIGEST").is_some() {
            let node = Scope::Node("m1".to_string());
            println!(
                "         digests: sandbox {:016x}/{:016x}, node m1 {:016x}/{:016x}",
                digest(&plan.to_json()),
                digest(&teardown(&valid, &Scope::Sandbox).to_json()),
                digest(&compile(&valid, &node).to_json()),
                digest(&teardown(&valid, &node).to_json()),
            );
        }
    }
}

/// FNV-1a of the text: stable across runs and builds (std's hasher is seeded).
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
