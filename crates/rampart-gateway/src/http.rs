//! The HTTP API: the Open Inference Protocol v2 for served models, the
//! registry's operations, health and metrics. Every route but health
//! authenticates, then authorises, then limits, then validates; a
//! refusal at any step ends the request there.

use crate::limit::Limited;
use crate::models::Runner;
use crate::oip::{self, Invalid};
use crate::rbac::{Action, Principal};
use crate::tls::ClientCert;
use crate::{log, Shared};
use axum::body::{to_bytes, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// A request refused: status, the message the caller sees, the label
/// counted in metrics.
#[derive(Debug)]
pub struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) reason: &'static str,
    pub(crate) retry_after: Option<u64>,
}

impl Refusal {
    pub(crate) fn new(
        status: StatusCode,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            reason,
            retry_after: None,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(json!({"error": self.message}))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2", get(server_metadata))
        .route("/v2/models/{name}", get(model_metadata))
        .route("/v2/models/{name}/ready", get(model_ready))
        .route("/v2/models/{name}/infer", post(infer))
        .route("/v1/registry", post(registry))
        .route("/v1/chat/completions", post(crate::proxy::openai))
        .route("/v1/completions", post(crate::proxy::openai))
        .route("/v1/embeddings", post(crate::proxy::openai))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            access_log,
        ))
        .with_state(shared)
}

tokio::task_local! {
    /// The principal of the request being served, for its access log line.
    static WHO: std::cell::RefCell<Option<String>>;
}

/// One JSON line per request: method, route, status, principal, time.
/// Never the body, never the query string.
async fn access_log(
    State(s): State<Arc<Shared>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if !s.config.access_log {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let (who, response) = WHO
        .scope(std::cell::RefCell::new(None), async {
            let r = next.run(req).await;
            (WHO.with(|w| w.borrow().clone()), r)
        })
        .await;
    log::event(
        "request",
        json!({
            "method": method,
            "route": route,
            "status": response.status().as_u16(),
            "principal": who,
            "ms": started.elapsed().as_secs_f64() * 1000.0,
        }),
    );
    response
}

async fn not_found() -> Refusal {
    Refusal::new(StatusCode::NOT_FOUND, "no-route", "no such endpoint")
}

/// The API's OpenAPI 3.0 document.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn live() -> axum::Json<Value> {
    axum::Json(json!({"live": true}))
}

async fn ready(State(s): State<Arc<Shared>>) -> Response {
    let ok = !s.stopping.load(std::sync::atomic::Ordering::Acquire);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(json!({"ready": ok}))).into_response()
}

/// The caller: a bearer token (an API key or a JWT) when one is sent,
/// else a verified client certificate; the 401 says nothing more, the
/// log says which check failed.
pub(crate) fn authenticate(
    s: &Shared,
    headers: &HeaderMap,
    cert: Option<&ClientCert>,
    path: &str,
) -> Result<Principal, Refusal> {
    let p = credential(s, headers, cert, path)?;
    // Outside a request's scope (a test calling in) there is no line.
    let _ = WHO.try_with(|w| *w.borrow_mut() = Some(p.id.clone()));
    Ok(p)
}

fn credential(
    s: &Shared,
    headers: &HeaderMap,
    cert: Option<&ClientCert>,
    path: &str,
) -> Result<Principal, Refusal> {
    let denied = |why: &str| {
        log::event("auth-denied", json!({"path": path, "why": why}));
        s.metrics.reject("unauthenticated");
        s.audit.refusal("unauthenticated", json!({"path": path}));
        Refusal::new(StatusCode::UNAUTHORIZED, "unauthenticated", "unauthorized")
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return match cert {
            Some(c) => Ok(Principal {
                id: format!("cert:{}", c.0),
                roles: Vec::new(),
            }),
            None => Err(denied("no Authorization header and no client certificate")),
        };
    };
    let Some(token) = value
        .to_str()
        .ok()
        // The scheme is case-insensitive (RFC 9110 11.1).
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
    else {
        return Err(denied("the Authorization header is not a Bearer token"));
    };
    if token.starts_with(crate::keys::PREFIX) {
        return s
            .keys
            .load()
            .check(token, crate::keys::now())
            .map_err(|d| denied(&d.0));
    }
    match &s.config.jwt {
        Some(settings) => s
            .jwks
            .load()
            .check(token, settings)
            .map_err(|why| denied(&why)),
        None => Err(denied("not an API key, and [serve.jwt] is not configured")),
    }
}

