//! Where a topology is built: the shared `--sandbox/--prefix/--node/--this-host` options
//! of `apply`, `diff`, `destroy`, `verify` and `show` ([`Target`]), and of `start`, `stop`
//! and `status` ([`Where`], with their `CT... FILE` words), and their mapping to the
//! planner's [`Scope`] and the netlink backend's [`NamespaceMap`].
//!
//! The sandbox builds every node, container, LAN and LAN host as a named namespace
//! `<prefix>-<name>` (`/run/netns/vnet-router`). A real node (`--node m1`) changes the
//! namespace vnet runs in, so it needs the explicit `--this-host` as well; without
//! either, the command refuses before touching anything.

use anyhow::anyhow;
use std::path::PathBuf;

use vnet_backend_netlink::{Backend, ErrorKind, NamespaceMap, Site};
use vnet_core::model::Container;
use vnet_core::plan::{NsRef, Scope};
use vnet_core::ValidTopology;

use crate::exit::{Exit, Failure};

/// The default sandbox prefix: namespaces `vnet-m1`, `vnet-router` ...
pub const DEFAULT_PREFIX: &str = "vnet";

/// Which namespaces a command works on.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Build the whole topology as network namespaces on this machine (`<prefix>-<name>`).
    #[arg(long, conflicts_with_all = ["node", "this_host"])]
    pub sandbox: bool,
    /// The sandbox's namespace name prefix.
    #[arg(long, default_value = DEFAULT_PREFIX, value_parser = parse_prefix)]
    pub prefix: String,
    /// Work on one real node: its bridges in the namespace vnet runs in, its containers
    /// found from their `netns` (by default the `ip netns` name equal to their own
    /// name). Needs --this-host.
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Confirms that --node may change the network of the machine vnet runs on.
    #[arg(long, requires = "node")]
    pub this_host: bool,
}

/// A prefix becomes part of namespace file names: keep it to a safe, short alphabet.
pub fn parse_prefix(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !s.starts_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(
            "a prefix is 1-32 characters of letters, digits, '-' and '_', not starting with '-'"
                .into(),
        )
    }
}

/// The resolved target: the scope to plan for and where its namespaces are.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where the topology runs.
    pub site: Site,
    /// What the planner builds.
    pub scope: Scope,
    /// Where the namespaces are.
    pub map: NamespaceMap,
    /// The sandbox prefix, or `None` on a real node.
    pub prefix: Option<String>,
}

impl Target {
    /// A sandbox target with `prefix` (for `demo`).
    pub fn sandbox(prefix: &str) -> Target {
        Target {
            sandbox: true,
            prefix: prefix.to_string(),
            node: None,
            this_host: false,
        }
    }

    /// Checks the options against `t` and maps them. Refuses (usage, exit 2) when
    /// neither --sandbox nor --node is given, and a real node without --this-host.
    pub fn resolve(&self, t: &ValidTopology) -> Result<Resolved, Failure> {
        if self.sandbox {
            return Ok(Resolved::on(
                t,
                Site::Sandbox {
                    prefix: self.prefix.clone(),
                },
            ));
        }
        let Some(node) = &self.node else {
            return Err(Failure::usage(anyhow!(
                "say where to build: --sandbox (namespaces {}-<name> on this machine) or \
                 --node NODE --this-host (this machine is that node)",
                self.prefix
            )));
        };
        if !t.topology().node.iter().any(|n| &n.name == node) {
            return Err(Failure::invalid(anyhow!(
                "topology {} has no node {node}",
                t.name()
            )));
        }
        if !self.this_host {
            return Err(Failure::usage(anyhow!(
                "--node {node} changes the network of the machine vnet runs on; add \
                 --this-host to confirm, or use --sandbox to try it in namespaces"
            )));
        }
        Ok(Resolved::on(t, Site::Node { name: node.clone() }))
    }
}

impl Resolved {
    /// The target of `t` on `site`.
    pub fn on(t: &ValidTopology, site: Site) -> Resolved {
        Resolved {
            scope: site.scope(),
            map: site.map(t),
            prefix: match &site {
                Site::Sandbox { prefix } => Some(prefix.clone()),
                Site::Node { .. } => None,
            },
            site,
        }
    }

    /// A netlink backend over this target's namespaces (knowing which real node this
    /// machine is, on a node).
    pub fn backend(&self) -> Backend {
        match &self.site {
            Site::Sandbox { .. } => Backend::new(self.map.clone()),
            Site::Node { name } => Backend::new(self.map.clone()).here_is(name),
        }
    }

