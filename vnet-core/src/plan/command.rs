//! The command-line spelling of every [`Action`]: the `ip` (iproute2), `nft` and `sysctl`
//! argv an action stands for.
//!
//! This is the one place that knows how an action is written as commands; the plan
//! listing and the shell backend's `iproute2` dialect both use it, so what a user reviews
//! is what a script runs. Nothing here runs anything: the result is plain data.
//!
//! Namespaces are named by the caller through a mapping from [`NsRef`] to the name
//! `ip netns` knows (in the sandbox `<prefix>-<name>`). An empty name stands for the
//! namespace the commands run in (a real node's own namespace): `ip` gets no `-n`, and
//! nothing is wrapped in `ip netns exec`.
//!
//! ```
//! use vnet_core::plan::{command::iproute2_argv, Action, NsRef};
//! let a = Action::SetMaster {
//!     ns: NsRef::Node("m1".into()),
//!     link: "veth1".into(),
//!     master: "br0".into(),
//! };
//! let argv = iproute2_argv(&a, "article", &|ns: &NsRef| ns.sandbox_name("vnet"));
//! assert_eq!(argv[0].join(" "), "ip -n vnet-m1 link set veth1 master br0");
//! ```

use std::net::IpAddr;

use ipnetwork::IpNetwork;

use super::{Action, BornOff, LinkSpec, NatRule, NsRef, RouteSpec, Ruleset, Sysctl};
use crate::ownership::{alias_for, NFT_TABLE, ROUTE_PROTOCOL};

/// The argv(s) `action` stands for, in order, for topology `topology` (whose name is the
/// ownership mark, see [`crate::ownership`]), with namespaces named by `ns`.
///
/// Every action yields at least one argv; creations add the ownership mark as a second
/// command where `ip link add` cannot set it. File actions use a fixed `sh` program
/// whose data arrive as positional parameters (never spliced into the program text).
pub fn iproute2_argv(
    action: &Action,
    topology: &str,
    ns: &dyn Fn(&NsRef) -> String,
) -> Vec<Vec<String>> {
    let mark = alias_for(topology);
    match action {
        Action::CreateNamespace { ns: n } => {
            let name = ns(n);
            vec![
                words(&["ip", "netns", "add", &name]),
                ip(&name, &["link", "set", "lo", "up"]),
                ip(&name, &["link", "set", "lo", "alias", &mark]),
            ]
        }
        Action::DeleteNamespace { ns: n } => vec![words(&["ip", "netns", "del", &ns(n)])],
        Action::CreateLink { ns: n, spec } => create_link(n, spec, &mark, ns),
        Action::DeleteLink { ns: n, spec } => {
            vec![ip(&ns(n), &["link", "del", spec.name()])]
        }
        Action::MoveLink {
            from,
            name,
            to,
            new_name,
        } => {
            let (src, dst) = (ns(from), ns(to));
            let mut out = vec![ip(
                &src,
                &["link", "set", name, "netns", &dst, "name", new_name],
            )];
            // A NIC passed into a container is vnet's while it is there; back on its node
            // it is the machine's again, so the mark is cleared (an empty alias deletes it).
            let alias = if matches!(to, NsRef::Node(_)) {
                ""
            } else {
                &mark
            };
            out.push(ip(&dst, &["link", "set", new_name, "alias", alias]));
            out
        }
        Action::SetMac {
            ns: n, link, mac, ..
        } => vec![ip(
            &ns(n),
            &["link", "set", link, "address", &mac.to_string()],
        )],
        Action::SetMtu {
            ns: n, link, mtu, ..
        } => vec![ip(&ns(n), &["link", "set", link, "mtu", &mtu.to_string()])],
        Action::SetUp { ns: n, link } => vec![ip(&ns(n), &["link", "set", link, "up"])],
        Action::SetDown { ns: n, link } => vec![ip(&ns(n), &["link", "set", link, "down"])],
        Action::SetMaster {
            ns: n,
            link,
            master,
        } => vec![ip(&ns(n), &["link", "set", link, "master", master])],
        Action::ClearMaster { ns: n, link, .. } => {
            vec![ip(&ns(n), &["link", "set", link, "nomaster"])]
        }
        Action::AddAddress {
            ns: n,
            link,
            address,
        } => {
            let text = address.to_string();
            let mut args = vec!["address", "add", text.as_str(), "dev", link];
            // Like the netlink backend (IFA_F_NODAD): vnet assigns its IPv6 addresses,
            // and a tentative address would not route for a second after the script.
            if address.is_ipv6() {
                args.push("nodad");
            }
            vec![ip(&ns(n), &args)]
        }
        Action::DelAddress {
            ns: n,
            link,
            address,
        } => vec![ip(
            &ns(n),
            &["address", "del", &address.to_string(), "dev", link],
        )],
        Action::AddRoute { ns: n, route } => vec![route_argv(&ns(n), "add", route)],
        Action::DelRoute { ns: n, route } => vec![route_argv(&ns(n), "del", route)],
        Action::SetSysctl {
            ns: n,
            sysctl,
            value,
            ..
        } => vec![sysctl_argv(&ns(n), sysctl, value)],
        Action::AddNat { ns: n, rule } => vec![in_ns(&ns(n), nft_add(rule))],
        Action::DelNat { ns: n, rule } => vec![in_ns(&ns(n), nft_del(rule))],
        Action::SetRuleset { ns: n, to, .. } => {
            let script = match to {
                Some(r) => r.load_script(),
                None => Ruleset::remove_script(),
            };
            vec![in_ns(&ns(n), nft_load_argv(&script))]
        }
        Action::WriteFile {
            path,
            contents,
            mode,
            ..
        } => vec![write_file_argv(path, contents, *mode)],
        Action::RemoveFile { path, .. } => vec![words(&["rm", "-f", "--", path])],
    }
}

