//! [`State`]: the three answers a monitor (an OCF agent's `monitor`) needs, computed
//! from where a container is and the differences of its own objects.

use serde::Serialize;

use super::{Mismatch, Whereabouts};

/// Up, stopped or broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Running, and its own objects match the topology.
    Up,
    /// Cleanly not running: nothing of it is there.
    Stopped,
    /// Partly there, or differing from the topology.
    Broken,
}

impl State {
    /// The state of a container at `now` whose own objects differ by `own` (see
    /// [`super::own_mismatch`]; compared only when [`Whereabouts::cabled`]).
    pub fn of(now: &Whereabouts, own: &[Mismatch]) -> State {
        if now.stopped() {
            State::Stopped
        } else if now.node.is_some() && own.is_empty() && (!now.sandbox || now.ours) {
            State::Up
        } else {
            State::Broken
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{Field, Object};
    use crate::plan::NsRef;

    fn at(
        sandbox: bool,
        ns_exists: bool,
        ours: bool,
        node: Option<&str>,
        inside: bool,
    ) -> Whereabouts {
        Whereabouts {
            sandbox,
            ns_exists,
            ours,
            node: node.map(str::to_string),
            links_inside: inside,
        }
    }

    fn drift() -> Vec<Mismatch> {
        vec![Mismatch {
            ns: NsRef::Ct("mail".into()),
            object: Object::Route("192.168.0.0/16".parse().unwrap()),
            field: Field::Exists,
            desired: "192.168.0.0/16 via 192.168.199.1".into(),
            found: "no".into(),
        }]
    }

    #[test]
    fn sandbox_states() {
        assert_eq!(
            State::of(&at(true, false, false, None, false), &[]),
            State::Stopped
        );
        assert_eq!(
            State::of(&at(true, true, true, Some("m1"), true), &[]),
            State::Up
        );
        assert_eq!(
            State::of(&at(true, true, true, Some("m1"), true), &drift()),
            State::Broken
        );
        // Its namespace without cables, or a namespace vnet did not make.
        assert_eq!(
            State::of(&at(true, true, true, None, true), &[]),
            State::Broken
        );
        assert_eq!(
            State::of(&at(true, true, false, Some("m1"), false), &[]),
            State::Broken
        );
    }

    #[test]
    fn node_states() {
        // The container is not running at all, or runs without its network.
        assert_eq!(
            State::of(&at(false, false, false, None, false), &[]),
            State::Stopped
        );
        assert_eq!(
            State::of(&at(false, true, false, None, false), &[]),
            State::Stopped
        );
        // Up: its namespace is the runtime's (no mark), its cables are here.
        assert_eq!(
            State::of(&at(false, true, false, Some("m1"), true), &[]),
            State::Up
        );
        assert_eq!(
            State::of(&at(false, true, false, Some("m1"), true), &drift()),
            State::Broken
        );
        // A NIC passed in but the veth gone from the node: half there.
        assert_eq!(
            State::of(&at(false, true, false, None, true), &[]),
            State::Broken
        );
    }
}
