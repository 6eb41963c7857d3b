//! Outbound email: the ports that say where a workspace's mail goes and how a ticket's thread is
//! identified, and the outbox worker that sends queued replies over SMTP with retries.
//!
//! A reply on an email ticket is queued in the store's outbox in the reply's own transaction
//! (see [`crate::services::tickets::TicketService::reply`]). Workers of every server process
//! claim due messages atomically under a lease, send them with a [`MailSender`], and record the
//! outcome:
//!
//! - accepted → `sent`, at once after the server's answer;
//! - temporary failure (4xx, connection, timeout) → `queued` again after 1 min · 2^(n-1)
//!   (capped at 1 h), `failed` after [`MAX_DELIVERY_ATTEMPTS`] tries;
//! - permanent failure (5xx) → `failed` with the server's words; a person can retry it.
//!
//! **Delivery guarantee.** A message is sent at least once and, under normal operation, exactly
//! once: the row is marked `sent` right after the SMTP server accepts it. If the process dies in
//! the short window between the server's acceptance and that write (or the write fails), the row
//! stays `sending`; once its lease expires another worker sends it again, so the customer can get
//! the same message twice. Both copies carry the same Message-ID, so most clients show one.
//!
//! **Sender.** The `From` is the agent's name with the workspace's address and name, as
//! `"Ann Agent via Acme Support" <support@acme.test>` (the customer sees who answered, and
//! replies go to the shared mailbox); without a mailbox display name it is the agent's name
//! alone.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use opsflow_domain::email::Mailbox;
use opsflow_domain::outbox::{MAX_DELIVERY_ATTEMPTS, OutboxMessage, next_attempt};
use opsflow_domain::{TenantId, TenantScope, TicketId};
use time::{Duration, OffsetDateTime};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::auth::Clock;
use crate::mail::{MailSender, SmtpEndpoint};
use crate::repos::{OutboxRepository, RepoError};

/// Where a workspace's outbound mail goes: its SMTP server and its address (with the display
/// name the customer sees). Implemented by the mailbox settings service.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OutboundConfigSource: Send + Sync + 'static {
    /// The workspace's SMTP endpoint and address, or `None` when no enabled mailbox is
    /// connected (replies are then recorded, not emailed).
    ///
    /// # Errors
    /// `Unexpected` (the store, or a stored password that cannot be opened).
    async fn outbound_config(
        &self,
        tenant_id: TenantId,
    ) -> Result<Option<(SmtpEndpoint, Mailbox)>, RepoError>;
}

/// The Message-IDs a reply on a ticket answers: those of the ticket's emails (the customer's
/// and ours), oldest first. Implemented by the inbound intake.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ThreadIdSource: Send + Sync + 'static {
    /// The ticket's email Message-IDs, oldest first (empty for a ticket that has none).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn thread_message_ids(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> Result<Vec<String>, RepoError>;
}

/// The product default while no mailbox can be connected: no workspace sends mail.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOutboundMail;

#[async_trait]
impl OutboundConfigSource for NoOutboundMail {
    async fn outbound_config(
        &self,
        _tenant_id: TenantId,
    ) -> Result<Option<(SmtpEndpoint, Mailbox)>, RepoError> {
        Ok(None)
    }
}

/// The default while no inbound mail is stored: tickets have no email thread to answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoThreadIds;

#[async_trait]
impl ThreadIdSource for NoThreadIds {
    async fn thread_message_ids(
        &self,
        _scope: &TenantScope,
        _ticket_id: TicketId,
    ) -> Result<Vec<String>, RepoError> {
        Ok(Vec::new())
    }
}

/// Test double: every workspace sends through one fixed endpoint and address (tests and the
/// `bench mail` command point it at a local test server). Never wired in production.
#[derive(Debug, Clone)]
pub struct FixedOutboundConfigForTests {
    /// The SMTP server.
    pub endpoint: SmtpEndpoint,
    /// The sending address and name.
    pub mailbox: Mailbox,
}

#[async_trait]
impl OutboundConfigSource for FixedOutboundConfigForTests {
    async fn outbound_config(
        &self,
        _tenant_id: TenantId,
    ) -> Result<Option<(SmtpEndpoint, Mailbox)>, RepoError> {
        Ok(Some((self.endpoint.clone(), self.mailbox.clone())))
    }
}

/// Test double: every ticket's thread is the same fixed list of Message-IDs.
#[derive(Debug, Clone, Default)]
pub struct FixedThreadIdsForTests(pub Vec<String>);

#[async_trait]
impl ThreadIdSource for FixedThreadIdsForTests {
    async fn thread_message_ids(
        &self,
        _scope: &TenantScope,
        _ticket_id: TicketId,
    ) -> Result<Vec<String>, RepoError> {
        Ok(self.0.clone())
    }
}

