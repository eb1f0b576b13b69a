//! Upstream model servers behind the gateway: an OpenAI-compatible server
//! (vLLM, llama.cpp, TGI) reached through a pooled HTTP/1.1 client, with
//! a deadline on the response head, retries only where nothing can have
//! been done twice, and a circuit breaker per upstream.
//!
//! The caller's credential never reaches the upstream: hop-by-hop headers
//! and `Authorization` are dropped, and the upstream's own key (from the
//! environment) is sent instead when configured.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `[serve.upstreams.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// `http://host:port` (a path prefix is kept).
    pub url: String,
    /// Seconds to wait for the response head [default 30].
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Seconds to wait for a connection [default 2].
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: f64,
    /// Consecutive failures that open the circuit [default 5].
    #[serde(default = "default_failures")]
    pub failures: u32,
    /// Seconds the circuit stays open before one trial request [default 10].
    #[serde(default = "default_open_for")]
    pub open_for: f64,
    /// An environment variable holding the upstream's own API key.
    pub api_key_env: Option<String>,
    /// What it speaks: `openai` (vLLM, llama.cpp, TGI) or `oip` (KServe,
    /// Triton, MLServer) [default openai].
    #[serde(default)]
    pub protocol: Protocol,
}

/// An upstream's API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Openai,
    Oip,
}

/// Largest metadata answer read from an OIP upstream.
const MAX_METADATA: u64 = 1 << 20;

/// Reads an OIP model's signature from its upstream
/// (`GET /v2/models/NAME`), blocking, within `timeout`: the gateway
/// checks requests against it before forwarding them.
pub fn oip_signature(c: &UpstreamConfig, model: &str) -> Result<crate::oip::Signature, String> {
    use std::io::{Read, Write};
    let base: Uri = c.url.parse().map_err(|e| format!("{}: {e}", c.url))?;
    let host = base
        .authority()
        .ok_or_else(|| format!("{}: no host", c.url))?
        .as_str()
        .to_string();
    let port_host = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:80")
    };
    // The watcher thread waits on this: a few seconds at most.
    let timeout = Duration::from_secs_f64(c.connect_timeout.clamp(0.1, 5.0));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&port_host)
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let mut conn = std::net::TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot reach {host}: {e}"))?;
    conn.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let prefix = base.path().trim_end_matches('/');
    write!(
        conn,
        "GET {prefix}/v2/models/{model} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{host}: {e}"))?;
    // The head, then exactly Content-Length bytes (or to the end when the
    // server closes): a server that keeps the connection open is fine.
    let mut reader = std::io::BufReader::new(conn.take(MAX_METADATA));
    let mut status_line = String::new();
    std::io::BufRead::read_line(&mut reader, &mut status_line)
        .map_err(|e| format!("{host}: {e}"))?;
    let status = status_line.split(' ').nth(1).unwrap_or("").to_string();
    let mut length: Option<usize> = None;
    loop {
        let mut h = String::new();
        let n =
            std::io::BufRead::read_line(&mut reader, &mut h).map_err(|e| format!("{host}: {e}"))?;
        if n == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok();
            }
        }
    }
    if status != "200" {
        return Err(format!(
            "{host} answered {status:?} for model {model}'s metadata"
        ));
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(
                n.min(usize::try_from(MAX_METADATA).unwrap_or(usize::MAX)),
                0,
            );
            reader
                .read_exact(&mut body)
                .map_err(|e| format!("{host}: {e}"))?;
        }
        None => {
            reader
                .read_to_end(&mut body)
                .map_err(|e| format!("{host}: {e}"))?;
        }
    }
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| format!("{host}: the metadata of {model} is not JSON: {e}"))?;
    crate::oip::Signature::from_metadata(&v)
        .map_err(|e| format!("{host}: the metadata of {model}: {e}"))
}

fn default_timeout() -> f64 {
    30.0
}
fn default_connect_timeout() -> f64 {
    2.0
}
fn default_failures() -> u32 {
    5
}
fn default_open_for() -> f64 {
    10.0
}

fn seconds(what: &str, s: f64) -> Result<Duration, String> {
    if s.is_finite() && s > 0.0 && s <= 3600.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!("{what} must be between 0 and 3600 seconds"))
    }
}

