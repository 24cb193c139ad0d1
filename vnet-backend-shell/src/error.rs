//! [`ShellError`]: everything that can go wrong rendering, writing or running scripts.

use std::path::PathBuf;

/// An error of the shell backend.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// An argument holds a NUL byte, which no command line can carry.
    #[error("argument {argument:?} of `{program}` contains a NUL byte")]
    NulInArgument {
        /// The program the argument was meant for.
        program: String,
        /// The argument, NUL included.
        argument: String,
    },
    /// A path of a rendered tree is absolute, empty or climbs out of the root.
    #[error("refusing to write {path:?}: paths must be relative and stay inside the root")]
    UnsafePath {
        /// The offending path.
        path: String,
    },
    /// A directory on the way to a file is a symlink or not a directory.
    #[error("refusing to write through {path}: not a plain directory")]
    NotADirectory {
        /// The offending directory.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`create`, `write`, `rename` ...).
        op: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command could not be started at all (not found, not executable).
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line, quoted.
        command: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command of a plan failed; the commands before it were undone (see `rollback`).
    #[error(
        "step {step} failed: `{command}` exited with {status}: {stderr}{}",
        rollback_summary(rollback)
    )]
    CommandFailed {
        /// The plan step (0-based) whose command failed.
        step: usize,
        /// The failing command line, quoted.
        command: String,
        /// The exit status, e.g. `exit status: 2`.
        status: String,
        /// What the command wrote to stderr, trimmed.
        stderr: String,
        /// Undo commands that failed in turn (empty when the rollback was clean).
        rollback: Vec<RollbackFailure>,
    },
}

/// An undo command that failed during a rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackFailure {
    /// The command line, quoted.
    pub command: String,
    /// Why it failed: exit status and stderr, or the spawn error.
    pub reason: String,
}

impl std::fmt::Display for RollbackFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` ({})", self.command, self.reason)
    }
}

fn rollback_summary(r: &[RollbackFailure]) -> String {
    if r.is_empty() {
        "; rolled back cleanly".to_string()
    } else {
        let list: Vec<String> = r.iter().map(ToString::to_string).collect();
        format!("; rollback incomplete: {}", list.join(", "))
    }
}

impl ShellError {
    /// An I/O error of `op` on `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ShellError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
