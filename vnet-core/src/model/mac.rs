//! [`Mac`]: an EUI-48 address written and serialized as `00:12:34:56:78:9A`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A MAC address (EUI-48), written `00:12:34:56:78:9A` (as `ip link` and the article
/// write it; `-` separators are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(macaddr::MacAddr6);

impl Mac {
    /// The MAC with these six octets.
    pub const fn new(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> Mac {
        Mac(macaddr::MacAddr6::new(a, b, c, d, e, f))
    }

    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0.into_array()
    }

    /// Whether the group (multicast) bit of the first octet is set; broadcast included.
    pub fn is_multicast(&self) -> bool {
        self.octets()[0] & 0x01 == 0x01
    }

    /// Whether every octet is zero.
    pub fn is_zero(&self) -> bool {
        self.octets() == [0; 6]
    }
}

impl From<[u8; 6]> for Mac {
    fn from(b: [u8; 6]) -> Mac {
        Mac(macaddr::MacAddr6::from(b))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.octets();
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl FromStr for Mac {
    type Err = macaddr::ParseError;

    fn from_str(s: &str) -> Result<Mac, Self::Err> {
        macaddr::MacAddr6::from_str(s).map(Mac)
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Mac, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "invalid MAC address {s:?}: expected six hex octets such as 00:12:34:56:78:9A"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_ip_link() {
        let m: Mac = "00:12:34:56:78:9a".parse().unwrap();
        assert_eq!(m.to_string(), "00:12:34:56:78:9A");
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"00:12:34:56:78:9A\"");
        assert!(!m.is_multicast() && !m.is_zero());
        assert!("01:00:5e:00:00:01".parse::<Mac>().unwrap().is_multicast());
        assert!("zz:12:34:56:78:9a".parse::<Mac>().is_err());
    }
}
