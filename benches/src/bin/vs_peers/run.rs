//! Running external commands (the peers' tools) and failing with their stderr.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Runs `argv`; an error carries its stderr.
pub fn cmd(argv: &[&str]) -> Result<String> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .with_context(|| format!("run {argv:?}"))?;
    if !out.status.success() {
        bail!(
            "{argv:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `argv` with `input` on stdin and extra environment `env`; returns stdout. An
/// error carries stdout and stderr (a CNI plugin reports errors as JSON on stdout).
pub fn with_stdin(argv: &[&str], env: &[(&str, &str)], input: &str) -> Result<String> {
    let mut child = Command::new(argv[0])
        .args(&argv[1..])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("run {argv:?}"))?;
    child
        .stdin
        .take()
        .context("stdin of the child")?
        .write_all(input.as_bytes())
        .with_context(|| format!("write the input of {argv:?}"))?;
    let out = child
        .wait_with_output()
        .with_context(|| format!("wait for {argv:?}"))?;
    if !out.status.success() {
        bail!(
            "{argv:?} {env:?} failed ({}): {} {}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `argv` succeeds (checks only).
pub fn succeeds(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
