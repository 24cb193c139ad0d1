//! Probing a built topology's reachability matrix and rendering it (`vnet verify`,
//! `vnet demo`). On a real node, the pairs whose ends are both on it ([`here`]).

mod here;

use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::time::Duration;

use vnet_backend_netlink::probe::stream::{probe_streams, StreamOutcome, StreamProbe};
use vnet_backend_netlink::probe::{probe_all_with, Probe, ProbeError, ProbeOutcome, Tidy};
use vnet_core::model::Proto;
use vnet_core::plan::NsRef;
use vnet_core::reach::{self, Expectation, Flow, Plan, Planned, ProbeProto, Role};
use vnet_core::ValidTopology;

use crate::cli::Output;
use crate::exit::{Exit, Failure};
use crate::progress::Progress;
use crate::sandbox::Resolved;
pub use here::Elsewhere;

/// How long probes wait by default: right after links come up, IPv6 duplicate address
/// detection and neighbour discovery take a moment.
pub const DEFAULT_TIMEOUT_MS: u64 = 3000;

/// How long a TCP/UDP flow the model says must be denied is given to answer anyway: a
/// flow that passes answers within milliseconds on these links, and verify stays fast.
pub const DENIED_TIMEOUT: Duration = Duration::from_millis(300);

/// Beyond this many target addresses the matrix becomes a list per source.
const MAX_COLUMNS: usize = 12;

/// Beyond this many probes there is no matrix or list, only the summary.
const MAX_LISTED: usize = 100;

/// How many differences the summary names (the JSON has them all).
const MAX_FAILURES: usize = 20;

/// How many classes the summary names, largest first.
const MAX_CLASSES: usize = 10;

/// Which pairs `vnet verify` probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pairs {
    /// One probe per class of alike endpoints and per endpoint (the whole matrix when it
    /// has at most 256 pairs).
    Classes,
    /// Every ordered pair of endpoints (grows with the square of the namespaces).
    All,
}

/// One probe and what it saw.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    /// The source namespace, e.g. `ct mail`.
    pub from: String,
    /// The source address the model expects the kernel to choose.
    pub source: Option<IpAddr>,
    /// The address probed.
    pub to: IpAddr,
    /// The namespace that owns `to` (for a flow through a port forward: its target).
    pub to_ns: String,
    /// What was sent: `icmp`, `tcp` or `udp`.
    pub proto: ProbeProto,
    /// The destination port (TCP and UDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// How a TCP/UDP flow was answered: `echoed` (by vnet's listener), `connected` (by a
    /// service holding the port), `refused`, `timeout` or `unreachable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<&'static str>,
    /// Whether the model says a reply must come.
    pub expected: bool,
    /// Whether a reply came.
    pub seen: bool,
    /// The round-trip time of the reply, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// The model's reason: the path taken, or where it breaks.
    pub reason: String,
    /// Why the probe could not be sent, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many pairs of the full matrix this probe's verdict stands for (1 for a pair
    /// of its own, 0 for an endpoint check).
    pub stands_for: usize,
    /// Why the probe was sent: `pair`, `class` (with the classes' indices) or `endpoint`.
    pub role: Role,
    #[serde(skip)]
    flow: Flow,
    #[serde(skip)]
    from_ref: NsRef,
    #[serde(skip)]
    to_ref: NsRef,
}

impl ProbeResult {
    /// Whether what was seen is what the model expects.
    pub fn matches(&self) -> bool {
        self.expected == self.seen
    }
}

/// Colours only for a terminal, and never when `NO_COLOR` is set.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// What `vnet verify` sent and saw, and what its probes stand for.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Each probe and what it saw.
    pub results: Vec<ProbeResult>,
    /// The classes of alike endpoints.
    pub classes: Vec<Vec<NsRef>>,
    /// How many pairs the probes stand for (all of the full matrix, but on a real node).
    pub pairs: usize,
    /// The endpoints not on this machine (a real node's), with the reason.
    pub elsewhere: Vec<Elsewhere>,
    /// How many pairs of the full matrix have an end elsewhere: not probed here.
    pub pairs_elsewhere: usize,
    /// Containers that may run only on this node (a real node's) and are not on it.
    pub missing: Vec<Elsewhere>,
}

