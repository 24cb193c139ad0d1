//! Finding a container's namespace on a real node from its `netns` (see
//! [`vnet_core::model::NetnsSource`]): a path, a pid file, or a container runtime asked
//! for the pid of the container's init, whose namespace is `/proc/PID/ns/net`.
//!
//! Asked afresh on every command (a restarted container has a new pid); vnet records
//! none of it. Inside an LXC hook, LXC's own environment is the answer ([`lxc_hook`]). The command each runtime is asked ([`lookup_argv`]) and the reading of its
//! answer ([`read_pid`]) are pure, so they are tested without the runtimes; running it
//! is [`resolve`].

use std::path::{Path, PathBuf};
use std::process::Command;

use vnet_core::model::NetnsSource;

use super::named::DEFAULT_DIR;
use super::NsLocation;

/// The argv that asks `source`'s runtime for the container's init pid; `None` for the
/// kinds that need no runtime (`name:`, `pid:`).
///
/// ```
/// use vnet_backend_netlink::ns::runtime::lookup_argv;
/// let argv = lookup_argv(&"lxc:router".parse().unwrap()).unwrap();
/// assert_eq!(argv, ["lxc-info", "-n", "router", "-pH"]);
/// ```
pub fn lookup_argv(source: &NetnsSource) -> Option<Vec<String>> {
    let words = |w: &[&str]| Some(w.iter().map(|s| s.to_string()).collect());
    match source {
        NetnsSource::Name(_) | NetnsSource::PidFile(_) => None,
        NetnsSource::Lxc(n) => words(&["lxc-info", "-n", n, "-pH"]),
        // `--` so a name is never read as an option (validation forbids a leading `-`
        // as well).
        NetnsSource::Podman(n) => words(&["podman", "inspect", "-f", "{{.State.Pid}}", "--", n]),
        NetnsSource::Docker(n) => words(&["docker", "inspect", "-f", "{{.State.Pid}}", "--", n]),
        NetnsSource::Nspawn(m) => words(&["machinectl", "show", m, "-p", "Leader", "--value"]),
        NetnsSource::Openvz(id) => words(&["vzlist", "-H", "-o", "pid", id]),
    }
}

/// The pid in a runtime's (or a pid file's) answer: one positive decimal number,
/// blanks around it allowed. Anything else is an error saying what was answered: an
/// empty answer (LXC for a stopped container), `0` (Podman and Docker for one that is
/// not running), `-` (vzlist for a stopped CT), or text.
pub fn read_pid(answer: &str) -> Result<u32, String> {
    let text = answer.trim();
    match text.parse::<u32>() {
        Ok(0) => Err("pid 0: the container is not running".into()),
        Ok(pid) => Ok(pid),
        Err(_) if text.is_empty() => Err("no pid: the container is not running".into()),
        Err(_) if text == "-" => Err("pid \"-\": the container is not running".into()),
        Err(_) => Err(format!("not a pid: {:?}", first_line(text))),
    }
}

/// At most the first line of `text`, at most 200 characters: enough of an answer to
/// name it in an error.
fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// Inside an LXC hook of container `name` (`LXC_NAME`, with `lxc.hook.version = 1`):
/// the namespace LXC hands the hook, `LXC_NET_NS` (the stop hooks: the init has ended,
/// LXC still holds its namespace) or `LXC_PID`'s (`start-host`). Asking `lxc-info`
/// there gets no pid (measured, LXC 5: the monitor that would answer is running the
/// hook). `env` reads a variable.
pub fn lxc_hook(name: &str, env: impl Fn(&str) -> Option<String>) -> Option<NsLocation> {
    if env("LXC_NAME")? != name {
        return None;
    }
    if let Some(ns) = env("LXC_NET_NS") {
        return Some(NsLocation::Path(PathBuf::from(ns)));
    }
    env("LXC_PID")?.parse().ok().map(NsLocation::Pid)
}

