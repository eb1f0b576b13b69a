//! The OpenAI-compatible routes (`/v1/chat/completions`,
//! `/v1/completions`, `/v1/embeddings`): the request's `model` names a
//! served model whose runner is an upstream; the caller is checked as for
//! any model, the body is forwarded with the upstream's model name, and
//! the answer comes back as it arrives (streams included). Tokens are
//! counted from the upstream's `usage`, or estimated, against the
//! caller's tokens per minute.

use crate::http::{authenticate, authorize, body, limited, model_name, not_ready, served, Refusal};
use crate::limit::Slot;
use crate::models::Runner;
use crate::oip::check_depth;
use crate::rbac::Action;
use crate::upstream::Failure;
use crate::Shared;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// Largest non-streamed upstream answer read (to count its tokens).
const MAX_ANSWER: usize = 64 << 20;

pub async fn openai(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let started = Instant::now();
    let mut label = "_other".to_string();
    let outcome = forward(&s, req, &mut label).await;
    let (outcome, response) = match outcome {
        Ok(r) => ("ok", r),
        Err(refusal) => (refusal.reason, refusal.into_response()),
    };
    s.metrics
        .observe(&label, outcome, started.elapsed().as_secs_f64());
    response
}

fn invalid(m: impl Into<String>) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, "invalid", m)
}

async fn forward(s: &Arc<Shared>, req: Request, label: &mut String) -> Result<Response, Refusal> {
    let path = req.uri().path().to_string();
    let p = authenticate(s, req.headers(), req.extensions().get(), &path)?;
    let headers = req.headers().clone();
    let bytes = body(req, s.config.max_body()).await?;
    check_depth(&bytes, s.config.limits.max_json_depth).map_err(|e| invalid(e.0))?;
    let head = Head::read(&bytes)?;
    let name = head.model.to_string();
    model_name(&name)?;
    authorize(s, &p, Action::Infer, &name)?;
    let m = served(s, &name)?;
    *label = name.clone();
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > m.limits.max_body {
        s.metrics.reject("too-large");
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!(
                "the request body is larger than {} bytes",
                m.limits.max_body
            ),
        ));
    }
    let key = format!("{}\u{0}{name}", p.id);
    crate::limit::rate(s, &key, &m.limits)
        .await
        .map_err(|l| limited(s, l))?;
    crate::limit::tokens_check(s, &key, &m.limits)
        .await
        .map_err(|l| limited(s, l))?;
    let slot = s.limiter.slot(&key, &m.limits).map_err(|l| limited(s, l))?;
    let (upstream_name, upstream_model) = match m.ready() {
        None => return Err(not_ready(s, &m)),
        Some((
            _,
            Runner::Upstream {
                signature: Some(_), ..
            },
        )) => {
            return Err(invalid(format!(
                "{name} is served by an OIP upstream: call /v2/models/{name}/infer"
            )))
        }
        Some((
            _,
            Runner::Upstream {
                upstream, model, ..
            },
        )) => (upstream.clone(), model.clone()),
        Some((_, Runner::Onnx(_))) => {
            return Err(invalid(format!(
                "{name} runs in process: call /v2/models/{name}/infer"
            )))
        }
    };
    let upstream = s.upstreams.get(&upstream_name).ok_or_else(|| {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            format!("upstream {upstream_name} is not configured"),
        )
    })?;
    let stream = head.stream == Some(true);
    let out = match upstream_model == name {
        // The common case: the body goes on as it came.
        true => bytes.clone(),
        false => renamed(&bytes, upstream_model)?,
    };
    let answer = upstream
        .send(Method::POST, &path, &headers, out)
        .await
        .map_err(|f| failure(s, f))?;
    let (parts, incoming) = answer.into_parts();
    let mut response = match stream {
        true => {
            upstream.breaker.success();
            Response::new(counted(incoming, slot, s.clone(), key, m.limits))
        }
        false => {
            let body = whole(s, upstream, incoming).await?;
            crate::limit::tokens_debit(s, &key, used_tokens(&body), &m.limits).await;
            drop(slot);
            Response::new(Body::from(body))
        }
    };
    *response.status_mut() = parts.status;
    for name in [header::CONTENT_TYPE, header::CACHE_CONTROL] {
        if let Some(v) = parts.headers.get(&name) {
            response.headers_mut().insert(name, v.clone());
        }
    }
    response.headers_mut().insert(
        "x-rampart-upstream",
        HeaderValue::from_str(&upstream_name).unwrap_or(HeaderValue::from_static("upstream")),
    );
    Ok(response)
}

