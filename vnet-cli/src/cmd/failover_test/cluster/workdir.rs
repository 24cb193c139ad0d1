//! The run's temp directory: the cluster's `corosync.conf` (shared by both nodes, so the
//! render's `pcs cluster config update --corosync_conf` reaches both), the fence agent
//! laid over `/usr/sbin`, the OCF agent laid over `/usr/lib/ocf/resource.d`, the power
//! switch's directory and each node's own. Removed with everything in it on drop.

use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::exit::Failure;

/// The fence agent of the sandboxed cluster (`vnet-backend-shell/fence/`).
const FENCE_AGENT: &str =
    include_str!("../../../../../vnet-backend-shell/fence/fence_vnet_sandbox");
/// vnet's OCF agent (`vnet-backend-shell/ocf/vnet-ct`), installed as `ocf:vnet:ct`.
const OCF_AGENT: &str = include_str!("../../../../../vnet-backend-shell/ocf/vnet-ct");
/// The node's bootstrap, run as pid 1 of its namespaces.
pub const NODE_SCRIPT: &str = include_str!("node.sh");

/// The cluster ring's address of the node with id `id` (1 or 2), in the test range.
pub fn ring_address(id: u32) -> String {
    format!("198.18.255.{id}")
}

/// The temp directory of one cluster run.
#[derive(Debug)]
pub struct Workdir {
    /// Its path.
    pub path: PathBuf,
}

impl Workdir {
    /// Makes a fresh directory with the agents, the node script and a `corosync.conf`
    /// for `nodes` (name, node id) on the ring (corosync's default timings: the render
    /// sets ours).
    pub fn create(nodes: &[(String, u32)]) -> Result<Workdir, Failure> {
        let path = std::env::temp_dir().join(format!("vnet-cluster-{}", std::process::id()));
        std::fs::create_dir(&path)
            .with_context(|| format!("create {}", path.display()))
            .map_err(Failure::system)?;
        let dir = Workdir { path };
        for sub in ["corosync", "sbin", "ocf/vnet", "pdu"] {
            dir.mkdir(sub)?;
        }
        for (name, _) in nodes {
            dir.mkdir(name)?;
            dir.write(&format!("pdu/{name}.node"), "", 0o644)?;
        }
        dir.write("sbin/fence_vnet_sandbox", FENCE_AGENT, 0o755)?;
        dir.write("ocf/vnet/ct", OCF_AGENT, 0o755)?;
        dir.write("node.sh", NODE_SCRIPT, 0o755)?;
        dir.write("corosync/corosync.conf", &corosync_conf(nodes), 0o644)?;
        Ok(dir)
    }

    /// A path inside.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    fn mkdir(&self, rel: &str) -> Result<(), Failure> {
        std::fs::create_dir_all(self.join(rel))
            .with_context(|| format!("create {}", self.join(rel).display()))
            .map_err(Failure::system)
    }

    /// Writes `text` to `rel` with `mode`.
    pub fn write(&self, rel: &str, text: &str, mode: u32) -> Result<(), Failure> {
        let p = self.join(rel);
        std::fs::write(&p, text)
            .and_then(|()| std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)))
            .with_context(|| format!("write {}", p.display()))
            .map_err(Failure::system)
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        // The nodes' mounts died with their mount namespaces; nothing is mounted here.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The cluster's `corosync.conf`: knet without crypto (one machine), two-node quorum,
/// hires timestamps in a log file per node (read for the phases).
fn corosync_conf(nodes: &[(String, u32)]) -> String {
    let mut list = String::new();
    for (name, id) in nodes {
        list.push_str(&format!(
            "    node {{\n        ring0_addr: {}\n        name: {name}\n        nodeid: {id}\n    }}\n",
            ring_address(*id)
        ));
    }
    format!(
        "totem {{\n    version: 2\n    cluster_name: vnettest\n    transport: knet\n    \
         crypto_cipher: none\n    crypto_hash: none\n}}\n\nnodelist {{\n{list}}}\n\n\
         quorum {{\n    provider: corosync_votequorum\n    two_node: 1\n}}\n\n\
         logging {{\n    to_stderr: no\n    to_syslog: no\n    to_logfile: yes\n    \
         logfile: /var/log/corosync/corosync.log\n    timestamp: hires\n}}\n"
    )
}