    /// The real node this machine is (`None` in the sandbox).
    pub fn this_node(&self) -> Option<&str> {
        match &self.site {
            Site::Sandbox { .. } => None,
            Site::Node { name } => Some(name),
        }
    }

    /// How the shell backend names namespaces for `ip -n` (empty: vnet's own).
    pub fn shell_name(&self, ns: &NsRef) -> String {
        match &self.prefix {
            Some(p) => ns.sandbox_name(p),
            None => vnet_backend_shell::iproute2::node_names(ns),
        }
    }

    /// The namespace file of `ns`, for probes (`/run/netns/vnet-mail`).
    pub fn ns_path(&self, ns: &NsRef) -> Option<PathBuf> {
        vnet_backend_netlink::lifecycle::ns_file(&self.map, ns).ok()
    }
}

/// The exit code a backend error ends with: verification differences are drift (3),
/// a namespace the map cannot place or an unknown container is the caller's input (1),
/// a container on a node it may not run on a usage error (2), the rest is the system
/// refusing or failing (4).
pub fn backend_failure(e: vnet_backend_netlink::Error) -> Failure {
    let exit = match e.kind() {
        ErrorKind::Verify => Exit::Drift,
        ErrorKind::Usage => Exit::Invalid,
        ErrorKind::WrongNode => Exit::Usage,
        ErrorKind::Permission
        | ErrorKind::Conflict
        | ErrorKind::Kernel
        | ErrorKind::Inconsistent
        | ErrorKind::NotReady
        | ErrorKind::Injected => Exit::System,
    };
    Failure {
        exit,
        error: Some(e.into()),
    }
}

/// The container named `name`, or invalid input (exit 1).
pub fn container<'a>(t: &'a ValidTopology, name: &str) -> Result<&'a Container, Failure> {
    vnet_backend_netlink::lifecycle::container(t, name).map_err(backend_failure)
}

/// The topology with `ct` on `node`: an unknown container is invalid input (1), a node
/// it may not run on a usage error (2).
pub fn placed(t: &ValidTopology, ct: &str, node: &str) -> Result<ValidTopology, Failure> {
    t.placed(ct, node).map_err(|e| backend_failure(e.into()))
}

/// Where the per-container commands work: the sandbox, or this machine as a real node.
#[derive(Debug, Clone, clap::Args)]
pub struct Where {
    /// The topology runs as network namespaces on this machine (`<prefix>-<name>`).
    #[arg(long, conflicts_with = "this_host")]
    pub sandbox: bool,
    /// The sandbox's namespace name prefix.
    #[arg(long, default_value = DEFAULT_PREFIX, value_parser = parse_prefix)]
    pub prefix: String,
    /// This machine is the node given with --node: vnet changes the network namespace
    /// it runs in (the node's bridges, the containers' host ends). Each container's
    /// namespace is `/run/netns/<container>`, made by its runtime (`ip netns attach CT
    /// PID`) or `ip netns add`; vnet never creates or deletes it on a node.
    #[arg(long)]
    pub this_host: bool,
}

impl Where {
    /// The target: the sandbox, or this host as `node` (which needs --this-host, the
    /// explicit consent to change the namespace vnet runs in). Neither is a usage error
    /// (exit 2), so nothing runs by accident on the machine itself.
    pub fn resolve(&self, t: &ValidTopology, node: Option<&str>) -> Result<Resolved, Failure> {
        if self.sandbox {
            let prefix = self.prefix.clone();
            return Ok(Resolved::on(t, Site::Sandbox { prefix }));
        }
        match (node, self.this_host) {
            (Some(node), true) if t.topology().node.iter().any(|n| n.name == node) => {
                Ok(Resolved::on(t, Site::Node { name: node.into() }))
            }
            (Some(node), true) => Err(Failure::invalid(anyhow!(
                "topology {} has no node {node}",
                t.name()
            ))),
            (Some(node), false) => Err(Failure::usage(anyhow!(
                "--node {node} without --sandbox works on the machine vnet runs on; add \
                 --this-host to confirm that this machine is node {node}, or use --sandbox"
            ))),
            (None, _) => Err(Failure::usage(anyhow!(
                "say where the containers run: --sandbox (namespaces {}-<name> on this \
                 machine), or --node NODE --this-host (this machine is NODE, each \
                 container's namespace is /run/netns/<container>)",
                self.prefix
            ))),
        }
    }
}

