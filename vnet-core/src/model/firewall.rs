//! The router's firewall role as written: port forwards and filter policies of a container.
//!
//! ```toml
//! [[ct.port_forward]]          # SMTP from the LAN to mail, through the router
//! proto = "tcp"
//! address = "192.168.46.200"   # or: interface = "eth1"
//! port = 25                    # or a range: "8000-8010"
//! to = "192.168.199.2"         # to_port = 2525 when it differs
//!
//! [ct.firewall.forward]        # what the router forwards
//! policy = "drop"
//! allow = [{ from = "192.168.199.0/24" }, { from = "gw46", to = "mail", proto = "tcp", port = 25 }]
//!
//! [ct.firewall.input]          # what reaches the container itself
//! policy = "drop"
//! allow = [{ from = "mail", proto = "tcp", port = 5432 }]
//! ```
//!
//! Established and related traffic is always accepted, and so is traffic a port forward
//! sent on: a forward needs no allow rule of its own. `from` and `to` name an address, a
//! prefix, or an element of the topology (a container or a LAN host: all its addresses).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A transport protocol a port forward or an allow rule matches.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// TCP.
    #[default]
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// The nft and `/etc/services` spelling: `tcp`, `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A port or an inclusive range of ports: `25` or `"8000-8010"` in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    /// The first port.
    pub first: u16,
    /// The last port (`first` for a single port).
    pub last: u16,
}

impl PortRange {
    /// A single port.
    pub fn single(port: u16) -> PortRange {
        PortRange {
            first: port,
            last: port,
        }
    }

    /// How many ports the range holds.
    pub fn len(self) -> u32 {
        u32::from(self.last.saturating_sub(self.first)) + 1
    }

    /// Whether the range holds no port (never, for a valid one; kept for clippy's sake).
    pub fn is_empty(self) -> bool {
        self.last < self.first
    }

    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

/// `25` or `8000-8010`, as nft writes it.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// Why a port range is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a port (1-65535) or a range FIRST-LAST of ports with FIRST <= LAST")]
pub struct PortRangeError(pub String);

impl FromStr for PortRange {
    type Err = PortRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PortRangeError(s.to_string());
        let port = |p: &str| match p.trim().parse::<u16>() {
            Ok(0) | Err(_) => Err(bad()),
            Ok(n) => Ok(n),
        };
        let range = match s.split_once('-') {
            Some((a, b)) => PortRange {
                first: port(a)?,
                last: port(b)?,
            },
            None => PortRange::single(port(s)?),
        };
        if range.is_empty() {
            return Err(bad());
        }
        Ok(range)
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last {
            s.serialize_u16(self.first)
        } else {
            s.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(i64),
            Text(String),
        }
        let text = match Written::deserialize(d)? {
            Written::Number(n) => n.to_string(),
            Written::Text(t) => t,
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A port forward (destination NAT) on a container that routes: traffic for `address`
/// (or arriving on `interface`) on `port` goes on to `to`, on `to_port` or the same port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortForward {
    /// The protocol, `tcp` or `udp`.
    pub proto: Proto,
    /// The container's own address the forward listens on, e.g. `192.168.46.200`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// The container's interface the forward listens on, e.g. `eth1` (instead of, or
    /// besides, `address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The port or range forwarded.
    pub port: PortRange,
    /// The address traffic is sent on to (a container's).
    pub to: IpAddr,
    /// The target port (the first of a range of the same length); `port` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_port: Option<PortRange>,
}

/// The filter policies of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Firewall {
    /// What the container forwards between its interfaces (only on a container that
    /// forwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<FilterPolicy>,
    /// What reaches the container itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<FilterPolicy>,
}

/// One filter chain: a default verdict and the traffic allowed besides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterPolicy {
    /// What happens to traffic no rule allows.
    pub policy: Verdict,
    /// The traffic accepted whatever the policy, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<Allow>,
}

/// A chain's default verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Let it through.
    Accept,
    /// Drop it silently (a TCP client times out).
    Drop,
}

impl Verdict {
    /// The nft spelling: `accept`, `drop`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Drop => "drop",
        }
    }
}

/// Traffic an allow rule accepts: every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// The source: an address, a prefix, or a container or LAN host by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The destination: an address, a prefix, or a container or LAN host by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The protocol; any when omitted (then no `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<Proto>,
    /// The destination port or range (needs `proto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortRange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse_and_print_back() {
        assert_eq!("25".parse(), Ok(PortRange::single(25)));
        let r: PortRange = "8000-8010".parse().unwrap();
        assert_eq!((r.first, r.last, r.len()), (8000, 8010, 11));
        assert_eq!(r.to_string(), "8000-8010");
        for bad in ["0", "70000", "10-9", "a", "", "5-"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_forward_reads_from_toml_with_a_number_or_a_range() {
        let f: PortForward = toml::from_str(
            "proto = \"tcp\"\naddress = \"192.168.46.200\"\nport = 25\nto = \"192.168.199.2\"",
        )
        .unwrap();
        assert_eq!(f.port, PortRange::single(25));
        let f: PortForward = toml::from_str(
            "proto = \"udp\"\ninterface = \"eth1\"\nport = \"60000-60010\"\nto = \"10.0.0.2\"",
        )
        .unwrap();
        assert_eq!(f.port.len(), 11);
        assert!(
            toml::from_str::<PortForward>("proto = \"sctp\"\nport = 1\nto = \"10.0.0.2\"").is_err()
        );
    }
}
