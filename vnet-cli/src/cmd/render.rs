//! `vnet render FILE --dialect D`: the topology as scripts or persistence files, for
//! review or for hosts where vnet itself does not run.
//!
//! Scripts (`vzctl`, `iproute2`, `pacemaker`) and the start-with-the-container
//! renderings (`lxc`: each container's LXC config lines, whose hooks run `vnet start` and
//! `vnet stop`; `systemd`: a oneshot unit applying the node's topology at boot, both with
//! the absolute paths of the topology file and of this `vnet`) go to stdout. Persistence dialects (`etcnet`, `vz`,
//! `networkd`, `sysctl`) are a tree of files: written under `--root DIR` (never outside
//! it: the shell backend's writer refuses absolute paths, `..` and symlinks on the way),
//! or printed with a `--- path (mode)` header per file when `--root` is omitted. What a
//! dialect cannot express (etcnet has no VXLAN: a stretched bridge's tunnel) is a
//! `warning:` on stderr, or the `warnings` of the JSON document.

use anyhow::{anyhow, Context};
use clap::ValueEnum;
use serde_json::json;
use std::path::PathBuf;

use vnet_backend_shell::iproute2::render_iproute2;
use vnet_backend_shell::lxc::{render_lxc, Paths};
use vnet_backend_shell::pacemaker::render_pacemaker;
use vnet_backend_shell::persist::{render_persist, Layer};
use vnet_backend_shell::systemd::render_systemd;
use vnet_backend_shell::tree::{write_tree, Tree};
use vnet_backend_shell::vzctl::{render_vzctl, BridgeTool, VethStyle, VzctlOptions};
use vnet_backend_shell::Model;
use vnet_core::plan::compile;
use vnet_core::ValidTopology;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Failure, Outcome};
use crate::input;
use crate::verbs::target::Target;

mod pacemaker;

/// Arguments of `vnet render`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// What to render.
    #[arg(long, value_enum)]
    pub dialect: Dialect,
    /// The node to render for (default: the topology's first node; for `iproute2`,
    /// giving a node renders that real node instead of the sandbox).
    #[arg(long, value_name = "N", conflicts_with = "sandbox")]
    pub node: Option<String>,
    /// For `iproute2`: build the whole topology in namespaces `<prefix>-<name>` (the
    /// default when no `--node` is given).
    #[arg(long)]
    pub sandbox: bool,
    /// Prefix of the sandbox's namespace names.
    #[arg(long, value_name = "P", default_value = "vnet")]
    pub prefix: String,
    /// For persistence dialects: write the files under this directory (created if
    /// missing) instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// For `vzctl`: how veth pairs are declared.
    #[arg(long, value_enum, default_value_t = VethArg::VethAdd)]
    pub veth_style: VethArg,
    /// For `vzctl`: which tool builds the bridges.
    #[arg(long, value_enum, default_value_t = BridgeArg::Brctl)]
    pub bridge_tool: BridgeArg,
    /// For `lxc`, `systemd` and `pacemaker`: the `vnet` binary the hooks, the unit and
    /// the cluster's agent run, an absolute path (default: this vnet's own path).
    #[arg(long, value_name = "PATH")]
    pub vnet_binary: Option<PathBuf>,
    /// The pacemaker dialect's options.
    #[command(flatten)]
    pub pacemaker: pacemaker::PacemakerArgs,
}

/// The renderings `vnet render` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    /// The article's procedure on an OpenVZ node (`vzctl`, `brctl`), as a script.
    Vzctl,
    /// The plan as an `ip`/`nft`/`sysctl` script (sandbox or one node).
    Iproute2,
    /// ALT Linux etcnet files in the containers and for the node's bridges.
    Etcnet,
    /// systemd-networkd files for the node's bridges and ports.
    Networkd,
    /// `/etc/sysctl.d` files inside forwarding containers.
    Sysctl,
    /// vzctl's container configs (`NETIF`), `vznet.conf` and the bridge hook.
    Vz,
    /// `pcs` commands for Pacemaker: an `ocf:vnet:ct` resource per container, placement,
    /// colocation and ordering (leaves before their router), fencing (required) and the
    /// containers' runtimes. The file's path is made absolute: the nodes must read it there.
    Pacemaker,
    /// Each container's LXC config lines: no LXC network, a start-host hook running
    /// `vnet start`, a stop hook running `vnet stop` (for `netns = "lxc:NAME"`).
    Lxc,
    /// A systemd oneshot unit applying the node's topology at boot, before its
    /// containers' units.
    Systemd,
}

