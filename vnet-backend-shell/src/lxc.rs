//! The `lxc` dialect: the lines of each container's LXC config that make vnet build
//! its network when LXC starts it and take it down when LXC stops it.
//!
//! - `lxc.net.0.type = empty`: LXC makes no network of its own (the container's
//!   namespace has only `lo`), so nothing but vnet cables it;
//! - `lxc.hook.version = 1`: LXC passes the hook its facts in the environment
//!   (`LXC_NAME`, `LXC_PID`, `LXC_NET_NS`) and appends no arguments to the command, so
//!   the command line stays `vnet`'s own;
//! - `lxc.hook.start-host = vnet start CT FILE --node N --this-host`: runs on the host
//!   once the container's namespaces exist, before its init runs (measured: LXC 5,
//!   `lxc-info` answers no pid while a hook runs, the monitor being busy with it; vnet
//!   takes the namespace from `LXC_PID` then, see the netlink backend's `ns::runtime`);
//! - `lxc.hook.stop = vnet stop CT FILE --node N --this-host`: runs on the host after
//!   the container's init ended, its network namespace still held by LXC
//!   (`LXC_NET_NS`), so vnet removes its cables and what it put on the node.
//!
//! LXC runs a hook's command line through `sh -c`, so every word is quoted as in the
//! other shell dialects. vnet finds an LXC container's namespace only through `netns =
//! "lxc:NAME"`; a container with another `netns` gets a comment saying so.

use vnet_core::model::{Container, NetnsSource};

use crate::error::ShellError;
use crate::model::Model;
use crate::quote::quote_argv;
use crate::script::check_nul;

/// Where vnet and the topology are on the node: absolute paths, as a hook runs with
/// LXC's working directory and `PATH`.
#[derive(Debug, Clone, Copy)]
pub struct Paths<'a> {
    /// The `vnet` binary.
    pub vnet: &'a str,
    /// The topology file.
    pub topology: &'a str,
}

/// The LXC config lines of every container that may run on `node`, by id.
pub fn render_lxc(model: &Model, node: &str, paths: Paths<'_>) -> Result<String, ShellError> {
    let mut text = format!(
        "# LXC config lines for topology {} on node {node}: add each container's lines to\n\
         # its config (/var/lib/lxc/NAME/config, or lxc-create -f). LXC makes no network;\n\
         # starting the container runs `vnet start`, stopping it `vnet stop`.\n",
        model.name()
    );
    for ct in model.cts_on(node) {
        text.push('\n');
        text.push_str(&container(ct, node, paths)?);
    }
    Ok(text)
}

/// One container's lines.
fn container(ct: &Container, node: &str, paths: Paths<'_>) -> Result<String, ShellError> {
    let lxc_name = match NetnsSource::of(ct) {
        Ok(NetnsSource::Lxc(name)) => name,
        // Validation refused a bad `netns`; only the kind matters here.
        Ok(other) => {
            return Ok(format!(
                "# {}: its netns is {:?}, not \"lxc:NAME\": vnet would not find its LXC \
                 namespace, so no hooks\n",
                ct.name,
                ct.netns
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}", other.kind(), ct.name))
            ))
        }
        Err(_) => ct.name.clone(),
    };
    let hook = |verb: &str| -> Result<String, ShellError> {
        let argv = [
            paths.vnet,
            verb,
            &ct.name,
            paths.topology,
            "--node",
            node,
            "--this-host",
        ];
        check_nul(&argv)?;
        Ok(quote_argv(&argv))
    };
    Ok(format!(
        "# {ct_name} (LXC container {lxc_name})\n\
         lxc.net.0.type = empty\n\
         lxc.hook.version = 1\n\
         lxc.hook.start-host = {start}\n\
         lxc.hook.stop = {stop}\n",
        ct_name = ct.name,
        start = hook("start")?,
        stop = hook("stop")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_core::{Document, Format};

    #[test]
    fn an_lxc_container_gets_its_hooks_and_others_a_reason() {
        let seed = include_str!("../../examples/seed.toml").replace(
            "name = \"mail\"\n",
            "name = \"mail\"\nnetns = \"lxc:mail-ct\"\n",
        );
        let valid = Document::parse(&seed, Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let paths = Paths {
            vnet: "/usr/bin/vnet",
            topology: "/etc/vnet/it's.toml",
        };
        let text = render_lxc(&Model::new(&valid), "m1", paths).unwrap();
        assert!(
            text.contains(
                "lxc.hook.start-host = /usr/bin/vnet start mail '/etc/vnet/it'\\''s.toml' \
                 --node m1 --this-host\n"
            ),
            "{text}"
        );
        assert!(text.contains("# mail (LXC container mail-ct)\n"), "{text}");
        assert!(
            text.contains("# router: its netns is \"name:router\""),
            "{text}"
        );
        assert_eq!(text.matches("lxc.net.0.type = empty").count(), 1);
    }
}
