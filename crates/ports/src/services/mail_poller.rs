//! The IMAP poller: every interval, reads each enabled mailbox after its cursor and hands the
//! new messages, in UID order, to the mail intake.
//!
//! Several server processes may share a store: a mailbox is read only under its lease
//! ([`MailboxRepository::try_lease`]), so one process reads it at a time. The cursor moves past a
//! message only once the intake has dealt with it (taken in, recognised as a duplicate, ignored
//! or rejected as unusable); a store failure stops the mailbox's round with the cursor before
//! that message, so it is handed over again next time. A UIDVALIDITY change reads the folder
//! from the start; the intake recognises what it already has by Message-ID. Failures are
//! recorded in the mailbox status and retried with back-off (30 s doubling up to 15 minutes).
//! This polls; IMAP IDLE is not used.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opsflow_domain::TenantId;
use opsflow_domain::mailbox::retry_delay;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::auth::Clock;
use crate::cipher::SecretCipher;
use crate::mail::{Cursor, MailFetcher};
use crate::mail_intake::{IntakeError, MailIntake};
use crate::repos::{MailboxCursor, MailboxRepository, RepoError};
use crate::services::mailbox::imap_endpoint;

/// Settings of the poller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPollerConfig {
    /// Time between rounds.
    pub interval: Duration,
    /// How long a mailbox's lease lasts (renewed after every batch); a crashed process's lease
    /// is taken over after this.
    pub lease_ttl: time::Duration,
    /// Most fetch batches per mailbox per round (each batch is bounded by the fetcher).
    pub max_batches: usize,
}

impl Default for MailPollerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            lease_ttl: time::Duration::minutes(5),
            max_batches: 20,
        }
    }
}

/// What one round did, per mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Mailboxes read without error.
    pub polled: Vec<TenantId>,
    /// Mailboxes another poller held the lease of.
    pub busy: Vec<TenantId>,
    /// Mailboxes waiting for their retry time after failures.
    pub waiting: Vec<TenantId>,
    /// Mailboxes whose round failed (recorded in their status).
    pub failed: Vec<TenantId>,
    /// Messages handed to the intake and dealt with.
    pub handed_over: usize,
}

enum Outcome {
    Polled(usize),
    Busy,
    Waiting,
    Failed,
    Skipped,
}

/// Why a mailbox's round stopped.
enum PollError {
    /// Reading the mailbox failed (words for the status).
    Mail(String),
    /// The store failed.
    Store(RepoError),
}

impl From<RepoError> for PollError {
    fn from(e: RepoError) -> Self {
        Self::Store(e)
    }
}

/// Reads enabled mailboxes into the intake.
pub struct MailPoller {
    repo: Arc<dyn MailboxRepository>,
    cipher: Arc<dyn SecretCipher>,
    fetcher: Arc<dyn MailFetcher>,
    intake: Arc<dyn MailIntake>,
    clock: Arc<dyn Clock>,
    holder: String,
    config: MailPollerConfig,
    stopping: AtomicBool,
    wake: Notify,
}

