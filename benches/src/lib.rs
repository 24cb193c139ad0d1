//! Benchmarks of vnet.
