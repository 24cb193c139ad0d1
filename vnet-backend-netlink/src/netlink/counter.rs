//! [`RequestCounter`]: how many netlink requests a backend sent, and how many of them
//! asked the kernel to change something (the "second apply changes nothing" proof).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Shared counters over every socket of one backend.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    inner: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    mutating: AtomicU64,
    reads: AtomicU64,
}

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests that asked the kernel to change something (new/set/del), ever sent.
    pub fn mutating(&self) -> u64 {
        self.inner.mutating.load(Ordering::Relaxed)
    }

    /// Read-only requests (gets and dumps), ever sent.
    pub fn reads(&self) -> u64 {
        self.inner.reads.load(Ordering::Relaxed)
    }

    pub(crate) fn add_mutating(&self, n: u64) {
        self.inner.mutating.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_read(&self) {
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
    }
}
