//! Many containers on one bridge (the FINDINGS.md benchmark shape): apply works at
//! scale, in batches, and says how long it took per container.

use std::fmt::Write;
use std::time::Instant;

use vnet_backend_netlink::{ApplyOptions, Backend, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_core::{Document, Format};
use vnet_testkit::{isolated, link, ping, run};

const N: usize = 200;

fn topology() -> vnet_core::ValidTopology {
    let mut text = String::from(
        "name = \"scale\"\n[[node]]\nname = \"m1\"\n[[bridge]]\nname = \"br0\"\n\
         [[subnet]]\ncidr = \"198.18.0.0/16\"\nbridge = \"br0\"\n",
    );
    for i in 0..N {
        let id = 1000 + i;
        let _ = write!(
            text,
            "[[ct]]\nid = {id}\nname = \"c{id}\"\n[[ct.veth]]\nname = \"eth0\"\nbridge = \"br0\"\n\
             addresses = [\"198.18.{}.{}/16\"]\n",
            1 + i / 250,
            1 + i % 250
        );
    }
    Document::parse(&text, Format::Toml)
        .expect("parses")
        .validate()
        .expect("valid")
}

#[test]
fn two_hundred_containers_on_one_bridge() {
    isolated("two_hundred_containers_on_one_bridge", || {
        let t = topology();
        let b = Backend::new(NamespaceMap::sandbox("vs"));
        let start = Instant::now();
        let steps = vnet_core::plan::compile(&t, &Scope::Sandbox).len();
        eprintln!("TIMING plan of {steps} steps: {:?}", start.elapsed());
        let start = Instant::now();
        let report = b
            .apply(
                &t,
                &Scope::Sandbox,
                &ApplyOptions {
                    verify: false,
                    ..ApplyOptions::default()
                },
            )
            .unwrap();
        let setup = start.elapsed();
        eprintln!(
            "TIMING apply {N} containers: {:?} ({:.2} ms per container, {} steps, {} mutating requests)",
            setup,
            setup.as_secs_f64() * 1000.0 / N as f64,
            report.plan.len(),
            report.mutating_requests
        );
        let start = Instant::now();
        for (stage, actions, took) in &report.exec.stages {
            eprintln!("TIMING stage {stage}: {actions} actions in {took:?}");
        }
        assert!(b.check(&t, &Scope::Sandbox).unwrap().is_empty());
        eprintln!("TIMING observe and compare: {:?}", start.elapsed());
        assert_eq!(link("vs-m1", "br0")["linkinfo"]["info_kind"], "bridge");
        assert!(ping("vs-c1000", "198.18.1.200"), "first reaches last");
        let again = b
            .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
            .unwrap();
        assert_eq!(again.mutating_requests, 0);
        let start = Instant::now();
        b.destroy(&t, &Scope::Sandbox).unwrap();
        eprintln!("TIMING destroy {N} containers: {:?}", start.elapsed());
        assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        // Generous bound for a debug build on two cores; FINDINGS.md has `ip` at ~45 ms
        // per container.
        assert!(
            setup.as_secs_f64() < 45e-3 * N as f64,
            "apply took {setup:?}"
        );
    });
}
