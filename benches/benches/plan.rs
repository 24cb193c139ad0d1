//! Validate + compile of `vnet_core::generate::large` topologies at 100, 1,000, 10,000
//! and 100,000 containers, for the sandbox (every namespace, veth pair, bridge, LAN).
//! The topology's copy that `validate` consumes is made outside the timed part.
//!
//! Goal: linear (10x the containers costs at most 12x the time) and 10,000 containers in
//! under 100 ms. One run of `cargo bench -p benches --bench plan` (2 cores, release) on
//! 2026-11-26 ~17:56, in a quiet minute of a shared machine (load average 0.2 at the
//! start, ~3.9 at the end), after the planner rewrite on interned ids:
//!
//! | containers | steps | time (mean, 95% CI) | per container | 10x ratio |
//! |---|---|---|---|---|
//! | 100 | 938 | 0.692 ms (0.686-0.699) | 6.9 us | |
//! | 1,000 | 9,038 | 7.49 ms (7.19-7.79) | 7.5 us | 10.8x |
//! | 10,000 | 88,148 | 168 ms (151-187) | 16.8 us | 22.4x |
//! | 100,000 | 808,688 | 3.18 s (2.91-3.43) | 31.8 us | 18.9x |
//!
//! (The same bench a few minutes earlier under load 6-10: 1.50 ms, 11.3 ms, 252 ms,
//! 2.92 s; before this round: 2.19 ms, 17.6 ms, ~320 ms, 4.11 s.) Instruction counts
//! are the robust figures, from `valgrind --tool=callgrind
//! target/release/examples/plan_timing N` (inclusive, the generator and drops left out):
//!
//! | containers | validate | compile | total | 10x ratio |
//! |---|---|---|---|---|
//! | 100 | 0.95 M | 4.27 M | 5.22 M | |
//! | 1,000 | 9.0 M | 43.5 M | 52.5 M | 10.1x |
//! | 10,000 | 96 M | 441 M | 537 M | 10.2x |
//! | 100,000 | 998 M | 4,259 M | 5,256 M | 9.8x |
//!
//! So the work is linear (9.8-10.2x per 10x) and compile at 10,000 containers went from
//! 927 M to 441 M instructions (validate, another engineer's part, 482 M -> 96 M). The
//! goals are NOT met in wall-clock time: 10,000 containers take ~168 ms, not < 100 ms,
//! and from 1,000 to 10,000 the time grows 22x while the instructions grow 10.2x. The
//! difference is memory: at 1,000 containers the plan (9,038 actions of ~144 bytes plus
//! their strings) fits the caches, at 10,000 it does not, and the planner touches each
//! action several times in sorted, not allocation, order.
//!
//! What this round changed in `compile` (10,000 containers, instructions):
//! - `plan/fresh.rs`: a sandbox from nothing is planned straight from the desired state
//!   (no copy of the state into maps, no field-by-field diff) when that provably equals
//!   the diff, which falls back otherwise; property test `tests/plan_fresh.rs`. The diff's
//!   walk (~380 M) became ~80 M, mostly the `String` clones each action needs.
//! - `plan/order.rs` + `plan/intern.rs`: namespaces and links interned once into dense
//!   ids; needs-providers are `Vec`s by id; the DAG is a CSR built by a counting sort;
//!   stages by Kahn; each action moved once. 394 M -> 234 M.
//! - `plan/desired.rs`: built flat (hash index, sorted `Vec`s), maps only for the diff.
//!   148 M -> 103 M (of which ~30 M are `ValidTopology` lookups by `BTreeMap`).
//!
//! What is left, by size: `order` 234 M (needs edges 69 M, interning and name ranks
//! ~50 M, the step vector with an `after` `Vec` per step), the desired state 103 M, the
//! actions' strings ~35 M, dropping the desired state 24 M. Next step for the wall clock:
//! walk the actions in the order they were made (providers chosen by sorted position
//! instead of visiting in sorted order), so each pass reads memory sequentially.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use vnet_core::generate::{large, LargeParams};
use vnet_core::plan::{compile, Scope};

fn plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate+compile");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    for cts in [100usize, 1_000, 10_000, 100_000] {
        let topology = large(&LargeParams::new(cts));
        group.throughput(Throughput::Elements(cts as u64));
        group.measurement_time(Duration::from_secs(if cts >= 100_000 { 60 } else { 5 }));
        group.bench_with_input(BenchmarkId::from_parameter(cts), &topology, |b, t| {
            // `validate` takes the topology by value: the copy it gets is made outside the
            // timed part, which is validate + compile only.
            b.iter_batched(
                || t.clone(),
                |t| {
                    let valid = vnet_core::validate(t).expect("large() is valid");
                    black_box(compile(&valid, &Scope::Sandbox))
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