/// The argv(s) of step `action` of a plan whose namespaces and links born with IPv6 off
/// are `born`: [`iproute2_argv`], and for the creation of such a namespace the
/// [`default_ipv6_off_argv`] right after it, so a listing shows, and a script runs,
/// everything that changes. A `disable_ipv6 = 1` that holds already because the link was
/// born with it ([`BornOff::holds_already`]) runs nothing: at 1,000 containers those
/// were two thousand `ip netns exec` processes of a script.
pub fn step_argv(
    action: &Action,
    topology: &str,
    ns: &dyn Fn(&NsRef) -> String,
    born: &BornOff<'_>,
) -> Vec<Vec<String>> {
    if born.holds_already(action) {
        return Vec::new();
    }
    let mut run = iproute2_argv(action, topology, ns);
    if let Action::CreateNamespace { ns: n } = action {
        if born.namespaces.contains(n) {
            run.push(default_ipv6_off_argv(&ns(n)));
        }
    }
    run
}

/// The argv that makes links registered in namespace `ns` from now on start with IPv6
/// off (`net.ipv6.conf.default.disable_ipv6 = 1`): run right after a namespace of
/// [`super::born_without_ipv6`] is created.
pub fn default_ipv6_off_argv(ns: &str) -> Vec<String> {
    in_ns(
        ns,
        words(&["sysctl", "-qw", "net/ipv6/conf/default/disable_ipv6=1"]),
    )
}

/// The argv of `sysctl` writing `value` to `sysctl` inside namespace `ns`.
///
/// The key is written in its `/proc/sys` path form (`net/ipv6/conf/eth1.10/disable_ipv6`),
/// which `sysctl` accepts: the dotted form cannot tell a dot of a VLAN link's name from a
/// separator.
pub fn sysctl_argv(ns: &str, sysctl: &Sysctl, value: &str) -> Vec<String> {
    in_ns(
        ns,
        words(&["sysctl", "-qw", &format!("{}={value}", sysctl.proc_path())]),
    )
}

