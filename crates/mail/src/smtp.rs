//! Sending over SMTP with `lettre`: implicit TLS, STARTTLS (required, never silently skipped)
//! or plain; login when configured; the server's answer classified as temporary (4xx, network)
//! or permanent (5xx), with the stage that failed.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox as LettreMailbox, MessageBuilder};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opsflow_domain::email::{MailSecurity, Mailbox, OutboundEmail};
use opsflow_ports::mail::{MailSender, MailStage, SendError, SmtpEndpoint};

/// An SMTP client; one connection per message (outbox volumes do not need a pool, and a pool
/// would hold stale logins when an admin changes the password).
#[derive(Debug, Clone)]
pub struct SmtpSender {
    timeout: Duration,
}

impl Default for SmtpSender {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30) }
    }
}

impl SmtpSender {
    /// A client whose every network step gives up after `timeout`.
    #[must_use]
    pub const fn new(timeout: Duration) -> Self {
        Self { timeout }
    }

    fn transport(
        &self,
        endpoint: &SmtpEndpoint,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
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
        let transport = self.transport(endpoint)?;
        match transport.send(message).await {
            Ok(_) => {
                tracing::info!(message_id = %email.message_id, "email sent");
                Ok(())
            }
            Err(e) => Err(classify(&e, true)),
        }
    }

    async fn check(&self, endpoint: &SmtpEndpoint) -> Result<(), SendError> {
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
