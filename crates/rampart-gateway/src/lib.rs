//! `rampart serve`: the gateway that serves only evidenced models, to
//! authenticated callers, within their limits.
//!
//! - [`config`]: `[serve]` in `rampart.toml`, checked whole before
//!   anything listens; every default denies.
//! - [`models`]: admission, fail closed: a model is served only when its
//!   registry alias resolves, its evidence passes `[admission]`, and the
//!   bytes read hash to the registered digest.
//! - [`keys`], [`rbac`]: API keys kept as hashes in signed ledger events
//!   every replica reads; roles allow actions on models.
//! - [`limit`]: GCRA rates and concurrency per principal and model.
//! - [`oip`], [`onnx`]: the Open Inference Protocol v2, checked against
//!   the model's signature and run in process with tract.
//! - [`contract`]: tabular rows checked against the expectations of the
//!   training data (ranges, whole numbers, categories).
//! - [`metrics`], [`log`]: Prometheus and JSON logs.
//!
//! The library listens and serves; the binary parses flags and exits.

pub mod audit;
pub mod config;
pub mod contract;
mod http;
pub mod jwt;
pub mod keys;
pub mod limit;
mod listen;
pub mod log;
pub mod metrics;
pub mod models;
pub mod oip;
pub mod onnx;
mod proxy;
pub mod rbac;
pub mod redis_limit;
pub mod tls;
pub mod upstream;
mod watch;

/// The parsers a caller's bytes reach that are not public otherwise,
/// for the fuzz target (`fuzz/fuzz_targets/gateway_request.rs`).
#[doc(hidden)]
pub mod fuzzing {
    /// The model and stream flag of an OpenAI-style request body, or the
    /// 400's message.
    pub fn openai_head(body: &[u8]) -> Result<(String, Option<bool>), String> {
        crate::proxy::head(body)
    }

    /// The tokens an upstream's answer is counted as.
    pub fn used_tokens(body: &[u8]) -> u64 {
        crate::proxy::used_tokens(body)
    }
}

pub use config::Checked;
pub use watch::STALE_AFTER;

