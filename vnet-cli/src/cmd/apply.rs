//! `vnet apply FILE --sandbox`: build the topology (observe, diff, execute, verify; undo
//! on failure) and say what it took; `--dry-run` prints the repair plan only.
//!
//! The netlink backend does the work by default; `--backend shell` runs the same plan's
//! iproute2 commands one by one instead (the commands `vnet render` prints), then
//! verifies through netlink observation like the default backend does.

use std::path::PathBuf;
use std::time::Duration;

use vnet_core::plan::listing;
use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::input;
use crate::sandbox::{Resolved, Target};
use crate::verbs::apply::{apply_netlink_with, apply_shell, Unmarked};

/// Which backend executes the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// rtnetlink from inside the namespaces, batched, with rollback (the default).
    Netlink,
    /// The plan's `ip`/`sysctl`/`nft` commands, one process each, with rollback.
    Shell,
}

/// Arguments of `vnet apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`).
    pub file: PathBuf,
    /// Where to build it.
    #[command(flatten)]
    pub target: Target,
    /// How long to wait, in seconds, while another run holds the namespace lock
    /// (`/run/netns`); then give up (exit 4), naming the holder's pid.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::lock::DEFAULT_WAIT.as_secs())]
    pub wait: u64,
    /// Print the plan that would repair the system and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Which backend executes the plan.
    #[arg(long, value_enum, default_value_t = BackendKind::Netlink)]
    pub backend: BackendKind,
    /// Take over objects that exist without vnet's mark exactly as the file wants them
    /// (a network built by hand, veths vzctl made): mark them, change nothing else. One
    /// in the way that differs is refused with the differences, and nothing changes.
    #[arg(long)]
    pub adopt: bool,
}

/// Applies `file` to the target; exit 0 when built and verified.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    let unmarked = if args.adopt {
        Unmarked::Adopt
    } else {
        Unmarked::Refuse
    };
    if args.dry_run {
        return dry_run(t, &target, global.output, unmarked);
    }
    // The shell backend runs `ip netns add`, which takes the same lock itself: holding
    // it here would make that command wait for this one forever.
    let _lock = match args.backend {
        BackendKind::Netlink => Some(crate::lock::take_for(Duration::from_secs(args.wait))?),
        BackendKind::Shell => None,
    };
    let summary = match args.backend {
        BackendKind::Netlink => apply_netlink_with(t, &target, global.output, unmarked)?,
        BackendKind::Shell => apply_shell(t, &target, global.output, unmarked)?,
    };
    match global.output {
        Output::Human => crate::outln!("{}", summary.line()),
        Output::Json => crate::output::json(&summary),
    }
    Ok(Exit::Success)
}

/// Observes and prints the repair plan; changes nothing.
fn dry_run(t: &ValidTopology, target: &Resolved, output: Output, unmarked: Unmarked) -> Outcome {
    let plan = unmarked.diff(t, target)?;
    match output {
        Output::Human if plan.is_empty() => {
            crate::outln!(
                "topology `{}` already in place: nothing to change",
                t.name()
            )
        }
        Output::Human => crate::out!("{}", listing::listing(&plan, &|ns| target.shell_name(ns))),
        Output::Json => crate::output::json(
            &serde_json::json!({ "dry_run": true, "steps": plan.len(), "plan": plan }),
        ),
    }
    Ok(Exit::Success)
}
