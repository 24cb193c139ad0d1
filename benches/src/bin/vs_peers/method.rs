//! What every method under test provides: build the N containers, tear them down, and
//! say where its objects are (for the checks between runs).

use anyhow::Result;

use crate::topo::Ct;

/// One way to build the benchmark's network.
pub trait Method {
    /// Its name in the table.
    fn name(&self) -> &'static str;
    /// What is missing to run it (e.g. a plugin not installed), or `None`.
    fn missing(&self) -> Option<String>;
    /// Builds the network of `cts` (timed).
    fn setup(&mut self, cts: &[Ct]) -> Result<()>;
    /// Removes all of it (timed).
    fn teardown(&mut self, cts: &[Ct]) -> Result<()>;
    /// The named namespace of container `ct`.
    fn ns_of(&self, ct: &Ct) -> String;
    /// The named namespace holding the bridge; `None`: the benchmark's own.
    fn bridge_ns(&self) -> Option<String>;
    /// The untimed check after setup; every method but the floor builds the same
    /// network and is checked by [`crate::check::built`].
    fn check(&self, cts: &[Ct]) -> Result<()>;
}
