//! `vnet` as a Unix tool (issue 19): output into a closed pipe ends every subcommand
//! quietly, a machine that refuses `verify` is a system error, and no Rust `Debug`
//! formatting of a model or plan type reaches any output, human or JSON.
//!
//! Subcommands that need no kernel run here with stdout a pipe whose read end is already
//! closed. Those that need one run inside the private namespaces of
//! [`vnet_testkit::isolated`], where a FIFO opened for writing and then left without a reader
//! stands in for the closed pipe.

use std::path::Path;
use std::process::{Command, Stdio};

use vnet_testkit::{isolated, Outcome};

use crate::common::{code, seed_path, stderr, stdout, vnet};
use crate::kernel::{expect, run_steps};

/// An example topology by file name (`examples/NAME`).
fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
        .to_str()
        .expect("UTF-8 path")
        .to_string()
}

/// Runs `vnet args` with stdout a pipe nobody reads any more; returns the exit status
/// and stderr.
fn into_closed_pipe(args: &[&str]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_vnet"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the vnet binary runs");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Exit 0, or death by SIGPIPE, as coreutils end in a closed pipe.
fn quiet_end(status: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.code() == Some(0) || status.signal() == Some(13)
}

#[test]
fn a_closed_pipe_ends_every_command_without_the_kernel_quietly() {
    let seed = seed_path().to_str().expect("UTF-8 path").to_string();
    let runs: Vec<Vec<&str>> = vec![
        vec!["check", &seed],
        vec!["--output", "json", "check", &seed],
        vec!["plan", &seed],
        vec!["--output", "json", "plan", &seed],
        vec!["plan", &seed, "--teardown"],
        vec!["render", &seed, "--dialect", "vzctl"],
        vec!["render", &seed, "--dialect", "iproute2"],
        vec!["--output", "json", "render", &seed, "--dialect", "etcnet"],
        vec!["render", &seed, "--dialect", "networkd"],
        vec!["graph", &seed],
        vec!["graph", &seed, "--format", "mermaid"],
        vec!["man"],
        vec!["man", "check"],
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["completions", "fish"],
        vec!["--help"],
    ];
    for args in &runs {
        let (status, err) = into_closed_pipe(args);
        assert!(
            quiet_end(status),
            "vnet {args:?} into a closed pipe: {status}\nstderr:\n{err}"
        );
        assert_eq!(err, "", "vnet {args:?}: nothing on stderr");
    }
}

#[test]
fn a_closed_pipe_keeps_an_error_exit_and_says_nothing_about_the_pipe() {
    // An invalid file's JSON report goes to stdout: into a closed pipe it is dropped,
    // and `check` still answers "no" with exit 1.
    let dir = crate::common::TempDir::new("unix-invalid");
    let file = dir.write("bad.toml", "name = 5\n");
    let (status, err) = into_closed_pipe(&["--output", "json", "check", &file]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(err, "");
}

#[test]
fn a_closed_stderr_does_not_turn_a_report_into_a_panic() {
    // `vnet check bad.toml 2>&1 | head -1`: the report and the error line meet a closed
    // pipe on stderr; `check` still answers "no" (exit 1), not 101.
    let dir = crate::common::TempDir::new("unix-stderr");
    let file = dir.write("bad.toml", "name = 5\n");
    for args in [
        vec!["check", file.as_str()],
        vec!["plan", "/nonexistent/vnet.toml"],
    ] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_vnet"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(writer)
            .output()
            .expect("vnet runs");
        assert_eq!(out.status.code(), Some(1), "vnet {args:?}: {}", out.status);
    }
}

#[test]
fn a_write_error_other_than_a_closed_pipe_is_a_system_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_vnet"))
        .args(["plan", seed_path().to_str().unwrap()])
        .stdout(full)
        .output()
        .expect("vnet runs");
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot write the output") && err.contains("No space left on device"),
        "{err}"
    );
    assert_eq!(err.matches("os error").count(), 1, "errno once: {err}");
}

