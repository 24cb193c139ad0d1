//! `vnet`: the reference command line of the vnet workspace (see the `vnet_cli` library
//! for the subcommands and the exit codes).

use std::process::ExitCode;

fn main() -> ExitCode {
    vnet_cli::run().into()
}
