//! Every validation rule: a valid case that passes and a violating case that fails with
//! the rule's id and the element's path (and, for some, the line in the file). Includes
//! the FINDINGS fault cases 1-15 that validation covers.

use vnet_core::{Diagnostics, Document, Format};

/// A small valid world: node m1, bridge br0 with 198.18.0.0/24, LAN lan0 with
/// 198.19.0.0/24. Tests append containers and more.
const BASE: &str = r#"
name = "t"
[[node]]
name = "m1"
[[lan]]
name = "lan0"
[[bridge]]
name = "br0"
[[subnet]]
cidr = "198.18.0.0/24"
bridge = "br0"
[[subnet]]
cidr = "198.19.0.0/24"
lan = "lan0"
"#;

/// A container `name` with id `id` and one veth `eth0` on br0 with `addr`.
fn ct(id: u32, name: &str, addr: &str) -> String {
    format!(
        r#"
[[ct]]
id = {id}
name = "{name}"
[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["{addr}"]
"#
    )
}

fn run(extra: &str) -> Result<(), Diagnostics> {
    let text = format!("{BASE}{extra}");
    let doc = Document::parse(&text, Format::Toml).unwrap_or_else(|e| panic!("{e}\n{text}"));
    doc.validate().map(|_| ())
}

/// Asserts the text validates.
fn ok(extra: &str) {
    if let Err(d) = run(extra) {
        panic!("expected valid, got:\n{}", list(&d));
    }
}

fn list(d: &Diagnostics) -> String {
    d.0.iter().map(|x| format!("{x}\n")).collect()
}

/// Asserts the findings are exactly these (rule id, path) pairs, in any order.
fn fails(extra: &str, want: &[(&str, &str)]) -> Diagnostics {
    let d = run(extra).expect_err("expected findings");
    let mut got: Vec<(String, String)> =
        d.0.iter()
            .map(|x| (x.rule.id().to_string(), x.path.clone()))
            .collect();
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(r, p)| (r.to_string(), p.to_string()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "findings:\n{}", list(&d));
    d
}

fn line_of(d: &Diagnostics, path: &str) -> usize {
    d.0.iter()
        .find(|x| x.path == path)
        .and_then(|x| x.location)
        .map(|l| l.line)
        .expect("located")
}

#[test]
fn the_examples_validate() {
    for (name, text) in [
        ("seed", include_str!("../../examples/seed.toml")),
        ("nat-vlan", include_str!("../../examples/nat-vlan.toml")),
        ("macvlan", include_str!("../../examples/macvlan.toml")),
        ("firewall", include_str!("../../examples/firewall.toml")),
    ] {
        let doc = Document::parse(text, Format::Toml).unwrap();
        if let Err(d) = doc.validate() {
            panic!("{name}:\n{}", list(&d));
        }
    }
}

// --- names (FINDINGS 1-5) ---

#[test]
fn name_of_15_bytes_passes_16_fails() {
    ok(&ct(101, "abcdefghijklmno", "198.18.0.1/24"));
    let d = fails(
        &ct(101, "abcdefghijklmnop", "198.18.0.1/24"),
        &[("name-too-long", "ct[abcdefghijklmnop].name")],
    );
    assert_eq!(
        line_of(&d, "ct[abcdefghijklmnop].name"),
        BASE.lines().count() + 4
    );
}

#[test]
fn cyrillic_name_counts_bytes() {
    // 7 Cyrillic letters = 14 bytes; 8 = 16 bytes. Both are outside the allowlist too.
    fails(
        &ct(101, "почтасе", "198.18.0.1/24"),
        &[("name-invalid", "ct[почтасе].name")],
    );
    fails(
        &ct(101, "почтасер", "198.18.0.1/24"),
        &[
            ("name-too-long", "ct[почтасер].name"),
            ("name-invalid", "ct[почтасер].name"),
        ],
    );
}

#[test]
fn dots_slashes_spaces_and_reserved_names_fail() {
    for (bad, rule) in [
        (".", "name-reserved"),
        ("..", "name-reserved"),
        ("lo", "name-reserved"),
        ("all", "name-reserved"),
        ("default", "name-reserved"),
        ("a/b", "name-invalid"),
        ("a b", "name-invalid"),
        ("a:b", "name-invalid"),
        ("a\\nb", "name-invalid"),
        ("a\\tb", "name-invalid"),
        ("a\\u0000b", "name-invalid"),
        ("", "name-invalid"),
    ] {
        let text = format!("[[ct]]\nid = 101\nname = \"c\"\n[[ct.veth]]\nname = \"{bad}\"\nbridge = \"br0\"\naddresses = [\"198.18.0.1/24\"]\n");
        let shown = bad
            .replace("\\n", "\n")
            .replace("\\t", "\t")
            .replace("\\u0000", "\0");
        fails(&text, &[(rule, &format!("ct[c].veth[{shown}].name"))]);
    }
    ok("[[ct]]\nid = 101\nname = \"c\"\n[[ct.veth]]\nname = \"e_t-h.0\"\nbridge = \"br0\"\naddresses = [\"198.18.0.1/24\"]\n");
}

#[test]
fn shell_metacharacters_fail() {
    for bad in [
        "$(reboot)",
        "a;b",
        "`x`",
        "a'b",
        "a\"b",
        "a\\b",
        "a*b",
        "a&b",
        "a|b",
        "a<b",
        "a>b",
        "a#b",
        "~a",
        "-x",
    ] {
        let quoted = bad.replace('\\', "\\\\").replace('"', "\\\"");
        let text = format!("[[bridge]]\nname = \"{quoted}\"\n");
        let d = run(&text).expect_err(bad);
        assert!(
            d.0.iter()
                .any(|x| x.rule.id() == "name-invalid" && x.path == format!("bridge[{bad}].name")),
            "{bad}: {}",
            list(&d)
        );
    }
}

#[test]
fn text_fields_are_plain_words() {
    ok("[[ct]]\nid = 101\nname = \"c\"\nhostname = \"mail.example-1.com\"\nostemplate = \"altlinux-sisyphus\"\nconfig = \"vps.basic\"\n");
    let text = r#"
[[ct]]
id = 101
name = "c"
hostname = "mail;reboot"
ostemplate = "../../etc/x"
config = "-rf"
"#;
    fails(
        text,
        &[
            ("text-invalid", "ct[c].hostname"),
            ("text-invalid", "ct[c].ostemplate"),
            ("text-invalid", "ct[c].config"),
        ],
    );
}

#[test]
fn namespace_names_are_unique_across_kinds() {
    ok(&format!(
        "{}{}",
        ct(101, "a", "198.18.0.1/24"),
        ct(102, "b", "198.18.0.2/24")
    ));
    // A container named like the LAN: both become sandbox namespaces.
    fails(
        &ct(101, "lan0", "198.18.0.1/24"),
        &[("name-duplicate", "ct[lan0].name")],
    );
    fails(
        &format!(
            "{}{}",
            ct(101, "a", "198.18.0.1/24"),
            ct(102, "a", "198.18.0.2/24")
        ),
        &[("name-duplicate", "ct[a].name")],
    );
}

#[test]
fn interface_names_are_unique_in_a_container() {
    let text = r#"
[[ct]]
id = 101
name = "c"
[[ct.veth]]
name = "eth0"
bridge = "br0"
[[ct.nic]]
name = "eth0"
lan = "lan0"
"#;
    fails(text, &[("name-duplicate", "ct[c].nic[eth0].name")]);
}

#[test]
fn host_side_names_given_and_derived_are_unique() {
    // veth101.0 is what container 101's first veth would get; given to another it is
    // taken, and the derived one moves aside.
    let text = format!(
        "{}{}host_name = \"veth101.0\"\n",
        ct(101, "a", "198.18.0.1/24"),
        ct(102, "b", "198.18.0.2/24")
    );
    ok(&text);
    let text = format!("{}host_name = \"br0\"\n", ct(101, "a", "198.18.0.1/24"),);
    fails(&text, &[("name-duplicate", "ct[a].veth[eth0].host_name")]);
    let text = format!(
        "{}host_name = \"v1\"\n{}host_name = \"v1\"\n",
        ct(101, "a", "198.18.0.1/24"),
        ct(102, "b", "198.18.0.2/24")
    );
    fails(&text, &[("name-duplicate", "ct[b].veth[eth0].host_name")]);
    let text = format!(
        "{}host_name = \"veth-of-container-a\"\n",
        ct(101, "a", "198.18.0.1/24")
    );
    fails(&text, &[("name-too-long", "ct[a].veth[eth0].host_name")]);
}

#[test]
fn lan_hosts_do_not_take_sandbox_port_names() {
    let nic = "[[ct]]\nid = 101\nname = \"r\"\n[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\n";
    ok(&format!("[[lan.host]]\nname = \"n101.1\"\n{nic}"));
    fails(
        &format!("[[lan.host]]\nname = \"n101.0\"\n{nic}"),
        &[("name-duplicate", "lan[lan0].host[n101.0].name")],
    );
    fails(
        "[[lan.host]]\nname = \"switch\"\n",
        &[("name-duplicate", "lan[lan0].host[switch].name")],
    );
}

#[test]
fn venet0_is_taken_when_venet_is_on() {
    let text = "[[ct]]\nid = 101\nname = \"r\"\nvenet = { enabled = true }\n[[ct.nic]]\nname = \"venet0\"\nlan = \"lan0\"\n";
    fails(text, &[("name-duplicate", "ct[r].nic[venet0].name")]);
    ok(&text.replace("venet = { enabled = true }\n", ""));
}

#[test]
fn nic_device_clashes_with_a_host_side_name() {
    let text = format!(
        "{}host_name = \"eth1\"\n[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\n",
        ct(101, "a", "198.18.0.1/24")
    );
    fails(&text, &[("name-duplicate", "ct[a].nic[eth1].name")]);
}

// --- ids and references (FINDINGS 15) ---

#[test]
fn ct_ids_are_nonzero_and_unique() {
    fails(
        &ct(0, "a", "198.18.0.1/24"),
        &[("ct-id-duplicate", "ct[a].id")],
    );
    fails(
        &format!(
            "{}{}",
            ct(101, "a", "198.18.0.1/24"),
            ct(101, "b", "198.18.0.2/24")
        ),
        &[("ct-id-duplicate", "ct[b].id")],
    );
}

#[test]
fn references_must_exist() {
    fails(
        &ct(101, "a", "198.18.0.1/24").replace("br0", "br9"),
        &[
            ("ref-missing", "ct[a].veth[eth0].bridge"),
            ("addr-outside-subnet", "ct[a].veth[eth0].addresses[0]"),
        ],
    );
    fails(
        "[[subnet]]\ncidr = \"198.18.9.0/24\"\nlan = \"nolan\"\n",
        &[("ref-missing", "subnet[198.18.9.0/24].lan")],
    );
    fails(
        "[[bridge]]\nname = \"br1\"\nnodes = [\"m9\"]\n",
        &[("ref-missing", "bridge[br1].nodes[0]")],
    );
    fails("[[patch]]\na = { bridge = \"br0\", name = \"p0\" }\nb = { bridge = \"brX\", name = \"p1\" }\n", &[("ref-missing", "patch[0].b.bridge")]);
    let text = r#"
[[ct]]
id = 101
name = "c"
[[ct.nic]]
name = "eth1"
lan = "nolan"
[[ct.vlan]]
name = "v10"
parent = "eth7"
id = 10
[[ct.route]]
to = "198.18.5.0/24"
dev = "eth9"
"#;
    fails(
        text,
        &[
            ("ref-missing", "ct[c].nic[eth1].lan"),
            ("ref-missing", "ct[c].vlan[v10].parent"),
            ("ref-missing", "ct[c].route[0].dev"),
        ],
    );
}

#[test]
fn nodes_must_be_declared() {
    fails(
        &format!(
            "{}node = \"m9\"\nfailover = [\"m8\"]\n",
            ct(101, "a", "198.18.0.1/24")
                .split("[[ct.veth]]")
                .next()
                .unwrap_or_default()
        ),
        &[
            ("node-missing", "ct[a].node"),
            ("node-missing", "ct[a].failover[0]"),
        ],
    );
    let text = format!("name = \"t\"\n[[bridge]]\nname = \"br0\"\n[[subnet]]\ncidr = \"198.18.0.0/24\"\nbridge = \"br0\"\n{}", ct(101, "a", "198.18.0.1/24"));
    let d = Document::parse(&text, Format::Toml)
        .unwrap()
        .validate()
        .unwrap_err();
    assert_eq!(d.0.len(), 1, "{}", list(&d));
    assert_eq!(
        (d.0[0].rule.id(), d.0[0].path.as_str()),
        ("node-missing", "node")
    );
}

#[test]
fn failover_nodes_need_the_bridge() {
    let two = "[[node]]\nname = \"m2\"\n";
    ok(&format!(
        "{two}{}failover = [\"m2\"]\n",
        ct(101, "a", "198.18.0.1/24")
            .split("[[ct.veth]]")
            .next()
            .unwrap_or_default()
    ));
    let text = format!(
        "{two}[[bridge]]\nname = \"br1\"\nnodes = [\"m1\"]\n[[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"br1\"\n[[ct]]\nid = 101\nname = \"a\"\nnode = \"m1\"\nfailover = [\"m2\"]\n[[ct.veth]]\nname = \"eth0\"\nbridge = \"br1\"\naddresses = [\"198.18.1.1/24\"]\n"
    );
    fails(&text, &[("node-missing-bridge", "ct[a].veth[eth0].bridge")]);
}

#[test]
fn patched_bridges_share_a_node() {
    let two = "[[node]]\nname = \"m2\"\n[[bridge]]\nname = \"b1\"\nnodes = [\"m1\"]\n";
    let patch = "[[patch]]\na = { bridge = \"b1\", name = \"p0\" }\nb = { bridge = \"b2\", name = \"p1\" }\n";
    ok(&format!(
        "{two}[[bridge]]\nname = \"b2\"\nnodes = [\"m1\", \"m2\"]\n{patch}"
    ));
    fails(
        &format!("{two}[[bridge]]\nname = \"b2\"\nnodes = [\"m2\"]\n{patch}"),
        &[("node-missing-bridge", "patch[0].b.bridge")],
    );
}

// --- MACs (FINDINGS 9) ---

#[test]
fn macs_are_unicast_nonzero_and_unique() {
    ok(&format!(
        "{}mac = \"02:00:00:00:00:01\"\n",
        ct(101, "a", "198.18.0.1/24")
    ));
    for bad in [
        "01:00:5e:00:00:01",
        "00:00:00:00:00:00",
        "ff:ff:ff:ff:ff:ff",
    ] {
        fails(
            &format!("{}mac = \"{bad}\"\n", ct(101, "a", "198.18.0.1/24")),
            &[("mac-invalid", "ct[a].veth[eth0].mac")],
        );
    }
    let d = fails(
        &format!(
            "{}mac = \"02:00:00:00:00:01\"\n{}host_mac = \"02:00:00:00:00:01\"\n",
            ct(101, "a", "198.18.0.1/24"),
            ct(102, "b", "198.18.0.2/24")
        ),
        &[("mac-duplicate", "ct[b].veth[eth0].host_mac")],
    );
    let msg = &d.0[0].message;
    assert!(
        msg.contains("ct[a].veth[eth0].mac") && msg.contains("ct[b].veth[eth0].host_mac"),
        "{msg}"
    );
}

// --- addresses and subnets (FINDINGS 7, 8) ---

#[test]
fn addresses_are_unique() {
    let d = fails(
        &format!(
            "{}{}",
            ct(101, "a", "198.18.0.1/24"),
            ct(102, "b", "198.18.0.1/24")
        ),
        &[("addr-duplicate", "ct[b].veth[eth0].addresses[0]")],
    );
    assert!(d.0[0].message.contains("ct[a].veth[eth0].addresses[0]"));
}

#[test]
fn addresses_lie_in_a_subnet_of_their_segment() {
    fails(
        &ct(101, "a", "198.18.1.1/24"),
        &[("addr-outside-subnet", "ct[a].veth[eth0].addresses[0]")],
    );
    // Right network, wrong prefix length.
    fails(
        &ct(101, "a", "198.18.0.1/25"),
        &[("addr-outside-subnet", "ct[a].veth[eth0].addresses[0]")],
    );
    // The LAN's subnet, but on the bridge.
    fails(
        &ct(101, "a", "198.19.0.1/24"),
        &[("addr-outside-subnet", "ct[a].veth[eth0].addresses[0]")],
    );
    ok("[[lan.host]]\nname = \"h\"\naddresses = [\"198.19.0.1/24\"]\n");
    fails(
        "[[lan.host]]\nname = \"h\"\nvlan = 7\naddresses = [\"198.19.0.1/24\"]\n",
        &[("addr-outside-subnet", "lan[lan0].host[h].addresses[0]")],
    );
}

#[test]
fn network_and_broadcast_addresses_are_reserved() {
    fails(
        &ct(101, "a", "198.18.0.0/24"),
        &[("addr-reserved", "ct[a].veth[eth0].addresses[0]")],
    );
    fails(
        &ct(101, "a", "198.18.0.255/24"),
        &[("addr-reserved", "ct[a].veth[eth0].addresses[0]")],
    );
    ok(&ct(101, "a", "198.18.0.254/24"));
}

#[test]
fn subnets_do_not_overlap() {
    ok("[[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"br0\"\n");
    fails(
        "[[subnet]]\ncidr = \"198.18.0.128/25\"\nbridge = \"br0\"\n",
        &[("subnet-overlap", "subnet[198.18.0.128/25].cidr")],
    );
    fails(
        "[[subnet]]\ncidr = \"198.18.0.0/16\"\nlan = \"lan0\"\n",
        &[("subnet-overlap", "subnet[198.18.0.0/16].cidr")],
    );
}

#[test]
fn ipv6_subnets_of_any_length_overlap_by_range() {
    ok("[[subnet]]\ncidr = \"fd00:1::/64\"\nbridge = \"br0\"\n[[subnet]]\ncidr = \"fd00:2::1/128\"\nbridge = \"br0\"\n");
    fails(
        "[[subnet]]\ncidr = \"fd00:1::/64\"\nbridge = \"br0\"\n[[subnet]]\ncidr = \"fd00:1::5/128\"\nbridge = \"br0\"\n",
        &[("subnet-overlap", "subnet[fd00:1::5/128].cidr")],
    );
    fails(
        "[[subnet]]\ncidr = \"fd00:1::/64\"\nbridge = \"br0\"\n[[subnet]]\ncidr = \"::/0\"\nlan = \"lan0\"\n",
        &[("subnet-overlap", "subnet[::/0].cidr")],
    );
}

#[test]
fn point_to_point_prefixes_have_no_reserved_addresses() {
    let p2p = "[[subnet]]\ncidr = \"198.18.9.0/31\"\nbridge = \"br0\"\n";
    ok(&format!(
        "{p2p}{}{}",
        ct(101, "a", "198.18.9.0/31"),
        ct(102, "b", "198.18.9.1/31")
    ));
}

#[test]
fn subnets_sit_on_one_segment() {
    fails(
        "[[subnet]]\ncidr = \"198.18.1.0/24\"\n",
        &[("subnet-segment", "subnet[198.18.1.0/24]")],
    );
    fails(
        "[[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"br0\"\nlan = \"lan0\"\n",
        &[("subnet-segment", "subnet[198.18.1.0/24]")],
    );
    fails(
        "[[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"br0\"\nvlan = 5\n",
        &[("subnet-segment", "subnet[198.18.1.0/24]")],
    );
}

#[test]
fn gateway_is_a_container_address_on_the_segment() {
    let gw = "[[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"br0\"\ngateway = \"198.18.1.1\"\n";
    ok(&format!("{gw}{}", ct(101, "a", "198.18.1.1/24")));
    fails(
        &format!("{gw}{}", ct(101, "a", "198.18.1.2/24")),
        &[("gateway-invalid", "subnet[198.18.1.0/24].gateway")],
    );
}

// --- routes (FINDINGS 10, 11) ---

#[test]
fn one_default_route_per_family() {
    let one = format!(
        "{}[[ct.route]]\nto = \"default\"\nvia = \"198.18.0.1\"\n",
        ct(102, "a", "198.18.0.2/24")
    );
    let router = ct(101, "r", "198.18.0.1/24")
        .replace("[[ct.veth]]", "forward = { ipv4 = true }\n[[ct.veth]]");
    ok(&format!("{router}{one}"));
    fails(
        &format!(
            "{router}{one}[[ct.route]]\nto = \"0.0.0.0/0\"\nvia = \"198.18.0.1\"\nmetric = 5\n"
        ),
        &[("default-route-duplicate", "ct[a].route[1].to")],
    );
}

#[test]
fn veth_default_route_beside_venet_fails_with_the_article_fix() {
    let router = ct(101, "r", "198.18.0.1/24")
        .replace("[[ct.veth]]", "forward = { ipv4 = true }\n[[ct.veth]]");
    let leaf = ct(102, "a", "198.18.0.2/24").replace(
        "[[ct.veth]]",
        "venet = { addresses = [\"198.51.100.7/32\"] }\n[[ct.veth]]",
    );
    ok(&format!("{router}{leaf}"));
    let d = fails(
        &format!("{router}{leaf}[[ct.route]]\nto = \"default\"\nvia = \"198.18.0.1\"\n"),
        &[("default-route-venet", "ct[a].route[0].to")],
    );
    assert!(d.0[0].hint.as_deref().unwrap_or_default().contains("venet"));
}

#[test]
fn next_hop_is_on_link() {
    let router = ct(101, "r", "198.18.0.1/24")
        .replace("[[ct.veth]]", "forward = { ipv4 = true }\n[[ct.veth]]");
    fails(
        &format!(
            "{router}{}[[ct.route]]\nto = \"10.0.0.0/8\"\nvia = \"198.18.7.1\"\n",
            ct(102, "a", "198.18.0.2/24")
        ),
        &[("route-nexthop-offlink", "ct[a].route[0].via")],
    );
    // On-link, but not through the `dev` named.
    let two = ct(102, "a", "198.18.0.2/24")
        + "[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\naddresses = [\"198.19.0.2/24\"]\n";
    ok(&format!(
        "{router}{two}[[ct.route]]\nto = \"10.0.0.0/8\"\nvia = \"198.18.0.1\"\ndev = \"eth0\"\n"
    ));
    fails(
        &format!("{router}{two}[[ct.route]]\nto = \"10.0.0.0/8\"\nvia = \"198.18.0.1\"\ndev = \"eth1\"\n"),
        &[("route-nexthop-offlink", "ct[a].route[0].via")],
    );
    fails(
        &format!("{router}{two}[[ct.route]]\nto = \"default\"\n"),
        &[("route-nexthop-offlink", "ct[a].route[0]")],
    );
}

#[test]
fn routers_forward() {
    let leaf = format!(
        "{}[[ct.route]]\nto = \"10.0.0.0/8\"\nvia = \"198.18.0.1\"\n",
        ct(102, "a", "198.18.0.2/24")
    );
    fails(
        &format!("{}{leaf}", ct(101, "r", "198.18.0.1/24")),
        &[("router-not-forwarding", "ct[a].route[0].via")],
    );
}

#[test]
fn lan_host_routes_follow_the_same_rules() {
    let router = ct(101, "r", "198.18.0.1/24")
        .replace("[[ct.veth]]", "forward = { ipv4 = true }\n[[ct.veth]]")
        + "[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\naddresses = [\"198.19.0.200/24\"]\n";
    let host = "[[lan.host]]\nname = \"h\"\naddresses = [\"198.19.0.1/24\"]\nroute = [{ to = \"198.18.0.0/24\", via = \"198.19.0.200\" }]\n";
    ok(&format!("{host}{router}"));
    let bad = host.replace("198.19.0.200\" }", "198.19.0.200\" }, { to = \"default\", via = \"198.19.0.9\" }, { to = \"0.0.0.0/0\", via = \"198.19.0.9\" }, { to = \"10.0.0.0/8\", via = \"198.18.5.5\" }");
    fails(
        &format!("{bad}{router}"),
        &[
            ("default-route-duplicate", "lan[lan0].host[h].route[2].to"),
            ("route-nexthop-offlink", "lan[lan0].host[h].route[3].via"),
        ],
    );
}

// --- NAT ---

#[test]
fn nat_needs_forwarding_and_an_outgoing_interface() {
    let router = ct(101, "r", "198.18.0.1/24");
    let fw = router.replace("[[ct.veth]]", "forward = { ipv4 = true }\n[[ct.veth]]");
    ok(&format!(
        "{fw}[[ct.nat]]\nsource = \"198.18.0.0/24\"\nout = \"eth0\"\n"
    ));
    fails(
        &format!("{router}[[ct.nat]]\nsource = \"198.18.0.0/24\"\nout = \"eth5\"\n"),
        &[
            ("nat-invalid", "ct[r].nat[0].source"),
            ("nat-invalid", "ct[r].nat[0].out"),
        ],
    );
}

// --- Firewall: port forwards and filters ---

/// A router `r` (forwarding IPv4, eth0 198.18.0.1 on br0, NIC eth1 198.19.0.200 on
/// lan0), a container `m` (198.18.0.2) and a LAN host `h` (198.19.0.1); `router_extra`
/// goes into the router's table, `m_extra` into m's.
fn fw_world(router_extra: &str, m_extra: &str) -> String {
    let router = ct(101, "r", "198.18.0.1/24")
        .replace("[[ct.veth]]", "forward = { ipv4 = true }\n[[ct.veth]]")
        + "[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\naddresses = [\"198.19.0.200/24\"]\n";
    let host = "[[lan.host]]\nname = \"h\"\naddresses = [\"198.19.0.1/24\"]\n";
    format!(
        "{host}{router}{router_extra}{}{m_extra}",
        ct(102, "m", "198.18.0.2/24")
    )
}

const SMTP: &str = "[[ct.port_forward]]\nproto = \"tcp\"\naddress = \"198.19.0.200\"\nport = 25\nto = \"198.18.0.2\"\n";

#[test]
fn a_port_forward_listens_on_the_routers_own_address_or_interface() {
    ok(&fw_world(SMTP, ""));
    ok(&fw_world(
        "[[ct.port_forward]]\nproto = \"udp\"\ninterface = \"eth1\"\nport = \"5000-5010\"\nto = \"198.18.0.2\"\n[[ct.port_forward]]\nproto = \"tcp\"\ninterface = \"eth1\"\nport = 8080\nto = \"198.18.0.2\"\nto_port = 80\n",
        "",
    ));
    let d = fails(
        &fw_world(
            &format!(
                "{}[[ct.port_forward]]\nproto = \"tcp\"\ninterface = \"eth7\"\nport = 26\nto = \"198.18.0.2\"\n",
                SMTP.replace("198.19.0.200", "198.19.0.201")
            ),
            "",
        ),
        &[
            ("forward-listen-invalid", "ct[r].port_forward[0].address"),
            ("forward-listen-invalid", "ct[r].port_forward[1].interface"),
        ],
    );
    // Neither address nor interface: it would catch the containers' own traffic too.
    fails(
        &fw_world(&SMTP.replace("address = \"198.19.0.200\"\n", ""), ""),
        &[("forward-listen-invalid", "ct[r].port_forward[0]")],
    );
    assert!(line_of(&d, "ct[r].port_forward[0].address") > 1);
}

#[test]
fn a_port_forwards_target_is_on_a_subnet_or_route_of_the_router() {
    let far = SMTP.replace("198.18.0.2", "203.0.113.5");
    fails(
        &fw_world(&far, ""),
        &[("forward-target-unreachable", "ct[r].port_forward[0].to")],
    );
    ok(&fw_world(
        &format!("{far}[[ct.route]]\nto = \"203.0.113.0/24\"\nvia = \"198.19.0.1\"\n"),
        "",
    ));
}

#[test]
fn port_ranges_are_valid_and_to_port_spans_as_many() {
    fails(
        &fw_world(
            &SMTP.replace("port = 25\n", "port = \"25-26\"\nto_port = 2525\n"),
            "",
        ),
        &[("forward-port-invalid", "ct[r].port_forward[0].to_port")],
    );
    // A range goes onto itself only: nft would pick any port of another range.
    fails(
        &fw_world(
            &SMTP.replace("port = 25\n", "port = \"25-26\"\nto_port = \"2525-2526\"\n"),
            "",
        ),
        &[("forward-port-invalid", "ct[r].port_forward[0].to_port")],
    );
    // A port out of range is refused where it is written, before validation.
    let text = format!("{BASE}{}", fw_world(&SMTP.replace("25", "70000"), ""));
    let e = Document::parse(&text, Format::Toml).expect_err("70000 is no port");
    assert!(e.to_string().contains("70000"), "{e}");
}

#[test]
fn no_two_forwards_take_one_port_of_one_address() {
    ok(&fw_world(
        &format!("{SMTP}{}", SMTP.replace("tcp", "udp")),
        "",
    ));
    let overlapping = SMTP
        .replace("address = \"198.19.0.200\"\n", "interface = \"eth1\"\n")
        .replace("port = 25", "port = \"20-30\"");
    let d = fails(
        &fw_world(&format!("{SMTP}{overlapping}"), ""),
        &[("forward-duplicate", "ct[r].port_forward[1]")],
    );
    assert_eq!(
        d.0[0].first.as_ref().map(|f| f.path.as_str()),
        Some("ct[r].port_forward[0]")
    );
}

#[test]
fn forwards_and_forward_filters_need_a_container_that_forwards() {
    let policy = "[ct.firewall.forward]\npolicy = \"drop\"\n";
    ok(&fw_world(policy, ""));
    fails(
        &fw_world(
            "",
            &format!("{SMTP}{policy}").replace("198.19.0.200", "198.18.0.2"),
        ),
        &[
            ("firewall-not-forwarding", "ct[m].port_forward[0]"),
            ("firewall-not-forwarding", "ct[m].firewall.forward"),
        ],
    );
    // An input filter is fine anywhere.
    ok(&fw_world("", "[ct.firewall.input]\npolicy = \"drop\"\n"));
}

#[test]
fn allow_rules_name_addresses_prefixes_or_elements_and_ports_come_with_a_protocol() {
    let input =
        |allow: &str| format!("[ct.firewall.input]\npolicy = \"drop\"\nallow = [{allow}]\n");
    ok(&fw_world(
        "",
        &input("{ from = \"r\", proto = \"tcp\", port = 5432 }, { from = \"h\", to = \"198.18.0.2\" }, { from = \"198.19.0.0/24\", proto = \"udp\" }"),
    ));
    let d = fails(
        &fw_world(
            "",
            &input("{ from = \"nobody\" }, { to = \"mail\" }, { from = \"r\", port = 22 }"),
        ),
        &[
            ("allow-invalid", "ct[m].firewall.input.allow[0].from"),
            ("allow-invalid", "ct[m].firewall.input.allow[1].to"),
            ("allow-invalid", "ct[m].firewall.input.allow[2].port"),
        ],
    );
    assert!(line_of(&d, "ct[m].firewall.input.allow[2].port") > 1);
    // An unknown key inside an allow rule is refused at its place.
    let text = format!("{BASE}{}", fw_world("", &input("{ form = \"r\" }")));
    let e = Document::parse(&text, Format::Toml).expect_err("form is no key");
    assert!(e.to_string().contains("from"), "{e}");
}

#[test]
fn an_allow_rule_an_earlier_one_covers_is_a_warning() {
    let input =
        |allow: &str| format!("[ct.firewall.input]\npolicy = \"drop\"\nallow = [{allow}]\n");
    let text = |allow: &str| format!("{BASE}{}", fw_world("", &input(allow)));
    let warnings = |allow: &str| {
        let doc = Document::parse(&text(allow), Format::Toml).unwrap();
        let v = doc.validate().unwrap_or_else(|d| panic!("{}", list(&d)));
        v.warnings()
            .iter()
            .map(|w| {
                (
                    w.rule.id().to_string(),
                    w.path.clone(),
                    w.location.map(|l| l.line),
                )
            })
            .collect::<Vec<_>>()
    };
    // Narrower first, wider later: both can match something.
    assert!(warnings(
        "{ from = \"r\", proto = \"tcp\", port = 5432 }, { from = \"198.18.0.0/24\" }"
    )
    .is_empty());
    // r has an address outside 198.18.0.0/24 too: not covered.
    assert!(warnings("{ from = \"198.18.0.0/24\" }, { from = \"r\" }").is_empty());
    let w = warnings(
        "{ from = \"198.18.0.0/24\", proto = \"tcp\" }, { from = \"m\", proto = \"tcp\", port = \"5432-5433\" }",
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "allow-shadowed");
    assert_eq!(w[0].1, "ct[m].firewall.input.allow[1]");
    assert!(w[0].2.is_some());
}

// --- L2 (FINDINGS 12, 13, 14) ---

const TWO_BRIDGES: &str = "[[bridge]]\nname = \"br1\"\n";

#[test]
fn patched_bridges_form_no_loop_without_stp() {
    let p = |i: u32, a: &str, b: &str| {
        format!("[[patch]]\na = {{ bridge = \"{a}\", name = \"pa{i}\" }}\nb = {{ bridge = \"{b}\", name = \"pb{i}\" }}\n")
    };
    ok(&format!("{TWO_BRIDGES}{}", p(0, "br0", "br1")));
    fails(
        &format!("{TWO_BRIDGES}{}{}", p(0, "br0", "br1"), p(1, "br1", "br0")),
        &[("l2-loop", "patch[1].a.bridge")],
    );
    fails(&p(0, "br0", "br0"), &[("l2-loop", "patch[0].b.bridge")]);
    // A triangle of br1, br2, br3.
    let bridges =
        "[[bridge]]\nname = \"br1\"\n[[bridge]]\nname = \"br2\"\n[[bridge]]\nname = \"br3\"\n";
    let tri = format!(
        "{bridges}{}{}{}",
        p(0, "br1", "br2"),
        p(1, "br2", "br3"),
        p(2, "br3", "br1")
    );
    fails(
        &tri,
        &[
            ("l2-loop", "patch[0].a.bridge"),
            ("l2-loop", "patch[1].a.bridge"),
            ("l2-loop", "patch[2].a.bridge"),
        ],
    );
    // The same triangle with STP on every bridge is allowed; with one bridge off it is not.
    let stp = tri.replace("\"\n[[", "\"\nstp = true\n[[");
    ok(&stp);
    fails(
        &stp.replacen("stp = true\n", "", 1),
        &[
            ("l2-loop", "patch[0].a.bridge"),
            ("l2-loop", "patch[2].a.bridge"),
        ],
    );
}

#[test]
fn bridge_as_port_and_port_on_two_bridges_fail() {
    ok(&format!(
        "{TWO_BRIDGES}[[bridge]]\nname = \"br2\"\nports = [\"eth5\"]\n"
    ));
    fails(
        &format!("{TWO_BRIDGES}[[bridge]]\nname = \"br2\"\nports = [\"br1\"]\n"),
        &[("l2-loop", "bridge[br2].ports[0]")],
    );
    fails(
        "[[bridge]]\nname = \"br1\"\nports = [\"eth5\"]\n[[bridge]]\nname = \"br2\"\nports = [\"eth5\"]\n",
        &[("l2-loop", "bridge[br2].ports[0]")],
    );
}

fn many_cts(n: u32) -> String {
    let mut s = String::from("[[subnet]]\ncidr = \"198.18.64.0/18\"\nbridge = \"br0\"\n");
    for i in 0..n {
        s += &ct(
            1000 + i,
            &format!("c{i}"),
            &format!("198.18.{}.{}/18", 64 + i / 250, 1 + i % 250),
        );
    }
    s
}

#[test]
fn bridge_takes_1023_ports_not_1024() {
    ok(&many_cts(1023));
    fails(&many_cts(1024), &[("bridge-port-limit", "bridge[br0]")]);
}

// --- VLAN ---

#[test]
fn vlan_ids_are_in_range_and_unique_per_parent() {
    let nic = "[[ct]]\nid = 101\nname = \"r\"\n[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\n";
    let v =
        |n: &str, id: u32| format!("[[ct.vlan]]\nname = \"{n}\"\nparent = \"eth1\"\nid = {id}\n");
    ok(&format!(
        "{nic}{}{}",
        v("eth1.10", 10),
        v("eth1.4094", 4094)
    ));
    fails(
        &format!("{nic}{}", v("eth1.0", 0)),
        &[("vlan-invalid", "ct[r].vlan[eth1.0].id")],
    );
    fails(
        &format!("{nic}{}", v("eth1.4095", 4095)),
        &[("vlan-invalid", "ct[r].vlan[eth1.4095].id")],
    );
    fails(
        &format!("{nic}{}{}", v("a", 10), v("b", 10)),
        &[("vlan-invalid", "ct[r].vlan[b].id")],
    );
    fails(
        "[[subnet]]\ncidr = \"198.18.9.0/24\"\nlan = \"lan0\"\nvlan = 4095\n",
        &[("vlan-invalid", "subnet[198.18.9.0/24].vlan")],
    );
    // A VLAN on a VLAN (802.1ad would need its own protocol): its parent is refused.
    let d = fails(
        &format!(
            "{nic}{}[[ct.vlan]]\nname = \"q20\"\nparent = \"eth1.10\"\nid = 20\n",
            v("eth1.10", 10)
        ),
        &[("ref-missing", "ct[r].vlan[q20].parent")],
    );
    assert!(list(&d).contains("is a VLAN interface"), "{}", list(&d));
}

#[test]
fn vlan_addresses_need_the_vlan_subnet() {
    let text = "[[subnet]]\ncidr = \"198.18.10.0/24\"\nlan = \"lan0\"\nvlan = 10\n[[ct]]\nid = 101\nname = \"r\"\n[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\n[[ct.vlan]]\nname = \"eth1.10\"\nparent = \"eth1\"\nid = 10\naddresses = [\"198.18.10.1/24\"]\n";
    ok(text);
    fails(
        &text.replace("id = 10\naddr", "id = 20\naddr"),
        &[("addr-outside-subnet", "ct[r].vlan[eth1.10].addresses[0]")],
    );
}

// --- MTU ---

#[test]
fn mtu_in_range_and_ipv6_minimum() {
    ok(&format!("{}mtu = 9000\n", ct(101, "a", "198.18.0.1/24")));
    fails(
        &format!("{}mtu = 67\n", ct(101, "a", "198.18.0.1/24")),
        &[("mtu-invalid", "ct[a].veth[eth0].mtu")],
    );
    fails(
        &format!("{}mtu = 65536\n", ct(101, "a", "198.18.0.1/24")),
        &[("mtu-invalid", "ct[a].veth[eth0].mtu")],
    );
    let v6 = "[[subnet]]\ncidr = \"fd00:1::/64\"\nbridge = \"br0\"\n".to_string()
        + &ct(101, "a", "fd00:1::1/64");
    ok(&format!("{v6}mtu = 1280\n"));
    fails(
        &format!("{v6}mtu = 1279\n"),
        &[("mtu-invalid", "ct[a].veth[eth0].mtu")],
    );
}

// --- limits ---

#[test]
fn too_many_interfaces_is_a_limit() {
    let mut s = String::from("[[ct]]\nid = 101\nname = \"a\"\n");
    for i in 0..65 {
        s += &format!("[[ct.veth]]\nname = \"e{i}\"\nbridge = \"br0\"\n");
    }
    fails(&s, &[("limit-exceeded", "ct[a]")]);
}

#[test]
fn all_findings_are_reported_at_once_with_lines() {
    let text = format!(
        "{}mac = \"01:00:00:00:00:01\"\n{}",
        ct(101, "a", "198.18.1.1/24"),
        ct(101, "b", "198.18.0.0/24")
    );
    let d = fails(
        &text,
        &[
            ("mac-invalid", "ct[a].veth[eth0].mac"),
            ("addr-outside-subnet", "ct[a].veth[eth0].addresses[0]"),
            ("ct-id-duplicate", "ct[b].id"),
            ("addr-reserved", "ct[b].veth[eth0].addresses[0]"),
        ],
    );
    let base = BASE.lines().count();
    assert_eq!(line_of(&d, "ct[a].veth[eth0].mac"), base + 9);
    assert_eq!(line_of(&d, "ct[b].id"), base + 12);
}

// --- Placement and the VXLAN stretch (issue 7) ---

/// Node m2 beside BASE's m1.
const M2: &str = "[[node]]\nname = \"m2\"\n";

/// Node m2 with underlay `u2`, bridge bx stretched (with `bridge_extra`) and containers
/// a on m1 and b on m2 on it, both veths at MTU 1450. m1's underlay is
/// [`run_with_m1`]'s.
fn stretched(bridge_extra: &str, u2: &str) -> String {
    format!(
        "{M2}underlay = {{ {u2} }}\n[[bridge]]\nname = \"bx\"\nstretch = {{ vni = 199 }}\n{bridge_extra}\
         [[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"bx\"\n\
         [[ct]]\nid = 101\nname = \"a\"\nnode = \"m1\"\n[[ct.veth]]\nname = \"eth0\"\nbridge = \"bx\"\nmtu = 1450\naddresses = [\"198.18.1.1/24\"]\n\
         [[ct]]\nid = 102\nname = \"b\"\nnode = \"m2\"\n[[ct.veth]]\nname = \"eth0\"\nbridge = \"bx\"\nmtu = 1450\naddresses = [\"198.18.1.2/24\"]\n"
    )
}

/// BASE with m1's underlay set to `u1` (BASE declares m1 without one).
fn run_with_m1(u1: &str, extra: &str) -> Result<(), Diagnostics> {
    let base = BASE.replacen(
        "[[node]]\nname = \"m1\"\n",
        &format!("[[node]]\nname = \"m1\"\nunderlay = {{ {u1} }}\n"),
        1,
    );
    let text = format!("{base}{extra}");
    let doc = Document::parse(&text, Format::Toml).unwrap_or_else(|e| panic!("{e}\n{text}"));
    doc.validate().map(|_| ())
}

fn rules_of(r: Result<(), Diagnostics>) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = match r {
        Ok(()) => Vec::new(),
        Err(d) => {
            d.0.iter()
                .map(|x| (x.rule.id().to_string(), x.path.clone()))
                .collect()
        }
    };
    got.sort();
    got
}

