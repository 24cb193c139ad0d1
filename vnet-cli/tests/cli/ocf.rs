//! Lifecycle tests of the OCF resource agent `vnet-backend-shell/ocf/vnet-ct`, driven the
//! way Pacemaker drives it, calling the real `vnet` binary of this build.
//!
//! - On a real node (the default, `sandbox=false`): the "node" is the test's private
//!   network namespace ([`vnet_testkit::isolated`], with its own tmpfs on `/run/netns`),
//!   and the containers' namespaces are `ip netns add`ed there by the test,
//!   as a container runtime would. Pacemaker's calls in order: validate-all, probe
//!   (7), start, start again (0), monitor (0), a route deleted by hand (monitor 1), stop,
//!   stop again (0), monitor (7); `meta-data` valid against OCF's DTD (xmllint); a node
//!   the container may not run on refused with OCF_ERR_ARGS; `ocf-tester` (Debian's
//!   resource-agents) when installed; then two containers, the leaf started before the
//!   router, the leaf pings the router and through it the router's other subnet.
//! - In the sandbox (`sandbox=true`): the article's topology applied as namespaces, one
//!   container stopped and started by the agent while the others stay.
//!
//! Addresses are 198.18.0.0/15 (the seed's 192.168.x only inside the sandbox test's own
//! namespaces). Needs root; without it the tests print SKIPPED, and fail when `CI` is set.

use std::collections::BTreeMap;
use std::path::PathBuf;

use vnet_testkit::{isolated, run, sh};

use crate::common::{on_path, TempDir};

const VNET: &str = env!("CARGO_BIN_EXE_vnet");

/// Two containers on node m1's bridge br0 (failover m2; never m3): `router` forwards
/// between br0, br1 and the LAN behind the node's NIC `uplink0` (passed in as `eth2`);
/// `leaf` routes 198.18.0.0/15 through it.
const TWO: &str = r#"
name = "ocftest"

[[node]]
name = "m1"

[[node]]
name = "m2"

[[node]]
name = "m3"

[[lan]]
name = "lan0"

[[bridge]]
name = "br0"
nodes = ["m1", "m2"]

[[bridge]]
name = "br1"
nodes = ["m1", "m2"]

[[subnet]]
cidr = "198.18.199.0/24"
gateway = "198.18.199.1"
bridge = "br0"

[[subnet]]
cidr = "198.19.1.0/24"
bridge = "br1"

[[subnet]]
cidr = "198.19.46.0/24"
lan = "lan0"

[[ct]]
id = 201
name = "router"
node = "m1"
failover = ["m2"]
forward = { ipv4 = true }

[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.199.1/24"]

[[ct.veth]]
name = "eth1"
bridge = "br1"
addresses = ["198.19.1.1/24"]

[[ct.nic]]
name = "eth2"
device = "uplink0"
mac = "02:00:00:00:46:c8"
lan = "lan0"
addresses = ["198.19.46.200/24"]

[[ct]]
id = 202
name = "leaf"
node = "m1"
failover = ["m2"]

[[ct.veth]]
name = "eth0"
bridge = "br0"
addresses = ["198.18.199.2/24"]

[[ct.route]]
to = "198.18.0.0/15"
via = "198.18.199.1"
"#;

fn agent() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vnet-backend-shell/ocf/vnet-ct")
}

fn seed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/seed.toml")
}

/// Checks the agent's meta-data: valid against OCF's `ra-api-1.dtd` with xmllint (as
/// `ocf-tester` does) when resource-agents ships the DTD, else well-formed. Without
/// xmllint: fails in CI (`.ci/run` installs libxml2-utils), else a Python parse.
fn metadata_check() -> String {
    let dtd = "/usr/share/resource-agents/ra-api-1.dtd";
    if on_path("xmllint") {
        if std::path::Path::new(dtd).exists() {
            "$AGENT meta-data | (cd /usr/share/resource-agents && xmllint --noout --valid -)".into()
        } else {
            "$AGENT meta-data | xmllint --noout -".into()
        }
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint (libxml2-utils) is missing in CI"
        );
        eprintln!("ocf: xmllint not installed (libxml2-utils): meta-data parsed by Python only");
        "$AGENT meta-data | python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.stdin)'"
            .into()
    }
}

