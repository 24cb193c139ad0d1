//! Building a topology with either backend, and what it took ([`Summary`]): `vnet apply`,
//! `vnet demo` and `vnet failover-test` build this way.

use anyhow::anyhow;
use serde::Serialize;
use std::time::{Duration, Instant};

use vnet_backend_netlink::{ApplyOptions, Error as BackendError};
use vnet_backend_shell::exec::{self, CommandsError};
use vnet_backend_shell::iproute2;
use vnet_core::lifecycle::converge::Unverified;
use vnet_core::lifecycle::{converge, ConvergeError};
use vnet_core::plan::{self, Action, Plan};
use vnet_core::ValidTopology;

use crate::cli::Output;
use crate::exit::{Exit, Failure};
use crate::progress::Progress;
use crate::sandbox::{backend_failure, Resolved};

/// What an apply did, as printed (and as the JSON document).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The topology's name.
    pub topology: String,
    /// The backend that executed.
    pub backend: &'static str,
    /// Steps of the repair plan (0: nothing differed).
    pub steps: usize,
    /// Stages of the plan.
    pub stages: usize,
    /// Namespaces the plan created.
    pub namespaces_created: usize,
    /// Mutating netlink requests (netlink backend; the shell backend counts commands).
    pub mutating_requests: u64,
    /// Commands run (shell backend only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commands: Option<usize>,
    /// Whether the result was observed and matched the topology.
    pub verified: bool,
    /// Wall time of the whole apply, in milliseconds.
    pub elapsed_ms: u128,
}

impl Summary {
    fn new(t: &ValidTopology, backend: &'static str, plan: &Plan, elapsed: Duration) -> Self {
        Summary {
            topology: t.name().to_string(),
            backend,
            steps: plan.len(),
            stages: stages(plan),
            namespaces_created: plan
                .actions()
                .filter(|a| matches!(a, Action::CreateNamespace { .. }))
                .count(),
            mutating_requests: 0,
            commands: None,
            verified: false,
            elapsed_ms: elapsed.as_millis(),
        }
    }

