//! What several commands do alike, so that no command imports another: building a
//! topology and its summary ([`apply`]), removing it ([`destroy`]), showing what the
//! kernel holds ([`show`]), probing its reachability ([`verify`]), and choosing what a
//! rendering or plan is for ([`target`]). `vnet demo` is all of them in a row, `vnet
//! failover-test` builds and removes its copies with them, `vnet render` and `vnet
//! plan` share the target; `vnet start` leaves its later announcements to a detached
//! `vnet announce` ([`announcer`]).

pub mod announcer;
pub mod apply;
pub mod destroy;
pub mod show;
pub mod target;
pub mod verify;
