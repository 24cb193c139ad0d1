//! The view as Graphviz DOT. Every id and label is a quoted string with `\` and `"`
//! escaped, so any name a topology may hold yields a file `dot` accepts.

use std::fmt::Write;

use super::view::{Cluster, Kind, Style, Vertex, View};

/// The view as a DOT `digraph`.
pub fn render(view: &View) -> String {
    let mut out = String::new();
    out.push_str("digraph \"vnet\" {\n");
    let _ = writeln!(
        out,
        "  graph [label={}, labelloc=t, rankdir=LR, fontname=\"Helvetica\", newrank=true];",
        quote(&view.title)
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for c in &view.clusters {
        cluster(&mut out, c, 1);
    }
    for v in &view.vertices {
        vertex(&mut out, v, 1);
    }
    for e in &view.edges {
        let style = match e.style {
            Style::Solid => "solid",
            Style::Dashed => "dashed",
            Style::Bold => "bold",
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, style={style}];",
            quote(&e.from),
            quote(&e.to),
            quote_lines(&e.label)
        );
    }
    out.push_str("}\n");
    out
}

fn cluster(out: &mut String, c: &Cluster, depth: usize) {
    let pad = "  ".repeat(depth);
    // Graphviz draws a subgraph as a box only when its name starts with `cluster`.
    let _ = writeln!(
        out,
        "{pad}subgraph {} {{",
        quote(&format!("cluster_{}", c.id))
    );
    let _ = writeln!(out, "{pad}  label={};", quote_lines(&c.label));
    if c.marked {
        let _ = writeln!(out, "{pad}  style=\"rounded,bold\"; color=\"firebrick\";");
    } else {
        let _ = writeln!(out, "{pad}  style=\"rounded\";");
    }
    for v in &c.vertices {
        vertex(out, v, depth + 1);
    }
    for inner in &c.clusters {
        cluster(out, inner, depth + 1);
    }
    let _ = writeln!(out, "{pad}}}");
}

fn vertex(out: &mut String, v: &Vertex, depth: usize) {
    let pad = "  ".repeat(depth);
    let shape = match v.kind {
        Kind::Interface => "box",
        Kind::Bridge => "hexagon",
        Kind::Switch => "octagon",
        Kind::Host => "component",
        Kind::Container => "note",
    };
    let extra = if v.marked {
        ", style=bold, color=\"firebrick\""
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{pad}{} [label={}, shape={shape}{extra}];",
        quote(&v.id),
        quote_lines(&v.label)
    );
}

/// A DOT quoted string. Inside quotes only `"` needs escaping, but a backslash starts
/// Graphviz's escString sequences (`\n`, `\N`, `\G` ...), so it is doubled too; control
/// characters become spaces.
pub fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for ch in s.chars() {
        match ch {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => q.push(' '),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Label lines as one quoted string, each line centred (`\n`).
fn quote_lines(lines: &[String]) -> String {
    let quoted: Vec<String> = lines.iter().map(|l| quote(l)).collect();
    // Strip each line's quotes and join with DOT's newline escape.
    let inner: Vec<&str> = quoted.iter().map(|q| &q[1..q.len() - 1]).collect();
    format!("\"{}\"", inner.join("\\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quote(r#"a"b\n"#), r#""a\"b\\n""#);
        assert_eq!(quote("x\ny"), "\"x y\"");
        assert_eq!(
            quote_lines(&["a\"".to_string(), "b".to_string()]),
            r#""a\"\nb""#
        );
    }
}