const U1: &str = "address = \"198.20.0.1/24\", dev = \"eth0\"";
const U2: &str = "address = \"198.20.0.2/24\", dev = \"eth0\"";

#[test]
fn containers_on_a_node_local_bridge_are_placed_together() {
    let two = |b: &str| {
        let a = ct(101, "a", "198.18.0.1/24").replace(
            "[[ct.veth]]",
            "node = \"m1\"\nfailover = [\"m2\"]\n[[ct.veth]]",
        );
        format!("{M2}{a}{b}")
    };
    let leaf = |placement: &str| {
        format!("[[ct]]\nid = 102\nname = \"b\"\n{placement}[[ct.veth]]\nname = \"eth0\"\nbridge = \"br0\"\naddresses = [\"198.18.0.2/24\"]\n")
    };
    ok(&two(&leaf("node = \"m1\"\nfailover = [\"m2\"]\n")));
    fails(
        &two(&leaf("node = \"m2\"\nfailover = [\"m1\"]\n")),
        &[("placement-split", "ct[b].veth[eth0].bridge")],
    );
    fails(
        &two(&leaf("node = \"m1\"\n")),
        &[("placement-split", "ct[b].veth[eth0].bridge")],
    );
}

#[test]
fn bridges_joined_by_a_patch_are_one_segment_for_placement() {
    let a = ct(101, "a", "198.18.0.1/24").replace(
        "[[ct.veth]]",
        "node = \"m1\"\nfailover = [\"m2\"]\n[[ct.veth]]",
    );
    let b = "[[bridge]]\nname = \"br1\"\n[[subnet]]\ncidr = \"198.18.1.0/24\"\nbridge = \"br1\"\n\
             [[ct]]\nid = 102\nname = \"b\"\nnode = \"m2\"\n[[ct.veth]]\nname = \"eth0\"\n\
             bridge = \"br1\"\naddresses = [\"198.18.1.2/24\"]\n";
    // Two node-local bridges, each with its containers on their nodes: fine.
    ok(&format!("{M2}{a}{b}"));
    // Patched together they are one segment, split across m1 and m2.
    let patch = "[[patch]]\na = { bridge = \"br0\", name = \"p0\" }\nb = { bridge = \"br1\", name = \"p1\" }\n";
    let d = fails(
        &format!("{M2}{a}{b}{patch}"),
        &[("placement-split", "ct[b].veth[eth0].bridge")],
    );
    let text = list(&d);
    assert!(text.contains("on bridge br0, patched to br1,"), "{text}");
}

