//! Helpers shared by the CLI test modules: run the built `vnet` binary, read its exit code
//! and output, find the article's topology, and a temporary directory removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `vnet` binary with `args` (colour off) and collects its output.
pub fn vnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnet"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the vnet binary runs")
}

/// The exit code of a finished run.
pub fn code(o: &Output) -> i32 {
    o.status
        .code()
        .expect("vnet exits with a code, not a signal")
}

/// Standard output of a run as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

/// Standard error of a run as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// The article's topology, `examples/seed.toml`.
pub fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed.toml")
}

/// The text of the article's topology.
pub fn seed() -> String {
    std::fs::read_to_string(seed_path()).expect("examples/seed.toml is readable")
}

/// A directory of edited topologies, removed on drop (also when a test fails).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates (empty) a per-process directory named after `name`.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("vnet-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// Writes `text` to `file` in the directory and returns its path.
    pub fn write(&self, file: &str, text: &str) -> String {
        let path = self.0.join(file);
        std::fs::write(&path, text).expect("write edited topology");
        path.to_str().expect("UTF-8 temp path").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `program` is an executable file on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}
