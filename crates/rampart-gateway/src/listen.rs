//! The accept loop: plain TCP or TLS, HTTP/1.1 with bounded headers,
//! bounded connections, and deadlines on the handshake and the request
//! head, so that slow or idle clients cannot hold the server.
//!
//! The bounds:
//! - `[serve] max_connections` open at once; a connection over it is
//!   closed at accept.
//! - `[serve] head_timeout` to send a request head (slowloris: a header
//!   trickled a byte a second is cut off, and holds one connection until
//!   then).
//! - [`MAX_HEAD_BYTES`] and [`MAX_HEADERS`]: a larger head gets 431.
//! - [`HANDSHAKE_TIMEOUT`] for TLS.
//! - Idle plain-TCP connections are parked after [`PARK_AFTER`]: hyper's
//!   buffers are dropped and the socket waits alone for its next request
//!   (for at most `head_timeout`).

use crate::tls::ClientCert;
use arc_swap::ArcSwapOption;
use axum::body::{Body, Bytes};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

pub const MAX_HEAD_BYTES: usize = 64 << 10;
pub const MAX_HEADERS: usize = 100;
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a plain-TCP keep-alive connection may sit idle, with nothing
/// in flight, before its HTTP state (hyper's read and write buffers, 16
/// KiB) is dropped and only the socket is kept until the next request:
/// 10,000 idle connections then cost their sockets, not 160 MB.
pub const PARK_AFTER: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, then closes
/// the listener and waits for the connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Arc<ArcSwapOption<rustls::ServerConfig>>,
    bounds: Bounds,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let (stop_tx, stop) = watch::channel(false);
    let Bounds {
        slots,
        max_connections,
        head_timeout,
        gauges,
    } = bounds;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    crate::log::event("accept-error", serde_json::json!({"error": e.to_string()}));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = stop.clone();
        let tls = tls.load_full();
        let gauges = gauges.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open = Counted::new(&gauges.open);
            match tls {
                None => plain(stream, router, head_timeout, stop, &gauges.parked).await,
                // Boxed: a TLS connection's state is kilobytes, and every
                // task would otherwise be sized for it.
                Some(config) => Box::pin(secure(stream, config, router, head_timeout, stop)).await,
            }
        });
    }
    drop(listener);
    // Every connection finishes its request in flight and closes; parked
    // ones close at once. Each returns its slot as it ends.
    let _ = stop_tx.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// What the accept loops of one server share (one loop per worker
/// thread): the connection slots, their gauges, the head deadline.
#[derive(Clone)]
pub struct Bounds {
    slots: Arc<Semaphore>,
    max_connections: usize,
    head_timeout: Duration,
    gauges: Gauges,
}

impl Bounds {
    pub fn new(max_connections: usize, head_timeout: Duration, gauges: Gauges) -> Bounds {
        Bounds {
            slots: Arc::new(Semaphore::new(max_connections)),
            max_connections,
            head_timeout,
            gauges,
        }
    }
}

/// The connection counts shown in metrics.
#[derive(Clone, Default)]
pub struct Gauges {
    pub open: prometheus_client::metrics::gauge::Gauge,
    pub parked: prometheus_client::metrics::gauge::Gauge,
}

