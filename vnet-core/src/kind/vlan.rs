//! 802.1Q VLAN links: on a parent in the same namespace, whose MAC they take, and whose
//! MTU too unless given.

use super::{mtu_birth, Birth, End, LinkSpec};
use crate::observed::LinkKind;
use crate::plan::{Name, NsRef};

/// The VLAN link on `parent`.
pub(super) fn end<'a>(
    ns: &'a NsRef,
    name: &'a str,
    parent: &'a str,
    id: u16,
    mtu: Option<u32>,
) -> End<'a> {
    End {
        ns,
        name,
        kind: LinkKind::Vlan {
            parent: Some(parent.to_string()),
            id,
        },
        mac: Birth::Lower,
        mtu: mtu_birth(mtu, Birth::Lower),
        lower: Some((ns, parent)),
    }
}

/// `VLAN ID link NAME on PARENT`.
pub(super) fn describe(name: &str, parent: &str, id: u16) -> String {
    format!("VLAN {id} link {name} on {parent}")
}

/// `link add link PARENT name NAME [mtu N] type vlan id ID`.
pub(super) fn ip_link_add(name: &str, parent: &str, id: u16, mtu: Option<u32>) -> Vec<String> {
    let mut add: Vec<String> = ["link", "add", "link", parent, "name", name]
        .map(String::from)
        .to_vec();
    if let Some(m) = mtu {
        add.extend(["mtu".into(), m.to_string()]);
    }
    add.extend(["type".into(), "vlan".into(), "id".into(), id.to_string()]);
    add
}

/// An observed VLAN link, as a spec that deletes it (and recreates it on the same
/// parent, when the parent was seen).
pub(super) fn from_observed(name: &str, parent: &Option<String>, id: u16, mtu: u32) -> LinkSpec {
    LinkSpec::Vlan {
        name: Name::from(name),
        parent: Name::from(parent.clone().unwrap_or_default()),
        id,
        mtu: Some(mtu),
    }
}
