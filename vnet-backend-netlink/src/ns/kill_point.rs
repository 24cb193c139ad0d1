//! A test hook to kill the process at a chosen moment: with `VNET_TEST_KILL_AT=POINT:N`
//! in the environment, the process sends itself `SIGKILL` the `N`-th time (counting
//! from 0) it passes the kill point `POINT`. Without the variable nothing happens but
//! one environment read per process.
//!
//! The crash tests (`vnet-cli/tests/cli/kill.rs`) use it to stop a real `vnet` exactly
//! at the boundaries where a kill is hardest to recover from, instead of hoping a timer
//! lands there. Points:
//! - `stage`: before each stage of an executed plan (apply);
//! - `publish`: a namespace file created, the namespace not yet mounted on it;
//! - `unmounted`: a namespace unmounted, its file not yet removed (destroy);
//! - `deleted`: a namespace's file removed, before the next one (destroy).
//!
//! A kill is what it simulates, so honouring the variable in every build is harmless:
//! anyone who can set it can kill the process anyway.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The environment variable naming the kill point and the count.
pub const ENV: &str = "VNET_TEST_KILL_AT";

/// Marks that the process passes kill point `point`; kills the process when it is the
/// one [`ENV`] names and this is the named passing.
pub fn reached(point: &str) {
    static TARGET: OnceLock<Option<(String, usize)>> = OnceLock::new();
    static PASSED: AtomicUsize = AtomicUsize::new(0);
    let target = TARGET.get_or_init(|| {
        let value = std::env::var(ENV).ok()?;
        let (name, n) = value.split_once(':')?;
        Some((name.to_string(), n.parse().ok()?))
    });
    let Some((name, n)) = target else { return };
    if name == point && PASSED.fetch_add(1, Ordering::SeqCst) == *n {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
