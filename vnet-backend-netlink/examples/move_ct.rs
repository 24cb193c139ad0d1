//! Moves container `mail` of the seed topology from node m1 to m2 through the library
//! alone: apply the seed in the sandbox, start `mail` and its gateway `router` on m2
//! (leaves first; a start stops a container on m1 first; m1's and m2's `br0` are not
//! joined), probe mail from the router, stop mail, destroy everything.
//!
//! Run as root: `cargo run -p vnet-backend-netlink --example move_ct`. It re-executes
//! itself under `unshare --net --mount --propagation private` with a private tmpfs on
//! `/run/netns`: nothing it builds is visible outside, and all of it vanishes with it.

use std::error::Error;
use std::process::{exit, Command};
use std::time::Duration;

use vnet_backend_netlink::probe::{probe_all, Probe, ProbeOutcome};
use vnet_backend_netlink::{lifecycle::ns_file, ApplyOptions, Backend, Site, StartOptions};
use vnet_core::lifecycle::{leaves_first, State};
use vnet_core::{plan::NsRef, Document, Format, ValidTopology};

/// Set in the re-executed child, which runs inside its private namespaces.
const CHILD: &str = "VNET_MOVE_CT_CHILD";

fn main() -> Result<(), Box<dyn Error>> {
    if std::env::var_os(CHILD).is_none() {
        if !nix::unistd::Uid::effective().is_root() {
            return Err("move_ct creates network namespaces: run it as root".into());
        }
        let status = Command::new("unshare")
            .args(["--net", "--mount", "--propagation", "private", "--"])
            .arg(std::env::current_exe()?)
            .env(CHILD, "1")
            .status()?;
        exit(status.code().unwrap_or(1));
    }
    std::fs::create_dir_all("/run/netns")?;
    let flags = nix::mount::MsFlags::empty();
    nix::mount::mount(
        Some("tmpfs"),
        "/run/netns",
        Some("tmpfs"),
        flags,
        None::<&str>,
    )?;
    let seed = include_str!("../../examples/seed.toml");
    let t = Document::parse(seed, Format::Toml)?.validate()?;
    let backend = Backend::on_site(
        &t,
        &Site::Sandbox {
            prefix: "vnet".into(),
        },
    );
    let moved = move_mail(&backend, &t);
    backend.destroy(&t, &backend.scope())?;
    moved
}

/// Builds the seed, moves `mail` (and its router) to m2, probes it there, stops it.
fn move_mail(backend: &Backend, t: &ValidTopology) -> Result<(), Box<dyn Error>> {
    backend.apply(t, &backend.scope(), &ApplyOptions::default())?;
    for ct in leaves_first(t, &["router", "mail"])? {
        let started = backend.start(t, ct, "m2", &StartOptions::default())?;
        println!("{}", started.line());
        let status = backend.status(t, ct)?;
        if status.state != State::Up || started.moved_from.as_deref() != Some("m1") {
            return Err(format!("{ct} did not move to m2: {}", status.line()).into());
        }
    }
    let mail = t
        .topology()
        .ct_by_name("mail")
        .ok_or("the seed has no mail")?;
    let to = mail.veth[0].addresses[0].ip();
    let router = ns_file(backend.map(), &NsRef::Ct("router".into()))?;
    match &probe_all(&[Probe { ns: router, to }], Duration::from_secs(2))?[..] {
        [ProbeOutcome::Reply(rtt)] => println!("router -> mail {to} on m2: reply in {rtt:?}"),
        other => return Err(format!("mail {to} does not answer on m2: {other:?}").into()),
    }
    let stopped = backend.stop(t, "mail")?;
    let after = backend.status(t, "mail")?;
    if !stopped.was_running || after.state != State::Stopped {
        return Err(format!("mail did not stop: {}", after.line()).into());
    }
    println!("{}", after.line());
    Ok(())
}
