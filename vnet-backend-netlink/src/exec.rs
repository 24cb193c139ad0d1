//! Executing a [`Plan`]: stage by stage, each stage's netlink work batched per
//! namespace; a failure undoes the applied prefix (inverses in reverse order).

use std::collections::{BTreeMap, BTreeSet};

use vnet_core::ownership::alias_for;
use vnet_core::plan::{Action, LinkSpec, Name, NsRef, Plan};

use crate::error::{Error, Result};
use crate::ipv6_default::Ipv6Defaults;
use crate::netlink::Request;
use crate::ops;
use crate::session::Session;

/// What an execution did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Executed {
    /// Step indexes applied, in the order they were applied.
    pub applied: Vec<usize>,
    /// Per stage: the stage number, its number of actions and its wall time.
    pub stages: Vec<(usize, usize, std::time::Duration)>,
}

/// Executes `plan`; on failure (or at the injected step `fail_at`) undoes what was
/// applied and returns [`Error::RolledBack`] (or [`Error::RollbackFailed`]).
pub(crate) fn execute(
    session: &mut Session<'_>,
    plan: &Plan,
    fail_at: Option<usize>,
) -> Result<Executed> {
    let alias = alias_for(&plan.topology);
    let ipv6 = Ipv6Defaults::of(plan, session.map().is_sandbox());
    let mut stages: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, step) in plan.steps.iter().enumerate() {
        stages.entry(step.stage).or_default().push(i);
    }
    let mut applied: Vec<usize> = Vec::new();
    let mut timings = Vec::new();
    for (stage, mut indexes) in stages {
        crate::ns::kill_point::reached("stage");
        let started = std::time::Instant::now();
        let injected = fail_at.filter(|k| indexes.contains(k));
        if let Some(k) = injected {
            indexes.retain(|i| *i < k);
        }
        let actions: Vec<(usize, &Action)> = indexes
            .iter()
            .map(|i| (*i, &plan.steps[*i].action))
            .collect();
        let results = run_stage(session, &alias, &ipv6, &actions);
        timings.push((stage, actions.len(), started.elapsed()));
        let mut failure: Option<(usize, Error)> = None;
        for ((index, _), outcome) in actions.iter().zip(results) {
            if outcome.changed {
                applied.push(*index);
            }
            if let Err(e) = outcome.result {
                if failure.is_none() {
                    failure = Some((*index, e));
                }
            }
        }
        if failure.is_none() {
            if let Some(k) = injected {
                failure = Some((k, Error::Injected { index: k }));
            }
        }
        if let Some((index, error)) = failure {
            let action = describe(&plan.steps[index].action);
            let undone = applied.len();
            let rollback = undo_applied(session, plan, &applied);
            return Err(if rollback.is_empty() {
                Error::RolledBack {
                    index,
                    action,
                    undone,
                    source: Box::new(error),
                }
            } else {
                Error::RollbackFailed {
                    index,
                    action,
                    rollback,
                    source: Box::new(error),
                }
            });
        }
    }
    Ok(Executed {
        applied,
        stages: timings,
    })
}

/// Undoes the steps of `plan` at `applied` (in the order they were applied), most
/// recent first (see [`rollback`]); returns every undo that failed.
pub(crate) fn undo_applied(
    session: &mut Session<'_>,
    plan: &Plan,
    applied: &[usize],
) -> Vec<Error> {
    let undo: Vec<Action> = applied
        .iter()
        .rev()
        .map(|i| plan.steps[*i].action.clone())
        .collect();
    rollback(session, &alias_for(&plan.topology), &undo)
}

