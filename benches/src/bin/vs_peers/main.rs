//! # vs_peers: N containers on one bridge, vnet against its peers, in one run
//!
//! ```text
//! cargo run --release -p benches --bin vs_peers -- --n 100,1000 [--methods vnet,batch,cni,ip]
//! ```
//!
//! Builds N containers on one bridge with vnet's netlink backend, with one `ip` process
//! per operation (the article's way), with `ip -batch`, and with the CNI bridge plugin
//! (one ADD per container, as a runtime calls it), then tears each down, and prints per
//! method: setup time, ms per container, teardown time, and the ratios to vnet; plus
//! vnet's second (no-op) apply. Each container: a namespace with `lo` up, a veth pair
//! (container end `eth0`, MAC'd, addressed in 198.18.0.0/16; the CNI plugin picks its
//! own MACs), the host end on the bridge and up, one route to 198.19.0.0/16 via
//! 198.18.0.1, and IPv6 off on every link vnet or the peer creates (every method the
//! same way: `default.disable_ipv6=1` written in-process in each namespace before its
//! links exist; vnet's thread that creates a namespace writes it there, the plan's
//! per-link `disable_ipv6` steps then hold already and are checked by the same untimed
//! check).
//! Every method's result is checked the same way (untimed): one bridge port per
//! container, IPv6 off on `eth0`, the first container pings the last, and nothing is
//! left after teardown.
//!
//! Safety: the binary re-executes itself under `unshare --net --mount --propagation
//! private` and mounts private tmpfs on `/run/netns` and `/var/lib/cni`; every link,
//! bridge and namespace is made inside that private network namespace, and all of it
//! dies with the run even if a teardown fails. Needs root.
//!
//! ## Results (this 2-core machine, release build, one run at nice -19, load average 1.1)
//!
//! | N = 1,000 | setup | ms/CT | teardown | setup x vnet | teardown x vnet |
//! |---|---|---|---|---|---|
//! | vnet (netlink backend) | 1.29 s | 1.29 | 0.15 s | 1.0 | 1.0 |
//! | ip -batch | 4.82 s | 4.82 | 0.28 s | 3.7 | 1.9 |
//! | CNI bridge plugin 1.1.1 | 15.29 s | 15.29 | 34.38 s | 11.9 | 229.3 |
//! | ip, one process per operation | 18.63 s | 18.63 | 1.91 s | 14.5 | 12.7 |
//!
//! N = 100: vnet 0.09 s (0.86 ms/CT), ip -batch 3.0x, CNI 10.1x, ip per operation 15.5x.
//! vnet's no-op second apply: 10.7% (9 ms) of the first at N = 100, 8.5% (109 ms) at
//! N = 1,000. vnet's stages at N = 1,000: namespaces 507 ms, veths 340 ms, ports and
//! addresses 150 ms, links up 205 ms, routes 17 ms. Goals met at N = 1,000: setup <= 3
//! s, teardown <= 1.5 s, 3.5x ip -batch, 10x CNI, no-op apply < 10%; not met: 25x the
//! per-operation script (14.5x). An earlier run of the same code at load average ~8
//! (nice -19): vnet 2.07 s, ip -batch 3.5x, CNI 13.1x, ip per operation 20.9x, no-op
//! 11.3%: the ratios move with the machine's load.

mod check;
mod cni;
mod floor;
mod ip;
mod isolate;
mod method;
mod netns;
mod run;
mod table;
mod topo;
mod vnet;

use std::time::Instant;

use anyhow::{bail, Context, Result};

use method::Method;
use table::{Row, Timing};

/// The methods by their command-line names, in the order they run.
const ALL: [&str; 4] = ["vnet", "batch", "cni", "ip"];

struct Args {
    sizes: Vec<usize>,
    methods: Vec<String>,
    rounds: usize,
}

