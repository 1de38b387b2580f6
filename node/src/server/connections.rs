//! Connections: how many the node holds, how long a client may take, and how
//! the node lets them go when it stops.
//!
//! A public server meets clients that open connections and never finish a
//! request. Each connection is therefore bounded in time at every stage, and
//! their number is bounded, so that stalled clients cannot hold memory, starve
//! the others or keep the node from stopping:
//!
//! - the request's headers must arrive within the client timeout, and a
//!   keep-alive connection waiting for its next request is closed after the
//!   same time (hyper's header-read timer starts as soon as the connection
//!   waits for a request);
//! - a request body must keep coming at [`MIN_BODY_RATE`] bytes per second on
//!   average once the client timeout's grace has passed (see [`MinRateBody`]);
//! - beyond the node's connection limit, a new connection is closed at once
//!   rather than left in the kernel's queue, and counted;
//! - on shutdown the node stops accepting, lets each connection finish the
//!   request it is serving, and closes whatever is still open after
//!   [`SHUTDOWN_GRACE`];
//! - over TLS, the handshake runs in the connection's own task, never in the
//!   accept loop, and must finish within the client timeout; a connection
//!   whose handshake fails or stalls is closed, holding its permit until then.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::service::{Service as _, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;

/// How long clients may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The time a client has to send a request's headers, the time an idle
    /// keep-alive connection stays open, and the grace before a body's
    /// minimum rate is enforced.
    pub client_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { client_timeout: Duration::from_secs(10), max_connections: 1024 }
    }
}

/// The slowest average rate at which a request body may arrive, after the
/// grace: 8 KiB/s, a poor mobile link. A 4 MiB body may take 8½ minutes.
pub const MIN_BODY_RATE: u64 = 8 * 1024;

/// How long a stopping node waits for the requests it is serving. Stalled
/// clients are already cut off by the timeouts; this bounds the rest, a
/// thousand entries' verification and commit among them, with room to spare.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then
/// lets the requests in flight finish for at most [`SHUTDOWN_GRACE`]. With
/// `tls`, every connection is HTTPS; without, plain HTTP.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::map_request(move |request: Request| async move {
        if request.body().is_end_stream() {
            return request;
        }
        request.map(|body| Body::new(MinRateBody::new(body, limits.client_timeout)))
    }));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.client_timeout).keep_alive(true);
    let mut turned_away = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it
                    // was taken: wait a moment rather than spin, and go on.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            turned_away += 1;
            if turned_away.is_power_of_two() {
                tracing::warn!(
                    turned_away,
                    limit = limits.max_connections,
                    "at the connection limit, closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The client's address for handlers, as axum's `into_make_service_with_connect_info`
        // gives it: `ConnectInfo<SocketAddr>` (the impact report's budget is per address).
        let to_app = TowerToHyperService::new(app.clone());
        let with_peer = service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            to_app.call(request)
        });
        let Some(acceptor) = &tls else {
            let connection = http.serve_connection(TokioIo::new(stream), with_peer);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                // A client that goes away mid-request is its own business.
                let _ = connection.await;
                drop(permit);
            });
            continue;
        };
        // Watched from its acceptance, so that a shutdown during the handshake
        // reaches the connection as soon as it exists, and waits for it.
        let watcher = graceful.watcher();
        let (acceptor, http) = (acceptor.clone(), http.clone());
        let timeout = limits.client_timeout;
        tokio::spawn(async move {
            match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    let connection = http.serve_connection(TokioIo::new(stream), with_peer);
                    let _ = watcher.watch(connection).await;
                }
                // Scanners, plain HTTP sent to the HTTPS port, clients that do
                // not trust the certificate: routine, and the client's to fix.
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed: connection closed"),
                Err(_) => {
                    tracing::debug!(?timeout, "TLS handshake not finished within the client timeout: connection closed")
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = graceful.count();
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!(open, "closing connections still open after the shutdown grace");
    }
    Ok(())
}

/// A request body that fails once it falls behind [`MIN_BODY_RATE`]: by any
/// moment, the body must have arrived at that rate since the request began,
/// less the grace. A stalled upload then ends in bounded time instead of
/// holding its buffer and its connection for as long as the client likes.
pub struct MinRateBody {
    inner: Body,
    grace: Duration,
    started: Instant,
    received: u64,
    /// Set the first time the body is waited for: most bodies arrive whole
    /// with their headers and never need a timer.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl MinRateBody {
    /// Wraps `inner`, which may take `grace` before any of it must arrive.
    pub fn new(inner: Body, grace: Duration) -> MinRateBody {
        MinRateBody { inner, grace, started: Instant::now(), received: 0, deadline: None }
    }

    fn next_deadline(&self) -> Instant {
        self.started + self.grace + Duration::from_millis(self.received.saturating_mul(1000) / MIN_BODY_RATE)
    }
}

/// The error a too-slow body ends with; handlers answer it as an unreadable body.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {MIN_BODY_RATE} bytes per second")]
pub struct BodyTooSlow;

impl HttpBody for MinRateBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.received += data.len() as u64;
                    let deadline = self.next_deadline();
                    if let Some(sleep) = self.deadline.as_mut() {
                        sleep.as_mut().reset(deadline);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                let deadline = self.next_deadline();
                let sleep = self.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow)))),
                    Poll::Pending => Poll::Pending,
                }
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
