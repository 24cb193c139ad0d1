//! Lifecycle test of the OCF resource agent `vnet-backend-shell/ocf/vnet-ct`, driven the
//! way Pacemaker drives it: `meta-data` is well-formed XML, `validate-all` rejects a
//! missing or invalid configuration with OCF's codes, `start` twice then `monitor` is 0,
//! `stop` twice then `monitor` is 7. The agent calls the real `vnet` binary of this
//! build; everything runs in one `unshare --net --mount --propagation private` with its
//! own tmpfs on `/run/netns`, so the sandbox the agent builds never touches the machine.
//! When Debian's `ocf-tester` is installed it runs the agent too.
//!
//! Needs root; without it the test prints SKIPPED, and fails when `CI` is set.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::can_run;

const VNET: &str = env!("CARGO_BIN_EXE_vnet");

fn agent() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vnet-backend-shell/ocf/vnet-ct")
}

fn seed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/seed.toml")
}

/// Runs `steps` (name, shell command using `$AGENT`) in one private session with the
/// agent's parameters exported, and returns each step's exit code and output.
fn session(steps: &[(&str, &str)]) -> BTreeMap<String, (i32, String)> {
    let mut script = String::from(
        "set -u\nmkdir -p /run/netns && mount -t tmpfs vnet-ocf-test /run/netns || exit 99\n",
    );
    for (name, cmd) in steps {
        script.push_str(&format!(
            "out=$( {{ {cmd} ; }} 2>&1 ); rc=$?\nprintf '@@%s %s\\n%s\\n' '{name}' \"$rc\" \"$out\"\n"
        ));
    }
    let out = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "sh", "-c"])
        .arg(&script)
        .env("AGENT", agent())
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESKEY_vnet", VNET)
        .env("OCF_RESKEY_topology", seed())
        .env("OCF_RESKEY_ct", "mail")
        .env("OCF_RESKEY_prefix", "ocft")
        .stdin(Stdio::null())
        .output()
        .expect("run unshare");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "session failed: {}\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut results = BTreeMap::new();
    let mut current: Option<(String, i32, String)> = None;
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("@@") {
            if let Some((n, c, o)) = current.take() {
                results.insert(n, (c, o));
            }
            let (name, code) = head.split_once(' ').expect("step header");
            current = Some((
                name.to_string(),
                code.parse().expect("exit code"),
                String::new(),
            ));
        } else if let Some((_, _, o)) = current.as_mut() {
            o.push_str(line);
            o.push('\n');
        }
    }
    if let Some((n, c, o)) = current {
        results.insert(n, (c, o));
    }
    results
}

fn code(results: &BTreeMap<String, (i32, String)>, step: &str, want: i32) {
    let (got, out) = results
        .get(step)
        .unwrap_or_else(|| panic!("step {step} did not run: {results:?}"));
    assert_eq!(
        *got, want,
        "{step}: exit {got}, expected {want}; output:\n{out}"
    );
}

#[test]
fn ocf_agent_lifecycle() {
    if !can_run("ocf_agent_lifecycle") {
        return;
    }
    let results = session(&[
        (
            "meta-data-xml",
            "$AGENT meta-data | python3 -c 'import xml.dom.minidom,sys; d=xml.dom.minidom.parse(sys.stdin); \
             names=[p.getAttribute(\"name\") for p in d.getElementsByTagName(\"parameter\")]; \
             acts=[a.getAttribute(\"name\") for a in d.getElementsByTagName(\"action\")]; \
             assert names==[\"topology\",\"ct\",\"node\",\"vnet\",\"prefix\"], names; \
             assert set(acts)>={\"start\",\"stop\",\"monitor\",\"meta-data\",\"validate-all\"}, acts'",
        ),
        ("validate-missing-topology", "OCF_RESKEY_topology= $AGENT validate-all"),
        ("validate-missing-ct", "OCF_RESKEY_ct= $AGENT validate-all"),
        ("validate-absent-file", "OCF_RESKEY_topology=/nonexistent/vnet.toml $AGENT validate-all"),
        (
            "validate-invalid-topology",
            "printf 'name = \"x\"\\n[[ct]]\\nid = 1\\n' > /run/netns/bad.toml && \
             OCF_RESKEY_topology=/run/netns/bad.toml $AGENT validate-all",
        ),
        ("validate-unknown-ct", "OCF_RESKEY_ct=nosuchct $AGENT validate-all"),
        ("validate-bad-prefix", "OCF_RESKEY_prefix='a b' $AGENT validate-all"),
        ("validate-no-vnet", "OCF_RESKEY_vnet=/nonexistent/vnet $AGENT validate-all"),
        ("unknown-action", "$AGENT migrate_to"),
        ("validate", "$AGENT validate-all"),
        ("probe", "$AGENT monitor"),
        ("start-1", "$AGENT start"),
        ("start-2", "$AGENT start"),
        ("monitor-up", "$AGENT monitor"),
        ("netns-up", "test -e /run/netns/ocft-mail"),
        // Drift (the container's address gone) is a failure, not "stopped".
        ("break", "ip -n ocft-mail address flush dev eth0"),
        ("monitor-broken", "$AGENT monitor"),
        ("start-repairs", "$AGENT start"),
        ("monitor-repaired", "$AGENT monitor"),
        ("stop-1", "$AGENT stop"),
        ("stop-2", "$AGENT stop"),
        ("monitor-down", "$AGENT monitor"),
        ("netns-down", "test ! -e /run/netns/ocft-mail"),
        ("stop-unconfigured", "OCF_RESKEY_topology=/nonexistent/vnet.toml $AGENT stop"),
        (
            "ocf-tester",
            "if command -v ocf-tester >/dev/null; then \
               ocf-tester -n vnet-mail -o topology=\"$OCF_RESKEY_topology\" -o ct=mail \
                 -o prefix=ocft -o vnet=\"$OCF_RESKEY_vnet\" \"$AGENT\"; \
             else echo 'ocf-tester not installed (resource-agents): manual calls only'; fi",
        ),
        ("left-behind", "ls /run/netns | grep -v bad.toml | grep ."),
    ]);
    code(&results, "meta-data-xml", 0);
    code(&results, "validate-missing-topology", 6);
    code(&results, "validate-missing-ct", 6);
    code(&results, "validate-absent-file", 5);
    code(&results, "validate-invalid-topology", 6);
    code(&results, "validate-unknown-ct", 6);
    code(&results, "validate-bad-prefix", 2);
    code(&results, "validate-no-vnet", 5);
    code(&results, "unknown-action", 3);
    code(&results, "validate", 0);
    code(&results, "probe", 7);
    code(&results, "start-1", 0);
    code(&results, "start-2", 0);
    code(&results, "monitor-up", 0);
    code(&results, "netns-up", 0);
    code(&results, "break", 0);
    code(&results, "monitor-broken", 1);
    code(&results, "start-repairs", 0);
    code(&results, "monitor-repaired", 0);
    code(&results, "stop-1", 0);
    code(&results, "stop-2", 0);
    code(&results, "monitor-down", 7);
    code(&results, "netns-down", 0);
    code(&results, "stop-unconfigured", 0);
    code(&results, "ocf-tester", 0);
    // grep finds nothing: every namespace the agent made is gone.
    code(&results, "left-behind", 1);
}