use arc_swap::ArcSwap;
use rampart_core::Policy;
use rampart_evidence::Project;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid [serve] in {path}:\n{message}")]
    Config { path: PathBuf, message: String },
    #[error("API keys: {0}")]
    Keys(String),
    /// The ledger the keys come from was tampered with (an entry edited,
    /// removed or forged): no key is trusted from the moment it is seen.
    #[error("API keys: {0}")]
    Tampered(String),
    #[error(transparent)]
    Registry(#[from] rampart_registry::Error),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Usage(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// What every request reads; the watcher thread writes the tables.
pub struct Shared {
    pub config: Checked,
    pub policy: Policy,
    pub models: ArcSwap<models::Table>,
    pub keys: ArcSwap<keys::Keys>,
    /// The TLS configuration as last read (None: plain HTTP).
    pub tls: Arc<arc_swap::ArcSwapOption<rustls::ServerConfig>>,
    /// The JWKS as last read (empty when `[serve.jwt]` is not set).
    pub jwks: ArcSwap<jwt::Jwks>,
    pub limiter: limit::Limiter,
    /// Limits shared through Redis, once connected (`--redis`).
    pub redis: arc_swap::ArcSwapOption<redis_limit::RedisLimiter>,
    /// Upstream servers, by name.
    pub upstreams: std::collections::BTreeMap<String, Arc<upstream::Upstream>>,
    pub metrics: metrics::Metrics,
    /// The audit trail's queue to the ledger.
    pub audit: audit::Audit,
    pub stopping: AtomicBool,
    jobs: Mutex<mpsc::SyncSender<watch::Job>>,
}

/// `check-config`'s answer: ok when every configured model is served.
pub struct Report {
    pub ok: bool,
    pub json: serde_json::Value,
    pub text: String,
}

/// A gateway ready to serve: its stores open, its models admitted.
pub struct Gateway {
    shared: Arc<Shared>,
    redis_url: Option<String>,
    watcher: Option<std::thread::JoinHandle<()>>,
    registrar: Option<std::thread::JoinHandle<()>>,
    auditor: Option<std::thread::JoinHandle<()>>,
}

/// Where a gateway gets its state.
pub struct Setup {
    pub project: Project,
    pub policy: Policy,
    /// The registry's store (the project's SQLite file by default).
    pub store: Option<String>,
    /// Redis for limits shared across replicas (`redis://HOST:PORT`).
    pub redis: Option<String>,
    /// Write the audit trail to the ledger (false for a dry run such as
    /// `check-config`, which must not write).
    pub audit: bool,
}

impl Gateway {
    /// Opens the registry and the key store, admits every configured
    /// model, and starts the thread that keeps both current.
    pub fn start(setup: Setup) -> Result<Gateway, Error> {
        let config = Checked::from_policy(&setup.policy)?;
        let store = setup
            .store
            .clone()
            .unwrap_or_else(|| rampart_registry::default_store(&setup.project));
        let project = setup.project.clone();
        let registry =
            rampart_registry::Registry::open(project.clone(), &store, setup.policy.clone())?;
        // The REST API's registry: its own handle on its own thread, so
        // that a long request never delays a key or alias reload.
        let rest_registry =
            rampart_registry::Registry::open(setup.project, &store, setup.policy.clone())?;
        let key_log = keys::KeyLog::open(&project)?;
        let first_keys = key_log.snapshot();
        let tls = match &config.tls {
            None => None,
            Some(t) => Some(t.load().map_err(|message| Error::Config {
                path: config.source.clone(),
                message: format!("[serve.tls]: {message}"),
            })?),
        };
        let upstreams = config.clients.clone();
        let (tx, rx) = mpsc::sync_channel(watch::JOBS);
        let (audit, audit_rx) = audit::Audit::new();
        let jwks = ArcSwap::from_pointee(
            config
                .jwt
                .as_ref()
                .map(|j| jwt::Jwks::read(&j.jwks))
                .unwrap_or_default(),
        );
        let shared = Arc::new(Shared {
            tls: Arc::new(arc_swap::ArcSwapOption::new(tls)),
            config,
            jwks,
            policy: setup.policy,
            models: ArcSwap::from_pointee(models::Table::new()),
            keys: ArcSwap::from_pointee(first_keys),
            limiter: limit::Limiter::default(),
            redis: arc_swap::ArcSwapOption::empty(),
            upstreams,
            metrics: metrics::Metrics::default(),
            audit,
            stopping: AtomicBool::new(false),
            jobs: Mutex::new(tx),
        });
        let mut stores = watch::Stores {
            registry,
            keys: key_log,
        };
        stores.admit_all(&shared);
        let s = shared.clone();
        let watcher = std::thread::Builder::new()
            .name("rampart-gateway-stores".into())
            .spawn(move || stores.run(s))?;
        let s = shared.clone();
        let registrar = std::thread::Builder::new()
            .name("rampart-gateway-registry".into())
            .spawn(move || watch::registry_jobs(rest_registry, &s, &rx))?;
        let auditor = match setup.audit {
            true => Some(
                std::thread::Builder::new()
                    .name("rampart-gateway-audit".into())
                    .spawn({
                        let status = shared.audit.status.clone();
                        move || audit::write_batches(project, audit_rx, &status)
                    })?,
            ),
            false => {
                shared.audit.close();
                None
            }
        };
        Ok(Gateway {
            shared,
            redis_url: setup.redis,
            watcher: Some(watcher),
            registrar: Some(registrar),
            auditor,
        })
    }

    /// What would be served and why not: `check-config`'s answer.
    pub fn report(&self) -> Report {
        let table = self.shared.models.load();
        let mut text = String::new();
        let mut models = Vec::new();
        for (name, m) in table.iter().collect::<std::collections::BTreeMap<_, _>>() {
            let v = m.version();
            let from = format!("{}@{}", m.source.model, m.source.at);
            match m.ready() {
                Some((v, _)) => text.push_str(&format!(
                    "SERVED  {name}  {from} = version {} (sha256 {})\n",
                    v.version, v.sha256
                )),
                None => text.push_str(&format!(
                    "REFUSED {name}  {from}: {}\n",
                    m.reasons().join("; ")
                )),
            }
            models.push(serde_json::json!({
                "name": name,
                "from": from,
                "ready": m.ready().is_some(),
                "version": v.map(|v| v.version),
                "sha256": v.map(|v| v.sha256.clone()),
                "reasons": m.reasons(),
            }));
        }
        let c = &self.shared.config;
        if c.models.is_empty() {
            text.push_str(
                "no models configured: [serve.models.NAME] from = \"MODEL@ALIAS\" serves one\n",
            );
        }
        let keys = self.shared.keys.load();
        text.push_str(&format!(
            "{} roles, {} principals in the policy; {} API keys in the ledger\n",
            c.roles.len(),
            c.principals.len(),
            keys.len()
        ));
        let warnings = c.warnings(&keys.infos(), keys::now());
        for w in &warnings {
            text.push_str(&format!("warning: {w}\n"));
        }
        let ok = table.values().all(|m| m.ready().is_some());
        Report {
            ok,
            json: serde_json::json!({"ok": ok, "models": models, "roles": c.roles.keys().collect::<Vec<_>>(), "warnings": warnings}),
            text,
        }
    }

    /// What requests read (for tests and embedding).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The HTTP routes, to serve or to nest in another router.
    pub fn router(&self) -> axum::Router {
        http::router(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then stops taking
    /// connections and lets requests in flight finish.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let shared = self.shared.clone();
        if let Some(url) = self.redis_url.clone() {
            tokio::spawn(connect_redis(shared.clone(), url));
        }
        self.listening(listener.local_addr()?, 1);
        let bounds = self.bounds();
        let router = self.router();
        listen::serve(listener, router, shared.tls.clone(), bounds, async move {
            shutdown.await;
            shared.stopping.store(true, Ordering::Release);
            log::event("draining", serde_json::json!({}));
        })
        .await;
        self.stop();
        log::flush();
        Ok(())
    }

    fn listening(&self, addr: std::net::SocketAddr, workers: usize) {
        log::event(
            "listening",
            serde_json::json!({"addr": addr.to_string(), "workers": workers, "models": self.shared.config.models.keys().collect::<Vec<_>>()}),
        );
    }

    /// The connection bounds every accept loop of this gateway shares.
    fn bounds(&self) -> listen::Bounds {
        let c = &self.shared.config;
        let gauges = listen::Gauges {
            open: self.shared.metrics.connections.clone(),
            parked: self.shared.metrics.parked.clone(),
        };
        listen::Bounds::new(c.max_connections, c.head_timeout, gauges)
    }

    /// Stops the store threads, then drains the audit queue into the
    /// ledger.
    pub fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        for t in [self.watcher.take(), self.registrar.take()]
            .into_iter()
            .flatten()
        {
            // A panicked thread has nothing left to clean up.
            let _ = t.join();
        }
        self.shared.audit.close();
        if let Some(a) = self.auditor.take() {
            let _ = a.join();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

thread_local! {
    /// This thread's number among [`run`]'s workers (0 on any other).
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many worker threads [`run`] starts: one per core, at most 16.
pub fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16)
}

/// The calling thread's worker number (0 outside [`run`]'s workers).
fn worker() -> usize {
    WORKER.with(|w| w.get())
}

/// Serves `setup` on `addr` until SIGTERM or Ctrl-C, then drains requests
/// in flight for at most `drain` before returning.
///
/// One worker thread per core, each with a single-threaded runtime, its
/// own accept loop on the shared socket and its own upstream connection
/// pools, as nginx runs a worker process per core: a request is read,
/// checked, proxied and answered on one thread, waking no other. The
/// workers share everything else (tables, limits, slots, metrics). The
/// main thread waits for the signal and drives the Redis connection.
pub fn run(
    setup: Setup,
    addr: std::net::SocketAddr,
    drain: std::time::Duration,
) -> Result<(), Error> {
    let gateway = Gateway::start(setup)?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| Error::Usage(format!("cannot listen on {addr}: {e}")))?;
    listener.set_nonblocking(true)?;
    let n = workers();
    gateway.listening(listener.local_addr()?, n);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let bounds = gateway.bounds();
    let mut threads = Vec::with_capacity(n);
    for i in 0..n {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _in = runtime.enter();
            tokio::net::TcpListener::from_std(listener.try_clone()?)?
        };
        let router = gateway.router();
        let (tls, bounds, stop) = (gateway.shared.tls.clone(), bounds.clone(), stop_rx.clone());
        let work = move || {
            WORKER.with(|w| w.set(i));
            runtime.block_on(async move {
                let serving = listen::serve(listener, router, tls, bounds, stopped(stop.clone()));
                let deadline = async {
                    stopped(stop).await;
                    tokio::time::sleep(drain).await;
                };
                tokio::select! {
                    () = serving => {}
                    () = deadline => log::event("drain-timeout", serde_json::json!({"worker": i, "seconds": drain.as_secs()})),
                }
            });
            // Dropping the runtime ends what the deadline cut off.
            drop(runtime);
        };
        threads.push(
            std::thread::Builder::new()
                .name(format!("rampart-gateway-{i}"))
                .spawn(work)?,
        );
    }
    let main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shared = gateway.shared.clone();
    let redis = gateway.redis_url.clone();
    main.block_on(async move {
        if let Some(url) = redis {
            tokio::spawn(connect_redis(shared.clone(), url));
        }
        signal().await;
        shared.stopping.store(true, Ordering::Release);
        log::event("draining", serde_json::json!({}));
        let _ = stop_tx.send(true);
        // The workers drain while this runtime keeps Redis answering.
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                // A panicked worker has nothing left to drain.
                let _ = t.join();
            }
        })
        .await;
    });
    drop(main);
    // The audit queue is written out, then the last log lines.
    drop(gateway);
    log::flush();
    Ok(())
}

