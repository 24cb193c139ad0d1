//! Input parsing whose memory stays within a small multiple of the file's size (issue 18):
//! `vnet check` of a generated topology just under the 16 MiB input cap (100,000
//! containers) must peak under [`BOUND_MIB`].
//!
//! `toml` deserializes through a spanned tree of the whole document: this check peaked at
//! 1.1 GB when the file was read whole and a map of every value's location was made up
//! front. Reading it a `[[ct]]` table at a time (`vnet_core::source`'s `toml_chunks`) and
//! locating values only when a finding needs it, the release binary peaks at ~240 MiB
//! (16 MB of text held twice, the model, and the validated copy of it).
//!
//! The test process runs this one test, so the peak of its waited-for children
//! (`getrusage(RUSAGE_CHILDREN)`) is `vnet check`'s alone. No kernel, no root.

use nix::sys::resource::{getrusage, UsageWho};
use vnet_core::generate::{large, LargeParams};
use vnet_core::source::to_toml;

/// Containers of the generated topology: 15.9 MB of TOML, under the 16 MiB cap.
const CTS: usize = 100_000;
/// The most `vnet check` may peak at.
const BOUND_MIB: i64 = 300;

#[test]
fn check_of_a_16_mib_file_peaks_under_300_mib() {
    let text = to_toml(&large(&LargeParams::new(CTS)));
    assert!(
        text.len() > 15 << 20 && text.len() <= 16 << 20,
        "the file is near the 16 MiB cap: {} bytes",
        text.len()
    );
    let path = std::env::temp_dir().join(format!("vnet-check-memory-{}.toml", std::process::id()));
    std::fs::write(&path, &text).expect("write the topology");
    drop(text);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vnet"))
        .arg("check")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vnet check");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("{CTS} CTs")),
        "vnet check failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ru_maxrss is in KiB on Linux.
    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage")
        .max_rss();
    eprintln!(
        "peak RSS of vnet check, {CTS} CTs: {:.1} MiB",
        peak_kib as f64 / 1024.0
    );
    assert!(
        peak_kib <= BOUND_MIB * 1024,
        "vnet check of a 16 MiB file peaked at {:.1} MiB (bound {BOUND_MIB} MiB)",
        peak_kib as f64 / 1024.0
    );
}