/// `vnet start` of both containers at the same moment; prints both exit codes.
const PARALLEL: &str = "T=$OCF_RESKEY_topology; \
     $OCF_RESKEY_vnet start leaf --node m1 $T --this-host >/dev/null & a=$!; \
     $OCF_RESKEY_vnet start router --node m1 $T --this-host >/dev/null & b=$!; \
     wait $a; ra=$?; wait $b; rb=$?; echo \"leaf $ra router $rb\"; [ $ra -eq 0 ] && [ $rb -eq 0 ]";

/// The parameter names and action names of the meta-data, in order.
const METADATA_NAMES: &str = "$AGENT meta-data | python3 -c 'import xml.dom.minidom,sys; \
     d=xml.dom.minidom.parse(sys.stdin); \
     print(\" \".join(p.getAttribute(\"name\") for p in d.getElementsByTagName(\"parameter\"))); \
     print(\" \".join(a.getAttribute(\"name\") for a in d.getElementsByTagName(\"action\")))'";

/// Runs `steps` (name, shell command using `$AGENT`) one after another in the test's
/// private namespaces ([`isolated`]) with `lo` up and the agent's parameters `env`
/// exported, and returns each step's exit code and output (stdout and stderr as one
/// stream, as the cluster manager logs them).
fn session(env: &[(&str, String)], steps: &[(&str, &str)]) -> BTreeMap<String, (i32, String)> {
    run(&["ip", "link", "set", "lo", "up"]);
    let agent = agent();
    let mut vars = vec![
        ("AGENT", agent.to_str().expect("UTF-8 path")),
        ("OCF_ROOT", "/usr/lib/ocf"),
        ("OCF_RESKEY_vnet", VNET),
        ("NO_COLOR", "1"),
    ];
    vars.extend(env.iter().map(|(k, v)| (*k, v.as_str())));
    steps
        .iter()
        .map(|(name, cmd)| {
            let done = sh(&format!("set -u; {{ {cmd} ; }} 2>&1 </dev/null"), &vars);
            (name.to_string(), (done.code, done.stdout))
        })
        .collect()
}

/// The output of `step`, checked to have exited with `want`.
fn code<'a>(results: &'a BTreeMap<String, (i32, String)>, step: &str, want: i32) -> &'a str {
    let (got, out) = results
        .get(step)
        .unwrap_or_else(|| panic!("step {step} did not run: {results:?}"));
    assert_eq!(
        *got, want,
        "{step}: exit {got}, expected {want}; output:\n{out}"
    );
    out
}

/// The step that runs `ocf-tester` against the agent with `params`, or says it is
/// not installed (the manual calls above cover the same sequence).
fn ocf_tester(params: &str) -> String {
    format!(
        "if command -v ocf-tester >/dev/null; then ocf-tester -n vnet-ocf {params} \"$AGENT\"; \
         else echo 'ocf-tester not installed (resource-agents): manual calls only'; fi"
    )
}