/// Completes once `stop` says true (or its sender is gone).
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Waits for SIGTERM (what orchestrators send) or Ctrl-C.
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Reads `30d`, `12h`, `15m` or `90s` as seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(format!(
                "{s:?}: a duration is a number and a unit: 30d, 12h, 15m or 90s"
            ))
        }
    };
    let secs = n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        format!("{s:?}: a duration is a positive number and a unit: 30d, 12h, 15m or 90s")
    })?;
    secs.checked_mul(mult)
        .filter(|n| *n <= MAX_DURATION)
        .ok_or_else(|| {
            format!(
                "{s:?} is longer than ten years ({}d); leave the option out for no expiry",
                MAX_DURATION / 86_400
            )
        })
}

/// The longest duration [`parse_duration`] takes: ten years.
pub const MAX_DURATION: u64 = 3650 * 86_400;

/// Connects to Redis, retrying every second until it answers; limits are
/// local (and the logs and metrics say so) until then.
async fn connect_redis(shared: Arc<Shared>, url: String) {
    let mut said = false;
    while !shared.stopping.load(Ordering::Acquire) {
        match redis_limit::RedisLimiter::connect(&url).await {
            Ok(l) => {
                log::event("limiter", serde_json::json!({"shared": true, "redis": url}));
                shared.redis.store(Some(Arc::new(l)));
                return;
            }
            Err(e) if !said => {
                said = true;
                log::event(
                    "limiter",
                    serde_json::json!({"shared": false, "error": e, "note": "limits are local until Redis answers"}),
                );
            }
            Err(_) => {}
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_a_unit_and_a_ceiling() {
        assert_eq!(parse_duration("30d"), Ok(30 * 86_400));
        assert_eq!(parse_duration("90s"), Ok(90));
        for bad in ["", "30", "d", "0d", "-1d", "1.5h", "1w"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        let e = parse_duration("99999999999999d").unwrap_err();
        assert!(e.contains("longer than ten years"), "{e}");
        assert!(parse_duration("3650d").is_ok() && parse_duration("3651d").is_err());
    }
}
