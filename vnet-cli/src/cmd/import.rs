//! `vnet import --node NODE --this-host`: the topology (TOML) of the network found on
//! this machine as node NODE, for an admin who built it by hand (or with vzctl): print
//! it or write it with `-o FILE`, check it, then `vnet apply FILE --node NODE
//! --this-host --adopt` takes it over. Reads only; changes nothing.
//!
//! The containers are the named namespaces in `/run/netns` and those given with
//! `--ct NAME=NETNS`; the survey is the netlink backend's
//! ([`vnet_backend_netlink::import::survey`]), the conversion vnet-core's
//! ([`vnet_core::import::topology`]).

use anyhow::anyhow;
use std::path::{Path, PathBuf};

use vnet_core::import::{topology, Imported};
use vnet_core::model::NetnsSource;
use vnet_core::{source, Document, Format};

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::sandbox::backend_failure;
use crate::{errln, out, outln};

/// Where `ip netns` keeps named namespaces.
const NETNS_DIR: &str = "/run/netns";

/// Arguments of `vnet import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The node this machine is (the topology's one node).
    #[arg(long, value_name = "NODE")]
    pub node: String,
    /// Confirms that this machine is that node (import only reads it).
    #[arg(long)]
    pub this_host: bool,
    /// The topology's name: the mark `apply --adopt` writes on what it takes over.
    #[arg(long, default_value = "imported")]
    pub name: String,
    /// Write the topology to FILE instead of standard output.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A container whose namespace is not `/run/netns/NAME`: `NAME=NETNS`, NETNS as the
    /// `[[ct]]` key `netns` says it (`pid:PATH`, `lxc:NAME`, `podman:NAME`, ...).
    #[arg(long = "ct", value_name = "NAME=NETNS")]
    pub ct: Vec<String>,
}

/// Surveys this machine and prints (or writes) its topology; exit 0 when it is valid,
/// 1 when the result does not validate (written all the same, with the findings).
pub fn run(args: &Args, global: &Global) -> Outcome {
    if !args.this_host {
        return Err(Failure::usage(anyhow!(
            "--node {} reads the network of the machine vnet runs on: add --this-host to \
             confirm that this machine is node {}",
            args.node,
            args.node
        )));
    }
    let cts = containers(Path::new(NETNS_DIR), &args.ct)?;
    let survey = vnet_backend_netlink::import::survey(&args.node, &cts).map_err(backend_failure)?;
    let imported = topology(&args.name, &survey);
    let text = document(&args.node, &imported);
    // What `vnet check` would say of it, before anyone applies it.
    let checked = Document::parse(&text, Format::Toml)
        .map_err(|e| anyhow!("{e}"))
        .and_then(|d| d.validate().map_err(|e| anyhow!("{e}")));
    let summary = summary(&imported);
    match (&args.out, global.output) {
        (Some(path), _) => {
            std::fs::write(path, &text)
                .map_err(|e| Failure::system(anyhow!("cannot write {}: {e}", path.display())))?;
            if global.output == Output::Human {
                outln!("{summary}: written to {}", path.display());
            }
        }
        (None, Output::Human) => out!("{text}"),
        (None, Output::Json) => {}
    }
    if global.output == Output::Json {
        crate::output::json(&serde_json::json!({
            "topology": imported.topology,
            "notes": imported.notes,
            "valid": checked.is_ok(),
        }));
    } else {
        for note in &imported.notes {
            errln!("note: {note}");
        }
    }
    match checked {
        Ok(_) => Ok(Exit::Success),
        Err(e) => Err(Failure::invalid(e.context(
            "the imported topology does not validate; edit it before applying",
        ))),
    }
}

/// The containers: every named namespace in `dir`, and `--ct NAME=NETNS` (which wins
/// for its name), in name order.
fn containers(dir: &Path, given: &[String]) -> Result<Vec<(String, NetnsSource)>, Failure> {
    let mut found = std::collections::BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            found.insert(name.clone(), NetnsSource::Name(name));
        }
    }
    for spec in given {
        let Some((name, netns)) = spec.split_once('=') else {
            return Err(Failure::usage(anyhow!(
                "--ct {spec:?}: write NAME=NETNS, e.g. web=lxc:web"
            )));
        };
        let source: NetnsSource = netns
            .parse()
            .map_err(|e| Failure::usage(anyhow!("--ct {spec:?}: {e}")))?;
        found.insert(name.to_string(), source);
    }
    Ok(found.into_iter().collect())
}

/// The file: a header saying where it came from and what it leaves out, then the TOML.
fn document(node: &str, imported: &Imported) -> String {
    let mut head = format!(
        "# Imported by `vnet import --node {node} --this-host` from the network found on \
         this machine.\n# Take it over with `vnet apply FILE --node {node} --this-host \
         --adopt`.\n"
    );
    for note in &imported.notes {
        head.push_str(&format!("# Not imported: {note}\n"));
    }
    format!("{head}\n{}", source::to_toml(&imported.topology))
}

/// One line: what was found.
fn summary(imported: &Imported) -> String {
    let t = &imported.topology;
    let veths: usize = t.ct.iter().map(|c| c.veth.len()).sum();
    let nics: usize = t.ct.iter().map(|c| c.nic.len()).sum();
    format!(
        "imported topology `{}`: {} bridge(s), {} container(s), {veths} veth pair(s), \
         {nics} NIC(s), {} note(s)",
        t.name,
        t.bridge.len(),
        t.ct.len(),
        imported.notes.len()
    )
}
