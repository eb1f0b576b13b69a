//! Structured logs: one JSON object per line on standard error, never a
//! request body.
//!
//! A request never waits on the terminal or the disk: lines go into a
//! bounded queue that one thread writes through a buffer, flushed when
//! the queue goes quiet (at most [`FLUSH_EVERY`] later) and by [`flush`].
//! When the queue is full a line is dropped and counted ([`dropped`])
//! rather than slowing requests down.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static QUIET: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static QUEUE: OnceLock<Mutex<SyncSender<Line>>> = OnceLock::new();

/// Lines waiting to be written.
const CAPACITY: usize = 65_536;
/// Longest a line waits in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

enum Line {
    Text(String),
    /// Write everything so far, then answer.
    Flush(SyncSender<()>),
}

/// Silences the logs (tests and benchmarks that measure the server alone).
pub fn quiet(q: bool) {
    QUIET.store(q, Ordering::Release);
}

/// Lines dropped because the queue was full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

fn queue() -> Option<SyncSender<Line>> {
    let q = QUEUE.get_or_init(|| {
        let (tx, rx) = sync_channel::<Line>(CAPACITY);
        // Without a writer thread lines are dropped and counted.
        let _ = std::thread::Builder::new()
            .name("rampart-gateway-log".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stderr());
                loop {
                    // A failed write to standard error has nowhere to be
                    // reported; the line is lost, the server goes on.
                    match rx.recv_timeout(FLUSH_EVERY) {
                        Ok(Line::Text(t)) => {
                            let _ = out.write_all(t.as_bytes());
                        }
                        Ok(Line::Flush(done)) => {
                            let _ = out.flush();
                            let _ = done.send(());
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            let _ = out.flush();
                        }
                        Err(RecvTimeoutError::Disconnected) => {
                            let _ = out.flush();
                            return;
                        }
                    }
                }
            });
        Mutex::new(tx)
    });
    q.lock().ok().map(|g| g.clone())
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
    let mut text = line.to_string();
    text.push('\n');
    let sent = queue().map(|q| q.try_send(Line::Text(text)).is_ok());
    if sent != Some(true) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Writes every line queued so far (waits at most a second).
pub fn flush() {
    let Some(q) = queue() else {
        return;
    };
    let (tx, rx) = sync_channel(1);
    if q.send(Line::Flush(tx)).is_ok() {
        let _ = rx.recv_timeout(Duration::from_secs(1));
    }
}
