//! Embedding vnet in a program: build a topology in code (no file), validate it, compile
//! the plan that builds it in a sandbox and print the plan listing; with `--apply`, build
//! it on the kernel inside private namespaces the example makes for itself.
//!
//! One node `lab1` with bridge `br0` and three containers on it: `router` (forwarding,
//! 198.18.0.1) and two clients, `web` and `db`, whose default route goes through the
//! router. The CLI's tests include this file and check [`plan_listing`]. Run it with:
//!
//! ```text
//! cargo run -p vnet-cli --example embed
//! sudo target/debug/examples/embed --apply
//! ```

use std::process::ExitCode;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap};
use vnet_core::model::{Bridge, Container, Node, Route, RouteDest, Subnet, Topology, Veth};
use vnet_core::plan::{compile, listing, Scope};

/// The example topology: only what differs from the defaults is spelled out.
fn topology() -> Topology {
    let mut t = Topology::new("embedded");
    t.node.push(Node::new("lab1"));
    t.bridge.push(Bridge {
        nodes: Some(vec!["lab1".into()]),
        ..Bridge::new("br0")
    });
    let gateway = "198.18.0.1".parse().expect("a literal address");
    t.subnet.push(Subnet {
        gateway: Some(gateway),
        ..Subnet::on_bridge("198.18.0.0/24".parse().expect("a literal CIDR"), "br0")
    });
    for (i, name) in ["router", "web", "db"].into_iter().enumerate() {
        // MACs left out are derived, stably, from the topology and element names.
        let veth = Veth {
            addresses: vec![format!("198.18.0.{}/24", i + 1).parse().expect("a CIDR")],
            host_name: Some(format!("vr{i}")),
            bridge: Some("br0".into()),
            ..Veth::new("eth0")
        };
        let mut ct = Container {
            hostname: Some(format!("{name}.lab.example")),
            onboot: Some(true),
            node: Some("lab1".into()),
            veth: vec![veth],
            ..Container::new(201 + i as u32, name)
        };
        match i {
            0 => ct.forward.ipv4 = true,
            _ => ct.route.push(Route::via(RouteDest::Default, gateway)),
        }
        t.ct.push(ct);
    }
    t
}

/// Validates the topology and lists the plan that builds it in a sandbox with prefix
/// `embed`; every finding, with hints, when it is not valid.
pub fn plan_listing() -> Result<String, vnet_core::Error> {
    let valid = vnet_core::validate(topology())?;
    let plan = compile(&valid, &Scope::Sandbox);
    Ok(listing::listing(&plan, &|ns| ns.sandbox_name("embed")))
}

/// Builds the network as namespaces `embed-*` (apply checks the kernel matches the
/// plan), then removes them. Call only in private namespaces: see [`enter_private`].
fn apply() -> Result<(), Box<dyn std::error::Error>> {
    let valid = vnet_core::validate(topology())?;
    let backend = Backend::new(NamespaceMap::sandbox("embed"));
    let report = backend.apply(&valid, &Scope::Sandbox, &ApplyOptions::default())?;
    println!(
        "{} steps, {} netlink changes",
        report.plan.len(),
        report.mutating_requests
    );
    backend.destroy(&valid, &Scope::Sandbox)?;
    Ok(())
}

/// Moves this (still single-threaded) process into a new network namespace and a new
/// mount namespace with its own `/run/netns`, so nothing `apply` makes is visible to the
/// machine, and all of it is gone when the process ends.
fn enter_private() -> Result<(), Box<dyn std::error::Error>> {
    unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS)?;
    let none = None::<&str>;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)?;
    std::fs::create_dir_all("/run/netns")?;
    mount(
        Some("tmpfs"),
        "/run/netns",
        Some("tmpfs"),
        MsFlags::empty(),
        none,
    )?;
    Ok(())
}

fn main() -> ExitCode {
    let result = match std::env::args().nth(1).as_deref() {
        Some("--apply") => enter_private().and_then(|()| apply()),
        _ => plan_listing()
            .map(|text| print!("{text}"))
            .map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A program building topologies gets the same findings and hints `vnet check` gives.
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
