//! Running a plan's commands: one argv at a time through [`std::process::Command`] (never
//! through a shell), stopping at the first failure and undoing what was applied.
//!
//! File actions are not run as commands: the executor writes them itself under its root
//! directory with [`crate::tree::write_tree`] (no root, no file actions).
//!
//! A step counts as applied once its first command succeeded: a step of several commands
//! (a link and its ownership marks) that fails half-way is undone as a whole by its
//! inverse. The undo runs the inverses of the applied steps in reverse order, best
//! effort, and reports every undo command that failed.
//!
//! [`Commands`] is this executor as vnet-core's [`Executor`], so `vnet apply --backend
//! shell` runs the same apply -> verify -> undo loop ([`vnet_core::lifecycle::converge()`])
//! as the netlink backend. Observing the kernel is the caller's (this crate does not
//! depend on the netlink backend): it passes a function that returns the differences.

use std::marker::PhantomData;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vnet_core::lifecycle::{Executor, Mismatch};
use vnet_core::plan::Plan;

use crate::error::{RollbackFailure, ShellError};
use crate::iproute2::StepCommands;
use crate::quote::quote_argv;
use crate::script::check_nul;
use crate::tree::{write_tree, Tree};

/// What a successful run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// The number of steps applied.
    pub steps: usize,
    /// The number of commands run.
    pub commands: usize,
}

/// Runs `steps` in order. On the first failing command, undoes the applied steps and
/// returns [`ShellError::CommandFailed`] naming the step, the command, its exit status,
/// its stderr, and any undo command that failed too.
/// File actions are written under `root`; a plan with file actions and no root fails
/// at its first file action.
pub fn execute(steps: &[StepCommands], root: Option<&Path>) -> Result<RunReport, ShellError> {
    let mut report = RunReport::default();
    for (i, step) in steps.iter().enumerate() {
        if let Some(change) = &step.file {
            if let Err(failure) = write(root, &change.apply) {
                let rollback = undo(&steps[..i], root);
                return Err(match failure {
                    Failure::Spawn(source) => ShellError::Spawn {
                        command: step.summary.clone(),
                        source,
                    },
                    Failure::Status { status, stderr } => ShellError::CommandFailed {
                        step: step.step,
                        command: step.summary.clone(),
                        status,
                        stderr,
                        rollback,
                    },
                });
            }
            report.steps += 1;
            continue;
        }
        for (j, argv) in step.run.iter().enumerate() {
            match run(argv) {
                Ok(()) => report.commands += 1,
                Err(failure) => {
                    // The step's own first command succeeded: it is half-applied, so its
                    // inverse belongs to the undo as well.
                    let applied = if j > 0 { i + 1 } else { i };
                    let rollback = undo(&steps[..applied], root);
                    return Err(match failure {
                        Failure::Spawn(source) => ShellError::Spawn {
                            command: quote_argv(argv),
                            source,
                        },
                        Failure::Status { status, stderr } => ShellError::CommandFailed {
                            step: step.step,
                            command: quote_argv(argv),
                            status,
                            stderr,
                            rollback,
                        },
                    });
                }
            }
        }
        report.steps += 1;
    }
    Ok(report)
}

/// Runs the undo commands of `applied` in reverse order, every one even when some fail;
/// returns those that failed.
pub fn undo(applied: &[StepCommands], root: Option<&Path>) -> Vec<RollbackFailure> {
    let mut failures = Vec::new();
    for step in applied.iter().rev() {
        if let Some(change) = &step.file {
            if let Err(f) = write(root, &change.undo) {
                failures.push(RollbackFailure {
                    command: format!("undo of {}", step.summary),
                    reason: match f {
                        Failure::Spawn(e) => e.to_string(),
                        Failure::Status { status, stderr } => format!("{status}: {stderr}"),
                    },
                });
            }
            continue;
        }
        for argv in &step.undo {
            if let Err(f) = run(argv) {
                failures.push(RollbackFailure {
                    command: quote_argv(argv),
                    reason: match f {
                        Failure::Spawn(e) => format!("cannot run: {e}"),
                        Failure::Status { status, stderr } => format!("{status}: {stderr}"),
                    },
                });
            }
        }
    }
    failures
}

