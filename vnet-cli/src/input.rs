//! Reading a topology file: refuse oversized files before reading them whole, pick the
//! format from the extension, parse, and validate, reporting problems the same way for
//! every subcommand.

use anyhow::anyhow;
use std::path::{Path, PathBuf};

use vnet_core::source::Limits;
use vnet_core::{Document, Error, Format, ValidTopology};

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

/// Reads `path` with [`vnet_core::source::read_text`] (at most `limits.max_bytes` + 1
/// bytes), wording its errors for the command line.
///
/// Every error here is invalid input (exit 1): the file is missing, unreadable, too
/// large or not UTF-8.
pub fn read(path: &Path, limits: &Limits) -> Result<Input, Failure> {
    if path == Path::new(STDIN) {
        return read_stdin(limits);
    }
    let display_name = path.display().to_string();
    let text = read_text(path, &display_name, limits)?;
    Ok(Input {
        path: path.to_path_buf(),
        format: Format::from_path(path),
        display_name,
        text,
    })
}

/// The file name that means standard input, as for most Unix tools.
pub const STDIN: &str = "-";

/// Reads the topology from standard input (`vnet check -`), within the same limits as a
/// file (through `/dev/stdin`, so one reader enforces them). With no extension to go
/// by, the text picks its format: JSON when it starts with `{` (no TOML document can),
/// TOML otherwise.
fn read_stdin(limits: &Limits) -> Result<Input, Failure> {
    let display_name = "<stdin>".to_string();
    let text = read_text(Path::new("/dev/stdin"), &display_name, limits)?;
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

/// [`vnet_core::source::read_text`] with its errors worded for the command line,
/// naming the input as `display_name`.
fn read_text(path: &Path, display_name: &str, limits: &Limits) -> Result<String, Failure> {
    vnet_core::source::read_text(path, limits).map_err(|e| match e {
        _ if path.is_dir() => Failure::invalid(anyhow!(
            "{display_name} is a directory, not a topology file"
        )),
        Error::Io { source, .. } => Failure::invalid(
            anyhow::Error::new(source).context(format!("cannot open {display_name}")),
        ),
        Error::TooLarge { size, limit } => Failure::invalid(anyhow!(
            "{display_name} is {size} bytes or more; the limit is {limit} bytes"
        )),
        e @ Error::NotUtf8 { .. } => Failure::invalid(anyhow!("{display_name} is {e}")),
        // read_text fails only in the ways above; a new kind still names the file.
        other => Failure::invalid(anyhow!("{display_name}: {other}")),
    })
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
        // A file with unknown keys comes back with every finding of the rest of it.
        Err(Error::Invalid(diags)) => {
            report::problems(global.output, &input, &Problem::Invalid(diags));
            return Err(Failure::reported(Exit::Invalid));
        }
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