/// The nftables chain holding one NAT rule: one base chain per rule, so the rule can be
/// deleted by name (`nft delete chain`) without looking up its handle first.
pub fn nat_chain(rule: &NatRule) -> String {
    // 64-bit FNV-1a over the rule's text: stable across Rust versions and platforms.
    let text = format!("{} {}", rule.source, rule.out);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("masq_{:08x}", h as u32)
}

/// The fixed program that loads an `nft -f` script: the script arrives as `$1`, so no
/// part of it can become shell code. A shell script writes the same as
/// `nft -f - <<'EOF'` (see [`nft_load_script`]).
pub const NFT_LOAD_PROGRAM: &str = "printf '%s' \"$1\" | nft -f -";

/// The name `$0` of the [`NFT_LOAD_PROGRAM`] (what `ps` shows).
pub const NFT_LOAD_NAME: &str = "vnet-nft";

/// `sh -c NFT_LOAD_PROGRAM vnet-nft SCRIPT`: `nft -f -` reading `script`, one transaction.
pub fn nft_load_argv(script: &str) -> Vec<String> {
    words(&["sh", "-c", NFT_LOAD_PROGRAM, NFT_LOAD_NAME, script])
}

/// The `nft` script an argv of [`nft_load_argv`] (after any `ip netns exec NS`) loads,
/// with that prefix: what a shell script writes as `PREFIX nft -f - <<'EOF'`.
pub fn nft_load_script(argv: &[String]) -> Option<(&[String], &str)> {
    let n = argv.len();
    if n < 5 {
        return None;
    }
    let (prefix, tail) = argv.split_at(n - 5);
    let fixed = ["sh", "-c", NFT_LOAD_PROGRAM, NFT_LOAD_NAME];
    (tail[..4].iter().zip(fixed).all(|(a, b)| a == b)).then(|| (prefix, tail[4].as_str()))
}

/// The fixed program of a file write: data arrive as `$1` (contents), `$2` (path) and
/// `$3` (mode), so no content can become code. The file is created private and given its
/// mode after it is complete.
pub const WRITE_FILE_PROGRAM: &str =
    "umask 077 && mkdir -p -- \"$(dirname -- \"$2\")\" && printf '%s' \"$1\" > \"$2\" && chmod -- \"$3\" \"$2\"";

fn write_file_argv(path: &str, contents: &str, mode: u32) -> Vec<String> {
    words(&[
        "sh",
        "-c",
        WRITE_FILE_PROGRAM,
        "vnet-write-file",
        contents,
        path,
        &format!("{mode:04o}"),
    ])
}

/// `ip link add` of the link (spelled by its kind, [`LinkSpec::ip_link_add`]), then the
/// ownership mark on each link it makes, then a VXLAN device's flooding FDB entries.
fn create_link(
    at: &NsRef,
    spec: &LinkSpec,
    mark: &str,
    ns: &dyn Fn(&NsRef) -> String,
) -> Vec<Vec<String>> {
    let here = ns(at);
    let add = spec.ip_link_add(&here, ns);
    let mut out = vec![ip_owned(&ns(spec.created_from(at)), add)];
    for end in spec.ends(at) {
        out.push(ip(&ns(end.ns), &["link", "set", end.name, "alias", mark]));
    }
    if let LinkSpec::Vxlan { name, remotes, .. } = spec {
        out.extend(remotes.iter().map(|r| fdb_append_argv(&here, name, r)));
    }
    out
}

/// `bridge [-n NS] fdb append 00:00:00:00:00:00 dev DEV dst REMOTE`: the all-zero entry
/// that floods broadcast and unknown frames of VXLAN device `dev` to `remote` too.
pub fn fdb_append_argv(ns: &str, dev: &str, remote: &IpAddr) -> Vec<String> {
    let mut out = words(&["bridge"]);
    if !ns.is_empty() {
        out.extend(words(&["-n", ns]));
    }
    out.extend(words(&[
        "fdb",
        "append",
        "00:00:00:00:00:00",
        "dev",
        dev,
        "dst",
        &remote.to_string(),
    ]));
    out
}

