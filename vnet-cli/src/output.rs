//! The one path from a subcommand to stdout, so `vnet ... | head -1` behaves like a Unix
//! tool: when the reader goes away the rest of the output is dropped quietly and the
//! command still finishes what it started (a `demo` whose reader left still removes its
//! sandbox; an `apply` is never cut in half by a pipe).
//!
//! Subcommands print with [`outln!`](crate::outln) and [`out!`](crate::out) instead of
//! `println!`/`print!`, which panic on a closed pipe. A write that fails with `EPIPE`
//! marks stdout closed and every later write is skipped; any other write error (a full
//! disk behind `> file`) is kept and [`finish`] turns it into exit 4 at the end.
//!
//! Why not restore `SIGPIPE`'s default disposition at the start of `main`, as C tools
//! get for free? It needs `unsafe` (`libc::signal`, or nix's `unsafe fn signal`), which
//! the workspace denies, and a signal kills the process wherever it is: in the middle of
//! building a sandbox or a failover test, leaving half of it behind. Dropping output
//! and finishing the work is the safe reading of "stop quietly".
//!
//! Diagnostics go to stderr through [`errln!`](crate::errln), which drops what a closed
//! stderr cannot take instead of panicking.
//!
//! A few subcommands still print with `println!`; [`quiet_broken_pipe_panics`] keeps
//! their closed-pipe panic off stderr, so no command prints a backtrace for it.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::exit::{Exit, Failure};

/// Set once a write to stdout met `EPIPE` (or the panic of a `println!` that did).
static CLOSED: AtomicBool = AtomicBool::new(false);

/// The first write error that was not `EPIPE`.
static WRITE_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes `args` to stdout unless stdout has gone; see the module docs.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args) {
        note(e);
    }
}

/// Writes raw bytes (a man page, a completion script) to stdout unless it has gone.
pub fn write_bytes(bytes: &[u8]) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = io::stdout().lock().write_all(bytes) {
        note(e);
    }
}

/// Writes `value` as the run's JSON document: pretty-printed, as every subcommand does,
/// and ended by a newline.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => write_fmt(format_args!("{text}\n")),
        // Only a map with non-string keys or a failing `Serialize` can get here; neither
        // is in vnet's output types, and saying so beats printing half a document.
        Err(e) => note(io::Error::other(e)),
    }
}

/// Records a failed write: stdout counts as closed from now on, and an error other than
/// a reader that left is kept for [`finish`].
fn note(e: io::Error) {
    CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        let mut slot = WRITE_ERROR.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
    }
}

/// Whether stdout's reader has gone (a write met `EPIPE`).
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Flushes stdout and settles the run's exit code: a write error other than a closed
/// pipe is a system error (exit 4) when the command itself had succeeded; a closed pipe
/// changes nothing, so `vnet check F | head -1` ends as `check` would.
pub fn finish(exit: Exit) -> Result<Exit, Failure> {
    if !closed() {
        if let Err(e) = io::stdout().lock().flush() {
            note(e);
        }
    }
    let error = WRITE_ERROR.lock().unwrap_or_else(|p| p.into_inner()).take();
    match error {
        Some(e) if exit == Exit::Success => Err(Failure::system(
            anyhow::Error::new(e).context("cannot write the output"),
        )),
        _ => Ok(exit),
    }
}

/// Installs a panic hook that stays silent for the panic `println!` raises on a closed
/// pipe (and marks stdout closed), and passes every other panic to the default hook.
/// [`crate::run`] catches that panic and ends the run quietly.
pub fn quiet_broken_pipe_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_broken_pipe_panic(info.payload()) {
            CLOSED.store(true, Ordering::Relaxed);
            return;
        }
        default(info);
    }));
}

/// Whether a panic payload is std's "failed printing to stdout: Broken pipe".
pub fn is_broken_pipe_panic(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    // std's message is "failed printing to stdout: {io::Error}"; an OS error's text ends
    // in its number, "Broken pipe (os error 32)".
    let epipe = format!("(os error {})", nix::errno::Errno::EPIPE as i32);
    text.starts_with("failed printing to stdout") && text.contains(&epipe)
}

/// Writes `args` to stderr. A stderr that is gone (`2>&1 | head -1`) leaves nobody to
/// tell, so its errors are dropped rather than raised as a panic, as `eprintln!` does.
pub fn error_fmt(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// `eprintln!` for subcommands: a line on stderr through [`error_fmt`].
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::error_fmt(::std::format_args!("{}\n", ::std::format_args!($($arg)*)))
    };
}

/// `print!` for subcommands: writes to stdout through [`write_fmt`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_fmt(::std::format_args!($($arg)*))
    };
}

/// `println!` for subcommands: writes a line to stdout through [`write_fmt`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write_fmt(::std::format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_fmt(::std::format_args!("{}\n", ::std::format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broken_pipe_panic_is_recognised_and_others_are_not() {
        let epipe = io::Error::from_raw_os_error(32);
        let msg = format!("failed printing to stdout: {epipe}");
        assert!(is_broken_pipe_panic(&msg), "{msg}");
        let full = format!(
            "failed printing to stdout: {}",
            io::Error::from_raw_os_error(28)
        );
        assert!(!is_broken_pipe_panic(&full), "{full}");
        assert!(!is_broken_pipe_panic(&"index out of bounds"));
    }
}