/// Undoes `done` (most recent first) one action at a time, best effort; returns the
/// errors. Work inside a namespace that the undo deletes anyway is skipped, except
/// what reaches beyond it (a veth pair's other end, a moved link).
pub(crate) fn rollback(session: &mut Session<'_>, alias: &str, done: &[Action]) -> Vec<Error> {
    let doomed: BTreeSet<NsRef> = done
        .iter()
        .filter_map(|a| match a {
            Action::CreateNamespace { ns } => Some(ns.clone()),
            _ => None,
        })
        .collect();
    let mut errors = Vec::new();
    for action in done {
        let reaches_out = matches!(
            action,
            Action::CreateLink {
                spec: LinkSpec::Veth { .. },
                ..
            } | Action::MoveLink { .. }
                | Action::CreateNamespace { .. }
        );
        if !reaches_out && action.ns().is_some_and(|ns| doomed.contains(ns)) {
            continue;
        }
        let inverse = action.inverse();
        for outcome in run_stage(session, alias, &Ipv6Defaults::none(), &[(0, &inverse)]) {
            if let Err(e) = outcome.result {
                errors.push(e);
            }
        }
    }
    errors
}

/// A short description of an action for errors.
/// An action as people read it in errors: what it does, and where.
pub(crate) fn describe(action: &Action) -> String {
    let what = vnet_core::plan::listing::describe(action);
    match action {
        Action::CreateNamespace { .. } | Action::DeleteNamespace { .. } => what,
        _ => match action.ns() {
            Some(ns) => format!("{what} in {ns}"),
            None => what,
        },
    }
}

/// One netlink request that belongs to action `slot` of the stage.
struct Part {
    slot: usize,
    request: Request,
}

