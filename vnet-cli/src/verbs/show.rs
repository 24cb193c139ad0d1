//! Showing what the kernel holds of a topology, per namespace (`vnet show`, `vnet demo`).

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use vnet_core::observed::{ObservedLink, ObservedState};
use vnet_core::plan::{RouteSpec, Ruleset, RulesetPart};
use vnet_core::ValidTopology;

use crate::exit::Failure;
use crate::sandbox::{backend_failure, Resolved};

/// One namespace as the JSON document shows it. [`ObservedState`] is keyed by
/// structured references that JSON object keys cannot carry, so namespaces become a list
/// and sysctls are keyed by their dotted names.
#[derive(Debug, Serialize)]
pub struct ShownNamespace<'a> {
    /// The topology's namespace, e.g. `ct mail`.
    pub ns: String,
    /// The real namespace's name (`vnet-mail`; empty: the one vnet runs in).
    pub namespace: String,
    /// The topology that marked the namespace as its own.
    pub owner: &'a Option<String>,
    /// Links by name.
    pub links: &'a BTreeMap<String, ObservedLink>,
    /// vnet's routes.
    pub routes: Vec<&'a RouteSpec>,
    /// Managed sysctls by dotted key.
    pub sysctls: BTreeMap<String, &'a String>,
    /// vnet's nftables table (NAT, port forwards, filters), if there is one.
    pub ruleset: &'a Option<Ruleset>,
}

/// What the kernel holds of `t` in the target.
pub fn observe(t: &ValidTopology, target: &Resolved) -> Result<ObservedState, Failure> {
    target
        .backend()
        .observe(t, &target.scope)
        .map_err(backend_failure)
}

/// The state as the JSON document's list of namespaces.
pub fn shown<'a>(target: &Resolved, state: &'a ObservedState) -> Vec<ShownNamespace<'a>> {
    state
        .namespaces
        .iter()
        .map(|(ns, o)| ShownNamespace {
            ns: ns.to_string(),
            namespace: target.shell_name(ns),
            owner: &o.owner,
            links: &o.links,
            routes: o.routes.iter().collect(),
            sysctls: o.sysctls.iter().map(|(k, v)| (k.key(), v)).collect(),
            ruleset: &o.ruleset,
        })
        .collect()
}

/// The compact listing: a block per namespace of the topology (absent ones say so).
pub fn render(t: &ValidTopology, target: &Resolved, state: &ObservedState) -> String {
    let mut out = String::new();
    let expected = vnet_core::plan::expected_state(t, &target.scope);
    for ns in expected.namespaces.keys() {
        let name = target.shell_name(ns);
        let place = if name.is_empty() {
            format!("{ns} (this namespace)")
        } else {
            format!("{ns} ({name})")
        };
        let Some(o) = state.namespaces.get(ns) else {
            let _ = writeln!(out, "{place}: absent");
            continue;
        };
        let _ = writeln!(out, "{place}");
        let width = o.links.keys().map(String::len).max().unwrap_or(0);
        for (link, l) in &o.links {
            let addresses: Vec<String> = l.addresses.iter().map(ToString::to_string).collect();
            let master = l
                .master
                .as_ref()
                .map(|m| format!(" master {m}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {link:width$}  {:<8} {:<5} {:<17}{master}  {}",
                l.kind.label(),
                if l.up { "UP" } else { "DOWN" },
                l.mac.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
                addresses.join(" ")
            );
        }
        for r in &o.routes {
            let _ = writeln!(out, "  route {}", r);
        }
        for (key, value) in &o.sysctls {
            let _ = writeln!(out, "  sysctl {}={value}", key.key());
        }
        if let Some(r) = &o.ruleset {
            for part in RulesetPart::ALL {
                let text = r.part_text(part);
                if !text.is_empty() {
                    let _ = writeln!(out, "  firewall {part}: {text}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_never_applied_topology_shows_every_namespace_absent() {
        let text = include_str!("../../../examples/seed.toml");
        let t = vnet_core::Document::parse(text, vnet_core::Format::Toml)
            .unwrap()
            .validate()
            .unwrap();
        let target = crate::sandbox::Target::sandbox("vnet").resolve(&t).unwrap();
        let text = render(&t, &target, &ObservedState::empty());
        assert!(text.contains("ct mail (vnet-mail): absent"), "{text}");
        assert!(text.contains("host gw46 (vnet-gw46): absent"), "{text}");
    }
}
