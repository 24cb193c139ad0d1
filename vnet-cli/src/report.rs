//! Reporting what is wrong with a topology file: miette reports with source snippets for
//! people, one JSON document for programs. Parse errors and validation findings share
//! both forms (a parse error is a finding of rule `parse`).

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity};
use serde::Serialize;
use std::fmt;
use std::io::IsTerminal;

use vnet_core::{Diagnostic, Diagnostics, Error, Location};

use crate::cli::Output;
use crate::input::Input;
use crate::output;

/// What is wrong with a file: it does not parse, or it breaks validation rules.
#[derive(Debug)]
pub enum Problem {
    /// The text is not a topology (syntax, schema, limits).
    Parse(Error),
    /// The topology breaks one or more rules.
    Invalid(Diagnostics),
}

/// One finding as `vnet check --output json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    /// The rule id (`mac-duplicate`), or `parse` for a parse error.
    pub rule: String,
    /// The element at fault (`ct[mail].veth[eth0].mac`); `topology` when unknown.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, if known.
    pub hint: Option<String>,
    /// Where in the file, if known.
    pub location: Option<JsonLocation>,
    /// The element this one clashes with (the first of two with one name or MAC), and
    /// where it is; only for clashes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<JsonRelated>,
}

/// The other element of a clash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonRelated {
    /// The element (`lan[lan0].host[gw].name`).
    pub path: String,
    /// Where in the file, if known.
    pub location: Option<JsonLocation>,
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JsonLocation {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl From<Location> for JsonLocation {
    fn from(l: Location) -> Self {
        JsonLocation {
            line: l.line,
            column: l.column,
        }
    }
}

impl Problem {
    /// The findings in JSON form, in the order validation reported them.
    pub fn json_diagnostics(&self) -> Vec<JsonDiagnostic> {
        match self {
            Problem::Parse(e) => vec![JsonDiagnostic {
                rule: "parse".to_string(),
                path: "topology".to_string(),
                message: parse_message(e),
                hint: None,
                location: e.location().map(JsonLocation::from),
                first: None,
            }],
            Problem::Invalid(diags) => diags
                .as_slice()
                .iter()
                .map(|d| JsonDiagnostic {
                    rule: d.rule.id().to_string(),
                    path: d.path.clone(),
                    message: d.message.clone(),
                    hint: d.hint.clone(),
                    location: d.location.map(JsonLocation::from),
                    first: d.first.as_ref().map(|r| JsonRelated {
                        path: r.path.clone(),
                        location: r.location.map(JsonLocation::from),
                    }),
                })
                .collect(),
        }
    }

    /// How many findings there are.
    pub fn count(&self) -> usize {
        match self {
            Problem::Parse(_) => 1,
            Problem::Invalid(d) => d.as_slice().len(),
        }
    }
}

/// The message of a parse error without the location, which the report shows apart.
fn parse_message(e: &Error) -> String {
    match e {
        Error::Parse { message, .. } => message.trim_end().to_string(),
        other => other.to_string(),
    }
}

/// Reports `problem` with `input`: miette reports on stderr (human), or the `check` JSON
/// document `{"valid": false, "diagnostics": [...]}` on stdout (json).
pub fn problems(output: Output, input: &Input, problem: &Problem) {
    match output {
        Output::Human => {
            output::error_fmt(format_args!(
                "{}",
                render_human(input, problem, std::io::stderr().is_terminal())
            ));
        }
        Output::Json => {
            let doc = serde_json::json!({
                "valid": false,
                "diagnostics": problem.json_diagnostics(),
            });
            output::json(&doc);
        }
    }
}

/// Every finding of `problem` as a graphical miette report, then a closing line.
pub fn render_human(input: &Input, problem: &Problem, color: bool) -> String {
    let source = NamedSource::new(&input.display_name, input.text.clone());
    let theme = if color && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // No line wrapping: element paths and addresses must stay whole for grep and tests.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_wrap_lines(false)
        .with_context_lines(1);
    let mut out = String::new();
    let reports: Vec<Report<'_>> = match problem {
        Problem::Parse(e) => vec![Report::parse(e, &source)],
        Problem::Invalid(diags) => diags
            .as_slice()
            .iter()
            .map(|d| Report::finding(d, &source))
            .collect(),
    };
    for r in &reports {
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, r);
    }
    out.push_str(&format!(
        "error: {} problem(s) in {}\n",
        problem.count(),
        input.display_name
    ));
    out
}

