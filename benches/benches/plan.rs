//! Validate + compile of `vnet_core::generate::large` topologies at 100, 1,000, 10,000
//! and 100,000 containers, for the sandbox (every namespace, veth pair, bridge, LAN),
//! with the system allocator (glibc). `plan_mimalloc.rs` is the same group under
//! mimalloc, the allocator the `vnet` binary links. The topology's copy that `validate`
//! consumes is made outside the timed part.
//!
//! Goal: linear (10x the containers costs at most 12x the time) and 10,000 containers in
//! under 100 ms. Runs of `cargo bench -p benches --bench plan --bench plan_mimalloc`
//! (2 cores, release, nice -19) on 2026-11-27, second session, on a shared machine
//! (a Firecracker guest; the same binary moved up to 50% between runs minutes apart).
//! Runs A and B at the `Name` change, C with foldhash in `intern` (a build ran beside
//! part of it), D at the reserved vectors (the final code). Mean; ratio = this size / the
//! size before, in the same run:
//!
//! | containers | steps | mimalloc A | B | C | D | ratios D (A, B, C) |
//! |---|---|---|---|---|---|---|
//! | 100 | 938 | 0.66 ms | 0.62 ms | 0.59 ms | 0.53 ms | |
//! | 1,000 | 9,038 | 7.52 ms | 7.54 ms | 5.69 ms | 6.16 ms | 11.7x (11.3, 12.1, 9.7) |
//! | 10,000 | 88,148 | 95.2 ms | 107 ms | 99.8 ms | 101 ms | 16.4x (12.7, 14.2, 17.5) |
//! | 100,000 | 808,688 | 1.37 s | 1.45 s | 1.19 s | 1.14 s | 11.3x (14.4, 13.5, 11.9) |
//!
//! With glibc's malloc (this bench), A / B / C / D: 100: 0.84 / 0.90 / 0.62 / 0.87 ms;
//! 1,000: 6.89 / 10.7 / 8.52 / 10.7 ms; 10,000: 94.6 / 138 / 124 / 112 ms; 100,000: 1.31 /
//! 1.51 / 1.38 / 1.25 s (ratios in D: 12.3x, 10.4x, 11.2x).
//!
//! The first session of that day, before these changes (mimalloc, three runs): 1,000:
//! 5.97-7.41 ms, 10,000: 82.3-90.8 ms, 100,000: 1.18-1.39 s; glibc 10,000: 122-148 ms.
//! Wall clock cannot tell the two sessions apart on this machine: run side by side,
//! interleaved, three times, the previous and the new code took 75.5 / 68.2, 121 / 88.9
//! and 92.8 / 102 ms at 10,000 (mimalloc). The instruction counts can, below.
//!
//! So: 10,000 containers in 95-107 ms under mimalloc this session (the goal is on its
//! edge; 82-91 ms in the first session's runs), 95-138 ms with glibc's malloc. The
//! linearity goal is NOT met: 10,000 -> 100,000 is 11.3-14.4x, and 1,000 -> 10,000
//! 12.7-17.5x under mimalloc (10.4-14.6x under glibc).
//!
//! Where the time goes (callgrind, compile only, `--cache-sim=yes --LL=4194304,16,64`):
//! compile of 1,000 containers 33.4 M instructions and 73,000 last-level data misses;
//! of 10,000, 337 M instructions (10.1x: the work is linear) and 2.61 M misses (36x).
//! At 1,000 the whole compile fits in the last-level cache; at 10,000 its actions (144
//! bytes each, 12.7 MB) and steps (184 bytes, 16 MB) do not, and writing them is most
//! of the misses: memmove has 57% of the write misses (moving actions into the plan's
//! vector, then each into its step). The ordering's interning (`order::key` and
//! `needs_edges`, hash tables of ~20,000 names and links) has a fifth of the read
//! misses; one-shot phase timings (plan_timing with temporary timers) put it at 20x per
//! 10x the containers, the rest of the phases at 10-15x.
//!
//! What this round changed (compile of 10,000 containers, callgrind as above):
//! - Names are `vnet_core::plan::Name` (smol_str: inline up to 23 bytes, no
//!   allocation on clone) instead of `String` in `NsRef`, the actions and the desired
//!   state, ~300,000 allocations fewer; and `intern` compares the last four names and
//!   links looked up before its hash tables (55% of the lookups hit). Both: 386 M ->
//!   345.5 M instructions. Then the maps use foldhash like validation (343.8 M, the same
//!   misses).
//! - `desired`: namespaces, units and each node's links are reserved up front (they
//!   grew by doubling, copying ~10 MB): 336.8 M instructions, misses 2.74 M -> 2.61 M.
//!
//! Third session of 2026-11-27 (same code for `large()`; plans unchanged): criterion,
//! nice -19, one run each: mimalloc 0.67 / 7.21 / 88.3 / 966 ms (ratios 10.8x, 12.3x,
//! 10.9x), glibc 0.57 / 4.76 / 76.2 / 1,040 ms (8.4x, 16.0x, 13.6x). 10,000 containers
//! under 100 ms in both, this time.
//!
//! Criterion measures one size after the other, so a ratio between sizes carries the
//! machine's drift between those moments (here glibc was faster than mimalloc, the
//! opposite of every earlier run). `examples/plan_ratio.rs` interleaves the sizes round
//! by round, so both see the same moments: 1,000 -> 10,000 is 14.3x and 15.8x (per-round
//! quartiles 13.7-14.7), 10,000 -> 100,000 17.1x (quartiles 13.9-17.2), with 10,000
//! containers at 59-74 ms (medians). So the growth really is 14-17x per 10x containers
//! while the instructions grow 10.1x (callgrind, above): the excess is memory. Per
//! container a compile of 10,000 touches ~6 KB (peak RSS 105 MB, 620 MB at 100,000):
//! the topology and its resolution, the desired state (a `BTreeSet` node per link's
//! addresses), the actions (144 bytes, ~9 per container), keys, graph and steps (184
//! bytes each plus an `after` vector).
//!
//! Fourth session (2026-11-27, same code): `plan_ratio` now times, in the same rounds,
//! two references without any algorithm: a copy of the plan compile returned (`Plan::
//! clone` and its drop: allocating and writing every step, action and `after` list) and
//! writing as many bytes as the plan's steps into a fresh vector. Medians (mimalloc,
//! nice -19, one run each):
//!
//! | | 1,000 -> 10,000 | 10,000 -> 100,000 |
//! |---|---|---|
//! | validate + compile | 6.25 -> 86.0 ms: 13.8x (quartiles 13.4-14.3) | 85.9 -> 1,172 ms: 13.6x (13.3-15.5) |
//! | a copy of its plan | 0.49 -> 7.46 ms: 15.1x (14.2-15.5) | 6.09 -> 89.2 ms: 14.6x (13.0-15.4) |
//! | writing the steps' bytes | 0.048 -> 1.53 ms: 32x (30-34) | 0.74 -> 14.6 ms: 20x (19-21) |
//!
//! Criterion in the same session (mimalloc, one run, a short build beside part of the
//! 100,000 case): 0.498 / 5.94 / 83.9 / 1,152 ms at 100 / 1,000 / 10,000 / 100,000
//! (ratios 11.9x, 14.1x, 13.7x).
//!
//! So on this machine a plain copy of the output grows faster per 10x than the whole
//! validate + compile that makes it (the writes alone: 1.8 MB stay in a core's 2 MB L2
//! cache and in the allocator's warm pages at 1,000 containers; 18 MB at 10,000 go to
//! L3 and to fresh pages the kernel zeroes). No planner that returns this `Plan` can grow
//! by 12x or less per 10x here, whatever its algorithm; the planner's own work is linear
//! (10.1x in instructions, callgrind, above). Two experiments of this session changed
//! nothing measurable and were dropped: emitting the fresh plan's actions stage by stage
//! (so ordering moves them from nearby slots) and interning names by an inline copy
//! (so a lookup does not follow a pointer back into the actions); A/B against the
//! previous binary, alternated four times: 12.7-14.3x against 12.5-14.8x.
//!
//! What would still cut the absolute time (not the ratio's floor): a smaller output
//! (`after` lists without one allocation per step, a `CreateLink` carrying its 100-byte
//! `LinkSpec` boxed instead of in every action of the enum), and the ordering on compact
//! ids handed from the desired state instead of re-interned names.

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "shared/plan_group.rs"]
mod plan_group;

fn plan(c: &mut Criterion) {
    plan_group::plan(c, "validate+compile");
}

criterion_group!(benches, plan);
criterion_main!(benches);
