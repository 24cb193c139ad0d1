//! `vnet announce CT --ns PATH --record PATH --interface IF=ADDR,... --schedule MS,...`:
//! the background announcer `vnet start` leaves behind (issue 17). It sends the later
//! offsets of a start's announcement schedule from inside the container's namespace,
//! so the start itself returns once the ports forward and the first announcement is
//! out. It ends when the schedule does, when its record is removed (every `vnet stop`
//! does that and ends it by pid) or when the container's namespace is gone; see
//! `vnet_backend_netlink::lifecycle::announcer`. A start runs it detached through
//! [`crate::verbs::announcer::spawn`].

use std::path::PathBuf;
use std::time::Duration;

use vnet_backend_netlink::lifecycle::announcer::{self, Ended, Target};

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::sandbox::backend_failure;
use crate::verbs::announcer::parse_target;

/// Arguments of `vnet announce`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container (names the announcer in process lists).
    #[arg(value_name = "CT")]
    pub ct: String,
    /// The container's network namespace file (`/run/netns/NAME`).
    #[arg(long, value_name = "PATH")]
    pub ns: PathBuf,
    /// The announcer's record, which names its pid; removing it ends the announcer.
    #[arg(long, value_name = "PATH")]
    pub record: PathBuf,
    /// An interface inside the namespace and its addresses: `eth0=198.18.0.2,2001:db8::2`.
    #[arg(long = "interface", required = true, value_name = "IF=ADDR,...", value_parser = parse_target)]
    pub interfaces: Vec<Target>,
    /// When to announce, in milliseconds from now.
    #[arg(long, value_delimiter = ',', required = true, value_name = "MS,...")]
    pub schedule: Vec<u64>,
}

/// Follows the schedule; exit 0 however it ended (done, cancelled, container gone).
pub fn run(args: &Args, global: &Global) -> Outcome {
    let mut schedule: Vec<Duration> = args
        .schedule
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    schedule.sort_unstable();
    let ended = announcer::follow(&args.record, &args.ns, &args.interfaces, &schedule)
        .map_err(backend_failure)?;
    match global.output {
        Output::Human => crate::outln!("announcer of {} ended: {}", args.ct, why(ended)),
        Output::Json => crate::output::json(&serde_json::json!({
            "ct": args.ct,
            "ended": ended,
        })),
    }
    Ok(Exit::Success)
}

/// Why the announcer ended, in words.
fn why(ended: Ended) -> &'static str {
    match ended {
        Ended::Done => "its schedule is done",
        Ended::Cancelled => "cancelled (a stop, or a newer start)",
        Ended::Gone => "the container's namespace or interface is gone",
    }
}
