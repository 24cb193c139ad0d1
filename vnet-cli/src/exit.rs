//! The exit codes of `vnet`, shared by every subcommand so scripts can branch on them.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | invalid input: unreadable file, parse error, validation failure |
//! | 2 | usage error (bad arguments; clap's own code) |
//! | 3 | drift found, or verification failed |
//! | 4 | system error: kernel, permissions, I/O while acting |
//! | 7 | `vnet status`: the container's network is cleanly not running (OCF's code) |

use std::fmt;

/// How a `vnet` run ended, as a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: the command did what was asked (for `check`: the topology is valid).
    Success,
    /// 1: the input is not a valid topology (unreadable file, parse error, validation).
    Invalid,
    /// 2: the command line was wrong. clap exits with 2 itself; listed so it is documented.
    Usage,
    /// 3: the system differs from the topology (drift), or verification failed.
    Drift,
    /// 4: the system refused or failed: kernel errors, permissions, I/O while acting.
    System,
    /// 7: `vnet status`: the container's network is cleanly not running (nothing of it
    /// there); the number is OCF's "not running", so a resource agent passes it on.
    NotRunning,
}

impl Exit {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Invalid => 1,
            Exit::Usage => 2,
            Exit::Drift => 3,
            Exit::System => 4,
            Exit::NotRunning => 7,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

/// Why a subcommand failed, and with which exit code.
///
/// `error` is `None` when the subcommand already reported the problem itself (for example
/// the rendered validation diagnostics), so `main` only has to exit.
#[derive(Debug)]
pub struct Failure {
    /// The exit code to end with.
    pub exit: Exit,
    /// The error to print, unless already reported.
    pub error: Option<anyhow::Error>,
}

impl Failure {
    /// Invalid input (exit 1) with the error to print.
    pub fn invalid(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            exit: Exit::Invalid,
            error: Some(error.into()),
        }
    }

    /// A usage error clap cannot see (exit 2), e.g. an unknown subcommand name given
    /// as a value.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            exit: Exit::Usage,
            error: Some(error.into()),
        }
    }

    /// A system error (exit 4) with the error to print.
    pub fn system(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            exit: Exit::System,
            error: Some(error.into()),
        }
    }

    /// A failure the subcommand has already reported on its output.
    pub fn reported(exit: Exit) -> Self {
        Failure { exit, error: None }
    }
}

/// An error and its causes on one line, `outer: cause: root`, each text once: an error
/// whose message already ends with its cause's text (`... : Too many open files (os
/// error 24)`, as io and nix errors are often wrapped) does not repeat it.
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// What to do about `error`, when a library error in its chain knows.
pub fn hint(error: &anyhow::Error) -> Option<String> {
    error
        .chain()
        .find_map(|c| c.downcast_ref::<vnet_backend_netlink::Error>())
        .and_then(vnet_backend_netlink::Error::hint)
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(e) => f.write_str(&describe(e)),
            None => write!(f, "exit {}", self.exit.code()),
        }
    }
}

/// What every subcommand's `run` returns: the exit code of a completed run (which may be
/// [`Exit::Invalid`] for `check` or [`Exit::Drift`] for `diff`), or a failure.
pub type Outcome = Result<Exit, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<u8> = [
            Exit::Success,
            Exit::Invalid,
            Exit::Usage,
            Exit::Drift,
            Exit::System,
            Exit::NotRunning,
        ]
        .iter()
        .map(|e| e.code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 7]);
    }

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = || std::io::Error::from_raw_os_error(24);
        // As thiserror's `#[error("... {source}")]` with `#[source]` makes it.
        let twice = anyhow::Error::from(io()).context(format!("namespace open x: {}", io()));
        let text = describe(&twice);
        assert_eq!(text.matches("os error 24").count(), 1, "{text}");
        let plain = anyhow::anyhow!("root").context("outer");
        assert_eq!(describe(&plain), "outer: root");
    }
}
