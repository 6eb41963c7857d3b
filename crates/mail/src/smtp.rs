//! Sending over SMTP with `lettre`: implicit TLS, STARTTLS (required, never silently skipped)
//! or plain; login when configured; the server's answer classified as temporary (4xx, network)
//! or permanent (5xx), with the stage that failed. Connections are pooled per mailbox
//! configuration and reused across messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox as LettreMailbox, MessageBuilder};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::AsyncTokioStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, Message, Tokio1Executor};
use opsflow_domain::email::{MailSecurity, Mailbox, OutboundEmail};
use opsflow_ports::mail::{MailSender, MailStage, SendError, SmtpEndpoint};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// An implicit-TLS connection in the shape `lettre` takes over.
#[derive(Debug)]
struct TlsTcp(tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl tokio::io::AsyncRead for TlsTcp {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsTcp {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

fn tls_connector() -> TlsConnector {
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config = ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Most mailbox configurations with idle connections kept at once; past it the idle
/// connections are dropped (closed) and opened again on demand.
const MAX_POOLS: usize = 256;

/// An idle, logged-in connection and when it was last used.
struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// One mailbox configuration's idle connections, with the endpoint they were opened for.
struct Pool {
    endpoint: SmtpEndpoint,
    idle: Vec<Idle>,
}

/// An SMTP client. Sending reuses logged-in connections: idle ones are kept per mailbox
/// configuration (server, port, security, login and password), so consecutive replies of a
/// workspace skip the connect, TLS and AUTH round trips. When an admin changes any of those
/// settings, the old connections are closed and new ones opened; a connection that failed is
/// never reused (`lettre` closes it on any error). Connections are opened with `TCP_NODELAY`:
/// the message and its final `.` go in two writes, and with Nagle's algorithm the second waits
/// for the server's delayed ACK (about 40 ms per message on Linux).
#[derive(Clone)]
pub struct SmtpSender {
    timeout: Duration,
    max_idle: usize,
    idle_timeout: Duration,
    /// Pools by configuration key (without the password).
    pools: Arc<Mutex<HashMap<String, Pool>>>,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSender")
            .field("timeout", &self.timeout)
            .field("max_idle", &self.max_idle)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for SmtpSender {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl SmtpSender {
    /// A client whose every network step gives up after `timeout`; it keeps up to 8 idle
    /// connections per mailbox, closing those unused for a minute.
    #[must_use]
    pub fn new(timeout: Duration) -> Self {
        Self::with_pool(timeout, 8, Duration::from_secs(60))
    }

    /// As [`SmtpSender::new`], keeping up to `max_idle` idle connections per mailbox
    /// configuration, each dropped after `idle_timeout` unused.
    #[must_use]
    pub fn with_pool(timeout: Duration, max_idle: usize, idle_timeout: Duration) -> Self {
        Self { timeout, max_idle, idle_timeout, pools: Arc::new(Mutex::new(HashMap::new())) }
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pool>> {
        self.pools.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An idle connection for `endpoint` that is still fresh, if any. A settings change drops
    /// the old configuration's connections.
    fn take_idle(&self, endpoint: &SmtpEndpoint) -> Option<AsyncSmtpConnection> {
        let key = Self::key(endpoint);
        let mut pools = self.lock();
        let pool = pools.get_mut(&key)?;
        if pool.endpoint != *endpoint {
            pools.remove(&key);
            return None;
        }
        while let Some(idle) = pool.idle.pop() {
            if idle.since.elapsed() < self.idle_timeout && !idle.conn.has_broken() {
                return Some(idle.conn);
            }
        }
        None
    }

    /// Keeps a connection that just sent a message for the next one.
    fn put_back(&self, endpoint: &SmtpEndpoint, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let key = Self::key(endpoint);
        let mut pools = self.lock();
        if pools.len() >= MAX_POOLS && !pools.contains_key(&key) {
            pools.clear();
        }
        let pool = pools
            .entry(key)
            .or_insert_with(|| Pool { endpoint: endpoint.clone(), idle: Vec::new() });
        if pool.endpoint != *endpoint {
            *pool = Pool { endpoint: endpoint.clone(), idle: Vec::new() };
        }
        if pool.idle.len() < self.max_idle {
            pool.idle.push(Idle { conn, since: Instant::now() });
        }
    }

    /// Opens a connection: TCP (no Nagle), implicit TLS or required STARTTLS, EHLO, AUTH.
    async fn connect(&self, endpoint: &SmtpEndpoint) -> Result<AsyncSmtpConnection, SendError> {
        let host = endpoint.host.trim();
        if host.is_empty() {
            return Err(permanent(MailStage::Connect, "no SMTP server is configured"));
        }
        let tcp = tokio::net::TcpStream::connect((host, endpoint.port)).await.map_err(|e| {
            let stage = if e.kind() == std::io::ErrorKind::Other
                || e.to_string().contains("lookup")
                || e.to_string().contains("Name or service")
            {
                MailStage::Dns
            } else {
                MailStage::Connect
            };
            SendError::Temporary { stage, message: e.to_string() }
        })?;
        tcp.set_nodelay(true).map_err(|e| SendError::Temporary {
            stage: MailStage::Connect,
            message: e.to_string(),
        })?;
        let hello = ClientId::default();
        let mut conn = match endpoint.security {
            MailSecurity::Tls => {
                let name = ServerName::try_from(host.to_owned())
                    .map_err(|e| permanent(MailStage::Tls, &format!("TLS settings: {e}")))?;
                let tls = tls_connector()
                    .connect(name, tcp)
                    .await
                    .map_err(|e| permanent(MailStage::Tls, &e.to_string()))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(TlsTcp(tls)), &hello)
                    .await
                    .map_err(|e| classify(&e, false))?
            }
            MailSecurity::Starttls | MailSecurity::None => {
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                    .await
                    .map_err(|e| classify(&e, false))?
            }
        };
        if endpoint.security == MailSecurity::Starttls {
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(permanent(
                    MailStage::Tls,
                    "the server does not offer STARTTLS, and the settings require it",
                ));
            }
            let params = TlsParameters::new(host.to_owned())
                .map_err(|e| permanent(MailStage::Tls, &format!("TLS settings: {e}")))?;
            conn.starttls(params, &hello).await.map_err(|e| {
                let e = classify(&e, false);
                permanent(MailStage::Tls, e.message())
            })?;
        }
        if let Some(user) = endpoint.username.as_deref().filter(|u| !u.is_empty()) {
            let credentials =
                Credentials::new(user.to_owned(), endpoint.password.clone().unwrap_or_default());
            if let Err(e) = conn.auth(DEFAULT_MECHANISMS, &credentials).await {
                conn.abort().await;
                let e = classify(&e, false);
                return Err(match e {
                    SendError::Temporary { message, .. } => {
                        SendError::Temporary { stage: MailStage::Auth, message }
                    }
                    SendError::Permanent { message, .. } => {
                        SendError::Permanent { stage: MailStage::Auth, message }
                    }
                });
            }
        }
        Ok(conn)
    }

    /// Sends over a pooled connection (checked with NOOP) or a new one.
    async fn send_pooled(
        &self,
        endpoint: &SmtpEndpoint,
        envelope: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<(), SendError> {
        if let Some(mut conn) = self.take_idle(endpoint)
            && conn.test_connected().await
        {
            match conn.send(envelope, raw).await {
                Ok(_) => {
                    self.put_back(endpoint, conn);
                    return Ok(());
                }
                // The server answered: its answer counts (lettre closed the connection).
                Err(e) if e.status().is_some() => return Err(classify(&e, true)),
                // The connection died under us: try once more on a fresh one below.
                Err(_) => {}
            }
        }
        let mut conn = self.connect(endpoint).await?;
        match conn.send(envelope, raw).await {
            Ok(_) => {
                self.put_back(endpoint, conn);
                Ok(())
            }
            Err(e) => Err(classify(&e, true)),
        }
    }

    fn transport(&self, endpoint: &SmtpEndpoint) -> Result<Transport, SendError> {
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
        let raw = message.formatted();
        let sent = tokio::time::timeout(
            self.timeout,
            self.send_pooled(endpoint, message.envelope(), &raw),
        )
        .await
        .unwrap_or_else(|_| {
            Err(SendError::Temporary {
                stage: MailStage::Connect,
                message: "the server did not answer in time".to_owned(),
            })
        });
        if sent.is_ok() {
            tracing::info!(message_id = %email.message_id, "email sent");
        }
        sent
    }

    async fn check(&self, endpoint: &SmtpEndpoint) -> Result<(), SendError> {
        // A fresh connection and login: the admin is testing the settings, not the pool.
        let transport = self.transport(endpoint)?;
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
