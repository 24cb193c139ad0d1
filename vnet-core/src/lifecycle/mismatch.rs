//! [`Mismatch`]: one difference between what the topology wants and what the system
//! holds, as data (which object of which kind, which field, both values), so callers
//! match on it instead of parsing text.

use std::fmt;

use ipnetwork::IpNetwork;
use serde::Serialize;

use crate::plan::{NsRef, Ruleset, RulesetPart, Sysctl};

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
    /// vnet's nftables table (`Firewall(None)`: the table as a whole), or one part of it.
    Firewall(Option<RulesetPart>),
}

impl Object {
    /// The link the object is or belongs to: a link, or its `disable_ipv6` switch.
    pub fn link(&self) -> Option<&str> {
        match self {
            Object::Link(name) => Some(name),
            Object::Sysctl(sysctl) => sysctl.link(),
            Object::Namespace | Object::Route(_) | Object::Firewall(_) => None,
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
            Object::Firewall(None) => f.write_str("firewall"),
            Object::Firewall(Some(part)) => write!(f, "firewall {part}"),
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
    /// The rules of a part of the firewall table.
    Rules,
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
            Field::Rules => "rules",
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

/// The differences between the firewall table `want`ed in `ns` and the one found there:
/// the table missing or unexpected as a whole, or each part (masquerade, port forwards,
/// a filter chain) whose rules differ, with both sides as nft writes them.
pub fn ruleset_mismatches(
    ns: &NsRef,
    want: Option<&Ruleset>,
    have: Option<&Ruleset>,
) -> Vec<Mismatch> {
    let m = |object, field, desired: String, found: String| Mismatch {
        ns: ns.clone(),
        object,
        field,
        desired,
        found,
    };
    let yes = || "yes".to_string();
    match (want, have) {
        (None, None) => Vec::new(),
        (Some(_), None) => vec![m(Object::Firewall(None), Field::Exists, yes(), "no".into())],
        (None, Some(_)) => vec![m(Object::Firewall(None), Field::Exists, "no".into(), yes())],
        (Some(w), Some(h)) => RulesetPart::ALL
            .into_iter()
            .filter_map(|part| {
                let (dw, dh) = (w.part_text(part), h.part_text(part));
                (dw != dh).then(|| m(Object::Firewall(Some(part)), Field::Rules, dw, dh))
            })
            .collect(),
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

    #[test]
    fn a_firewall_difference_names_the_part_and_shows_both_sides() {
        use crate::model::Verdict;
        use crate::plan::FilterChain;
        let ns = NsRef::Ct("router".into());
        let drop = Ruleset {
            forward: Some(FilterChain {
                policy: Verdict::Drop,
                accept: vec![],
            }),
            ..Ruleset::default()
        };
        assert!(ruleset_mismatches(&ns, Some(&drop), Some(&drop)).is_empty());
        let missing = ruleset_mismatches(&ns, Some(&drop), None);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].is_missing());
        assert_eq!(
            missing[0].to_string(),
            "ct router firewall: exists is no, expected yes"
        );
        let open = Ruleset {
            forward: Some(FilterChain {
                policy: Verdict::Accept,
                accept: vec![],
            }),
            ..Ruleset::default()
        };
        let d = ruleset_mismatches(&ns, Some(&drop), Some(&open));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].object, Object::Firewall(Some(RulesetPart::Forward)));
        assert_eq!(
            d[0].to_string(),
            "ct router firewall forward: rules is policy accept, expected policy drop"
        );
    }
}