#[test]
fn ocf_agent_on_a_real_node() {
    isolated("ocf::ocf_agent_on_a_real_node", || {
        let dir = TempDir::new("ocf-node");
        let topology = dir.write("two.toml", TWO);
        let metadata = metadata_check();
        let tester = ocf_tester(
        "-o topology=\"$OCF_RESKEY_topology\" -o ct=leaf -o node=m1 -o vnet=\"$OCF_RESKEY_vnet\"",
    );
        // The container runtime's part: a named namespace with lo up.
        let netns = |ct: &str| format!("ip netns add {ct} && ip -n {ct} link set lo up");
        let (leaf_ns, router_ns) = (netns("leaf"), netns("router"));
        let results = session(
        &[
            ("OCF_RESKEY_topology", topology.clone()),
            ("OCF_RESKEY_ct", "leaf".into()),
            ("OCF_RESKEY_node", "m1".into()),
        ],
        &[
            ("meta-data-valid", &metadata),
            ("meta-data-names", METADATA_NAMES),
            ("validate-missing-topology", "OCF_RESKEY_topology= $AGENT validate-all"),
            ("validate-missing-ct", "OCF_RESKEY_ct= $AGENT validate-all"),
            ("validate-absent-file", "OCF_RESKEY_topology=/nonexistent/vnet.toml $AGENT validate-all"),
            (
                "validate-invalid-topology",
                "printf 'name = \"x\"\\n[[ct]]\\nid = 1\\n' > /run/netns/bad.toml && \
                 OCF_RESKEY_topology=/run/netns/bad.toml $AGENT validate-all",
            ),
            ("validate-unknown-ct", "OCF_RESKEY_ct=nosuchct $AGENT validate-all"),
            ("validate-dash-ct", "OCF_RESKEY_ct=-x $AGENT validate-all"),
            ("validate-bad-sandbox", "OCF_RESKEY_sandbox=maybe $AGENT validate-all"),
            ("validate-unknown-node", "OCF_RESKEY_node=m9 $AGENT validate-all"),
            ("probe-unknown-node", "OCF_RESKEY_node=m9 $AGENT monitor"),
            ("validate-no-vnet", "OCF_RESKEY_vnet=/nonexistent/vnet $AGENT validate-all"),
            ("unknown-action", "$AGENT migrate_to"),
            // Pacemaker's sequence.
            ("validate", "$AGENT validate-all"),
            ("probe", "$AGENT monitor"),
            ("start-no-namespace", "$AGENT start"),
            ("runtime-leaf", &leaf_ns),
            ("probe-namespace-only", "$AGENT monitor"),
            ("start-1", "$AGENT start"),
            ("start-2", "$AGENT start"),
            ("monitor-up", "$AGENT monitor"),
            ("status-json", "$OCF_RESKEY_vnet --output json status leaf $OCF_RESKEY_topology --node m1 --this-host"),
            ("node-links-up", "ip -o link show"),
            ("break", "ip -n leaf route del 198.18.0.0/15"),
            ("monitor-broken", "$AGENT monitor"),
            ("stop-1", "$AGENT stop"),
            ("stop-2", "$AGENT stop"),
            ("monitor-down", "$AGENT monitor"),
            ("leaf-links-down", "ip -n leaf -o link show"),
            ("node-links-down", "ip -o link show"),
            ("stop-unconfigured", "OCF_RESKEY_topology=/nonexistent/vnet.toml $AGENT stop"),
            // m3 is in the topology, but the containers may not run there.
            ("probe-m3", "OCF_RESKEY_node=m3 $AGENT monitor"),
            ("start-m3", "OCF_RESKEY_node=m3 $AGENT start"),
            ("ocf-tester", &tester),
            // Two containers: the leaf first, then its gateway; the leaf reaches the
            // router, and through it the router's other subnet.
            ("runtime-router", &router_ns),
            // The node's NIC, cabled to a LAN host (the node's namespace stands in for
            // it) that routes the containers' subnet back through the router.
            ("nic", "ip link add uplink0 type veth peer name lanpeer && ip link set lanpeer up \
                     && ip address add 198.19.46.1/24 dev lanpeer"),
            ("start-leaf", "$AGENT start"),
            ("start-router", "OCF_RESKEY_ct=router $AGENT start"),
            ("monitor-router", "OCF_RESKEY_ct=router $AGENT monitor"),
            ("ping-router", "ip netns exec leaf ping -c1 -W2 198.18.199.1"),
            ("ping-through", "ip netns exec leaf ping -c1 -W2 198.19.1.1"),
            ("lan-route", "ip route add 198.18.199.0/24 via 198.19.46.200"),
            ("ping-lan", "ip netns exec leaf ping -c1 -W2 198.19.46.1"),
            ("nic-inside", "ip -n router -br address show eth2"),
            ("stop-router", "OCF_RESKEY_ct=router $AGENT stop"),
            ("leaf-stays-up", "$AGENT monitor"),
            ("nic-back", "ip -br link show uplink0"),
            ("stop-leaf", "$AGENT stop"),
            ("left-behind", "ip -o link show | grep -v -e ' lo:' -e ' br0:' -e ' br1:' -e ' uplink0@' -e ' lanpeer@'"),
            // A fresh node, both containers started at once (Pacemaker starts
            // independent resources in parallel): both create the node's bridges unless
            // vnet serializes them.
            ("fresh-node", "ip link del br0 && ip link del br1"),
            ("parallel-start", PARALLEL),
            ("parallel-leaf", "$AGENT monitor"),
            ("parallel-router", "OCF_RESKEY_ct=router $AGENT monitor"),
        ],
    );
        code(&results, "meta-data-valid", 0);
        let names = code(&results, "meta-data-names", 0);
        let mut lines = names.lines();
        assert_eq!(
            lines.next(),
            Some("topology ct node vnet sandbox prefix"),
            "{names}"
        );
        let actions = lines.next().unwrap_or_default();
        for a in ["start", "stop", "monitor", "meta-data", "validate-all"] {
            assert!(actions.split(' ').any(|x| x == a), "{a} in {actions}");
        }
        code(&results, "validate-missing-topology", 6);
        code(&results, "validate-missing-ct", 6);
        code(&results, "validate-absent-file", 5);
        code(&results, "validate-invalid-topology", 6);
        code(&results, "validate-unknown-ct", 6);
        code(&results, "validate-dash-ct", 2);
        code(&results, "validate-bad-sandbox", 6);
        code(&results, "validate-unknown-node", 2);
        code(&results, "probe-unknown-node", 7);
        code(&results, "validate-no-vnet", 5);
        code(&results, "unknown-action", 3);

        code(&results, "validate", 0);
        code(&results, "probe", 7);
        // The container's runtime has not made its namespace: nothing to cable.
        let out = code(&results, "start-no-namespace", 1);
        assert!(out.contains("/run/netns/leaf"), "{out}");
        code(&results, "runtime-leaf", 0);
        // The container runs, its network does not: cleanly stopped.
        code(&results, "probe-namespace-only", 7);
        code(&results, "start-1", 0);
        code(&results, "start-2", 0);
        code(&results, "monitor-up", 0);
        let status: serde_json::Value =
            serde_json::from_str(code(&results, "status-json", 0)).expect("status JSON");
        assert_eq!(status["state"], "up", "{status}");
        assert_eq!(status["node"], "m1", "{status}");
        // The node's own namespace: its bridges and the leaf's host end, not the router's.
        let up = code(&results, "node-links-up", 0);
        assert!(up.contains(" br0:") && up.contains(" br1:"), "{up}");
        assert!(up.contains("veth202.0@"), "{up}");
        assert!(!up.contains("veth201."), "{up}");
        code(&results, "break", 0);
        code(&results, "monitor-broken", 1);
        code(&results, "stop-1", 0);
        code(&results, "stop-2", 0);
        code(&results, "monitor-down", 7);
        // The namespace is the runtime's and stays; the cables are gone from both sides.
        let leaf = code(&results, "leaf-links-down", 0);
        assert_eq!(leaf.lines().count(), 1, "only lo left in leaf: {leaf}");
        let down = code(&results, "node-links-down", 0);
        assert!(!down.contains("veth202."), "{down}");
        code(&results, "stop-unconfigured", 0);
        code(&results, "probe-m3", 7);
        code(&results, "start-m3", 2);
        code(&results, "ocf-tester", 0);

        code(&results, "runtime-router", 0);
        code(&results, "nic", 0);
        code(&results, "start-leaf", 0);
        code(&results, "start-router", 0);
        code(&results, "monitor-router", 0);
        code(&results, "ping-router", 0);
        code(&results, "ping-through", 0);
        code(&results, "lan-route", 0);
        code(&results, "ping-lan", 0);
        let nic = code(&results, "nic-inside", 0);
        assert!(nic.contains("198.19.46.200/24"), "{nic}");
        code(&results, "stop-router", 0);
        code(&results, "leaf-stays-up", 0);
        // The NIC is back in the node's namespace under its own name.
        code(&results, "nic-back", 0);
        code(&results, "stop-leaf", 0);
        // grep finds nothing: only lo, the shared bridges and the NIC (with the test's LAN
        // end) are left on the node.
        code(&results, "left-behind", 1);
        code(&results, "fresh-node", 0);
        let both = code(&results, "parallel-start", 0);
        assert!(both.contains("leaf 0 router 0"), "{both}");
        code(&results, "parallel-leaf", 0);
        code(&results, "parallel-router", 0);
    });
}

