//! `vnet man [SUBCOMMAND]`: the man page in roff, on stdout.

use anyhow::{anyhow, Context};

use crate::cli::{self, Global};
use crate::exit::{Exit, Failure, Outcome};
use crate::output;

/// Arguments of `vnet man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The subcommand whose page to print (`vnet-check(1)`); vnet(1) when omitted.
    pub subcommand: Option<String>,
}

/// Renders the page; `--output json` is refused (exit 2).
pub fn run(args: &Args, global: &Global) -> Outcome {
    global.refuse_json("man", "a roff man page")?;
    let root = cli::command();
    let page = match &args.subcommand {
        None => root,
        Some(name) => {
            let sub = root
                .get_subcommands()
                .find(|c| c.get_name() == name)
                .ok_or_else(|| Failure::usage(anyhow!("vnet has no subcommand `{name}`")))?;
            // The page of a subcommand is named like git's: vnet-check(1).
            let page_name = format!("vnet-{name}");
            sub.clone().name(page_name)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .context("cannot render the man page")
        .map_err(Failure::system)?;
    output::write_bytes(&out);
    Ok(Exit::Success)
}