/// Counts one in a gauge until dropped.
struct Counted<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl<'a> Counted<'a> {
    fn new(g: &'a prometheus_client::metrics::gauge::Gauge) -> Counted<'a> {
        g.inc();
        Counted(g)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The HTTP/1.1 settings of every connection.
fn builder(head_timeout: Duration) -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .keep_alive(true);
    b
}

/// What a connection's requests and bytes tell the idle check.
#[derive(Default)]
struct Activity {
    /// Requests whose response is not yet made.
    in_flight: AtomicUsize,
    /// Bumped on every read and write.
    ticks: AtomicU64,
    /// Requests begun on the connection.
    requests: AtomicU64,
}

impl Activity {
    fn bump(&self) {
        self.ticks.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts a request in flight until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(a: &Arc<Activity>) -> InFlight {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        a.requests.fetch_add(1, Ordering::Relaxed);
        a.bump();
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.bump();
    }
}

/// A plain socket that yields `prefix` (bytes read but not yet served
/// when the connection was parked) before reading more, and counts
/// activity.
struct Socket {
    prefix: Bytes,
    tcp: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        // Only bytes count as activity: hyper polls an idle socket too.
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            let head = self.prefix.split_to(n);
            buf.put_slice(&head);
            self.activity.bump();
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bump();
        }
        r
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bump();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bump();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// The requests of one connection go to `router`, each with the client
/// certificate's identity; `activity` counts them in flight.
fn service(
    router: Router,
    cert: Option<ClientCert>,
    activity: Option<Arc<Activity>>,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<axum::response::Response, std::convert::Infallible>,
                > + Send,
        >,
    >,
> + Unpin {
    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        if let Some(c) = &cert {
            req.extensions_mut().insert(c.clone());
        }
        let held = activity.as_ref().map(InFlight::new);
        let answer = router.clone().oneshot(req.map(Body::new));
        Box::pin(async move {
            let out = answer.await;
            drop(held);
            out
        }) as Pin<Box<dyn std::future::Future<Output = _> + Send>>
    })
}

/// A plain-TCP connection: parked (the socket alone) until it has bytes
/// to read, then served by hyper, and parked again when idle after a
/// request; it ends when the client closes, when it is idle for
/// `head_timeout` while parked, or when the server stops.
async fn plain(
    tcp: TcpStream,
    router: Router,
    head_timeout: Duration,
    mut stop: watch::Receiver<bool>,
    parked: &prometheus_client::metrics::gauge::Gauge,
) {
    let activity = Arc::new(Activity::default());
    let mut socket = Socket {
        prefix: Bytes::new(),
        tcp,
        activity: activity.clone(),
    };
    loop {
        if socket.prefix.is_empty() {
            if *stop.borrow() {
                return;
            }
            let _parked = Counted::new(parked);
            // `peek`, not `readable`: readiness may be reported with no
            // bytes to read, which would wake hyper for nothing.
            let mut one = [0u8; 1];
            tokio::select! {
                r = socket.tcp.peek(&mut one) => match r {
                    Ok(n) if n > 0 => {}
                    // Closed by the client, or broken.
                    _ => return,
                },
                _ = tokio::time::sleep(head_timeout) => return,
                _ = stop.changed() => return,
            }
        }
        let svc = service(router.clone(), None, Some(activity.clone()));
        let conn = builder(head_timeout).serve_connection(TokioIo::new(socket), svc);
        // Boxed: the connection's state (kilobytes) lives on the heap
        // while it is served and is freed when parked, instead of sizing
        // every connection's task for it.
        let Some(parts) = Box::pin(drive(conn, &mut stop, Some(&activity))).await else {
            return;
        };
        socket = parts.io.into_inner();
        if !parts.read_buf.is_empty() {
            // Read by hyper but not served: first in line, before what
            // the socket still holds.
            let mut joined = parts.read_buf.to_vec();
            joined.extend_from_slice(&socket.prefix);
            socket.prefix = Bytes::from(joined);
        }
    }
}

/// A TLS connection: the handshake within [`HANDSHAKE_TIMEOUT`], the
/// client certificate's identity on every request. Never parked (the TLS
/// session's own buffers would stay anyway).
async fn secure(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    router: Router,
    head_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let Ok(Ok(s)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
        return;
    };
    let ident = s
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| crate::tls::identity(c));
    let svc = service(router, ident.map(ClientCert), None);
    let conn = builder(head_timeout).serve_connection(TokioIo::new(s), svc);
    let _ = drive(conn, &mut stop, None).await;
}

/// Runs `conn` to its end. With `idle`, a connection with no bytes and
/// no request in flight over a whole [`PARK_AFTER`] is wound down and
/// its parts returned, to be parked; otherwise (the client closed, an
/// error, the server stopping) the socket is shut down and None returned.
async fn drive<I, S>(
    mut conn: http1::Connection<TokioIo<I>, S>,
    stop: &mut watch::Receiver<bool>,
    idle: Option<&Activity>,
) -> Option<http1::Parts<TokioIo<I>, S>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = Body> + Unpin,
    S::Future: Unpin,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut stopping = *stop.borrow();
    if stopping {
        Pin::new(&mut conn).graceful_shutdown();
    }
    let mut parking = false;
    let mut last = idle.map(|a| a.ticks.load(Ordering::Relaxed));
    // Only a connection that has served a request is idle in hyper's
    // sense; one still waiting for its first head runs to its deadline.
    let begun = idle.map_or(0, |a| a.requests.load(Ordering::Relaxed));
    let mut check = tokio::time::interval(PARK_AFTER);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.reset();
    loop {
        tokio::select! {
            done = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => {
                if done.is_err() {
                    // Already answered (a bad head, a timeout) or gone.
                    return None;
                }
                let parts = conn.into_parts();
                if parking && !stopping {
                    return Some(parts);
                }
                let mut io = parts.io.into_inner();
                let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
                return None;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                Pin::new(&mut conn).graceful_shutdown();
            }
            _ = check.tick(), if idle.is_some() && !parking && !stopping => {
                let Some(a) = idle else { continue };
                let now = a.ticks.load(Ordering::Relaxed);
                let served = a.requests.load(Ordering::Relaxed) > begun;
                if served && Some(now) == last && a.in_flight.load(Ordering::Acquire) == 0 {
                    parking = true;
                    Pin::new(&mut conn).graceful_shutdown();
                }
                last = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a parked connection's task holds is its socket and a little
    /// state, not hyper's connection: the future stays small.
    #[tokio::test]
    async fn a_connection_task_is_small() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (_tx, stop) = watch::channel(false);
        let parked = prometheus_client::metrics::gauge::Gauge::default();
        let fut = plain(tcp, Router::new(), Duration::from_secs(1), stop, &parked);
        let size = std::mem::size_of_val(&fut);
        assert!(size < 1024, "{size} bytes per connection task");
    }
}
