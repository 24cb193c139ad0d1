//! Golden tests: one folder per case under `tests/golden/<case>/` holding the input
//! (`topology.toml`), what to render (`render`: one line, e.g. `vzctl m1`,
//! `persist m1 etcnet`, `iproute2 sandbox vnet` or `lxc m1 VNET TOPOLOGY`) and the expected output (`expected`). One test walks every
//! case and names each that fails. `VNET_BLESS=1` rewrites the expected outputs.

use std::fs;
use std::path::{Path, PathBuf};

use vnet_backend_shell::iproute2::{render_iproute2, sandbox_names};
use vnet_backend_shell::lxc::{render_lxc, Paths};
use vnet_backend_shell::pacemaker::{render_pacemaker, Fence, PacemakerOptions};
use vnet_backend_shell::persist::{render_persist, Layer};
use vnet_backend_shell::systemd::render_systemd;
use vnet_backend_shell::vzctl::{render_vzctl, BridgeTool, VethStyle, VzctlOptions};
use vnet_backend_shell::Model;
use vnet_core::plan::{compile, Scope};
use vnet_core::{Document, Format};

fn render(dir: &Path) -> Result<String, String> {
    let text = fs::read_to_string(dir.join("topology.toml")).map_err(|e| e.to_string())?;
    let doc = Document::parse(&text, Format::Toml).map_err(|e| format!("{e:?}"))?;
    let valid = doc
        .validate()
        .map_err(|e| format!("invalid topology: {e:?}"))?;
    let model = Model::new(&valid);
    let spec = fs::read_to_string(dir.join("render")).map_err(|e| e.to_string())?;
    let words: Vec<&str> = spec.split_whitespace().collect();
    match words.as_slice() {
        ["vzctl", node, opts @ ..] => {
            let mut o = VzctlOptions::default();
            for opt in opts {
                match *opt {
                    "netif" => o.veth = VethStyle::NetifAdd,
                    "iproute2" => o.bridge_tool = BridgeTool::Iproute2,
                    other => return Err(format!("unknown vzctl option {other}")),
                }
            }
            render_vzctl(&model, node, &o).map_err(|e| e.to_string())
        }
        ["persist", node, layers @ ..] => {
            let layers: Vec<Layer> = layers
                .iter()
                .map(|l| match *l {
                    "etcnet" => Ok(Layer::Etcnet),
                    "vz" => Ok(Layer::Vz),
                    "networkd" => Ok(Layer::Networkd),
                    "sysctl" => Ok(Layer::Sysctl),
                    other => Err(format!("unknown layer {other}")),
                })
                .collect::<Result<_, _>>()?;
            let tree = render_persist(&model, node, &layers);
            let warnings: String = tree
                .warnings
                .iter()
                .map(|w| format!("--- warning: {w}\n"))
                .collect();
            Ok(tree.listing() + &warnings)
        }
        // `pacemaker TOPOLOGY VNET FENCE_AGENT [KEY=VALUE...]`: fence parameters, `-` for no
        // fencing (the render refuses).
        ["pacemaker", path, vnet, agent, params @ ..] => {
            let opts = PacemakerOptions {
                topology: path.into(),
                vnet: vnet.into(),
                fence: (*agent != "-").then(|| Fence {
                    agent: agent.to_string(),
                    params: params
                        .iter()
                        .filter_map(|p| p.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                }),
                agent_params: Vec::new(),
            };
            render_pacemaker(&model, &opts).map_err(|e| e.to_string())
        }
        [dialect @ ("lxc" | "systemd"), node, vnet, topology] => {
            let paths = Paths { vnet, topology };
            match *dialect {
                "lxc" => render_lxc(&model, node, paths),
                _ => render_systemd(&model, node, paths),
            }
            .map_err(|e| e.to_string())
        }
        ["iproute2", "sandbox", prefix] => {
            let plan = compile(&valid, &Scope::Sandbox);
            render_iproute2(&plan, &sandbox_names(prefix)).map_err(|e| e.to_string())
        }
        _ => Err(format!("unknown render spec {spec:?}")),
    }
}

#[test]
fn golden_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("VNET_BLESS").is_some_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "golden cases missing under {}",
        root.display()
    );
    let mut failed = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let got = match render(case) {
            Ok(g) => g,
            Err(e) => {
                failed.push(format!("{name}: {e}"));
                continue;
            }
        };
        let expected_path = case.join("expected");
        if bless {
            fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            let line = got
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.lines().count().min(expected.lines().count()));
            failed.push(format!(
                "{name}: differs at line {}:\n  got:      {:?}\n  expected: {:?}",
                line + 1,
                got.lines().nth(line),
                expected.lines().nth(line)
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "golden cases failed (VNET_BLESS=1 rewrites them):\n{}",
        failed.join("\n")
    );
}