fn parse_args() -> Result<Args> {
    let mut sizes = vec![100, 1000];
    let mut rounds = 3;
    let mut methods: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = |args: &mut dyn Iterator<Item = String>| {
            args.next().with_context(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--n" => {
                sizes = value(&mut args)?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>().context("--n takes numbers"))
                    .collect::<Result<_>>()?;
            }
            "--methods" => {
                methods = value(&mut args)?
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect();
                if let Some(bad) = methods.iter().find(|m| !ALL.contains(&m.as_str())) {
                    bail!("unknown method {bad}; known: {}", ALL.join(","));
                }
            }
            "--rounds" => {
                rounds = value(&mut args)?
                    .parse::<usize>()
                    .ok()
                    .filter(|r| *r > 0)
                    .context("--rounds takes a positive number")?;
            }
            "--help" | "-h" => {
                println!(
                    "vs_peers [--n 100,1000] [--methods {}] [--rounds 3]",
                    ALL.join(",")
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    if sizes.iter().any(|n| *n == 0 || *n > 1000) {
        bail!("--n: 1 to 1000 containers (a Linux bridge takes at most 1023 ports)");
    }
    if !methods.iter().any(|m| m == "vnet") {
        bail!("--methods must include vnet (the ratios are against it)");
    }
    Ok(Args {
        sizes,
        methods,
        rounds,
    })
}

fn make(name: &str) -> Box<dyn Method> {
    match name {
        "batch" => Box::new(ip::Batch),
        "cni" => Box::new(cni::CniBridge),
        "ip" => Box::new(ip::PerOperation),
        _ => Box::new(vnet::Vnet::new()),
    }
}

/// Setup, check, teardown, check of one method; `extra` runs between the check and
/// the teardown (vnet's second apply), untimed.
fn measure<M: Method + ?Sized>(
    m: &mut M,
    cts: &[topo::Ct],
    extra: &mut dyn FnMut(&mut M) -> Result<()>,
) -> Result<Timing> {
    check::clean().context("before the run")?;
    let start = Instant::now();
    let setup = m.setup(cts);
    let setup_time = start.elapsed();
    if let Err(e) = setup {
        check::scrub();
        return Err(e.context(format!("{} setup", m.name())));
    }
    let checked = m.check(cts).and_then(|()| extra(m));
    let start = Instant::now();
    let torn = m.teardown(cts);
    let teardown_time = start.elapsed();
    if let Err(e) = checked.and(torn) {
        check::scrub();
        return Err(e);
    }
    check::clean().context("after teardown")?;
    Ok(Timing {
        setup: setup_time,
        teardown: teardown_time,
    })
}

/// Every method at size `n`, `rounds` times over, interleaved (vnet, the floor, then each
/// peer, and again), so a change in the machine's load hits every method alike; each row
/// is the method's median round.
fn run_size(n: usize, methods: &[String], rounds: usize) -> Result<bool> {
    let cts = topo::cts(n);
    let peers: Vec<&String> = methods.iter().filter(|m| *m != "vnet").collect();
    let mut vnet_runs = Vec::new();
    let mut floor_runs = Vec::new();
    let mut peer_runs: Vec<Vec<Result<Timing>>> = peers.iter().map(|_| Vec::new()).collect();
    let mut noops = Vec::new();
    let mut missing: Vec<Option<String>> = peers.iter().map(|p| make(p).missing()).collect();
    for round in 1..=rounds {
        let mut vn = vnet::Vnet::new();
        eprintln!("N = {n}, round {round}/{rounds}: running {} ...", vn.name());
        let timing = measure(&mut vn, &cts, &mut |v: &mut vnet::Vnet| {
            let left = v.mismatches()?;
            if left != 0 {
                bail!("vnet: {left} differences between the kernel and the topology");
            }
            noops.push(v.second_apply()?);
            Ok(())
        });
        if let Some(exec) = &vn.exec {
            table::stages(n, vn.validate, exec);
        }
        vnet_runs.push(timing);
        eprintln!("N = {n}, round {round}/{rounds}: running the kernel's floor ...");
        floor_runs.push(measure(&mut floor::Floor, &cts, &mut |_| Ok(())));
        for (i, name) in peers.iter().enumerate() {
            if missing[i].is_some() {
                continue;
            }
            let mut m = make(name);
            eprintln!("N = {n}, round {round}/{rounds}: running {} ...", m.name());
            let timing = measure(m.as_mut(), &cts, &mut |_| Ok(()));
            peer_runs[i].push(timing);
        }
    }
    let mut rows = vec![
        Row::median(vnet::Vnet::new().name(), vnet_runs),
        Row::median(floor::Floor.name(), floor_runs),
    ];
    for (i, name) in peers.iter().enumerate() {
        let m = make(name);
        rows.push(match missing[i].take() {
            Some(what) => Row::missing(m.name(), what),
            None => Row::median(m.name(), std::mem::take(&mut peer_runs[i])),
        });
    }
    noops.sort();
    let noop = noops.get(noops.len() / 2).copied();
    Ok(table::print(n, rounds, &rows, noop))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if !isolate::is_child() {
        std::process::exit(isolate::reexec()?);
    }
    isolate::prepare()?;
    let mut all_ran = true;
    for n in &args.sizes {
        all_ran &= run_size(*n, &args.methods, args.rounds)?;
    }
    if !all_ran {
        bail!("some methods failed or are missing (see the tables)");
    }
    Ok(())
}
