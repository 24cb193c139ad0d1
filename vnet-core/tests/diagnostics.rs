//! What a finding tells its reader: unknown keys each at their own place with the key
//! they likely misspell, reported together with the rest of the file's findings; clashes
//! (a name, MAC or id given twice) naming both places.

use vnet_core::{Diagnostic, Diagnostics, Document, Error, Format};

/// The findings of a text that parses into findings (unknown keys).
fn parse_findings(text: &str, format: Format) -> Diagnostics {
    match Document::parse(text, format) {
        Err(Error::Invalid(d)) => d,
        other => panic!("expected findings, got {other:?}"),
    }
}

fn find<'a>(d: &'a Diagnostics, rule: &str, path: &str) -> &'a Diagnostic {
    d.as_slice()
        .iter()
        .find(|x| x.rule.id() == rule && x.path == path)
        .unwrap_or_else(|| panic!("no {rule} at {path} in:\n{d}"))
}

fn line_col(d: &Diagnostic) -> (usize, usize) {
    let l = d.location.expect("located");
    (l.line, l.column)
}

fn first_line_col(d: &Diagnostic) -> (usize, usize) {
    let l = d
        .first
        .as_ref()
        .and_then(|r| r.location)
        .expect("first located");
    (l.line, l.column)
}

const UNKNOWN_KEYS: &str = r#"name = "t"
[[node]]
name = "m1"
bogus = 1
[[bridge]]
name = "br0"
[[ct]]
id = 101
name = "a"
hostnme = "a.example"
[[ct.veth]]
name = "eth0"
bridge = "br9"
adresses = ["198.18.0.1/24"]
"#;

#[test]
fn every_unknown_key_is_located_with_a_suggestion_and_the_rest_is_validated() {
    let d = parse_findings(UNKNOWN_KEYS, Format::Toml);
    let hostname = find(&d, "unknown-key", "ct[a].hostnme");
    assert_eq!(line_col(hostname), (10, 1));
    assert_eq!(hostname.hint.as_deref(), Some("did you mean `hostname`?"));
    let addresses = find(&d, "unknown-key", "ct[a].veth[eth0].adresses");
    assert_eq!(line_col(addresses), (14, 1));
    assert_eq!(addresses.hint.as_deref(), Some("did you mean `addresses`?"));
    // Nothing close: the hint lists the keys the table has.
    let bogus = find(&d, "unknown-key", "node[m1].bogus");
    assert_eq!(line_col(bogus), (4, 1));
    assert_eq!(
        bogus.hint.as_deref(),
        Some("the keys here are `name`, `underlay`")
    );
    // The rest of the file is validated in the same run.
    assert_eq!(
        line_col(find(&d, "ref-missing", "ct[a].veth[eth0].bridge")),
        (13, 1)
    );
    assert_eq!(d.as_slice().len(), 4, "{d}");
}

#[test]
fn json_unknown_keys_are_located_too() {
    let text =
        "{\"name\": \"t\",\n \"node\": [{\"name\": \"m1\", \"underlya\": {}}],\n \"brige\": []}";
    let d = parse_findings(text, Format::Json);
    let underlay = find(&d, "unknown-key", "node[m1].underlya");
    assert_eq!(line_col(underlay), (2, 26));
    assert_eq!(underlay.hint.as_deref(), Some("did you mean `underlay`?"));
    let bridge = find(&d, "unknown-key", "brige");
    assert_eq!(line_col(bridge), (3, 2));
    assert_eq!(bridge.hint.as_deref(), Some("did you mean `bridge`?"));
}

#[test]
fn an_unknown_key_beside_a_missing_field_is_reported_alone_first() {
    // Without `nam` the node lacks its name; the unknown key is the answer, located.
    let d = parse_findings("name = \"t\"\n[[node]]\nnam = \"m1\"\n", Format::Toml);
    let nam = find(&d, "unknown-key", "node[0].nam");
    assert_eq!(line_col(nam), (3, 1));
    assert_eq!(d.as_slice().len(), 1, "{d}");
    // Without unknown keys, a parse error stays a parse error.
    let e = Document::parse("name = \"t\"\n[[node]]\nname = 5\n", Format::Toml).unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e:?}");
}

/// The issue's case: a `[[lan.host]]` given twice, same name and MAC. Both findings name
/// the first host's line, not only the duplicate's.
#[test]
fn a_repeated_lan_host_names_both_places() {
    let text = r#"name = "t"
[[node]]
name = "m1"
[[lan]]
name = "lan0"
[[lan.host]]
name = "gw"
mac = "02:00:00:00:00:01"
[[lan.host]]
name = "gw"
mac = "02:00:00:00:00:01"
"#;
    let d = Document::parse(text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap_err();
    let name = find(&d, "name-duplicate", "lan[lan0].host[gw].name");
    assert_eq!((line_col(name), first_line_col(name)), ((10, 1), (7, 1)));
    let mac = find(&d, "mac-duplicate", "lan[lan0].host[gw].mac");
    assert_eq!((line_col(mac), first_line_col(mac)), ((11, 1), (8, 1)));
    let shown = mac.to_string();
    assert!(
        shown.contains("(line 11, column 1; first at line 8, column 1)"),
        "{shown}"
    );
}

#[test]
fn repeated_ids_and_interface_names_name_both_places() {
    let text = r#"name = "t"
[[node]]
name = "m1"
[[ct]]
id = 101
name = "a"
[[ct.veth]]
name = "eth0"
[[ct.nic]]
name = "eth0"
lan = "lan0"
[[ct]]
id = 101
name = "b"
[[lan]]
name = "lan0"
"#;
    let d = Document::parse(text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap_err();
    let id = find(&d, "ct-id-duplicate", "ct[b].id");
    assert_eq!((line_col(id), first_line_col(id)), ((13, 1), (5, 1)));
    let eth0 = find(&d, "name-duplicate", "ct[a].nic[eth0].name");
    assert_eq!((line_col(eth0), first_line_col(eth0)), ((10, 1), (8, 1)));
    assert_eq!(
        eth0.first.as_ref().map(|r| r.path.as_str()),
        Some("ct[a].veth[eth0].name")
    );
}

#[test]
fn an_unknown_key_in_a_macvlan_table_is_located_too() {
    let text = r#"name = "t"
[[node]]
name = "m1"
[[ct]]
id = 101
name = "a"
[[ct.macvlan]]
name = "eth0"
parnet = "eth1"
"#;
    let d = parse_findings(text, Format::Toml);
    let parent = find(&d, "unknown-key", "ct[a].macvlan[eth0].parnet");
    assert_eq!(line_col(parent), (9, 1));
    assert_eq!(parent.hint.as_deref(), Some("did you mean `parent`?"));
}
