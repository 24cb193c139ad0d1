//! The forwarding switches (`net.ipv4.ip_forward`, `net.ipv6.conf.all.forwarding`)
//! read over rtnetlink: `RTM_GETNETCONF` for the "all" device configuration, the
//! answer to `ip netconf show` without a device.
//!
//! Why not `/proc/sys`: every `/proc/sys/net` lookup walks one entry per network
//! namespace under a spinlock (see [`super::sysctl::SysctlDir`]), so with 1,000
//! namespaces reading two files per namespace cost more than the three dumps. The
//! crate `netlink-packet-route` 0.34 has no netconf messages, so the request (a
//! `struct netconfmsg`, one family byte padded to 4, and one `NETCONFA_IFINDEX`
//! attribute) and the answer's attributes are encoded here by hand.

use vnet_core::plan::Sysctl;

/// `RTM_NEWNETCONF`: the answer's message type.
pub const RTM_NEWNETCONF: u16 = 80;
/// `RTM_GETNETCONF`: the request's message type.
pub const RTM_GETNETCONF: u16 = 82;
/// `NETCONFA_IFINDEX`.
const NETCONFA_IFINDEX: u16 = 1;
/// `NETCONFA_FORWARDING`.
const NETCONFA_FORWARDING: u16 = 2;
/// `NETCONFA_IFINDEX_ALL`: the namespace-wide ("all") configuration.
const NETCONFA_IFINDEX_ALL: i32 = -1;
/// `NLA_TYPE_MASK`: attribute type bits without the nested/byte-order flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// The address family whose "all" configuration carries `sysctl`, for the forwarding
/// switches; `None` for any other setting.
pub fn family_of(sysctl: &Sysctl) -> Option<u8> {
    match sysctl {
        Sysctl::Ipv4Forward => Some(nix::libc::AF_INET as u8),
        Sysctl::Ipv6Forward => Some(nix::libc::AF_INET6 as u8),
        _ => None,
    }
}

/// The payload of an `RTM_GETNETCONF` request for `family`'s "all" configuration
/// (`ip -4 netconf show` minus the devices).
pub fn get_all(family: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    // struct netconfmsg { __u8 ncm_family; }, aligned to 4.
    out.extend_from_slice(&[family, 0, 0, 0]);
    // struct nlattr { __u16 nla_len; __u16 nla_type; } + s32.
    out.extend_from_slice(&8u16.to_ne_bytes());
    out.extend_from_slice(&NETCONFA_IFINDEX.to_ne_bytes());
    out.extend_from_slice(&NETCONFA_IFINDEX_ALL.to_ne_bytes());
    out
}

/// `NETCONFA_FORWARDING` of an `RTM_NEWNETCONF` payload, as `/proc` would print it;
/// `None` when the answer does not carry it.
pub fn forwarding(payload: &[u8]) -> Option<String> {
    let mut rest = payload.get(4..)?;
    while rest.len() >= 4 {
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > rest.len() {
            return None;
        }
        if kind == NETCONFA_FORWARDING && len >= 8 {
            let v = i32::from_ne_bytes([rest[4], rest[5], rest[6], rest[7]]);
            return Some(v.to_string());
        }
        let step = (len + 3) & !3;
        rest = rest.get(step.min(rest.len())..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: i32) -> Vec<u8> {
        let mut a = 8u16.to_ne_bytes().to_vec();
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(&value.to_ne_bytes());
        a
    }

    #[test]
    fn request_is_a_family_header_and_the_all_index() {
        let req = get_all(2);
        assert_eq!(req.len(), 12);
        assert_eq!(&req[..4], &[2, 0, 0, 0]);
        assert_eq!(u16::from_ne_bytes([req[4], req[5]]), 8);
        assert_eq!(u16::from_ne_bytes([req[6], req[7]]), NETCONFA_IFINDEX);
        assert_eq!(i32::from_ne_bytes([req[8], req[9], req[10], req[11]]), -1);
    }

    #[test]
    fn finds_forwarding_among_other_attributes() {
        let mut p = vec![10, 0, 0, 0];
        p.extend(attr(NETCONFA_IFINDEX, -1));
        p.extend(attr(3, 0)); // rp_filter
        p.extend(attr(NETCONFA_FORWARDING, 1));
        assert_eq!(forwarding(&p).as_deref(), Some("1"));
        let mut without = vec![2, 0, 0, 0];
        without.extend(attr(NETCONFA_IFINDEX, -1));
        assert_eq!(forwarding(&without), None);
    }

    #[test]
    fn garbled_attributes_are_not_read() {
        let mut p = vec![2, 0, 0, 0];
        p.extend_from_slice(&200u16.to_ne_bytes()); // longer than the payload
        p.extend_from_slice(&NETCONFA_FORWARDING.to_ne_bytes());
        p.extend_from_slice(&1i32.to_ne_bytes());
        assert_eq!(forwarding(&p), None);
        assert_eq!(forwarding(&[2, 0]), None);
    }

    #[test]
    fn only_the_forwarding_switches_have_a_family() {
        assert_eq!(family_of(&Sysctl::Ipv4Forward), Some(2));
        assert_eq!(family_of(&Sysctl::Ipv6Forward), Some(10));
        assert_eq!(family_of(&Sysctl::DisableIpv6("eth0".into())), None);
    }
}
