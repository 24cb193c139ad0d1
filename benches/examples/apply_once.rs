//! Applies a topology file once in sandbox scope through the netlink backend, in
//! process with the system allocator (for heap profilers such as heaptrack, which do
//! not see the `vnet` binary's mimalloc): `apply_once FILE`. Run it only inside a
//! private network + mount namespace (as `scripts/rss` does).

use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_core::{Document, Format};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: apply_once FILE");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).expect("the topology file is readable");
    let topology = Document::parse(&text, Format::Toml)
        .expect("parses")
        .validate()
        .expect("valid");
    drop(text);
    let backend = Backend::new(NamespaceMap::sandbox("vnet"));
    let report = backend
        .apply(&topology, &Scope::Sandbox, &ApplyOptions::default())
        .expect("apply");
    eprintln!("{} steps", report.plan.len());
}
