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

use crate::tls::ClientCert;
use arc_swap::ArcSwapOption;
use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

pub const MAX_HEAD_BYTES: usize = 64 << 10;
pub const MAX_HEADERS: usize = 100;
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes, then closes
/// the listener and waits for the connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Arc<ArcSwapOption<rustls::ServerConfig>>,
    (max_connections, head_timeout): (usize, Duration),
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(max_connections));
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
        let watcher = graceful.watcher();
        let tls = tls.load_full();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => connection(TokioIo::new(stream), router, None, head_timeout, watcher).await,
                Some(config) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(config);
                    let Ok(Ok(s)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let ident = s
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| crate::tls::identity(c));
                    connection(
                        TokioIo::new(s),
                        router,
                        ident.map(ClientCert),
                        head_timeout,
                        watcher,
                    )
                    .await
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn connection<I>(
    io: TokioIo<I>,
    router: Router,
    cert: Option<ClientCert>,
    head_timeout: Duration,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        if let Some(c) = &cert {
            req.extensions_mut().insert(c.clone());
        }
        router.clone().oneshot(req.map(Body::new))
    });
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS)
        .keep_alive(true);
    let conn = watcher.watch(b.serve_connection(io, svc));
    // A connection that ends in an error (a reset, a bad request) has
    // already been answered or is gone; nothing is left to do.
    let _ = conn.await;
}
