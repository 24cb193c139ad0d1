//! The `vzctl` dialect: the article's procedure for one OpenVZ node, as a script.
//!
//! Blocks in dependency order: the node's bridges (before any container starts, as the
//! article advises) with their ports and, when stretched, their VXLAN device, containers
//! created and started, their veth pairs, NICs and VLANs,
//! the host ends joined to the bridges, routes, forwarding, NAT. venet is left out: for
//! a container without venet addresses the script deletes `/etc/net/ifaces/venet0`
//! inside it, so OpenVZ's `default via 192.0.2.1 dev venet0` cannot block a default
//! route (the article's trap).
//!
//! Commands run inside a container go through `vzctl exec NAME ARGS...`, which joins its
//! arguments with spaces and hands them to the container's shell. Each argument is
//! therefore quoted twice: once for the container's shell, once for this script's.
//! Arguments with only safe characters look the same either way.

use vnet_core::model::Container;
use vnet_core::ownership::alias_for;
use vnet_core::plan::command::iproute2_argv;
use vnet_core::plan::{Action, LinkSpec, Name, NsRef, RouteSpec, Ruleset, Sysctl};
use vnet_core::resolve::MacKey;

use crate::error::ShellError;
use crate::model::Model;
use crate::quote::quote;
use crate::script::Script;

/// How the veth pairs are declared to vzctl.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VethStyle {
    /// `--veth_add host_if,host_mac,ct_if,ct_mac` (the article's vzctl 3.0), host end
    /// joined to its bridge by the script (and by the vznet hook on restarts).
    #[default]
    VethAdd,
    /// `--netif_add ct_if,ct_mac,host_if,host_mac,bridge` (newer vzctl), whose
    /// `vznetcfg` puts the host end into the bridge itself.
    NetifAdd,
}

/// Which tool builds the bridges on the node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BridgeTool {
    /// `brctl addbr`, `brctl addif` (the article's bridge-utils).
    #[default]
    Brctl,
    /// `ip link add ... type bridge`, `ip link set ... master`.
    Iproute2,
}

/// Choices of the `vzctl` dialect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VzctlOptions {
    /// How veth pairs are declared.
    pub veth: VethStyle,
    /// How bridges are built.
    pub bridge_tool: BridgeTool,
}

/// The `vzctl` script that builds, on `node`, its bridges and the containers whose home
/// it is.
pub fn render_vzctl(model: &Model, node: &str, opts: &VzctlOptions) -> Result<String, ShellError> {
    vzctl_script(model, node, opts).map(Script::finish)
}