fn route_argv(ns: &str, verb: &str, r: &RouteSpec) -> Vec<String> {
    let mut args = words(&["route", verb, &route_dst(&r.dst)]);
    if let Some(via) = r.via {
        args.extend(words(&["via", &via.to_string()]));
    }
    if let Some(dev) = &r.dev {
        args.extend(words(&["dev", dev]));
    }
    if let Some(m) = r.metric {
        args.extend(words(&["metric", &m.to_string()]));
    }
    args.extend(words(&["proto", &ROUTE_PROTOCOL.to_string()]));
    ip_owned(ns, args)
}

/// `default` for a v4 default route (as people write it), the prefix otherwise; `::/0`
/// stays a prefix so `ip` takes the family from it.
fn route_dst(dst: &IpNetwork) -> String {
    match dst {
        IpNetwork::V4(n) if n.prefix() == 0 => "default".to_string(),
        other => other.to_string(),
    }
}

fn nft_add(rule: &NatRule) -> Vec<String> {
    let chain = nat_chain(rule);
    let family = match rule.source.ip() {
        IpAddr::V4(_) => "ip",
        IpAddr::V6(_) => "ip6",
    };
    // `add` (unlike `create`) is idempotent for the table and the chain; the three
    // commands go to the kernel as one transaction.
    let script = format!(
        "add table inet {NFT_TABLE}; \
         add chain inet {NFT_TABLE} {chain} {{ type nat hook postrouting priority srcnat; policy accept; }}; \
         add rule inet {NFT_TABLE} {chain} {family} saddr {src} oifname \"{out}\" masquerade",
        src = rule.source,
        out = rule.out,
    );
    words(&["nft", &script])
}

fn nft_del(rule: &NatRule) -> Vec<String> {
    // Deleting the chain deletes its one rule; the (then maybe empty) table stays, as
    // `nft` cannot delete a table only when it is empty.
    words(&[
        "nft",
        &format!("delete chain inet {NFT_TABLE} {}", nat_chain(rule)),
    ])
}

/// `ip -n NS ARGS...`, or `ip ARGS...` in the current namespace.
fn ip(ns: &str, args: &[&str]) -> Vec<String> {
    ip_owned(ns, words(args))
}

fn ip_owned(ns: &str, args: Vec<String>) -> Vec<String> {
    let mut out = words(&["ip"]);
    if !ns.is_empty() {
        out.extend(words(&["-n", ns]));
    }
    out.extend(args);
    out
}

