//! Link messages: create (veth with the peer in place, bridge, VLAN), delete, move,
//! and the `ip link set` family.

use std::os::fd::RawFd;

use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoMacVlan, InfoVeth, InfoVlan, InfoVxlan,
    LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::RouteNetlinkMessage;
use vnet_core::model::Mac;
use vnet_core::plan::LinkSpec;

/// A link message that names its link (index 0: the kernel looks the name up).
fn named(name: &str) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes.push(LinkAttribute::IfName(name.to_string()));
    msg
}

/// What a [`LinkSpec`] needs from the namespaces around it to become a message.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateContext {
    /// For a veth: the peer namespace's fd (`IFLA_NET_NS_FD` in the peer's info).
    pub peer_ns_fd: Option<RawFd>,
    /// For a VLAN link or a macvlan: the parent's ifindex; for a VXLAN device: the
    /// underlay device's.
    pub parent_index: Option<u32>,
    /// For a macvlan created into another namespace than its parent's: that
    /// namespace's fd (`IFLA_NET_NS_FD` on the link itself).
    pub target_ns_fd: Option<RawFd>,
}

/// `ip link add ...`: the create message for `spec`, marked with `alias`.
///
/// A veth's peer is created directly in its namespace (moving it afterwards waits for
/// an RCU grace period). The ownership alias is not part of the create message: it is
/// set by a [`set_alias`] right after, on each end (the peer's through its own
/// namespace's socket), so the mark is written the same way for every link kind.
pub fn create(spec: &LinkSpec, ctx: CreateContext) -> RouteNetlinkMessage {
    let mut msg = named(spec.name());
    let attrs = &mut msg.attributes;
    match spec {
        LinkSpec::Veth {
            mac,
            mtu,
            peer_name,
            peer_mac,
            ..
        } => {
            attrs.push(LinkAttribute::Address(mac.octets().to_vec()));
            if let Some(mtu) = mtu {
                attrs.push(LinkAttribute::Mtu(*mtu));
            }
            let mut peer = named(peer_name);
            peer.attributes
                .push(LinkAttribute::Address(peer_mac.octets().to_vec()));
            if let Some(mtu) = mtu {
                peer.attributes.push(LinkAttribute::Mtu(*mtu));
            }
            if let Some(fd) = ctx.peer_ns_fd {
                peer.attributes.push(LinkAttribute::NetNsFd(fd));
            }
            attrs.push(LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Veth),
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
            ]));
        }
        LinkSpec::Bridge { mac, stp, mtu, .. } => {
            // Pinned at create: a bridge without a set MAC takes the lowest port MAC
            // and changes it as ports come and go (netavark #833).
            attrs.push(LinkAttribute::Address(mac.octets().to_vec()));
            if let Some(mtu) = mtu {
                attrs.push(LinkAttribute::Mtu(*mtu));
            }
            let stp = if *stp {
                BridgeStpState::KernelStp
            } else {
                BridgeStpState::Disabled
            };
            attrs.push(LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Bridge),
                LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::StpState(stp)])),
            ]));
        }
        LinkSpec::Vlan { id, mtu, .. } => {
            if let Some(parent) = ctx.parent_index {
                attrs.push(LinkAttribute::Link(parent));
            }
            if let Some(mtu) = mtu {
                attrs.push(LinkAttribute::Mtu(*mtu));
            }
            attrs.push(LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Vlan),
                LinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(*id)])),
            ]));
        }
        LinkSpec::Vxlan {
            vni,
            local,
            port,
            mtu,
            ..
        } => {
            if let Some(mtu) = mtu {
                attrs.push(LinkAttribute::Mtu(*mtu));
            }
            // `ip link add NAME type vxlan id VNI local LOCAL dstport PORT [dev DEV]`;
            // learning on, as iproute2 leaves it. The remotes are FDB entries, added
            // once the device exists (see `ops::fdb`).
            let mut data = vec![
                InfoVxlan::Id(*vni),
                match local {
                    std::net::IpAddr::V4(a) => InfoVxlan::Local(*a),
                    std::net::IpAddr::V6(a) => InfoVxlan::Local6(*a),
                },
                InfoVxlan::Port(*port),
                InfoVxlan::Learning(true),
            ];
            if let Some(dev) = ctx.parent_index {
                data.push(InfoVxlan::Link(dev));
            }
            attrs.push(LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::Vxlan),
                LinkInfo::Data(InfoData::Vxlan(data)),
            ]));
        }
        LinkSpec::Macvlan { mode, mac, mtu, .. } => {
            // `ip link add link PARENT name NAME address MAC netns NS type macvlan
            // mode M`, sent from the parent's namespace.
            attrs.push(LinkAttribute::Address(mac.octets().to_vec()));
            if let Some(mtu) = mtu {
                attrs.push(LinkAttribute::Mtu(*mtu));
            }
            if let Some(parent) = ctx.parent_index {
                attrs.push(LinkAttribute::Link(parent));
            }
            if let Some(fd) = ctx.target_ns_fd {
                attrs.push(LinkAttribute::NetNsFd(fd));
            }
            attrs.push(LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::MacVlan),
                LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                    MacVlanMode::from(mode.kernel_value()),
                )])),
            ]));
        }
    }
    RouteNetlinkMessage::NewLink(msg)
}

