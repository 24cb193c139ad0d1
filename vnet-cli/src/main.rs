//! `vnet`: the reference command line of the vnet workspace (see the `vnet_cli` library
//! for the subcommands and the exit codes).

use std::process::ExitCode;

/// mimalloc, not glibc's malloc: a plan is tens of thousands of small strings and vectors
/// (see `benches/benches/plan_mimalloc.rs` for what that buys).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vnet_cli::run().into()
}