impl Verified {
    /// Whether every probe saw what the model expects and no container is missing.
    pub fn matched(&self) -> bool {
        self.missing.is_empty() && self.results.iter().all(ProbeResult::matches)
    }
}

/// Probes `t` in the target by the default plan ([`reach::plan`]).
pub fn probe(
    t: &ValidTopology,
    target: &Resolved,
    timeout: Duration,
) -> Result<Vec<ProbeResult>, Failure> {
    Ok(probe_pairs(t, target, timeout, Pairs::Classes, Output::Json)?.results)
}

/// Probes the pairs `pairs` asks for, with a progress bar for people on a terminal.
pub fn probe_pairs(
    t: &ValidTopology,
    target: &Resolved,
    timeout: Duration,
    pairs: Pairs,
    output: Output,
) -> Result<Verified, Failure> {
    let ends = here::ends(t, target);
    let is_here = |ns: &NsRef| ends.here.contains_key(ns);
    let plan: Plan = match pairs {
        Pairs::Classes => reach::plan_among(t, &is_here),
        Pairs::All => reach::full_among(t, &is_here),
    };
    let pairs_elsewhere = if ends.elsewhere.is_empty() {
        0
    } else {
        reach::pairs_elsewhere(t, &is_here)
    };
    let (mut probes, mut streams) = (Vec::new(), Vec::new());
    for Planned { expectation: e, .. } in &plan.probes {
        let ns = ends.here[&e.from].clone();
        match stream(e) {
            None => probes.push(Probe { ns, to: e.to }),
            Some((proto, port, listen_port)) => streams.push(StreamProbe {
                from: ns,
                listen: ends.here[&e.to_ns].clone(),
                proto,
                to: std::net::SocketAddr::new(e.to, port),
                listen_port,
                timeout: if e.reachable {
                    timeout
                } else {
                    DENIED_TIMEOUT.min(timeout)
                },
            }),
        }
    }
    let sources: Vec<&std::path::Path> = probes
        .iter()
        .map(|p| p.ns.as_path())
        .chain(streams.iter().map(|s| s.from.as_path()))
        .collect();
    not_built(t, sources)?;
    // (The bar counts ICMP probes; the few TCP/UDP flows follow them.)
    let bar = Progress::bar(
        output,
        probes.len(),
        format!("probing {} pairs", plan.pairs),
    );
    let outcomes = probe_all_with(&probes, timeout, &tidy(t, target, &ends), &|n| bar.inc(n));
    let flows = outcomes.is_ok().then(|| probe_streams(&streams));
    bar.finish();
    let mut outcomes = outcomes.map_err(refused)?.into_iter();
    let mut flows = flows
        .transpose()
        .map_err(refused)?
        .unwrap_or_default()
        .into_iter();
    let mut results = Vec::with_capacity(plan.probes.len());
    for p in &plan.probes {
        let r = if stream(&p.expectation).is_some() {
            flows.next().map(|o| stream_result(p, o))
        } else {
            outcomes.next().map(|o| result(p, o))
        };
        results.extend(r);
    }
    Ok(Verified {
        results,
        classes: plan.classes,
        pairs: plan.pairs,
        elsewhere: ends.elsewhere.into_iter().map(|(_, e)| e).collect(),
        pairs_elsewhere,
        missing: ends.missing,
    })
}

/// The namespaces whose neighbour entries probing deletes again: the topology's own
/// that are here, never the one vnet runs in (a real node's, whose entries are the
/// machine's).
fn tidy(t: &ValidTopology, target: &Resolved, ends: &here::Ends) -> Tidy {
    let net = reach::Network::from_topology(t);
    Tidy::new(net.addresses().into_iter().filter_map(|(ns, a)| {
        if matches!(ns, NsRef::Node(_)) && target.this_node().is_some() {
            return None;
        }
        Some((a, ends.here.get(&ns)?.clone()))
    }))
}

