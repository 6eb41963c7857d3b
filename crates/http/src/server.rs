//! The HTTP server loop: hyper with the limits poem's `Server` does not expose.
//!
//! - **Header-read timeout**: a request head (request line and headers) must arrive within
//!   [`ServerLimits::header_read_timeout`] of the first byte, and a kept-alive connection must
//!   start its next request within it; otherwise the connection is closed. Half-sent requests
//!   do not hold a connection for minutes.
//! - **Idle timeout**: a connection with no request in progress and no bytes either way for
//!   [`ServerLimits::idle_timeout`] is closed (this also covers connections that send nothing).
//! - **Head size**: request line plus headers at most [`ServerLimits::max_head_bytes`], at most
//!   [`MAX_HEADERS`] headers, URI at most [`crate::edge::MAX_URI_BYTES`]. hyper answers an
//!   over-large head itself with an empty 414/431; those answers are rewritten here into the
//!   JSON error shape every other error has.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::error::ErrorCode;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Most headers accepted in one request (hyper's default; more is answered with 431).
pub const MAX_HEADERS: usize = 100;

/// Connection limits.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// How long a client may take to send a request head, or to start its next request on a
    /// kept-alive connection.
    pub header_read_timeout: Duration,
    /// How long a connection with no request in progress may stay silent.
    pub idle_timeout: Duration,
    /// Largest request head (request line + headers), in bytes; at least 8192.
    pub max_head_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_head_bytes: 32 * 1024,
        }
    }
}

/// Serves `ep` on `listener` until `shutdown` completes, then lets requests in progress finish
/// for at most `grace`.
///
/// # Errors
/// The listener's local address cannot be read.
pub async fn serve<E>(
    listener: TcpListener,
    ep: E,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    let local: poem::Addr = listener.local_addr()?.into();
    let ep: Arc<dyn poem::endpoint::DynEndpoint<Output = Response>> =
        Arc::from(ep.into_endpoint().map_to_response().boxed());
    let stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    let _ = stream.set_nodelay(true);
                    tracker.spawn(serve_connection(
                        stream,
                        LocalAddr(local.clone()),
                        RemoteAddr(remote.into()),
                        ep.clone(),
                        limits,
                        stop.clone(),
                    ));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    stop.cancel();
    tracker.close();
    let _ = tokio::time::timeout(grace, tracker.wait()).await;
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    local: LocalAddr,
    remote: RemoteAddr,
    ep: Arc<dyn poem::endpoint::DynEndpoint<Output = Response>>,
    limits: ServerLimits,
    stop: CancellationToken,
) {
    let started = Instant::now();
    let last_io = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let io = EdgeIo { inner: stream, started, last_io: last_io.clone(), replacing: None };

    let service = hyper::service::service_fn({
        let in_flight = in_flight.clone();
        move |req: hyper::Request<hyper::body::Incoming>| {
            let ep = ep.clone();
            let local = local.clone();
            let remote = remote.clone();
            let in_flight = in_flight.clone();
            async move {
                in_flight.fetch_add(1, Ordering::SeqCst);
                let resp = ep.get_response((req, local, remote, Scheme::HTTP).into()).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Infallible>(hyper::Response::from(resp))
            }
        }
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX));
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);

    let tick = (limits.idle_timeout / 4).max(Duration::from_millis(50));
    let mut shutting_down = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            () = stop.cancelled(), if !shutting_down => {
                conn.as_mut().graceful_shutdown();
                shutting_down = true;
            }
            () = tokio::time::sleep(tick) => {
                let idle = started.elapsed().saturating_sub(Duration::from_millis(
                    last_io.load(Ordering::Relaxed),
                ));
                if idle >= limits.idle_timeout && in_flight.load(Ordering::SeqCst) == 0 {
                    tracing::debug!("closing an idle connection");
                    return;
                }
            }
        }
    }
}

/// The socket, recording when bytes last moved and rewriting hyper's bodiless 414/431.
struct EdgeIo {
    inner: TcpStream,
    started: Instant,
    last_io: Arc<AtomicU64>,
    /// A replacement answer being written, and how much of it is written.
    replacing: Option<(Vec<u8>, usize)>,
}

impl EdgeIo {
    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_io.store(ms, Ordering::Relaxed);
    }
}

/// The JSON answer replacing hyper's empty one for a head it could not accept.
fn replacement(buf: &[u8]) -> Option<Vec<u8>> {
    // hyper writes these heads, with no body, only when it rejects a request head; the app
    // itself never answers 414/431 through hyper's parser path with an empty body.
    if buf.len() > 1024 || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?.to_ascii_lowercase();
    if !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let (status, code, message) = if head.starts_with("http/1.1 414 ") {
        (
            "414 URI Too Long",
            ErrorCode::UriTooLong.as_str(),
            format!("the request URI is longer than {} bytes", crate::edge::MAX_URI_BYTES),
        )
    } else if head.starts_with("http/1.1 431 ") {
        (
            "431 Request Header Fields Too Large",
            ErrorCode::RequestHeadersTooLarge.as_str(),
            String::new(),
        )
    } else {
        return None;
    };
    let message = if message.is_empty() {
        format!(
            "the request headers are too large (at most {MAX_HEADERS} headers and a request head \
             of the configured size, 32 KiB by default)"
        )
    } else {
        message
    };
    let body = serde_json::json!({
        "error": { "code": code, "message": message, "fields": {} }
    })
    .to_string();
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\nx-content-type-options: nosniff\r\n\
         cache-control: no-store\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

impl AsyncRead for EdgeIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        res
    }
}

impl AsyncWrite for EdgeIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.replacing.is_none()
            && let Some(out) = replacement(buf)
        {
            self.replacing = Some((out, 0));
        }
        if let Some((out, mut written)) = self.replacing.take() {
            // hyper retries the same buffer after `Pending`, so the replacement is written
            // across calls and reported as the original buffer once complete.
            while written < out.len() {
                match Pin::new(&mut self.inner).poll_write(cx, &out[written..]) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => written += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        self.replacing = Some((out, written));
                        return Poll::Pending;
                    }
                }
            }
            self.touch();
            return Poll::Ready(Ok(buf.len()));
        }
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        // Flat writes, so a rejected head arrives in one buffer that can be recognised.
        false
    }
}