/// `ip netns exec NS ARGV...`, or `ARGV...` in the current namespace.
fn in_ns(ns: &str, argv: Vec<String>) -> Vec<String> {
    if ns.is_empty() {
        return argv;
    }
    let mut out = words(&["ip", "netns", "exec", ns]);
    out.extend(argv);
    out
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mac;

    fn sandbox(ns: &NsRef) -> String {
        ns.sandbox_name("vnet")
    }

    fn lines(a: &Action) -> Vec<String> {
        iproute2_argv(a, "article", &sandbox)
            .into_iter()
            .map(|v| v.join(" "))
            .collect()
    }

    fn node() -> NsRef {
        NsRef::Node("m1".into())
    }

    fn ct() -> NsRef {
        NsRef::Ct("router".into())
    }

    const MAC_A: Mac = Mac::new(0, 0x12, 0x34, 0x56, 0x78, 0x9a);
    const MAC_B: Mac = Mac::new(0, 0x12, 0x34, 0x56, 0x78, 0x9b);

    #[test]
    fn namespaces_are_created_with_lo_up_and_marked() {
        assert_eq!(
            lines(&Action::CreateNamespace { ns: ct() }),
            [
                "ip netns add vnet-router",
                "ip -n vnet-router link set lo up",
                "ip -n vnet-router link set lo alias vnet:article",
            ]
        );
        assert_eq!(
            lines(&Action::DeleteNamespace { ns: ct() }),
            ["ip netns del vnet-router"]
        );
    }

    #[test]
    fn veth_peer_is_created_in_its_namespace_and_both_ends_marked() {
        let spec = LinkSpec::Veth {
            name: "veth1".into(),
            mac: MAC_A,
            mtu: Some(1400),
            peer_ns: ct(),
            peer_name: "eth0".into(),
            peer_mac: MAC_B,
        };
        assert_eq!(
            lines(&Action::CreateLink {
                ns: node(),
                spec: spec.clone()
            }),
            [
                "ip -n vnet-m1 link add veth1 address 00:12:34:56:78:9A mtu 1400 type veth \
                 peer name eth0 address 00:12:34:56:78:9B mtu 1400 netns vnet-router",
                "ip -n vnet-m1 link set veth1 alias vnet:article",
                "ip -n vnet-router link set eth0 alias vnet:article",
            ]
        );
        assert_eq!(
            lines(&Action::DeleteLink { ns: node(), spec }),
            ["ip -n vnet-m1 link del veth1"]
        );
    }

    #[test]
    fn veth_in_the_current_namespace_has_no_n_option_and_no_netns() {
        let spec = LinkSpec::Veth {
            name: "a".into(),
            mac: MAC_A,
            mtu: None,
            peer_ns: node(),
            peer_name: "b".into(),
            peer_mac: MAC_B,
        };
        let argv = iproute2_argv(&Action::CreateLink { ns: node(), spec }, "t", &|_| {
            String::new()
        });
        assert_eq!(
            argv[0].join(" "),
            "ip link add a address 00:12:34:56:78:9A type veth peer name b address 00:12:34:56:78:9B"
        );
    }

    #[test]
    fn bridges_and_vlans() {
        let br = LinkSpec::Bridge {
            name: "br0".into(),
            mac: MAC_A,
            stp: true,
            mtu: None,
        };
        assert_eq!(
            lines(&Action::CreateLink {
                ns: node(),
                spec: br
            }),
            [
                "ip -n vnet-m1 link add br0 address 00:12:34:56:78:9A type bridge stp_state 1",
                "ip -n vnet-m1 link set br0 alias vnet:article",
            ]
        );
        let vlan = LinkSpec::Vlan {
            name: "eth1.10".into(),
            parent: "eth1".into(),
            id: 10,
            mtu: Some(1496),
        };
        assert_eq!(
            lines(&Action::CreateLink {
                ns: ct(),
                spec: vlan
            })[0],
            "ip -n vnet-router link add link eth1 name eth1.10 mtu 1496 type vlan id 10"
        );
    }

    #[test]
    fn vxlan_devices_get_one_flooding_fdb_entry_per_remote() {
        let spec = LinkSpec::Vxlan {
            name: "vx-br0".into(),
            vni: 199,
            local: "198.18.100.1".parse().unwrap(),
            port: 4789,
            dev: Some("eth0".into()),
            mtu: Some(1450),
            remotes: vec![
                "198.18.100.2".parse().unwrap(),
                "198.18.100.3".parse().unwrap(),
            ],
        };
        let create = Action::CreateLink {
            ns: node(),
            spec: spec.clone(),
        };
        assert_eq!(
            lines(&create),
            [
                "ip -n vnet-m1 link add vx-br0 mtu 1450 type vxlan id 199 local 198.18.100.1 \
                 dstport 4789 dev eth0",
                "ip -n vnet-m1 link set vx-br0 alias vnet:article",
                "bridge -n vnet-m1 fdb append 00:00:00:00:00:00 dev vx-br0 dst 198.18.100.2",
                "bridge -n vnet-m1 fdb append 00:00:00:00:00:00 dev vx-br0 dst 198.18.100.3",
            ]
        );
        // Deleting the device deletes its FDB entries.
        assert_eq!(lines(&create.inverse()), ["ip -n vnet-m1 link del vx-br0"]);
        // On a real node: no -n, no dev when none is given.
        let LinkSpec::Vxlan {
            name,
            vni,
            local,
            port,
            mtu,
            remotes,
            ..
        } = spec
        else {
            unreachable!()
        };
        let here = iproute2_argv(
            &Action::CreateLink {
                ns: node(),
                spec: LinkSpec::Vxlan {
                    name,
                    vni,
                    local,
                    port,
                    dev: None,
                    mtu,
                    remotes,
                },
            },
            "t",
            &|_| String::new(),
        );
        assert_eq!(
            here[0].join(" "),
            "ip link add vx-br0 mtu 1450 type vxlan id 199 local 198.18.100.1 dstport 4789"
        );
        assert_eq!(
            here[2].join(" "),
            "bridge fdb append 00:00:00:00:00:00 dev vx-br0 dst 198.18.100.2"
        );
    }

    #[test]
    fn nic_move_marks_it_in_the_container_and_unmarks_it_back_home() {
        let mv = Action::MoveLink {
            from: node(),
            name: "enp3s0".into(),
            to: ct(),
            new_name: "eth1".into(),
        };
        assert_eq!(
            lines(&mv),
            [
                "ip -n vnet-m1 link set enp3s0 netns vnet-router name eth1",
                "ip -n vnet-router link set eth1 alias vnet:article",
            ]
        );
        let back = lines(&mv.inverse());
        assert_eq!(
            back[0],
            "ip -n vnet-router link set eth1 netns vnet-m1 name enp3s0"
        );
        assert_eq!(back[1], "ip -n vnet-m1 link set enp3s0 alias ");
    }

    #[test]
    fn link_settings() {
        let l = |a| lines(&a)[0].clone();
        assert_eq!(
            l(Action::SetMac {
                ns: node(),
                link: "br0".into(),
                mac: MAC_B,
                previous: MAC_A
            }),
            "ip -n vnet-m1 link set br0 address 00:12:34:56:78:9B"
        );
        assert_eq!(
            l(Action::SetMtu {
                ns: node(),
                link: "br0".into(),
                mtu: 9000,
                previous: 1500
            }),
            "ip -n vnet-m1 link set br0 mtu 9000"
        );
        assert_eq!(
            l(Action::SetUp {
                ns: ct(),
                link: "eth0".into()
            }),
            "ip -n vnet-router link set eth0 up"
        );
        assert_eq!(
            l(Action::SetDown {
                ns: ct(),
                link: "eth0".into()
            }),
            "ip -n vnet-router link set eth0 down"
        );
        let m = Action::SetMaster {
            ns: node(),
            link: "veth1".into(),
            master: "br0".into(),
        };
        assert_eq!(l(m.clone()), "ip -n vnet-m1 link set veth1 master br0");
        assert_eq!(l(m.inverse()), "ip -n vnet-m1 link set veth1 nomaster");
    }

    #[test]
    fn addresses_and_routes_carry_vnet_protocol() {
        let a = Action::AddAddress {
            ns: ct(),
            link: "eth0".into(),
            address: "192.168.199.1/24".parse().unwrap(),
        };
        assert_eq!(
            lines(&a),
            ["ip -n vnet-router address add 192.168.199.1/24 dev eth0"]
        );
        assert_eq!(
            lines(&a.inverse()),
            ["ip -n vnet-router address del 192.168.199.1/24 dev eth0"]
        );
        let v6 = Action::AddAddress {
            ns: ct(),
            link: "eth0".into(),
            address: "fd00::1/64".parse().unwrap(),
        };
        assert_eq!(
            lines(&v6),
            ["ip -n vnet-router address add fd00::1/64 dev eth0 nodad"]
        );
        assert_eq!(
            lines(&v6.inverse()),
            ["ip -n vnet-router address del fd00::1/64 dev eth0"]
        );
        let r = Action::AddRoute {
            ns: NsRef::Ct("mail".into()),
            route: RouteSpec {
                dst: "192.168.0.0/16".parse().unwrap(),
                via: Some("192.168.199.1".parse().unwrap()),
                dev: Some("eth0".into()),
                metric: Some(10),
            },
        };
        assert_eq!(
            lines(&r),
            ["ip -n vnet-mail route add 192.168.0.0/16 via 192.168.199.1 dev eth0 metric 10 proto 118"]
        );
        assert_eq!(
            lines(&r.inverse()),
            ["ip -n vnet-mail route del 192.168.0.0/16 via 192.168.199.1 dev eth0 metric 10 proto 118"]
        );
        let d = Action::AddRoute {
            ns: ct(),
            route: RouteSpec {
                dst: "0.0.0.0/0".parse().unwrap(),
                via: Some("198.18.0.1".parse().unwrap()),
                dev: None,
                metric: None,
            },
        };
        assert_eq!(
            lines(&d),
            ["ip -n vnet-router route add default via 198.18.0.1 proto 118"]
        );
    }

    #[test]
    fn sysctls_use_the_path_form_so_dotted_link_names_survive() {
        let s = Action::SetSysctl {
            ns: ct(),
            sysctl: Sysctl::DisableIpv6("eth1.10".into()),
            value: "1".into(),
            previous: "0".into(),
        };
        assert_eq!(
            lines(&s),
            ["ip netns exec vnet-router sysctl -qw net/ipv6/conf/eth1.10/disable_ipv6=1"]
        );
        assert_eq!(
            lines(&s.inverse()),
            ["ip netns exec vnet-router sysctl -qw net/ipv6/conf/eth1.10/disable_ipv6=0"]
        );
        let f = Action::SetSysctl {
            ns: ct(),
            sysctl: Sysctl::Ipv4Forward,
            value: "1".into(),
            previous: "0".into(),
        };
        let here = iproute2_argv(&f, "t", &|_| String::new());
        assert_eq!(here, [words(&["sysctl", "-qw", "net/ipv4/ip_forward=1"])]);
    }

    #[test]
    fn nat_lives_in_its_own_chain_of_vnets_table() {
        let rule = NatRule {
            source: "192.168.199.0/24".parse().unwrap(),
            out: "eth1".into(),
        };
        let chain = nat_chain(&rule);
        assert!(chain.starts_with("masq_") && chain.len() == 13, "{chain}");
        let add = iproute2_argv(
            &Action::AddNat {
                ns: ct(),
                rule: rule.clone(),
            },
            "article",
            &sandbox,
        );
        assert_eq!(add.len(), 1);
        assert_eq!(
            add[0][..5],
            words(&["ip", "netns", "exec", "vnet-router", "nft"])
        );
        assert_eq!(
            add[0][5],
            format!(
                "add table inet vnet; add chain inet vnet {chain} {{ type nat hook postrouting \
                 priority srcnat; policy accept; }}; add rule inet vnet {chain} ip saddr \
                 192.168.199.0/24 oifname \"eth1\" masquerade"
            )
        );
        let del = iproute2_argv(&Action::DelNat { ns: ct(), rule }, "article", &sandbox);
        assert_eq!(del[0][5], format!("delete chain inet vnet {chain}"));
        let v6 = NatRule {
            source: "fd00::/64".parse().unwrap(),
            out: "eth1".into(),
        };
        assert_ne!(nat_chain(&v6), chain);
        let add6 = iproute2_argv(&Action::AddNat { ns: ct(), rule: v6 }, "a", &sandbox);
        assert!(add6[0][5].contains("ip6 saddr fd00::/64"));
    }

    #[test]
    fn files_are_written_by_a_fixed_program_with_data_as_parameters() {
        let w = Action::WriteFile {
            path: "etc/net/ifaces/br0/options".into(),
            contents: "TYPE=bri\n$(reboot)\n".into(),
            mode: 0o644,
            previous: None,
        };
        let argv = &iproute2_argv(&w, "t", &sandbox)[0];
        assert_eq!(argv[..3], words(&["sh", "-c", WRITE_FILE_PROGRAM]));
        assert_eq!(argv[4], "TYPE=bri\n$(reboot)\n");
        assert_eq!(argv[5], "etc/net/ifaces/br0/options");
        assert_eq!(argv[6], "0644");
        assert_eq!(
            iproute2_argv(&w.inverse(), "t", &sandbox),
            [words(&["rm", "-f", "--", "etc/net/ifaces/br0/options"])]
        );
    }
}