/// Runs independent actions: namespaces first, then netlink batches per namespace,
/// then follow-ups (aliases on veth peers) per namespace, then sysctls and NAT per
/// namespace. Returns one result per action, in order. `ipv6`: which namespaces to
/// create with IPv6 off by default, and what that makes unnecessary or needed
/// (`actions` carry the plan's step indexes it refers to).
fn run_stage(
    session: &mut Session<'_>,
    alias: &str,
    ipv6: &Ipv6Defaults,
    actions: &[(usize, &Action)],
) -> Vec<Outcome> {
    let mut results: Vec<Result<()>> = actions.iter().map(|_| Ok(())).collect();
    let mut changed: Vec<Option<bool>> = actions.iter().map(|_| None).collect();
    let mut primary: BTreeMap<NsRef, Vec<Part>> = BTreeMap::new();
    let mut follow: BTreeMap<NsRef, Vec<Part>> = BTreeMap::new();
    let mut local: BTreeMap<NsRef, Vec<LocalPart>> = BTreeMap::new();
    let mut links_changed: BTreeSet<NsRef> = BTreeSet::new();
    // Namespaces first, several at once: everything else of the stage may need them.
    let creates: Vec<(usize, NsRef)> = actions
        .iter()
        .enumerate()
        .filter_map(|(slot, (_, a))| match a {
            Action::CreateNamespace { ns } => Some((slot, ns.clone())),
            _ => None,
        })
        .collect();
    if !creates.is_empty() {
        let list: Vec<NsRef> = creates.iter().map(|(_, ns)| ns.clone()).collect();
        for ((slot, _), r) in creates
            .iter()
            .zip(session.create_namespaces(&list, alias, &ipv6.off))
        {
            changed[*slot] = Some(r.is_ok());
            if let Err(e) = r {
                results[*slot] = Err(e);
            }
        }
    }
    for (slot, (_, action)) in actions.iter().enumerate() {
        if matches!(action, Action::CreateNamespace { .. }) {
            continue;
        }
        // Born with IPv6 off: the setting holds, nothing to write (and nothing to undo
        // that deleting the namespace would not undo).
        if action
            .ns()
            .is_some_and(|ns| ipv6.holds_already(action, session.ipv6_default_off(ns)))
        {
            changed[slot] = Some(true);
            continue;
        }
        let built = build(
            session,
            alias,
            action,
            slot,
            &mut primary,
            &mut follow,
            &mut local,
        );
        match built {
            Ok(touched) => links_changed.extend(touched),
            Err(e) => {
                changed[slot] = Some(false);
                results[slot] = Err(e);
            }
        }
    }
    // The changes themselves, then the follow-ups (a veth peer's mark needs the peer).
    for phase in [primary, follow] {
        let mut slots: Vec<Vec<usize>> = Vec::new();
        let mut batches: Vec<(NsRef, Vec<Request>)> = Vec::new();
        for (ns, parts) in phase {
            let (s, r): (Vec<usize>, Vec<Request>) =
                parts.into_iter().map(|p| (p.slot, p.request)).unzip();
            slots.push(s);
            batches.push((ns, r));
        }
        let answers = crate::batches::send_all(session, batches);
        for (slot, answer) in slots
            .into_iter()
            .flatten()
            .zip(answers.into_iter().flatten())
        {
            // A link to delete that is gone already is deleted: the goal holds, and
            // nothing was changed that an undo would have to restore. It happens after
            // a run was killed: the kernel removes a veth whose peer's namespace died
            // asynchronously, so the next run can still see it when it plans.
            if gone_already(actions[slot].1, &answer) {
                changed[slot].get_or_insert(false);
                continue;
            }
            // The first part of an action is the change itself (later parts mark it):
            // once it succeeded, the action counts as applied and is undone on failure.
            if changed[slot].is_none() {
                changed[slot] = Some(answer.is_ok());
            }
            if let Err(e) = answer {
                if results[slot].is_ok() {
                    results[slot] = Err(e);
                }
            }
        }
    }
    for ns in &links_changed {
        if let Ok(Some(h)) = session.get(ns) {
            h.links_changed();
        }
    }
    // Links that want IPv6 and were just created in a namespace that may have it off
    // by default: written on, as the plan assumes a new link is.
    for (slot, (index, _)) in actions.iter().enumerate() {
        let Some(links) = ipv6.guards.get(index).filter(|_| results[slot].is_ok()) else {
            continue;
        };
        for (ns, link) in links {
            local.entry(ns.clone()).or_default().push(LocalPart {
                slot,
                action: Action::SetSysctl {
                    ns: ns.clone(),
                    sysctl: vnet_core::plan::Sysctl::DisableIpv6(Name::from(link.as_str())),
                    value: "0".into(),
                    previous: "0".into(),
                },
                guard: true,
            });
        }
    }
    // Sysctls and NAT: a few worker threads enter the namespaces in turn.
    let mut jobs: Vec<LocalJob> = Vec::new();
    for (ns, parts) in local {
        match session.require(&ns) {
            Ok(_) => jobs.push((ns, parts)),
            Err(e) => {
                // The namespace is gone: nothing ran. The first action gets the cause.
                let mut cause = Some(e);
                for part in &parts {
                    settle_local(&mut changed, &mut results, part, || {
                        Err(cause.take().unwrap_or(Error::Unmapped {
                            ns: ns.clone(),
                            reason: "the namespace could not be entered",
                        }))
                    });
                }
            }
        }
    }
    let runs: Vec<(&crate::ns::Netns, &LocalJob)> = jobs
        .iter()
        .filter_map(|job| session.netns_of(&job.0).map(|n| (n, job)))
        .collect();
    let outcomes = crate::ns::run_many(&runs, |(ns, work)| run_local(ns, work));
    for ((_, (ns, work)), outcome) in runs.iter().zip(outcomes) {
        match outcome {
            Ok(per_action) => {
                for (part, r) in work.iter().zip(per_action) {
                    settle_local(&mut changed, &mut results, part, || r);
                }
            }
            Err(e) => {
                let mut cause = Some(e);
                for part in work {
                    settle_local(&mut changed, &mut results, part, || {
                        Err(cause.take().unwrap_or(Error::Unmapped {
                            ns: ns.clone(),
                            reason: "the namespace could not be entered",
                        }))
                    });
                }
            }
        }
    }
    // Namespace actions have no parts: they changed the system iff they succeeded.
    results
        .into_iter()
        .zip(changed)
        .map(|(result, changed)| Outcome {
            changed: changed.unwrap_or(result.is_ok()),
            result,
        })
        .collect()
}

/// Sysctl and NAT work for one namespace.
type LocalJob = (NsRef, Vec<LocalPart>);

/// One sysctl or NAT action to run inside a namespace.
struct LocalPart {
    /// The stage slot of the action it belongs to.
    slot: usize,
    /// What to run.
    action: Action,
    /// A write that follows the slot's own action (a new link's IPv6 switched on): its
    /// failure fails the action, but it does not decide whether the action changed the
    /// system (the link exists either way).
    guard: bool,
}

