//! Sending one stage's netlink batches, one per namespace, from a few threads at once.
//!
//! Why: with a container per namespace, most batches are a single request to a
//! different socket (a container's address, its `eth0` up, its route), and one thread
//! sending them one after another leaves the second core idle while it encodes,
//! sends, waits for the ACK and decodes. The batches of one stage are independent (the
//! plan puts only independent actions in a stage), and every socket is already bound
//! to its namespace, so the threads need not enter any namespace. Within a batch the
//! order is kept; the largest batches go first so one big batch does not finish last.

use std::sync::Mutex;

use vnet_core::plan::NsRef;

use crate::error::{Error, Result};
use crate::netlink::Request;
use crate::session::{NsHandle, Session};

/// Threads sending batches at once (the kernel serializes most of the work under its
/// rtnl lock; more threads than this only add switching).
const WORKERS: usize = 3;

/// Sends every batch over its namespace's socket; one result per request, per batch,
/// in the order of `batches`. A namespace that is not there fails all its requests.
pub(crate) fn send_all(
    session: &mut Session<'_>,
    batches: Vec<(NsRef, Vec<Request>)>,
) -> Vec<Vec<Result<()>>> {
    let mut answers: Vec<Option<Vec<Result<()>>>> = batches.iter().map(|_| None).collect();
    let sizes: Vec<usize> = batches.iter().map(|(_, r)| r.len()).collect();
    // Open (or re-check) each namespace first; the absent ones answer right away.
    let mut present: Vec<NsRef> = Vec::new();
    for (i, (ns, requests)) in batches.iter().enumerate() {
        match session.require(ns) {
            Ok(_) => present.push(ns.clone()),
            Err(_) => {
                answers[i] = Some(
                    requests
                        .iter()
                        .map(|_| {
                            Err(Error::Unmapped {
                                ns: ns.clone(),
                                reason: "the namespace vanished during the stage",
                            })
                        })
                        .collect(),
                )
            }
        }
    }
    let mut handles: std::collections::BTreeMap<&NsRef, &mut NsHandle> =
        session.handles_of(&present).into_iter().collect();
    let mut jobs: Vec<(usize, &mut NsHandle, Vec<Request>)> = Vec::new();
    for (i, (ns, requests)) in batches.into_iter().enumerate() {
        if answers[i].is_some() {
            continue;
        }
        match handles.remove(&ns) {
            Some(handle) => jobs.push((i, handle, requests)),
            None => {
                answers[i] = Some(
                    requests
                        .iter()
                        .map(|_| {
                            Err(Error::Unmapped {
                                ns: ns.clone(),
                                reason: "the namespace vanished during the stage",
                            })
                        })
                        .collect(),
                )
            }
        }
    }
    // Largest first; the queue is popped from the end.
    jobs.sort_by_key(|(_, _, requests)| requests.len());
    let done = if jobs.len() <= 1 {
        jobs.into_iter()
            .map(|(i, handle, requests)| (i, handle.sock.execute(requests)))
            .collect::<Vec<_>>()
    } else {
        let workers = WORKERS.min(jobs.len());
        let queue = Mutex::new(jobs);
        std::thread::scope(|s| {
            let threads: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                            let Some((i, handle, requests)) = next else {
                                break;
                            };
                            out.push((i, handle.sock.execute(requests)));
                        }
                        out
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().unwrap_or_default())
                .collect::<Vec<_>>()
        })
    };
    for (i, result) in done {
        answers[i] = Some(result);
    }
    answers
        .into_iter()
        .zip(sizes)
        .map(|(a, size)| {
            // A panicked worker leaves its batches unanswered: say so for each request.
            a.unwrap_or_else(|| {
                (0..size)
                    .map(|_| {
                        Err(Error::WorkerPanicked {
                            doing: "send a netlink batch".into(),
                        })
                    })
                    .collect()
            })
        })
        .collect()
}
