//! Where a container's network namespace is on a real node: the `[[ct]]` key `netns`.
//!
//! A container runtime makes the namespace; vnet only finds it, afresh on every command
//! (a restarted container has a new one), and never records where it was. The value is
//! `KIND:WHAT`:
//!
//! | value | the namespace |
//! |---|---|
//! | `name:NAME` (the default, `name:<ct name>`) | `/run/netns/NAME` (`ip netns`) |
//! | `pid:PATH` | `/proc/PID/ns/net`, PID read from the pid file `PATH` |
//! | `lxc:NAME` | the init of LXC container `NAME` (`lxc-info -n NAME -pH`) |
//! | `podman:NAME` | `podman inspect -f '{{.State.Pid}}' NAME` |
//! | `docker:NAME` | `docker inspect -f '{{.State.Pid}}' NAME` |
//! | `nspawn:MACHINE` | the leader of the machine (`machinectl show MACHINE -p Leader --value`) |
//! | `openvz:CTID` | the init of the OpenVZ container (`vzlist -H -o pid CTID`) |
//!
//! ```
//! use vnet_core::model::NetnsSource;
//! let s: NetnsSource = "podman:web".parse().unwrap();
//! assert_eq!(s, NetnsSource::Podman("web".into()));
//! assert_eq!(s.to_string(), "podman:web");
//! assert!("vmware:x".parse::<NetnsSource>().is_err());
//! ```

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::Container;

/// Where a container's network namespace is found (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetnsSource {
    /// `name:NAME`: the named namespace `/run/netns/NAME`.
    Name(String),
    /// `pid:PATH`: the namespace of the process whose pid the file `PATH` holds.
    PidFile(PathBuf),
    /// `lxc:NAME`: an LXC container.
    Lxc(String),
    /// `podman:NAME`: a Podman container.
    Podman(String),
    /// `docker:NAME`: a Docker container.
    Docker(String),
    /// `nspawn:MACHINE`: a systemd-nspawn machine.
    Nspawn(String),
    /// `openvz:CTID`: an OpenVZ container.
    Openvz(String),
}

/// Why a `netns` value is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetnsError {
    /// No `KIND:` prefix, or one vnet does not know.
    #[error(
        "{0:?} is not KIND:WHAT with KIND one of name, pid, lxc, podman, docker, nspawn, openvz"
    )]
    Kind(String),
    /// A name that is empty, starts with `-` (a runtime would read it as an option), or
    /// holds a character outside `[A-Za-z0-9_.-]`.
    #[error("\"{kind}:{what}\": the name may hold only [A-Za-z0-9_.-], must not be empty or start with `-`, and is at most 255 bytes")]
    Name {
        /// The kind.
        kind: &'static str,
        /// The name as given.
        what: String,
    },
    /// A pid file that is not an absolute path.
    #[error("\"pid:{0}\": the pid file must be an absolute path")]
    PidFile(String),
}

/// The longest name accepted (a file name's limit).
const MAX_NAME: usize = 255;

impl NetnsSource {
    /// The default of container `ct`: `name:<ct name>`.
    pub fn default_for(ct: &Container) -> NetnsSource {
        NetnsSource::Name(ct.name.clone())
    }

    /// Where `ct`'s namespace is: its `netns`, or the default.
    pub fn of(ct: &Container) -> Result<NetnsSource, NetnsError> {
        match &ct.netns {
            Some(text) => text.parse(),
            None => Ok(NetnsSource::default_for(ct)),
        }
    }

    /// The kind, as written before the `:`.
    pub fn kind(&self) -> &'static str {
        match self {
            NetnsSource::Name(_) => "name",
            NetnsSource::PidFile(_) => "pid",
            NetnsSource::Lxc(_) => "lxc",
            NetnsSource::Podman(_) => "podman",
            NetnsSource::Docker(_) => "docker",
            NetnsSource::Nspawn(_) => "nspawn",
            NetnsSource::Openvz(_) => "openvz",
        }
    }
}

/// Checks a container, machine or namespace name (see [`NetnsError::Name`]); `.` and `..`
/// are refused too, as `name:` makes a path of it.
fn name(kind: &'static str, what: &str) -> Result<String, NetnsError> {
    let ok = !what.is_empty()
        && what.len() <= MAX_NAME
        && !what.starts_with('-')
        && what != "."
        && what != ".."
        && what
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(what.to_string())
    } else {
        Err(NetnsError::Name {
            kind,
            what: what.to_string(),
        })
    }
}

impl FromStr for NetnsSource {
    type Err = NetnsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((kind, what)) = s.split_once(':') else {
            return Err(NetnsError::Kind(s.to_string()));
        };
        Ok(match kind {
            "name" => NetnsSource::Name(name("name", what)?),
            "pid" => {
                // A path, never given to a shell; only absolute, so the working
                // directory of a command cannot change which file it is.
                if !what.starts_with('/') || what.contains('\0') {
                    return Err(NetnsError::PidFile(what.to_string()));
                }
                NetnsSource::PidFile(PathBuf::from(what))
            }
            "lxc" => NetnsSource::Lxc(name("lxc", what)?),
            "podman" => NetnsSource::Podman(name("podman", what)?),
            "docker" => NetnsSource::Docker(name("docker", what)?),
            "nspawn" => NetnsSource::Nspawn(name("nspawn", what)?),
            "openvz" => NetnsSource::Openvz(name("openvz", what)?),
            _ => return Err(NetnsError::Kind(s.to_string())),
        })
    }
}

impl fmt::Display for NetnsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetnsSource::PidFile(p) => write!(f, "pid:{}", p.display()),
            NetnsSource::Name(w)
            | NetnsSource::Lxc(w)
            | NetnsSource::Podman(w)
            | NetnsSource::Docker(w)
            | NetnsSource::Nspawn(w)
            | NetnsSource::Openvz(w) => write!(f, "{}:{w}", self.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_and_prints_back() {
        for text in [
            "name:router",
            "pid:/run/router.pid",
            "lxc:router",
            "podman:web-1",
            "docker:db_2",
            "nspawn:m.a",
            "openvz:101",
        ] {
            let s: NetnsSource = text.parse().unwrap();
            assert_eq!(s.to_string(), text);
        }
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let err = |t: &str| t.parse::<NetnsSource>().unwrap_err();
        assert!(matches!(err("router"), NetnsError::Kind(_)));
        assert!(matches!(err("vmware:x"), NetnsError::Kind(_)));
        assert!(matches!(err("lxc:"), NetnsError::Name { kind: "lxc", .. }));
        assert!(matches!(err("docker:-f"), NetnsError::Name { .. }));
        assert!(matches!(err("name:.."), NetnsError::Name { .. }));
        assert!(matches!(err("name:a/b"), NetnsError::Name { .. }));
        assert!(matches!(err("pid:run/x.pid"), NetnsError::PidFile(_)));
        assert!(err("podman:a b").to_string().contains("[A-Za-z0-9_.-]"));
    }

    #[test]
    fn the_default_is_the_containers_name() {
        let ct = Container::new(101, "router");
        assert_eq!(NetnsSource::of(&ct), Ok(NetnsSource::Name("router".into())));
        let ct = Container {
            netns: Some("lxc:r1".into()),
            ..ct
        };
        assert_eq!(NetnsSource::of(&ct), Ok(NetnsSource::Lxc("r1".into())));
    }
}
