//! Name rules: the kernel's interface name limits and vnet's allowlist, for every name
//! that becomes an interface, a namespace or a file name.

use super::{Ctx, Findings};
use crate::path::ElementPath;
use crate::rules::Rule;

/// The longest interface name the kernel keeps (`IFNAMSIZ` - 1), in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 15;

/// Checks one name against the length, character and reserved-word rules.
pub(crate) fn check_name(name: &str, path: &ElementPath, f: &mut Findings) {
    if name.len() > MAX_NAME_BYTES {
        f.push(
            Rule::NameTooLong,
            path,
            format!(
                "name {name:?} is {} bytes long; at most {MAX_NAME_BYTES} bytes",
                name.len()
            ),
        );
    }
    if name.is_empty()
        || name.starts_with('-')
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        f.push(
            Rule::NameInvalid,
            path,
            format!("name {name:?} may hold only [A-Za-z0-9_.-] and must not be empty or start with `-`"),
        );
    } else if matches!(name, "." | ".." | "lo" | "all" | "default") {
        f.push(
            Rule::NameReserved,
            path,
            format!("name {name:?} is reserved by the kernel"),
        );
    }
}

pub(super) fn check(ctx: &Ctx<'_>, f: &mut Findings) {
    let root = ElementPath::root();
    check_name(&ctx.t.name, &root.field("name"), f);
}
