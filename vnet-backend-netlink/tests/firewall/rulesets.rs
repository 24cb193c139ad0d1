//! Varied rulesets for the read-back round trips: a seed picks each part (masquerade,
//! port forwards with or without interface, address, port range, IPv6, filter chains
//! with either policy and accept rules of every shape), in the normal form the planner
//! writes (prefixes without host bits, no `to_port` equal to the port, one address family
//! per rule). The same seed always gives the same ruleset, so a failure names its seed.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use vnet_core::model::{PortRange, Proto, Verdict};
use vnet_core::plan::{DnatRule, FilterChain, FilterRule, Name, NatRule, Ruleset};

/// SplitMix64: small, seeded, good enough to spread choices.
pub struct Pick(u64);

impl Pick {
    pub fn new(seed: u64) -> Pick {
        Pick(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// The ruleset of `seed` (never empty).
pub fn ruleset(seed: u64) -> Ruleset {
    let mut p = Pick::new(seed);
    loop {
        let r = Ruleset {
            masquerade: (0..p.below(4)).map(|_| masquerade(&mut p)).collect(),
            dnat: (0..p.below(5)).map(|_| dnat(&mut p)).collect(),
            forward: (!p.one_in(3)).then(|| chain(&mut p)),
            input: (!p.one_in(2)).then(|| chain(&mut p)),
        };
        if !r.is_empty() {
            return r;
        }
    }
}

fn v6(p: &mut Pick) -> bool {
    p.one_in(3)
}

fn address(p: &mut Pick, v6: bool) -> IpAddr {
    if v6 {
        format!("fd00:{:x}::{:x}", p.below(4), 1 + p.below(500))
            .parse()
            .unwrap()
    } else {
        format!("198.18.{}.{}", p.below(4), 1 + p.below(250))
            .parse()
            .unwrap()
    }
}

/// A prefix without host bits (a host, a LAN, or anything in between).
fn prefix(p: &mut Pick, v6: bool) -> IpNetwork {
    let addr = address(p, v6);
    let len = if v6 {
        [128, 64, 48, 127][p.below(4) as usize]
    } else {
        [32, 24, 16, 30][p.below(4) as usize]
    };
    let net = IpNetwork::new(addr, len).unwrap();
    IpNetwork::new(net.network(), len).unwrap()
}

fn interface(p: &mut Pick) -> Name {
    Name::from(["eth0", "eth1", "lan0", "wan.42", "br-x"][p.below(5) as usize])
}

fn proto(p: &mut Pick) -> Proto {
    if p.one_in(2) {
        Proto::Tcp
    } else {
        Proto::Udp
    }
}

fn ports(p: &mut Pick) -> PortRange {
    let first = 1 + p.below(60000) as u16;
    if p.one_in(3) {
        PortRange {
            first,
            last: first + p.below(100) as u16,
        }
    } else {
        PortRange::single(first)
    }
}

fn masquerade(p: &mut Pick) -> NatRule {
    let v6 = v6(p);
    NatRule {
        source: prefix(p, v6),
        out: interface(p),
    }
}

fn dnat(p: &mut Pick) -> DnatRule {
    let v6 = v6(p);
    let dport = ports(p);
    // A different target port (range of the same length) one time in two.
    let to_port = p.one_in(2).then(|| {
        let first = 1 + p.below(60000) as u16;
        PortRange {
            first,
            last: first + (dport.last - dport.first),
        }
    });
    DnatRule {
        proto: proto(p),
        iif: p.one_in(2).then(|| interface(p)),
        daddr: p.one_in(2).then(|| address(p, v6)),
        dport,
        to: address(p, v6),
        to_port: to_port.filter(|t| *t != dport),
    }
}

fn chain(p: &mut Pick) -> FilterChain {
    FilterChain {
        policy: if p.one_in(2) {
            Verdict::Drop
        } else {
            Verdict::Accept
        },
        accept: (0..p.below(6)).map(|_| accept(p)).collect(),
    }
}

fn accept(p: &mut Pick) -> FilterRule {
    let v6 = v6(p);
    let proto = (!p.one_in(3)).then(|| proto(p));
    FilterRule {
        saddr: (!p.one_in(3)).then(|| prefix(p, v6)),
        daddr: p.one_in(2).then(|| prefix(p, v6)),
        proto,
        dport: proto.filter(|_| !p.one_in(3)).map(|_| ports(p)),
    }
}
