//! Inbound email: takes raw messages into a workspace (new ticket, or a customer reply on the
//! ticket it answers), keeps the raw message and its files, and manages the secret token of the
//! workspace's inbound endpoint.

use std::sync::Arc;

use async_trait::async_trait;
use opsflow_domain::email::{InboundEmail, strip_reply_prefixes, ticket_reference};
use opsflow_domain::{
    AttachmentId, AuditKind, AuthorType, Channel, Email, PersonName, ReplyBody, ReplyId, TenantId,
    TenantScope, Ticket, TicketAttachment, TicketBody, TicketId, TicketReply, TicketStatus,
    TicketSubject,
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::Clock;
use crate::cipher::SecretCipher;
use crate::error::{AppError, AppResult, Entity, require_admin};
use crate::mail_intake::{IntakeError, IntakeOutcome, MailIntake};
use crate::repos::{
    AttachmentFile, InboundMail, InboundTokenRepository, MailArchiveRepository, MailTarget,
    NewAttachment, RepoError, TakenIn, TicketRepository,
};
use crate::services::audit::AuditLog;
use crate::services::auth::AuthContext;
use crate::services::auto_triage::ArrivalTriage;

/// Default largest message taken in: 10 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
/// The largest limit the server accepts (`OPSFLOW_MAIL_MAX_BYTES`): a raw message must fit one
/// MongoDB document (16 MiB) with room to spare.
pub const MAX_MESSAGE_BYTES_CEILING: usize = 15 * 1024 * 1024;

/// Inbound mail settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundMailConfig {
    /// Largest raw message taken in, in bytes (`OPSFLOW_MAIL_MAX_BYTES`).
    pub max_message_bytes: usize,
}

impl Default for InboundMailConfig {
    fn default() -> Self {
        Self { max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES }
    }
}

/// Why a raw message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnreadableMail {
    /// Larger than the limit.
    #[error("the message is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a message, or no sender could be read; the text says which.
    #[error("{0}")]
    Unusable(String),
}

/// Decodes raw RFC 5322 bytes (implemented by `opsflow-mail`).
pub trait InboundParser: Send + Sync + 'static {
    /// Parses `raw`, refusing messages over `max_bytes`.
    ///
    /// # Errors
    /// [`UnreadableMail`].
    fn parse(&self, raw: &[u8], max_bytes: usize) -> Result<InboundEmail, UnreadableMail>;
}

/// The workspace's own sending addresses: mail from them is never taken in (it is our own
/// outbound mail coming back, a loop).
#[async_trait]
pub trait OwnAddresses: Send + Sync + 'static {
    /// The addresses the workspace sends from.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn own_addresses(&self, tenant_id: TenantId) -> Result<Vec<Email>, RepoError>;
}

/// No own addresses: the workspace has no configured mailbox yet. (The mailbox settings'
/// from-address takes this place once they exist.)
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOwnAddresses;

#[async_trait]
impl OwnAddresses for NoOwnAddresses {
    async fn own_addresses(&self, _tenant_id: TenantId) -> Result<Vec<Email>, RepoError> {
        Ok(Vec::new())
    }
}

/// What the inbound service needs besides the store.
pub struct InboundMailDeps {
    /// MIME parsing.
    pub parser: Arc<dyn InboundParser>,
    /// Seals the inbound token so admins can see it again.
    pub cipher: Arc<dyn SecretCipher>,
    /// The workspace's own addresses.
    pub own_addresses: Arc<dyn OwnAddresses>,
    /// Size limit.
    pub config: InboundMailConfig,
}

/// The text added where a too-long message was cut.
const SHORTENED: &str = "\n\n[Message shortened: the full email is kept with the ticket.]";

/// `text` cut to at most `max` characters (with a note saying so), or a placeholder when empty.
fn fit(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(no text)".to_owned();
    }
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(SHORTENED.chars().count());
    let mut cut: String = text.chars().take(keep).collect();
    cut.truncate(cut.trim_end().len());
    cut.push_str(SHORTENED);
    cut
}