/// Records the result of one local part for its action.
fn settle_local(
    changed: &mut [Option<bool>],
    results: &mut [Result<()>],
    part: &LocalPart,
    result: impl FnOnce() -> Result<()>,
) {
    let r = result();
    if !part.guard {
        changed[part.slot] = Some(r.is_ok());
    }
    if let Err(e) = r {
        if results[part.slot].is_ok() {
            results[part.slot] = Err(e);
        }
    }
}

/// What one action of a stage did.
struct Outcome {
    /// Whether the system changed (the action needs undoing on rollback).
    changed: bool,
    /// Whether it fully succeeded.
    result: Result<()>,
}

/// Sysctl and nftables actions, on a thread inside their namespace.
fn run_local(ns: &NsRef, work: &[LocalPart]) -> Vec<Result<()>> {
    // Opened once per namespace (see `SysctlDir` for why), when there is a sysctl.
    let mut dir: Option<std::io::Result<ops::sysctl::SysctlDir>> = None;
    work.iter()
        .map(|part| match &part.action {
            Action::SetSysctl { sysctl, value, .. } => dir
                .get_or_insert_with(ops::sysctl::SysctlDir::open)
                .as_ref()
                .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))
                .and_then(|d| d.write(sysctl, value))
                .map_err(|source| Error::Sysctl {
                    ns: ns.clone(),
                    key: sysctl.key(),
                    source,
                }),
            Action::AddNat { rule, .. } => ops::nat::add(rule).map_err(|detail| Error::Nft {
                ns: ns.clone(),
                doing: format!("add masquerade {} -> {}", rule.source, rule.out),
                detail,
            }),
            Action::DelNat { rule, .. } => ops::nat::delete(rule).map_err(|detail| Error::Nft {
                ns: ns.clone(),
                doing: format!("delete masquerade {} -> {}", rule.source, rule.out),
                detail,
            }),
            Action::SetRuleset { to, .. } => match to {
                Some(r) => ops::nft::load(r),
                None => ops::nft::remove(),
            }
            .map_err(|detail| Error::Nft {
                ns: ns.clone(),
                doing: match to {
                    Some(r) => format!("load table inet vnet ({})", r.summary()),
                    None => "remove table inet vnet".into(),
                },
                detail,
            }),
            other => Err(Error::Unsupported {
                action: describe(other),
            }),
        })
        .collect()
}

