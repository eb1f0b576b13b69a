//! Structured logs: one JSON object per line on standard error, never a
//! request body.
//!
//! A request never waits on the terminal or the disk, and never wakes a
//! thread: a line is appended to a shared buffer (a short lock, no
//! system call), and a writer thread takes the buffer every
//! [`FLUSH_EVERY`] and writes it; [`flush`] writes it at once. Past
//! [`CAPACITY`] bytes waiting, a line is dropped and counted
//! ([`dropped`]) rather than growing memory or slowing requests down.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static QUIET: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Lines waiting to be written.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Held while a batch is taken and written, so that batches keep order.
static WRITING: Mutex<()> = Mutex::new(());
static WRITER: Once = Once::new();

/// Most bytes waiting to be written.
pub const CAPACITY: usize = 16 << 20;
/// Longest a line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Silences the logs (tests and benchmarks that measure the server alone).
pub fn quiet(q: bool) {
    QUIET.store(q, Ordering::Release);
}

/// Lines dropped because the buffer was full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Starts the writer thread once. Without it (no thread could be made)
/// lines wait for [`flush`], up to [`CAPACITY`].
fn start_writer() {
    WRITER.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("rampart-gateway-log".into())
            .spawn(|| loop {
                std::thread::sleep(FLUSH_EVERY);
                flush();
            });
    });
}

/// Writes `{"ts": ..., "event": kind, ...fields}`.
pub fn event(kind: &str, fields: serde_json::Value) {
    if QUIET.load(Ordering::Acquire) {
        return;
    }
    start_writer();
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut line = serde_json::json!({"ts": ts, "event": kind});
    if let (Some(o), serde_json::Value::Object(f)) = (line.as_object_mut(), fields) {
        o.extend(f);
    }
    let Ok(mut text) = serde_json::to_vec(&line) else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    text.push(b'\n');
    let kept = match PENDING.lock() {
        Ok(mut p) if p.len() + text.len() <= CAPACITY => {
            p.extend_from_slice(&text);
            true
        }
        _ => false,
    };
    if !kept {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Writes every line so far. A failed write to standard error has
/// nowhere to be reported: the lines are lost, the server goes on.
pub fn flush() {
    let Ok(_order) = WRITING.lock() else {
        return;
    };
    let batch = match PENDING.lock() {
        Ok(mut p) => std::mem::take(&mut *p),
        Err(_) => return,
    };
    if !batch.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(&batch);
        let _ = err.flush();
    }
}
