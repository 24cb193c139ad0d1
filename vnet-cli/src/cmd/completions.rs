//! `vnet completions SHELL`: a completion script for bash, zsh, fish (and the other
//! shells clap_complete knows), on stdout.

use clap_complete::Shell;

use crate::cli::{self, Global};
use crate::exit::{Exit, Outcome};

/// Arguments of `vnet completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script.
pub fn run(args: &Args, _global: &Global) -> Outcome {
    let mut cmd = cli::command();
    clap_complete::generate(args.shell, &mut cmd, "vnet", &mut std::io::stdout());
    Ok(Exit::Success)
}