    /// The one line people read: "built 7 namespaces, 31 steps in 6 stages ...".
    pub fn line(&self) -> String {
        if self.steps == 0 {
            return format!(
                "topology `{}` already in place: nothing to change{} ({} ms)",
                self.topology,
                if self.verified { ", verified" } else { "" },
                self.elapsed_ms
            );
        }
        let changes = match self.commands {
            Some(c) => format!("{c} commands"),
            None => format!("{} netlink changes", self.mutating_requests),
        };
        let what = if self.namespaces_created > 0 {
            format!(
                "built {} namespace{}",
                self.namespaces_created,
                plural(self.namespaces_created)
            )
        } else {
            "repaired".to_string()
        };
        format!(
            "{what}, {} step{} in {} stage{} ({changes}{}) in {} ms",
            self.steps,
            plural(self.steps),
            self.stages,
            plural(self.stages),
            if self.verified { ", verified" } else { "" },
            self.elapsed_ms
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The number of stages of a plan.
pub fn stages(plan: &Plan) -> usize {
    plan.steps.iter().map(|s| s.stage + 1).max().unwrap_or(0)
}

/// What an apply does with unmarked objects in the topology's way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmarked {
    /// Refuses them as "in the way and not owned" (the default).
    #[default]
    Refuse,
    /// Takes over those that match the topology exactly (marks only) and refuses,
    /// changing nothing, when one differs (`--adopt`).
    Adopt,
}

impl Unmarked {
    /// The repair plan against what `target`'s backend observes.
    pub fn diff(self, t: &ValidTopology, target: &Resolved) -> Result<Plan, Failure> {
        let backend = target.backend();
        match self {
            Unmarked::Refuse => backend.diff(t, &target.scope),
            Unmarked::Adopt => backend.diff_adopting(t, &target.scope),
        }
        .map_err(backend_failure)
    }
}

/// Applies with the netlink backend (observe, diff, execute, verify; undo on failure).
pub fn apply_netlink(
    t: &ValidTopology,
    target: &Resolved,
    output: Output,
) -> Result<Summary, Failure> {
    apply_netlink_with(t, target, output, Unmarked::Refuse)
}

/// [`apply_netlink`], doing with unmarked objects in the way what `unmarked` says.
pub fn apply_netlink_with(
    t: &ValidTopology,
    target: &Resolved,
    output: Output,
    unmarked: Unmarked,
) -> Result<Summary, Failure> {
    let start = Instant::now();
    let backend = target.backend();
    // The repair plan is not known before the backend observes; the full plan's size
    // says whether this is big work.
    let full = plan::compile(t, &target.scope).len();
    let progress = Progress::start(
        output,
        full,
        format!("applying topology `{}` (up to {full} steps)", t.name()),
    );
    let options = ApplyOptions {
        adopt: unmarked == Unmarked::Adopt,
        ..ApplyOptions::default()
    };
    let result = backend.apply(t, &target.scope, &options);
    progress.finish();
    let report = result.map_err(backend_failure)?;
    let mut summary = Summary::new(t, "netlink", &report.plan, start.elapsed());
    summary.mutating_requests = report.mutating_requests;
    summary.verified = report.verified;
    Ok(summary)
}

/// Applies with the shell backend: the same repair plan, run as iproute2 commands one
/// by one (undone on failure), then verified by observing over netlink (undone when
/// that fails): vnet-core's apply -> verify -> undo loop ([`converge()`]), as the netlink
/// backend runs it.
pub fn apply_shell(
    t: &ValidTopology,
    target: &Resolved,
    output: Output,
    unmarked: Unmarked,
) -> Result<Summary, Failure> {
    let start = Instant::now();
    let backend = target.backend();
    let plan = unmarked.diff(t, target)?;
    let steps = iproute2::plan_commands(&plan, &|ns| target.shell_name(ns));
    let progress = Progress::start(
        output,
        plan.len(),
        format!("running {} steps' commands", plan.len()),
    );
    let observe = || backend.check(t, &target.scope);
    let settle = ApplyOptions::default().settle;
    let result = converge(
        &mut exec::Commands::new(&steps, None, observe, settle),
        &plan,
    );
    progress.finish();
    let run = result.map_err(|e| shell_failure(e, steps.len()))?;
    let mut summary = Summary::new(t, "shell", &plan, start.elapsed());
    summary.commands = Some(run.commands);
    summary.mutating_requests = run.commands as u64;
    summary.verified = true;
    Ok(summary)
}

/// The exit and message of a failed shell apply: a failing command is the system's
/// (4); differences left after settling are drift (3), and an undo that failed too
/// leaves the system in between (4).
fn shell_failure(e: ConvergeError<CommandsError<BackendError>>, applied: usize) -> Failure {
    let cause = |e: CommandsError<BackendError>| match e {
        CommandsError::Shell(e) => Failure::system(e),
        CommandsError::Undo(f) => Failure::system(anyhow!("{f}")),
        CommandsError::Observe(e) => backend_failure(e),
    };
    let (why, rollback) = match e {
        ConvergeError::Execute(e) => return cause(e),
        ConvergeError::NotVerified {
            cause, rollback, ..
        } => (cause, rollback),
    };
    let mut failure = match why {
        Unverified::Differs(found) => {
            let list: Vec<String> = found.iter().map(ToString::to_string).collect();
            Failure {
                exit: Exit::Drift,
                error: Some(anyhow!(
                    "after apply the system differs from the topology: {}",
                    list.join("; ")
                )),
            }
        }
        Unverified::Observe(e) => cause(e),
    };
    let error = failure
        .error
        .take()
        .unwrap_or_else(|| anyhow!("verification failed"));
    failure.error = Some(if rollback.is_empty() {
        error.context(format!(
            "applied, but verification failed; {applied} applied steps undone"
        ))
    } else {
        failure.exit = Exit::System;
        let failed: Vec<String> = rollback.into_iter().map(|e| cause(e).to_string()).collect();
        error.context(format!(
            "applied, but verification failed; undoing the {applied} applied steps failed too: {}",
            failed.join("; ")
        ))
    });
    failure
}
