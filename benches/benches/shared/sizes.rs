//! The size loop shared by the planner benchmarks: one criterion group over
//! `vnet_core::generate::large` topologies of 100, 1,000, 10,000 and 100,000 containers.

use criterion::measurement::Measurement;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use vnet_core::generate::{large, LargeParams};
use vnet_core::Topology;

/// Times `run` on a fresh copy of each size's topology, as group `name` with measurement
/// `M`; the largest size is measured for `big_secs` seconds, the others for 5.
///
/// The copy `run` consumes is made, and its result dropped, outside the timed part
/// (`iter_batched`).
pub fn over_sizes<M: Measurement, R>(
    c: &mut Criterion<M>,
    name: &str,
    big_secs: u64,
    run: impl Fn(Topology) -> R,
) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    for cts in [100usize, 1_000, 10_000, 100_000] {
        let topology = large(&LargeParams::new(cts));
        group.throughput(Throughput::Elements(cts as u64));
        group.measurement_time(Duration::from_secs(if cts >= 100_000 {
            big_secs
        } else {
            5
        }));
        group.bench_with_input(BenchmarkId::from_parameter(cts), &topology, |b, t| {
            b.iter_batched(|| t.clone(), |t| black_box(run(t)), BatchSize::PerIteration)
        });
    }
    group.finish();
}
