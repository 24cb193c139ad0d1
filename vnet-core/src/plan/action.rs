//! The plan's vocabulary: every change vnet makes, each with its inverse.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use super::{Name, NsRef, Ruleset};
use crate::kind::LinkSpec;
use crate::model::{Mac, Route, RouteDest};

/// A static route as vnet installs it (with vnet's route protocol, see
/// [`crate::ownership::ROUTE_PROTOCOL`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RouteSpec {
    /// Destination prefix; `0.0.0.0/0` or `::/0` for a default route.
    pub dst: IpNetwork,
    /// Next hop.
    pub via: Option<IpAddr>,
    /// Outgoing link.
    pub dev: Option<Name>,
    /// Metric, when not the default.
    pub metric: Option<u32>,
}

/// A route as `ip route` writes it: `10.0.0.0/8 via 10.1.1.1 dev eth0 metric 10`.
impl std::fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.dst)?;
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        if let Some(dev) = &self.dev {
            write!(f, " dev {dev}")?;
        }
        if let Some(metric) = self.metric {
            write!(f, " metric {metric}")?;
        }
        Ok(())
    }
}

impl RouteSpec {
    /// A model route as vnet installs it: `default` becomes the next hop's family's
    /// `/0` (`0.0.0.0/0`, or `::/0` when the next hop is IPv6).
    pub fn of(r: &Route) -> RouteSpec {
        let dst = match r.to {
            RouteDest::Prefix(p) => p,
            RouteDest::Default => match r.via {
                Some(IpAddr::V6(_)) => IpNetwork::V6(
                    ipnetwork::Ipv6Network::new(std::net::Ipv6Addr::UNSPECIFIED, 0)
                        .unwrap_or_else(|_| unreachable!("a zero prefix is valid")),
                ),
                _ => IpNetwork::V4(
                    ipnetwork::Ipv4Network::new(std::net::Ipv4Addr::UNSPECIFIED, 0)
                        .unwrap_or_else(|_| unreachable!("a zero prefix is valid")),
                ),
            },
        };
        RouteSpec {
            dst,
            via: r.via,
            dev: r.dev.as_deref().map(Name::from),
            metric: r.metric,
        }
    }
}

/// A source-NAT (masquerade) rule, kept in vnet's own nftables table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NatRule {
    /// Source prefix to masquerade.
    pub source: IpNetwork,
    /// Outgoing interface.
    pub out: Name,
}

/// A kernel setting under `/proc/sys/net` that vnet manages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "key", content = "link", rename_all = "snake_case")]
pub enum Sysctl {
    /// `net.ipv4.ip_forward`.
    Ipv4Forward,
    /// `net.ipv6.conf.all.forwarding`.
    Ipv6Forward,
    /// `net.ipv6.conf.<link>.disable_ipv6`: vnet turns IPv6 off on links the topology
    /// gives no IPv6 address, so their DAD/MLD multicast does not flood the bridges.
    DisableIpv6(Name),
}

impl Sysctl {
    /// The dotted key, e.g. `net.ipv4.ip_forward`.
    pub fn key(&self) -> String {
        match self {
            Sysctl::Ipv4Forward => "net.ipv4.ip_forward".to_string(),
            Sysctl::Ipv6Forward => "net.ipv6.conf.all.forwarding".to_string(),
            Sysctl::DisableIpv6(link) => format!("net.ipv6.conf.{link}.disable_ipv6"),
        }
    }

    /// The path under `/proc/sys`, e.g. `net/ipv4/ip_forward`. Link names may contain
    /// dots, which the dotted key cannot tell from separators; the path can.
    pub fn proc_path(&self) -> String {
        match self {
            Sysctl::Ipv4Forward => "net/ipv4/ip_forward".to_string(),
            Sysctl::Ipv6Forward => "net/ipv6/conf/all/forwarding".to_string(),
            Sysctl::DisableIpv6(link) => format!("net/ipv6/conf/{link}/disable_ipv6"),
        }
    }

    /// The link the setting belongs to, if any (it disappears with the link).
    pub fn link(&self) -> Option<&str> {
        match self {
            Sysctl::DisableIpv6(l) => Some(l),
            _ => None,
        }
    }
}

