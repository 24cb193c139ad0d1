//! The results: one table per N (setup, ms per container, teardown, ratios to vnet),
//! vnet's no-op apply, the goals of issue 4, and vnet's per-stage times.

use std::time::Duration;

use vnet_backend_netlink::ExecReport;

/// Setup and teardown wall times of one method.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Building all containers.
    pub setup: Duration,
    /// Removing all of them.
    pub teardown: Duration,
}

/// One line of the table.
#[derive(Debug)]
pub struct Row {
    name: &'static str,
    outcome: Result<Timing, String>,
}

impl Row {
    /// A method that ran (or failed).
    pub fn new(name: &'static str, timing: anyhow::Result<Timing>) -> Self {
        Row {
            name,
            outcome: timing.map_err(|e| format!("FAILED: {e:#}")),
        }
    }

    /// The median of a method's rounds (by setup time; teardown likewise on its own), or
    /// the first failure.
    pub fn median(name: &'static str, runs: Vec<anyhow::Result<Timing>>) -> Self {
        let runs: anyhow::Result<Vec<Timing>> = runs.into_iter().collect();
        Row::new(
            name,
            runs.map(|runs| {
                let mid = |mut v: Vec<Duration>| {
                    v.sort();
                    v[v.len() / 2]
                };
                Timing {
                    setup: mid(runs.iter().map(|t| t.setup).collect()),
                    teardown: mid(runs.iter().map(|t| t.teardown).collect()),
                }
            }),
        )
    }

    /// A method that could not run: what is missing.
    pub fn missing(name: &'static str, what: String) -> Self {
        Row {
            name,
            outcome: Err(format!("NOT INSTALLED: {what}")),
        }
    }
}

/// Issue 4's goals at N = 1,000: how many times faster than vnet each peer must be
/// (by table row position after vnet: ip -batch, CNI, ip per operation).
fn goal(name: &str) -> Option<f64> {
    match name {
        "ip -batch" => Some(3.5),
        "CNI bridge plugin" => Some(10.0),
        "ip, one process per operation" => Some(25.0),
        _ => None,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Prints the table for `n`; returns whether every method ran.
pub fn print(n: usize, rounds: usize, rows: &[Row], noop: Option<Duration>) -> bool {
    let vnet = rows.first().and_then(|r| r.outcome.as_ref().ok()).copied();
    println!("\n### N = {n} containers on one bridge (median of {rounds} rounds)\n");
    println!("| method | setup | ms/CT | teardown | setup: x vnet | teardown: x vnet |");
    println!("|---|---|---|---|---|---|");
    let mut all = true;
    for row in rows {
        match &row.outcome {
            Ok(t) => {
                let ratio = |mine: Duration, theirs: Option<Duration>| match theirs {
                    Some(v) if !v.is_zero() => {
                        format!("{:.1}", mine.as_secs_f64() / v.as_secs_f64())
                    }
                    _ => "-".into(),
                };
                println!(
                    "| {} | {} | {:.2} | {} | {} | {} |",
                    row.name,
                    secs(t.setup),
                    t.setup.as_secs_f64() * 1000.0 / n as f64,
                    secs(t.teardown),
                    ratio(t.setup, vnet.map(|v| v.setup)),
                    ratio(t.teardown, vnet.map(|v| v.teardown)),
                );
            }
            Err(e) => {
                all = false;
                println!("| {} | {e} | | | | |", row.name);
            }
        }
    }
    if let (Some(v), Some(noop)) = (vnet, noop) {
        println!(
            "\nvnet second (no-op) apply: {:.0} ms = {:.1}% of the first ({} ms)",
            noop.as_secs_f64() * 1000.0,
            100.0 * noop.as_secs_f64() / v.setup.as_secs_f64(),
            v.setup.as_millis()
        );
    }
    if n == 1000 {
        if let Some(v) = vnet {
            goals(rows, v, noop);
        }
    }
    all
}

/// Issue 4's goals at N = 1,000, each with MET or MISSED.
fn goals(rows: &[Row], v: Timing, noop: Option<Duration>) {
    let verdict = |ok: bool| if ok { "MET" } else { "MISSED" };
    println!("\nGoals at N = 1000:");
    for row in rows {
        let (Some(want), Ok(t)) = (goal(row.name), &row.outcome) else {
            continue;
        };
        let got = t.setup.as_secs_f64() / v.setup.as_secs_f64();
        println!(
            "- {:.1}x faster than {} (goal {want}x): {}",
            got,
            row.name,
            verdict(got >= want)
        );
    }
    println!(
        "- {:.2} ms per container (issue 18's goal <= 1.0): {}",
        v.setup.as_secs_f64(),
        verdict(v.setup <= Duration::from_secs(1))
    );
    println!(
        "- setup {:.2} s (goal <= 3 s): {}",
        v.setup.as_secs_f64(),
        verdict(v.setup <= Duration::from_secs(3))
    );
    println!(
        "- teardown {:.2} s (goal <= 1.5 s): {}",
        v.teardown.as_secs_f64(),
        verdict(v.teardown <= Duration::from_millis(1500))
    );
    if let Some(noop) = noop {
        let share = noop.as_secs_f64() / v.setup.as_secs_f64();
        println!(
            "- no-op apply {:.1}% of the first (goal < 10%): {}",
            share * 100.0,
            verdict(share < 0.10)
        );
    }
}

/// vnet's setup broken down: parse and validate, then each plan stage's execution.
pub fn stages(n: usize, validate: Duration, exec: &ExecReport) {
    eprintln!(
        "vnet N = {n}: parse+validate {:.0} ms; execute {:.0} ms ({} steps, {} mutating requests)",
        validate.as_secs_f64() * 1000.0,
        exec.elapsed.as_secs_f64() * 1000.0,
        exec.steps,
        exec.mutating_requests
    );
    for (stage, actions, took) in &exec.stages {
        eprintln!(
            "  stage {stage}: {actions} actions in {:.1} ms",
            took.as_secs_f64() * 1000.0
        );
    }
}