/// Why a call to an upstream failed, as the caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The circuit is open: 503 with Retry-After.
    Open(Duration),
    /// No connection, a reset, a malformed response, a 5xx: 502.
    Bad(String),
    /// No response head in time: 504.
    Timeout(Duration),
}

/// Consecutive failures open the circuit for a while; then one trial
/// request is let through, and its outcome closes or re-opens it.
pub struct Breaker {
    epoch: Instant,
    failures: AtomicU32,
    /// Nanoseconds since `epoch` until which the circuit is open (0: closed).
    open_until: AtomicU64,
    trial: AtomicBool,
    threshold: u32,
    open_for: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, open_for: Duration) -> Breaker {
        Breaker {
            epoch: Instant::now(),
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            trial: AtomicBool::new(false),
            threshold: threshold.max(1),
            open_for,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether a request may go now; Err with how long until a trial.
    pub fn allow(&self) -> Result<(), Duration> {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Ok(());
        }
        let now = self.now();
        if now < until {
            return Err(Duration::from_nanos(until - now));
        }
        // Half open: one trial at a time.
        match self
            .trial
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(_) => Err(Duration::from_secs(1)),
        }
    }

    pub fn success(&self) {
        self.failures.store(0, Ordering::Release);
        self.open_until.store(0, Ordering::Release);
        self.trial.store(false, Ordering::Release);
    }

    pub fn failure(&self) {
        let n = self
            .failures
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        let half_open = self.open_until.load(Ordering::Acquire) != 0;
        if n >= self.threshold || half_open {
            let until = self
                .now()
                .saturating_add(u64::try_from(self.open_for.as_nanos()).unwrap_or(u64::MAX));
            self.open_until.store(until.max(1), Ordering::Release);
        }
        self.trial.store(false, Ordering::Release);
    }

    /// 0 closed, 1 open, 2 half open (for metrics).
    pub fn state(&self) -> i64 {
        match self.open_until.load(Ordering::Acquire) {
            0 => 0,
            u if self.now() < u => 1,
            _ => 2,
        }
    }
}

/// One upstream server.
pub struct Upstream {
    pub name: String,
    base: Uri,
    /// A connection pool per worker thread (see [`crate::run`]): a
    /// request is sent on a connection its own thread drives, never
    /// handed to another thread and back.
    clients: Box<[Client<HttpConnector, Body>]>,
    timeout: Duration,
    api_key: Option<HeaderValue>,
    pub breaker: Breaker,
}

/// Headers that belong to one connection, never forwarded (RFC 9110
/// 7.6.1), and the caller's credential.
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    "cookie",
];