pub(crate) fn authorize(
    s: &Shared,
    p: &Principal,
    action: Action,
    model: &str,
) -> Result<(), Refusal> {
    if p.may(&s.config.roles, &s.config.principals, action, model) {
        return Ok(());
    }
    log::event(
        "forbidden",
        json!({"principal": p.id, "action": action.name(), "model": model}),
    );
    s.metrics.reject("forbidden");
    s.audit.refusal(
        "forbidden",
        json!({"principal": p.id, "action": action.name(), "model": model}),
    );
    Err(Refusal::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("{} may not {} {model}", p.id, action.name()),
    ))
}

/// A model name from a path: a registry name, so nothing else (no `..`,
/// no `/`) reaches a lookup or a log.
/// The refusal does not repeat the name: what a caller sent is never
/// echoed back.
pub(crate) fn model_name(name: &str) -> Result<(), Refusal> {
    name.parse::<rampart_registry::Name>().map(|_| ()).map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the model name is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    })
}

async fn server_metadata(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    cert: Option<Extension<ClientCert>>,
) -> Result<Response, Refusal> {
    authenticate(&s, &headers, cert.as_ref().map(|c| &c.0), "/v2")?;
    Ok(axum::Json(json!({
        "name": "rampart",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": [],
    }))
    .into_response())
}

pub(crate) fn served(s: &Shared, name: &str) -> Result<Arc<crate::models::Served>, Refusal> {
    s.models.load().get(name).cloned().ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no model {name} is configured"),
        )
    })
}

/// The configured model `name`, for a caller allowed `metadata` on it:
/// the name checked, the caller authenticated and authorised, in that
/// order, before the model is looked up.
fn for_metadata(
    s: &Shared,
    name: &str,
    headers: &HeaderMap,
    cert: Option<Extension<ClientCert>>,
    route: &str,
) -> Result<Arc<crate::models::Served>, Refusal> {
    model_name(name)?;
    let p = authenticate(s, headers, cert.as_ref().map(|c| &c.0), route)?;
    authorize(s, &p, Action::Metadata, name)?;
    served(s, name)
}

async fn model_metadata(
    State(s): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    cert: Option<Extension<ClientCert>>,
) -> Result<Response, Refusal> {
    let m = for_metadata(&s, &name, &headers, cert, "/v2/models/{name}")?;
    match m.ready() {
        Some((v, Runner::Onnx(model))) => {
            Ok(
                axum::Json(model.signature.metadata(&name, v.version, "onnx_tract"))
                    .into_response(),
            )
        }
        Some((
            v,
            Runner::Upstream {
                upstream,
                signature: Some(sig),
                ..
            },
        )) => Ok(
            axum::Json(sig.metadata(&name, v.version, &format!("upstream:{upstream}")))
                .into_response(),
        ),
        Some((v, Runner::Upstream { upstream, .. })) => Ok(axum::Json(json!({
            "name": name,
            "versions": [v.version.to_string()],
            "platform": format!("upstream:{upstream}"),
            "inputs": [],
            "outputs": [],
        }))
        .into_response()),
        None => Err(not_ready(&s, &m)),
    }
}

/// The reasons (paths, digests) are for callers allowed `metadata`,
/// through `/ready`: a caller who may only infer learns only that the
/// model is not served.
pub(crate) fn not_ready(s: &Shared, m: &crate::models::Served) -> Refusal {
    s.metrics.reject("not-ready");
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        format!(
            "{} is not served now; GET /v2/models/{}/ready says why",
            m.name, m.name
        ),
    )
}

async fn model_ready(
    State(s): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    cert: Option<Extension<ClientCert>>,
) -> Result<Response, Refusal> {
    let m = for_metadata(&s, &name, &headers, cert, "/v2/models/{name}/ready")?;
    let v = m.version();
    Ok(axum::Json(json!({
        "name": name,
        "ready": m.ready().is_some(),
        "from": format!("{}@{}", m.source.model, m.source.at),
        "version": v.map(|v| v.version),
        "sha256": v.map(|v| v.sha256.clone()),
        "reasons": m.reasons(),
    }))
    .into_response())
}

/// Reads a body of at most `max` bytes: a declared length over it is
/// refused before a byte is read, and a body that runs over is cut off.
pub(crate) async fn body(req: Request, max: u64) -> Result<Bytes, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the request body is larger than {max} bytes"),
        )
    };
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH) {
        let n: u64 = len
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "Content-Length is not a number",
                )
            })?;
        if n > max {
            return Err(too_large());
        }
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large())
}

