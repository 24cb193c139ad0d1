//! A spinner on stderr while `apply` or `destroy` works, and a bar while `verify`
//! probes, for runs long enough to wonder whether anything happens.
//!
//! The netlink backend executes a plan in one call without a progress callback, so the
//! display is a spinner with the work's size (steps, stages) and the elapsed time rather
//! than a bar. It shows only for people (`--output human`) on a terminal, and only when
//! the work is large (more than [`LARGE_PLAN`] steps) or has taken longer than
//! [`DELAY`]; short runs never draw anything, and scripts reading stderr never see it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cli::Output;

/// Plans with more steps than this show the spinner at once.
pub const LARGE_PLAN: usize = 200;

/// Smaller work shows the spinner once it has taken this long.
pub const DELAY: Duration = Duration::from_secs(1);

/// A running spinner (possibly never drawn). Call [`Progress::finish`] when done;
/// dropping it finishes it too.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    done: Option<Sender<()>>,
    reveal: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts a spinner saying `message` (e.g. "applying 38 steps in 6 stages").
    /// `steps` decides whether it shows at once or only after [`DELAY`].
    pub fn start(output: Output, steps: usize, message: String) -> Progress {
        let enabled = output == Output::Human && std::io::stderr().is_terminal();
        Self::start_with(enabled, steps, message)
    }

    /// A bar of `total` items (e.g. verify's probes), advanced with [`Progress::inc`];
    /// shown like the spinner (at once when `total` is large, else after [`DELAY`]).
    pub fn bar(output: Output, total: usize, message: String) -> Progress {
        let enabled = output == Output::Human && std::io::stderr().is_terminal();
        Self::make(enabled, total, message, Some(total as u64))
    }

    /// Advances a bar by `n` items.
    pub fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
    }

    fn start_with(enabled: bool, steps: usize, message: String) -> Progress {
        Self::make(enabled, steps, message, None)
    }

    fn make(enabled: bool, steps: usize, message: String, total: Option<u64>) -> Progress {
        // The bar starts hidden: it only draws once revealed below.
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
        let template = match total {
            Some(_) => "{bar:30} {pos}/{len} {msg} ({elapsed})",
            None => "{spinner} {msg} ({elapsed})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(message);
        if !enabled {
            return Progress {
                bar,
                done: None,
                reveal: None,
            };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let delay = if steps > LARGE_PLAN {
            Duration::ZERO
        } else {
            DELAY
        };
        let shown = bar.clone();
        let reveal = std::thread::spawn(move || {
            // Finished (a message, or the sender dropped) before the delay: never draw.
            if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(delay) {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Progress {
            bar,
            done: Some(tx),
            reveal: Some(reveal),
        }
    }

    /// Whether the spinner has been drawn (revealed) so far.
    pub fn is_visible(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Stops the spinner and clears its line.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.done.take() {
            // The reveal thread may have ended already; a closed channel is fine.
            let _ = tx.send(());
        }
        if let Some(handle) = self.reveal.take() {
            let _ = handle.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_progress_never_draws() {
        let p = Progress::start_with(false, 10_000, "applying".into());
        std::thread::sleep(Duration::from_millis(50));
        assert!(!p.is_visible());
        p.finish();
    }

    #[test]
    fn a_short_run_finishes_before_the_spinner_would_show() {
        let p = Progress::start_with(true, 10, "applying".into());
        assert!(!p.is_visible());
        p.finish();
    }

    #[test]
    fn a_bar_counts_what_is_done() {
        let p = Progress::make(false, 10, "probing".into(), Some(10));
        p.inc(3);
        p.inc(4);
        assert_eq!(p.bar.position(), 7);
        assert_eq!(p.bar.length(), Some(10));
        p.finish();
    }

    #[test]
    fn json_output_disables_the_spinner() {
        let p = Progress::start(Output::Json, 10_000, "applying".into());
        assert!(p.done.is_none() && p.reveal.is_none());
    }
}
