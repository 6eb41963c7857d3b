//! The request log: poem's `Tracing` middleware, except that the secret token in the inbound
//! email path never reaches the log (the path is the credential of that endpoint).

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument;

/// The path prefix whose last segment is a secret.
const INBOUND_PREFIX: &str = "/api/inbound/email/";

/// The request URI as logged: the inbound token and any query string on that path replaced.
#[must_use]
pub fn loggable_uri(uri: &poem::http::Uri) -> String {
    let path = uri.path();
    if path.starts_with(INBOUND_PREFIX) {
        return format!("{INBOUND_PREFIX}<redacted>");
    }
    uri.to_string()
}

/// Logs each request (method, redacted URI, status, duration) in a `request` span.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestLog;

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequestLogEndpoint { inner: ep }
    }
}

/// Endpoint of [`RequestLog`].
pub struct RequestLogEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let span = tracing::info_span!(
            "request",
            remote_addr = %req.remote_addr(),
            version = ?req.version(),
            method = %req.method(),
            uri = %loggable_uri(req.original_uri()),
        );
        async move {
            let started = Instant::now();
            match self.inner.call(req).await {
                Ok(resp) => {
                    let resp = resp.into_response();
                    tracing::info!(status = %resp.status(), duration = ?started.elapsed(), "response");
                    Ok(resp)
                }
                Err(err) => {
                    tracing::info!(
                        status = %err.status(),
                        error = %err,
                        duration = ?started.elapsed(),
                        "error"
                    );
                    Err(err)
                }
            }
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inbound_token_is_never_logged() {
        let uri: poem::http::Uri = "/api/inbound/email/s3cr3t-token?x=1".parse().unwrap();
        assert_eq!(loggable_uri(&uri), "/api/inbound/email/<redacted>");
        let other: poem::http::Uri = "/api/tickets/7?q=a".parse().unwrap();
        assert_eq!(loggable_uri(&other), "/api/tickets/7?q=a");
    }
}