/// `CT... FILE` split into the containers and the file (a usage error without both).
pub fn split_words(words: &[String]) -> Result<(&[String], &str), Failure> {
    match words.split_last() {
        Some((file, cts)) if !cts.is_empty() => Ok((cts, file.as_str())),
        _ => Err(Failure::usage(anyhow!(
            "name the containers and then the topology file: CT... FILE"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> ValidTopology {
        let text = include_str!("../../examples/seed.toml");
        vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap()
    }

    fn target(sandbox: bool, node: Option<&str>, this_host: bool) -> Target {
        Target {
            sandbox,
            prefix: DEFAULT_PREFIX.into(),
            node: node.map(Into::into),
            this_host,
        }
    }

    #[test]
    fn without_a_target_or_confirmation_nothing_resolves() {
        let t = seed();
        let none = target(false, None, false).resolve(&t).unwrap_err();
        assert_eq!(none.exit, Exit::Usage);
        assert!(none.to_string().contains("--sandbox"), "{none}");
        let unconfirmed = target(false, Some("m1"), false).resolve(&t).unwrap_err();
        assert_eq!(unconfirmed.exit, Exit::Usage);
        assert!(
            unconfirmed.to_string().contains("--this-host"),
            "{unconfirmed}"
        );
        let unknown = target(false, Some("m9"), true).resolve(&t).unwrap_err();
        assert_eq!(unknown.exit, Exit::Invalid);
    }

    #[test]
    fn the_sandbox_names_namespaces_with_the_prefix_and_a_node_maps_its_containers() {
        let t = seed();
        let sandbox = target(true, None, false).resolve(&t).unwrap();
        assert_eq!(sandbox.scope, Scope::Sandbox);
        assert_eq!(
            sandbox.ns_path(&NsRef::Ct("mail".into())),
            Some(PathBuf::from("/run/netns/vnet-mail"))
        );
        assert_eq!(sandbox.shell_name(&NsRef::Node("m1".into())), "vnet-m1");
        let node = target(false, Some("m1"), true).resolve(&t).unwrap();
        assert_eq!(node.scope, Scope::Node("m1".into()));
        assert!(node.map.allows_current());
        assert_eq!(
            node.ns_path(&NsRef::Ct("router".into())),
            Some(PathBuf::from("/run/netns/router"))
        );
        assert_eq!(node.shell_name(&NsRef::Node("m1".into())), "");
    }

    #[test]
    fn prefixes_stay_file_name_safe() {
        assert!(parse_prefix("vnet-t1_a").is_ok());
        for bad in ["", "-x", "a/b", "a b", "../x", &"x".repeat(33)] {
            assert!(parse_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_real_node_needs_this_host_and_maps_every_container_that_may_run_there() {
        let text = include_str!("../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let at = |sandbox, this_host| Where {
            sandbox,
            prefix: DEFAULT_PREFIX.into(),
            this_host,
        };
        assert_eq!(
            at(false, false).resolve(&t, None).unwrap_err().exit,
            Exit::Usage
        );
        let unconfirmed = at(false, false).resolve(&t, Some("m2")).unwrap_err();
        assert_eq!(unconfirmed.exit, Exit::Usage);
        assert!(
            unconfirmed.to_string().contains("--this-host"),
            "{unconfirmed}"
        );
        let sandbox = at(true, false).resolve(&t, Some("m2")).unwrap();
        assert_eq!(sandbox.this_node(), None);
        assert_eq!(sandbox.backend().scope_on("m2").unwrap(), Scope::Sandbox);
        let m2 = at(false, true).resolve(&t, Some("m2")).unwrap();
        assert_eq!(m2.this_node(), Some("m2"));
        // mail's home is m1; it may fail over to m2, so m2 finds its namespace.
        assert_eq!(
            m2.ns_path(&NsRef::Ct("mail".into())),
            Some(std::path::PathBuf::from("/run/netns/mail"))
        );
        assert_eq!(
            m2.backend().scope_on("m2").unwrap(),
            Scope::Node("m2".into())
        );
        let elsewhere = m2.backend().scope_on("m1").unwrap_err();
        assert_eq!(crate::sandbox::backend_failure(elsewhere).exit, Exit::Usage);
    }

    #[test]
    fn the_last_word_is_the_file() {
        let words: Vec<String> = ["mail", "dbms", "seed.toml"].map(String::from).to_vec();
        let (cts, file) = split_words(&words).unwrap();
        assert_eq!(cts, ["mail", "dbms"]);
        assert_eq!(file, "seed.toml");
        assert_eq!(split_words(&words[2..]).unwrap_err().exit, Exit::Usage);
    }
}
