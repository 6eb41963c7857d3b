//! Webhook delivery over HTTP with `reqwest`, and host resolution with the system resolver.
//!
//! The client is pinned to the addresses the caller checked (`resolve_to_addrs`), so the name is
//! not looked up a second time when connecting: DNS rebinding cannot swap in a private address
//! between the check and the connection. Redirects are not followed (a redirect to an internal
//! address would bypass the check) and proxies from the environment are ignored.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use opsflow_domain::webhook::{MAX_EXCERPT_CHARS, UrlHost, clip};
use opsflow_ports::webhooks::{HostResolver, WebhookRequest, WebhookResponse, WebhookSender};

/// The system resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl HostResolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        let addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| e.to_string())?;
        let mut ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
        ips.sort();
        ips.dedup();
        Ok(ips)
    }
}

/// Sends webhook POSTs with reqwest: 10 s timeout (by default), no redirects, no proxy.
#[derive(Debug, Clone)]
pub struct ReqwestWebhookSender {
    timeout: Duration,
}

impl ReqwestWebhookSender {
    /// A sender giving each request `timeout` in all.
    #[must_use]
    pub const fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl Default for ReqwestWebhookSender {
    fn default() -> Self {
        Self::new(Duration::from_secs(10))
    }
}

/// The longest part of an answer's body read (the rest is not downloaded).
const MAX_BODY_READ: usize = 4096;

#[async_trait]
impl WebhookSender for ReqwestWebhookSender {
    async fn post(&self, request: &WebhookRequest) -> Result<WebhookResponse, String> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(concat!("OpsFlow-Webhooks/", env!("CARGO_PKG_VERSION")));
        if let UrlHost::Name(name) = request.url.host() {
            builder = builder.resolve_to_addrs(name, &request.addresses);
        }
        let client = builder.build().map_err(|e| format!("client setup failed: {e}"))?;
        let mut post = client.post(request.url.as_str()).body(request.body.clone());
        for (name, value) in &request.headers {
            post = post.header(name.as_str(), value.as_str());
        }
        let mut response = post.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while body.len() < MAX_BODY_READ {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(MAX_BODY_READ);
        let excerpt = clip(&String::from_utf8_lossy(&body), MAX_EXCERPT_CHARS);
        Ok(WebhookResponse { status, excerpt })
    }
}

fn describe(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    // The chain names the cause (refused, TLS, DNS) without the URL's query string.
    let mut cause = String::new();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() { what.to_owned() } else { format!("{what}: {cause}") }
}