#[test]
fn ocf_agent_in_the_sandbox() {
    isolated("ocf::ocf_agent_in_the_sandbox", || {
        let tester = ocf_tester(
            "-o topology=\"$OCF_RESKEY_topology\" -o ct=mail -o node=m1 -o sandbox=true \
         -o prefix=ocft -o vnet=\"$OCF_RESKEY_vnet\"",
        );
        let results = session(
            &[
                ("OCF_RESKEY_topology", seed().display().to_string()),
                ("OCF_RESKEY_ct", "mail".into()),
                ("OCF_RESKEY_node", "m1".into()),
                ("OCF_RESKEY_sandbox", "true".into()),
                ("OCF_RESKEY_prefix", "ocft".into()),
            ],
            &[
                (
                    "validate-bad-prefix",
                    "OCF_RESKEY_prefix='a b' $AGENT validate-all",
                ),
                ("validate", "$AGENT validate-all"),
                ("probe", "$AGENT monitor"),
                // Without the sandbox's node there is nowhere to start.
                ("start-no-node", "$AGENT start"),
                (
                    "apply",
                    "$OCF_RESKEY_vnet apply $OCF_RESKEY_topology --sandbox --prefix ocft",
                ),
                ("monitor-applied", "$AGENT monitor"),
                ("stop-1", "$AGENT stop"),
                ("stop-2", "$AGENT stop"),
                ("monitor-down", "$AGENT monitor"),
                ("netns-down", "test ! -e /run/netns/ocft-mail"),
                ("others-stay", "test -e /run/netns/ocft-dbms"),
                ("start-1", "$AGENT start"),
                ("start-2", "$AGENT start"),
                ("monitor-up", "$AGENT monitor"),
                ("break", "ip -n ocft-mail address flush dev eth0"),
                ("monitor-broken", "$AGENT monitor"),
                ("start-repairs", "$AGENT start"),
                ("monitor-repaired", "$AGENT monitor"),
                ("ocf-tester", &tester),
                (
                    "destroy",
                    "$OCF_RESKEY_vnet destroy $OCF_RESKEY_topology --sandbox --prefix ocft",
                ),
                ("left-behind", "ls /run/netns | grep ."),
            ],
        );
        code(&results, "validate-bad-prefix", 2);
        code(&results, "validate", 0);
        code(&results, "probe", 7);
        code(&results, "start-no-node", 1);
        code(&results, "apply", 0);
        code(&results, "monitor-applied", 0);
        code(&results, "stop-1", 0);
        code(&results, "stop-2", 0);
        code(&results, "monitor-down", 7);
        code(&results, "netns-down", 0);
        code(&results, "others-stay", 0);
        code(&results, "start-1", 0);
        code(&results, "start-2", 0);
        code(&results, "monitor-up", 0);
        code(&results, "break", 0);
        code(&results, "monitor-broken", 1);
        code(&results, "start-repairs", 0);
        code(&results, "monitor-repaired", 0);
        code(&results, "ocf-tester", 0);
        code(&results, "destroy", 0);
        // grep finds nothing: every namespace is gone.
        code(&results, "left-behind", 1);
    });
}
