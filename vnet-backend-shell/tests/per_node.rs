//! Per-node identity (issue 7): a container that may run on two nodes must find the same
//! persistence and hook configuration on both, so that moving it changes nothing but
//! where it runs. For every such container, the files rendered for m1 and for m2 that
//! belong to it (vzctl's `NETIF` config, the etcnet files inside it, the node's
//! systemd-networkd file of its host-side veth) are byte for byte the same, and so are
//! the node-wide files both nodes share (vznet.conf, the container's lines in the vznet
//! bridge hook, the bridges on both nodes). A container placed on one node only appears in that node's render.

use std::collections::BTreeMap;

use vnet_backend_shell::persist::{render_persist, Layer};
use vnet_backend_shell::tree::Tree;
use vnet_backend_shell::Model;
use vnet_core::model::Container;
use vnet_core::{Document, Format};

const LAYERS: [Layer; 4] = [Layer::Etcnet, Layer::Vz, Layer::Networkd, Layer::Sysctl];

/// Path -> (mode, contents) of a rendered tree, plus the removals as entries of their own.
fn files(tree: &Tree) -> BTreeMap<String, (u32, String)> {
    let mut m: BTreeMap<String, (u32, String)> = tree
        .files
        .iter()
        .map(|f| (f.path.clone(), (f.mode, f.contents.clone())))
        .collect();
    for r in &tree.remove {
        m.insert(format!("remove {r}"), (0, String::new()));
    }
    m
}

/// Whether `path` is one of `ct`'s files: its vzctl config, anything under its private
/// area, or the node's networkd file for one of its host-side veths.
fn belongs_to(model: &Model, ct: &Container, path: &str) -> bool {
    let id = ct.id;
    path.ends_with(&format!("etc/vz/conf/{id}.conf"))
        || path.contains(&format!("/private/{id}/"))
        || ct.veth.iter().any(|v| {
            let host = model.veth_host_name(ct, v);
            path.ends_with(&format!("-vnet-{host}.network"))
                || path.ends_with(&format!("-vnet-{host}.netdev"))
        })
}

/// Asserts the identity for every container that may run on both `a` and `b`, and
/// returns (files of a, files of b) for further checks.
type Files = BTreeMap<String, (u32, String)>;

fn check_identical(model: &Model, a: &str, b: &str) -> (Files, Files) {
    let fa = files(&render_persist(model, a, &LAYERS));
    let fb = files(&render_persist(model, b, &LAYERS));
    let mut shared = 0;
    for ct in &model.topology().ct {
        if !(model.may_run_on(ct, a) && model.may_run_on(ct, b)) {
            continue;
        }
        shared += 1;
        let of = |f: &Files| -> Files {
            f.iter()
                .filter(|(p, _)| belongs_to(model, ct, p))
                .map(|(p, v)| (p.clone(), v.clone()))
                .collect()
        };
        let (ca, cb) = (of(&fa), of(&fb));
        assert!(
            ca.keys()
                .any(|p| p.ends_with(&format!("conf/{}.conf", ct.id))),
            "{a} has no vzctl config for CT {}: {:?}",
            ct.id,
            fa.keys()
        );
        assert!(
            ca.keys()
                .any(|p| p.contains(&format!("/private/{}/", ct.id))),
            "{a} has no etcnet files for CT {}",
            ct.id
        );
        assert_eq!(
            ca, cb,
            "CT {} ({}) differs between {a} and {b}",
            ct.id, ct.name
        );
    }
    assert!(shared > 0, "no container may run on both {a} and {b}");
    // Node-wide files: vznet.conf is the same everywhere; the bridge hook lists the host
    // ends of the node's containers, so each shared container's lines must be in both
    // (the whole hook is equal only when the nodes host the same containers).
    let hook = "usr/local/sbin/vnet-vznet-hook";
    let conf = "etc/vz/vznet.conf";
    assert!(fa.contains_key(conf), "{a} lacks {conf}");
    assert_eq!(
        fa.get(conf),
        fb.get(conf),
        "{conf} differs between {a} and {b}"
    );
    for ct in &model.topology().ct {
        if !(model.may_run_on(ct, a) && model.may_run_on(ct, b)) {
            continue;
        }
        for v in &ct.veth {
            let host = model.veth_host_name(ct, v);
            let line = |f: &Files| -> Option<String> {
                f.get(hook)?
                    .1
                    .lines()
                    .find(|l| l.starts_with(&format!("{host})")))
                    .map(str::to_string)
            };
            assert!(line(&fa).is_some(), "{a}'s hook misses {host}");
            assert_eq!(line(&fa), line(&fb), "hook line of {host} differs");
        }
    }
    for bridge in &model.topology().bridge {
        if model.bridge_on(&bridge.name, a) && model.bridge_on(&bridge.name, b) {
            let mine = |f: &Files| -> Files {
                f.iter()
                    .filter(|(p, _)| {
                        p.contains(&format!("ifaces/{}/", bridge.name))
                            || p.contains(&format!("-vnet-{}.", bridge.name))
                    })
                    .map(|(p, v)| (p.clone(), v.clone()))
                    .collect()
            };
            assert!(
                !mine(&fa).is_empty(),
                "{a} has no files for bridge {}",
                bridge.name
            );
            assert_eq!(mine(&fa), mine(&fb), "bridge {} differs", bridge.name);
        }
    }
    (fa, fb)
}

#[test]
fn seed_renders_the_same_for_m1_and_m2() {
    let seed = include_str!("../../examples/seed.toml");
    let valid = Document::parse(seed, Format::Toml)
        .unwrap()
        .validate()
        .unwrap();
    let model = Model::new(&valid);
    let (m1, m2) = check_identical(&model, "m1", "m2");
    // Every seed CT fails over to m2 and br0 is on both: the whole trees agree.
    assert_eq!(m1, m2);
    let conf = &m2["etc/vz/conf/102.conf"].1;
    assert!(
        conf.contains("veth2,00:12:34:56:78:9C") || conf.contains("00:12:34:56:78:9D"),
        "m2's config for mail lacks its veth MACs:\n{conf}"
    );
}

#[test]
fn a_container_on_one_node_only_is_rendered_there_only() {
    let mut text = include_str!("../../examples/seed.toml").to_string();
    // On a bridge of its own: on br0 it would be split from the CTs that fail over
    // (`placement-split`).
    text.push_str(
        r#"
[[bridge]]
name = "br1"
nodes = ["m1"]

[[subnet]]
cidr = "192.168.200.0/24"
bridge = "br1"

[[ct]]
id = 104
name = "solo"
node = "m1"

[[ct.veth]]
name = "eth0"
host_name = "veth4"
bridge = "br1"
addresses = ["192.168.200.4/24"]
"#,
    );
    let valid = Document::parse(&text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap_or_else(|e| panic!("{e:?}"));
    let model = Model::new(&valid);
    let (m1, m2) = check_identical(&model, "m1", "m2");
    let solo = model.topology().ct.iter().find(|c| c.id == 104).unwrap();
    assert!(m1.keys().any(|p| belongs_to(&model, solo, p)));
    assert!(
        !m2.keys().any(|p| belongs_to(&model, solo, p)),
        "m2 got files of a CT that never runs there"
    );
    assert_ne!(m1, m2, "the renders must differ by the m1-only CT");
}
