//! The audit trail: admission decisions, alias changes seen, registry
//! operations over REST, key creation and revocation, and refused
//! requests go to the project's ledger as signed attestations.
//!
//! Requests never wait on the ledger: events go into a bounded queue and
//! a writer thread appends them in batches (one ledger entry per batch,
//! at most every [`BATCH_EVERY`]). Refused requests are sampled (at most
//! [`REFUSALS_PER_SECOND`] per reason), and when the queue is full an
//! event is counted as dropped rather than blocking. On a clean shutdown
//! the queue is drained before the gateway returns: an event accepted
//! into the queue is in the ledger.

use rampart_attest::ResourceDescriptor;
use rampart_evidence::{Outcome, Project, Started};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Events held waiting for the ledger.
pub const QUEUE: usize = 8192;
/// Most events in one ledger entry.
pub const BATCH: usize = 1000;
/// Longest an accepted event waits before its batch is written.
pub const BATCH_EVERY: Duration = Duration::from_secs(1);
/// Refused requests recorded per reason per second; the rest are counted.
pub const REFUSALS_PER_SECOND: u32 = 20;

/// The gate name of audit attestations in the ledger.
pub const GATE: &str = "gateway-audit";

/// The sending side, shared by requests.
pub struct Audit {
    tx: Mutex<Option<SyncSender<Value>>>,
    pub dropped: AtomicU64,
    pub sampled_out: AtomicU64,
    window: Mutex<(Instant, HashMap<String, u32>)>,
    /// What the writer reports back.
    pub status: Arc<Status>,
}

/// The writer's state, read by the gateway: while the ledger refuses the
/// audit trail, the gateway cannot prove its decisions, and serves no
/// one (see `watch`).
#[derive(Debug, Default)]
pub struct Status {
    /// The last append's error, until an append succeeds.
    pub fault: Mutex<Option<String>>,
    /// Events given up on: more than [`QUEUE`] held through failures.
    pub lost: AtomicU64,
}

impl Status {
    pub fn fault(&self) -> Option<String> {
        self.fault.lock().ok().and_then(|f| f.clone())
    }

    fn set(&self, fault: Option<String>) {
        if let Ok(mut f) = self.fault.lock() {
            *f = fault;
        }
    }
}

impl Audit {
    /// A queue and the receiving end for [`write_batches`].
    pub fn new() -> (Audit, Receiver<Value>) {
        let (tx, rx) = sync_channel(QUEUE);
        (
            Audit {
                tx: Mutex::new(Some(tx)),
                dropped: AtomicU64::new(0),
                sampled_out: AtomicU64::new(0),
                window: Mutex::new((Instant::now(), HashMap::new())),
                status: Arc::new(Status::default()),
            },
            rx,
        )
    }

