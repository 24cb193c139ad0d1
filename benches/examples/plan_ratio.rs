//! The planner's growth, measured so the machine's drift cancels out, next to the growth
//! of the memory work its output alone costs.
//!
//! `cargo run --release -p benches --example plan_ratio [SMALL LARGE ROUNDS]`
//! (default 1000 10000 40), under mimalloc as the `vnet` binary links it. Each round
//! times, ten times at the small size and once at the large one (LARGE / SMALL times in
//! general):
//!
//! - `validate+compile`: the benchmark's timed part (`benches/shared/plan_group.rs`):
//!   validate + compile of `large()`, the topology's copy made and the plan dropped
//!   outside it;
//! - `plan clone`: a copy of the plan that compile returned (allocating and writing
//!   every step, action and `after` list) and its drop: what any planner handing out
//!   this [`vnet_core::plan::Plan`] pays at least, whatever its algorithm;
//! - `byte fill`: writing as many bytes as the plan's steps occupy (`Step`s only, no
//!   heap parts) into a fresh vector, and freeing it: the machine's memory alone.
//!
//! Prints each workload's median time per size, the ratio of the medians, and the
//! spread of the per-round ratios (quartiles).
//!
//! Why interleaved: on this shared machine (a Firecracker guest) the same binary's speed
//! moves by up to 50% between runs minutes apart. Criterion measures one size after
//! another, so its ratio between sizes carries that drift; here every workload and size
//! sees the same moments. Why the two references: a ratio above 10x can come from the
//! algorithm or from the memory hierarchy (at 1,000 containers a plan of 1.8 MB fits in
//! a core's 2 MB L2 cache, at 10,000 its 18 MB do not); a copy of the output has no
//! algorithm, so its ratio is the floor for this output on this machine.

use std::time::Instant;

use vnet_core::generate::{large, LargeParams};
use vnet_core::plan::{compile, Plan, Scope, Step};
use vnet_core::Topology;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One size's inputs: the topology and the plan compiled from it.
struct Size {
    topology: Topology,
    plan: Plan,
}

impl Size {
    fn new(cts: usize) -> Size {
        let topology = large(&LargeParams::new(cts));
        let valid = vnet_core::validate(topology.clone()).expect("large() is valid");
        let plan = compile(&valid, &Scope::Sandbox);
        Size { topology, plan }
    }
}

/// A timed workload, in milliseconds.
type Workload = fn(&Size) -> f64;

/// Validate + compile of a copy of the topology (the copy made, the plan dropped,
/// outside the timed part).
fn validate_compile(s: &Size) -> f64 {
    let copy = s.topology.clone();
    let start = Instant::now();
    let valid = vnet_core::validate(copy).expect("large() is valid");
    let plan = compile(&valid, &Scope::Sandbox);
    drop(valid);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    drop(std::hint::black_box(plan));
    ms
}

/// A copy of the plan, and its drop.
fn plan_clone(s: &Size) -> f64 {
    let start = Instant::now();
    drop(std::hint::black_box(s.plan.clone()));
    start.elapsed().as_secs_f64() * 1e3
}

/// As many bytes as the plan's steps, written into a fresh vector and freed.
fn byte_fill(s: &Size) -> f64 {
    let bytes = s.plan.steps.len() * std::mem::size_of::<Step>();
    let start = Instant::now();
    drop(std::hint::black_box(vec![7u8; bytes]));
    start.elapsed().as_secs_f64() * 1e3
}

const WORKLOADS: [(&str, Workload); 3] = [
    ("validate+compile", validate_compile),
    ("plan clone", plan_clone),
    ("byte fill", byte_fill),
];

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.replace([',', '_'], "").parse().expect("numbers"))
        .collect();
    let (small, big, rounds) = match args.as_slice() {
        [s, b, r] => (*s, *b, *r),
        [] => (1_000, 10_000, 40),
        _ => panic!("usage: plan_ratio [SMALL LARGE ROUNDS]"),
    };
    let (s, b) = (Size::new(small), Size::new(big));
    let repeat = (big / small).max(1);
    let n = WORKLOADS.len();
    // Warm up (allocator, page tables).
    for (_, w) in WORKLOADS {
        w(&s);
        w(&b);
    }
    let (mut all_small, mut all_big, mut ratios) =
        (vec![vec![]; n], vec![vec![]; n], vec![vec![]; n]);
    for _ in 0..rounds {
        for (k, (_, w)) in WORKLOADS.iter().enumerate() {
            let mut round: Vec<f64> = (0..repeat).map(|_| w(&s)).collect();
            let large = w(&b);
            ratios[k].push(large / median(&mut round));
            all_small[k].extend(round);
            all_big[k].push(large);
        }
    }
    println!(
        "{small} -> {big} containers ({} -> {} steps), medians of {} and {rounds}:",
        s.plan.len(),
        b.plan.len(),
        rounds * repeat
    );
    for (k, (name, _)) in WORKLOADS.iter().enumerate() {
        let (ms_small, ms_big) = (median(&mut all_small[k]), median(&mut all_big[k]));
        let r = &mut ratios[k];
        r.sort_by(f64::total_cmp);
        let q = |f: f64| r[((r.len() - 1) as f64 * f).round() as usize];
        println!(
            "  {name:<17} {ms_small:>8.3} ms {ms_big:>9.3} ms  ratio {:>5.1}x \
             (per round: quartiles {:.1} / {:.1} / {:.1})",
            ms_big / ms_small,
            q(0.25),
            q(0.5),
            q(0.75)
        );
    }
}
