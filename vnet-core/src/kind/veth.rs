//! veth pairs: two ends, possibly in two namespaces, created by one request (the peer
//! directly in its namespace: moving it afterwards costs an RCU grace period).

use super::{mtu_birth, Birth, End, LinkSpec};
use crate::model::Mac;
use crate::observed::LinkKind;
use crate::plan::{Name, NsRef};

/// Both ends: the same MTU (the kernel's default unless given), each its pinned MAC.
pub(super) fn ends<'a>(
    ns: &'a NsRef,
    name: &'a str,
    mac: Mac,
    mtu: Option<u32>,
    peer_ns: &'a NsRef,
    peer_name: &'a str,
    peer_mac: Mac,
) -> Vec<End<'a>> {
    let end = |ns, name, mac| End {
        ns,
        name,
        kind: LinkKind::Veth,
        mac: Birth::Given(mac),
        mtu: mtu_birth(mtu, Birth::Kernel),
        lower: None,
    };
    vec![end(ns, name, mac), end(peer_ns, peer_name, peer_mac)]
}

/// `veth pair NAME (MAC) <-> NS:PEER (MAC)`.
pub(super) fn describe(
    name: &str,
    mac: Mac,
    peer_ns: &NsRef,
    peer_name: &str,
    peer_mac: Mac,
) -> String {
    format!("veth pair {name} ({mac}) <-> {peer_ns}:{peer_name} ({peer_mac})")
}

/// `link add NAME address MAC [mtu N] type veth peer name PEER address MAC [mtu N]
/// [netns NS]`.
pub(super) fn ip_link_add(
    here: &str,
    name: &str,
    mac: Mac,
    mtu: Option<u32>,
    peer: &str,
    peer_name: &str,
    peer_mac: Mac,
) -> Vec<String> {
    let mtu: Vec<String> = mtu.map_or(Vec::new(), |m| vec!["mtu".into(), m.to_string()]);
    let mut add: Vec<String> = vec!["link".into(), "add".into(), name.into()];
    add.extend(["address".into(), mac.to_string()]);
    add.extend(mtu.iter().cloned());
    add.extend(["type", "veth", "peer", "name"].map(String::from));
    add.extend([
        peer_name.to_string(),
        "address".into(),
        peer_mac.to_string(),
    ]);
    add.extend(mtu);
    // The peer is created directly in its namespace: moving it afterwards costs an RCU
    // grace period per link.
    if peer != here {
        add.extend(["netns".to_string(), peer.to_string()]);
    }
    add
}

/// An observed end, as a spec that deletes it (its peer is unknown: an empty name in
/// the same namespace). Links of no kind vnet creates are spelled the same way: only
/// their name matters for a delete.
pub(super) fn from_observed(ns: &NsRef, name: &str, mac: Mac, mtu: u32) -> LinkSpec {
    LinkSpec::Veth {
        name: Name::from(name),
        mac,
        mtu: Some(mtu),
        peer_ns: ns.clone(),
        peer_name: Name::default(),
        peer_mac: mac,
    }
}
