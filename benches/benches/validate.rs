//! `validate` alone (source topology -> `ValidTopology`: resolution of MACs and host-side
//! names, every rule, the graph) on `vnet_core::generate::large` topologies at 100,
//! 1,000, 10,000 and 100,000 containers. The copy of the topology that `validate`
//! consumes is made, and the result dropped, outside the timed part.
//! `cargo bench -p benches --bench validate`.
//!
//! Two groups: `validate` times wall clock; `validate-cpu` times the CPU time of the
//! benchmarking thread (`CLOCK_THREAD_CPUTIME_ID`), which leaves out the time the thread
//! waits for a core: on this shared 2-core machine other builds often run (load average
//! up to 9), and then wall clock spreads over 5x between samples.
//!
//! Goal (this part of issue 3, validate + compile < 100 ms at 10,000 containers):
//! validate at most 30 ms at 10,000 containers, well under 150 M instructions, linear
//! (10x the containers costs at most 12x).
//!
//! One run, 17:56 UTC, machine nearly idle (load average 0.7-2.5), mean and 95% interval:
//!
//! | containers | wall clock | 10x ratio | thread CPU time | 10x ratio | instructions | 10x ratio |
//! |---|---|---|---|---|---|---|
//! | 100 | 102 us (90-123) | | 86.6 us (85.7-87.7) | | 0.88 M | |
//! | 1,000 | 855 us (804-964) | 8.4x | 1.00 ms (0.97-1.05) | 11.6x | 8.44 M | 9.6x |
//! | 10,000 | 11.1 ms (10.4-12.8) | 13.0x | 10.8 ms (10.6-11.3) | 10.8x | 91.1 M | 10.8x |
//! | 100,000 | 178 ms (174-184) | 16.1x | 195 ms (189-208) | 18.0x | 965 M | 10.6x |
//!
//! Instructions: callgrind, `validate` inclusive, a program timing `validate(large(N))`
//! alone (of the 91 M at 10,000, ~10 M are the `placement` rule added this round).
//! Before this round: 37.8 M (1,000), 482 M (10,000), 5,880 M (100,000), and
//! 50-130 ms wall at 10,000. Where the 482 M went: resolve 167 M -> 30 M (maps built
//! from sorted `Vec`s, one walk of the containers, derived MACs confirmed by one sort),
//! the graph 160 M -> 13 M (no entity lookups, index built on first use), names 67 M ->
//! 12 M, and hash maps with foldhash instead of `BTreeMap`s where only lookups happen.
//!
//! Met: 10,000 containers in ~11 ms and 91 M instructions. Not met: linear *time* from
//! 10,000 to 100,000 (16-18x, while instructions grow 10.6x): past ~10,000 containers the
//! topology (every rule walks it; ~14 walks) and the tables no longer fit the 4 MB L2,
//! so walks wait on memory (callgrind's cache simulation at 100,000: ~11 M L2 read
//! misses). Fewer walks (one per family of rules) would be the next step.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nix::time::{clock_gettime, ClockId};

#[path = "shared/sizes.rs"]
mod sizes;

/// Benchmarks `validate` at every size into group `name`, with measurement `M`.
fn sizes<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    sizes::over_sizes(c, name, 20, |t| {
        vnet_core::validate(t).expect("large() is valid")
    });
}

fn wall(c: &mut Criterion) {
    sizes(c, "validate");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    sizes(c, "validate-cpu");
}

/// The CPU time of the calling thread, in nanoseconds (criterion runs the routine on the
/// thread that calls it).
#[derive(Debug, Clone, Copy)]
struct ThreadCpu;

/// Nanoseconds of CPU time this thread has used.
fn thread_cpu_ns() -> u64 {
    // The clock exists on every Linux; a failure would be a broken platform.
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .unwrap_or_else(|e| panic!("CLOCK_THREAD_CPUTIME_ID: {e}"));
    let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec()).unwrap_or(0);
    secs * 1_000_000_000 + nanos
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanos
    }
}

/// Formats nanoseconds as criterion's wall clock does (ns, µs, ms, s; elements/s).
struct Nanos;

impl ValueFormatter for Nanos {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        for v in values {
            *v *= factor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let n = match *throughput {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => n,
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Bits(n) => n,
        } as f64;
        let per_second = n * 1e9 / typical;
        let (div, unit) = if per_second < 1e3 {
            (1.0, " elem/s")
        } else if per_second < 1e6 {
            (1e3, "Kelem/s")
        } else {
            (1e6, "Melem/s")
        };
        for v in values {
            *v = n * 1e9 / *v / div;
        }
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group!(walls, wall);
criterion_group! {
    name = cpus;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(walls, cpus);
