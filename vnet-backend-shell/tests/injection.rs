//! The injection corpus: hostile names, hostnames, templates and configs.
//!
//! For every payload in every field, (1) validation rejects the topology, and (2) when
//! validation is bypassed ([`Model::unchecked`]), the rendered `vzctl` script is still
//! harmless: `sh -n` accepts it, and running it with a PATH of fake `vzctl`, `ip` and
//! `brctl` (which record their argv; the fake `vzctl exec` also re-reads its arguments
//! the way the container's shell would) shows each command receives exactly the argv the
//! renderer meant, the payload arrives as literal text, and nothing else runs (the
//! payloads call `pwned` and `reboot`, fakes that would record it). The vznet hook and
//! the persistence tree are checked the same way.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use vnet_backend_shell::persist::{render_persist, Layer, HOOK_PATH};
use vnet_backend_shell::tree::write_tree;
use vnet_backend_shell::vzctl::{vzctl_script, VzctlOptions};
use vnet_backend_shell::{quote, Model};
use vnet_core::model::Topology;
use vnet_core::{Document, Format, Rule};

const PAYLOADS: &[&str] = &[
    "$(pwned)",
    "`pwned`",
    ";pwned",
    "a;pwned",
    "a && pwned",
    "a || pwned",
    "a|pwned",
    "a&pwned",
    "a & pwned &",
    "a\npwned",
    "a\rpwned",
    "\npwned\n",
    "a'pwned'",
    "a'$(pwned)'",
    "'; pwned; '",
    "\"; pwned; \"",
    "a\"$(pwned)\"",
    "\\$(pwned)",
    "$((1+1))",
    "${PATH}",
    "$PATH",
    "$0",
    "$@",
    "-rf",
    "--help",
    "-",
    "--",
    "-x;pwned",
    "../etc",
    "../../../../tmp/x",
    "/etc/passwd",
    "a/b",
    "*",
    "?",
    "[a-z]",
    "~",
    "~root",
    "#pwned",
    "a #pwned",
    "a>x",
    ">x",
    "<x",
    "a<<EOF",
    "2>&1",
    "$(reboot)",
    "`reboot`",
    "a;reboot",
    "x\treboot",
    "é",
    "日本語",
    "a b",
    "",
    " ",
    "=",
    "a=b",
    "{a,b}",
    "!pwned",
    "a\\",
    "'",
    "\"",
    "\\",
    "a,b,c",
    "a:b",
    "$'\\x41'",
];

fn seed_like() -> Topology {
    let text = r#"
name = "inj"
[[node]]
name = "m1"
[[bridge]]
name = "br0"
[[subnet]]
cidr = "198.18.0.0/24"
bridge = "br0"
[[ct]]
id = 101
name = "router"
hostname = "router.example.org"
ostemplate = "altlinux-sisyphus"
config = "vps.basic"
onboot = true
forward = { ipv4 = true }
[[ct.veth]]
name = "eth0"
host_name = "veth1"
bridge = "br0"
addresses = ["198.18.0.1/24"]
[[ct.nat]]
source = "198.18.0.0/24"
out = "eth0"
[[ct]]
id = 102
name = "mail"
[[ct.veth]]
name = "eth0"
host_name = "veth2"
bridge = "br0"
addresses = ["198.18.0.2/24"]
[[ct.route]]
to = "198.19.0.0/16"
via = "198.18.0.1"
"#;
    Document::parse(text, Format::Toml).unwrap().topology
}

/// The fields a payload goes into, and whether the payload then stands alone as one
/// argument of some command (else it is part of one, as in `--veth_add a,b,c,d`).
const FIELDS: &[(&str, bool)] = &[
    ("ct.name", true),
    ("ct.hostname", true),
    ("ct.ostemplate", true),
    ("ct.config", true),
    ("veth.name", false),
    ("veth.host_name", true),
    ("bridge.name", true),
    ("nat.out", false),
    ("topology.name", false),
];

fn inject(field: &str, payload: &str) -> Topology {
    let mut t = seed_like();
    let p = payload.to_string();
    match field {
        "ct.name" => t.ct[0].name = p,
        "ct.hostname" => t.ct[0].hostname = Some(p),
        "ct.ostemplate" => t.ct[0].ostemplate = Some(p),
        "ct.config" => t.ct[0].config = Some(p),
        "veth.name" => t.ct[1].veth[0].name = p,
        "veth.host_name" => t.ct[1].veth[0].host_name = Some(p),
        "bridge.name" => {
            t.bridge[0].name = p.clone();
            t.subnet[0].bridge = Some(p.clone());
            for ct in &mut t.ct {
                ct.veth[0].bridge = Some(p.clone());
            }
        }
        "nat.out" => t.ct[0].nat[0].out = p,
        "topology.name" => t.name = p,
        other => panic!("unknown field {other}"),
    }
    t
}

struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("vnet-inj-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bin")).unwrap();
        let record = "#!/bin/sh\n\
            n=0\n\
            while [ -e \"$VNET_LOG/$$.$n\" ]; do n=$((n+1)); done\n\
            printf '%s\\0' \"${0##*/}\" \"$@\" > \"$VNET_LOG/$$.$n\"\n";
        for tool in ["ip", "brctl", "pwned", "reboot"] {
            write_exe(&dir.join("bin").join(tool), record);
        }
        // vzctl exec joins its arguments with spaces and runs them with the container's
        // shell; the fake does the same with eval and records what that shell would run
        // (and what `nft -f -` would read).
        let vzctl = format!(
            "{record}if [ \"$1\" = exec ]; then\n\
             shift 2\n\
             eval \"set -- $*\"\n\
             printf '%s\\0' ct \"$@\" > \"$VNET_LOG/$$.ct\"\n\
             if [ \"$1\" = nft ]; then while IFS= read -r l; do printf '%s\\n' \"$l\"; done > \"$VNET_LOG/$$.stdin\"; fi\n\
             fi\n"
        );
        write_exe(&dir.join("bin/vzctl"), &vzctl);
        Sandbox { dir }
    }

    /// Runs `script` with only the fakes on PATH; returns what each process recorded,
    /// keyed by file name (`<pid>.<n>`, `<pid>.ct`).
    fn run(&self, script: &str, args: &[&str]) -> Result<BTreeMap<String, Vec<String>>, String> {
        let log = self.dir.join("log");
        let _ = fs::remove_dir_all(&log);
        fs::create_dir_all(&log).unwrap();
        let path = self.dir.join("script.sh");
        fs::write(&path, script).unwrap();
        let out = Command::new("/bin/sh")
            .arg(&path)
            .args(args)
            .env_clear()
            .env("PATH", self.dir.join("bin"))
            .env("VNET_LOG", &log)
            .current_dir(&self.dir)
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let mut rec = BTreeMap::new();
        for e in fs::read_dir(&log).unwrap() {
            let e = e.unwrap();
            let bytes = fs::read(e.path()).unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".stdin") {
                rec.insert(name, vec![String::from_utf8(bytes).unwrap()]);
                continue;
            }
            let args: Vec<String> = bytes
                .split(|b| *b == 0)
                .map(|s| String::from_utf8(s.to_vec()).unwrap())
                .collect();
            // printf '%s\0' ends every argument with NUL: drop the empty tail.
            rec.insert(name, args[..args.len() - 1].to_vec());
        }
        Ok(rec)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn sh_n(script: &str) -> bool {
    let mut child = Command::new("/bin/sh")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

#[test]
fn the_corpus_is_large_enough() {
    assert!(PAYLOADS.len() >= 50, "{} payloads", PAYLOADS.len());
}

#[test]
fn validation_rejects_every_payload() {
    let rules = [
        Rule::NameInvalid,
        Rule::TextInvalid,
        Rule::NameTooLong,
        Rule::NameReserved,
    ];
    let mut accepted = Vec::new();
    for (field, _) in FIELDS {
        for p in PAYLOADS {
            match vnet_core::validate(inject(field, p)) {
                Ok(_) => accepted.push(format!("{field} = {p:?}")),
                // `nat.out` names an interface: a reference rule rejects it first.
                Err(_) if *field == "nat.out" => {}
                Err(d) => {
                    if !d.0.iter().any(|d| rules.contains(&d.rule)) {
                        accepted.push(format!(
                            "{field} = {p:?} rejected by other rules only: {:?}",
                            d.0.iter().map(|d| d.rule).collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
    }
    assert!(accepted.is_empty(), "accepted:\n{}", accepted.join("\n"));
}

#[test]
fn unvalidated_scripts_stay_harmless() {
    let sb = Sandbox::new("script");
    let mut failures = Vec::new();
    for (field, standalone) in FIELDS {
        for p in PAYLOADS {
            let t = inject(field, p);
            let model = Model::unchecked(&t);
            let case = format!("{field} = {p:?}");
            let script = match vzctl_script(&model, "m1", &VzctlOptions::default()) {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!("{case}: render failed: {e}"));
                    continue;
                }
            };
            let text = script.text().to_string();
            if !sh_n(&text) {
                failures.push(format!("{case}: sh -n rejects the script"));
                continue;
            }
            let rec = match sb.run(&text, &[]) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{case}: script failed: {e}"));
                    continue;
                }
            };
            // An interface name reaches nft inside a quoted string, which cannot hold a
            // quote: the ruleset drops them (the name is one word either way).
            let arrives = match *field {
                "nat.out" => p.replace('"', ""),
                _ => p.to_string(),
            };
            if let Err(e) = check_records(&rec, script.commands(), &arrives, *standalone) {
                failures.push(format!("{case}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Host-level records equal the script's argv list (as multisets); each container-level
/// record re-quotes to its `vzctl exec` arguments; no `pwned`/`reboot` ran; the payload
/// arrived literally.
fn check_records(
    rec: &BTreeMap<String, Vec<String>>,
    planned: &[Vec<String>],
    payload: &str,
    standalone: bool,
) -> Result<(), String> {
    let mut host: Vec<Vec<String>> = rec
        .iter()
        .filter(|(k, _)| !k.ends_with(".ct") && !k.ends_with(".stdin"))
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(bad) = host.iter().find(|a| a[0] == "pwned" || a[0] == "reboot") {
        return Err(format!("payload ran a command: {bad:?}"));
    }
    let mut want = planned.to_vec();
    host.sort();
    want.sort();
    if host != want {
        return Err(format!(
            "commands differ:\n ran:     {host:?}\n planned: {want:?}"
        ));
    }
    for (k, ct) in rec.iter().filter(|(k, _)| k.ends_with(".ct")) {
        let pid = k.trim_end_matches(".ct");
        let outer = &rec[&format!("{pid}.0")];
        let requoted: Vec<String> = ct[1..].iter().map(|a| quote(a).into_owned()).collect();
        if requoted != outer[3..] {
            return Err(format!("container shell saw {ct:?} for {outer:?}"));
        }
    }
    if payload.is_empty() {
        return Ok(());
    }
    let args = rec
        .iter()
        .filter(|(k, _)| !k.ends_with(".stdin"))
        .flat_map(|(_, v)| v.iter());
    // What nft read from its heredoc holds a name inside the ruleset's text.
    let read = rec
        .iter()
        .filter(|(k, _)| k.ends_with(".stdin"))
        .flat_map(|(_, v)| v.iter());
    let found = if standalone {
        args.clone().any(|a| a == payload)
    } else {
        args.clone().chain(read).any(|a| a.contains(payload))
    };
    if !found {
        return Err("payload not found as a literal argument".to_string());
    }
    Ok(())
}

#[test]
fn the_hook_puts_any_host_end_literally_into_its_bridge() {
    let sb = Sandbox::new("hook");
    let mut failures = Vec::new();
    for p in PAYLOADS.iter().filter(|p| !p.is_empty()) {
        for field in ["veth.host_name", "bridge.name"] {
            let t = inject(field, p);
            let tree = render_persist(&Model::unchecked(&t), "m1", &[Layer::Vz]);
            let hook = &tree
                .files
                .iter()
                .find(|f| f.path == HOOK_PATH)
                .unwrap()
                .contents;
            let case = format!("{field} = {p:?}");
            if !sh_n(hook) {
                failures.push(format!("{case}: sh -n rejects the hook"));
                continue;
            }
            let (dev, bridge) = match field {
                "veth.host_name" => (*p, "br0"),
                _ => ("veth2", *p),
            };
            match sb.run(hook, &["init", "veth", dev]) {
                Ok(rec) => {
                    let mut calls: Vec<&Vec<String>> = rec.values().collect();
                    calls.sort();
                    let master = calls
                        .iter()
                        .any(|c| c[1..] == ["link", "set", "dev", dev, "master", bridge]);
                    if calls.len() != 3 || !master || calls.iter().any(|c| c[0] != "ip") {
                        failures.push(format!("{case}: hook ran {calls:?}"));
                    }
                }
                Err(e) => failures.push(format!("{case}: hook failed: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unvalidated_trees_never_leave_their_root() {
    // A memory file system when there is one: the writer syncs every file.
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let base = tmp.join(format!("vnet-inj-tree-{}", std::process::id()));
    for (field, _) in FIELDS {
        for p in PAYLOADS {
            let _ = fs::remove_dir_all(&base);
            let root = base.join("root");
            fs::create_dir_all(&root).unwrap();
            let t = inject(field, p);
            let tree = render_persist(&Model::unchecked(&t), "m1", &Layer::ALL);
            // Refusing a path is fine; writing outside the root is not.
            let _ = write_tree(&root, &tree);
            let outside: Vec<_> = fs::read_dir(&base)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(
                outside,
                vec![std::ffi::OsString::from("root")],
                "{field} = {p:?}"
            );
            // Files that shells read (vz conf, etcnet options, the hook) and hold the payload.
            for f in tree
                .files
                .iter()
                .filter(|f| !p.is_empty() && f.contents.contains(p))
            {
                if f.path.ends_with(".conf") || f.path.ends_with("options") || f.path == HOOK_PATH {
                    assert!(
                        sh_n(&f.contents),
                        "{field} = {p:?}: {} is not valid sh",
                        f.path
                    );
                }
            }
        }
    }
    let _ = fs::remove_dir_all(&base);
}
