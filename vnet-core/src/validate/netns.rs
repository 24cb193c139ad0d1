//! Rule `netns-invalid`: a container's `netns` is `KIND:WHAT` of a kind vnet can find
//! (see [`crate::model::NetnsSource`]).

use super::{Ctx, Findings};
use crate::model::NetnsSource;
use crate::path::ElementPath;
use crate::rules::Rule;

/// Checks every container's `netns`.
pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let root = ElementPath::root();
    for (i, ct) in ctx.t.ct.iter().enumerate() {
        let Some(text) = &ct.netns else { continue };
        if let Err(e) = text.parse::<NetnsSource>() {
            f.push(
                Rule::NetnsInvalid,
                &root.item("ct", i, &ct.name).field("netns"),
                format!("netns {e}"),
            );
        }
    }
}