impl Dialect {
    /// The persistence layer, for dialects that render files.
    fn layer(self) -> Option<Layer> {
        match self {
            Dialect::Vzctl
            | Dialect::Iproute2
            | Dialect::Pacemaker
            | Dialect::Lxc
            | Dialect::Systemd => None,
            Dialect::Etcnet => Some(Layer::Etcnet),
            Dialect::Networkd => Some(Layer::Networkd),
            Dialect::Sysctl => Some(Layer::Sysctl),
            Dialect::Vz => Some(Layer::Vz),
        }
    }

    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// `--veth-style` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VethArg {
    /// `vzctl set --veth_add` (the article's vzctl 3.0).
    VethAdd,
    /// `vzctl set --netif_add` (newer vzctl).
    NetifAdd,
}

/// `--bridge-tool` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BridgeArg {
    /// bridge-utils' `brctl` (as in the article).
    Brctl,
    /// `ip link ... type bridge`.
    Iproute2,
}

/// Validates the file and renders it in the chosen dialect.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let valid = &loaded.valid;
    if args.root.is_some() && args.dialect.layer().is_none() {
        return Err(Failure::usage(anyhow!(
            "--root is for the persistence dialects (etcnet, networkd, sysctl, vz); \
             `{}` is a script printed to stdout",
            args.dialect.name()
        )));
    }
    let rendered = match args.dialect.layer() {
        Some(layer) => {
            let node = node_of(valid, args.node.as_deref())?;
            let tree = render_persist(&Model::new(valid), &node, &[layer]);
            return emit_tree(args, global, &node, &tree);
        }
        None if args.dialect == Dialect::Vzctl => {
            let node = node_of(valid, args.node.as_deref())?;
            let opts = VzctlOptions {
                veth: match args.veth_style {
                    VethArg::VethAdd => VethStyle::VethAdd,
                    VethArg::NetifAdd => VethStyle::NetifAdd,
                },
                bridge_tool: match args.bridge_tool {
                    BridgeArg::Brctl => BridgeTool::Brctl,
                    BridgeArg::Iproute2 => BridgeTool::Iproute2,
                },
            };
            let script = render_vzctl(&Model::new(valid), &node, &opts)
                .map_err(|e| Failure::invalid(anyhow!(e).context("cannot render vzctl")))?;
            (Some(node), script)
        }
        None if matches!(args.dialect, Dialect::Lxc | Dialect::Systemd) => {
            let node = node_of(valid, args.node.as_deref())?;
            let (vnet, topology) = absolute_paths(args)?;
            let paths = Paths {
                vnet: &vnet,
                topology: &topology,
            };
            let model = Model::new(valid);
            let text = match args.dialect {
                Dialect::Lxc => render_lxc(&model, &node, paths),
                _ => render_systemd(&model, &node, paths),
            }
            .map_err(|e| {
                Failure::invalid(
                    anyhow!(e).context(format!("cannot render {}", args.dialect.name())),
                )
            })?;
            (Some(node), text)
        }
        None if args.dialect == Dialect::Pacemaker => {
            let opts = args
                .pacemaker
                .options(&args.file, args.vnet_binary.as_deref())?;
            let script = render_pacemaker(&Model::new(valid), &opts)
                .map_err(|e| Failure::invalid(anyhow!(e).context("cannot render pacemaker")))?;
            (None, script)
        }
        None => {
            let target = Target::choose(valid, args.node.as_deref(), &args.prefix)?;
            let plan = compile(valid, &target.scope());
            let script = render_iproute2(&plan, &*target.ns_names())
                .map_err(|e| Failure::invalid(anyhow!(e).context("cannot render iproute2")))?;
            let node = match target {
                Target::Node(n) => Some(n),
                Target::Sandbox { .. } => None,
            };
            (node, script)
        }
    };
    let (node, script) = rendered;
    let text = match global.output {
        Output::Human => script,
        Output::Json => {
            pretty(&json!({ "dialect": args.dialect.name(), "node": node, "script": script }))
        }
    };
    print(&text)
}

