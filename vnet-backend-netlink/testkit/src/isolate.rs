//! The private namespaces every kernel test runs in: the test binary re-executes the one
//! test under `unshare --net --mount --propagation private`; the child checks that its
//! network namespace is fresh (nothing but `lo`) and covers `/run` and `/run/netns` with
//! tmpfs of its own before the test's body runs. Everything the body makes dies with the
//! child.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

/// Set in the re-executed child's environment (to the test's name): the child is already
/// in its private namespaces.
pub(crate) const CHILD_ENV: &str = "VNET_TESTKIT_CHILD";

/// Runs `body` in a private network and mount namespace, with private tmpfs on `/run`
/// and `/run/netns`; programs the body starts (`vnet`, `sh`, `ip`) inherit both. `name` is
/// the test's full name as the test binary lists it (`module::test` in a binary with
/// modules), for `--exact`; a name that runs no test fails.
///
/// Without root (or without `unshare` and `ip`): fails when `CI` is set, else prints why
/// it skipped.
pub fn isolated(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        enter_private_namespaces(name);
        body();
        return;
    }
    if let Some(reason) = cannot_isolate() {
        if std::env::var_os("CI").is_some() {
            panic!("{name}: {reason}, and CI must not skip kernel tests");
        }
        eprintln!("SKIPPED: {name}: {reason}");
        return;
    }
    let exe = std::env::current_exe().expect("the test executable");
    let mut child = Command::new("unshare")
        .args(["--net", "--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unshare (util-linux)");
    // Both streams are forwarded through print!/eprint!, so the test harness shows the
    // child's output with the failing test, and stdout is read for the summary.
    let stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || forward(stderr, |l| eprintln!("{l}")));
    let mut ran = false;
    forward(child.stdout.take().expect("piped"), |line| {
        ran |= line.starts_with("test result: ok. 1 passed");
        println!("{line}");
    });
    let _ = errors.join();
    let status = child.wait().expect("wait for unshare");
    assert!(
        status.success(),
        "{name} failed in its private namespace: {status}"
    );
    assert!(
        ran,
        "{name}: the re-executed test binary ran no test of that name (use the full name, \
         `module::test`, as `--list` shows it)"
    );
}

/// Calls `each` with every line of `from`.
fn forward(from: impl Read, mut each: impl FnMut(&str)) {
    for line in BufReader::new(from).lines() {
        let Ok(line) = line else { break };
        each(&line);
    }
}

/// Why kernel tests cannot run here, if they cannot.
fn cannot_isolate() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some(
            "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create network namespaces".into(),
        );
    }
    let on_path = |program: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
    };
    ["unshare", "ip"]
        .into_iter()
        .find(|p| !on_path(p))
        .map(|p| format!("needs `{p}` on PATH (util-linux, iproute2)"))
}

/// In the child: refuses to run unless the network namespace is fresh, then mounts the
/// private tmpfs on `/run/netns` (on `/run` first where `/run/netns` cannot be made).
fn enter_private_namespaces(name: &str) {
    if let Err(why) = only_lo() {
        panic!("{name}: refusing to run: {why}");
    }
    let tmpfs = |at: &str| {
        nix::mount::mount(
            Some("vnet-test"),
            at,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap_or_else(|e| panic!("{name}: private tmpfs on {at}: {e}"))
    };
    // A private /run as a whole: what vnet keeps there besides namespace files (the
    // background announcers' records in /run/vnet) and what daemons a test starts keep
    // there stay in the test too, and nothing is left in the machine's /run.
    tmpfs("/run");
    std::fs::create_dir_all("/run/netns").expect("mkdir /run/netns on the private /run");
    tmpfs("/run/netns");
}

/// Whether the calling thread's network namespace holds nothing but `lo`, as a fresh one
/// does (read from `/proc/thread-self/net/dev`, which shows the caller's namespace).
/// The error names every other link: a test seeing them is not in a namespace of its own.
pub fn only_lo() -> Result<(), String> {
    let path = Path::new("/proc/thread-self/net/dev");
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Two header lines, then `  name: counters...` per link.
    let links: Vec<&str> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .collect();
    if links == ["lo"] {
        Ok(())
    } else {
        Err(format!(
            "the network namespace is not fresh: it holds {links:?}, not only \"lo\""
        ))
    }
}
