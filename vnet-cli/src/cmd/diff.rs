//! `vnet diff FILE --sandbox`: what differs between the system and the topology, object by
//! object, and the plan `vnet apply` would run to repair it. Exit 3 when anything
//! differs, 0 when nothing does.

use serde::Serialize;
use std::path::PathBuf;

use vnet_backend_netlink::verify::{Field, Mismatch};
use vnet_core::plan::listing;

use crate::cli::{Global, Output};
use crate::exit::{Exit, Outcome};
use crate::sandbox::{backend_failure, Resolved, Target};
use crate::{input, out, outln, output};

/// Arguments of `vnet diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The topology file (`.toml`, or `.json`); `-` reads it from standard input.
    pub file: PathBuf,
    /// Where the topology was built.
    #[command(flatten)]
    pub target: Target,
}

/// One difference, as the JSON document carries it.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    /// The topology's namespace, e.g. `ct mail`.
    pub ns: String,
    /// The real namespace's name (`vnet-mail`; empty: the one vnet runs in).
    pub namespace: String,
    /// The object, e.g. `route 192.168.0.0/16`.
    pub object: String,
    /// The field, e.g. `exists`, `mac`.
    pub field: String,
    /// What the topology wants.
    pub desired: String,
    /// What the system has.
    pub found: String,
}

impl Drift {
    fn of(m: &Mismatch, target: &Resolved) -> Drift {
        // Existence is yes or no on both sides: the object names what exists, and a
        // side's full description (a route's, say) is the backend's, not for people.
        let exists = |side: &str| if side == "no" { "no" } else { "yes" }.to_string();
        let (desired, found) = if m.field == Field::Exists {
            (exists(&m.desired), exists(&m.found))
        } else {
            (m.desired.clone(), m.found.clone())
        };
        Drift {
            ns: m.ns.to_string(),
            namespace: target.shell_name(&m.ns),
            object: m.object.to_string(),
            field: m.field.to_string(),
            desired,
            found,
        }
    }
}

impl Drift {
    /// The difference in words. Existence reads as "missing"/"unexpected"; other
    /// fields as "field: desired X, found Y".
    pub fn describe(&self) -> String {
        match (
            self.field.as_str(),
            self.found.as_str(),
            self.desired.as_str(),
        ) {
            ("exists", "no", _) => format!("{} missing", self.object),
            ("exists", _, "no") => format!("{} unexpected", self.object),
            _ => format!(
                "{} {}: desired {}, found {}",
                self.object,
                self.field,
                or_none(&self.desired),
                or_none(&self.found)
            ),
        }
    }
}

/// An empty side (no addresses, no master) as a word.
fn or_none(side: &str) -> &str {
    if side.is_empty() {
        "none"
    } else {
        side
    }
}

/// Compares and prints; exit 3 on drift.
pub fn run(args: &Args, global: &Global) -> Outcome {
    let loaded = input::load_valid(&args.file, global)?;
    let t = &loaded.valid;
    let target = args.target.resolve(t)?;
    let backend = target.backend();
    let mismatches = backend.check(t, &target.scope).map_err(backend_failure)?;
    let plan = backend.diff(t, &target.scope).map_err(backend_failure)?;
    let drift: Vec<Drift> = mismatches.iter().map(|m| Drift::of(m, &target)).collect();
    match global.output {
        Output::Json => output::json(&serde_json::json!({ "drift": drift, "plan": plan })),
        Output::Human if drift.is_empty() && plan.is_empty() => {
            outln!("topology `{}` matches the system: no drift", t.name())
        }
        Output::Human => {
            outln!(
                "topology `{}` differs from the system in {} place{}:",
                t.name(),
                drift.len(),
                if drift.len() == 1 { "" } else { "s" }
            );
            for d in &drift {
                let place = if d.namespace.is_empty() {
                    d.ns.clone()
                } else {
                    format!("{} ({})", d.ns, d.namespace)
                };
                outln!("  {place}: {}", d.describe());
            }
            if plan.is_empty() {
                outln!("\nno repair plan: the differences are not vnet's to change");
            } else {
                outln!("\nrepair plan (`vnet apply` runs it):");
                out!("{}", listing::listing(&plan, &|ns| target.shell_name(ns)));
            }
        }
    }
    Ok(if drift.is_empty() && plan.is_empty() {
        Exit::Success
    } else {
        Exit::Drift
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drift(object: &str, field: &str, desired: &str, found: &str) -> Drift {
        Drift {
            ns: "ct mail".into(),
            namespace: "vnet-mail".into(),
            object: object.into(),
            field: field.into(),
            desired: desired.into(),
            found: found.into(),
        }
    }

    #[test]
    fn differences_read_as_words() {
        assert_eq!(
            drift("route 198.18.0.0/16", "exists", "yes", "no").describe(),
            "route 198.18.0.0/16 missing"
        );
        assert_eq!(
            drift("link veth9", "exists", "no", "yes").describe(),
            "link veth9 unexpected"
        );
        assert_eq!(
            drift("link eth0", "up", "true", "false").describe(),
            "link eth0 up: desired true, found false"
        );
        assert_eq!(
            drift("link eth0", "addresses", "198.18.0.2/24", "").describe(),
            "link eth0 addresses: desired 198.18.0.2/24, found none"
        );
    }
}
