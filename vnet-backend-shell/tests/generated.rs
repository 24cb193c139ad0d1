//! Property: for generated valid topologies, every rendered script is accepted by
//! `sh -n`, and running the `iproute2` script with fake `ip`/`sysctl`/`nft` that record
//! their argv shows it runs exactly the plan's commands, in order (what the executor
//! would run).

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use proptest::prelude::*;
use vnet_backend_shell::iproute2::{iproute2_script, plan_commands, sandbox_names};
use vnet_backend_shell::persist::{render_persist, Layer, HOOK_PATH};
use vnet_backend_shell::vzctl::{vzctl_script, BridgeTool, VethStyle, VzctlOptions};
use vnet_backend_shell::Model;
use vnet_core::model::{
    Bridge, Container, Forwarding, Nat, Node, Route, RouteDest, Subnet, Topology, Veth, Vlan,
};
use vnet_core::plan::command::nft_load_script;
use vnet_core::plan::{compile, Scope};

#[derive(Debug, Clone)]
struct CtGen {
    bridge: usize,
    node: usize,
    hostname: bool,
    mtu: Option<u32>,
    vlan: Option<u16>,
}

fn topology(nodes: usize, bridges: usize, cts: Vec<CtGen>) -> Topology {
    let mut t = Topology::new("gen");
    for n in 0..nodes {
        t.node.push(Node {
            name: format!("n{n}"),
            underlay: None,
        });
    }
    for b in 0..bridges {
        t.bridge.push(Bridge {
            name: format!("br{b}"),
            mac: None,
            stp: b % 2 == 1,
            mtu: None,
            addresses: vec![],
            nodes: None,
            ports: vec![],
            stretch: None,
        });
        t.subnet.push(Subnet {
            cidr: format!("198.18.{b}.0/24").parse().unwrap(),
            gateway: None,
            bridge: Some(format!("br{b}")),
            lan: None,
            vlan: None,
        });
    }
    // The first container on each bridge routes for the others on it.
    let mut router_of = vec![None; bridges];
    // Containers sharing a bridge run on the node of its first one (`placement-split`).
    let mut node_of = vec![None; bridges];
    for (i, g) in cts.iter().enumerate() {
        let b = g.bridge % bridges;
        let node = *node_of[b].get_or_insert(g.node % nodes);
        let addr = format!("198.18.{b}.{}", 10 + i);
        let router = router_of[b].get_or_insert(addr.clone()).clone();
        let is_router = router == addr;
        let mut ct = Container {
            id: 100 + i as u32,
            name: format!("c{i}"),
            hostname: g.hostname.then(|| format!("c{i}.example.org")),
            ostemplate: Some("centos-7".into()),
            config: None,
            onboot: Some(i % 2 == 0),
            node: Some(format!("n{node}")),
            failover: (0..nodes)
                .filter(|n| *n != node)
                .map(|n| format!("n{n}"))
                .collect(),
            netns: None,
            venet: None,
            port_forward: vec![],
            firewall: None,
            forward: Forwarding {
                ipv4: is_router,
                ipv6: false,
            },
            veth: vec![Veth {
                name: "eth0".into(),
                mac: None,
                mtu: g.mtu,
                addresses: vec![format!("{addr}/24").parse().unwrap()],
                host_name: None,
                host_mac: None,
                bridge: Some(format!("br{b}")),
            }],
            nic: vec![],
            vlan: vec![],
            macvlan: Vec::new(),
            route: vec![],
            nat: vec![],
        };
        if is_router {
            ct.nat.push(Nat {
                source: format!("198.18.{b}.0/24").parse().unwrap(),
                out: "eth0".into(),
            });
        } else {
            ct.route.push(Route {
                to: RouteDest::Prefix("198.19.0.0/16".parse().unwrap()),
                via: Some(router.parse().unwrap()),
                dev: None,
                metric: None,
            });
        }
        if let Some(id) = g.vlan {
            ct.vlan.push(Vlan {
                name: format!("eth0.{id}"),
                parent: "eth0".into(),
                id,
                mtu: None,
                addresses: vec![],
            });
        }
        t.ct.push(ct);
    }
    t
}

fn ct_gen() -> impl Strategy<Value = CtGen> {
    (
        0usize..3,
        0usize..3,
        any::<bool>(),
        proptest::option::of(1280u32..9000),
        proptest::option::of(1u16..4094),
    )
        .prop_map(|(bridge, node, hostname, mtu, vlan)| CtGen {
            bridge,
            node,
            hostname,
            mtu,
            vlan,
        })
}

