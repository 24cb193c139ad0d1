//! Kernel test of the router as firewall (`examples/firewall.toml`): the plan run by the
//! shell executor loads the tables, the traffic they allow passes (ICMP out through NAT,
//! TCP 25 in through the port forward, TCP 5432 from mail to dbms) and the traffic they
//! drop does not (ICMP from the LAN, TCP 5432 from the LAN or the router), and the rendered `iproute2` script (heredocs into `nft -f -`) loads
//! the very same tables.
//!
//! In private namespaces of its own ([`vnet_testkit::isolated`]); as root it runs,
//! without root it fails when `CI` is set and says why it skips otherwise.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use vnet_backend_shell::exec::execute;
use vnet_backend_shell::iproute2::{plan_commands, render_iproute2, sandbox_names};
use vnet_core::plan::{compile, teardown, Scope};
use vnet_testkit::{differences, example, isolated, namespaces, network_state, ping, run};

/// vnet's table in the router and in dbms, as nft lists it.
fn tables() -> Vec<String> {
    ["vnet-router", "vnet-dbms"]
        .iter()
        .map(|ns| {
            run(&[
                "ip", "netns", "exec", ns, "nft", "list", "table", "inet", "vnet",
            ])
        })
        .collect()
}

/// Whether a TCP client in `from` connecting to `to`:`port` reads the greeting of a
/// listener on `listen_port` in `listen_ns` (busybox `nc` on both sides; the client
/// gives up after two seconds, as a dropped SYN makes it).
fn tcp_answers(listen_ns: &str, listen_port: &str, from: &str, to: &str, port: &str) -> bool {
    let mut listener = Command::new("ip")
        .args([
            "netns",
            "exec",
            listen_ns,
            "busybox",
            "nc",
            "-l",
            "-p",
            listen_port,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("busybox nc listens");
    if let Some(mut input) = listener.stdin.take() {
        let _ = input.write_all(b"vnet\n");
    }
    std::thread::sleep(Duration::from_millis(300));
    let client = Command::new("ip")
        .args(["netns", "exec", from, "busybox", "nc", "-w", "2", to, port])
        .stdin(Stdio::null())
        .output()
        .expect("busybox nc connects");
    let _ = listener.kill();
    let _ = listener.wait();
    String::from_utf8_lossy(&client.stdout).contains("vnet")
}

#[test]
fn the_firewall_example_filters_both_ways_and_its_script_loads_the_same_tables() {
    isolated(
        "the_firewall_example_filters_both_ways_and_its_script_loads_the_same_tables",
        || {
            let valid = example("firewall.toml");
            let plan = compile(&valid, &Scope::Sandbox);
            let names = sandbox_names("vnet");
            execute(&plan_commands(&plan, &names), None).unwrap();

            let by_executor = tables();
            let router = &by_executor[0];
            for rule in [
                "ip saddr 192.168.199.0/24 oifname \"eth1\" masquerade",
                "ip daddr 192.168.46.200 tcp dport 25 dnat ip to 192.168.199.2:25",
                "ip daddr 192.168.46.200 tcp dport 587 dnat ip to 192.168.199.2:587",
                "policy drop;",
                "ct status dnat accept",
            ] {
                assert!(router.contains(rule), "{rule} missing from\n{router}");
            }
            assert!(
                by_executor[1].contains("ip saddr 192.168.199.2 tcp dport 5432 accept"),
                "{}",
                by_executor[1]
            );
            // Allowed: mail out to the LAN, masqueraded behind the router.
            assert!(
                ping("vnet-mail", "192.168.46.1"),
                "mail cannot reach the LAN"
            );
            // Dropped: the LAN into the containers (no forward for ICMP), and anything
            // but TCP 5432 from mail into dbms.
            assert!(
                !ping("vnet-gw46", "192.168.199.2"),
                "the LAN pings mail through the router"
            );
            assert!(
                !ping("vnet-mail", "192.168.199.3"),
                "mail pings dbms, whose input policy drops it"
            );
            // TCP: SMTP from the LAN reaches mail through the router's forward;
            // PostgreSQL from the LAN reaches no one, from mail it reaches dbms.
            assert!(
                tcp_answers("vnet-mail", "25", "vnet-gw46", "192.168.46.200", "25"),
                "SMTP from the LAN does not reach mail through the forward"
            );
            assert!(
                !tcp_answers("vnet-dbms", "5432", "vnet-gw46", "192.168.199.3", "5432"),
                "the LAN reaches dbms"
            );
            assert!(
                !tcp_answers("vnet-dbms", "5432", "vnet-router", "192.168.199.3", "5432"),
                "the router reaches dbms"
            );
            assert!(
                tcp_answers("vnet-dbms", "5432", "vnet-mail", "192.168.199.3", "5432"),
                "mail does not reach dbms"
            );
            let state = network_state();
            // Without the tables the LAN does reach dbms: the drops above are theirs.
            for ns in ["vnet-router", "vnet-dbms"] {
                run(&["ip", "netns", "exec", ns, "nft", "flush", "ruleset"]);
            }
            assert!(
                tcp_answers("vnet-dbms", "5432", "vnet-gw46", "192.168.199.3", "5432"),
                "the LAN does not reach dbms even without the tables"
            );

            let down = teardown(&valid, &Scope::Sandbox);
            execute(&plan_commands(&down, &names), None).unwrap();
            assert!(namespaces().is_empty(), "teardown left {:?}", namespaces());

            let script = render_iproute2(&plan, &names).unwrap();
            assert!(script.contains("nft -f - <<'VNET_NFT'"), "{script}");
            let path =
                std::env::temp_dir().join(format!("vnet-firewall-{}.sh", std::process::id()));
            std::fs::write(&path, script).unwrap();
            let out = Command::new("/bin/sh").arg(&path).output().unwrap();
            let _ = std::fs::remove_file(&path);
            assert!(
                out.status.success(),
                "script failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(tables(), by_executor);
            let diffs = differences(&network_state(), &state);
            assert!(
                diffs.is_empty(),
                "script (first) and executor (second) built different states:\n{}",
                diffs.join("\n")
            );
            execute(&plan_commands(&down, &names), None).unwrap();
        },
    );
}