/// The absolute paths of the `vnet` to run (`--vnet-binary`, else this one) and of the
/// topology file: a hook or a unit runs from another directory. The topology must be a
/// file (not `-`) that exists.
fn absolute_paths(args: &Args) -> Result<(String, String), Failure> {
    if args.file.as_os_str() == "-" {
        return Err(Failure::usage(anyhow!(
            "`{}` needs the topology as a file the node reads at start, not `-`",
            args.dialect.name()
        )));
    }
    let absolute = |path: &std::path::Path, what: &str| -> Result<String, Failure> {
        let full = std::path::absolute(path)
            .with_context(|| format!("cannot make the {what} path {} absolute", path.display()))
            .map_err(Failure::system)?;
        full.into_os_string().into_string().map_err(|p| {
            Failure::invalid(anyhow!(
                "the {what} path {} is not UTF-8",
                p.to_string_lossy()
            ))
        })
    };
    let vnet = match &args.vnet_binary {
        Some(v) => absolute(v, "vnet")?,
        None => {
            let me = std::env::current_exe()
                .context("cannot find this vnet's path (give --vnet-binary)")
                .map_err(Failure::system)?;
            absolute(&me, "vnet")?
        }
    };
    Ok((vnet, absolute(&args.file, "topology")?))
}

/// The node named on the command line (which must exist), or the topology's first.
fn node_of(valid: &ValidTopology, node: Option<&str>) -> Result<String, Failure> {
    match Target::choose(valid, node, "vnet")? {
        Target::Node(n) => Ok(n),
        Target::Sandbox { .. } => valid
            .topology()
            .node
            .first()
            .map(|n| n.name.clone())
            .ok_or_else(|| Failure::invalid(anyhow!("the topology has no node to render for"))),
    }
}

/// Writes the tree under `--root` and lists what was written, or prints the files; in
/// human output, the tree's warnings go to stderr either way (JSON carries them).
fn emit_tree(args: &Args, global: &Global, node: &str, tree: &Tree) -> Outcome {
    if global.output == Output::Human {
        for w in &tree.warnings {
            crate::errln!("warning: {w}");
        }
    }
    let Some(root) = &args.root else {
        let text = match global.output {
            Output::Human => tree.listing(),
            Output::Json => pretty(&tree_json(args, node, tree, None)),
        };
        return print(&text);
    };
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create --root {}", root.display()))
        .map_err(Failure::system)?;
    write_tree(root, tree)
        .with_context(|| format!("cannot write the files under {}", root.display()))
        .map_err(Failure::system)?;
    let text = match global.output {
        Output::Human => {
            let mut s = String::new();
            for f in &tree.files {
                s.push_str(&format!(
                    "wrote {} ({:04o})\n",
                    root.join(&f.path).display(),
                    f.mode
                ));
            }
            for r in &tree.remove {
                s.push_str(&format!("removed {}\n", root.join(r).display()));
            }
            s
        }
        Output::Json => pretty(&tree_json(args, node, tree, Some(root))),
    };
    print(&text)
}

fn tree_json(args: &Args, node: &str, tree: &Tree, root: Option<&PathBuf>) -> serde_json::Value {
    let files: Vec<serde_json::Value> = tree
        .files
        .iter()
        .map(|f| json!({ "path": f.path, "mode": format!("{:04o}", f.mode), "contents": f.contents }))
        .collect();
    json!({
        "dialect": args.dialect.name(),
        "node": node,
        "root": root.map(|r| r.display().to_string()),
        "files": files,
        "remove": tree.remove,
        "warnings": tree.warnings,
    })
}

/// A JSON document as every subcommand prints it: pretty, ended by a newline.
fn pretty(value: &serde_json::Value) -> String {
    // A `Value` always serializes.
    format!("{value:#}\n")
}

fn print(text: &str) -> Outcome {
    crate::output::write_bytes(text.as_bytes());
    Ok(Exit::Success)
}