/// A TCP/UDP flow's protocol, port and listening port; `None` for an ICMP echo.
fn stream(e: &Expectation) -> Option<(Proto, u16, u16)> {
    let proto = match e.flow.proto {
        ProbeProto::Icmp => return None,
        ProbeProto::Tcp => Proto::Tcp,
        ProbeProto::Udp => Proto::Udp,
    };
    let port = e.flow.port?;
    Some((proto, port, e.flow.listen_port.unwrap_or(port)))
}

/// When none of the namespaces to probe from exists, the topology was never built here
/// (or was destroyed): one sentence, exit 3, instead of a failed probe per pair.
fn not_built(t: &ValidTopology, mut sources: Vec<&std::path::Path>) -> Result<(), Failure> {
    sources.sort();
    sources.dedup();
    if sources.is_empty() || sources.iter().any(|p| p.exists()) {
        return Ok(());
    }
    let names: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
    Err(Failure {
        exit: Exit::Drift,
        error: Some(anyhow::anyhow!(
            "topology `{}` is not built here: none of the namespaces to probe from exists \
             ({}); build it first with `vnet apply`",
            t.name(),
            names.join(", ")
        )),
    })
}

/// This machine would not let vnet probe (exit 4), with what to do about it.
fn refused(e: ProbeError) -> Failure {
    use nix::errno::Errno;
    let hint = match e.errno {
        Errno::EPERM | Errno::EACCES => {
            "; vnet verify enters namespaces and sends raw ICMP: run it as root \
             (CAP_SYS_ADMIN and CAP_NET_RAW)"
        }
        Errno::EMFILE | Errno::ENFILE => {
            "; raise the limit on open files (ulimit -n): verify opens a socket per namespace"
        }
        Errno::ENOBUFS => {
            "; the machine's neighbour table is full (net.ipv4.neigh.default.gc_thresh3 in \
             the initial namespace limits all namespaces together)"
        }
        _ => "",
    };
    Failure::system(anyhow::anyhow!("{e}{hint}"))
}

fn result(p: &Planned, outcome: ProbeOutcome) -> ProbeResult {
    let e: &Expectation = &p.expectation;
    let (seen, rtt_ms, error) = match outcome {
        // Microsecond resolution is all a ping can claim; it keeps the JSON short.
        ProbeOutcome::Reply(rtt) => (true, Some(rtt.as_micros() as f64 / 1000.0), None),
        ProbeOutcome::Timeout => (false, None, None),
        ProbeOutcome::Error(why) => (false, None, Some(why)),
    };
    ProbeResult {
        from: e.from.to_string(),
        source: e.source,
        to: e.to,
        to_ns: e.to_ns.to_string(),
        proto: e.flow.proto,
        port: e.flow.port,
        answer: None,
        expected: e.reachable,
        seen,
        rtt_ms,
        reason: e.reason.clone(),
        error,
        stands_for: p.stands_for,
        role: p.role,
        flow: e.flow,
        from_ref: e.from.clone(),
        to_ref: e.to_ns.clone(),
    }
}

fn stream_result(p: &Planned, outcome: StreamOutcome) -> ProbeResult {
    let (seen, rtt, answer, error) = match outcome {
        StreamOutcome::Answered { rtt, echoed } => {
            let how = if echoed { "echoed" } else { "connected" };
            (true, Some(rtt), how, None)
        }
        StreamOutcome::Refused => (false, None, "refused", None),
        StreamOutcome::Timeout => (false, None, "timeout", None),
        StreamOutcome::Unreachable(why) => (false, None, "unreachable", Some(why)),
        StreamOutcome::Unchecked(why) => (false, None, "unchecked", Some(why)),
    };
    let mut r = result(
        p,
        match error {
            Some(why) => ProbeOutcome::Error(why),
            None => rtt.map_or(ProbeOutcome::Timeout, ProbeOutcome::Reply),
        },
    );
    r.seen = seen;
    r.answer = Some(answer);
    r
}

/// ` tcp/25` for a TCP/UDP flow, nothing for ICMP.
fn service(r: &ProbeResult) -> String {
    match r.port {
        Some(port) => format!(" {}/{port}", r.proto.as_str()),
        None => String::new(),
    }
}