fn subject_of(subject: &str) -> TicketSubject {
    let s: String = subject.trim().chars().take(TicketSubject::MAX_CHARS).collect();
    TicketSubject::new(&s).unwrap_or_else(|_| {
        TicketSubject::new("(no subject)").unwrap_or_else(|_| unreachable!("a valid subject"))
    })
}

fn customer_name(email: &InboundEmail) -> PersonName {
    let customer = email.customer();
    let raw = customer.name.clone().unwrap_or_else(|| {
        customer.email.as_str().split('@').next().unwrap_or_default().to_owned()
    });
    let raw: String = raw.trim().chars().take(PersonName::MAX_CHARS).collect();
    PersonName::new(&raw).unwrap_or_else(|_| {
        PersonName::new("Customer").unwrap_or_else(|_| unreachable!("a valid name"))
    })
}

/// The reply id in one of our own outbound Message-IDs: `reply-<uuid>@<domain>`.
fn own_reply_id(message_id: &str) -> Option<ReplyId> {
    let local = message_id.strip_prefix("reply-")?.split('@').next()?;
    ReplyId::parse(local).ok()
}

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn token_context(tenant_id: TenantId) -> Vec<u8> {
    format!("inbound:{tenant_id}").into_bytes()
}

/// Takes inbound mail into workspaces; the workspace's inbound token; ticket attachments.
pub struct InboundMailService {
    archive: Arc<dyn MailArchiveRepository>,
    tickets: Arc<dyn TicketRepository>,
    tokens: Arc<dyn InboundTokenRepository>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    deps: InboundMailDeps,
    arrival: Option<ArrivalTriage>,
    webhooks: Option<crate::services::webhooks::WebhookEmitter>,
}

impl InboundMailService {
    /// Wires the service to its ports.
    pub fn new(
        archive: Arc<dyn MailArchiveRepository>,
        tickets: Arc<dyn TicketRepository>,
        tokens: Arc<dyn InboundTokenRepository>,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
        deps: InboundMailDeps,
    ) -> Self {
        Self { archive, tickets, tokens, clock, audit, deps, arrival: None, webhooks: None }
    }

    /// Queues a triage run with every ticket an email opens (not with follow-ups), per the
    /// workspace's auto-triage mode.
    #[must_use]
    pub fn with_auto_triage(mut self, arrival: ArrivalTriage) -> Self {
        self.arrival = Some(arrival);
        self
    }

    /// Reports new tickets and customers' replies to the workspace's webhook endpoints.
    #[must_use]
    pub fn with_webhooks(mut self, emitter: crate::services::webhooks::WebhookEmitter) -> Self {
        self.webhooks = Some(emitter);
        self
    }

    /// The largest raw message taken in, in bytes.
    #[must_use]
    pub const fn max_message_bytes(&self) -> usize {
        self.deps.config.max_message_bytes
    }

