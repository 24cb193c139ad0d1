//! Generators of valid topologies: [`large()`] builds big deterministic ones for benchmarks
//! and scale tests (always compiled, no dependencies); with the `proptest` feature,
//! [`strategies`] yields small arbitrary valid ones and injects single mistakes.

mod large;
#[cfg(feature = "proptest")]
pub mod strategies;

pub use large::{large, LargeParams};