pub(crate) fn limited(s: &Shared, l: Limited) -> Refusal {
    let reason = match &l {
        Limited::Rate(_) => "rate",
        Limited::Concurrency(_) => "concurrency",
        Limited::Tokens(_) => "tokens",
    };
    s.audit.refusal(reason, json!({}));
    match l {
        Limited::Rate(wait) => {
            s.metrics.reject("rate");
            let mut r = Refusal::new(StatusCode::TOO_MANY_REQUESTS, "rate", "rate limit exceeded");
            r.retry_after = Some(wait.as_secs().saturating_add(1));
            r
        }
        Limited::Tokens(wait) => {
            s.metrics.reject("tokens");
            let mut r = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "tokens",
                "tokens per minute exceeded",
            );
            r.retry_after = Some(wait.as_secs().saturating_add(1));
            r
        }
        Limited::Concurrency(n) => {
            s.metrics.reject("concurrency");
            let mut r = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "concurrency",
                format!("more than {n} requests in flight"),
            );
            r.retry_after = Some(1);
            r
        }
    }
}

async fn infer(State(s): State<Arc<Shared>>, Path(name): Path<String>, req: Request) -> Response {
    let started = Instant::now();
    let result = infer_inner(&s, &name, req).await;
    let (outcome, response) = match result {
        Ok(r) => ("ok", r),
        Err(refusal) => (refusal.reason, refusal.into_response()),
    };
    let label = if s.config.models.contains_key(&name) {
        name.as_str()
    } else {
        "_other"
    };
    s.metrics
        .observe(label, outcome, started.elapsed().as_secs_f64());
    response
}

/// A request outside the model's signature or contract: 400, counted.
fn invalid(s: &Shared, Invalid(e): Invalid) -> Refusal {
    s.metrics.reject("invalid");
    Refusal::new(StatusCode::BAD_REQUEST, "invalid", e)
}

async fn infer_inner(s: &Arc<Shared>, name: &str, req: Request) -> Result<Response, Refusal> {
    model_name(name)?;
    let p = authenticate(
        s,
        req.headers(),
        req.extensions().get(),
        "/v2/models/{name}/infer",
    )?;
    authorize(s, &p, Action::Infer, name)?;
    let m = served(s, name)?;
    let key = format!("{}\u{0}{name}", p.id);
    crate::limit::rate(s, &key, &m.limits)
        .await
        .map_err(|l| limited(s, l))?;
    let _slot = s.limiter.slot(&key, &m.limits).map_err(|l| limited(s, l))?;
    let headers = req.headers().clone();
    let bytes = body(req, m.limits.max_body)
        .await
        .inspect_err(|_| s.metrics.reject("too-large"))?;
    let (version, model) = match m.ready() {
        None => return Err(not_ready(s, &m)),
        Some((v, Runner::Onnx(model))) => (v, model),
        Some((_, Runner::Upstream { upstream, model, signature: Some(sig) })) => {
            // Checked here as an in-process model would be, then sent on.
            let request = oip::parse_infer(&bytes, sig, m.limits.max_json_depth, m.limits.max_tensor_elements)
                .map_err(|e| invalid(s, e))?;
            if let Some(c) = &m.contract {
                c.check(&request.inputs).map_err(|e| invalid(s, e))?;
            }
            return crate::proxy::forward_oip(s, upstream, model, &headers, bytes).await;
        }
        Some((_, Runner::Upstream { .. })) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                format!("{name} is served by an upstream: call /v1/chat/completions, /v1/completions or /v1/embeddings with \"model\": \"{name}\""),
            ))
        }
    };
    let request = oip::parse_infer(
        &bytes,
        &model.signature,
        m.limits.max_json_depth,
        m.limits.max_tensor_elements,
    )
    .map_err(|e| invalid(s, e))?;
    if let Some(c) = &m.contract {
        c.check(&request.inputs).map_err(|e| invalid(s, e))?;
    }
    let model = model.clone();
    let version = version.version;
    let outputs = tokio::task::spawn_blocking(move || {
        model
            .run(&request.inputs, &request.outputs)
            .map(|o| (o, request.id))
    })
    .await
    .map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error",
            format!("inference stopped: {e}"),
        )
    })?
    .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "error", e))?;
    Ok(axum::Json(oip::response(
        name,
        version,
        outputs.1.as_deref(),
        &outputs.0,
    ))
    .into_response())
}

async fn metrics(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    cert: Option<Extension<ClientCert>>,
) -> Result<Response, Refusal> {
    let p = authenticate(&s, &headers, cert.as_ref().map(|c| &c.0), "/metrics")?;
    authorize(&s, &p, Action::Admin, "*")?;
    for (name, u) in &s.upstreams {
        s.metrics
            .circuit
            .get_or_create(&crate::metrics::Upstream {
                upstream: name.clone(),
            })
            .set(u.breaker.state());
    }
    let shared = s
        .redis
        .load()
        .as_ref()
        .is_some_and(|r| r.shared.load(std::sync::atomic::Ordering::Acquire));
    s.metrics.limiter_shared.set(i64::from(shared));
    for (what, n) in [
        ("log", crate::log::dropped()),
        (
            "audit",
            s.audit.dropped.load(std::sync::atomic::Ordering::Relaxed),
        ),
        (
            "audit-sampled-out",
            s.audit
                .sampled_out
                .load(std::sync::atomic::Ordering::Relaxed),
        ),
        (
            "audit-lost",
            s.audit
                .status
                .lost
                .load(std::sync::atomic::Ordering::Relaxed),
        ),
    ] {
        s.metrics
            .dropped
            .get_or_create(&crate::metrics::Reason {
                reason: what.into(),
            })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    s.metrics
        .limiter_keys
        .set(i64::try_from(s.limiter.tracked()).unwrap_or(i64::MAX));
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response())
}