/// `ip link set NAME alias ALIAS`.
pub fn set_alias(name: &str, alias: &str) -> RouteNetlinkMessage {
    let mut msg = named(name);
    msg.attributes
        .push(LinkAttribute::IfAlias(alias.to_string()));
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link del NAME` (a veth's peer goes with it).
pub fn delete(name: &str) -> RouteNetlinkMessage {
    RouteNetlinkMessage::DelLink(named(name))
}

/// `ip link set NAME netns NS name NEW`: the move needs the index, because a set that
/// carries `IFLA_IFNAME` without an index means "look up by this name", not "rename".
pub fn move_to(index: u32, new_name: &str, ns_fd: RawFd) -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes
        .push(LinkAttribute::IfName(new_name.to_string()));
    msg.attributes.push(LinkAttribute::NetNsFd(ns_fd));
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link set NAME address MAC`.
pub fn set_mac(name: &str, mac: Mac) -> RouteNetlinkMessage {
    let mut msg = named(name);
    msg.attributes
        .push(LinkAttribute::Address(mac.octets().to_vec()));
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link set NAME mtu N`.
pub fn set_mtu(name: &str, mtu: u32) -> RouteNetlinkMessage {
    let mut msg = named(name);
    msg.attributes.push(LinkAttribute::Mtu(mtu));
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link set NAME up` / `down`.
pub fn set_up(name: &str, up: bool) -> RouteNetlinkMessage {
    let mut msg = named(name);
    msg.header.change_mask = LinkFlags::Up;
    if up {
        msg.header.flags = LinkFlags::Up;
    }
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link set NAME master BR` (`master_index` = the bridge's index) or, with 0,
/// `ip link set NAME nomaster`.
pub fn set_master(name: &str, master_index: u32) -> RouteNetlinkMessage {
    let mut msg = named(name);
    msg.attributes.push(LinkAttribute::Controller(master_index));
    RouteNetlinkMessage::SetLink(msg)
}

/// `ip link show`: a dump of every link in the namespace, without the counters
/// (`RTEXT_FILTER_SKIP_STATS`: nothing vnet reads, and most of a link message's size;
/// the IPv6 device settings, `disable_ipv6` among them, still come).
pub fn dump() -> RouteNetlinkMessage {
    let mut msg = LinkMessage::default();
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    RouteNetlinkMessage::GetLink(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    #[test]
    fn veth_create_carries_both_macs_and_the_peer_namespace() {
        let spec = LinkSpec::Veth {
            name: "veth1".into(),
            mac: Mac::new(0, 0x12, 0x34, 0x56, 0x78, 0x9A),
            mtu: Some(1400),
            peer_ns: vnet_core::plan::NsRef::Ct("router".into()),
            peer_name: "eth0".into(),
            peer_mac: Mac::new(0, 0x12, 0x34, 0x56, 0x78, 0x9B),
        };
        let RouteNetlinkMessage::NewLink(msg) = create(
            &spec,
            CreateContext {
                peer_ns_fd: Some(7),
                parent_index: None,
                target_ns_fd: None,
            },
        ) else {
            panic!("not a newlink");
        };
        assert!(msg
            .attributes
            .contains(&LinkAttribute::IfName("veth1".into())));
        let info = msg
            .attributes
            .iter()
            .find_map(|a| match a {
                LinkAttribute::LinkInfo(i) => Some(i),
                _ => None,
            })
            .expect("link info");
        let peer = info
            .iter()
            .find_map(|i| match i {
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))) => Some(p),
                _ => None,
            })
            .expect("peer");
        assert!(peer.attributes.contains(&LinkAttribute::NetNsFd(7)));
        assert!(peer.attributes.contains(&LinkAttribute::Address(vec![
            0, 0x12, 0x34, 0x56, 0x78, 0x9B
        ])));
        assert!(peer.attributes.contains(&LinkAttribute::Mtu(1400)));
        // It serializes (the peer message nests inside the info data).
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        assert!(buf.len() > 60);
    }

    #[test]
    fn down_clears_only_the_up_flag() {
        let RouteNetlinkMessage::SetLink(msg) = set_up("eth0", false) else {
            panic!("not a setlink");
        };
        assert_eq!(msg.header.change_mask, LinkFlags::Up);
        assert!(msg.header.flags.is_empty());
    }

    #[test]
    fn a_macvlan_names_its_parent_and_lands_in_the_target_namespace() {
        let spec = LinkSpec::Macvlan {
            name: "eth0".into(),
            parent_ns: vnet_core::plan::NsRef::Node("m1".into()),
            parent: "eth1".into(),
            mode: vnet_core::model::MacvlanMode::Bridge,
            mac: Mac::new(2, 0, 0, 0x46, 0, 0x11),
            mtu: None,
        };
        let ctx = CreateContext {
            peer_ns_fd: None,
            parent_index: Some(3),
            target_ns_fd: Some(9),
        };
        let RouteNetlinkMessage::NewLink(msg) = create(&spec, ctx) else {
            panic!("not a newlink");
        };
        let a = &msg.attributes;
        assert!(a.contains(&LinkAttribute::IfName("eth0".into())));
        assert!(a.contains(&LinkAttribute::Link(3)));
        assert!(a.contains(&LinkAttribute::NetNsFd(9)));
        assert!(a.contains(&LinkAttribute::Address(vec![2, 0, 0, 0x46, 0, 0x11])));
        assert!(a.contains(&LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                MacVlanMode::Bridge
            )])),
        ])));
    }
}
