//! A plan as people review it: numbered steps, grouped by namespace as they come (the
//! planner orders each stage by namespace, in the article's order of things), each with
//! what it does and the commands it stands for (from [`super::command`], the same argv
//! the shell backend runs).
//!
//! ```text
//! # plan for topology `article`: 38 steps in 6 stages
//!
//! ## node m1 (vnet-m1)
//!    4. create veth pair veth1 (00:12:34:56:78:9A) <-> ct router:eth0 (00:12:34:56:78:9B)
//!       ip -n vnet-m1 link add veth1 address 00:12:34:56:78:9A type veth peer name eth0 ...
//! ```

use std::fmt::Write as _;

use super::command::step_argv;
use super::{Action, BornOff, NsRef, Plan};

/// The readable listing of `plan`, namespaces named by `ns_name` (e.g.
/// `|ns| ns.sandbox_name("vnet")`; an empty name is the namespace the commands run in).
pub fn listing(plan: &Plan, ns_name: &dyn Fn(&NsRef) -> String) -> String {
    let stages = plan.steps.iter().map(|s| s.stage + 1).max().unwrap_or(0);
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut out = format!(
        "# plan for topology `{}`: {} in {}\n",
        plan.topology,
        plural(plan.steps.len(), "step", "steps"),
        plural(stages, "stage", "stages"),
    );
    let born = BornOff::of(plan);
    let mut current: Option<Option<&NsRef>> = None;
    for step in &plan.steps {
        let ns = step.action.ns();
        if current != Some(ns) {
            match ns {
                Some(n) => {
                    let name = ns_name(n);
                    let shown = if name.is_empty() {
                        "this namespace"
                    } else {
                        &name
                    };
                    let _ = write!(out, "\n## {n} ({shown})\n");
                }
                None => out.push_str("\n## files\n"),
            }
            current = Some(ns);
        }
        let _ = writeln!(out, "{:>4}. {}", step.id + 1, describe(&step.action));
        let run = step_argv(&step.action, &plan.topology, ns_name, &born);
        if run.is_empty() && born.holds_already(&step.action) {
            out.push_str("        (nothing to run: the link was born with IPv6 off)\n");
        }
        for argv in run {
            let line: Vec<String> = argv.iter().map(|a| quote(a)).collect();
            let _ = writeln!(out, "        {}", line.join(" "));
        }
    }
    out
}

/// One line saying what an action does.
pub fn describe(a: &Action) -> String {
    use Action::*;
    match a {
        CreateNamespace { ns } => format!("create namespace {ns}"),
        DeleteNamespace { ns } => format!("delete namespace {ns} and everything in it"),
        CreateLink { spec, .. } => format!("create {}", spec.describe()),
        DeleteLink { spec, .. } => format!("delete {}", spec.describe()),
        MoveLink {
            name, to, new_name, ..
        } => format!("move {name} into {to} as {new_name}"),
        SetMac {
            link,
            mac,
            previous,
            ..
        } => format!("set MAC of {link} to {mac} (was {previous})"),
        SetMtu {
            link,
            mtu,
            previous,
            ..
        } => format!("set MTU of {link} to {mtu} (was {previous})"),
        SetUp { link, .. } => format!("bring {link} up"),
        SetDown { link, .. } => format!("take {link} down"),
        SetMaster { link, master, .. } => format!("add port {link} to bridge {master}"),
        ClearMaster { link, master, .. } => format!("remove port {link} from bridge {master}"),
        AddAddress { link, address, .. } => format!("add address {address} to {link}"),
        DelAddress { link, address, .. } => format!("delete address {address} from {link}"),
        AddRoute { route, .. } => format!("add route {}", route_text(route)),
        DelRoute { route, .. } => format!("delete route {}", route_text(route)),
        SetSysctl {
            sysctl,
            value,
            previous,
            ..
        } => format!("set {} = {value} (was {previous})", sysctl.key()),
        AddNat { rule, .. } => format!("masquerade {} out of {}", rule.source, rule.out),
        DelNat { rule, .. } => format!("stop masquerading {} out of {}", rule.source, rule.out),
        SetRuleset { to: Some(r), .. } => format!("load the firewall table ({})", r.summary()),
        SetRuleset { to: None, .. } => "remove the firewall table".to_string(),
        WriteFile { path, mode, .. } => format!("write file {path} (mode {mode:04o})"),
        RemoveFile { path, .. } => format!("remove file {path}"),
    }
}

fn route_text(r: &super::RouteSpec) -> String {
    let mut s = r.dst.to_string();
    if let Some(via) = r.via {
        let _ = write!(s, " via {via}");
    }
    if let Some(dev) = &r.dev {
        let _ = write!(s, " dev {dev}");
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    s
}

/// An argument as a shell would need it written to read it back as one word.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
