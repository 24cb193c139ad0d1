//! `vnet completions SHELL`: a completion script for bash, zsh, fish (and the other
//! shells clap_complete knows), on stdout.

use clap_complete::Shell;

use crate::cli::{self, Global};
use crate::exit::{Exit, Outcome};
use crate::output;

/// Arguments of `vnet completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script; `--output json` is refused (exit 2).
pub fn run(args: &Args, global: &Global) -> Outcome {
    global.refuse_json("completions", "a shell script")?;
    let mut cmd = cli::command();
    // Generated into memory first: clap_complete unwraps its writes, so a closed pipe
    // would be a panic there.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "vnet", &mut script);
    output::write_bytes(&script);
    Ok(Exit::Success)
}