/// For people: what the probes stand for and the classes (when classes were probed),
/// the matrix or list when short, then the verdict with the first differences.
pub fn render_verified(v: &Verified, colour: bool) -> String {
    let mut out = String::new();
    let by_class = v
        .results
        .iter()
        .any(|r| matches!(r.role, Role::Class { .. } | Role::Endpoint));
    if by_class {
        let endpoints: usize = v.classes.iter().map(Vec::len).sum();
        let class_probes = v
            .results
            .iter()
            .filter(|r| matches!(r.role, Role::Class { .. }))
            .count();
        let flows = v.results.iter().filter(|r| r.role == Role::Flow).count();
        out.push_str(&format!(
            "{} probes stand for all {} pairs of {endpoints} endpoints in {} classes of alike \
             endpoints: {class_probes} between classes, {} more so that every endpoint is probed\n",
            v.results.len(),
            v.pairs,
            v.classes.len(),
            v.results.len() - class_probes - flows,
        ));
        if flows > 0 {
            out.push_str(&format!(
                "and {flows} TCP/UDP flows the port forwards and filters decide\n"
            ));
        }
        let mut classes: Vec<&Vec<NsRef>> = v.classes.iter().collect();
        classes.sort_by_key(|c| std::cmp::Reverse(c.len()));
        for c in classes.iter().take(MAX_CLASSES) {
            let (first, last) = (&c[0], &c[c.len() - 1]);
            match c.len() {
                1 => out.push_str(&format!("  1 x {first}\n")),
                n => out.push_str(&format!("  {n} x {first} .. {last}\n")),
            }
        }
        if classes.len() > MAX_CLASSES {
            out.push_str(&format!(
                "  and {} more classes\n",
                classes.len() - MAX_CLASSES
            ));
        }
        out.push('\n');
    }
    if v.results.len() <= MAX_LISTED {
        out.push_str(&render(&v.results, colour));
    } else {
        out.push_str(LEGEND);
        out.push_str(&verdict(&v.results, colour));
    }
    out.push_str(&render_elsewhere(v));
    out
}

/// The pairs not probed here (on a real node), by the end that is elsewhere, and the
/// containers missing from this node.
fn render_elsewhere(v: &Verified) -> String {
    let mut out = String::new();
    for m in &v.missing {
        out.push_str(&format!("missing: {}: {}\n", m.ns, m.reason));
    }
    if v.elsewhere.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "\nnot probed here: {} pairs have an end that is not on this machine\n",
        v.pairs_elsewhere
    ));
    for e in v.elsewhere.iter().take(MAX_CLASSES) {
        out.push_str(&format!("  {}: {}\n", e.ns, e.reason));
    }
    if v.elsewhere.len() > MAX_CLASSES {
        out.push_str(&format!(
            "  and {} more ends elsewhere (--output json lists them)\n",
            v.elsewhere.len() - MAX_CLASSES
        ));
    }
    out
}

const LEGEND: &str = "✓ expected and answered (rtt ms)  ✗ expected, no answer  · not expected, no answer  ! not expected, answered\n";