/// One change to one namespace (or, for [`Action::WriteFile`], to one file).
///
/// Every action has an [`Action::inverse`]; executing an action and then its inverse
/// leaves the system as it was.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Action {
    /// Create a network namespace (`ip netns add`), marked as vnet's.
    CreateNamespace {
        /// The namespace.
        ns: NsRef,
    },
    /// Delete a network namespace and everything in it (`ip netns del`).
    DeleteNamespace {
        /// The namespace.
        ns: NsRef,
    },
    /// Create a link (`ip link add`), marked as vnet's.
    CreateLink {
        /// Where the link (this end, for a veth pair) is created.
        ns: NsRef,
        /// What to create.
        spec: LinkSpec,
    },
    /// Delete a link (`ip link del`); for a veth pair, both ends.
    DeleteLink {
        /// Where the link is.
        ns: NsRef,
        /// What is deleted, so the inverse can create it again.
        spec: LinkSpec,
    },
    /// Move a link to another namespace, optionally renaming it
    /// (`ip link set DEV netns NS name NEW`): a physical NIC passed into a container.
    MoveLink {
        /// Where the link is now.
        from: NsRef,
        /// Its name there.
        name: Name,
        /// Where it goes.
        to: NsRef,
        /// Its name there.
        new_name: Name,
    },
    /// Set a link's MAC (`ip link set DEV address MAC`).
    SetMac {
        /// Namespace.
        ns: NsRef,
        /// Link.
        link: Name,
        /// New MAC.
        mac: Mac,
        /// MAC before, for the inverse.
        previous: Mac,
    },
    /// Set a link's MTU (`ip link set DEV mtu N`).
    SetMtu {
        /// Namespace.
        ns: NsRef,
        /// Link.
        link: Name,
        /// New MTU.
        mtu: u32,
        /// MTU before, for the inverse.
        previous: u32,
    },
    /// Bring a link up (`ip link set DEV up`).
    SetUp {
        /// Namespace.
        ns: NsRef,
        /// Link.
        link: Name,
    },
    /// Take a link down (`ip link set DEV down`).
    SetDown {
        /// Namespace.
        ns: NsRef,
        /// Link.
        link: Name,
    },
    /// Make `master` the link's bridge (`ip link set DEV master BR`, `brctl addif`).
    SetMaster {
        /// Namespace.
        ns: NsRef,
        /// The port.
        link: Name,
        /// The bridge.
        master: Name,
    },
    /// Detach a link from its bridge (`ip link set DEV nomaster`, `brctl delif`).
    ClearMaster {
        /// Namespace.
        ns: NsRef,
        /// The port.
        link: Name,
        /// The bridge it leaves, for the inverse.
        master: Name,
    },
    /// Add an address (`ip address add`).
    AddAddress {
        /// Namespace.
        ns: NsRef,
        /// Link.
        link: Name,
        /// Address with prefix length.
        address: IpNetwork,
    },
    /// Delete an address (`ip address del`).
    DelAddress {
        /// Namespace.
        ns: NsRef,
        /// Link.
        link: Name,
        /// Address with prefix length.
        address: IpNetwork,
    },
    /// Add a route (`ip route add`).
    AddRoute {
        /// Namespace.
        ns: NsRef,
        /// The route.
        route: RouteSpec,
    },
    /// Delete a route (`ip route del`).
    DelRoute {
        /// Namespace.
        ns: NsRef,
        /// The route.
        route: RouteSpec,
    },
    /// Write a sysctl inside the namespace (`sysctl -w`).
    SetSysctl {
        /// Namespace.
        ns: NsRef,
        /// Setting.
        sysctl: Sysctl,
        /// New value.
        value: Name,
        /// Value before, for the inverse.
        previous: Name,
    },
    /// Add a masquerade rule to vnet's nftables table (creating the table if needed).
    AddNat {
        /// Namespace.
        ns: NsRef,
        /// The rule.
        rule: NatRule,
    },
    /// Delete a masquerade rule (and vnet's table once it is empty).
    DelNat {
        /// Namespace.
        ns: NsRef,
        /// The rule.
        rule: NatRule,
    },
    /// Replace vnet's whole nftables table in the namespace (masquerade, port forwards,
    /// filter chains) in one transaction: `to` loaded with [`Ruleset::load_script`], or
    /// the table removed when `to` is `None`.
    SetRuleset {
        /// Namespace.
        ns: NsRef,
        /// The table before (`None`: there was none), for the inverse.
        from: Option<Ruleset>,
        /// The table after (`None`: vnet keeps no table there).
        to: Option<Ruleset>,
    },
    /// Write a persistence file (shell renderers), replacing `previous` contents.
    WriteFile {
        /// Path relative to the render root.
        path: String,
        /// New contents.
        contents: String,
        /// Unix permissions.
        mode: u32,
        /// Contents before; `None` when the file did not exist.
        previous: Option<String>,
    },
    /// Remove a persistence file.
    RemoveFile {
        /// Path relative to the render root.
        path: String,
        /// Contents removed, for the inverse.
        contents: String,
        /// Unix permissions, for the inverse.
        mode: u32,
    },
}

