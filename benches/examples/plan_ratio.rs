//! The planner's growth, measured so the machine's drift cancels out: validate + compile
//! of `large()` at two sizes, interleaved round by round (ten times the small size, then
//! the large one once, each round), under mimalloc as the `vnet` binary links it.
//!
//! `cargo run --release -p benches --example plan_ratio [SMALL LARGE ROUNDS]`
//! (default 1000 10000 40). Prints each size's median per-iteration time and the ratio
//! of the medians, with the spread of the per-round ratios (quartiles).
//!
//! Why: on this shared machine (a Firecracker guest) the same binary's speed moves by up
//! to 50% between runs minutes apart. Criterion measures one size after another, so its
//! ratio between sizes carries that drift; here both sizes see the same moments. The
//! timed part is the benchmark's (`benches/benches/shared/plan_group.rs`): the
//! topology's copy is made, and the plan dropped, outside it.

use std::time::Instant;

use vnet_core::generate::{large, LargeParams};
use vnet_core::plan::{compile, Scope};
use vnet_core::Topology;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One timed validate + compile of a copy of `t`, in milliseconds.
fn once(t: &Topology) -> f64 {
    let copy = t.clone();
    let start = Instant::now();
    let valid = vnet_core::validate(copy).expect("large() is valid");
    let plan = compile(&valid, &Scope::Sandbox);
    drop(valid);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    drop(std::hint::black_box(plan));
    ms
}

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
    let (ts, tb) = (
        large(&LargeParams::new(small)),
        large(&LargeParams::new(big)),
    );
    let repeat = (big / small).max(1);
    // Warm up both (allocator, page tables).
    once(&ts);
    once(&tb);
    let (mut all_small, mut all_big, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let mut round: Vec<f64> = (0..repeat).map(|_| once(&ts)).collect();
        let b = once(&tb);
        let s = median(&mut round);
        ratios.push(b / s);
        all_small.extend(round);
        all_big.push(b);
    }
    let (s, b) = (median(&mut all_small), median(&mut all_big));
    ratios.sort_by(f64::total_cmp);
    let q = |f: f64| ratios[((ratios.len() - 1) as f64 * f).round() as usize];
    println!(
        "{small} CTs: {s:.2} ms, {big} CTs: {b:.2} ms (medians of {} and {rounds}); \
         ratio {:.1}x (per round: quartiles {:.1} / {:.1} / {:.1})",
        all_small.len(),
        b / s,
        q(0.25),
        q(0.5),
        q(0.75)
    );
}
