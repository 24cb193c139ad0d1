//! The validate + compile benchmark group, shared by `plan.rs` (the system allocator)
//! and `plan_mimalloc.rs` (mimalloc, the allocator `vnet` links): the same sizes and the
//! same timed part, so the two reports compare side by side.

use criterion::Criterion;

use vnet_core::plan::{compile, Scope};

#[path = "sizes.rs"]
mod sizes;

/// Validate + compile of `large()` at 100 to 100,000 containers, as group `name`. The
/// validated topology is dropped inside the timed part, the plan after it.
pub fn plan(c: &mut Criterion, name: &str) {
    sizes::over_sizes(c, name, 60, |t| {
        let valid = vnet_core::validate(t).expect("large() is valid");
        compile(&valid, &Scope::Sandbox)
    });
}
