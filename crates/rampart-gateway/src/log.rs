//! Structured logs: one JSON object per line on standard error, never a
//! request body.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silences the logs (tests and benchmarks that measure the server alone).
pub fn quiet(q: bool) {
    QUIET.store(q, Ordering::Release);
}

/// Writes `{"ts": ..., "event": kind, ...fields}`.
pub fn event(kind: &str, fields: serde_json::Value) {
    if QUIET.load(Ordering::Acquire) {
        return;
    }
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut line = serde_json::json!({"ts": ts, "event": kind});
    if let (Some(o), serde_json::Value::Object(f)) = (line.as_object_mut(), fields) {
        o.extend(f);
    }
    let mut err = std::io::stderr().lock();
    // A log line that cannot be written is not worth failing a request.
    let _ = writeln!(err, "{line}");
}