#[test]
fn a_dash_reads_the_topology_from_stdin_in_either_format() {
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vnet"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vnet runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let toml = std::fs::read_to_string(seed_path()).unwrap();
    let o = run(&["check", "-"], &toml);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with("<stdin>: topology `article` is valid"));
    // The same topology as JSON, as `vnet` would read it from a .json file.
    let doc = vnet_core::Document::parse(&toml, vnet_core::Format::Toml).unwrap();
    let json = vnet_core::source::to_json(&doc.topology);
    let o = run(&["plan", "-"], &json);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with("# plan for topology `article`"));
    let o = run(&["check", "-"], "name = 5\n");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("<stdin>"), "{}", stderr(&o));
}

#[test]
fn graph_man_and_completions_refuse_json_output() {
    let seed = seed_path().to_str().unwrap().to_string();
    for args in [
        vec!["--output", "json", "graph", &seed],
        vec!["--output", "json", "man"],
        vec!["--output", "json", "completions", "bash"],
    ] {
        let o = vnet(&args);
        assert_eq!(code(&o), 2, "vnet {args:?}: {}", stderr(&o));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("a JSON error");
        assert!(
            doc["error"].as_str().unwrap().contains("not JSON"),
            "{doc:#}"
        );
    }
}

#[test]
fn the_top_level_help_lists_every_exit_code_and_stdin() {
    let o = vnet(&["--help"]);
    let help = stdout(&o);
    for needle in [
        "0 success",
        "1 invalid input",
        "2 usage error",
        "3 drift",
        "4 system error",
        "7 not running",
        "`-` is read from standard input",
    ] {
        assert!(help.contains(needle), "{needle} in:\n{help}");
    }
}

/// A command run inside the private session with stdout a FIFO whose reader has gone.
fn closed(name: &str, command: &str) -> String {
    format!(
        "mkfifo \"$D/{name}.fifo\" && exec 4<>\"$D/{name}.fifo\" 5>\"$D/{name}.fifo\" 4<&- && {command} >&5"
    )
}

#[test]
fn a_closed_pipe_ends_every_kernel_command_quietly_and_the_work_is_done() {
    isolated(
        "unix::a_closed_pipe_ends_every_kernel_command_quietly_and_the_work_is_done",
        || {
            let commands = [
                ("apply", "$VNET apply $SEED --sandbox"),
                ("applied", "ls /run/netns | wc -l"),
                ("apply_json", "$VNET --output json apply $SEED --sandbox"),
                ("dry_run", "$VNET apply $SEED --sandbox --dry-run"),
                ("diff", "$VNET diff $SEED --sandbox"),
                ("diff_json", "$VNET --output json diff $SEED --sandbox"),
                ("verify", "$VNET verify $SEED --sandbox"),
                ("verify_json", "$VNET --output json verify $SEED --sandbox"),
                ("show", "$VNET show $SEED --sandbox"),
                ("show_json", "$VNET --output json show $SEED --sandbox"),
                ("status", "$VNET status mail $SEED --sandbox"),
                ("stop", "$VNET stop mail $SEED --sandbox"),
                ("start", "$VNET start mail --node m2 $SEED --sandbox"),
                ("destroy", "$VNET destroy $SEED --sandbox"),
                ("destroyed", "ls /run/netns | wc -l"),
                ("demo", "$VNET demo $SEED --prefix d"),
                ("demo_removed", "ls /run/netns | wc -l"),
                (
                    "failover",
                    "$VNET failover-test $SEED --cap-ms 3000 --max-outage-ms 3000",
                ),
            ];
            let steps: Vec<(String, String)> = commands
                .iter()
                .map(|(name, cmd)| {
                    let wrapped = if cmd.starts_with("ls ") {
                        cmd.to_string()
                    } else {
                        closed(name, cmd)
                    };
                    (name.to_string(), wrapped)
                })
                .collect();
            let borrowed: Vec<(&str, &str)> = steps
                .iter()
                .map(|(n, c)| (n.as_str(), c.as_str()))
                .collect();
            let results = run_steps(&borrowed);
            for (name, _) in &commands {
                let step = &results[*name];
                if name.ends_with("applied")
                    || name.ends_with("destroyed")
                    || name.ends_with("removed")
                {
                    continue;
                }
                assert!(
                    step.code == 0 || step.code == 141,
                    "{name}: exit {} into a closed pipe\nstderr:\n{}",
                    step.code,
                    step.stderr
                );
                assert_eq!(step.stderr, "", "{name}: nothing on stderr");
            }
            // The output was dropped, the work was not: apply built all 7 namespaces, destroy
            // removed them, and demo removed its sandbox after its reader had left.
            assert_eq!(expect(&results, "applied", 0).stdout.trim(), "7");
            assert_eq!(expect(&results, "destroyed", 0).stdout.trim(), "0");
            assert_eq!(expect(&results, "demo_removed", 0).stdout.trim(), "0");
        },
    );
}

