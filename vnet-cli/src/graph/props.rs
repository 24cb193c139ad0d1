//! Property tests over generated topologies: every valid topology draws into a view
//! whose edges end at its vertices, into DOT that Graphviz accepts and into Mermaid
//! whose edges join declared ids; every injected mistake is reported with its rule, the
//! element path and a line inside the file.

use proptest::prelude::*;
use std::io::Write;
use std::process::{Command, Stdio};

use vnet_core::generate::strategies::{topology_with_mistake, valid_topology};
use vnet_core::source::to_toml;
use vnet_core::{Document, Format, ValidTopology};

use super::view::{Cluster, View};
use super::{dot, mermaid};
use crate::input::Input;
use crate::report::{render_human, Problem};

fn vertex_ids(view: &View) -> Vec<String> {
    fn walk(c: &Cluster, out: &mut Vec<String>) {
        out.extend(c.vertices.iter().map(|v| v.id.clone()));
        for inner in &c.clusters {
            walk(inner, out);
        }
    }
    let mut out: Vec<String> = view.vertices.iter().map(|v| v.id.clone()).collect();
    for c in &view.clusters {
        walk(c, &mut out);
    }
    out
}

/// Runs `dot -Tcanon` on `text`: Ok(true) accepted, Ok(false) when `dot` is missing
/// outside CI, Err with Graphviz's complaint otherwise.
fn graphviz_accepts(text: &str) -> Result<bool, String> {
    let child = Command::new("dot")
        .arg("-Tcanon")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_some() => {
            return Err(format!("CI is set but `dot` cannot run: {e}"))
        }
        Err(_) => return Ok(false),
    };
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(true)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn from_text(t: &vnet_core::Topology) -> (String, Document) {
    let text = to_toml(t);
    let doc = Document::parse(&text, Format::Toml).expect("a serialized topology parses");
    (text, doc)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_valid_topology_draws_in_dot_and_mermaid(t in valid_topology()) {
        let (_, doc) = from_text(&t);
        let valid: ValidTopology = doc.validate().expect("the generator makes valid topologies");
        let view = View::of(&valid);
        let ids = vertex_ids(&view);
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), ids.len(), "vertex ids are unique");
        for e in &view.edges {
            prop_assert!(ids.contains(&e.from), "edge from unknown {}", e.from);
            prop_assert!(ids.contains(&e.to), "edge to unknown {}", e.to);
        }
        for ct in &valid.topology().ct {
            let in_view = ids.iter().any(|i| i.starts_with(&format!("ct/{}/", ct.id)));
            prop_assert!(in_view, "CT {} is drawn", ct.id);
        }

        let text = dot::render(&view);
        if let Err(complaint) = graphviz_accepts(&text) {
            return Err(TestCaseError::fail(format!("dot refused:\n{complaint}\n{text}")));
        }

        let mmd = mermaid::render(&view);
        let opened = mmd.lines().filter(|l| l.trim_start().starts_with("subgraph ")).count();
        let closed = mmd.lines().filter(|l| l.trim() == "end").count();
        prop_assert_eq!(opened, closed);
    }

    #[test]
    fn every_injected_mistake_is_reported_with_its_place(case in topology_with_mistake()) {
        let (t, rule) = case;
        let (text, doc) = from_text(&t);
        let diags = match doc.validate() {
            Ok(_) => return Err(TestCaseError::fail(format!("{rule} was not found"))),
            Err(d) => d,
        };
        let problem = Problem::Invalid(diags.clone());
        let json = problem.json_diagnostics();
        prop_assert!(json.iter().any(|d| d.rule == rule.id()), "{rule} missing in {json:?}");
        let lines = text.lines().count();
        for d in &json {
            if let Some(l) = d.location {
                prop_assert!(l.line >= 1 && l.line <= lines.max(1), "{d:?} outside the text");
            }
        }
        let input = Input {
            path: "gen.toml".into(),
            display_name: "gen.toml".into(),
            text: text.clone(),
            format: Format::Toml,
        };
        let human = render_human(&input, &problem, false);
        for d in diags.as_slice() {
            prop_assert!(human.contains(&d.path), "{} missing in\n{human}", d.path);
            prop_assert!(human.contains(d.rule.id()));
        }
        // Round trip of the JSON form, as scripts will read it.
        let back: serde_json::Value = serde_json::to_value(&json).expect("serializable");
        prop_assert_eq!(back.as_array().map(Vec::len), Some(json.len()));
    }
}