#[test]
fn a_stretched_bridge_may_split_its_containers_across_nodes() {
    let extra = stretched("mtu = 1450\n", U2);
    assert_eq!(
        rules_of(run_with_m1(U1, &extra)),
        Vec::<(String, String)>::new()
    );
    // The same bridge not stretched splits its containers.
    let plain = extra.replace("stretch = { vni = 199 }\n", "");
    assert_eq!(
        rules_of(run_with_m1(U1, &plain)),
        [(
            "placement-split".to_string(),
            "ct[b].veth[eth0].bridge".to_string()
        )]
    );
}

#[test]
fn a_stretched_bridge_needs_an_underlay_on_each_node() {
    // m1 has none (BASE's m1 as is).
    fails(
        &stretched("mtu = 1450\n", U2),
        &[("stretch-underlay", "node[m1]")],
    );
    // The same address twice, and families mixed.
    assert_eq!(
        rules_of(run_with_m1(U1, &stretched("mtu = 1450\n", U1))),
        [(
            "stretch-underlay".to_string(),
            "node[m2].underlay.address".to_string()
        )]
    );
    let v6 = "address = \"fd00:20::2/64\", dev = \"eth0\", mtu = 1520";
    assert_eq!(
        rules_of(run_with_m1(U1, &stretched("mtu = 1450\n", v6))),
        [(
            "stretch-underlay".to_string(),
            "node[m2].underlay.address".to_string()
        )]
    );
    // An undeclared LAN, a bad device name, an MTU out of range.
    let bad = "address = \"198.20.0.2/24\", dev = \"eth 0\", lan = \"nolan\", mtu = 40";
    assert_eq!(
        rules_of(run_with_m1(U1, &stretched("mtu = 1450\n", bad))),
        [
            (
                "mtu-invalid".to_string(),
                "node[m2].underlay.mtu".to_string()
            ),
            (
                "name-invalid".to_string(),
                "node[m2].underlay.dev".to_string()
            ),
            (
                "ref-missing".to_string(),
                "node[m2].underlay.lan".to_string()
            ),
        ]
    );
}