/// A plan's commands as an [`Executor`]: `observe` returns the differences between the
/// system and the topology (the caller observes over netlink), `settle` is how long the
/// kernel may take to match after the last command.
pub struct Commands<'a, O, E> {
    steps: &'a [StepCommands],
    root: Option<&'a Path>,
    observe: O,
    settle: Duration,
    deadline: Option<Instant>,
    error: PhantomData<E>,
}

impl<'a, O, E> Commands<'a, O, E>
where
    O: FnMut() -> Result<Vec<Mismatch>, E>,
{
    /// The executor of `steps` (a plan's [`crate::iproute2::plan_commands`]), with file
    /// actions written under `root`.
    pub fn new(
        steps: &'a [StepCommands],
        root: Option<&'a Path>,
        observe: O,
        settle: Duration,
    ) -> Self {
        Commands {
            steps,
            root,
            observe,
            settle,
            deadline: None,
            error: PhantomData,
        }
    }
}

impl<O, E> std::fmt::Debug for Commands<'_, O, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("steps", &self.steps.len())
            .field("root", &self.root)
            .field("settle", &self.settle)
            .finish_non_exhaustive()
    }
}

/// What went wrong in [`Commands`]: a command, an undo command, or the caller's
/// observation.
#[derive(Debug)]
pub enum CommandsError<E> {
    /// A command failed (its step's prefix was undone, see [`execute`]).
    Shell(ShellError),
    /// An undo command failed.
    Undo(RollbackFailure),
    /// Observing the system failed.
    Observe(E),
}

impl<O, E> Executor for Commands<'_, O, E>
where
    O: FnMut() -> Result<Vec<Mismatch>, E>,
{
    type Applied = RunReport;
    type Error = CommandsError<E>;

    /// Runs the commands the executor was made with (`plan`'s, rendered by the caller).
    fn execute(&mut self, _plan: &Plan) -> Result<RunReport, CommandsError<E>> {
        let report = execute(self.steps, self.root).map_err(CommandsError::Shell)?;
        self.deadline = Some(Instant::now() + self.settle);
        Ok(report)
    }

    fn count(applied: &RunReport) -> usize {
        applied.steps
    }

    fn differences(&mut self) -> Result<Vec<Mismatch>, CommandsError<E>> {
        (self.observe)().map_err(CommandsError::Observe)
    }

    fn wait(&mut self) -> bool {
        if self.deadline.is_none_or(|d| Instant::now() >= d) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
        true
    }

    fn undo(&mut self, _plan: &Plan, applied: &RunReport) -> Vec<CommandsError<E>> {
        let done = &self.steps[..applied.steps.min(self.steps.len())];
        undo(done, self.root)
            .into_iter()
            .map(CommandsError::Undo)
            .collect()
    }
}

fn write(root: Option<&Path>, tree: &Tree) -> Result<(), Failure> {
    let Some(root) = root else {
        return Err(Failure::Spawn(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "file actions need a root directory",
        )));
    };
    write_tree(root, tree).map_err(|e| Failure::Status {
        status: "file error".to_string(),
        stderr: e.to_string(),
    })
}

enum Failure {
    Spawn(std::io::Error),
    Status { status: String, stderr: String },
}

