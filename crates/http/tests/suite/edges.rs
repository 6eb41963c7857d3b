//! The edge: security headers on every answer, no source maps, head-size limits answered in the
//! JSON error shape, and connections that stall are closed.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{AppOptions, Ctx, TestApp};

fn assert_security_headers(resp: &reqwest::Response, what: &str, hsts: bool) {
    let h = resp.headers();
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp:?}");
    assert!(csp.contains("default-src 'self'"), "{what}: CSP {csp:?}");
    assert!(csp.contains("object-src 'none'"), "{what}: CSP {csp:?}");
    if !what.contains("/api/docs") {
        assert!(csp.contains("script-src 'self';"), "{what}: no inline script allowed: {csp:?}");
    }
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    if hsts {
        assert!(get("strict-transport-security").starts_with("max-age="), "{what}");
    } else {
        assert!(h.get("strict-transport-security").is_none(), "{what}: HSTS without TLS");
    }
}

async fn get_raw(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request reaches the server")
}

pub async fn every_answer_carries_the_security_headers(ctx: Ctx) {
    let app = ctx.spawn().await;
    let s = app.signup("Acme", "ada@example.com").await;
    for (path, token) in [
        ("/", None),
        ("/tickets/123", None),
        ("/api/health", None),
        ("/api/openapi.json", None),
        ("/api/docs", None),
        ("/api/tickets", Some(s.token.as_str())),
        ("/api/tickets", None),
        ("/api/nope", None),
        ("/metrics", None),
    ] {
        let resp = get_raw(&app, path, token).await;
        assert_security_headers(&resp, &format!("GET {path} ({})", resp.status()), false);
    }
    // A body-taking operation refusing bad input, too.
    let resp = app
        .http
        .post(app.url("/api/tickets"))
        .bearer_auth(&s.token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    assert_security_headers(&resp, "POST /api/tickets text/plain", false);
}

pub async fn hsts_is_sent_only_when_behind_tls(ctx: Ctx) {
    let app = ctx
        .spawn_with(AppOptions {
            edge: opsflow_http::edge::EdgeOptions { hsts: true },
            ..AppOptions::default()
        })
        .await;
    for path in ["/", "/api/health"] {
        let resp = get_raw(&app, path, None).await;
        assert_security_headers(&resp, path, true);
    }
}

pub async fn source_maps_are_never_served(ctx: Ctx) {
    let app = ctx.spawn().await;
    for path in ["/assets/index.js.map", "/index.js.map", "/assets/x/y.css.map"] {
        let resp = app.get(path, None).await;
        assert_eq!(resp.status, 404, "{path}: {}", resp.text);
        assert_eq!(resp.json["error"]["code"], "not_found", "{path}");
    }
}

fn body_of(raw: &str) -> Value {
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"))
}

pub async fn over_long_uris_and_huge_headers_get_json_errors(ctx: Ctx) {
    let app = ctx.spawn().await;
    // Over the application's URI limit.
    let path = format!("/api/tickets?q={}", "a".repeat(10_000));
    let resp = app.get(&path, None).await;
    assert_eq!(resp.status, 414, "{}", resp.text);
    assert_eq!(resp.json["error"]["code"], "uri_too_long");
    assert!(resp.json["error"]["fields"].is_object());

    // Over the URI hyper itself accepts (64 KiB): rewritten into JSON on the socket.
    let huge = format!("GET /api/health?x={} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70_000));
    let (status, raw) = app.raw_http(huge.as_bytes()).await;
    assert!(status == 414 || status == 431, "{raw:.300}");
    let body = body_of(&raw);
    assert!(body["error"]["code"].as_str().is_some_and(|c| !c.is_empty()), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("content-type: application/json"), "{raw}");

    // One huge header.
    let req =
        format!("GET /api/health HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "b".repeat(40_000));
    let (status, raw) = app.raw_http(req.as_bytes()).await;
    assert_eq!(status, 431, "{raw:.300}");
    let body = body_of(&raw);
    assert_eq!(body["error"]["code"], "request_headers_too_large", "{raw}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("headers")));

    // Too many headers.
    let mut req = String::from("GET /api/health HTTP/1.1\r\nHost: t\r\n");
    for i in 0..150 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let (status, raw) = app.raw_http(req.as_bytes()).await;
    assert_eq!(status, 431, "{raw:.300}");
    assert_eq!(body_of(&raw)["error"]["code"], "request_headers_too_large");

    // The server still answers normally afterwards.
    assert_eq!(app.get("/api/health", None).await.status, 200);
}

/// Opens a connection, writes `bytes`, and returns how long until the server closed it (or
/// `None` if it was still open after `limit`).
async fn closed_after(app: &TestApp, bytes: &[u8], limit: Duration) -> (Option<Duration>, String) {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await {
        Ok(_) => (Some(started.elapsed()), String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => (None, String::from_utf8_lossy(&answer).into_owned()),
    }
}

pub async fn half_sent_and_silent_connections_are_closed(ctx: Ctx) {
    let app = ctx
        .spawn_with(AppOptions {
            limits: opsflow_http::server::ServerLimits {
                header_read_timeout: Duration::from_secs(1),
                idle_timeout: Duration::from_secs(2),
                ..opsflow_http::server::ServerLimits::default()
            },
            ..AppOptions::default()
        })
        .await;
    // Half a request line.
    let (closed, answer) = closed_after(&app, b"GET /api/hea", Duration::from_secs(6)).await;
    let closed = closed.expect("a half-sent request line is closed");
    assert!(closed < Duration::from_secs(4), "closed after {closed:?}");
    assert!(!answer.contains("200 OK"), "{answer}");

    // A request line and some headers, never finished.
    let (closed, _) =
        closed_after(&app, b"GET /api/health HTTP/1.1\r\nHost: t\r\n", Duration::from_secs(6))
            .await;
    assert!(closed.expect("a half-sent head is closed") < Duration::from_secs(4));

    // Nothing at all.
    let (closed, _) = closed_after(&app, b"", Duration::from_secs(8)).await;
    assert!(closed.expect("a silent connection is closed") < Duration::from_secs(5));

    // A kept-alive connection after its answer.
    let (closed, answer) =
        closed_after(&app, b"GET /api/health HTTP/1.1\r\nHost: t\r\n\r\n", Duration::from_secs(8))
            .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed.expect("an idle kept-alive connection is closed") < Duration::from_secs(5));

    // Whole requests are still answered.
    assert_eq!(app.get("/api/health", None).await.status, 200);
}
