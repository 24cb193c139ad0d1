//! Static routes, in containers and on LAN hosts.

use ipnetwork::IpNetwork;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A static route: `to` via `via` (dev `dev`) metric `metric`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The destination: a prefix, or `default`.
    pub to: RouteDest,
    /// The next hop; it must be on-link (inside a subnet of an interface of the same
    /// namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// The outgoing interface, when not implied by the next hop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// The route's metric (priority), when not the kernel's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
}

/// Where a route leads: a prefix, or the default route of the next hop's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteDest {
    /// `default`: 0.0.0.0/0 or ::/0, the family taken from the next hop.
    Default,
    /// A prefix such as `192.168.0.0/16`.
    Prefix(IpNetwork),
}

impl RouteDest {
    /// Whether this is a default route (`default`, `0.0.0.0/0` or `::/0`).
    pub fn is_default(&self) -> bool {
        match self {
            RouteDest::Default => true,
            RouteDest::Prefix(p) => p.prefix() == 0,
        }
    }
}

impl fmt::Display for RouteDest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteDest::Default => f.write_str("default"),
            RouteDest::Prefix(p) => write!(f, "{p}"),
        }
    }
}

impl FromStr for RouteDest {
    type Err = ipnetwork::IpNetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "default" {
            Ok(RouteDest::Default)
        } else {
            s.parse().map(RouteDest::Prefix)
        }
    }
}

impl Serialize for RouteDest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RouteDest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "invalid route destination {s:?}: expected `default` or a prefix such as 192.168.0.0/16"
            ))
        })
    }
}