/// What the gateway reads of an OpenAI request; the rest is checked as
/// JSON and passes through untouched, without building a tree of it.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    model: std::borrow::Cow<'a, str>,
    #[serde(default)]
    stream: Option<bool>,
}

impl<'a> Head<'a> {
    /// The request's model and stream flag. The body must be one JSON
    /// object (not an array, which serde would also read into a struct),
    /// and a key given twice is refused: the gateway and the upstream
    /// must not read different models from one body.
    fn read(bytes: &'a [u8]) -> Result<Head<'a>, Refusal> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(invalid("the request must be a JSON object"));
        }
        // JSON is UTF-8 (RFC 8259), checked whole: serde skips the
        // strings of fields it ignores without checking them, and the
        // upstream must not get a body the gateway did not read as JSON.
        let text = std::str::from_utf8(bytes)
            .map_err(|e| invalid(format!("the request is not UTF-8: {e}")))?;
        serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data if e.to_string().contains("missing field") => {
                invalid("model: required, the name of a served model")
            }
            _ => invalid(format!("the request is not valid: {e}")),
        })
    }
}

/// [`Head::read`] with owned results, for the fuzz target.
pub(crate) fn head(bytes: &[u8]) -> Result<(String, Option<bool>), String> {
    Head::read(bytes)
        .map(|h| (h.model.into_owned(), h.stream))
        .map_err(|r| r.message)
}

/// The body with `model` set to the name the upstream knows.
fn renamed(bytes: &[u8], upstream_model: String) -> Result<Bytes, Refusal> {
    let mut v: Value = serde_json::from_slice(bytes)
        .map_err(|e| invalid(format!("the request is not JSON: {e}")))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("model".into(), Value::String(upstream_model));
    }
    serde_json::to_vec(&v)
        .map(Bytes::from)
        .map_err(|e| invalid(e.to_string()))
}

/// The tokens an answer used: `usage.total_tokens`, else a quarter of
/// its bytes (about a token per four bytes of English).
pub(crate) fn used_tokens(body: &[u8]) -> u64 {
    #[derive(serde::Deserialize)]
    struct Answer {
        usage: Option<Usage>,
    }
    #[derive(serde::Deserialize)]
    struct Usage {
        total_tokens: Option<u64>,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()
        .and_then(|a| a.usage?.total_tokens)
        .unwrap_or_else(|| u64::try_from(body.len() / 4).unwrap_or(u64::MAX))
}

/// A streamed answer passed through as it comes; each server-sent event
/// counts as one token, and the caller's slot is held until it ends.
fn counted(
    incoming: hyper::body::Incoming,
    slot: Slot,
    s: Arc<Shared>,
    key: String,
    limits: crate::config::Limits,
) -> Body {
    let body = incoming.map_frame(move |frame| {
        let _held = &slot;
        if let Some(data) = frame.data_ref() {
            let events =
                u64::try_from(data.windows(5).filter(|w| *w == b"data:").count()).unwrap_or(0);
            if events > 0 {
                let (s, key) = (s.clone(), key.clone());
                tokio::spawn(async move {
                    crate::limit::tokens_debit(&s, &key, events, &limits).await;
                });
            }
        }
        frame
    });
    Body::new(body)
}

fn failure(s: &Shared, f: Failure) -> Refusal {
    match f {
        Failure::Open(wait) => {
            s.metrics.reject("circuit-open");
            let mut r = Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "circuit-open",
                "the upstream is failing; the circuit is open",
            );
            r.retry_after = Some(wait.as_secs().saturating_add(1));
            r
        }
        Failure::Bad(m) => {
            s.metrics.reject("upstream");
            crate::log::event("upstream-error", serde_json::json!({"error": m}));
            Refusal::new(StatusCode::BAD_GATEWAY, "upstream", "the upstream failed")
        }
        Failure::Timeout(d) => {
            s.metrics.reject("upstream-timeout");
            Refusal::new(
                StatusCode::GATEWAY_TIMEOUT,
                "upstream-timeout",
                format!("the upstream did not answer within {:.1}s", d.as_secs_f64()),
            )
        }
    }
}

