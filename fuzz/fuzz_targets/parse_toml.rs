//! Fuzz target: TOML parsing never panics, and a parsed topology survives a round trip
//! (serialize to TOML, parse again, get the same topology).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vnet_core::source::to_toml;
use vnet_core::{Document, Format};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = Document::parse(text, Format::Toml) else {
        return;
    };
    let again = to_toml(&doc.topology);
    let back = Document::parse(&again, Format::Toml)
        .unwrap_or_else(|e| panic!("re-parsing serialized TOML failed: {e}\n{again}"));
    assert_eq!(
        back.topology, doc.topology,
        "TOML round trip changed the topology"
    );
});