    /// The ticket an inbound message continues: one of the messages it answers (ours included:
    /// `reply-<uuid>@…` names one of the workspace's replies), else the `[#N]` in its subject
    /// when that ticket's customer is the sender (so strangers cannot join a thread).
    async fn thread_of(
        &self,
        scope: &TenantScope,
        email: &InboundEmail,
    ) -> Result<Option<Ticket>, RepoError> {
        let ids: Vec<String> = email.thread_ids().into_iter().map(str::to_owned).collect();
        let mut found = self.archive.ticket_for_message_ids(scope, &ids).await?;
        if found.is_none() {
            for reply_id in ids.iter().filter_map(|id| own_reply_id(id)) {
                match self.archive.ticket_of_reply(scope, reply_id).await {
                    Ok(ticket_id) => {
                        found = Some(ticket_id);
                        break;
                    }
                    Err(RepoError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if let Some(ticket_id) = found {
            match self.tickets.get(scope, ticket_id).await {
                Ok(t) => return Ok(Some(t)),
                Err(RepoError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(number) = ticket_reference(&email.subject) {
            match self.tickets.get_by_number(scope, number).await {
                Ok(t)
                    if t.customer_email == email.from.email
                        || t.customer_email == email.customer().email =>
                {
                    return Ok(Some(t));
                }
                Ok(_) | Err(RepoError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The workspace whose inbound token this is, compared in constant time; `None` for any
    /// unknown token.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn tenant_for_token(&self, token: &str) -> AppResult<Option<TenantId>> {
        let hash = token_hash(token);
        let found = self.tokens.tenant_for_inbound_token(&hash).await?;
        Ok(found.and_then(|(tenant, stored)| bool::from(stored.ct_eq(&hash)).then_some(tenant)))
    }

    /// The workspace's inbound token (admin only), made on first use.
    ///
    /// # Errors
    /// `Forbidden`, `Unexpected` (also when the sealed token no longer opens: the server key
    /// changed; rotating makes a new one).
    pub async fn inbound_token(&self, ctx: &AuthContext) -> AppResult<String> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        match self.tokens.sealed_inbound_token(scope).await? {
            Some(sealed) => self
                .deps
                .cipher
                .open(&sealed, &token_context(scope.tenant_id()))
                .map_err(AppError::unexpected),
            None => self.store_new_token(scope).await,
        }
    }

    /// Replaces the workspace's inbound token (admin only): the old one stops working at once.
    /// Recorded as `inbound_token_rotated`.
    ///
    /// # Errors
    /// `Forbidden`, `Unexpected`.
    pub async fn rotate_inbound_token(&self, ctx: &AuthContext) -> AppResult<String> {
        require_admin(&ctx.scope)?;
        let token = self.store_new_token(&ctx.scope).await?;
        self.audit
            .record(&ctx.scope, ctx.event(AuditKind::InboundTokenRotated, self.clock.now()))
            .await;
        Ok(token)
    }

    async fn store_new_token(&self, scope: &TenantScope) -> AppResult<String> {
        let token = random_token();
        let sealed = self
            .deps
            .cipher
            .seal(&token, &token_context(scope.tenant_id()))
            .map_err(AppError::unexpected)?;
        self.tokens
            .set_inbound_token(scope, &token_hash(&token), &sealed, self.clock.now())
            .await?;
        Ok(token)
    }

    /// The files that came with the ticket's emails, oldest first.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn attachments(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> AppResult<Vec<TicketAttachment>> {
        Ok(self.archive.list_attachments(scope, ticket_id).await?)
    }

    /// One file of the ticket, with its bytes.
    ///
    /// # Errors
    /// `NotFound` (also another workspace's), `Unexpected`.
    pub async fn attachment(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        id: AttachmentId,
    ) -> AppResult<AttachmentFile> {
        self.archive
            .get_attachment(scope, ticket_id, id)
            .await
            .map_err(AppError::from_repo(Entity::Attachment))
    }
}

#[async_trait]
impl MailIntake for InboundMailService {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, bytes = raw.len()))]
    async fn take_in(&self, tenant_id: TenantId, raw: &[u8]) -> Result<IntakeOutcome, IntakeError> {
        let email = self
            .deps
            .parser
            .parse(raw, self.deps.config.max_message_bytes)
            .map_err(|e| IntakeError::Rejected(e.to_string()))?;
        if let Some(kind) = email.automated {
            return Ok(IntakeOutcome::Ignored { reason: kind.reason().to_owned() });
        }
        let own = self.deps.own_addresses.own_addresses(tenant_id).await?;
        if own.contains(&email.from.email) {
            return Ok(IntakeOutcome::Ignored {
                reason: "sent from the workspace's own address".to_owned(),
            });
        }
        let scope = TenantScope::system(tenant_id);
        let now = self.clock.now();
        let text = if email.new_text.trim().is_empty() { &email.body } else { &email.new_text };
        let target = match self.thread_of(&scope, &email).await? {
            Some(ticket) => MailTarget::Reply(TicketReply {
                id: ReplyId::new(),
                tenant_id,
                ticket_id: ticket.id,
                author_type: AuthorType::Customer,
                author_id: None,
                body: ReplyBody::new(&fit(text, ReplyBody::MAX_CHARS))
                    .map_err(|e| IntakeError::Rejected(e.to_string()))?,
                sent_at: Some(now),
                created_at: now,
                updated_at: now,
            }),
            None => {
                let ticket = Ticket {
                    id: TicketId::new(),
                    tenant_id,
                    number: 0,
                    subject: subject_of(strip_reply_prefixes(&email.subject)),
                    body: TicketBody::new(&fit(text, TicketBody::MAX_CHARS))
                        .map_err(|e| IntakeError::Rejected(e.to_string()))?,
                    channel: Channel::Email,
                    status: TicketStatus::New,
                    priority: None,
                    category: None,
                    customer_name: customer_name(&email),
                    customer_email: email.customer().email.clone(),
                    assignee_id: None,
                    created_by_id: None,
                    created_at: now,
                    updated_at: now,
                };
                let run = match &self.arrival {
                    Some(arrival) => arrival.plan(&scope, &ticket).await?,
                    None => None,
                };
                MailTarget::NewTicket(ticket, run.map(Box::new))
            }
        };
        let mail = InboundMail {
            message_id: email.message_id.clone(),
            subject: email.subject.clone(),
            from: email.from.email.as_str().to_owned(),
            received_at: now,
            raw: raw.to_vec(),
            attachments: email
                .attachments
                .into_iter()
                .map(|a| NewAttachment {
                    id: AttachmentId::new(),
                    filename: a.filename,
                    content_type: a.content_type,
                    data: a.data,
                })
                .collect(),
        };
        let taken = self.archive.take_in(&scope, &mail, &target, now).await?;
        if let (TakenIn::Created { .. }, MailTarget::NewTicket(_, Some(run)), Some(arrival)) =
            (&taken, &target, &self.arrival)
        {
            arrival.stored(run);
        }
        if let Some(w) = &self.webhooks {
            match (&taken, &target) {
                (TakenIn::Created { number, .. }, MailTarget::NewTicket(ticket, _)) => {
                    let mut ticket = ticket.clone();
                    ticket.number = *number;
                    w.ticket_created(&scope, &ticket).await;
                }
                (TakenIn::Appended { .. }, MailTarget::Reply(reply)) => {
                    w.reply_created(&scope, reply).await;
                }
                _ => {}
            }
        }
        let outcome = match taken {
            TakenIn::Created { ticket_id, number } => IntakeOutcome::Created { ticket_id, number },
            TakenIn::Appended { ticket_id, .. } => IntakeOutcome::Appended { ticket_id },
            TakenIn::Duplicate => IntakeOutcome::Duplicate,
        };
        tracing::info!(outcome = ?outcome, "inbound message taken in");
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_a_note_and_empty_text_gets_a_placeholder() {
        let long = "word ".repeat(10_000);
        let cut = fit(&long, TicketBody::MAX_CHARS);
        assert!(cut.chars().count() <= TicketBody::MAX_CHARS);
        assert!(cut.ends_with(SHORTENED));
        assert!(TicketBody::new(&cut).is_ok());
        assert_eq!(fit("  short ", 100), "short");
        assert_eq!(fit(" \n ", 100), "(no text)");
    }

    #[test]
    fn own_reply_ids_are_recognised() {
        let id = ReplyId::new();
        assert_eq!(own_reply_id(&format!("reply-{id}@desk.example")), Some(id));
        assert_eq!(own_reply_id("reply-nope@desk.example"), None);
        assert_eq!(own_reply_id(&format!("{id}@desk.example")), None);
    }

    #[test]
    fn subjects_are_never_empty_or_too_long() {
        assert_eq!(subject_of("  ").as_str(), "(no subject)");
        assert_eq!(subject_of(&"x".repeat(500)).as_str().len(), TicketSubject::MAX_CHARS);
    }

    mod intake {
        use std::sync::Mutex;

        use opsflow_domain::email::{Automated, Mailbox};
        use time::OffsetDateTime;

        use super::super::*;
        use crate::cipher::MockSecretCipher;
        use crate::repos::{
            MockAuditRepository, MockInboundTokenRepository, MockMailArchiveRepository,
            MockTicketRepository,
        };

        /// Gives back one prepared message, whatever the bytes.
        struct Fixed(InboundEmail);
        impl InboundParser for Fixed {
            fn parse(&self, _raw: &[u8], _max: usize) -> Result<InboundEmail, UnreadableMail> {
                Ok(self.0.clone())
            }
        }

        struct Own(Vec<Email>, Mutex<u32>);
        #[async_trait]
        impl OwnAddresses for Own {
            async fn own_addresses(&self, _t: TenantId) -> Result<Vec<Email>, RepoError> {
                *self.1.lock().unwrap() += 1;
                Ok(self.0.clone())
            }
        }

        struct Now;
        impl Clock for Now {
            fn now(&self) -> OffsetDateTime {
                OffsetDateTime::UNIX_EPOCH
            }
        }

        fn email(from: &str, automated: Option<Automated>) -> InboundEmail {
            InboundEmail {
                message_id: "m@x".to_owned(),
                in_reply_to: Vec::new(),
                references: Vec::new(),
                from: Mailbox { name: None, email: Email::parse(from).unwrap() },
                reply_to: None,
                subject: "Hello".to_owned(),
                body: "Body".to_owned(),
                new_text: "Body".to_owned(),
                attachments: Vec::new(),
                automated,
            }
        }

        /// A service whose store must not be touched (mocks without expectations panic).
        fn service(parsed: InboundEmail, own: Arc<Own>) -> InboundMailService {
            InboundMailService::new(
                Arc::new(MockMailArchiveRepository::new()),
                Arc::new(MockTicketRepository::new()),
                Arc::new(MockInboundTokenRepository::new()),
                Arc::new(Now),
                AuditLog::new(Arc::new(MockAuditRepository::new())),
                InboundMailDeps {
                    parser: Arc::new(Fixed(parsed)),
                    cipher: Arc::new(MockSecretCipher::new()),
                    own_addresses: own,
                    config: InboundMailConfig::default(),
                },
            )
        }

        #[tokio::test]
        async fn mail_from_the_workspaces_own_address_is_ignored_without_touching_the_store() {
            let own =
                Arc::new(Own(vec![Email::parse("support@desk.example").unwrap()], Mutex::new(0)));
            let svc = service(email("support@desk.example", None), own.clone());
            let outcome = svc.take_in(TenantId::new(), b"raw").await.unwrap();
            assert_eq!(
                outcome,
                IntakeOutcome::Ignored {
                    reason: "sent from the workspace's own address".to_owned()
                }
            );
            assert_eq!(*own.1.lock().unwrap(), 1);
        }

        #[tokio::test]
        async fn automatic_mail_is_ignored_before_anything_is_looked_up() {
            let own = Arc::new(Own(Vec::new(), Mutex::new(0)));
            let svc =
                service(email("mailer-daemon@mx.example", Some(Automated::Bounce)), own.clone());
            let outcome = svc.take_in(TenantId::new(), b"raw").await.unwrap();
            assert_eq!(
                outcome,
                IntakeOutcome::Ignored { reason: "delivery status notification".to_owned() }
            );
            assert_eq!(*own.1.lock().unwrap(), 0);
        }
    }

    #[test]
    fn tokens_are_64_hex_chars_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}
