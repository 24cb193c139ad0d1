//! The tables of the file format and the keys each accepts, read from the model's own
//! serde derives, so a key added to or renamed in the model is known here at once.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use std::fmt;

use crate::model::{
    Allow, Bridge, Container, FilterPolicy, Firewall, Forwarding, Lan, LanHost, Macvlan, Nat, Nic,
    Node, Patch, PatchEnd, PortForward, Route, Stretch, Subnet, Topology, Underlay, Venet, Veth,
    Vlan,
};

/// One kind of table in a topology file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    Topology,
    Node,
    Underlay,
    Lan,
    LanHost,
    Route,
    Bridge,
    Stretch,
    Patch,
    PatchEnd,
    Subnet,
    Container,
    Venet,
    Forwarding,
    Veth,
    Nic,
    Vlan,
    Macvlan,
    Nat,
    PortForward,
    Firewall,
    FilterPolicy,
    Allow,
}

impl Table {
    /// The keys this table accepts.
    pub(super) fn keys(self) -> &'static [&'static str] {
        match self {
            Table::Topology => fields_of::<Topology>(),
            Table::Node => fields_of::<Node>(),
            Table::Underlay => fields_of::<Underlay>(),
            Table::Lan => fields_of::<Lan>(),
            Table::LanHost => fields_of::<LanHost>(),
            Table::Route => fields_of::<Route>(),
            Table::Bridge => fields_of::<Bridge>(),
            Table::Stretch => fields_of::<Stretch>(),
            Table::Patch => fields_of::<Patch>(),
            Table::PatchEnd => fields_of::<PatchEnd>(),
            Table::Subnet => fields_of::<Subnet>(),
            Table::Container => fields_of::<Container>(),
            Table::Venet => fields_of::<Venet>(),
            Table::Forwarding => fields_of::<Forwarding>(),
            Table::Veth => fields_of::<Veth>(),
            Table::Nic => fields_of::<Nic>(),
            Table::Vlan => fields_of::<Vlan>(),
            Table::Macvlan => fields_of::<Macvlan>(),
            Table::Nat => fields_of::<Nat>(),
            Table::PortForward => fields_of::<PortForward>(),
            Table::Firewall => fields_of::<Firewall>(),
            Table::FilterPolicy => fields_of::<FilterPolicy>(),
            Table::Allow => fields_of::<Allow>(),
        }
    }

    /// The table (or each table of the array) under `key`, when it holds tables. A key
    /// missing here is not checked for unknown keys below it; serde still refuses them,
    /// one at a time.
    pub(super) fn child(self, key: &str) -> Option<Table> {
        Some(match (self, key) {
            (Table::Topology, "node") => Table::Node,
            (Table::Topology, "lan") => Table::Lan,
            (Table::Topology, "bridge") => Table::Bridge,
            (Table::Topology, "patch") => Table::Patch,
            (Table::Topology, "subnet") => Table::Subnet,
            (Table::Topology, "ct") => Table::Container,
            (Table::Node, "underlay") => Table::Underlay,
            (Table::Lan, "host") => Table::LanHost,
            (Table::LanHost | Table::Container, "route") => Table::Route,
            (Table::Bridge, "stretch") => Table::Stretch,
            (Table::Patch, "a" | "b") => Table::PatchEnd,
            (Table::Container, "venet") => Table::Venet,
            (Table::Container, "forward") => Table::Forwarding,
            (Table::Container, "veth") => Table::Veth,
            (Table::Container, "nic") => Table::Nic,
            (Table::Container, "vlan") => Table::Vlan,
            (Table::Container, "macvlan") => Table::Macvlan,
            (Table::Container, "nat") => Table::Nat,
            (Table::Container, "port_forward") => Table::PortForward,
            (Table::Container, "firewall") => Table::Firewall,
            (Table::Firewall, "forward" | "input") => Table::FilterPolicy,
            (Table::FilterPolicy, "allow") => Table::Allow,
            _ => return None,
        })
    }
}

/// The field names a `#[derive(Deserialize)]` struct passes to `deserialize_struct`,
/// caught by a deserializer that answers nothing else.
fn fields_of<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(FieldProbe) {
        Err(Fields(fields)) => fields,
        Ok(_) => &[],
    }
}

struct FieldProbe;

#[derive(Debug)]
struct Fields(&'static [&'static str]);

impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fields {:?}", self.0)
    }
}

impl std::error::Error for Fields {}

impl de::Error for Fields {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Fields(&[])
    }
}

impl<'de> Deserializer<'de> for FieldProbe {
    type Error = Fields;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
        Err(Fields(&[]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Fields> {
        Err(Fields(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_are_the_models_fields() {
        assert_eq!(Table::Node.keys(), ["name", "underlay"]);
        assert!(Table::Veth.keys().contains(&"host_name"));
        assert!(Table::Topology.keys().contains(&"ct"));
        // Every child table is a key of its parent.
        for t in [Table::Topology, Table::Container, Table::Lan, Table::Patch] {
            for k in t.keys() {
                if t.child(k).is_some() {
                    assert!(t.keys().contains(k));
                }
            }
        }
        assert_eq!(Table::Container.child("veth"), Some(Table::Veth));
        assert_eq!(
            Table::Firewall
                .child("input")
                .and_then(|p| p.child("allow")),
            Some(Table::Allow)
        );
        assert_eq!(Table::Allow.keys(), ["from", "to", "proto", "port"]);
        assert!(Table::PortForward.keys().contains(&"to_port"));
    }
}