fn run(argv: &[String]) -> Result<(), Failure> {
    if let Err(e) = check_nul(argv) {
        return Err(Failure::Spawn(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            e.to_string(),
        )));
    }
    let Some((program, args)) = argv.split_first() else {
        return Err(Failure::Spawn(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty command",
        )));
    };
    let out = Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(Failure::Spawn)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Failure::Status {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    fn touch_step(step: usize, path: &Path) -> StepCommands {
        let p = path.to_str().unwrap();
        StepCommands {
            step,
            stage: 0,
            summary: format!("touch {p}"),
            run: vec![argv(&["touch", p])],
            undo: vec![argv(&["rm", p])],
            file: None,
        }
    }

    #[test]
    fn a_failure_stops_the_run_reports_it_and_undoes_the_prefix() {
        let dir = std::env::temp_dir().join(format!("vnet-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        let mut steps = vec![touch_step(0, &a), touch_step(1, &b)];
        steps.push(StepCommands {
            step: 2,
            stage: 1,
            summary: "fails".into(),
            run: vec![argv(&["sh", "-c", "echo broken >&2; exit 3"])],
            undo: vec![],
            file: None,
        });
        steps.push(touch_step(3, &dir.join("never")));
        let err = execute(&steps, None).unwrap_err();
        match &err {
            ShellError::CommandFailed {
                step,
                status,
                stderr,
                rollback,
                ..
            } => {
                assert_eq!(*step, 2);
                assert!(status.contains('3'), "{status}");
                assert_eq!(stderr, "broken");
                assert!(rollback.is_empty(), "{rollback:?}");
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("rolled back cleanly"));
        assert!(!a.exists() && !b.exists() && !dir.join("never").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_half_applied_step_is_undone_and_undo_failures_are_reported() {
        let steps = vec![StepCommands {
            step: 0,
            stage: 0,
            summary: "two commands".into(),
            run: vec![argv(&["true"]), argv(&["false"])],
            undo: vec![argv(&["sh", "-c", "echo undo-ran >&2; exit 1"])],
            file: None,
        }];
        match execute(&steps, None).unwrap_err() {
            ShellError::CommandFailed { rollback, .. } => {
                assert_eq!(rollback.len(), 1);
                assert!(rollback[0].reason.contains("undo-ran"), "{rollback:?}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn arguments_are_never_interpreted_by_a_shell() {
        let dir = std::env::temp_dir().join(format!("vnet-exec-lit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let payload = dir.join("x; touch pwned");
        let steps = vec![touch_step(0, &payload)];
        assert_eq!(
            execute(&steps, None).unwrap(),
            RunReport {
                steps: 1,
                commands: 1
            }
        );
        assert!(payload.exists());
        assert!(!Path::new("pwned").exists() && !dir.join("pwned").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_actions_are_written_under_the_root_and_undone() {
        use crate::iproute2::{plan_commands, sandbox_names};
        use vnet_core::plan::{Action, Plan, Step};
        let root = std::env::temp_dir().join(format!("vnet-exec-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/old"), "before").unwrap();
        let step = |id, action| Step {
            id,
            action,
            after: vec![],
            stage: 0,
        };
        let plan = Plan {
            topology: "t".into(),
            steps: vec![
                step(
                    0,
                    Action::WriteFile {
                        path: "etc/net/ifaces/br0/options".into(),
                        contents: "TYPE=bri\n".into(),
                        mode: 0o644,
                        previous: None,
                    },
                ),
                step(
                    1,
                    Action::WriteFile {
                        path: "etc/old".into(),
                        contents: "after".into(),
                        mode: 0o600,
                        previous: Some("before".into()),
                    },
                ),
                step(
                    2,
                    Action::WriteFile {
                        path: "../escape".into(),
                        contents: "x".into(),
                        mode: 0o644,
                        previous: None,
                    },
                ),
            ],
        };
        let steps = plan_commands(&plan, &sandbox_names("vnet"));
        assert!(
            execute(&steps[..2], None).is_err(),
            "file actions need a root"
        );
        execute(&steps[..2], Some(&root)).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("etc/old")).unwrap(),
            "after"
        );
        match execute(&steps, Some(&root)).unwrap_err() {
            ShellError::CommandFailed {
                step,
                stderr,
                rollback,
                ..
            } => {
                assert_eq!(step, 2);
                assert!(stderr.contains("refusing"), "{stderr}");
                assert!(rollback.is_empty(), "{rollback:?}");
            }
            other => panic!("unexpected {other}"),
        }
        assert!(!root.join("etc/net/ifaces/br0/options").exists());
        assert_eq!(
            std::fs::read_to_string(root.join("etc/old")).unwrap(),
            "before"
        );
        assert!(!root.parent().unwrap().join("escape").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
