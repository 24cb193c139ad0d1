//! `vnet stop CT... FILE --sandbox` / `--node N --this-host`: take containers' networks
//! down with the netlink backend's `Backend::stop`: in the sandbox their namespaces are
//! deleted (a namespace this topology did not make is left alone); on a real node their
//! own objects are removed and their namespaces, which their runtime owns, stay.
//! Idempotent: a container that is not running is fine.

use std::path::Path;
use std::time::Instant;

use vnet_backend_netlink::lifecycle::container;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::input;
use crate::sandbox::backend_failure;
use crate::sandbox::{split_words, Where};

/// Arguments of `vnet stop`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The containers to stop, then the topology file (`.toml`, or `.json`):
    /// `CT... FILE`. One list, because clap cannot tell where a list of containers ends
    /// when an option stands between it and the file.
    #[arg(required = true, num_args = 1.., value_name = "CT... FILE")]
    pub words: Vec<String>,
    /// On a real node: the node this host is (with --this-host).
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Where the topology runs.
    #[command(flatten)]
    pub target: Where,
}

/// Stops each container; exit 0 also when none was running.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let (cts, file) = split_words(&args.words)?;
    let loaded = input::load_valid(Path::new(file), global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t, args.node.as_deref())?;
    let start = Instant::now();
    // Check every name before changing anything.
    for name in cts {
        container(t, name).map_err(backend_failure)?;
    }
    let backend = target.backend();
    let _lock = crate::lock::take_on_node(&target)?;
    let mut stopped = Vec::new();
    for name in cts {
        let s = backend.stop(t, name).map_err(backend_failure)?;
        if global.output == Output::Human {
            if s.was_running {
                crate::outln!("stopped {name}");
            } else {
                crate::outln!("{name} is not running: nothing to stop");
            }
        }
        stopped.push(s);
    }
    if global.output == Output::Json {
        let doc = serde_json::json!({
            "topology": t.name(),
            "stopped": stopped,
            "elapsed_ms": start.elapsed().as_millis(),
        });
        crate::output::json(&doc);
    }
    Ok(Exit::Success)
}
