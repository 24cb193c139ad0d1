//! [`Mismatch`]: one difference between what the topology wants and what the system
//! holds, as data (which object of which kind, which field, both values), so callers
//! match on it instead of parsing text.

use std::fmt;

use ipnetwork::IpNetwork;
use serde::Serialize;

use crate::plan::{NatRule, NsRef, Sysctl};

/// The object a difference is about, in its namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Object {
    /// The namespace itself.
    Namespace,
    /// A link, by name.
    Link(String),
    /// A route, by destination.
    Route(IpNetwork),
    /// A kernel setting.
    Sysctl(Sysctl),
    /// A masquerade rule.
    Nat(NatRule),
}

impl Object {
    /// The link the object is or belongs to: a link, or its `disable_ipv6` switch.
    pub fn link(&self) -> Option<&str> {
        match self {
            Object::Link(name) => Some(name),
            Object::Sysctl(sysctl) => sysctl.link(),
            Object::Namespace | Object::Route(_) | Object::Nat(_) => None,
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Namespace => f.write_str("namespace"),
            Object::Link(name) => write!(f, "link {name}"),
            Object::Route(dst) => write!(f, "route {dst}"),
            Object::Sysctl(sysctl) => write!(f, "sysctl {}", sysctl.key()),
            Object::Nat(rule) => write!(f, "nat {} -> {}", rule.source, rule.out),
        }
    }
}

/// Which property of the object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Whether it exists at all (`yes`/`no`; a route's present side is the route).
    Exists,
    /// The topology that marked it.
    Owner,
    /// A link's kind.
    Kind,
    /// A link's MAC address.
    Mac,
    /// A link's MTU.
    Mtu,
    /// Whether a link is up.
    Up,
    /// A link's bridge.
    Master,
    /// A link's addresses.
    Addresses,
    /// A sysctl's value.
    Value,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Exists => "exists",
            Field::Owner => "owner",
            Field::Kind => "kind",
            Field::Mac => "mac",
            Field::Mtu => "mtu",
            Field::Up => "up",
            Field::Master => "master",
            Field::Addresses => "addresses",
            Field::Value => "value",
        })
    }
}

/// One difference between desired and found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The namespace.
    pub ns: NsRef,
    /// The object.
    pub object: Object,
    /// The property that differs.
    pub field: Field,
    /// What the topology wants, as people read it.
    pub desired: String,
    /// What the system has, as people read it.
    pub found: String,
}

impl Mismatch {
    /// Whether the object is missing (wanted, not there).
    pub fn is_missing(&self) -> bool {
        self.field == Field::Exists && self.found == "no"
    }

    /// Whether the object is there and should not be.
    pub fn is_unexpected(&self) -> bool {
        self.field == Field::Exists && self.desired == "no"
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An empty side (no addresses, say) reads as "none", not as nothing at all.
        let shown = |v: &str| if v.is_empty() { "none" } else { v }.to_string();
        write!(
            f,
            "{} {}: {} is {}, expected {}",
            self.ns,
            self.object,
            self.field,
            shown(&self.found),
            shown(&self.desired)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_reads_as_a_sentence_and_names_its_link() {
        let m = Mismatch {
            ns: NsRef::Node("m1".into()),
            object: Object::Link("veth2".into()),
            field: Field::Up,
            desired: "true".into(),
            found: "false".into(),
        };
        assert_eq!(
            m.to_string(),
            "node m1 link veth2: up is false, expected true"
        );
        assert_eq!(m.object.link(), Some("veth2"));
        let sysctl = Object::Sysctl(Sysctl::DisableIpv6("eth0".into()));
        assert_eq!(sysctl.to_string(), "sysctl net.ipv6.conf.eth0.disable_ipv6");
        assert_eq!(sysctl.link(), Some("eth0"));
        assert_eq!(Object::Sysctl(Sysctl::Ipv4Forward).link(), None);
    }
}
