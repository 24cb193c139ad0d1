//! Fuzz target: validation never panics on any topology the parsers accept, and a
//! topology it accepts answers every derived-value query without panicking (a MAC and a
//! host-side name for every veth, a home node for every container, the nodes of every
//! bridge).
//!
//! The first byte picks the format (even: TOML, odd: JSON); the rest is the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vnet_core::{Document, Format};

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let format = if first % 2 == 0 {
        Format::Toml
    } else {
        Format::Json
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(doc) = Document::parse(text, format) else {
        return;
    };
    match doc.validate() {
        Ok(valid) => {
            let t = valid.topology();
            for ct in &t.ct {
                let _ = valid.ct_nodes(ct);
                for v in &ct.veth {
                    let _ = valid.veth_mac(ct, v);
                    let _ = valid.veth_host_mac(ct, v);
                    assert!(valid.veth_host_name(ct, v).len() <= 15);
                }
            }
            for b in &t.bridge {
                let _ = valid.bridge_nodes(&b.name);
            }
        }
        Err(diags) => {
            // Every finding names an element; a located one points inside the text.
            for d in diags.as_slice() {
                assert!(!d.path.is_empty());
                if let Some(l) = d.location {
                    assert!(l.offset <= text.len(), "{d}: offset past the end");
                }
            }
        }
    }
});