/// The matrix (or per-source list when wide), then the failures with the model's reason.
pub fn render(results: &[ProbeResult], colour: bool) -> String {
    let mut out = String::new();
    // Sources in order of first appearance (flows follow the ICMP probes).
    let mut known = std::collections::BTreeSet::new();
    let rows: Vec<&NsRef> = results
        .iter()
        .map(|r| &r.from_ref)
        .filter(|ns| known.insert(*ns))
        .collect();
    // Columns by owning namespace, then address, so a namespace's addresses sit together.
    // (A TCP/UDP flow is a column of its own: its port, and its target behind a forward.)
    let mut columns: Vec<(&NsRef, IpAddr, Flow)> =
        results.iter().map(|r| (&r.to_ref, r.to, r.flow)).collect();
    columns.sort();
    columns.dedup();
    let cells: BTreeMap<(&NsRef, IpAddr, Flow, &NsRef), &ProbeResult> = results
        .iter()
        .map(|r| ((&r.from_ref, r.to, r.flow, &r.to_ref), r))
        .collect();
    let label = rows
        .iter()
        .map(|r| r.to_string().len())
        .max()
        .unwrap_or(0)
        .max(4);
    if columns.len() <= MAX_COLUMNS {
        out.push_str(&format!("{:label$} ", "from"));
        for i in 0..columns.len() {
            out.push_str(&format!(" {:>7}", format!("[{}]", i + 1)));
        }
        out.push('\n');
        for row in &rows {
            out.push_str(&format!("{:label$} ", row.to_string()));
            for (to_ns, to, flow) in &columns {
                let cell = match cells.get(&(*row, *to, *flow, *to_ns)) {
                    Some(r) => paint(&cell_text(r), symbol(r).1, colour),
                    None => " ".repeat(7),
                };
                out.push(' ');
                out.push_str(&cell);
            }
            out.push('\n');
        }
        out.push('\n');
        for (i, (to_ns, to, _)) in columns.iter().enumerate() {
            let svc = results
                .iter()
                .find(|r| (&r.to_ref, r.to, r.flow) == (*to_ns, *to, columns[i].2))
                .map(service)
                .unwrap_or_default();
            out.push_str(&format!("  [{}] {to}{svc} ({to_ns})\n", i + 1));
        }
    } else {
        for row in &rows {
            out.push_str(&format!("{row}:\n"));
            for r in results.iter().filter(|r| &&r.from_ref == row) {
                out.push_str(&format!(
                    "  {} {}{} ({})\n",
                    paint(&cell_text(r), symbol(r).1, colour),
                    r.to,
                    service(r),
                    r.to_ns
                ));
            }
        }
    }
    out.push('\n');
    out.push_str(LEGEND);
    out.push_str(&verdict(results, colour));
    out
}

/// "all N probes as the model expects", or the first differences with their reasons.
fn verdict(results: &[ProbeResult], colour: bool) -> String {
    let mut out = String::new();
    let failures: Vec<&ProbeResult> = results.iter().filter(|r| !r.matches()).collect();
    let total = results.len();
    if failures.is_empty() {
        out.push_str(&format!(
            "all {total} probes as the model expects ({} answered)\n",
            results.iter().filter(|r| r.seen).count()
        ));
        let flows: Vec<&ProbeResult> = results.iter().filter(|r| r.port.is_some()).collect();
        if !flows.is_empty() {
            out.push_str(&format!(
                "  of them {} TCP/UDP flows: {} pass, {} denied as the filters say\n",
                flows.len(),
                flows.iter().filter(|r| r.seen).count(),
                flows.iter().filter(|r| !r.seen).count()
            ));
        }
    } else {
        out.push_str(&format!(
            "{} of {total} probes differ from the model:\n",
            failures.len()
        ));
        for r in failures.iter().take(MAX_FAILURES) {
            let what = if r.expected {
                "expected an answer, got none"
            } else {
                "expected no answer, got one"
            };
            let error = r
                .error
                .as_ref()
                .map(|e| format!(" [{e}]"))
                .unwrap_or_default();
            let stands = if r.stands_for > 1 {
                format!(" [stands for {} pairs]", r.stands_for)
            } else {
                String::new()
            };
            let answer = r.answer.map(|a| format!(" ({a})")).unwrap_or_default();
            out.push_str(&format!(
                "  {} {} -> {}{} ({}): {what}{answer}{error}{stands}; model: {}\n",
                paint(symbol(r).0, symbol(r).1, colour),
                r.from,
                r.to,
                service(r),
                r.to_ns,
                r.reason
            ));
        }
        if failures.len() > MAX_FAILURES {
            out.push_str(&format!(
                "  and {} more (--output json lists every probe)\n",
                failures.len() - MAX_FAILURES
            ));
        }
    }
    out
}

/// The cell's symbol and its ANSI colour code.
fn symbol(r: &ProbeResult) -> (&'static str, &'static str) {
    match (r.expected, r.seen) {
        (true, true) => ("✓", "32"),
        (true, false) => ("✗", "31"),
        (false, false) => ("·", "2"),
        (false, true) => ("!", "31;1"),
    }
}

