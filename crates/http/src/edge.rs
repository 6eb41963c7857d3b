//! Response hardening at the edge: security headers on every answer, no source maps, and a
//! URI length limit answered in the JSON error shape.

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::error::{ErrorBody, ErrorCode, error_body_response};

/// Longest accepted request URI (path and query), in bytes; longer gets 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The Content-Security-Policy of the web UI and the API. No inline or foreign script; styles
/// may be inline because Mantine injects its CSS variables and component styles as `<style>`
/// elements at run time (the policy is nonce-free, so there is no nonce to give them).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of the API explorer at `/api/docs` only: the bundled Swagger UI is one HTML page
/// with its script and style inline (no foreign origins are allowed either way).
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS value sent when the server is configured as reached over TLS.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// How the edge behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeOptions {
    /// The server is reached over HTTPS (through a TLS-terminating proxy): send
    /// `Strict-Transport-Security`.
    pub hsts: bool,
}

/// Adds the security headers, refuses source maps and over-long URIs.
pub struct SecurityHeaders(pub EdgeOptions);

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        SecurityHeadersEndpoint { inner: ep, options: self.0 }
    }
}

/// Endpoint produced by [`SecurityHeaders`].
pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    options: EdgeOptions,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
        let docs = req.uri().path().starts_with("/api/docs");
        let mut resp = if uri_len > MAX_URI_BYTES {
            error_body_response(
                StatusCode::URI_TOO_LONG,
                ErrorBody::new(
                    ErrorCode::UriTooLong,
                    format!("the request URI is longer than {MAX_URI_BYTES} bytes"),
                ),
            )
        } else if req.uri().path().ends_with(".map") {
            // Source maps are never built into the embedded UI; refuse them by name too.
            error_body_response(
                StatusCode::NOT_FOUND,
                ErrorBody::new(ErrorCode::NotFound, "no such file"),
            )
        } else {
            match self.inner.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => e.into_response(),
            }
        };
        let h = resp.headers_mut();
        let csp = if docs { DOCS_CSP } else { CSP };
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
        h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
        h.insert(
            "permissions-policy",
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        );
        if self.options.hsts {
            h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
        Ok(resp)
    }
}