#[test]
fn a_stretched_bridge_leaves_room_for_the_vxlan_header() {
    // bx has the default 1500 > 1500 - 50.
    let extra = stretched("", U2);
    let no_bridge_mtu = rules_of(run_with_m1(
        U1,
        &extra.replace(
            "stretch = { vni = 199 }\n",
            "stretch = { vni = 199 }\nmtu = 1451\n",
        ),
    ));
    assert_eq!(
        no_bridge_mtu,
        [("stretch-mtu".to_string(), "bridge[bx].mtu".to_string()),]
    );
    // Exactly 1450 fits an IPv4 underlay of 1500; a veth of 1500 does not.
    let mtu = extra.replace(
        "stretch = { vni = 199 }\n",
        "stretch = { vni = 199 }\nmtu = 1450\n",
    );
    assert!(rules_of(run_with_m1(U1, &mtu)).is_empty());
    assert_eq!(
        rules_of(run_with_m1(
            U1,
            &mtu.replacen(
                "mtu = 1450\naddresses = [\"198.18.1.2/24\"]",
                "mtu = 1500\naddresses = [\"198.18.1.2/24\"]",
                1
            )
        )),
        [(
            "stretch-mtu".to_string(),
            "ct[b].veth[eth0].mtu".to_string()
        )]
    );
    // A jumbo underlay on every node makes room for 1500 everywhere; the smallest counts.
    let jumbo1 = "address = \"198.20.0.1/24\", dev = \"eth0\", mtu = 9000";
    let jumbo2 = "address = \"198.20.0.2/24\", dev = \"eth0\", mtu = 1550";
    let full = extra.replace("mtu = 1450\n", "");
    assert!(rules_of(run_with_m1(
        jumbo1,
        &stretched("", jumbo2).replace("mtu = 1450\n", "")
    ))
    .is_empty());
    assert_eq!(
        rules_of(run_with_m1(jumbo1, &full)).len(),
        3,
        "m2's 1500-byte underlay leaves 1450 for bx and both veths"
    );
    // IPv6 underlays cost 70.
    let v6a = "address = \"fd00:20::1/64\", dev = \"eth0\", mtu = 1550";
    let v6b = "address = \"fd00:20::2/64\", dev = \"eth0\", mtu = 1550";
    assert_eq!(
        rules_of(run_with_m1(
            v6a,
            &stretched("", v6b)
                .replace("mtu = 1450\n", "mtu = 1481\n")
                .replace(
                    "stretch = { vni = 199 }\n",
                    "stretch = { vni = 199 }\nmtu = 1480\n"
                )
        )),
        [
            (
                "stretch-mtu".to_string(),
                "ct[a].veth[eth0].mtu".to_string()
            ),
            (
                "stretch-mtu".to_string(),
                "ct[b].veth[eth0].mtu".to_string()
            ),
        ]
    );
}

