//! Fuzz target: JSON parsing never panics, and a parsed topology survives a round trip
//! (serialize to JSON, parse again, get the same topology).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vnet_core::source::to_json;
use vnet_core::{Document, Format};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = Document::parse(text, Format::Json) else {
        return;
    };
    let again = to_json(&doc.topology);
    let back = Document::parse(&again, Format::Json)
        .unwrap_or_else(|e| panic!("re-parsing serialized JSON failed: {e}\n{again}"));
    assert_eq!(
        back.topology, doc.topology,
        "JSON round trip changed the topology"
    );
});
