//! The repository's example topologies (`examples/*.toml`), read and validated through the
//! library's own entry point, so tests share one loader instead of each parsing its copy.

use std::path::PathBuf;

use vnet_core::{Document, ValidTopology};

/// The path of `examples/<file>` in the repository.
pub fn example_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(file)
}

/// `examples/<file>` read with [`Document::from_path`] and validated; panics naming the
/// file and every finding when it is not a valid topology (a test's premise is broken).
pub fn example(file: &str) -> ValidTopology {
    let path = example_path(file);
    let doc = Document::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.validate()
        .unwrap_or_else(|d| panic!("{} is not valid: {d}", path.display()))
}

/// The article's topology, `examples/seed.toml`.
pub fn seed() -> ValidTopology {
    example("seed.toml")
}
