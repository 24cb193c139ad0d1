//! A fault injected at every step of a plan, each undone: the backends' rollback tests
//! (FINDINGS case 24) all run this one loop.

use std::fmt::Debug;

use crate::snapshot::snapshot;

/// For each step k of `steps` in order, calls `apply_failing_at(k)`, which runs an apply
/// with a fault injected at step k and returns `Err` (why) when the apply did not fail at
/// k as expected; then asserts that [`snapshot`] equals the one taken before the first.
/// A failure names k and the step (`steps[k]`, e.g. its action). Returns the number of
/// faults injected.
pub fn fault_at_every_step<S: Debug>(
    steps: &[S],
    mut apply_failing_at: impl FnMut(usize) -> Result<(), String>,
) -> usize {
    assert!(!steps.is_empty(), "no step to inject a fault at");
    let before = snapshot();
    for (k, step) in steps.iter().enumerate() {
        if let Err(why) = apply_failing_at(k) {
            panic!("fault at step {k} ({step:?}): {why}");
        }
        let after = snapshot();
        if after != before {
            panic!(
                "fault at step {k} ({step:?}): the state differs from before:\n{}",
                changed_lines(&before, &after)
            );
        }
    }
    steps.len()
}

/// The lines of `before` missing from `after` (`-`) and those new in `after` (`+`).
fn changed_lines(before: &str, after: &str) -> String {
    let gone = before
        .lines()
        .filter(|l| !after.lines().any(|a| a == *l))
        .map(|l| format!("- {l}"));
    let new = after
        .lines()
        .filter(|l| !before.lines().any(|b| b == *l))
        .map(|l| format!("+ {l}"));
    gone.chain(new).collect::<Vec<_>>().join("\n")
}
