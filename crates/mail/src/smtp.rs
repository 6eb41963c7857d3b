//! Sending over SMTP with `lettre`: implicit TLS, STARTTLS (required, never silently skipped)
//! or plain; login when configured; the server's answer classified as temporary (4xx, network)
//! or permanent (5xx), with the stage that failed. Connections are pooled per mailbox
//! configuration and reused across messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox as LettreMailbox, MessageBuilder};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opsflow_domain::email::{MailSecurity, Mailbox, OutboundEmail};
use opsflow_ports::mail::{MailSender, MailStage, SendError, SmtpEndpoint};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Most mailbox configurations with a pool kept at once; past it the pools are dropped (their
/// connections close) and rebuilt on demand.
const MAX_POOLS: usize = 256;

/// An SMTP client. Sending reuses logged-in connections: one `lettre` pool per mailbox
/// configuration (server, port, security, login and password), so consecutive replies of a
/// workspace skip the connect, TLS and AUTH round trips. When an admin changes any of those
/// settings the next message builds a new pool and the old one's connections are closed; a
/// failed send drops its pool too, so a refused login is never retried on a stale connection.
/// A connection that failed mid-transaction is closed by `lettre`, never reused.
#[derive(Debug, Clone)]
pub struct SmtpSender {
    timeout: Duration,
    pool: PoolSettings,
    /// Pools by configuration key (without the password), with the endpoint they were built for.
    pools: Arc<Mutex<HashMap<String, (SmtpEndpoint, Transport)>>>,
}

/// How many connections a mailbox's pool keeps and for how long.
#[derive(Debug, Clone, Copy)]
struct PoolSettings {
    max_size: u32,
    idle_timeout: Duration,
}

impl Default for SmtpSender {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl SmtpSender {
    /// A client whose every network step gives up after `timeout`; it keeps up to 8 connections
    /// per mailbox, closing those idle for a minute.
    #[must_use]
    pub fn new(timeout: Duration) -> Self {
        Self::with_pool(timeout, 8, Duration::from_secs(60))
    }

    /// As [`SmtpSender::new`], with up to `max_connections` pooled connections per mailbox
    /// configuration, each closed after `idle_timeout` unused.
    #[must_use]
    pub fn with_pool(timeout: Duration, max_connections: u32, idle_timeout: Duration) -> Self {
        Self {
            timeout,
            pool: PoolSettings { max_size: max_connections.max(1), idle_timeout },
            pools: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn key(endpoint: &SmtpEndpoint) -> String {
        format!(
            "{}\u{0}{}\u{0}{:?}\u{0}{}",
            endpoint.host.trim(),
            endpoint.port,
            endpoint.security,
            endpoint.username.as_deref().unwrap_or("")
        )
    }

    /// The pooled transport for `endpoint`, built (or rebuilt after a settings change) on demand.
    fn pooled(&self, endpoint: &SmtpEndpoint) -> Result<Transport, SendError> {
        let key = Self::key(endpoint);
        let mut pools = self.pools.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((built_for, transport)) = pools.get(&key)
            && built_for == endpoint
        {
            return Ok(transport.clone());
        }
        let config =
            PoolConfig::new().max_size(self.pool.max_size).idle_timeout(self.pool.idle_timeout);
        let transport = self.transport(endpoint, Some(config))?;
        if pools.len() >= MAX_POOLS && !pools.contains_key(&key) {
            pools.clear();
        }
        pools.insert(key, (endpoint.clone(), transport.clone()));
        Ok(transport)
    }

    /// Forgets `endpoint`'s pool (after a failure), unless it was rebuilt meanwhile.
    fn forget(&self, endpoint: &SmtpEndpoint) {
        let key = Self::key(endpoint);
        let mut pools = self.pools.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pools.get(&key).is_some_and(|(built_for, _)| built_for == endpoint) {
            pools.remove(&key);
        }
    }

    fn transport(
        &self,
        endpoint: &SmtpEndpoint,
        pool: Option<PoolConfig>,
    ) -> Result<Transport, SendError> {
        let host = endpoint.host.trim();
        if host.is_empty() {
            return Err(permanent(MailStage::Connect, "no SMTP server is configured"));
        }
        let tls = || {
            TlsParameters::new(host.to_owned())
                .map_err(|e| permanent(MailStage::Tls, &format!("TLS settings: {e}")))
        };
        let tls = match endpoint.security {
            MailSecurity::Tls => Tls::Wrapper(tls()?),
            MailSecurity::Starttls => Tls::Required(tls()?),
            MailSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(endpoint.port)
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some(pool) = pool {
            builder = builder.pool_config(pool);
        }
        if let Some(user) = endpoint.username.as_deref().filter(|u| !u.is_empty()) {
            builder = builder.credentials(Credentials::new(
                user.to_owned(),
                endpoint.password.clone().unwrap_or_default(),
            ));
        }
        Ok(builder.build())
    }
}

fn permanent(stage: MailStage, message: &str) -> SendError {
    SendError::Permanent { stage, message: message.to_owned() }
}

fn mailbox(m: &Mailbox) -> Result<LettreMailbox, SendError> {
    let address: Address =
        m.email.as_str().parse().map_err(|e| {
            permanent(MailStage::Send, &format!("address {}: {e}", m.email.as_str()))
        })?;
    Ok(LettreMailbox::new(m.name.clone(), address))
}

fn bracket(id: &str) -> String {
    format!("<{id}>")
}

/// The message as it goes on the wire.
///
/// # Errors
/// [`SendError::Permanent`] when an address cannot be written.
pub fn build_message(email: &OutboundEmail) -> Result<Message, SendError> {
    let mut builder: MessageBuilder = Message::builder()
        .from(mailbox(&email.from)?)
        .to(mailbox(&email.to)?)
        .subject(email.subject.clone())
        .message_id(Some(bracket(&email.message_id)));
    if let Some(parent) = &email.in_reply_to {
        builder = builder.in_reply_to(bracket(parent));
    }
    if !email.references.is_empty() {
        builder = builder
            .references(email.references.iter().map(|r| bracket(r)).collect::<Vec<_>>().join(" "));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| permanent(MailStage::Send, &format!("the message could not be built: {e}")))
}

/// Sorts a lettre error into temporary/permanent and the stage it happened at.
fn classify(e: &lettre::transport::smtp::Error, sending: bool) -> SendError {
    let text = e.to_string();
    let code = e.status().map(|c| c.to_string());
    let stage = if e.is_tls() {
        MailStage::Tls
    } else if code.as_deref().is_some_and(|c| matches!(c, "535" | "534" | "530" | "454" | "538")) {
        MailStage::Auth
    } else if e.is_transient() || e.is_permanent() {
        if sending { MailStage::Send } else { MailStage::Auth }
    } else if text.contains("lookup")
        || text.contains("resolve")
        || text.contains("Name or service")
    {
        MailStage::Dns
    } else if text.contains("STARTTLS") || text.contains("tls") {
        MailStage::Tls
    } else {
        MailStage::Connect
    };
    let message = match &code {
        Some(c) if !text.contains(c.as_str()) => format!("{c} {text}"),
        _ => text,
    };
    if e.is_permanent() || matches!(stage, MailStage::Tls) {
        SendError::Permanent { stage, message }
    } else {
        // 4xx answers, timeouts, refused or dropped connections, DNS hiccups.
        SendError::Temporary { stage, message }
    }
}

#[async_trait]
impl MailSender for SmtpSender {
    async fn send(&self, endpoint: &SmtpEndpoint, email: &OutboundEmail) -> Result<(), SendError> {
        let message = build_message(email)?;
        let transport = self.pooled(endpoint)?;
        match transport.send(message).await {
            Ok(_) => {
                tracing::info!(message_id = %email.message_id, "email sent");
                Ok(())
            }
            Err(e) => {
                // A refused recipient leaves the login good, but a refused login, a dropped
                // connection or a TLS failure should start from scratch next time.
                let error = classify(&e, true);
                if error.stage() != MailStage::Send {
                    self.forget(endpoint);
                }
                Err(error)
            }
        }
    }

    async fn check(&self, endpoint: &SmtpEndpoint) -> Result<(), SendError> {
        // A fresh connection and login: the admin is testing the settings, not the pool.
        let transport = self.transport(endpoint, None)?;
        match transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Temporary {
                stage: MailStage::Connect,
                message: "the server did not answer NOOP".to_owned(),
            }),
            Err(e) => Err(classify(&e, false)),
        }
    }
}