impl MailPoller {
    /// A poller with a unique lease holder name.
    pub fn new(
        repo: Arc<dyn MailboxRepository>,
        cipher: Arc<dyn SecretCipher>,
        fetcher: Arc<dyn MailFetcher>,
        intake: Arc<dyn MailIntake>,
        clock: Arc<dyn Clock>,
        config: MailPollerConfig,
    ) -> Self {
        let holder = format!("poller-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
        Self {
            repo,
            cipher,
            fetcher,
            intake,
            clock,
            holder,
            config,
            stopping: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// The name this poller takes leases under.
    #[must_use]
    pub fn holder(&self) -> &str {
        &self.holder
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Reads every enabled mailbox once (those not held by another poller and not waiting for a
    /// retry).
    pub async fn round(&self) -> RoundReport {
        let mut report = RoundReport::default();
        let tenants = match self.repo.enabled_mailboxes().await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "mail poller: could not list the mailboxes");
                return report;
            }
        };
        for tenant_id in tenants {
            if self.stopping() {
                break;
            }
            match self.poll_one(tenant_id).await {
                Outcome::Polled(n) => {
                    report.polled.push(tenant_id);
                    report.handed_over += n;
                }
                Outcome::Busy => report.busy.push(tenant_id),
                Outcome::Waiting => report.waiting.push(tenant_id),
                Outcome::Failed => report.failed.push(tenant_id),
                Outcome::Skipped => {}
            }
        }
        report
    }

    async fn poll_one(&self, tenant_id: TenantId) -> Outcome {
        let now = self.clock.now();
        let status = match self.repo.mailbox_status(tenant_id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(%tenant_id, error = %e, "mail poller: could not read the status");
                return Outcome::Failed;
            }
        };
        if status.next_retry_at.is_some_and(|t| t > now) {
            return Outcome::Waiting;
        }
        match self.repo.try_lease(tenant_id, &self.holder, now, self.config.lease_ttl).await {
            Ok(true) => {}
            Ok(false) => return Outcome::Busy,
            Err(e) => {
                tracing::error!(%tenant_id, error = %e, "mail poller: could not take the lease");
                return Outcome::Failed;
            }
        }
        let result = self.read(tenant_id).await;
        let outcome = match result {
            Ok(Some(n)) => {
                if let Err(e) = self.repo.record_fetch_success(tenant_id, self.clock.now()).await {
                    tracing::error!(%tenant_id, error = %e, "mail poller: could not record success");
                }
                if n > 0 {
                    tracing::info!(%tenant_id, messages = n, "mail poller: new mail taken in");
                }
                Outcome::Polled(n)
            }
            Ok(None) => Outcome::Skipped,
            Err(e) => {
                let text = match e {
                    PollError::Mail(text) => text,
                    PollError::Store(e) => format!("the desk could not store the mail: {e}"),
                };
                let at = self.clock.now();
                let next = at + retry_delay(status.consecutive_failures);
                tracing::warn!(%tenant_id, error = %text, next_retry_at = %next, "mail poller: round failed");
                if let Err(e) = self.repo.record_fetch_failure(tenant_id, at, &text, next).await {
                    tracing::error!(%tenant_id, error = %e, "mail poller: could not record failure");
                }
                Outcome::Failed
            }
        };
        if let Err(e) = self.repo.release_lease(tenant_id, &self.holder).await {
            tracing::warn!(%tenant_id, error = %e, "mail poller: could not release the lease");
        }
        outcome
    }

    /// Reads one mailbox under its lease; `None` when it is no longer enabled.
    async fn read(&self, tenant_id: TenantId) -> Result<Option<usize>, PollError> {
        let Some(settings) = self.repo.mailbox_settings(tenant_id).await? else {
            return Ok(None);
        };
        if !settings.enabled {
            return Ok(None);
        }
        let endpoint = imap_endpoint(self.cipher.as_ref(), tenant_id, &settings)
            .map_err(|e| PollError::Mail(format!("the IMAP password cannot be used: {e}")))?;
        let mut cursor = self
            .repo
            .imap_cursor(tenant_id)
            .await?
            .map(|c| Cursor { uid_validity: c.uid_validity, last_uid: c.last_uid });
        let mut handed = 0;
        for _ in 0..self.config.max_batches {
            let fetched = self.fetcher.fetch(&endpoint, cursor).await.map_err(|e| {
                PollError::Mail(format!("IMAP: {} ({})", e.stage.describe(), e.message))
            })?;
            if fetched.renumbered {
                tracing::warn!(%tenant_id, "mail poller: the folder's UIDVALIDITY changed; reading it again from the start");
            }
            let uid_validity = fetched.cursor.uid_validity;
            for (uid, raw) in &fetched.messages {
                if self.stopping() {
                    return Ok(Some(handed));
                }
                match self.intake.take_in(tenant_id, raw).await {
                    Ok(_) => {}
                    Err(IntakeError::Rejected(reason)) => {
                        tracing::warn!(%tenant_id, uid, %reason, "mail poller: message rejected");
                    }
                    Err(IntakeError::Store(e)) => return Err(PollError::Store(e)),
                }
                self.repo
                    .set_imap_cursor(tenant_id, MailboxCursor { uid_validity, last_uid: *uid })
                    .await?;
                handed += 1;
            }
            let done = fetched.messages.is_empty();
            if cursor != Some(fetched.cursor) {
                let c = fetched.cursor;
                self.repo
                    .set_imap_cursor(
                        tenant_id,
                        MailboxCursor { uid_validity: c.uid_validity, last_uid: c.last_uid },
                    )
                    .await?;
            }
            cursor = Some(fetched.cursor);
            if done {
                break;
            }
            // Keep the lease for the next batch; if it was lost, stop (another poller reads).
            let now = self.clock.now();
            if !self.repo.try_lease(tenant_id, &self.holder, now, self.config.lease_ttl).await? {
                break;
            }
        }
        Ok(Some(handed))
    }

    /// Runs rounds every interval on the current tokio runtime until
    /// [`MailPollerHandle::shutdown`].
    ///
    /// # Panics
    /// When called outside a tokio runtime.
    #[must_use]
    pub fn spawn(self: Arc<Self>) -> MailPollerHandle {
        let poller = self.clone();
        let handle = tokio::spawn(async move {
            tracing::info!(interval = ?poller.config.interval, "mail poller started");
            while !poller.stopping() {
                poller.round().await;
                tokio::select! {
                    () = tokio::time::sleep(poller.config.interval) => {}
                    () = poller.wake.notified() => {}
                }
            }
        });
        MailPollerHandle { poller: self, handle }
    }
}

/// A running poller; stop it with [`MailPollerHandle::shutdown`].
pub struct MailPollerHandle {
    poller: Arc<MailPoller>,
    handle: JoinHandle<()>,
}

impl MailPollerHandle {
    /// Asks the poller to stop and waits: it finishes the message it is handing over, records
    /// where it stopped and releases its lease.
    pub async fn shutdown(self) {
        self.poller.stopping.store(true, Ordering::Relaxed);
        self.poller.wake.notify_one();
        if let Err(e) = self.handle.await {
            tracing::error!(error = %e, "mail poller ended abnormally");
        }
        tracing::info!("mail poller stopped");
    }
}
