//! Validation at scale: generated topologies of many containers validate, and a mistake
//! among them is still found, without a quadratic cost (the time is printed; the
//! benchmarks in `benches/` hold the figures).

use std::time::Instant;

use vnet_core::generate::{large, LargeParams};
use vnet_core::{validate, Rule};

#[test]
fn ten_thousand_containers_validate_and_a_duplicate_is_found() {
    let t = large(&LargeParams::new(10_000));
    let start = Instant::now();
    let valid = validate(t.clone());
    let took = start.elapsed();
    eprintln!("validated 10,000 containers in {took:?}");
    if let Err(d) = valid {
        panic!("{d}");
    }
    let mut bad = t;
    let last = bad.ct.len() - 1;
    // Both on the last bridge, so only the duplicate is wrong.
    bad.ct[last].veth[0].addresses = bad.ct[last - 1].veth[0].addresses.clone();
    let d = validate(bad).unwrap_err();
    assert_eq!(d.0.len(), 1, "{d}");
    assert_eq!(d.0[0].rule, Rule::AddrDuplicate);
    assert_eq!(
        d.0[0].path,
        format!("ct[c{}].veth[eth0].addresses[0]", 100 + 10_000)
    );
}
