//! Creating a VXLAN device with its flooding FDB entries as one step.
//!
//! An FDB entry names its device by ifindex, which exists only once the device is
//! created, so the entries cannot ride in the same pipelined batch as the create. A
//! VXLAN device (one per stretched bridge per node, so few) is therefore created, marked
//! and given its entries right away, in order; if anything after the create fails, the
//! device (and with it every entry) is deleted again, so the step either happened
//! completely or not at all, as rollback expects.

use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL};
use vnet_core::plan::{LinkSpec, NsRef};

use crate::error::Result;
use crate::netlink::Request;
use crate::ops;
use crate::session::NsHandle;

/// `ip link add NAME type vxlan ...`, its mark, and `bridge fdb append 00:00:00:00:00:00
/// dev NAME dst REMOTE` for each remote, in namespace `ns` through `h`.
pub(crate) fn create_vxlan_now(
    h: &mut NsHandle,
    ns: &NsRef,
    spec: &LinkSpec,
    ctx: ops::link::CreateContext,
    alias: &str,
) -> Result<()> {
    let LinkSpec::Vxlan { name, remotes, .. } = spec else {
        unreachable!("create_vxlan_now is called for VXLAN devices only")
    };
    h.sock.execute_one(Request::new(
        ops::link::create(spec, ctx),
        NLM_F_CREATE | NLM_F_EXCL,
        format!("create link {name} in {ns}"),
    ))?;
    h.links_changed();
    let rest = (|| -> Result<()> {
        h.sock.execute_one(Request::new(
            ops::link::set_alias(name, alias),
            0,
            format!("mark link {name} in {ns}"),
        ))?;
        let index = h.index_of(ns, name)?;
        for r in remotes {
            h.sock.execute_one(Request::new(
                ops::fdb::append_flood(index, *r),
                NLM_F_CREATE | NLM_F_APPEND,
                format!("append FDB entry of {name} to {r} in {ns}"),
            ))?;
        }
        Ok(())
    })();
    if let Err(e) = rest {
        // Best effort: the error that matters is the one returned.
        let _ = h.sock.execute_one(Request::new(
            ops::link::delete(name),
            0,
            format!("delete link {name} in {ns}"),
        ));
        h.links_changed();
        return Err(e);
    }
    Ok(())
}
