//! The view as a Mermaid `flowchart`. Mermaid ids are plain words, so each view id is
//! mapped to a sanitized, unique one; labels are quoted with Mermaid's entity codes for
//! the characters its parser treats specially.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::view::{Cluster, Kind, Style, Vertex, View};

/// The view as a Mermaid flowchart, left to right.
pub fn render(view: &View) -> String {
    let mut ids = Ids::default();
    let mut out = String::new();
    let _ = writeln!(out, "---\ntitle: {}\n---", label_text(&view.title));
    out.push_str("flowchart LR\n");
    out.push_str("  classDef marked stroke:#b22222,stroke-width:3px\n");
    for c in &view.clusters {
        cluster(&mut out, &mut ids, c, 1);
    }
    for v in &view.vertices {
        vertex(&mut out, &mut ids, v, 1);
    }
    for e in &view.edges {
        let arrow = match e.style {
            Style::Solid => "-->",
            Style::Dashed => "-.->",
            Style::Bold => "==>",
        };
        let from = ids.get(&e.from);
        let to = ids.get(&e.to);
        if e.label.is_empty() {
            let _ = writeln!(out, "  {from} {arrow} {to}");
        } else {
            let _ = writeln!(out, "  {from} {arrow}|{}| {to}", label(&e.label));
        }
    }
    out
}

fn cluster(out: &mut String, ids: &mut Ids, c: &Cluster, depth: usize) {
    let pad = "  ".repeat(depth);
    let id = ids.get(&c.id);
    let _ = writeln!(out, "{pad}subgraph {id}[{}]", label(&c.label));
    for v in &c.vertices {
        vertex(out, ids, v, depth + 1);
    }
    for inner in &c.clusters {
        cluster(out, ids, inner, depth + 1);
    }
    let _ = writeln!(out, "{pad}end");
    if c.marked {
        let _ = writeln!(out, "{pad}style {id} stroke:#b22222,stroke-width:3px");
    }
}

fn vertex(out: &mut String, ids: &mut Ids, v: &Vertex, depth: usize) {
    let pad = "  ".repeat(depth);
    let id = ids.get(&v.id);
    let text = label(&v.label);
    let shape = match v.kind {
        Kind::Interface => format!("[{text}]"),
        Kind::Bridge => format!("{{{{{text}}}}}"),
        Kind::Switch => format!("[[{text}]]"),
        Kind::Host => format!("([{text}])"),
        Kind::Container => format!("[/{text}/]"),
    };
    let _ = writeln!(out, "{pad}{id}{shape}");
    if v.marked {
        let _ = writeln!(out, "{pad}class {id} marked");
    }
}

/// Label lines as a quoted Mermaid string, lines joined with `<br/>`.
fn label(lines: &[String]) -> String {
    let inner: Vec<String> = lines.iter().map(|l| label_text(l)).collect();
    format!("\"{}\"", inner.join("<br/>"))
}

/// One line with `"`, `#`, `<`, `>`, `&` written as entity codes (Mermaid's `#...;`),
/// so the text can neither end the quoted label nor inject markup.
fn label_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// View ids mapped to Mermaid ids: letters, digits and `_` only, unique.
#[derive(Debug, Default)]
struct Ids {
    map: BTreeMap<String, String>,
    taken: BTreeSet<String>,
}

impl Ids {
    fn get(&mut self, id: &str) -> String {
        if let Some(m) = self.map.get(id) {
            return m.clone();
        }
        let base: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        // A prefix keeps ids off Mermaid's keywords (`end`, `graph`, `subgraph` ...).
        let base = format!("v_{base}");
        let mut candidate = base.clone();
        let mut n = 1;
        while self.taken.contains(&candidate) {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        self.taken.insert(candidate.clone());
        self.map.insert(id.to_string(), candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sanitized_and_unique() {
        let mut ids = Ids::default();
        let a = ids.get("ct/1/eth0.10");
        let b = ids.get("ct/1/eth0_10");
        assert_eq!(a, "v_ct_1_eth0_10");
        assert_ne!(a, b);
        assert_eq!(ids.get("ct/1/eth0.10"), a);
    }

    #[test]
    fn labels_cannot_break_out_of_their_quotes() {
        assert_eq!(label_text("a\"b<c>#"), "a#quot;b#lt;c#gt;#35;");
    }
}