fn sh_n(script: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("/bin/sh")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Runs `script` with fakes of `ip`, `sysctl` and `nft` recording their argv, in order.
fn run_with_fakes(script: &str) -> Vec<Vec<String>> {
    let dir: PathBuf = std::env::temp_dir().join(format!("vnet-gen-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::create_dir_all(dir.join("log")).unwrap();
    let record = "#!/bin/sh\n\
        n=0\n\
        while [ -e \"$VNET_LOG/$n\" ]; do n=$((n+1)); done\n\
        printf '%s\\0' \"${0##*/}\" \"$@\" > \"$VNET_LOG/$n\"\n";
    for tool in ["ip", "sysctl", "nft"] {
        let p = dir.join("bin").join(tool);
        fs::write(&p, record).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::write(dir.join("s.sh"), script).unwrap();
    let out = Command::new("/bin/sh")
        .arg(dir.join("s.sh"))
        .env_clear()
        .env("PATH", dir.join("bin"))
        .env("VNET_LOG", dir.join("log"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut recs = Vec::new();
    for n in 0.. {
        let Ok(bytes) = fs::read(dir.join("log").join(n.to_string())) else {
            break;
        };
        let mut args: Vec<String> = bytes
            .split(|b| *b == 0)
            .map(|s| String::from_utf8(s.to_vec()).unwrap())
            .collect();
        args.pop();
        recs.push(args);
    }
    let _ = fs::remove_dir_all(&dir);
    recs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn rendered_scripts_parse_and_run_exactly_the_plan(
        nodes in 1usize..3,
        bridges in 1usize..3,
        cts in proptest::collection::vec(ct_gen(), 1..5),
    ) {
        let t = topology(nodes, bridges, cts);
        let valid = match vnet_core::validate(t) {
            Ok(v) => v,
            Err(d) => return Err(TestCaseError::fail(format!("generator made an invalid topology: {:?}", d.0))),
        };
        let model = Model::new(&valid);
        for node in valid.topology().node.iter().map(|n| n.name.clone()) {
            for veth in [VethStyle::VethAdd, VethStyle::NetifAdd] {
                let opts = VzctlOptions { veth, bridge_tool: BridgeTool::Brctl };
                let s = vzctl_script(&model, &node, &opts).unwrap();
                prop_assert!(sh_n(s.text()).is_ok(), "vzctl {}: {:?}\n{}", node, sh_n(s.text()), s.text());
            }
            let tree = render_persist(&model, &node, &Layer::ALL);
            let hook = tree.files.iter().find(|f| f.path == HOOK_PATH).unwrap();
            prop_assert!(sh_n(&hook.contents).is_ok());
        }
        let plan = compile(&valid, &Scope::Sandbox);
        let names = sandbox_names("vnet");
        let script = iproute2_script(&plan, &names).unwrap();
        prop_assert!(sh_n(script.text()).is_ok(), "{:?}", sh_n(script.text()));
        let planned: Vec<Vec<String>> = plan_commands(&plan, &names).into_iter().flat_map(|c| c.run).collect();
        // A firewall load runs as `nft -f -` reading the ruleset from a heredoc.
        let mut shell_form = Vec::new();
        for argv in &planned {
            match nft_load_script(argv) {
                Some((prefix, ruleset)) => {
                    let heredoc = format!("nft -f - <<'VNET_NFT'\n{ruleset}VNET_NFT\n");
                    prop_assert!(script.text().contains(&heredoc), "{}", script.text());
                    let mut v = prefix.to_vec();
                    v.extend(["nft", "-f", "-"].map(String::from));
                    shell_form.push(v);
                }
                None => shell_form.push(argv.clone()),
            }
        }
        prop_assert_eq!(script.commands(), &shell_form[..]);
        prop_assert_eq!(run_with_fakes(script.text()), shell_form);
    }
}

#[test]
fn a_node_plan_runs_in_the_current_namespace_and_names_containers_plainly() {
    let text = include_str!("../../examples/seed.toml");
    let valid = vnet_core::Document::parse(text, vnet_core::Format::Toml)
        .unwrap()
        .validate()
        .unwrap();
    let plan = compile(&valid, &Scope::Node("m1".into()));
    let script = iproute2_script(&plan, &vnet_backend_shell::iproute2::node_names).unwrap();
    assert!(sh_n(script.text()).is_ok());
    let cmds = script.commands();
    assert!(
        cmds.iter()
            .any(|c| c.join(" ") == "ip link set veth1 master br0"),
        "{cmds:?}"
    );
    assert!(cmds.iter().any(|c| c.join(" ").starts_with("ip link add veth2 address 00:12:34:56:78:9C type veth peer name eth0 address 00:12:34:56:78:9D netns mail")), "{cmds:?}");
    assert!(
        !cmds
            .iter()
            .any(|c| c[..2] == ["ip", "netns"] && c[2] == "add"),
        "a node plan creates no namespaces"
    );
}
