//! macvlan links: a container's interface straight on a device of its node. It is
//! created from the node's namespace (where its parent is) directly into the container's
//! (`IFLA_NET_NS_FD`), which is much faster than creating it on the node and moving it.

use super::{mtu_birth, Birth, End, LinkSpec};
use crate::model::{Mac, MacvlanMode};
use crate::observed::LinkKind;
use crate::plan::{Name, NsRef};

/// The macvlan in `ns`: its pinned MAC, the parent's MTU unless given.
pub(super) fn end<'a>(
    ns: &'a NsRef,
    name: &'a str,
    lower: (&'a NsRef, &'a str),
    mode: MacvlanMode,
    mac: Mac,
    mtu: Option<u32>,
) -> End<'a> {
    End {
        ns,
        name,
        kind: LinkKind::Macvlan { mode },
        mac: Birth::Given(mac),
        mtu: mtu_birth(mtu, Birth::Lower),
        lower: Some(lower),
    }
}

/// `macvlan NAME (MAC, mode M) on NS:PARENT`.
pub(super) fn describe(
    name: &str,
    mac: Mac,
    mode: MacvlanMode,
    parent_ns: &NsRef,
    parent: &str,
) -> String {
    format!(
        "macvlan {name} ({mac}, mode {}) on {parent_ns}:{parent}",
        mode.as_str()
    )
}

/// `link add link PARENT name NAME address MAC [mtu N] [netns NS] type macvlan mode M`,
/// run in the parent's namespace `from`; `here` names the macvlan's.
pub(super) fn ip_link_add(
    here: &str,
    from: &str,
    name: &str,
    parent: &str,
    mode: MacvlanMode,
    mac: Mac,
    mtu: Option<u32>,
) -> Vec<String> {
    let mut add: Vec<String> = ["link", "add", "link", parent, "name", name]
        .map(String::from)
        .to_vec();
    add.extend(["address".into(), mac.to_string()]);
    if let Some(m) = mtu {
        add.extend(["mtu".into(), m.to_string()]);
    }
    if here != from {
        add.extend(["netns".into(), here.to_string()]);
    }
    add.extend(["type", "macvlan", "mode", mode.as_str()].map(String::from));
    add
}

/// An observed macvlan, as a spec that deletes it. Its parent is in another namespace
/// and not observed: the spec names none, so its inverse cannot recreate it.
pub(super) fn from_observed(
    ns: &NsRef,
    name: &str,
    mode: MacvlanMode,
    mac: Mac,
    mtu: u32,
) -> LinkSpec {
    LinkSpec::Macvlan {
        name: Name::from(name),
        parent_ns: ns.clone(),
        parent: Name::default(),
        mode,
        mac,
        mtu: Some(mtu),
    }
}