/// The action a registry request needs, and its model; requests that
/// name files on the server are not offered over HTTP.
fn registry_action(r: &rampart_registry::Request) -> Result<(Action, String), Refusal> {
    use rampart_registry::Request as R;
    let read = |m: &rampart_registry::Name| Ok((Action::RegistryRead, m.to_string()));
    match r {
        R::List { model: Some(m) } | R::History { model: m } | R::Resolve { model: m, .. } => read(m),
        R::List { model: None } | R::Verify => Ok((Action::RegistryRead, "*".into())),
        R::Show { version } | R::Lineage { version } => read(&version.model),
        R::Promote(p) => Ok((Action::Promote, p.version.model.to_string())),
        R::Rollback(b) => Ok((Action::Rollback, b.model.to_string())),
        R::Deprecate(d) => Ok((Action::Deprecate, d.version.model.to_string())),
        R::Register(_) | R::Approve(_) | R::Delete(_) | R::Rebuild | R::ImportMlflow { .. } => {
            Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "invalid",
                "this operation names files on the server or rewrites the store: run it with `rampart registry`",
            ))
        }
    }
}

fn unavailable(message: &str) -> Refusal {
    Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "error", message)
}

async fn registry(State(s): State<Arc<Shared>>, req: Request) -> Result<Response, Refusal> {
    let p = authenticate(&s, req.headers(), req.extensions().get(), "/v1/registry")?;
    // A caller with no registry action at all is refused before its
    // body is read: nothing about the request format reaches it.
    let registry = [
        Action::RegistryRead,
        Action::Promote,
        Action::Rollback,
        Action::Deprecate,
    ];
    if !p.may_any(&s.config.roles, &s.config.principals, &registry) {
        authorize(&s, &p, Action::RegistryRead, "the registry")?;
    }
    let bytes = body(req, 64 << 10).await?;
    oip::check_depth(&bytes, 8)
        .map_err(|Invalid(e)| Refusal::new(StatusCode::BAD_REQUEST, "invalid", e))?;
    let request: rampart_registry::Request = serde_json::from_slice(&bytes).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("not a registry request: {e}"),
        )
    })?;
    let (action, model) = registry_action(&request)?;
    authorize(&s, &p, action, &model)?;
    // `[serve.limits]` apply to each principal's registry calls as to a
    // model of their own.
    let key = format!("{}\u{0}/v1/registry", p.id);
    crate::limit::rate(&s, &key, &s.config.limits)
        .await
        .map_err(|l| limited(&s, l))?;
    let _slot = s
        .limiter
        .slot(&key, &s.config.limits)
        .map_err(|l| limited(&s, l))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let sent = match s.jobs.lock() {
        Ok(jobs) => jobs.try_send((request, tx)),
        Err(_) => return Err(unavailable("the registry is unavailable")),
    };
    match sent {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(_)) => {
            s.metrics.reject("registry-busy");
            let mut r = unavailable(&format!(
                "{} registry requests are waiting already; try again shortly",
                crate::watch::JOBS
            ));
            r.retry_after = Some(1);
            return Err(r);
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
            return Err(unavailable("the registry is unavailable"))
        }
    }
    let answer = rx.await.map_err(|_| unavailable("the registry stopped"))?;
    log::event(
        "registry",
        json!({"principal": p.id, "action": action.name(), "model": model, "ok": answer.is_ok()}),
    );
    s.audit.record(
        "registry",
        json!({"principal": p.id, "action": action.name(), "model": model, "ok": answer.is_ok(),
               "error": answer.as_ref().err().map(|e| e.to_string())}),
    );
    match answer {
        Ok(reply) => Ok(axum::Json(json!({"ok": reply.ok, "result": reply.json})).into_response()),
        Err(e) if e.is_refusal() => {
            Err(Refusal::new(StatusCode::CONFLICT, "refused", e.to_string()))
        }
        Err(rampart_registry::Error::NotFound(m)) => {
            Err(Refusal::new(StatusCode::NOT_FOUND, "not-found", m))
        }
        Err(e) => Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error",
            e.to_string(),
        )),
    }
}
