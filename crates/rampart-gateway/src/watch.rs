//! The threads that talk to the stores. The watcher re-reads the API
//! keys and the registry every [`RELOAD`] and re-admits models when the
//! registry or the ledger moved; requests read the tables it publishes
//! and never wait on it. Registry requests from the REST API run one at a
//! time on a thread of their own ([`registry_jobs`]), so that a slow one
//! never delays a revocation.

use crate::keys::{KeyLog, Keys, RELOAD};
use crate::models::{admit, Table};
use crate::{log, Shared};
use rampart_registry::{Registry, Reply, Request};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};

use std::sync::Arc;
use std::time::{Duration, Instant};

/// After this long without a good read of a store, the gateway stops
/// trusting what it last read: keys are refused and models are not
/// served, rather than honouring a revocation or a rollback late.
pub const STALE_AFTER: Duration = Duration::from_secs(5);

/// How often refused models are tried again when nothing moved.
pub const READMIT: Duration = Duration::from_secs(5);

/// Registry requests waiting at once; more are answered 503.
pub const JOBS: usize = 16;

/// A registry request from the REST API and where to send its answer.
pub type Job = (
    Request,
    tokio::sync::oneshot::Sender<Result<Reply, rampart_registry::Error>>,
);

/// The stores the watcher owns.
pub struct Stores {
    pub registry: Registry,
    pub keys: KeyLog,
}

impl Stores {
    /// Reads the ledger's new key events and publishes the keys; false
    /// when the ledger could not be read.
    fn reload_keys(&mut self, shared: &Shared) -> Result<(), crate::Error> {
        match self.keys.refresh() {
            Ok(()) => {
                shared.keys.store(Arc::new(self.keys.snapshot()));
                Ok(())
            }
            Err(e) => {
                shared.metrics.store_errors.inc();
                log::event(
                    "store-error",
                    serde_json::json!({"store": "keys", "error": e.to_string()}),
                );
                Err(e)
            }
        }
    }

    /// Re-admits every configured model and publishes the table.
    pub fn admit_all(&mut self, shared: &Shared) {
        let old = shared.models.load_full();
        let mut table = Table::new();
        for (name, m) in &shared.config.models {
            let current = old.get(name).map(Arc::as_ref);
            let source = &m.source;
            let served = admit(
                &mut self.registry,
                &shared.policy,
                &shared.config.upstreams,
                name,
                m,
                current,
            );
            let changed = current.map(|c| (c.version(), c.reasons()))
                != Some((served.version(), served.reasons()));
            if changed {
                let ready = served.ready().is_some();
                shared
                    .metrics
                    .loads
                    .get_or_create(&crate::metrics::Load {
                        model: name.clone(),
                        result: if ready { "admitted" } else { "refused" }.into(),
                    })
                    .inc();
                let fields = serde_json::json!({
                    "model": name,
                    "from": format!("{}@{}", source.model, source.at),
                    "version": served.version().map(|v| v.version),
                    "sha256": served.version().map(|v| v.sha256.clone()),
                    "admitted": ready,
                    "reasons": served.reasons(),
                });
                shared.audit.record("admission", fields.clone());
                log::event("admission", fields);
            }
            shared
                .metrics
                .ready
                .get_or_create(&crate::metrics::ModelLabel {
                    model: name.clone(),
                })
                .set(i64::from(served.ready().is_some()));
            table.insert(name.clone(), Arc::new(served));
        }
        shared.models.store(Arc::new(table));
    }

    /// Refuses every model with `reason` (the registry cannot be read).
    fn refuse_all(&self, shared: &Shared, reason: &str) {
        let mut table = Table::new();
        for (name, m) in &shared.config.models {
            table.insert(
                name.clone(),
                Arc::new(crate::models::Served {
                    name: name.clone(),
                    source: m.source.clone(),
                    limits: m.limits,
                    contract: m.contract.clone(),
                    state: crate::models::State::Refused {
                        version: None,
                        reasons: vec![reason.to_string()],
                    },
                }),
            );
        }
        shared.models.store(Arc::new(table));
    }

