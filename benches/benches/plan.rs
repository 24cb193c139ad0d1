//! Validate + compile of `vnet_core::generate::large` topologies at 100, 1,000, 10,000
//! and 100,000 containers, for the sandbox (every namespace, veth pair, bridge, LAN),
//! with the system allocator (glibc). `plan_mimalloc.rs` is the same group under
//! mimalloc, the allocator the `vnet` binary links. The topology's copy that `validate`
//! consumes is made outside the timed part.
//!
//! Goal: linear (10x the containers costs at most 12x the time) and 10,000 containers in
//! under 100 ms. Runs of `cargo bench -p benches --bench plan --bench plan_mimalloc`
//! (2 cores, release, nice -19) on 2026-11-27 on a shared machine (load average 1.0-1.5);
//! runs 1 and 2 after the `order` change below, run 3 after the `fresh` change too. Mean
//! (95% CI); ratio = this size / the size before, in the same run:
//!
//! | containers | steps | mimalloc run 1 | ratio | run 2 | ratio | run 3 | ratio |
//! |---|---|---|---|---|---|---|---|
//! | 100 | 938 | 0.76 ms (0.75-0.77) | | 0.64 ms (0.58-0.71) | | 0.48 ms (0.46-0.50) | |
//! | 1,000 | 9,038 | 7.41 ms (6.83-7.97) | 9.8x | 5.97 ms (5.60-6.43) | 9.3x | 6.13 ms (5.68-6.61) | 12.8x |
//! | 10,000 | 88,148 | 82.3 ms (80.2-84.3) | 11.1x | 83.7 ms (81.3-86.7) | 14.0x | 90.8 ms (83.4-99.4) | 14.8x |
//! | 100,000 | 808,688 | 1.27 s (1.22-1.33) | 15.5x | 1.39 s (1.28-1.50) | 16.6x | 1.18 s (1.11-1.25) | 12.9x |
//!
//! With glibc's malloc (this bench), the same runs: 100: 0.77 / 0.83 / 0.70 ms; 1,000:
//! 7.33 / 10.1 / 9.96 ms; 10,000: 122 / 148 / 133 ms; 100,000: 1.72 / 1.76 / 1.60 s. The
//! previous round (glibc, one run): 0.69 ms, 7.49 ms, 168 ms, 3.18 s.
//!
//! So: 10,000 containers in 82-91 ms under mimalloc (goal met for the `vnet` binary;
//! with glibc's malloc 122-148 ms, not met). The linearity goal is NOT met: the ratios
//! differ a lot from run to run (the machine is shared), but 1,000 -> 10,000 is 11-15x
//! and 10,000 -> 100,000 13-17x. The instruction counts are linear (callgrind, inclusive, the previous round:
//! 5.2 M, 52.5 M, 537 M, 5,256 M, i.e. 9.8-10.2x per 10x); the wall clock is not because
//! of memory. A compile of 10,000 containers makes ~690,000 allocations (318,000 of them
//! `String` clones: every action owns its namespace and link names; the `fresh` change
//! below moves ~60,000 of them instead), its actions (144 bytes each) and steps (184
//! bytes) fill ~30 MB, and at 100,000 its hash tables and strings leave every cache; at
//! 100,000, perf shows the biggest extra cost is the kernel clearing pages the allocator
//! gave back between runs (mimalloc purges freed memory after 1 s, and a run takes more).
//!
//! What this round changed (10,000 containers, callgrind with a 4 MB last-level cache):
//! - `order`: each action's namespace, first name, own link and sort class are interned
//!   once (`Key`) in one pass in the order the actions were made; the sort, the needs
//!   and the providers read the keys, and the actions themselves are read sequentially
//!   (providers keep the smallest rank instead of the first visited, so the order of
//!   reading does not matter). Needs are 12 bytes (a next hop is an index). Instructions
//!   432 M -> 412 M, simulated last-level read misses 2.59 M -> 2.23 M; wall clock of the
//!   needs phase ~43 ms -> ~22 ms (one-shot runs).
//! - `fresh`: checks, then takes the desired state apart into the actions (units' links,
//!   masters, routes, NAT rules and each link name's last use moved, not cloned):
//!   compile 411 M -> 386 M instructions, `free` 32 M -> 19 M.
//! - `vnet` links mimalloc: glibc's malloc/free were ~20% of the instructions of a
//!   compile, and under glibc the 100,000-container case page-faults its whole footprint
//!   again on every run.
//!
//! Next step, where the time is: names as shared, cheaply cloned strings (`Arc<str>` or
//! ids into the topology) in `NsRef` and the actions, which removes most of the 690,000
//! allocations and half the bytes; then the desired state (`desired.rs`, ~25% of the
//! instructions) borrowing from the topology instead of cloning it.

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "shared/plan_group.rs"]
mod plan_group;

fn plan(c: &mut Criterion) {
    plan_group::plan(c, "validate+compile");
}

criterion_group!(benches, plan);
criterion_main!(benches);