#[test]
fn verify_refused_by_the_machine_is_a_system_error_and_an_unbuilt_sandbox_one_sentence() {
    isolated(
        "unix::verify_refused_by_the_machine_is_a_system_error_and_an_unbuilt_sandbox_one_sentence",
        || {
            let results = run_steps(&[
            ("unbuilt", "$VNET verify $SEED --sandbox --timeout 300"),
            ("apply", "$VNET apply $SEED --sandbox"),
            (
                "nobody",
                "setpriv --reuid=65534 --regid=65534 --clear-groups $VNET verify $SEED --sandbox --timeout 300",
            ),
            (
                "emfile",
                "ulimit -n 8; $VNET verify $SEED --sandbox --timeout 300",
            ),
            ("destroy", "$VNET destroy $SEED --sandbox"),
        ],
    );
            let unbuilt = expect(&results, "unbuilt", 3);
            assert_eq!(unbuilt.stdout, "", "no matrix of failed probes");
            assert_eq!(unbuilt.stderr.lines().count(), 1, "{}", unbuilt.stderr);
            assert!(
                unbuilt.stderr.contains("is not built here"),
                "{}",
                unbuilt.stderr
            );
            expect(&results, "apply", 0);
            let nobody = expect(&results, "nobody", 4);
            assert!(
                nobody.stderr.contains("cannot enter namespace") && nobody.stderr.contains("root"),
                "{}",
                nobody.stderr
            );
            assert_eq!(nobody.stdout, "");
            let emfile = expect(&results, "emfile", 4);
            assert!(
                emfile.stderr.contains("Too many open files"),
                "{}",
                emfile.stderr
            );
            assert_eq!(
                emfile.stderr.matches("Too many open files").count(),
                1,
                "the errno's text once: {}",
                emfile.stderr
            );
            expect(&results, "destroy", 0);
        },
    );
}

/// The `Debug` tells in `text`, if any: `Name {` (a struct), `V4(`, `Some(`, a quoted
/// list (`["`, also escaped inside JSON strings; not `"]`, which ends DOT attributes), an empty value (` is , `) and
/// English that Rust wrote (`1 steps`).
fn debug_tells(text: &str) -> Vec<String> {
    debug_tells_but(text, &[])
}

/// [`debug_tells`] without the tells in `allowed` (a format whose own syntax they are).
fn debug_tells_but(text: &str, allowed: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for tell in [
        "V4(",
        "V6(",
        "Some(",
        "Ipv4Network",
        "Ipv6Network",
        "[\"",
        "[\\\"",
        " is , ",
        " 1 steps",
        " 1 stages",
    ]
    .into_iter()
    .filter(|t| !allowed.contains(t))
    {
        if let Some(at) = text.find(tell) {
            found.push(context(text, at, tell));
        }
    }
    // `[A-Z][A-Za-z]+ \{`: a type name followed by its fields.
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices(" {") {
        let start = bytes[..at]
            .iter()
            .rposition(|b| !b.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        let word = &text[start..at];
        if word.len() >= 2 && word.as_bytes()[0].is_ascii_uppercase() {
            found.push(context(text, start, word));
        }
    }
    found
}

fn context(text: &str, at: usize, tell: &str) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    format!("{tell:?} in: {}", &text[line_start..line_end])
}

/// The tells in `text`, each prefixed with `what` produced it, to report every leak
/// at once.
fn leaks(what: &str, text: &str, allowed: &[&str]) -> Vec<String> {
    debug_tells_but(text, allowed)
        .into_iter()
        .map(|t| format!("{what}: {t}"))
        .collect()
}