#[test]
fn stretched_bridges_have_their_own_valid_vni() {
    let extra = stretched("mtu = 1450\n", U2);
    for (vni, ok) in [
        ("1", true),
        ("16777215", true),
        ("0", false),
        ("16777216", false),
    ] {
        let r = rules_of(run_with_m1(
            U1,
            &extra.replace("vni = 199", &format!("vni = {vni}")),
        ));
        if ok {
            assert!(r.is_empty(), "vni {vni}: {r:?}");
        } else {
            assert_eq!(
                r,
                [(
                    "stretch-vni".to_string(),
                    "bridge[bx].stretch.vni".to_string()
                )],
                "vni {vni}"
            );
        }
    }
    let port0 = extra.replace("vni = 199", "vni = 199, port = 0");
    assert_eq!(
        rules_of(run_with_m1(U1, &port0)),
        [(
            "stretch-vni".to_string(),
            "bridge[bx].stretch.port".to_string()
        )]
    );
    // br0 stretched with bx's VNI.
    let base_br0 = "[[bridge]]\nname = \"by\"\nmtu = 1450\nstretch = { vni = 199 }\n";
    assert_eq!(
        rules_of(run_with_m1(U1, &format!("{extra}{base_br0}"))),
        [(
            "stretch-vni".to_string(),
            "bridge[by].stretch.vni".to_string()
        )]
    );
}

