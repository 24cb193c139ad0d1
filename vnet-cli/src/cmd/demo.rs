//! `vnet demo`: the README's first command. Builds the article's network (or FILE) as
//! namespaces on this machine, proves it with real pings, shows what the kernel holds,
//! and removes it again — also when a step fails or on Ctrl-C — unless `--keep`.

use anyhow::anyhow;
use nix::sys::signal::{SigSet, Signal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::sandbox::{Resolved, Target, DEFAULT_PREFIX};
use crate::verbs::{apply, destroy, show, verify};

/// The topology the demo builds when none is given.
pub const DEFAULT_FILE: &str = "examples/seed.toml";

/// Arguments of `vnet demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file; relative paths are tried in the current directory, then in
    /// vnet's source tree.
    #[arg(default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// The sandbox's namespace name prefix.
    #[arg(long, default_value = DEFAULT_PREFIX)]
    pub prefix: String,
    /// Leave the namespaces in place (remove them later with `vnet destroy`).
    #[arg(long)]
    pub keep: bool,
    /// How long the reachability probes wait for replies, in milliseconds.
    #[arg(long, default_value_t = verify::DEFAULT_TIMEOUT_MS, value_name = "MS")]
    pub timeout: u64,
}

/// Runs the demo; exit 0 when everything was built, verified and (unless kept) removed.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let file = locate(&args.file)?;
    let loaded = input::load_valid(&file, global)?;
    let t = &loaded.valid;
    preconditions(t)?;
    let target = Target::sandbox(&args.prefix).resolve(t)?;
    let interrupted = watch_interrupts()?;
    let _lock = crate::lock::take()?;
    let say = |line: String| {
        if global.output == Output::Human {
            crate::outln!("{line}");
        }
    };
    say(format!(
        "vnet demo: topology `{}` from {} as namespaces {}-* on this machine",
        t.name(),
        file.display(),
        args.prefix
    ));
    let result = build_and_prove(t, &target, args, global.output, &interrupted, &say);
    if args.keep && result.is_ok() {
        say(format!(
            "kept; remove with: vnet destroy {} --sandbox --prefix {}",
            file.display(),
            args.prefix
        ));
        if let Ok(doc) = &result {
            emit_json(global.output, doc, None);
        }
        return result.map(|_| Exit::Success);
    }
    // Whatever happened above, the sandbox goes away again.
    let removed = destroy::destroy(t, &target, global.output);
    match &removed {
        Ok(summary) => say(format!("removed ({} ms)", summary.elapsed_ms)),
        Err(f) => crate::errln!("error: could not remove the sandbox: {f}"),
    }
    let doc = result?;
    let removed = removed?;
    emit_json(global.output, &doc, Some(&removed));
    Ok(if doc.matched {
        Exit::Success
    } else {
        Exit::Drift
    })
}

/// What the demo found, for the JSON document.
struct Found {
    apply: apply::Summary,
    matched: bool,
    probes: Vec<verify::ProbeResult>,
    state: vnet_core::observed::ObservedState,
    target: Resolved,
}

fn emit_json(output: Output, doc: &Found, removed: Option<&destroy::Summary>) {
    if output == Output::Json {
        crate::output::json(&serde_json::json!({
                "apply": doc.apply,
                "verify": { "matched": doc.matched, "probes": doc.probes },
                "show": { "namespaces": show::shown(&doc.target, &doc.state) },
                "destroy": removed,
        }));
    }
}

fn build_and_prove(
    t: &ValidTopology,
    target: &Resolved,
    args: &Args,
    output: Output,
    interrupted: &AtomicBool,
    say: &dyn Fn(String),
) -> Result<Found, Failure> {
    let stop = || -> Result<(), Failure> {
        if interrupted.load(Ordering::SeqCst) {
            Err(Failure::system(anyhow!("interrupted")))
        } else {
            Ok(())
        }
    };
    say("applying ...".into());
    let summary = apply::apply_netlink(t, target, output)?;
    say(summary.line());
    stop()?;
    let probes = reach_count(t);
    say(format!(
        "verifying reachability: {probes} pings from inside the namespaces ..."
    ));
    let started = Instant::now();
    let results = verify::probe(t, target, Duration::from_millis(args.timeout))?;
    let matched = results.iter().all(verify::ProbeResult::matches);
    if output == Output::Human {
        crate::out!("{}", verify::render(&results, verify::colour()));
    }
    say(format!("verified in {} ms", started.elapsed().as_millis()));
    stop()?;
    let state = show::observe(t, target)?;
    if output == Output::Human {
        crate::outln!("\nwhat the kernel holds:");
        crate::out!("{}", show::render(t, target, &state));
    }
    stop()?;
    Ok(Found {
        apply: summary,
        matched,
        probes: results,
        state,
        target: target.clone(),
    })
}

fn reach_count(t: &ValidTopology) -> usize {
    vnet_core::reach::expectations(t).len()
}

/// The file as given if it exists, else relative to vnet's source tree (so `vnet demo`
/// works from anywhere in a checkout or with `cargo run`).
fn locate(file: &Path) -> Result<PathBuf, Failure> {
    if file.exists() || file.is_absolute() {
        return Ok(file.to_path_buf());
    }
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    if in_tree.exists() {
        // Shown to people: `/src/vnet/examples/seed.toml`, not `.../vnet-cli/../examples`.
        return Ok(in_tree.canonicalize().unwrap_or(in_tree));
    }
    Err(Failure::invalid(anyhow!(
        "cannot find {} (neither in the current directory nor in {})",
        file.display(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").display()
    )))
}

/// Root, and the tools the topology needs, each missing one named with its package.
fn preconditions(t: &ValidTopology) -> Result<(), Failure> {
    let mut missing = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        missing.push("root: the demo creates network namespaces (run it with sudo)".to_string());
    }
    if !on_path("ip") {
        missing.push("the `ip` command: apt-get install iproute2".to_string());
    }
    if t.topology().ct.iter().any(|c| !c.nat.is_empty()) && !on_path("nft") {
        missing.push("the `nft` command (NAT rules): apt-get install nftables".to_string());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::system(anyhow!(
            "vnet demo needs {}",
            missing.join("; and ")
        )))
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Blocks SIGINT and SIGTERM in this thread (and so in every thread it starts later) and
/// waits for them on a thread of their own: the first one asks the demo to stop and
/// clean up at the next step; a second one ends the process at once.
fn watch_interrupts() -> Result<Arc<AtomicBool>, Failure> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()
        .map_err(|e| Failure::system(anyhow!("cannot block SIGINT: {e}")))?;
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    std::thread::spawn(move || {
        while let Ok(signal) = set.wait() {
            if seen.swap(true, Ordering::SeqCst) {
                std::process::exit(128 + signal as i32);
            }
            crate::errln!(
                "interrupted: removing the sandbox after the current step (again to quit now)"
            );
        }
    });
    Ok(flag)
}
