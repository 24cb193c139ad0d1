//! The `vnet` command line as a library: the binary (`main.rs`) only calls [`run`].
//!
//! Every subcommand lives in its own file under [`cmd`] with a clap `Args` struct and a
//! `run(&Args, &Global) -> Outcome` function; [`exit`] documents the exit codes all of
//! them share; [`input`] reads and validates topology files and [`report`] prints what is
//! wrong with them, so every subcommand reports problems like `vnet check`.
//!
//! ```text
//! vnet check examples/seed.toml
//! vnet graph examples/seed.toml --format dot | dot -Tpng -o seed.png
//! ```

// This library exists for the `vnet` binary and its tests, and its docs are read with
// `--document-private-items` (module overviews link their private parts, which
// resolve there); the public-only build would only say those parts are private.
#![allow(rustdoc::private_intra_doc_links)]

pub mod cli;
pub mod cmd;
pub mod exit;
pub mod graph;
pub mod input;
pub mod lock;
pub mod output;
pub mod progress;
pub mod report;
pub mod sandbox;
pub mod verbs;

use clap::Parser;

use crate::cli::{Cli, Output};
use crate::exit::Exit;

/// Parses the process's arguments, runs the subcommand and returns the exit code.
/// clap prints help and usage errors itself and exits with 0 or 2 ([`Exit::Usage`]).
///
/// Output goes through [`output`]: when stdout's reader has gone the run ends quietly
/// (see there), also for a subcommand that still panics on a closed pipe.
pub fn run() -> Exit {
    let cli = Cli::parse();
    output::quiet_broken_pipe_panics();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cli.command.run(&cli.global)
    }));
    let outcome = match ran {
        Ok(outcome) => outcome.and_then(output::finish),
        // A `println!` met a closed pipe: the hook stayed silent, and so do we.
        Err(payload) if output::is_broken_pipe_panic(&*payload) => return Exit::Success,
        Err(payload) => std::panic::resume_unwind(payload),
    };
    match outcome {
        Ok(exit) => exit,
        Err(failure) => {
            if let Some(error) = &failure.error {
                print_error(cli.global.output, failure.exit, error);
            }
            failure.exit
        }
    }
}

/// Prints an error that ends the run, with what to do about it when known: on stderr
/// for people, as a JSON object on stdout for programs (so a script reading stdout
/// always gets one document).
fn print_error(output: Output, exit: Exit, error: &anyhow::Error) {
    let text = exit::describe(error);
    let hint = exit::hint(error);
    match output {
        Output::Human => {
            errln!("error: {text}");
            if let Some(hint) = &hint {
                errln!("hint: {hint}");
            }
        }
        Output::Json => {
            output::json(&serde_json::json!({ "error": text, "hint": hint, "exit": exit.code() }));
            // A failure to write this document leaves nothing else to report.
            let _ = output::finish(exit);
        }
    }
}