/// [`render_vzctl`] as a [`Script`], whose [`Script::commands`] are the argv it runs.
pub fn vzctl_script(model: &Model, node: &str, opts: &VzctlOptions) -> Result<Script, ShellError> {
    let t = model.topology();
    let cts = model.cts_at_home(node);
    let bridges: Vec<_> = t
        .bridge
        .iter()
        .filter(|b| model.bridge_on(&b.name, node))
        .collect();
    let mut s = Script::new(&[
        format!("vnet: vzctl script for node {node} of topology {}", t.name),
        format!(
            "Builds bridges [{}] and containers [{}] (home {node}).",
            bridges
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            cts.iter()
                .map(|c| format!("{} {}", c.id, c.name))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        "Run as root on the OpenVZ node; stops at the first failing command (set -e).".to_string(),
        "Containers failing over to another node need the same bridges and vznet hook there."
            .to_string(),
    ]);
    let mark = alias_for(&t.name);
    let here = |_: &NsRef| String::new();
    let in_ct = |ct: &Container, a: &Action| -> Vec<Vec<String>> {
        iproute2_argv(a, &t.name, &here)
            .into_iter()
            .map(|argv| vzctl_exec(&ct.name, &argv))
            .collect()
    };

    for b in &bridges {
        s.block(&format!("bridge {} (before any container starts)", b.name));
        let mac = model.bridge_mac(&b.name).to_string();
        match opts.bridge_tool {
            BridgeTool::Brctl => {
                s.command(&["brctl", "addbr", &b.name])?;
                s.command(&["ip", "link", "set", &b.name, "address", &mac])?;
                s.command(&["brctl", "stp", &b.name, if b.stp { "on" } else { "off" }])?;
                if let Some(m) = b.mtu {
                    s.command(&["ip", "link", "set", &b.name, "mtu", &m.to_string()])?;
                }
                s.command(&["ip", "link", "set", &b.name, "alias", &mark])?;
                for p in &b.ports {
                    s.command(&["brctl", "addif", &b.name, p])?;
                    s.command(&["ip", "link", "set", p, "up"])?;
                }
            }
            BridgeTool::Iproute2 => {
                let spec = LinkSpec::Bridge {
                    name: Name::from(&b.name),
                    mac: model.bridge_mac(&b.name),
                    stp: b.stp,
                    mtu: b.mtu,
                };
                for argv in iproute2_argv(
                    &Action::CreateLink {
                        ns: node_ns(node),
                        spec,
                    },
                    &t.name,
                    &here,
                ) {
                    s.command(&argv)?;
                }
                for p in &b.ports {
                    s.command(&["ip", "link", "set", p, "master", &b.name])?;
                    s.command(&["ip", "link", "set", p, "up"])?;
                }
            }
        }
        // A stretched bridge's VXLAN device on the node's underlay, as the planner makes
        // it (`ip link add ... type vxlan`, its flooding entries), a port of the bridge.
        if let Some(spec) = model.vxlan(b, node) {
            let vx = spec.name().to_string();
            let create = Action::CreateLink {
                ns: node_ns(node),
                spec,
            };
            for argv in iproute2_argv(&create, &t.name, &here) {
                s.command(&argv)?;
            }
            s.command(&["ip", "link", "set", &vx, "master", &b.name])?;
            s.command(&["ip", "link", "set", &vx, "up"])?;
        }
        for a in &b.addresses {
            s.command(&["ip", "address", "add", &a.to_string(), "dev", &b.name])?;
        }
        s.command(&["ip", "link", "set", &b.name, "up"])?;
    }

    for ct in &cts {
        s.block(&format!(
            "container {} {}: create and start",
            ct.id, ct.name
        ));
        let id = ct.id.to_string();
        let mut create = vec!["vzctl".to_string(), "create".to_string(), id.clone()];
        if let Some(tpl) = &ct.ostemplate {
            create.extend(["--ostemplate".to_string(), tpl.clone()]);
        }
        if let Some(cfg) = &ct.config {
            create.extend(["--config".to_string(), cfg.clone()]);
        }
        s.command(&create)?;
        s.command(&["vzctl", "set", &id, "--name", &ct.name, "--save"])?;
        if let Some(on) = ct.onboot {
            s.command(&[
                "vzctl",
                "set",
                &ct.name,
                "--onboot",
                if on { "yes" } else { "no" },
                "--save",
            ])?;
        }
        if let Some(h) = &ct.hostname {
            s.command(&["vzctl", "set", &ct.name, "--hostname", h, "--save"])?;
        }
        let venet_on = ct.venet.as_ref().is_some_and(|v| v.is_on());
        if let Some(v) = ct.venet.as_ref().filter(|v| v.is_on()) {
            for a in &v.addresses {
                s.command(&[
                    "vzctl",
                    "set",
                    &ct.name,
                    "--ipadd",
                    &a.to_string(),
                    "--save",
                ])?;
            }
        }
        for nic in &ct.nic {
            let dev = nic.device.as_deref().unwrap_or(&nic.name);
            s.command(&["vzctl", "set", &ct.name, "--netdev_add", dev, "--save"])?;
        }
        s.command(&["vzctl", "start", &ct.name])?;
        if !venet_on {
            s.note("no venet: drop its etcnet config so no default route via venet0 appears");
            s.command(&vzctl_exec(
                &ct.name,
                &strings(&["rm", "-rf", "/etc/net/ifaces/venet0"]),
            ))?;
        }
    }

    for ct in &cts {
        if ct.veth.is_empty() && ct.nic.is_empty() && ct.vlan.is_empty() && ct.macvlan.is_empty() {
            continue;
        }
        s.block(&format!("container {}: interfaces", ct.name));
        let ns = NsRef::Ct(Name::from(&ct.name));
        for v in &ct.veth {
            let host = model.veth_host_name(ct, v);
            let (hmac, cmac) = (
                model.veth_host_mac(ct, v).to_string(),
                model.veth_mac(ct, v).to_string(),
            );
            let decl = match opts.veth {
                VethStyle::VethAdd => [
                    "--veth_add".to_string(),
                    format!("{host},{hmac},{},{cmac}", v.name),
                ],
                VethStyle::NetifAdd => [
                    "--netif_add".to_string(),
                    format!(
                        "{},{cmac},{host},{hmac},{}",
                        v.name,
                        v.bridge.as_deref().unwrap_or("")
                    ),
                ],
            };
            s.command(&["vzctl", "set", &ct.name, &decl[0], &decl[1], "--save"])?;
            if let Some(m) = v.mtu {
                let mtu = m.to_string();
                s.command(&vzctl_exec(
                    &ct.name,
                    &strings(&["ip", "link", "set", &v.name, "mtu", &mtu]),
                ))?;
                s.command(&["ip", "link", "set", &host, "mtu", &mtu])?;
            }
            link_up_with_addresses(&mut s, &in_ct, ct, &ns, &mark, &v.name, &v.addresses)?;
        }
        for nic in &ct.nic {
            let dev = nic.device.as_deref().unwrap_or(&nic.name);
            if dev != nic.name {
                s.command(&vzctl_exec(
                    &ct.name,
                    &strings(&["ip", "link", "set", dev, "name", &nic.name]),
                ))?;
            }
            if let Some(mac) = nic.mac {
                s.command(&vzctl_exec(
                    &ct.name,
                    &strings(&["ip", "link", "set", &nic.name, "address", &mac.to_string()]),
                ))?;
            }
            if let Some(m) = nic.mtu {
                s.command(&vzctl_exec(
                    &ct.name,
                    &strings(&["ip", "link", "set", &nic.name, "mtu", &m.to_string()]),
                ))?;
            }
            link_up_with_addresses(&mut s, &in_ct, ct, &ns, &mark, &nic.name, &nic.addresses)?;
        }
        for (j, m) in ct.macvlan.iter().enumerate() {
            // vzctl knows no macvlan: made on the node under a temporary name, passed in
            // for this run (not `--save`d: it does not exist at the next boot), renamed.
            let tmp = format!("mv{}.{j}", ct.id);
            let mac = model
                .mac(&MacKey::Macvlan {
                    ct: ct.id,
                    name: m.name.clone(),
                })
                .to_string();
            s.command(&[
                "ip",
                "link",
                "add",
                "link",
                &m.parent,
                "name",
                &tmp,
                "address",
                &mac,
                "type",
                "macvlan",
                "mode",
                m.mode.as_str(),
            ])?;
            s.command(&["vzctl", "set", &ct.name, "--netdev_add", &tmp])?;
            s.command(&vzctl_exec(
                &ct.name,
                &strings(&["ip", "link", "set", &tmp, "name", &m.name]),
            ))?;
            link_up_with_addresses(&mut s, &in_ct, ct, &ns, &mark, &m.name, &m.addresses)?;
        }
        for vl in &ct.vlan {
            let spec = LinkSpec::Vlan {
                name: Name::from(&vl.name),
                parent: Name::from(&vl.parent),
                id: vl.id,
                mtu: vl.mtu,
            };
            for argv in in_ct(
                ct,
                &Action::CreateLink {
                    ns: ns.clone(),
                    spec,
                },
            ) {
                s.command(&argv)?;
            }
            // The VLAN link carries the mark already (it is part of the creation).
            for a in &vl.addresses {
                for argv in in_ct(
                    ct,
                    &Action::AddAddress {
                        ns: ns.clone(),
                        link: Name::from(&vl.name),
                        address: *a,
                    },
                ) {
                    s.command(&argv)?;
                }
            }
            for argv in in_ct(
                ct,
                &Action::SetUp {
                    ns: ns.clone(),
                    link: Name::from(&vl.name),
                },
            ) {
                s.command(&argv)?;
            }
        }
    }

    let bridged: Vec<(String, String)> = cts
        .iter()
        .flat_map(|ct| {
            ct.veth.iter().filter_map(move |v| {
                v.bridge
                    .as_ref()
                    .filter(|b| model.bridge_on(b, node))
                    .map(|b| (model.veth_host_name(ct, v), b.clone()))
            })
        })
        .collect();
    if !bridged.is_empty() {
        s.block("host ends of the veth pairs: up and into their bridges");
        if opts.veth == VethStyle::NetifAdd {
            s.note("--netif_add named the bridge: vznetcfg has put each host end in it and up");
        }
        for (host, _) in &bridged {
            s.command(&["ip", "link", "set", host, "alias", &mark])?;
        }
        if opts.veth == VethStyle::VethAdd {
            for (host, _) in &bridged {
                s.command(&["ip", "link", "set", host, "up"])?;
            }
            for (host, bridge) in &bridged {
                match opts.bridge_tool {
                    BridgeTool::Brctl => s.command(&["brctl", "addif", bridge, host])?,
                    BridgeTool::Iproute2 => {
                        s.command(&["ip", "link", "set", host, "master", bridge])?
                    }
                }
            }
        }
    }

    for ct in cts.iter().filter(|c| !c.route.is_empty()) {
        s.block(&format!(
            "container {}: routes (proto 118 marks them as vnet's)",
            ct.name
        ));
        for r in &ct.route {
            let a = Action::AddRoute {
                ns: NsRef::Ct(Name::from(&ct.name)),
                route: RouteSpec::of(r),
            };
            for argv in in_ct(ct, &a) {
                s.command(&argv)?;
            }
        }
    }

    for ct in cts.iter().filter(|c| !c.forward.is_off()) {
        s.block(&format!("container {}: forwarding", ct.name));
        let mut sysctls = Vec::new();
        if ct.forward.ipv4 {
            sysctls.push(Sysctl::Ipv4Forward);
        }
        if ct.forward.ipv6 {
            sysctls.push(Sysctl::Ipv6Forward);
        }
        for sysctl in sysctls {
            let a = Action::SetSysctl {
                ns: NsRef::Ct(Name::from(&ct.name)),
                sysctl,
                value: "1".into(),
                previous: "0".into(),
            };
            for argv in in_ct(ct, &a) {
                s.command(&argv)?;
            }
        }
    }

    for ct in &cts {
        let Some(ruleset) = Ruleset::from_model(t, ct) else {
            continue;
        };
        s.block(&format!(
            "container {}: firewall (nftables table inet vnet, loaded whole)",
            ct.name
        ));
        // `vzctl exec` hands its standard input to the command: the heredoc reaches nft.
        s.nft_load(&["vzctl", "exec", &ct.name], &ruleset.load_script())?;
    }
    Ok(s)
}

/// `vzctl exec NAME ARGS...` with each argument quoted for the container's shell.
pub fn vzctl_exec(ct: &str, argv: &[String]) -> Vec<String> {
    let mut out = strings(&["vzctl", "exec", ct]);
    out.extend(argv.iter().map(|a| quote(a).into_owned()));
    out
}

fn link_up_with_addresses(
    s: &mut Script,
    in_ct: &dyn Fn(&Container, &Action) -> Vec<Vec<String>>,
    ct: &Container,
    ns: &NsRef,
    mark: &str,
    link: &str,
    addresses: &[ipnetwork::IpNetwork],
) -> Result<(), ShellError> {
    s.command(&vzctl_exec(
        &ct.name,
        &strings(&["ip", "link", "set", link, "alias", mark]),
    ))?;
    for a in addresses {
        for argv in in_ct(
            ct,
            &Action::AddAddress {
                ns: ns.clone(),
                link: Name::from(link),
                address: *a,
            },
        ) {
            s.command(&argv)?;
        }
    }
    for argv in in_ct(
        ct,
        &Action::SetUp {
            ns: ns.clone(),
            link: Name::from(link),
        },
    ) {
        s.command(&argv)?;
    }
    Ok(())
}

fn node_ns(node: &str) -> NsRef {
    NsRef::Node(Name::from(node))
}

fn strings(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}
