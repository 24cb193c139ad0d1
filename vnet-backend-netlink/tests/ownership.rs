//! A link under a name the topology wants that someone labelled with an alias of their
//! own (not `vnet:<topology>`) is someone else's: apply refuses it by name and alias,
//! and neither deletes, recreates nor marks it. Only a link with no alias at all, in a
//! namespace vnet made and marked, counts as vnet's (a run killed between creating and
//! marking it).

use vnet_backend_netlink::{ApplyOptions, Backend, Error, ErrorKind, NamespaceMap};
use vnet_core::plan::Scope;
use vnet_core::ValidTopology;
use vnet_testkit::{isolated, link, run, seed};

fn backend() -> Backend {
    Backend::new(NamespaceMap::sandbox("vnet"))
}

/// Index, alias and MAC of `dev` in `ns`: what deleting, recreating or marking changes.
fn identity(ns: &str, dev: &str) -> (u64, Option<String>, String) {
    let l = link(ns, dev);
    (
        l["ifindex"].as_u64().expect("ifindex"),
        l["ifalias"].as_str().map(str::to_string),
        l["address"].as_str().expect("address").to_string(),
    )
}

/// Applies the seed again and expects the refusal of `dev` with `alias`, nothing changed.
fn refused(b: &Backend, t: &ValidTopology, dev: &str, alias: &str) {
    let before = identity("vnet-m1", dev);
    let err = b
        .apply(t, &Scope::Sandbox, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let text = err.to_string();
    assert!(
        matches!(&err, Error::ForeignAlias { link, .. } if link == dev),
        "{err:?}"
    );
    assert!(
        text.contains(&format!("link {dev}"))
            && text.contains(&format!("{alias:?}"))
            && text.contains("left alone"),
        "{text}"
    );
    assert_eq!(identity("vnet-m1", dev), before, "{dev} untouched");
}

#[test]
fn a_wanted_link_with_someone_elses_alias_is_refused_never_deleted() {
    isolated(
        "a_wanted_link_with_someone_elses_alias_is_refused_never_deleted",
        || {
            let t = seed();
            let b = backend();
            b.apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            // A hand-made veth2 (another MAC, no bridge) labelled by its maker, where
            // vnet's was: before, apply deleted and recreated it.
            run(&["ip", "-n", "vnet-m1", "link", "del", "veth2"]);
            run(&[
                "ip", "-n", "vnet-m1", "link", "add", "veth2", "type", "veth", "peer", "name",
                "hand1",
            ]);
            run(&[
                "ip",
                "-n",
                "vnet-m1",
                "link",
                "set",
                "veth2",
                "alias",
                "hand-made",
            ]);
            refused(&b, &t, "veth2", "hand-made");
            // vnet's own br0 relabelled by an operator: before, apply took it back.
            run(&["ip", "-n", "vnet-m1", "link", "del", "veth2"]);
            run(&[
                "ip", "-n", "vnet-m1", "link", "set", "br0", "alias", "ops-team",
            ]);
            refused(&b, &t, "br0", "ops-team");
            // Without any alias, the same link counts as vnet's again (what a kill
            // between creating and marking leaves), and the apply finishes.
            run(&["ip", "-n", "vnet-m1", "link", "set", "br0", "alias", ""]);
            let br0 = identity("vnet-m1", "br0").0;
            let report = b
                .apply(&t, &Scope::Sandbox, &ApplyOptions::default())
                .unwrap();
            assert!(report.verified);
            assert_eq!(identity("vnet-m1", "br0").0, br0, "adopted, not recreated");
            assert_eq!(
                identity("vnet-m1", "veth2").1.as_deref(),
                Some("vnet:article")
            );
            b.destroy(&t, &Scope::Sandbox).unwrap();
            assert_eq!(run(&["ip", "netns", "list"]).trim(), "");
        },
    );
}
