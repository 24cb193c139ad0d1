//! The names a plan carries: namespaces, links, bridges, next-hop devices, sysctl values.
//!
//! A plan of 10,000 containers holds ~300,000 of them, most a copy of a name another
//! action holds too (a veth's name is in its create, MAC, MTU, address, up and master
//! actions). As `String`s each was a heap allocation, freed again with the plan, and
//! reading one meant a pointer chase into scattered memory: the planner's time grew
//! faster than its work. A [`Name`] keeps up to 23 bytes inline (a Linux link name is at
//! most 15) and shares longer ones, so cloning one never allocates and comparing or
//! hashing one reads the action itself. It serializes as a plain string.

/// An immutable name, cheap to clone: [`smol_str::SmolStr`]. It dereferences to `str`,
/// compares with `str` and `String`, and converts from both (`Name::from("eth0")`,
/// `"eth0".into()`).
pub type Name = smol_str::SmolStr;
