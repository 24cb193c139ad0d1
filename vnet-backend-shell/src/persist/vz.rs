//! vzctl's side: the network lines of `/etc/vz/conf/<ID>.conf` (NETIF with the bridge,
//! as newer vzctl reads it), `/etc/vz/vznet.conf`, and the hook that puts a container's
//! host end into its bridge when the container starts (the article's line added to
//! `vznetcfg`'s `init_veth`). The hook is the same on every node the containers may run
//! on, so a failover finds the same wiring.

use vnet_core::model::Container;
use vnet_core::ownership::alias_for;

use super::one_line;
use crate::model::Model;
use crate::quote::quote;
use crate::tree::{FileEntry, Tree};

/// Where the hook is installed on the node.
pub const HOOK_PATH: &str = "usr/local/sbin/vnet-vznet-hook";

/// `etc/vz/conf/<ID>.conf`: the container's name, hostname, boot flag, template, venet
/// addresses (none: venet off), NETIF and NETDEV. vzctl keeps the rest (resource
/// limits from the sample config) when it saves.
pub fn vz_ct_conf(model: &Model, ct: &Container) -> Tree {
    let mut text = format!(
        "# vnet: network parameters of container {} {} (topology {})\n",
        ct.id,
        one_line(&ct.name),
        one_line(model.name())
    );
    text.push_str(&assign("NAME", &ct.name));
    if let Some(h) = &ct.hostname {
        text.push_str(&assign("HOSTNAME", h));
    }
    if let Some(on) = ct.onboot {
        text.push_str(&assign("ONBOOT", if on { "yes" } else { "no" }));
    }
    if let Some(t) = &ct.ostemplate {
        text.push_str(&assign("OSTEMPLATE", t));
    }
    if let Some(c) = &ct.config {
        text.push_str(&assign("ORIGIN_SAMPLE", c));
    }
    let venet: Vec<String> = ct
        .venet
        .iter()
        .filter(|v| v.is_on())
        .flat_map(|v| v.addresses.iter().map(|a| a.ip().to_string()))
        .collect();
    text.push_str(&assign("IP_ADDRESS", &venet.join(" ")));
    let netif: Vec<String> = ct
        .veth
        .iter()
        .map(|v| {
            let mut s = format!(
                "ifname={},mac={},host_ifname={},host_mac={}",
                v.name,
                model.veth_mac(ct, v),
                model.veth_host_name(ct, v),
                model.veth_host_mac(ct, v)
            );
            if let Some(b) = &v.bridge {
                s.push_str(&format!(",bridge={b}"));
            }
            s
        })
        .collect();
    if !netif.is_empty() {
        text.push_str(&assign("NETIF", &netif.join(";")));
    }
    let netdev: Vec<&str> = ct
        .nic
        .iter()
        .map(|n| n.device.as_deref().unwrap_or(&n.name))
        .collect();
    if !netdev.is_empty() {
        text.push_str(&assign("NETDEV", &netdev.join(" ")));
    }
    Tree {
        files: vec![FileEntry::new(format!("etc/vz/conf/{}.conf", ct.id), text)],
        ..Tree::default()
    }
}

/// `etc/vz/vznet.conf` naming the hook, and the hook itself (mode 0755): for each host
/// end of a container that may run on `node`, the bridge it joins.
pub fn vznet_hook(model: &Model, node: &str) -> Tree {
    let t = model.topology();
    let vznet = format!(
        "# vnet: vznetcfg runs this after it sets up a container's veth host end.\n{}",
        assign("EXTERNAL_SCRIPT", &format!("/{HOOK_PATH}"))
    );
    let mut hook = format!(
        "#!/bin/sh\n\
         # vnet: puts the host end of a container's veth pair into its bridge when the\n\
         # container starts (topology {}). vznetcfg calls it (EXTERNAL_SCRIPT in\n\
         # /etc/vz/vznet.conf) with the host end as its last argument. The same file on\n\
         # every node the containers may run on.\n\
         set -eu\n\
         dev=\n\
         for dev; do :; done\n\
         case \"$dev\" in\n",
        one_line(&t.name)
    );
    let mut seen = std::collections::BTreeSet::new();
    for ct in model.cts_on(node) {
        for v in &ct.veth {
            let Some(b) = v.bridge.as_ref().filter(|b| model.bridge_on(b, node)) else {
                continue;
            };
            let host = model.veth_host_name(ct, v);
            // The first entry for a host end wins, as `case` would pick it.
            if seen.insert(host.clone()) {
                hook.push_str(&format!("{}) bridge={} ;;\n", quote(&host), quote(b)));
            }
        }
    }
    hook.push_str("*) exit 0 ;;\nesac\n");
    hook.push_str(&format!(
        "ip link set dev \"$dev\" alias {}\nip link set dev \"$dev\" master \"$bridge\"\nip link set dev \"$dev\" up\n",
        quote(&alias_for(&t.name))
    ));
    Tree {
        files: vec![
            FileEntry::new("etc/vz/vznet.conf", vznet),
            FileEntry::new(HOOK_PATH, hook).with_mode(0o755),
        ],
        ..Tree::default()
    }
}

/// `KEY="value"` as vzctl writes it when the value needs no quoting; otherwise the
/// value single-quoted, so a shell that sources the file reads it literally.
fn assign(key: &str, value: &str) -> String {
    let q = quote(value);
    if value.is_empty() || q == value {
        format!("{key}=\"{value}\"\n")
    } else {
        format!("{key}={q}\n")
    }
}
