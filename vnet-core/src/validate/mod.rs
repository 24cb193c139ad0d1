//! Validation: every rule of [`crate::Rule`] checked over the whole topology, every
//! violation reported at once.
//!
//! Each rule family lives in its own module and pushes [`Diagnostic`]s into a shared
//! [`Findings`]; none stops at the first problem. Only when no rule fired is a
//! [`ValidTopology`] built.

mod addrs;
mod firewall;
mod l2;
mod limits;
mod macs;
mod macvlan;
mod mtu;
mod names;
mod netns;
mod placement;
mod refs;
mod routes;
mod site;
mod stretch;
mod vlan;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Topology;
use crate::path::ElementPath;
use crate::resolve::{resolve, Resolved};
use crate::rules::Rule;
use crate::valid::ValidTopology;

/// The findings of all rules, collected in order.
#[derive(Debug, Default)]
pub(crate) struct Findings(Vec<Diagnostic>);

impl Findings {
    /// Records a violation of `rule` by the element at `path`.
    pub(crate) fn push(&mut self, rule: Rule, path: &ElementPath, message: impl Into<String>) {
        self.0.push(Diagnostic::new(rule, path, message));
    }

    /// Records a violation with a hint particular to this case.
    pub(crate) fn push_hint(
        &mut self,
        rule: Rule,
        path: &ElementPath,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.0
            .push(Diagnostic::new(rule, path, message).with_hint(hint));
    }

    /// Records a clash of the element at `path` with the element at `first`, which came
    /// first; reports name both places.
    pub(crate) fn push_clash(
        &mut self,
        rule: Rule,
        path: &ElementPath,
        first: &ElementPath,
        message: impl Into<String>,
    ) {
        self.0
            .push(Diagnostic::new(rule, path, message).with_first(first));
    }

    /// How many findings there are so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// What every rule may read: the topology as written and its derived values.
pub(crate) struct Ctx<'a> {
    pub t: &'a Topology,
    pub r: &'a Resolved,
}

/// Checks every rule and returns the topology as a [`ValidTopology`], or every violation.
///
/// ```
/// let text = r#"
/// name = "lab"
/// [[node]]
/// name = "m1"
/// [[bridge]]
/// name = "br0"
/// [[subnet]]
/// cidr = "198.18.0.0/24"
/// bridge = "br0"
/// [[ct]]
/// id = 101
/// name = "a"
/// [[ct.veth]]
/// name = "eth0"
/// bridge = "br0"
/// addresses = ["198.18.0.1/24"]
/// "#;
/// let doc = vnet_core::Document::parse(text, vnet_core::Format::Toml).unwrap();
/// let valid = doc.validate().unwrap();
/// assert_eq!(valid.topology().ct[0].name, "a");
/// ```
pub fn validate(t: Topology) -> Result<ValidTopology, Diagnostics> {
    let r = resolve(&t);
    let mut f = Findings::default();
    let ctx = Ctx { t: &t, r: &r };
    // The caps go first: past them the other rules would cost too much, so they do not run.
    if limits::check(&ctx, &mut f) {
        let declared = refs::Declared::new(&t);
        names::check(&ctx, &mut f);
        netns::check(&ctx, &mut f);
        refs::check(&ctx, &declared, &mut f);
        macs::check(&ctx, &mut f);
        let owners = addrs::check(&ctx, &mut f);
        routes::check(&ctx, &owners, &mut f);
        l2::check(&ctx, &declared, &mut f);
        vlan::check(&ctx, &mut f);
        macvlan::check(&ctx, &mut f);
        mtu::check(&ctx, &mut f);
        placement::check(&ctx, &declared, &mut f);
        stretch::check(&ctx, &declared, &mut f);
        firewall::check(&ctx, &mut f);
    }
    let mut diags = f.0;
    diags.sort_by(|a, b| a.doc_path().cmp(b.doc_path()).then(a.rule.cmp(&b.rule)));
    diags.dedup();
    let (warnings, errors): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diags.into_iter().partition(|d| d.rule.is_warning());
    if errors.is_empty() {
        let mut v = ValidTopology::new(t, r);
        *v.warnings_mut() = warnings;
        Ok(v)
    } else {
        Err(Diagnostics(errors))
    }
}
