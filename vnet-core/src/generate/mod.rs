//! Generators of valid topologies: [`large()`] builds big deterministic ones for benchmarks
//! and scale tests, [`stretched()`] one bridge stretched over many nodes (always compiled, no dependencies); with the `proptest` feature,
//! [`strategies`] yields small arbitrary valid ones and injects single mistakes.

mod large;
#[cfg(feature = "proptest")]
pub mod strategies;
mod stretched;

pub use large::{large, LargeParams};
pub use stretched::{stretched, MAX_STRETCHED_CTS};
