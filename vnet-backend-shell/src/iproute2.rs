//! The `iproute2` dialect: a [`Plan`] as a POSIX `sh` script of `ip`, `nft` and `sysctl`
//! commands, runnable with `ip netns` on any Linux host.
//!
//! The spelling of each action comes from [`vnet_core::plan::command`], the same one the
//! plan listing shows and [`crate::exec`] runs.

use vnet_core::plan::command::{iproute2_argv, step_argv};
use vnet_core::plan::{Action, BornOff, NsRef, Plan};

use crate::error::ShellError;
use crate::script::Script;
use crate::tree::{FileEntry, Tree};

/// The commands of one plan step: what it runs and what undoes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCommands {
    /// The plan step's id.
    pub step: usize,
    /// The step's batch (see [`vnet_core::plan::Step::stage`]).
    pub stage: usize,
    /// What the step does, for comments and reports.
    pub summary: String,
    /// The argv(s) the step runs, in order.
    pub run: Vec<Vec<String>>,
    /// The argv(s) of the step's inverse, in order.
    pub undo: Vec<Vec<String>>,
    /// For a file action: the change as trees, which [`crate::exec`] writes itself
    /// under its root instead of running `run`/`undo`.
    pub file: Option<FileChange>,
}

/// A file action and its inverse as [`Tree`]s relative to a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// What the step writes or removes.
    pub apply: Tree,
    /// What undoes it.
    pub undo: Tree,
}

/// The trees of a file action; `None` for every other action.
pub fn file_change(action: &Action) -> Option<FileChange> {
    let tree = |a: &Action| match a {
        Action::WriteFile {
            path,
            contents,
            mode,
            ..
        } => Some(Tree {
            files: vec![FileEntry::new(path.clone(), contents.clone()).with_mode(*mode)],
            ..Tree::default()
        }),
        Action::RemoveFile { path, .. } => Some(Tree {
            remove: vec![path.clone()],
            ..Tree::default()
        }),
        _ => None,
    };
    Some(FileChange {
        apply: tree(action)?,
        undo: tree(&action.inverse())?,
    })
}

/// Namespace names of the sandbox: `<prefix>-<name>` (`vnet-router`).
pub fn sandbox_names(prefix: &str) -> impl Fn(&NsRef) -> String + '_ {
    move |ns: &NsRef| ns.sandbox_name(prefix)
}

/// Namespace names on a real node ([`vnet_core::plan::Scope::Node`]): the node is the
/// namespace the commands run in (no `-n`), a container is the `ip netns` name equal to
/// its own name (e.g. made with `ip netns attach NAME PID` for an OpenVZ or LXC
/// container).
pub fn node_names(ns: &NsRef) -> String {
    match ns {
        NsRef::Node(_) => String::new(),
        other => other.name().to_string(),
    }
}

/// The commands of every step of `plan`, with namespaces named by `ns`.
///
/// A namespace of [`vnet_core::plan::born_without_ipv6`] gets `default.disable_ipv6 = 1`
/// right after it is created, before any link exists, as the netlink backend does it:
/// either way its links are born with IPv6 off, and their `disable_ipv6 = 1` steps run
/// nothing (and undo nothing).
pub fn plan_commands(plan: &Plan, ns: &dyn Fn(&NsRef) -> String) -> Vec<StepCommands> {
    let born = BornOff::of(plan);
    plan.steps
        .iter()
        .map(|s| {
            let run = step_argv(&s.action, &plan.topology, ns, &born);
            let held = born.holds_already(&s.action);
            let undo = if held {
                Vec::new()
            } else {
                iproute2_argv(&s.action.inverse(), &plan.topology, ns)
            };
            let mut summary = summary(&s.action);
            if held {
                summary.push_str(" (holds already: born with IPv6 off)");
            }
            StepCommands {
                step: s.id,
                stage: s.stage,
                summary,
                run,
                undo,
                file: file_change(&s.action),
            }
        })
        .collect()
}

/// `plan` as an `iproute2` script: a header saying what it builds, then one commented
/// block per stage, each step's commands in plan order.
pub fn render_iproute2(plan: &Plan, ns: &dyn Fn(&NsRef) -> String) -> Result<String, ShellError> {
    iproute2_script(plan, ns).map(Script::finish)
}

/// [`render_iproute2`] as a [`Script`], whose [`Script::commands`] are the argv it runs.
pub fn iproute2_script(plan: &Plan, ns: &dyn Fn(&NsRef) -> String) -> Result<Script, ShellError> {
    let mut script = Script::new(&[
        format!("vnet: iproute2 script for topology {}", plan.topology),
        format!(
            "{} steps; run as root; stops at the first failing command (set -e).",
            plan.len()
        ),
        "Namespaces are named as `ip netns` knows them; links, namespaces' lo, routes (proto 118)"
            .to_string(),
        format!(
            "and the nftables table inet vnet carry the mark vnet:{}.",
            plan.topology
        ),
    ]);
    let mut stage = None;
    for c in plan_commands(plan, ns) {
        if stage != Some(c.stage) {
            script.block(&format!("stage {}", c.stage));
            stage = Some(c.stage);
        }
        script.note(&format!("step {}: {}", c.step, c.summary));
        for argv in &c.run {
            script.command(argv)?;
        }
    }
    Ok(script)
}

/// One line saying what an action does, in the topology's terms.
pub fn summary(a: &Action) -> String {
    match a {
        Action::CreateNamespace { ns } => format!("create namespace of {ns}"),
        Action::DeleteNamespace { ns } => format!("delete namespace of {ns}"),
        Action::CreateLink { ns, spec } => format!("create link {} in {ns}", spec.name()),
        Action::DeleteLink { ns, spec } => format!("delete link {} in {ns}", spec.name()),
        Action::MoveLink {
            from,
            name,
            to,
            new_name,
        } => format!("move {name} from {from} to {to} as {new_name}"),
        Action::SetMac { ns, link, mac, .. } => format!("set MAC of {link} in {ns} to {mac}"),
        Action::SetMtu { ns, link, mtu, .. } => format!("set MTU of {link} in {ns} to {mtu}"),
        Action::SetUp { ns, link } => format!("bring {link} in {ns} up"),
        Action::SetDown { ns, link } => format!("take {link} in {ns} down"),
        Action::SetMaster { ns, link, master } => format!("put {link} in {ns} into {master}"),
        Action::ClearMaster { ns, link, master } => format!("take {link} in {ns} out of {master}"),
        Action::AddAddress { ns, link, address } => format!("add {address} to {link} in {ns}"),
        Action::DelAddress { ns, link, address } => format!("delete {address} from {link} in {ns}"),
        Action::AddRoute { ns, route } => format!("add route to {} in {ns}", route.dst),
        Action::DelRoute { ns, route } => format!("delete route to {} in {ns}", route.dst),
        Action::SetSysctl {
            ns, sysctl, value, ..
        } => format!("set {} = {value} in {ns}", sysctl.key()),
        Action::AddNat { ns, rule } => {
            format!("masquerade {} out of {} in {ns}", rule.source, rule.out)
        }
        Action::DelNat { ns, rule } => format!(
            "stop masquerading {} out of {} in {ns}",
            rule.source, rule.out
        ),
        Action::SetRuleset {
            ns, to: Some(r), ..
        } => {
            format!("load the firewall table in {ns}: {}", r.summary())
        }
        Action::SetRuleset { ns, to: None, .. } => format!("remove the firewall table in {ns}"),
        Action::WriteFile { path, .. } => format!("write {path}"),
        Action::RemoveFile { path, .. } => format!("remove {path}"),
    }
}