    /// Runs until the gateway stops.
    pub fn run(mut self, shared: Arc<Shared>) {
        let mut mark = self.registry.mark().ok();
        let (mut keys_ok, mut reg_ok) = (Instant::now(), Instant::now());
        let mut next = Instant::now() + RELOAD;
        let mut tls_stamps = tls_files(&shared);
        let mut last_admit = Instant::now();
        let mut faulted = false;
        while !shared.stopping.load(Ordering::Acquire) {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next = Instant::now() + RELOAD;
            reload_jwks(&shared);
            reload_tls(&shared, &mut tls_stamps);
            // While the ledger refuses the audit trail (tampered, full,
            // unwritable), no decision could be proven: no key is trusted
            // and no model is served until an append succeeds again.
            if let Some(e) = shared.audit.status.fault() {
                let why = format!("the ledger refuses the audit trail: {e}");
                if !faulted {
                    shared.metrics.store_errors.inc();
                    log::event(
                        "store-error",
                        serde_json::json!({"store": "audit", "error": why}),
                    );
                    faulted = true;
                }
                shared.keys.store(Arc::new(Keys::untrusted(why.clone())));
                self.refuse_all(&shared, &why);
                mark = None;
                continue;
            }
            faulted = false;
            match self.reload_keys(&shared) {
                Ok(()) => keys_ok = Instant::now(),
                // Tampering closes at once; a read error (a busy or
                // unreachable store) after STALE_AFTER.
                Err(e)
                    if matches!(e, crate::Error::Tampered(_))
                        || keys_ok.elapsed() > STALE_AFTER =>
                {
                    shared.keys.store(Arc::new(Keys::untrusted(e.to_string())));
                }
                Err(_) => {}
            }
            match self.registry.mark() {
                Ok(m) => {
                    reg_ok = Instant::now();
                    // Re-admit when the registry or the ledger moved, and
                    // every READMIT while a model is refused (an upstream
                    // may have come up); a served model whose version did
                    // not change is kept as loaded.
                    let refused = shared.models.load().values().any(|s| s.ready().is_none());
                    // A served model's bytes changed on disk: hash them
                    // again (every READMIT when they have no stamp).
                    let moved = shared.models.load().values().any(|s| match s.moved() {
                        Some(m) => m,
                        None => last_admit.elapsed() >= READMIT,
                    });
                    if Some(m) != mark || moved || (refused && last_admit.elapsed() >= READMIT) {
                        mark = Some(m);
                        last_admit = Instant::now();
                        self.admit_all(&shared);
                    }
                }
                Err(e) => {
                    shared.metrics.store_errors.inc();
                    log::event(
                        "store-error",
                        serde_json::json!({"store": "registry", "error": e.to_string()}),
                    );
                    if reg_ok.elapsed() > STALE_AFTER {
                        mark = None;
                        self.refuse_all(
                            &shared,
                            &format!(
                                "the registry could not be read for over {}s: {e}",
                                STALE_AFTER.as_secs()
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Carries out registry requests from the REST API, one at a time, until
/// the gateway stops.
pub fn registry_jobs(mut registry: Registry, shared: &Shared, jobs: &Receiver<Job>) {
    while !shared.stopping.load(Ordering::Acquire) {
        match jobs.recv_timeout(Duration::from_millis(200)) {
            Ok((request, reply)) => {
                let answer = registry.execute(&request);
                // The caller may have gone; the change is recorded anyway.
                let _ = reply.send(answer);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Re-reads the JWKS file when its time or length changed.
fn reload_jwks(shared: &Shared) {
    let Some(j) = &shared.config.jwt else {
        return;
    };
    if crate::jwt::stamp(&j.jwks) == shared.jwks.load().stamp {
        return;
    }
    let fresh = crate::jwt::Jwks::read(&j.jwks);
    log::event(
        "jwks-reloaded",
        serde_json::json!({"path": j.jwks.display().to_string(), "problem": fresh.problem}),
    );
    shared.jwks.store(Arc::new(fresh));
}

fn tls_files(shared: &Shared) -> Vec<Option<(std::time::SystemTime, u64)>> {
    shared
        .config
        .tls
        .as_ref()
        .map(|t| t.files().into_iter().map(crate::jwt::stamp).collect())
        .unwrap_or_default()
}

/// Re-reads the certificate, key and client CA when a file changed; a
/// set that does not load keeps the one in use, and says so.
fn reload_tls(shared: &Shared, stamps: &mut Vec<Option<(std::time::SystemTime, u64)>>) {
    let Some(t) = &shared.config.tls else {
        return;
    };
    let now = tls_files(shared);
    if now == *stamps {
        return;
    }
    *stamps = now;
    match t.load() {
        Ok(c) => {
            shared.tls.store(Some(c));
            log::event(
                "tls-reloaded",
                serde_json::json!({"cert": t.cert.display().to_string()}),
            );
        }
        Err(e) => log::event(
            "tls-reload-failed",
            serde_json::json!({"error": e, "note": "the certificate in use is kept"}),
        ),
    }
}
