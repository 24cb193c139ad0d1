//! The CNI bridge plugin (Debian's containernetworking-plugins) with host-local IPAM,
//! called as a container runtime calls it: the runtime creates the container's named
//! namespace (in-process, `lo` up, `default.disable_ipv6=1` before any link exists
//! there), then runs one `bridge` ADD per container with the network config on stdin.
//! Teardown: one DEL per container, the namespace deleted, then the bridge (DEL leaves
//! it). The plugin creates its bridge in the namespace it runs in: the benchmark's
//! private one, which has `default.disable_ipv6=1` too.

use std::path::Path;

use anyhow::{Context, Result};

use crate::method::Method;
use crate::netns;
use crate::run::{cmd, with_stdin};
use crate::topo::{Ct, BRIDGE, PREFIX_LEN, ROUTE_TO, VIA};

/// Where Debian installs the plugins.
const PLUGIN_DIR: &str = "/usr/lib/cni";

/// The network config: no gateway address on the bridge, no masquerade (vnet's network
/// has neither), addresses from 198.18.0.2 up, one route via 198.18.0.1.
fn config() -> String {
    format!(
        r#"{{"cniVersion":"1.0.0","name":"vsbench","type":"bridge","bridge":"{BRIDGE}",
"isGateway":false,"isDefaultGateway":false,"ipMasq":false,"hairpinMode":false,
"ipam":{{"type":"host-local","ranges":[[{{"subnet":"198.18.0.0/{PREFIX_LEN}",
"rangeStart":"198.18.0.2","gateway":"{VIA}"}}]],
"routes":[{{"dst":"{ROUTE_TO}","gw":"{VIA}"}}]}}}}"#
    )
}

/// The CNI bridge plugin, one ADD per container.
#[derive(Debug)]
pub struct CniBridge;

impl CniBridge {
    fn call(&self, command: &str, ct: &Ct) -> Result<String> {
        let netns = netns::DIR.to_string() + "/" + &self.ns_of(ct);
        let plugin = format!("{PLUGIN_DIR}/bridge");
        with_stdin(
            &[&plugin],
            &[
                ("CNI_COMMAND", command),
                ("CNI_CONTAINERID", &ct.name),
                ("CNI_NETNS", &netns),
                ("CNI_IFNAME", "eth0"),
                ("CNI_PATH", PLUGIN_DIR),
            ],
            &config(),
        )
        .with_context(|| format!("CNI {command} of {}", ct.name))
    }
}

impl Method for CniBridge {
    fn name(&self) -> &'static str {
        "CNI bridge plugin"
    }

    fn missing(&self) -> Option<String> {
        let missing: Vec<String> = ["bridge", "host-local"]
            .iter()
            .map(|p| format!("{PLUGIN_DIR}/{p}"))
            .filter(|p| !Path::new(p).is_file())
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{} (apt-get install containernetworking-plugins)",
                missing.join(", ")
            )
        })
    }

    fn setup(&mut self, cts: &[Ct]) -> Result<()> {
        for ct in cts {
            netns::create(&self.ns_of(ct))?;
            self.call("ADD", ct)?;
        }
        Ok(())
    }

    fn teardown(&mut self, cts: &[Ct]) -> Result<()> {
        for ct in cts {
            self.call("DEL", ct)?;
            netns::delete(&self.ns_of(ct))?;
        }
        cmd(&["ip", "link", "del", BRIDGE])?;
        Ok(())
    }

    fn ns_of(&self, ct: &Ct) -> String {
        format!("cn-{}", ct.name)
    }

    fn bridge_ns(&self) -> Option<String> {
        None
    }

    fn check(&self, cts: &[Ct]) -> Result<()> {
        crate::check::built(self, cts)
    }
}