#[test]
fn the_vxlan_device_name_is_free_on_the_nodes() {
    // `vx-bx` taken by a bridge port; a long bridge name falls back to `vx<vni>`.
    let extra = stretched("mtu = 1450\nports = [\"vx-bx\"]\n", U2);
    assert_eq!(
        rules_of(run_with_m1(U1, &extra)),
        [(
            "name-duplicate".to_string(),
            "bridge[bx].ports[0]".to_string()
        )]
    );
    let b: vnet_core::model::Bridge =
        serde_json::from_str(r#"{"name":"br-longer-name","stretch":{"vni":199}}"#).unwrap();
    assert_eq!(b.vxlan_name().as_deref(), Some("vx199"));
}

#[test]
fn a_failover_containers_nic_pins_its_mac_or_follows_the_node() {
    let router = |nic_extra: &str, failover: &str| {
        format!(
            "{M2}[[ct]]\nid = 101\nname = \"r\"\nnode = \"m1\"\n{failover}[[ct.nic]]\nname = \"eth1\"\nlan = \"lan0\"\naddresses = [\"198.19.0.200/24\"]\n{nic_extra}"
        )
    };
    // No failover: nothing to say.
    ok(&router("", ""));
    ok(&router(
        "mac = \"02:00:00:00:00:01\"\n",
        "failover = [\"m2\"]\n",
    ));
    ok(&router(
        "mac_follows_node = true\n",
        "failover = [\"m2\"]\n",
    ));
    fails(
        &router("", "failover = [\"m2\"]\n"),
        &[("uplink-mac-unpinned", "ct[r].nic[eth1]")],
    );
    // A failover list naming only the home node is no failover.
    ok(&router("", "failover = [\"m1\"]\n"));
}

// --- macvlan ---

/// A container `name` with id `id` and one macvlan `eth0` on `parent`, plugged into
/// `lan`, with `extra` fields.
fn macvlan_ct(id: u32, name: &str, parent: &str, lan: &str, extra: &str) -> String {
    format!(
        r#"
[[ct]]
id = {id}
name = "{name}"
[[ct.macvlan]]
name = "eth0"
parent = "{parent}"
lan = "{lan}"
{extra}
"#
    )
}

#[test]
fn a_macvlan_on_a_nic_of_the_node_passes() {
    ok(&macvlan_ct(
        201,
        "web",
        "eth1",
        "lan0",
        r#"addresses = ["198.19.0.10/24"]"#,
    ));
    // Two containers on one parent, one MAC given.
    ok(&format!(
        "{}{}",
        macvlan_ct(201, "web", "eth1", "lan0", r#"mac = "02:00:00:00:00:01""#),
        macvlan_ct(
            202,
            "mail",
            "eth1",
            "lan0",
            r#"addresses = ["198.19.0.11/24"]"#
        ),
    ));
}

#[test]
fn a_macvlan_on_a_bridge_vnet_makes_fails() {
    fails(
        &macvlan_ct(201, "web", "br0", "lan0", ""),
        &[("macvlan-parent", "ct[web].macvlan[eth0].parent")],
    );
}

#[test]
fn a_macvlan_on_a_nic_passed_into_a_container_fails() {
    let router = r#"
[[ct]]
id = 101
name = "router"
[[ct.nic]]
name = "eth1"
lan = "lan0"
"#;
    fails(
        &format!("{router}{}", macvlan_ct(201, "web", "eth1", "lan0", "")),
        &[("macvlan-parent", "ct[web].macvlan[eth0].parent")],
    );
}

#[test]
fn one_parent_plugged_into_two_lans_fails() {
    let lan1 = "[[lan]]\nname = \"lan1\"\n";
    let d = fails(
        &format!(
            "{lan1}{}{}",
            macvlan_ct(201, "web", "eth1", "lan0", ""),
            macvlan_ct(202, "mail", "eth1", "lan1", "")
        ),
        &[("macvlan-parent", "ct[mail].macvlan[eth0].lan")],
    );
    assert!(line_of(&d, "ct[mail].macvlan[eth0].lan") > BASE.lines().count());
}

#[test]
fn a_macvlan_parent_name_follows_the_name_rules() {
    fails(
        &macvlan_ct(201, "web", "eth1-of-the-node", "lan0", ""),
        &[("name-too-long", "ct[web].macvlan[eth0].parent")],
    );
}

#[test]
fn a_macvlan_name_is_unique_in_its_container_and_short() {
    let text = r#"
[[ct]]
id = 201
name = "web"
[[ct.veth]]
name = "eth0"
bridge = "br0"
[[ct.macvlan]]
name = "eth0"
parent = "eth1"
lan = "lan0"
[[ct.macvlan]]
name = "macvlan-of-web01"
parent = "eth1"
lan = "lan0"
"#;
    fails(
        text,
        &[
            ("name-duplicate", "ct[web].macvlan[eth0].name"),
            ("name-too-long", "ct[web].macvlan[macvlan-of-web01].name"),
        ],
    );
}

#[test]
fn a_macvlan_mac_is_unique() {
    let text = format!(
        "{}{}",
        macvlan_ct(201, "web", "eth1", "lan0", r#"mac = "02:00:00:00:00:01""#),
        macvlan_ct(202, "mail", "eth1", "lan0", r#"mac = "02:00:00:00:00:01""#),
    );
    fails(&text, &[("mac-duplicate", "ct[mail].macvlan[eth0].mac")]);
}

#[test]
fn macvlan_addresses_lie_in_a_subnet_of_its_lan() {
    fails(
        &macvlan_ct(
            201,
            "web",
            "eth1",
            "lan0",
            r#"addresses = ["198.18.0.10/24"]"#,
        ),
        &[("addr-outside-subnet", "ct[web].macvlan[eth0].addresses[0]")],
    );
}

#[test]
fn a_macvlan_names_a_declared_lan() {
    fails(
        &macvlan_ct(201, "web", "eth1", "lan9", ""),
        &[("ref-missing", "ct[web].macvlan[eth0].lan")],
    );
}

#[test]
fn a_vlan_on_a_macvlan_is_refused() {
    let text = format!(
        "{}{}",
        macvlan_ct(201, "web", "eth1", "lan0", ""),
        "[[ct.vlan]]\nname = \"eth0.10\"\nparent = \"eth0\"\nid = 10\n"
    );
    fails(&text, &[("ref-missing", "ct[web].vlan[eth0.10].parent")]);
}

// --- where a container's namespace is on a real node (issue 16) ---

#[test]
fn netns_names_a_runtime_and_a_bad_one_is_located() {
    let with = |value: &str| {
        ct(101, "web", "198.18.0.1/24").replace(
            "name = \"web\"\n",
            &format!("name = \"web\"\nnetns = \"{value}\"\n"),
        )
    };
    for good in [
        "name:web",
        "pid:/run/web.pid",
        "lxc:web",
        "podman:web",
        "docker:web",
        "nspawn:web",
        "openvz:101",
    ] {
        ok(&with(good));
    }
    for bad in ["web", "vmware:web", "docker:-H", "pid:web.pid", "lxc:"] {
        let d = fails(&with(bad), &[("netns-invalid", "ct[web].netns")]);
        assert_eq!(
            line_of(&d, "ct[web].netns"),
            BASE.lines().count() + 5,
            "{bad}"
        );
        assert!(list(&d).contains(bad), "the value is named: {}", list(&d));
    }
}
