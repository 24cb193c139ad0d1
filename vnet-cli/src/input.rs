//! Reading a topology file: refuse oversized files before reading them whole, pick the
//! format from the extension, parse, and validate, reporting problems the same way for
//! every subcommand.

use anyhow::{anyhow, Context};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use vnet_core::source::Limits;
use vnet_core::{Document, Format, Location, ValidTopology};

use crate::cli::Global;
use crate::exit::{Exit, Failure};
use crate::report::{self, Problem};

/// The text of a topology file, read within the limits.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given on the command line.
    pub path: PathBuf,
    /// The path as shown in reports.
    pub display_name: String,
    /// The whole text.
    pub text: String,
    /// The format the extension implies.
    pub format: Format,
}

/// Reads `path`, refusing a file larger than `limits.max_bytes` before reading it whole.
///
/// Every error here is invalid input (exit 1): the file is missing, unreadable, too
/// large or not UTF-8.
pub fn read(path: &Path, limits: &Limits) -> Result<Input, Failure> {
    if path == Path::new(STDIN) {
        return read_stdin(limits);
    }
    let display_name = path.display().to_string();
    let file = File::open(path)
        .with_context(|| format!("cannot open {display_name}"))
        .map_err(Failure::invalid)?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read the metadata of {display_name}"))
        .map_err(Failure::invalid)?;
    if meta.is_dir() {
        return Err(Failure::invalid(anyhow!(
            "{display_name} is a directory, not a topology file"
        )));
    }
    let cap = limits.max_bytes as u64;
    if meta.len() > cap {
        return Err(too_large(&display_name, meta.len(), cap));
    }
    // The size may lie (a growing file, a pipe, /proc), so read at most one byte more
    // than allowed and check again.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {display_name}"))
        .map_err(Failure::invalid)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(&display_name, bytes.len() as u64, cap));
    }
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(&display_name, &e))?;
    let format = Format::from_file_name(&display_name);
    Ok(Input {
        path: path.to_path_buf(),
        display_name,
        text,
        format,
    })
}

/// The file name that means standard input, as for most Unix tools.
pub const STDIN: &str = "-";

/// Reads the topology from standard input (`vnet check -`), within the same limits as a
/// file. With no extension to go by, the text picks its format: JSON when it starts with
/// `{` (no TOML document can), TOML otherwise.
fn read_stdin(limits: &Limits) -> Result<Input, Failure> {
    let display_name = "<stdin>".to_string();
    let cap = limits.max_bytes as u64;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the topology from standard input")
        .map_err(Failure::invalid)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(&display_name, bytes.len() as u64, cap));
    }
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(&display_name, &e))?;
    let first = text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .chars()
        .next();
    let format = if first == Some('{') {
        Format::Json
    } else {
        Format::Toml
    };
    Ok(Input {
        path: PathBuf::from(STDIN),
        display_name,
        text,
        format,
    })
}

/// The error for a file that is not UTF-8, with the line and column of the first byte
/// that is not (the column counts the characters before it on its line).
fn not_utf8(name: &str, e: &std::string::FromUtf8Error) -> Failure {
    let at = e.utf8_error().valid_up_to();
    let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
    let location = Location::of_span(valid, at, at);
    Failure::invalid(anyhow!(
        "{name} is not UTF-8 text: byte {:#04x} at line {}, column {} (offset {at})",
        e.as_bytes()[at],
        location.line,
        location.column,
    ))
}

fn too_large(name: &str, size: u64, cap: u64) -> Failure {
    Failure::invalid(anyhow!(
        "{name} is {size} bytes or more; the limit is {cap} bytes"
    ))
}

/// A file read, parsed and validated.
#[derive(Debug)]
pub struct Loaded {
    /// The text as read.
    pub input: Input,
    /// The parsed document (topology, text, source map).
    pub document: Document,
    /// The validated topology.
    pub valid: ValidTopology,
}

/// Reads, parses and validates `path`. Parse errors and validation findings are reported
/// (miette on stderr, or the `check` JSON document on stdout) and end in exit 1, so every
/// subcommand that needs a valid topology reports problems exactly like `vnet check`.
pub fn load_valid(path: &Path, global: &Global) -> Result<Loaded, Failure> {
    let limits = Limits::default();
    let input = read(path, &limits)?;
    let document = match Document::parse_with_limits(&input.text, input.format, &limits) {
        Ok(d) => d,
        Err(e) => {
            report::problems(global.output, &input, &Problem::Parse(e));
            return Err(Failure::reported(Exit::Invalid));
        }
    };
    match document.validate() {
        Ok(valid) => Ok(Loaded {
            input,
            document,
            valid,
        }),
        Err(diags) => {
            report::problems(global.output, &input, &Problem::Invalid(diags));
            Err(Failure::reported(Exit::Invalid))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_cap_is_refused_before_parsing() {
        let dir = std::env::temp_dir().join(format!("vnet-cli-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.toml");
        std::fs::write(&path, "name = \"abcdefghijklmnop\"\n").unwrap();
        let limits = Limits {
            max_bytes: 8,
            ..Limits::default()
        };
        let failure = read(&path, &limits).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(failure.exit, Exit::Invalid);
        assert!(
            failure.to_string().contains("the limit is 8 bytes"),
            "{failure}"
        );
    }

    #[test]
    fn the_extension_picks_the_format_and_a_missing_file_is_invalid_input() {
        let failure = read(
            Path::new("/nonexistent/vnet/topology.json"),
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(failure.exit, Exit::Invalid);
        assert!(failure.to_string().contains("cannot open"), "{failure}");
    }
}