/// The `From` of a reply by `agent` sent from the workspace's `mailbox`:
/// `"<agent> via <mailbox name>" <address>`, or the agent's name alone when the mailbox has none.
#[must_use]
pub fn sender_mailbox(agent: &str, mailbox: &Mailbox) -> Mailbox {
    let name = match mailbox.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(workspace) => format!("{agent} via {workspace}"),
        None => agent.to_owned(),
    };
    Mailbox { name: Some(name), email: mailbox.email.clone() }
}

/// Settings of the outbox workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Workers in this process (0 disables sending here; other processes may still send).
    pub workers: usize,
    /// How long an idle worker waits before looking again (retries come due, other processes
    /// queue mail).
    pub poll_interval: StdDuration,
    /// How long a claimed message is held; a `sending` message whose lease expired is claimed
    /// again (crash recovery). Longer than the slowest send (the SMTP client gives up on each
    /// network step after 30 s).
    pub lease: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self { workers: 2, poll_interval: StdDuration::from_secs(5), lease: Duration::minutes(5) }
    }
}

/// What one worker step did with the message it claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted it.
    Sent,
    /// A temporary failure; queued again.
    Retry {
        /// When it is tried next.
        at: OffsetDateTime,
        /// Why this try failed.
        error: String,
    },
    /// Given up, with this reason.
    Failed(String),
}

/// Sends the outbox's messages. One value is shared by the workers of a process (and by tests,
/// which call [`OutboxWorker::run_once`] to step it).
pub struct OutboxWorker {
    outbox: Arc<dyn OutboxRepository>,
    outbound: Arc<dyn OutboundConfigSource>,
    sender: Arc<dyn MailSender>,
    clock: Arc<dyn Clock>,
    lease: Duration,
    queued: Arc<Notify>,
}

impl OutboxWorker {
    /// A worker on the store's outbox, sending with `sender` through each workspace's
    /// configured server.
    pub fn new(
        outbox: Arc<dyn OutboxRepository>,
        outbound: Arc<dyn OutboundConfigSource>,
        sender: Arc<dyn MailSender>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            outbox,
            outbound,
            sender,
            clock,
            lease: OutboxConfig::default().lease,
            queued: Arc::new(Notify::new()),
        }
    }

    /// With this lease.
    #[must_use]
    pub const fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Wakes idle workers when `queued` is notified (the ticket service notifies it after
    /// queueing a reply in this process, so it goes out at once rather than at the next poll).
    #[must_use]
    pub fn with_notifier(mut self, queued: Arc<Notify>) -> Self {
        self.queued = queued;
        self
    }

    /// Claims one due message and tries to send it. `Ok(None)` when nothing is due.
    ///
    /// # Errors
    /// `Unexpected` when the claim fails. Failures after the claim are logged; the message is
    /// then claimed again when its lease expires.
    pub async fn run_once(&self) -> Result<Option<SendOutcome>, RepoError> {
        let Some(msg) = self.outbox.claim_next_email(self.clock.now(), self.lease).await? else {
            return Ok(None);
        };
        let outcome = self.deliver(&msg).await;
        let (tenant, reply, attempt) = (msg.tenant_id, msg.reply_id, msg.attempts);
        let recorded = match &outcome {
            SendOutcome::Sent => {
                self.outbox.mark_sent(tenant, reply, attempt, self.clock.now()).await
            }
            SendOutcome::Retry { at, error } => {
                self.outbox.mark_retry(tenant, reply, attempt, *at, error).await
            }
            SendOutcome::Failed(error) => {
                self.outbox.mark_failed(tenant, reply, attempt, error).await
            }
        };
        if let Err(e) = recorded {
            // The row stays `sending` and is claimed again after its lease: for a sent message
            // this is the at-least-once window documented above.
            tracing::error!(
                tenant_id = %tenant,
                reply_id = %reply,
                attempt,
                error = %e,
                "could not record the outcome of an email; it will be tried again after its lease"
            );
        }
        Ok(Some(outcome))
    }

    /// Runs [`OutboxWorker::run_once`] until nothing is due; returns how many messages were
    /// handled (for tests and benchmarks).
    ///
    /// # Errors
    /// As for [`OutboxWorker::run_once`].
    pub async fn drain(&self) -> Result<usize, RepoError> {
        let mut n = 0;
        while self.run_once().await?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Sends one claimed message and decides what happens to it.
    async fn deliver(&self, msg: &OutboxMessage) -> SendOutcome {
        let config = match self.outbound.outbound_config(msg.tenant_id).await {
            Ok(Some((endpoint, _mailbox))) => endpoint,
            Ok(None) => {
                return SendOutcome::Failed(
                    "not emailed: the workspace no longer has a connected mailbox".to_owned(),
                );
            }
            Err(e) => {
                tracing::error!(tenant_id = %msg.tenant_id, error = %e, "could not read the mailbox settings");
                return self.temporary(msg, "the mailbox settings could not be read");
            }
        };
        match self.sender.send(&config, &msg.email).await {
            Ok(()) => {
                tracing::info!(
                    tenant_id = %msg.tenant_id,
                    ticket_id = %msg.ticket_id,
                    reply_id = %msg.reply_id,
                    attempt = msg.attempts,
                    "reply emailed"
                );
                SendOutcome::Sent
            }
            Err(e) => {
                let reason = format!("{}: {}", e.stage().describe(), e.message());
                tracing::warn!(
                    tenant_id = %msg.tenant_id,
                    reply_id = %msg.reply_id,
                    attempt = msg.attempts,
                    temporary = e.is_temporary(),
                    error = %reason,
                    "email not sent"
                );
                if e.is_temporary() {
                    self.temporary(msg, &reason)
                } else {
                    SendOutcome::Failed(reason)
                }
            }
        }
    }

    fn temporary(&self, msg: &OutboxMessage, reason: &str) -> SendOutcome {
        match next_attempt(msg.attempts, self.clock.now()) {
            Some(at) => SendOutcome::Retry { at, error: reason.to_owned() },
            None => SendOutcome::Failed(format!(
                "gave up after {MAX_DELIVERY_ATTEMPTS} tries; last: {reason}"
            )),
        }
    }
}

/// A running pool of outbox workers; stop it with [`OutboxWorkerPool::shutdown`].
pub struct OutboxWorkerPool {
    shutdown: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl OutboxWorkerPool {
    /// Spawns `config.workers` workers sharing `worker` on the current tokio runtime.
    ///
    /// # Panics
    /// When called outside a tokio runtime.
    #[must_use]
    pub fn spawn(worker: Arc<OutboxWorker>, config: &OutboxConfig) -> Self {
        let (shutdown, stop) = watch::channel(false);
        let handles = (0..config.workers)
            .map(|n| tokio::spawn(work(n, Arc::clone(&worker), config.poll_interval, stop.clone())))
            .collect();
        Self { shutdown, handles }
    }

    /// How many workers run.
    #[must_use]
    pub fn size(&self) -> usize {
        self.handles.len()
    }

    /// Asks every worker to stop and waits: a worker finishes the message it is sending first.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for handle in self.handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "outbox worker ended abnormally");
            }
        }
        tracing::info!("outbox workers stopped");
    }
}

