//! Bridges: one link, MAC pinned (a bridge's MAC otherwise follows its lowest port's).

use super::{mtu_birth, Birth, End};
use crate::model::Mac;
use crate::observed::LinkKind;
use crate::plan::NsRef;

/// The bridge, with its pinned MAC, the default MTU unless given.
pub(super) fn end<'a>(
    ns: &'a NsRef,
    name: &'a str,
    mac: Mac,
    stp: bool,
    mtu: Option<u32>,
) -> End<'a> {
    End {
        ns,
        name,
        kind: LinkKind::Bridge { stp },
        mac: Birth::Given(mac),
        mtu: mtu_birth(mtu, Birth::Kernel),
        lower: None,
    }
}

/// `bridge NAME (MAC, STP on|off)`.
pub(super) fn describe(name: &str, mac: Mac, stp: bool) -> String {
    format!(
        "bridge {name} ({mac}, STP {})",
        if stp { "on" } else { "off" }
    )
}

/// `link add NAME address MAC [mtu N] type bridge stp_state 0|1`.
pub(super) fn ip_link_add(name: &str, mac: Mac, stp: bool, mtu: Option<u32>) -> Vec<String> {
    let mut add: Vec<String> = vec!["link".into(), "add".into(), name.into()];
    add.extend(["address".into(), mac.to_string()]);
    if let Some(m) = mtu {
        add.extend(["mtu".into(), m.to_string()]);
    }
    add.extend(["type", "bridge", "stp_state", if stp { "1" } else { "0" }].map(String::from));
    add
}