/// A cell, 7 columns wide: the symbol and, for a reply, its round-trip time.
fn cell_text(r: &ProbeResult) -> String {
    let (sym, _) = symbol(r);
    match r.rtt_ms {
        Some(ms) => format!("{sym} {:>5}", format!("{ms:.2}")),
        None => format!("{sym}      "),
    }
}

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(from: &str, to: &str, expected: bool, seen: bool) -> ProbeResult {
        ProbeResult {
            from: format!("ct {from}"),
            source: None,
            to: to.parse().unwrap(),
            to_ns: "host gw".into(),
            proto: ProbeProto::Icmp,
            port: None,
            answer: None,
            expected,
            seen,
            rtt_ms: seen.then_some(0.25),
            reason: format!("{from} via router"),
            error: None,
            stands_for: 1,
            role: Role::Pair,
            flow: Flow::ICMP,
            from_ref: NsRef::Ct(from.into()),
            to_ref: NsRef::Host("gw".into()),
        }
    }

    #[test]
    fn the_matrix_marks_each_case_and_lists_failures_with_the_reason() {
        let results = [
            r("a", "198.18.0.1", true, true),
            r("a", "198.18.0.2", true, false),
            r("b", "198.18.0.1", false, false),
            r("b", "198.18.0.2", false, true),
        ];
        let text = render(&results, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("ct a") && lines[1].contains("✓  0.25") && lines[1].contains('✗'),
            "{text}"
        );
        assert!(
            lines[2].starts_with("ct b") && lines[2].contains('·') && lines[2].contains("!  0.25"),
            "{text}"
        );
        assert!(text.contains("[2] 198.18.0.2 (host gw)"), "{text}");
        assert!(text.contains("2 of 4 probes differ"), "{text}");
        assert!(
            text.contains(
                "ct a -> 198.18.0.2 (host gw): expected an answer, got none; model: a via router"
            ),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "no colour when not asked");
        assert!(render(&results, true).contains("\x1b[32m✓"));
    }

    #[test]
    fn flows_are_columns_of_their_own_with_protocol_and_port() {
        let mut smtp = r("a", "198.18.0.1", true, true);
        smtp.proto = ProbeProto::Tcp;
        smtp.port = Some(25);
        smtp.flow = Flow::stream(Proto::Tcp, 25);
        smtp.answer = Some("echoed");
        let mut pg = r("b", "198.18.0.2", false, false);
        pg.proto = ProbeProto::Tcp;
        pg.port = Some(5432);
        pg.flow = Flow::stream(Proto::Tcp, 5432);
        let results = [r("a", "198.18.0.1", true, true), smtp, pg];
        let text = render(&results, false);
        assert!(text.contains("[1] 198.18.0.1 (host gw)"), "{text}");
        assert!(text.contains("[2] 198.18.0.1 tcp/25 (host gw)"), "{text}");
        assert!(text.contains("[3] 198.18.0.2 tcp/5432 (host gw)"), "{text}");
        // One row per source, even when its flows come after other sources' probes.
        assert_eq!(text.lines().filter(|l| l.starts_with("ct a")).count(), 1);
        assert!(text.contains("2 TCP/UDP flows: 1 pass, 1 denied"), "{text}");
        let json = serde_json::to_value(&results[1]).unwrap();
        assert_eq!(
            (json["proto"].as_str(), json["port"].as_u64()),
            (Some("tcp"), Some(25))
        );
        assert_eq!(serde_json::to_value(&results[0]).unwrap()["proto"], "icmp");
        assert!(serde_json::to_value(&results[0])
            .unwrap()
            .get("port")
            .is_none());
    }

    #[test]
    fn a_wide_matrix_becomes_a_list_and_all_green_says_so() {
        let results: Vec<ProbeResult> = (1..=MAX_COLUMNS + 1)
            .map(|i| r("a", &format!("198.18.0.{i}"), true, true))
            .collect();
        let text = render(&results, false);
        assert!(
            text.starts_with("ct a:\n  ✓  0.25 198.18.0.1 (host gw)\n"),
            "{text}"
        );
        assert!(
            text.contains("all 13 probes as the model expects (13 answered)"),
            "{text}"
        );
    }
}
