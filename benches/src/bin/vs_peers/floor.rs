//! The kernel's floor: what any method must pay per container before it creates a single
//! link. Each container's named namespace is created as every method here creates it (a
//! bind-mounted namespace file, `default.disable_ipv6=1` written and `lo` brought up
//! inside it), one after another, and nothing else; teardown unmounts and deletes them.
//! vnet's time above this row is what its links, addresses and routes cost.

use anyhow::{bail, Result};

use crate::method::Method;
use crate::netns;
use crate::topo::Ct;

/// Named namespaces alone.
#[derive(Debug)]
pub struct Floor;

impl Method for Floor {
    fn name(&self) -> &'static str {
        "kernel floor: namespace + lo up, no links"
    }

    fn missing(&self) -> Option<String> {
        None
    }

    fn setup(&mut self, cts: &[Ct]) -> Result<()> {
        for ct in cts {
            netns::create(&self.ns_of(ct))?;
        }
        Ok(())
    }

    fn teardown(&mut self, cts: &[Ct]) -> Result<()> {
        for ct in cts {
            netns::delete(&self.ns_of(ct))?;
        }
        Ok(())
    }

    /// Every namespace is there (there is no bridge or link to check).
    fn check(&self, cts: &[Ct]) -> Result<()> {
        let made = netns::list()?.len();
        if made != cts.len() {
            bail!("{}: {made} namespaces, expected {}", self.name(), cts.len());
        }
        Ok(())
    }

    fn ns_of(&self, ct: &Ct) -> String {
        format!("fl-{}", ct.name)
    }

    fn bridge_ns(&self) -> Option<String> {
        None
    }
}