#[test]
fn the_scanner_finds_the_tells_it_is_for() {
    for leaky in [
        "desired RouteSpec { dst: V4(Ipv4Network { addr: 1.2.3.4 }) }",
        "may run only on [\"m1\", \"m2\"]",
        "{\"desired\": \"[\\\"m1\\\"]\"}",
        "link eth0 addresses is , expected 198.18.0.1/24",
        "# plan for x: 1 steps in 1 stages",
        "state: Some(3)",
    ] {
        assert!(!debug_tells(leaky).is_empty(), "{leaky}");
    }
    for clean in [
        "digraph article {\n  \"m1\" -> \"br0\";\n}",
        "table ip vnet {",
        "  \"ct/101/eth1\" [label=\"eth1\", color=\"firebrick\"];",
        "ct mail: route 198.18.0.0/15 missing",
        "{\n  \"valid\": true,\n  \"nodes\": [\n    \"m1\"\n  ]\n}",
    ] {
        assert!(
            debug_tells(clean).is_empty(),
            "{clean}: {:?}",
            debug_tells(clean)
        );
    }
}

#[test]
fn no_debug_formatting_in_the_output_of_commands_without_the_kernel() {
    let mut found = Vec::new();
    for file in ["seed.toml", "nat-vlan.toml", "stretch.toml"] {
        let path = example(file);
        let mut runs: Vec<Vec<&str>> = vec![
            vec!["check", &path],
            vec!["plan", &path],
            vec!["plan", &path, "--teardown"],
            vec!["plan", &path, "--node", "m1"],
            vec!["plan", &path, "--node", "nowhere"],
            vec!["graph", &path],
            vec!["graph", &path, "--format", "mermaid"],
        ];
        for dialect in [
            "vzctl",
            "iproute2",
            "etcnet",
            "networkd",
            "sysctl",
            "vz",
            "pacemaker",
        ] {
            runs.push(vec!["render", &path, "--dialect", dialect]);
        }
        for args in runs {
            // Mermaid's node syntax is `id["label"]`, which is what a quoted list
            // looks like.
            let allowed: &[&str] = if args.contains(&"mermaid") {
                &["[\""]
            } else {
                &[]
            };
            for output in ["human", "json"] {
                let mut full = vec!["--output", output];
                full.extend_from_slice(&args);
                let o = vnet(&full);
                let what = format!("vnet {}", full.join(" "));
                found.extend(leaks(&what, &stdout(&o), allowed));
                found.extend(leaks(&what, &stderr(&o), allowed));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Debug formatting in the output:\n{found:#?}"
    );
}

#[test]
fn no_debug_formatting_in_the_output_of_commands_on_the_kernel() {
    isolated(
        "unix::no_debug_formatting_in_the_output_of_commands_on_the_kernel",
        || {
            let both = |name: &str, command: &str| -> Vec<(String, String)> {
                vec![
                    (format!("{name}_human"), format!("$VNET {command}")),
                    (
                        format!("{name}_json"),
                        format!("$VNET --output json {command}"),
                    ),
                ]
            };
            let mut steps: Vec<(String, String)> = Vec::new();
            // The seed: built, inspected, drifted by hand, inspected, started and stopped.
            steps.extend(both(
                "seed_unbuilt_verify",
                "verify $SEED --sandbox --timeout 300",
            ));
            steps.extend(both("seed_unbuilt_diff", "diff $SEED --sandbox"));
            steps.extend(both("seed_unbuilt_status", "status mail $SEED --sandbox"));
            steps.extend(both("seed_apply", "apply $SEED --sandbox"));
            steps.extend(both("seed_dry_run", "apply $SEED --sandbox --dry-run"));
            steps.extend(both("seed_diff", "diff $SEED --sandbox"));
            steps.extend(both("seed_verify", "verify $SEED --sandbox"));
            steps.extend(both("seed_show", "show $SEED --sandbox"));
            steps.extend(both("seed_status", "status mail $SEED --sandbox"));
            steps.push((
                "seed_drift".into(),
                "ip -n vnet-mail addr flush dev eth0 && ip -n vnet-dbms link set eth0 mtu 1400 \
         && ip -n vnet-gw46 route flush 192.168.199.0/24"
                    .into(),
            ));
            steps.extend(both("seed_drifted_diff", "diff $SEED --sandbox"));
            steps.extend(both("seed_drifted_status", "status mail $SEED --sandbox"));
            steps.extend(both(
                "seed_drifted_verify",
                "verify $SEED --sandbox --timeout 300",
            ));
            steps.extend(both("seed_repair", "apply $SEED --sandbox"));
            steps.extend(both("seed_stop", "stop mail $SEED --sandbox"));
            steps.extend(both(
                "seed_start_elsewhere",
                "start mail --node m1 $SEED --sandbox",
            ));
            steps.extend(both("seed_start", "start mail --node m2 $SEED --sandbox"));
            // Another topology over the seed's sandbox: refused, with what to do.
            steps.extend(both("stretch_conflict", "apply $STRETCH --sandbox"));
            steps.extend(both(
                "seed_destroy_dry",
                "destroy $SEED --sandbox --dry-run",
            ));
            steps.extend(both("seed_destroy", "destroy $SEED --sandbox"));
            // The stretched bridge, in its own sandbox.
            steps.extend(both("stretch_apply", "apply $STRETCH --sandbox --prefix s"));
            steps.extend(both(
                "stretch_verify",
                "verify $STRETCH --sandbox --prefix s",
            ));
            steps.extend(both("stretch_diff", "diff $STRETCH --sandbox --prefix s"));
            steps.extend(both("stretch_show", "show $STRETCH --sandbox --prefix s"));
            steps.extend(both(
                "stretch_status",
                "status db $STRETCH --sandbox --prefix s",
            ));
            steps.extend(both(
                "stretch_destroy",
                "destroy $STRETCH --sandbox --prefix s",
            ));
            // NAT and VLANs: this kernel has no 802.1Q, so the apply fails and is undone; its
            // error (and anything else it says) is scanned too.
            steps.extend(both("natvlan_apply", "apply $NATVLAN --sandbox --prefix n"));
            steps.extend(both("natvlan_diff", "diff $NATVLAN --sandbox --prefix n"));
            steps.extend(both(
                "natvlan_destroy",
                "destroy $NATVLAN --sandbox --prefix n",
            ));
            steps.extend(both("demo", "demo $SEED --prefix d"));
            steps.extend(both(
                "failover",
                "failover-test $SEED --cap-ms 3000 --max-outage-ms 3000",
            ));
            steps.push(("left".into(), "ls /run/netns | wc -l".into()));
            let steps: Vec<(String, String)> = steps
                .into_iter()
                .map(|(name, command)| {
                    let command = command
                        .replace("$STRETCH", &example("stretch.toml"))
                        .replace("$NATVLAN", &example("nat-vlan.toml"));
                    (name, command)
                })
                .collect();
            let borrowed: Vec<(&str, &str)> = steps
                .iter()
                .map(|(n, c)| (n.as_str(), c.as_str()))
                .collect();
            let results = run_steps(&borrowed);
            // The sessions did what they are for (so the scan saw real output).
            expect(&results, "seed_apply_human", 0);
            expect(&results, "seed_drifted_diff_json", 3);
            expect(&results, "stretch_conflict_human", 4);
            expect(&results, "stretch_apply_human", 0);
            expect(&results, "natvlan_apply_human", 4);
            assert_eq!(expect(&results, "left", 0).stdout.trim(), "0");
            let conflict: &Outcome = &results["stretch_conflict_human"];
            assert!(
                conflict.stderr.contains("hint:") && conflict.stderr.contains("--prefix"),
                "{}",
                conflict.stderr
            );
            let vlan = &results["natvlan_apply_human"];
            assert!(vlan.stderr.contains("modprobe 8021q"), "{}", vlan.stderr);
            let mut found = Vec::new();
            for (name, step) in &results {
                found.extend(leaks(&format!("step {name} (stdout)"), &step.stdout, &[]));
                found.extend(leaks(&format!("step {name} (stderr)"), &step.stderr, &[]));
            }
            assert!(
                found.is_empty(),
                "Debug formatting in the output:\n{found:#?}"
            );
        },
    );
}
