//! The arguments `vnet start`, `vnet stop` and `vnet status` share: where they work
//! ([`Where`]: the sandbox, or this machine as one real node) and `CT... FILE`. The
//! work itself is the netlink backend's ([`vnet_backend_netlink::lifecycle`]), the
//! rules vnet-core's ([`vnet_core::lifecycle`]).

use anyhow::anyhow;
use vnet_backend_netlink::Site;
use vnet_core::ValidTopology;

use crate::exit::Failure;
use crate::sandbox::{parse_prefix, Resolved, DEFAULT_PREFIX};

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
    use crate::exit::Exit;
    use vnet_core::plan::{NsRef, Scope};

    #[test]
    fn a_real_node_needs_this_host_and_maps_every_container_that_may_run_there() {
        let text = include_str!("../../../examples/seed.toml");
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
