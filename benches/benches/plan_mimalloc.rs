//! The validate + compile benchmark of `plan.rs` with mimalloc as the global allocator,
//! which is what the `vnet` binary links (see `vnet-cli/src/main.rs`): planning a large
//! topology is mostly small allocations (a name per action), and glibc's malloc and free
//! are about a quarter of it. Run both and compare:
//! `cargo bench -p benches --bench plan --bench plan_mimalloc`. Figures in `plan.rs`.

use criterion::{criterion_group, criterion_main, Criterion};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "shared/plan_group.rs"]
mod plan_group;

fn plan(c: &mut Criterion) {
    plan_group::plan(c, "validate+compile (mimalloc)");
}

criterion_group!(benches, plan);
criterion_main!(benches);
