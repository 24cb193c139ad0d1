//! Reading a large TOML topology a container at a time, so memory follows the model and
//! not the parser's tree.
//!
//! `toml` deserializes through a spanned tree of the whole document: 11 MB of TOML
//! (70,000 containers) made a 490 MB tree for a 50 MB model. Nearly all of a large file is
//! its `[[ct]]` tables, and each is a document of its own: `[[ct]]` and the `[[ct.veth]]`,
//! `[ct.forward]`, ... headers after it. So the text is cut, with `toml_parser`'s lexer (the
//! `toml` crate's own, so strings, comments and arrays spanning lines are read exactly as
//! the parser reads them), into those runs; each run is parsed alone, and so is the rest
//! of the file. Peak memory: the model plus one container's tree.
//!
//! A file this cut cannot describe falls back to the whole-document parse: a `ct` key at
//! the root, a quoted `"ct"` header, or a `[ct.…]` header that refers back to the last
//! container after another table came between (valid TOML, never written by vnet or by
//! hand in practice). So does any parse error, so errors read exactly as before.

use std::ops::Range;

use serde::Deserialize;
use toml_parser::lexer::{Token, TokenKind};
use toml_parser::Source;

use crate::model::Container;
use crate::Topology;

/// One run of `[[ct]]` tables, parsed alone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cts {
    ct: Vec<Container>,
}

/// The topology of `text` when it parses a container at a time; `None` when the text is
/// not cut that way or does not parse (the caller then parses it whole).
pub(super) fn parse(text: &str) -> Option<Topology> {
    let runs = ct_runs(text)?;
    if runs.is_empty() {
        return None;
    }
    // The rest of the file, runs cut out. Its locations would not be the file's, but a
    // text that does not parse is parsed again whole, so none is ever reported.
    let mut rest = String::new();
    let mut at = 0;
    for run in &runs {
        rest.push_str(&text[at..run.start]);
        at = run.end;
    }
    rest.push_str(&text[at..]);
    let mut topology: Topology = toml::from_str(&rest).ok()?;
    drop(rest);
    for run in runs {
        let cts: Cts = toml::from_str(&text[run]).ok()?;
        topology.ct.extend(cts.ct);
    }
    Some(topology)
}

/// The byte ranges of the `[[ct]]` runs of `text`, in order; `None` when the text is not
/// cut this way (see the module docs). Tokens are read as they are lexed, never stored.
fn ct_runs(text: &str) -> Option<Vec<Range<usize>>> {
    let mut tokens = Source::new(text)
        .lex()
        .filter(|t| t.kind() != TokenKind::Comment);
    let raw = |t: &Token| &text[t.span().start()..t.span().end()];
    let mut runs = Vec::new();
    let mut open: Option<usize> = None;
    let mut seen_header = false;
    let mut depth = 0usize;
    let mut line_start = true;
    while let Some(token) = tokens.next() {
        match token.kind() {
            TokenKind::Newline => line_start = true,
            TokenKind::Whitespace => {}
            TokenKind::LeftSquareBracket if depth == 0 && line_start => {
                let start = token.span().start();
                let header = read_header(&mut tokens, raw)?;
                seen_header = true;
                if header.first_key == "ct" && header.array && header.single_key {
                    if let Some(s) = open.take() {
                        runs.push(s..start);
                    }
                    open = Some(start);
                } else if header.first_key == "ct" {
                    // A sub-table of the open container; with none open it refers back
                    // across another table.
                    open?;
                } else if let Some(s) = open.take() {
                    runs.push(s..start);
                }
                line_start = false;
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => {
                depth += 1;
                line_start = false;
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
                line_start = false;
            }
            TokenKind::Eof => break,
            TokenKind::BasicString | TokenKind::LiteralString
                if depth == 0 && line_start && !seen_header =>
            {
                // A quoted key at the root could spell `ct`.
                return None;
            }
            TokenKind::Atom if depth == 0 && line_start && !seen_header && raw(&token) == "ct" => {
                return None;
            }
            _ => line_start = false,
        }
    }
    if let Some(s) = open {
        runs.push(s..text.len());
    }
    Some(runs)
}

/// A table header: `[a.b]` or `[[a.b]]`.
struct Header<'t> {
    /// Whether it is an array-of-tables header (`[[...]]`).
    array: bool,
    /// Its first key, unquoted.
    first_key: &'t str,
    /// Whether the first key is the only one.
    single_key: bool,
}

/// The rest of the header whose `[` was just read; `None` when its first key is quoted
/// (it could spell `ct`) or it does not close on its line (the parser will say why).
fn read_header<'t>(
    tokens: &mut impl Iterator<Item = Token>,
    raw: impl Fn(&Token) -> &'t str,
) -> Option<Header<'t>> {
    let mut next = || tokens.by_ref().find(|t| t.kind() != TokenKind::Whitespace);
    let mut t = next()?;
    let array = t.kind() == TokenKind::LeftSquareBracket;
    if array {
        t = next()?;
    }
    if t.kind() != TokenKind::Atom {
        return None;
    }
    let first_key = raw(&t);
    let mut t = next()?;
    let single_key = t.kind() == TokenKind::RightSquareBracket;
    while t.kind() != TokenKind::RightSquareBracket {
        if matches!(t.kind(), TokenKind::Newline | TokenKind::Eof) {
            return None;
        }
        t = next()?;
    }
    if array && next()?.kind() != TokenKind::RightSquareBracket {
        return None;
    }
    Some(Header {
        array,
        first_key,
        single_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> Topology {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_file_read_a_container_at_a_time_is_the_file_read_whole() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/seed.toml"
        ))
        .unwrap();
        assert_eq!(parse(&text).expect("cut into runs"), whole(&text));
        // Tables after the containers, containers between other tables, comments and
        // multi-line values with brackets at the start of a line.
        let text = "name = \"t\" # [[ct]]\n[[ct]]\nid = 1\nname = \"a\"\n[[ct.veth]]\nname = \"e\"\naddresses = [\n\"10.0.0.1/24\",\n]\n[[bridge]]\nname = \"br0\"\n[[ct]]\nid = 2\nname = '''\n[[ct]]'''\n[ct.forward]\nipv4 = true\n[[node]]\nname = \"m1\"\n";
        let t = parse(text).expect("cut into runs");
        assert_eq!(t, whole(text));
        assert_eq!(t.ct.len(), 2);
        assert_eq!(t.ct[1].name, "[[ct]]");
    }

    #[test]
    fn what_the_cut_cannot_describe_falls_back() {
        // A sub-table of the first container after another table: valid TOML.
        let back = "name = \"t\"\n[[ct]]\nid = 1\nname = \"a\"\n[[bridge]]\nname = \"b\"\n[[ct.veth]]\nname = \"e\"\n";
        assert!(parse(back).is_none());
        assert_eq!(whole(back).ct[0].veth.len(), 1);
        assert!(parse("name = \"t\"\nct = [{ id = 1, name = \"a\" }]\n").is_none());
        assert!(parse("name = \"t\"\n[[\"ct\"]]\nid = 1\nname = \"a\"\n").is_none());
        // Errors come from the whole-document parse.
        assert!(parse("name = \"t\"\n[[ct]]\nid = 1\nname = \"a\"\nbogus = 1\n").is_none());
    }
}