async fn work(
    n: usize,
    worker: Arc<OutboxWorker>,
    poll_interval: StdDuration,
    mut shutdown: watch::Receiver<bool>,
) {
    let queued = Arc::clone(&worker.queued);
    loop {
        if *shutdown.borrow() {
            break;
        }
        match worker.run_once().await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => tracing::error!(worker = n, error = %e, "could not claim an email"),
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = queued.notified() => {}
            () = tokio::time::sleep(poll_interval) => {}
        }
    }
}

/// The thread's Message-IDs from the mail archive (the customer's messages taken in, oldest
/// first), for `In-Reply-To` and `References` of the replies sent.
pub struct ArchivedThreadIds {
    archive: Arc<dyn crate::repos::MailArchiveRepository>,
}

impl ArchivedThreadIds {
    /// Reads from `archive`.
    pub fn new(archive: Arc<dyn crate::repos::MailArchiveRepository>) -> Self {
        Self { archive }
    }
}

#[async_trait]
impl ThreadIdSource for ArchivedThreadIds {
    async fn thread_message_ids(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> Result<Vec<String>, RepoError> {
        self.archive.thread_message_ids(scope, ticket_id).await
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use opsflow_domain::email::OutboundEmail;
    use opsflow_domain::outbox::DeliveryState;
    use opsflow_domain::{Email, ReplyId};

    use super::*;
    use crate::auth::MockClock;
    use crate::mail::{MailStage, MockMailSender, SendError};
    use crate::repos::MockOutboxRepository;

    fn mailbox() -> Mailbox {
        Mailbox {
            name: Some("Acme Support".into()),
            email: Email::parse("support@acme.test").unwrap(),
        }
    }

    #[test]
    fn the_sender_is_the_agent_via_the_workspace_at_the_workspace_address() {
        let from = sender_mailbox("Ann Agent", &mailbox());
        assert_eq!(from.name.as_deref(), Some("Ann Agent via Acme Support"));
        assert_eq!(from.email.as_str(), "support@acme.test");
        let bare = Mailbox { name: Some("  ".into()), ..mailbox() };
        assert_eq!(sender_mailbox("Ann Agent", &bare).name.as_deref(), Some("Ann Agent"));
    }

    const NOW: OffsetDateTime = time::macros::datetime!(2026-12-02 09:00 UTC);

    fn claimed(attempts: u32) -> OutboxMessage {
        let mut m = OutboxMessage::queued(
            TenantId::new(),
            TicketId::new(),
            ReplyId::new(),
            OutboundEmail {
                from: mailbox(),
                to: Mailbox { name: None, email: Email::parse("carla@example.com").unwrap() },
                subject: "Re: Login [#1]".into(),
                body: "Hi".into(),
                message_id: "reply-1@acme.test".into(),
                in_reply_to: None,
                references: vec![],
            },
            NOW,
        );
        m.state = DeliveryState::Sending;
        m.attempts = attempts;
        m
    }

    fn endpoint() -> SmtpEndpoint {
        SmtpEndpoint {
            host: "smtp.acme.test".into(),
            port: 587,
            security: opsflow_domain::email::MailSecurity::Starttls,
            username: None,
            password: None,
        }
    }

    fn clock() -> Arc<MockClock> {
        let mut c = MockClock::new();
        c.expect_now().return_const(NOW);
        Arc::new(c)
    }

    /// A worker whose store hands out `msg` once and expects `expect` to record the outcome.
    fn worker(
        msg: OutboxMessage,
        config: Option<SmtpEndpoint>,
        send: Option<Result<(), SendError>>,
        expect: impl FnOnce(&mut MockOutboxRepository, &OutboxMessage),
    ) -> OutboxWorker {
        let mut outbox = MockOutboxRepository::new();
        let handed = msg.clone();
        outbox.expect_claim_next_email().times(1).return_once(move |_, _| Ok(Some(handed)));
        expect(&mut outbox, &msg);
        let mut outbound = MockOutboundConfigSource::new();
        outbound
            .expect_outbound_config()
            .with(eq(msg.tenant_id))
            .return_once(move |_| Ok(config.map(|e| (e, mailbox()))));
        let mut sender = MockMailSender::new();
        match send {
            Some(result) => {
                sender.expect_send().times(1).return_once(move |_, _| result);
            }
            None => {
                sender.expect_send().never();
            }
        }
        OutboxWorker::new(Arc::new(outbox), Arc::new(outbound), Arc::new(sender), clock())
    }

    #[tokio::test]
    async fn a_temporary_failure_is_queued_again_after_the_backoff() {
        let w = worker(
            claimed(3),
            Some(endpoint()),
            Some(Err(SendError::Temporary {
                stage: MailStage::Connect,
                message: "refused".into(),
            })),
            |o, m| {
                o.expect_mark_retry()
                    .with(
                        eq(m.tenant_id),
                        eq(m.reply_id),
                        eq(3),
                        eq(NOW + Duration::minutes(4)),
                        eq("the server could not be reached: refused"),
                    )
                    .times(1)
                    .returning(|_, _, _, _, _| Ok(()));
            },
        );
        assert!(matches!(w.run_once().await.unwrap(), Some(SendOutcome::Retry { .. })));
    }

    #[tokio::test]
    async fn the_eighth_temporary_failure_fails_the_email() {
        let w = worker(
            claimed(MAX_DELIVERY_ATTEMPTS),
            Some(endpoint()),
            Some(Err(SendError::Temporary { stage: MailStage::Send, message: "451 busy".into() })),
            |o, _| {
                o.expect_mark_failed()
                    .withf(|_, _, attempt, error| {
                        *attempt == MAX_DELIVERY_ATTEMPTS
                            && error.starts_with("gave up after 8 tries")
                            && error.contains("451 busy")
                    })
                    .times(1)
                    .returning(|_, _, _, _| Ok(()));
            },
        );
        assert!(matches!(w.run_once().await.unwrap(), Some(SendOutcome::Failed(_))));
    }

    #[tokio::test]
    async fn a_mailbox_disconnected_after_queueing_fails_the_email_without_sending() {
        let w = worker(claimed(1), None, None, |o, _| {
            o.expect_mark_failed()
                .withf(|_, _, _, error| error.contains("no longer has a connected mailbox"))
                .times(1)
                .returning(|_, _, _, _| Ok(()));
        });
        assert!(matches!(w.run_once().await.unwrap(), Some(SendOutcome::Failed(_))));
    }

    #[tokio::test]
    async fn an_outcome_that_cannot_be_recorded_is_logged_and_left_to_the_lease() {
        let w = worker(claimed(1), Some(endpoint()), Some(Ok(())), |o, m| {
            o.expect_mark_sent()
                .with(eq(m.tenant_id), eq(m.reply_id), eq(1), eq(NOW))
                .times(1)
                .returning(|_, _, _, _| Err(RepoError::NotFound));
        });
        // The send happened; the row will be claimed again after its lease (at-least-once).
        assert_eq!(w.run_once().await.unwrap(), Some(SendOutcome::Sent));
    }
}