impl Action {
    /// The action that undoes this one.
    pub fn inverse(&self) -> Action {
        use Action::*;
        match self.clone() {
            CreateNamespace { ns } => DeleteNamespace { ns },
            DeleteNamespace { ns } => CreateNamespace { ns },
            CreateLink { ns, spec } => DeleteLink { ns, spec },
            DeleteLink { ns, spec } => CreateLink { ns, spec },
            MoveLink {
                from,
                name,
                to,
                new_name,
            } => MoveLink {
                from: to,
                name: new_name,
                to: from,
                new_name: name,
            },
            SetMac {
                ns,
                link,
                mac,
                previous,
            } => SetMac {
                ns,
                link,
                mac: previous,
                previous: mac,
            },
            SetMtu {
                ns,
                link,
                mtu,
                previous,
            } => SetMtu {
                ns,
                link,
                mtu: previous,
                previous: mtu,
            },
            SetUp { ns, link } => SetDown { ns, link },
            SetDown { ns, link } => SetUp { ns, link },
            SetMaster { ns, link, master } => ClearMaster { ns, link, master },
            ClearMaster { ns, link, master } => SetMaster { ns, link, master },
            AddAddress { ns, link, address } => DelAddress { ns, link, address },
            DelAddress { ns, link, address } => AddAddress { ns, link, address },
            AddRoute { ns, route } => DelRoute { ns, route },
            DelRoute { ns, route } => AddRoute { ns, route },
            SetSysctl {
                ns,
                sysctl,
                value,
                previous,
            } => SetSysctl {
                ns,
                sysctl,
                value: previous,
                previous: value,
            },
            AddNat { ns, rule } => DelNat { ns, rule },
            DelNat { ns, rule } => AddNat { ns, rule },
            SetRuleset { ns, from, to } => SetRuleset {
                ns,
                from: to,
                to: from,
            },
            WriteFile {
                path,
                contents,
                mode,
                previous: Some(old),
            } => WriteFile {
                path,
                contents: old,
                mode,
                previous: Some(contents),
            },
            WriteFile {
                path,
                contents,
                mode,
                previous: None,
            } => RemoveFile {
                path,
                contents,
                mode,
            },
            RemoveFile {
                path,
                contents,
                mode,
            } => WriteFile {
                path,
                contents,
                mode,
                previous: None,
            },
        }
    }

    /// The namespace the action changes (the source, for a move); `None` for files.
    pub fn ns(&self) -> Option<&NsRef> {
        use Action::*;
        match self {
            CreateNamespace { ns } | DeleteNamespace { ns } => Some(ns),
            CreateLink { ns, .. } | DeleteLink { ns, .. } => Some(ns),
            MoveLink { from, .. } => Some(from),
            SetMac { ns, .. } | SetMtu { ns, .. } | SetUp { ns, .. } | SetDown { ns, .. } => {
                Some(ns)
            }
            SetMaster { ns, .. } | ClearMaster { ns, .. } => Some(ns),
            AddAddress { ns, .. } | DelAddress { ns, .. } => Some(ns),
            AddRoute { ns, .. } | DelRoute { ns, .. } => Some(ns),
            SetSysctl { ns, .. } | AddNat { ns, .. } | DelNat { ns, .. } => Some(ns),
            SetRuleset { ns, .. } => Some(ns),
            WriteFile { .. } | RemoveFile { .. } => None,
        }
    }

    /// The link the action works on, in its namespace ([`Action::ns`]): the link
    /// created, deleted, moved or set, or whose address or `disable_ipv6` it changes;
    /// `None` for namespaces, routes, NAT, rulesets, other sysctls and files.
    pub fn link(&self) -> Option<&str> {
        use Action::*;
        match self {
            CreateLink { spec, .. } | DeleteLink { spec, .. } => Some(spec.name()),
            MoveLink { name, .. } => Some(name),
            SetMac { link, .. }
            | SetMtu { link, .. }
            | SetUp { link, .. }
            | SetDown { link, .. }
            | SetMaster { link, .. }
            | ClearMaster { link, .. }
            | AddAddress { link, .. }
            | DelAddress { link, .. } => Some(link),
            SetSysctl { sysctl, .. } => sysctl.link(),
            CreateNamespace { .. }
            | DeleteNamespace { .. }
            | AddRoute { .. }
            | DelRoute { .. }
            | AddNat { .. }
            | DelNat { .. }
            | SetRuleset { .. }
            | WriteFile { .. }
            | RemoveFile { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_reads_like_ip_route() {
        let r = RouteSpec {
            dst: "198.18.0.0/16".parse().unwrap(),
            via: Some("198.18.1.1".parse().unwrap()),
            dev: Some("eth0".into()),
            metric: Some(10),
        };
        assert_eq!(
            r.to_string(),
            "198.18.0.0/16 via 198.18.1.1 dev eth0 metric 10"
        );
        let bare = RouteSpec {
            dst: "198.18.0.0/16".parse().unwrap(),
            via: None,
            dev: None,
            metric: None,
        };
        assert_eq!(bare.to_string(), "198.18.0.0/16");
    }
}