/// Sends a checked OIP inference request to its upstream under the
/// model name the upstream knows, and returns the upstream's answer.
pub(crate) async fn forward_oip(
    s: &Arc<Shared>,
    upstream_name: &str,
    model: &str,
    headers: &axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let upstream = s.upstreams.get(upstream_name).ok_or_else(|| {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            format!("upstream {upstream_name} is not configured"),
        )
    })?;
    let answer = upstream
        .send(
            Method::POST,
            &format!("/v2/models/{model}/infer"),
            headers,
            body,
        )
        .await
        .map_err(|f| failure(s, f))?;
    let (parts, incoming) = answer.into_parts();
    let bytes = whole(s, upstream, incoming).await?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = parts.status;
    if let Some(v) = parts.headers.get(header::CONTENT_TYPE) {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, v.clone());
    }
    Ok(response)
}

/// An upstream's answer read whole (at most [`MAX_ANSWER`] bytes): the
/// breaker records success only once the body has arrived, and a body
/// that breaks off is a failure (502).
async fn whole(
    s: &Shared,
    upstream: &crate::upstream::Upstream,
    incoming: hyper::body::Incoming,
) -> Result<Bytes, Refusal> {
    let bytes = http_body_util::Limited::new(incoming, MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| {
            upstream.breaker.failure();
            failure(s, Failure::Bad(format!("upstream {}: {e}", upstream.name)))
        })?
        .to_bytes();
    upstream.breaker.success();
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> String {
        match Head::read(body.as_bytes()) {
            Ok(_) => panic!("{body} accepted"),
            Err(r) => r.message,
        }
    }

    #[test]
    fn a_body_with_invalid_utf8_anywhere_is_refused() {
        // Found by the fuzz target: bytes 0xff inside a string of a field
        // the head does not read passed as JSON.
        let mut body = br#"{"model":"chat","messages":[{"role":"u"#.to_vec();
        body.extend([0xff, 0xff]);
        body.extend(br#"ser","content":"hi"}]}"#);
        let e = Head::read(&body).err().unwrap();
        assert!(e.message.contains("not UTF-8"), "{}", e.message);
    }

    #[test]
    fn the_head_is_one_object_with_one_model() {
        let h =
            Head::read(br#" {"messages":[{"a":1}],"model":"ch\u0061t","stream":true}"#).unwrap();
        assert_eq!((h.model.as_ref(), h.stream), ("chat", Some(true)));
        // The gateway and the upstream must not read different models.
        assert!(refused(r#"{"model":"a","model":"b"}"#).contains("duplicate field"));
        assert!(refused(r#"["chat", true]"#).contains("JSON object"));
        assert!(refused(r#"{"messages":[]}"#).contains("model: required"));
        assert!(refused(r#"{"model":null}"#).contains("not valid"));
        assert!(refused(r#"{"model":"a"} trailing"#).contains("not valid"));
    }

    #[test]
    fn a_renamed_body_keeps_everything_but_the_model() {
        let b = renamed(br#"{"model":"chat","n":2}"#, "llama-3".into()).unwrap();
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v, serde_json::json!({"model": "llama-3", "n": 2}));
    }

    #[test]
    fn tokens_come_from_usage_else_from_length() {
        assert_eq!(
            used_tokens(br#"{"id":"x","usage":{"total_tokens":42}}"#),
            42
        );
        assert_eq!(used_tokens(b"[1,2,3,4,5,6,7,8]"), 4);
        assert_eq!(used_tokens(br#"{"usage":null,"pad":"xxxx"}"#), 6);
    }
}