impl Upstream {
    pub fn new(name: &str, c: &UpstreamConfig) -> Result<Upstream, String> {
        let base: Uri = c
            .url
            .parse()
            .map_err(|e| format!("[serve.upstreams.{name}] url {:?}: {e}", c.url))?;
        if base.scheme_str() != Some("http") || base.authority().is_none() {
            return Err(format!(
                "[serve.upstreams.{name}] url {:?}: give http://HOST:PORT (TLS to upstreams is not offered yet; keep them on a private network)",
                c.url
            ));
        }
        let timeout = seconds(&format!("[serve.upstreams.{name}] timeout"), c.timeout)?;
        let connect = seconds(
            &format!("[serve.upstreams.{name}] connect_timeout"),
            c.connect_timeout,
        )?;
        let open_for = seconds(&format!("[serve.upstreams.{name}] open_for"), c.open_for)?;
        let api_key = match &c.api_key_env {
            None => None,
            Some(var) => {
                let v = std::env::var(var).map_err(|_| {
                    format!("[serve.upstreams.{name}] api_key_env: ${var} is not set")
                })?;
                let mut h = HeaderValue::from_str(&format!("Bearer {v}")).map_err(|_| {
                    format!(
                        "[serve.upstreams.{name}] api_key_env: ${var} is not a valid header value"
                    )
                })?;
                h.set_sensitive(true);
                Some(h)
            }
        };
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect));
        connector.set_nodelay(true);
        let clients = (0..crate::workers())
            .map(|_| {
                Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(60))
                    .pool_max_idle_per_host(256)
                    .build(connector.clone())
            })
            .collect();
        Ok(Upstream {
            name: name.to_string(),
            base,
            clients,
            timeout,
            api_key,
            breaker: Breaker::new(c.failures, open_for),
        })
    }

    fn uri(&self, path: &str) -> Result<Uri, Failure> {
        let prefix = self.base.path().trim_end_matches('/');
        let mut parts = self.base.clone().into_parts();
        parts.path_and_query = Some(
            format!("{prefix}{path}")
                .parse()
                .map_err(|e| Failure::Bad(format!("bad upstream path: {e}")))?,
        );
        Uri::from_parts(parts).map_err(|e| Failure::Bad(format!("bad upstream URI: {e}")))
    }

    fn request(
        &self,
        method: &Method,
        uri: Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Request<Body>, Failure> {
        let mut b = Request::builder().method(method.clone()).uri(uri);
        for (k, v) in headers {
            if !dropped(k) {
                b = b.header(k, v);
            }
        }
        if let Some(k) = &self.api_key {
            b = b.header(header::AUTHORIZATION, k.clone());
        }
        b.header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body.clone()))
            .map_err(|e| Failure::Bad(format!("cannot build the upstream request: {e}")))
    }

    /// Sends one request; the response head must arrive within the
    /// timeout. The caller calls `breaker.success()` once the answer is
    /// whole (or, for a stream, has started). A request is sent again only when the connection could
    /// not be made (nothing reached the upstream) or, for GET, once more
    /// after a 502/503.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<axum::http::Response<hyper::body::Incoming>, Failure> {
        self.breaker.allow().map_err(Failure::Open)?;
        let uri = self.uri(path)?;
        let idempotent = method == Method::GET || method == Method::HEAD;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = self.request(&method, uri.clone(), headers, &body)?;
            let Some(client) = self
                .clients
                .get(crate::worker() % self.clients.len().max(1))
            else {
                return Err(Failure::Bad("no upstream client".into()));
            };
            let outcome = tokio::time::timeout(self.timeout, client.request(req)).await;
            let retry_ok = attempt < 2;
            match outcome {
                Err(_) => {
                    self.breaker.failure();
                    return Err(Failure::Timeout(self.timeout));
                }
                Ok(Err(e)) if e.is_connect() && retry_ok => continue,
                Ok(Err(e)) => {
                    self.breaker.failure();
                    return Err(Failure::Bad(format!(
                        "upstream {}: {}",
                        self.name,
                        error_chain(&e)
                    )));
                }
                Ok(Ok(r)) if r.status().is_server_error() => {
                    if idempotent && retry_ok && matches!(r.status().as_u16(), 502 | 503) {
                        continue;
                    }
                    self.breaker.failure();
                    return Err(Failure::Bad(format!(
                        "upstream {} answered {}",
                        self.name,
                        r.status()
                    )));
                }
                // Success is the caller's to record: a head can arrive
                // and its body still break.
                Ok(Ok(r)) => return Ok(r),
            }
        }
    }
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.name)
            .field("base", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn dropped(k: &HeaderName) -> bool {
    DROPPED.contains(&k.as_str())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_failures_and_lets_one_trial_through() {
        let b = Breaker::new(2, Duration::from_millis(50));
        b.failure();
        assert!(b.allow().is_ok());
        b.failure();
        assert!(b.allow().is_err());
        assert_eq!(b.state(), 1);
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.allow().is_ok(), "one trial after open_for");
        assert!(b.allow().is_err(), "only one");
        b.failure();
        assert!(b.allow().is_err(), "a failed trial re-opens");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.allow().is_ok());
        b.success();
        assert!(b.allow().is_ok() && b.allow().is_ok());
        assert_eq!(b.state(), 0);
    }

    #[test]
    fn credentials_and_hop_headers_are_not_forwarded() {
        for h in ["authorization", "connection", "transfer-encoding", "cookie"] {
            assert!(dropped(&HeaderName::from_static(h)), "{h}");
        }
        assert!(!dropped(&HeaderName::from_static("content-type")));
    }
}