/// Turns one action into netlink parts (or runs it, for namespaces); returns the
/// namespaces whose links it changes.
#[allow(clippy::too_many_arguments)]
fn build(
    session: &mut Session<'_>,
    alias: &str,
    action: &Action,
    slot: usize,
    primary: &mut BTreeMap<NsRef, Vec<Part>>,
    follow: &mut BTreeMap<NsRef, Vec<Part>>,
    local: &mut BTreeMap<NsRef, Vec<LocalPart>>,
) -> Result<Vec<NsRef>> {
    let what = |verb: String, ns: &NsRef| format!("{verb} in {ns}");
    let push = |map: &mut BTreeMap<NsRef, Vec<Part>>, ns: &NsRef, msg, flags, text: String| {
        map.entry(ns.clone()).or_default().push(Part {
            slot,
            request: Request::new(msg, flags, text),
        })
    };
    use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
    let create = NLM_F_CREATE | NLM_F_EXCL;
    match action {
        Action::CreateNamespace { ns } => {
            // Normally created in parallel by `run_stage` before the other actions.
            session
                .create_namespaces(std::slice::from_ref(ns), alias, &BTreeSet::new())
                .pop()
                .unwrap_or(Ok(()))?;
            Ok(vec![])
        }
        Action::DeleteNamespace { ns } => {
            session.delete_namespace(ns)?;
            // Peers of its veths vanish from other namespaces (asynchronously).
            session.all_links_changed();
            Ok(vec![])
        }
        Action::CreateLink { ns, spec } => {
            let mut ctx = ops::link::CreateContext::default();
            let mut changed = vec![ns.clone()];
            match spec {
                LinkSpec::Veth {
                    peer_ns, peer_name, ..
                } => {
                    if peer_ns != ns {
                        let (_, peer) = session.pair(ns, peer_ns)?;
                        ctx.peer_ns_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&peer.netns.fd()));
                        changed.push(peer_ns.clone());
                        session.note_veth(ns, spec.name(), peer_ns, peer_name);
                    }
                    push(
                        follow,
                        peer_ns,
                        ops::link::set_alias(peer_name, alias),
                        0,
                        what(format!("mark veth peer {peer_name}"), peer_ns),
                    );
                }
                LinkSpec::Vlan { parent, .. } => {
                    ctx.parent_index = Some(session.require(ns)?.index_of(ns, parent)?);
                }
                LinkSpec::Vxlan { dev, remotes, .. } => {
                    let h = session.require(ns)?;
                    if let Some(dev) = dev {
                        ctx.parent_index = Some(h.index_of(ns, dev)?);
                    }
                    if !remotes.is_empty() {
                        crate::ops::fdb_exec::create_vxlan_now(h, ns, spec, ctx, alias)?;
                        return Ok(changed);
                    }
                }
                LinkSpec::Macvlan {
                    parent_ns, parent, ..
                } => {
                    // Sent from the parent's namespace (the kernel looks `IFLA_LINK` up
                    // in the sender's), landing directly in `ns` (`IFLA_NET_NS_FD`):
                    // creating it on the node and moving it would cost an RCU grace
                    // period.
                    ctx.parent_index =
                        Some(session.require(parent_ns)?.index_of(parent_ns, parent)?);
                    if parent_ns != ns {
                        let (_, here) = session.pair(parent_ns, ns)?;
                        ctx.target_ns_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&here.netns.fd()));
                    }
                    push(
                        primary,
                        parent_ns,
                        ops::link::create(spec, ctx),
                        create,
                        what(format!("create link {} in {ns}", spec.name()), parent_ns),
                    );
                    push(
                        follow,
                        ns,
                        ops::link::set_alias(spec.name(), alias),
                        0,
                        what(format!("mark link {}", spec.name()), ns),
                    );
                    changed.push(parent_ns.clone());
                    return Ok(changed);
                }
                LinkSpec::Bridge { .. } => {}
            }
            push(
                primary,
                ns,
                ops::link::create(spec, ctx),
                create,
                what(format!("create link {}", spec.name()), ns),
            );
            push(
                primary,
                ns,
                ops::link::set_alias(spec.name(), alias),
                0,
                what(format!("mark link {}", spec.name()), ns),
            );
            Ok(changed)
        }
        Action::DeleteLink { ns, spec } => {
            push(
                primary,
                ns,
                ops::link::delete(spec.name()),
                0,
                what(format!("delete link {}", spec.name()), ns),
            );
            let mut changed = vec![ns.clone()];
            if let LinkSpec::Veth { peer_ns, .. } = spec {
                changed.push(peer_ns.clone());
            }
            Ok(changed)
        }
        Action::MoveLink {
            from,
            name,
            to,
            new_name,
        } => {
            let (src, dst) = session.pair(from, to)?;
            let index = src.index_of(from, name)?;
            let fd = std::os::fd::AsRawFd::as_raw_fd(&dst.netns.fd());
            push(
                primary,
                from,
                ops::link::move_to(index, new_name, fd),
                0,
                what(format!("move link {name} to {to} as {new_name}"), from),
            );
            // A NIC passed into a container is vnet's while it is there; back on its
            // node it is the machine's again: the mark is cleared (an empty alias
            // deletes it), as `plan::command` spells it.
            let mark = if matches!(to, NsRef::Node(_)) {
                ""
            } else {
                alias
            };
            push(
                follow,
                to,
                ops::link::set_alias(new_name, mark),
                0,
                what(format!("mark link {new_name}"), to),
            );
            Ok(vec![from.clone(), to.clone()])
        }
        Action::SetMac { ns, link, mac, .. } => {
            push(
                primary,
                ns,
                ops::link::set_mac(link, *mac),
                0,
                what(format!("set {link} address {mac}"), ns),
            );
            Ok(vec![])
        }
        Action::SetMtu { ns, link, mtu, .. } => {
            push(
                primary,
                ns,
                ops::link::set_mtu(link, *mtu),
                0,
                what(format!("set {link} mtu {mtu}"), ns),
            );
            Ok(vec![])
        }
        Action::SetUp { ns, link } => {
            push(
                primary,
                ns,
                ops::link::set_up(link, true),
                0,
                what(format!("set {link} up"), ns),
            );
            Ok(vec![])
        }
        Action::SetDown { ns, link } => {
            push(
                primary,
                ns,
                ops::link::set_up(link, false),
                0,
                what(format!("set {link} down"), ns),
            );
            Ok(vec![])
        }
        Action::SetMaster { ns, link, master } => {
            let index = session.index_in(ns, master)?;
            push(
                primary,
                ns,
                ops::link::set_master(link, index),
                0,
                what(format!("set {link} master {master}"), ns),
            );
            Ok(vec![])
        }
        Action::ClearMaster { ns, link, .. } => {
            push(
                primary,
                ns,
                ops::link::set_master(link, 0),
                0,
                what(format!("set {link} nomaster"), ns),
            );
            Ok(vec![])
        }
        Action::AddAddress { ns, link, address } => {
            let index = session.index_in(ns, link)?;
            push(
                primary,
                ns,
                ops::address::add(index, *address),
                create,
                what(format!("add address {address} dev {link}"), ns),
            );
            Ok(vec![])
        }
        Action::DelAddress { ns, link, address } => {
            let index = session.index_in(ns, link)?;
            push(
                primary,
                ns,
                ops::address::delete(index, *address),
                0,
                what(format!("delete address {address} dev {link}"), ns),
            );
            Ok(vec![])
        }
        Action::AddRoute { ns, route } | Action::DelRoute { ns, route } => {
            let oif = match &route.dev {
                Some(dev) => Some(session.index_in(ns, dev)?),
                None => None,
            };
            let (msg, flags, verb) = if matches!(action, Action::AddRoute { .. }) {
                (ops::route::add(route, oif), create, "add")
            } else {
                (ops::route::delete(route, oif), 0, "delete")
            };
            push(
                primary,
                ns,
                msg,
                flags,
                what(format!("{verb} route {}", route.dst), ns),
            );
            Ok(vec![])
        }
        Action::SetSysctl { ns, .. }
        | Action::AddNat { ns, .. }
        | Action::DelNat { ns, .. }
        | Action::SetRuleset { ns, .. } => {
            local.entry(ns.clone()).or_default().push(LocalPart {
                slot,
                action: action.clone(),
                guard: false,
            });
            Ok(vec![])
        }
        Action::WriteFile { .. } | Action::RemoveFile { .. } => Err(Error::Unsupported {
            action: describe(action),
        }),
    }
}

/// Whether `answer` says the link `action` deletes does not exist (ENODEV).
fn gone_already(action: &Action, answer: &Result<()>) -> bool {
    matches!(action, Action::DeleteLink { .. })
        && matches!(answer, Err(Error::Kernel { errno, .. }) if *errno == nix::libc::ENODEV)
}

/// Runs `steps` stage by stage without stopping or undoing (teardown): every failure is
/// collected, the rest still runs.
pub(crate) fn run_best_effort(
    session: &mut Session<'_>,
    topology: &str,
    steps: &[vnet_core::plan::Step],
) -> Vec<Error> {
    let alias = alias_for(topology);
    let mut stages: BTreeMap<usize, Vec<(usize, &Action)>> = BTreeMap::new();
    for step in steps {
        stages
            .entry(step.stage)
            .or_default()
            .push((step.id, &step.action));
    }
    let mut errors = Vec::new();
    for (_, actions) in stages {
        for outcome in run_stage(session, &alias, &Ipv6Defaults::none(), &actions) {
            if let Err(e) = outcome.result {
                errors.push(e);
            }
        }
    }
    errors
}