/// One finding as a miette diagnostic over the file's text.
#[derive(Debug)]
struct Report<'a> {
    title: String,
    code: String,
    help: Option<String>,
    label: Option<LabeledSpan>,
    /// The other place of a clash, labelled too.
    first: Option<LabeledSpan>,
    source: &'a NamedSource<String>,
}

impl<'a> Report<'a> {
    fn finding(d: &Diagnostic, source: &'a NamedSource<String>) -> Self {
        let position = d.position().map(|p| format!(" ({p})")).unwrap_or_default();
        let first = d.first.as_ref().and_then(|r| {
            let l = r.location?;
            let span = label(source.inner(), l, format!("first: {}", r.path));
            Some(LabeledSpan::new_with_span(
                span.label().map(str::to_string),
                *span.inner(),
            ))
        });
        Report {
            title: format!("{}: {}{position}", d.path, d.message),
            code: d.rule.id().to_string(),
            help: d.hint.clone(),
            label: d.location.map(|l| label(source.inner(), l, d.path.clone())),
            first,
            source,
        }
    }

    fn parse(e: &Error, source: &'a NamedSource<String>) -> Self {
        let position = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line, l.column))
            .unwrap_or_default();
        Report {
            title: format!("{}{position}", parse_message(e)),
            code: "parse".to_string(),
            help: match e {
                Error::TooLarge { .. } | Error::TooDeep { .. } => Some(
                    "vnet caps input size and nesting so hostile files cannot exhaust memory"
                        .to_string(),
                ),
                _ => None,
            },
            label: e
                .location()
                .map(|l| label(source.inner(), l, "here".to_string())),
            first: None,
            source,
        }
    }
}

/// A label over the located text, cut at the end of its first line so a finding about a
/// whole table underlines its header, not twenty lines.
fn label(text: &str, l: Location, name: String) -> LabeledSpan {
    let start = l.offset.min(text.len());
    let rest = &text[start..];
    let line_len = rest.find('\n').unwrap_or(rest.len());
    let len = l.len.min(line_len).max(usize::from(line_len > 0));
    LabeledSpan::new_primary_with_span(Some(name), (start, len))
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(Severity::Error)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.label
            .as_ref()
            .map(|_| self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = self.label.clone()?;
        Some(Box::new(std::iter::once(label).chain(self.first.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use vnet_core::{Document, Format};

    fn input(text: &str) -> Input {
        Input {
            path: PathBuf::from("t.toml"),
            display_name: "t.toml".to_string(),
            text: text.to_string(),
            format: Format::Toml,
        }
    }

    #[test]
    fn a_parse_error_shows_its_line_and_a_snippet() {
        let text = "name = \"lab\"\n[[node]]\nname = 5\n";
        let e = Document::parse(text, Format::Toml).unwrap_err();
        let out = render_human(&input(text), &Problem::Parse(e), false);
        assert!(out.contains("parse"), "{out}");
        assert!(out.contains("line 3"), "{out}");
        assert!(out.contains("name = 5"), "{out}");
        assert!(out.contains("t.toml:3:"), "{out}");
    }

    #[test]
    fn a_label_stays_on_its_first_line() {
        let text = "[[ct]]\nid = 1\n";
        let l = Location::of_span(text, 0, text.len());
        let span = label(text, l, "ct".into());
        assert_eq!((span.offset(), span.len()), (0, 6));
    }
}