/// Where `source`'s namespace is now. `name:` is a path (whose absence the caller
/// treats as a namespace not there); the others become the init's pid, or an error
/// naming what the pid file or the runtime answered.
pub fn resolve(source: &NetnsSource) -> Result<NsLocation, String> {
    if let NetnsSource::Lxc(n) = source {
        if let Some(location) = lxc_hook(n, |k| std::env::var(k).ok()) {
            return Ok(location);
        }
    }
    match source {
        NetnsSource::Name(n) => Ok(NsLocation::Path(PathBuf::from(DEFAULT_DIR).join(n))),
        NetnsSource::PidFile(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read pid file {}: {e}", path.display()))?;
            // A pid file outlives its process (a container killed, not stopped): a pid
            // with no process is a container not running, not a namespace to open.
            read_pid(&text)
                .and_then(
                    |pid| match Path::new(&format!("/proc/{pid}/ns/net")).exists() {
                        true => Ok(NsLocation::Pid(pid)),
                        false => Err(format!("no process {pid}: the container is not running")),
                    },
                )
                .map_err(|e| format!("pid file {}: {e}", path.display()))
        }
        _ => {
            let argv = lookup_argv(source).expect("a runtime kind has a lookup");
            let out = Command::new(&argv[0])
                .args(&argv[1..])
                .output()
                .map_err(|e| format!("cannot run `{}`: {e}", argv.join(" ")))?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                return Err(format!(
                    "`{}` failed ({}): {}",
                    argv.join(" "),
                    out.status,
                    first_line(if stderr.trim().is_empty() {
                        &stdout
                    } else {
                        &stderr
                    })
                ));
            }
            read_pid(&stdout)
                .map(NsLocation::Pid)
                .map_err(|e| format!("`{}` answered {e}", argv.join(" ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(text: &str) -> Option<String> {
        lookup_argv(&text.parse().unwrap()).map(|a| a.join(" "))
    }

    #[test]
    fn each_runtime_is_asked_for_the_init_pid() {
        assert_eq!(argv("name:r"), None);
        assert_eq!(argv("pid:/run/r.pid"), None);
        assert_eq!(argv("lxc:r").unwrap(), "lxc-info -n r -pH");
        assert_eq!(
            argv("podman:r").unwrap(),
            "podman inspect -f {{.State.Pid}} -- r"
        );
        assert_eq!(
            argv("docker:r").unwrap(),
            "docker inspect -f {{.State.Pid}} -- r"
        );
        assert_eq!(
            argv("nspawn:r").unwrap(),
            "machinectl show r -p Leader --value"
        );
        assert_eq!(argv("openvz:101").unwrap(), "vzlist -H -o pid 101");
    }

    #[test]
    fn answers_are_a_pid_or_a_clear_error() {
        assert_eq!(read_pid("4242\n"), Ok(4242));
        assert_eq!(read_pid("  17  "), Ok(17));
        assert!(read_pid("0\n").unwrap_err().contains("not running"));
        assert!(read_pid("").unwrap_err().contains("not running"));
        assert!(read_pid("      -\n").unwrap_err().contains("not running"));
        let e = read_pid("Error: no such container r\nmore").unwrap_err();
        assert!(
            e.contains("no such container r") && !e.contains("more"),
            "{e}"
        );
        assert!(read_pid("-5").is_err());
        assert!(read_pid("12 13").is_err());
    }

    #[test]
    fn a_name_is_a_path_and_a_pid_file_is_read_afresh() {
        assert_eq!(
            resolve(&"name:router".parse().unwrap()),
            Ok(NsLocation::Path("/run/netns/router".into()))
        );
        let file = std::env::temp_dir().join(format!("vnet-pidfile-{}", std::process::id()));
        let source: NetnsSource = format!("pid:{}", file.display()).parse().unwrap();
        assert!(resolve(&source)
            .unwrap_err()
            .contains("cannot read pid file"));
        let me = std::process::id();
        std::fs::write(&file, format!("{me}\n")).unwrap();
        assert_eq!(resolve(&source), Ok(NsLocation::Pid(me)));
        // Pid numbers stop below 2^22 (`pid_max`): this one has no process.
        std::fs::write(&file, "4294967\n").unwrap();
        let e = resolve(&source).unwrap_err();
        assert!(e.contains("no process 4294967"), "{e}");
        std::fs::write(&file, "0\n").unwrap();
        let e = resolve(&source).unwrap_err();
        let _ = std::fs::remove_file(&file);
        assert!(e.contains("not running") && e.contains("pid file"), "{e}");
    }

    #[test]
    fn an_lxc_hook_is_told_its_containers_namespace() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let start = env(&[("LXC_NAME", "web"), ("LXC_PID", "4242")]);
        assert_eq!(lxc_hook("web", start), Some(NsLocation::Pid(4242)));
        assert_eq!(lxc_hook("db", start), None, "another container's hook");
        let stop = env(&[
            ("LXC_NAME", "web"),
            ("LXC_PID", "4242"),
            ("LXC_NET_NS", "/proc/17/fd/43"),
        ]);
        assert_eq!(
            lxc_hook("web", stop),
            Some(NsLocation::Path("/proc/17/fd/43".into()))
        );
        assert_eq!(lxc_hook("web", env(&[])), None, "not in a hook");
    }

    #[test]
    fn a_runtime_that_is_missing_is_named() {
        // No such program on any machine: the error names the command.
        let e = resolve(&"openvz:101".parse().unwrap()).unwrap_err();
        assert!(e.contains("vzlist -H -o pid 101"), "{e}");
    }
}