    /// Queues an event (`kind` and its fields); never waits.
    pub fn record(&self, kind: &str, fields: Value) {
        let mut event = json!({"event": kind, "ts": crate::keys::now()});
        if let (Some(o), Value::Object(f)) = (event.as_object_mut(), fields) {
            o.extend(f);
        }
        let sent = match self.tx.lock() {
            Ok(g) => match g.as_ref() {
                Some(tx) => tx.try_send(event),
                None => Err(TrySendError::Disconnected(event)),
            },
            Err(_) => return,
        };
        if sent.is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queues a refused request, unless this second's sample for its
    /// reason is full.
    pub fn refusal(&self, reason: &str, fields: Value) {
        let take = match self.window.lock() {
            Ok(mut w) => {
                if w.0.elapsed() >= Duration::from_secs(1) {
                    *w = (Instant::now(), HashMap::new());
                }
                let n = w.1.entry(reason.to_string()).or_insert(0);
                *n += 1;
                *n <= REFUSALS_PER_SECOND
            }
            Err(_) => false,
        };
        match take {
            true => self.record("refused", {
                let mut f = fields;
                if let Some(o) = f.as_object_mut() {
                    o.insert("reason".into(), json!(reason));
                }
                f
            }),
            false => {
                self.sampled_out.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Stops taking events; the writer drains the queue and ends.
    pub fn close(&self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
    }
}

/// Appends `events` to `ledger` as one signed attestation, then seals it
/// with a signed checkpoint, so that cutting audit entries off the end is
/// detectable; returns its index. The subject is the batch itself, by
/// digest. `ledger` is one handle kept across batches: it refuses to
/// append once entries it wrote are gone, rather than refill the gap.
pub fn append(
    project: &Project,
    ledger: &mut rampart_ledger::Ledger,
    events: &[Value],
) -> Result<u64, Sealing> {
    let body = json!({"events": events});
    let bytes = serde_json::to_vec(&body).map_err(|e| Sealing::NotWritten(e.to_string()))?;
    let subject = vec![ResourceDescriptor {
        name: "gateway-audit-batch".into(),
        digest: [("sha256".to_string(), hex::encode(Sha256::digest(&bytes)))]
            .into_iter()
            .collect(),
    }];
    let o = Outcome {
        gate: GATE,
        inputs: &[],
        passed: true,
        policy_sha256: "gateway",
        started: Started::now(),
        details: body,
    };
    let entry = project
        .attestation(&o, subject)
        .map_err(|e| Sealing::NotWritten(e.to_string()))?;
    let idx = project
        .append_entry(ledger, &entry)
        .map_err(|e| Sealing::NotWritten(e.to_string()))?;
    project
        .checkpoint_key()
        .map_err(|e| e.to_string())
        .and_then(|key| ledger.checkpoint(&key).map_err(|e| e.to_string()))
        .map_err(|e| {
            Sealing::NotSealed(format!("audit batch at ledger entry {idx}, unsealed: {e}"))
        })?;
    Ok(idx)
}

/// Why a batch is not sealed in the ledger.
#[derive(Debug)]
pub enum Sealing {
    /// Not written: the batch is held and tried again.
    NotWritten(String),
    /// Written, but no checkpoint could be signed after it (the ledger
    /// is inconsistent with an earlier checkpoint): the batch is kept,
    /// and the gateway stays closed until a later batch seals.
    NotSealed(String),
}

/// The writer: batches events from `rx` into the ledger until every
/// sender is gone and the queue is empty. A batch the ledger refuses is
/// logged and retried with the next one, never silently lost while the
/// process lives.
pub fn write_batches(project: Project, rx: Receiver<Value>, status: &Status) {
    let mut ledger = None;
    let mut batch: Vec<Value> = Vec::new();
    let mut since = Instant::now();
    loop {
        let wait = BATCH_EVERY.saturating_sub(since.elapsed());
        let done = match rx.recv_timeout(wait) {
            Ok(e) => {
                batch.push(e);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        let due = batch.len() >= BATCH || since.elapsed() >= BATCH_EVERY || done;
        if due && !batch.is_empty() {
            let written = match ledger.take() {
                Some(l) => Ok(l),
                None => project
                    .ledger()
                    .map_err(|e| Sealing::NotWritten(e.to_string())),
            }
            .and_then(|mut l| {
                let r = append(&project, &mut l, &batch);
                ledger = Some(l);
                r
            });
            match written {
                Ok(_) => {
                    batch.clear();
                    status.set(None);
                }
                Err(Sealing::NotSealed(e)) => {
                    crate::log::event("audit-error", json!({"error": e, "held": 0}));
                    batch.clear();
                    status.set(Some(e));
                }
                Err(Sealing::NotWritten(e)) => {
                    crate::log::event("audit-error", json!({"error": e, "held": batch.len()}));
                    status.set(Some(e));
                    // Held through failures, but bounded: the oldest go.
                    let excess = batch.len().saturating_sub(QUEUE);
                    if excess > 0 {
                        batch.drain(..excess);
                        let n = u64::try_from(excess).unwrap_or(u64::MAX);
                        status.lost.fetch_add(n, Ordering::Relaxed);
                    }
                    if done {
                        // Last try at shutdown failed: the events are in
                        // the log line's count, and the process ends.
                        return;
                    }
                }
            }
        }
        if due {
            since = Instant::now();
        }
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_sampled_per_reason() {
        let (a, rx) = Audit::new();
        for _ in 0..100 {
            a.refusal("rate", json!({}));
        }
        a.refusal("forbidden", json!({}));
        a.close();
        let got: Vec<Value> = rx.iter().collect();
        assert_eq!(got.len(), REFUSALS_PER_SECOND as usize + 1);
        assert_eq!(
            a.sampled_out.load(Ordering::Relaxed),
            100 - u64::from(REFUSALS_PER_SECOND)
        );
    }

    /// Each batch is sealed by a checkpoint, so cutting audit entries
    /// off the end is detected, and nothing refills the gap: neither the
    /// writer's own handle nor a new one appends to the cut ledger.
    #[test]
    fn audit_batches_are_sealed_and_a_cut_is_not_refilled() {
        let d = tempfile::tempdir().unwrap();
        let project = Project::at(d.path().join(".rampart"));
        project.init("test/audit").unwrap();
        let mut l = project.ledger().unwrap();
        let first = append(&project, &mut l, &[json!({"i": 1})]).unwrap();
        let second = append(&project, &mut l, &[json!({"i": 2})]).unwrap();
        let (sealed, _, _) = l.last_checkpoint().unwrap().unwrap();
        assert_eq!(sealed, second + 1, "the last batch is checkpointed");
        let db = rusqlite::Connection::open(project.ledger_path()).unwrap();
        db.execute(
            "DELETE FROM leaves WHERE idx > ?1",
            [i64::try_from(first).unwrap()],
        )
        .unwrap();
        for handle in [&mut l, &mut project.ledger().unwrap()] {
            match append(&project, handle, &[json!({"i": 3})]) {
                Err(Sealing::NotWritten(e)) => assert!(e.contains("fewer than"), "{e}"),
                other => panic!("appended to a cut ledger: {other:?}"),
            }
        }
        let n: i64 = db
            .query_row("SELECT COUNT(*) FROM leaves", [], |r| r.get(0))
            .unwrap();
        assert_eq!(u64::try_from(n).unwrap(), first + 1);
    }

    #[test]
    fn batches_reach_the_ledger_and_shutdown_drains_the_queue() {
        let d = tempfile::tempdir().unwrap();
        let project = Project::at(d.path().join(".rampart"));
        project.init("test/audit").unwrap();
        let (a, rx) = Audit::new();
        let p = project.clone();
        let status = a.status.clone();
        let writer = std::thread::spawn(move || write_batches(p, rx, &status));
        for i in 0..2500 {
            a.record("test", json!({"i": i}));
        }
        a.close();
        writer.join().unwrap();
        let prefix = rampart_evidence::predicate_type(GATE);
        let (found, _) = project.attestations_from(0, &prefix).unwrap();
        assert!(found.iter().all(|s| s.signature_ok));
        let events: usize = found
            .iter()
            .map(|s| {
                s.statement.predicate["events"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .sum();
        assert!(found.len() >= 3, "batches of at most {BATCH}");
        assert_eq!(events, 2500);
        assert_eq!(a.dropped.load(Ordering::Relaxed), 0);
    }
}
