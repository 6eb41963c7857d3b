//! The IMAP poller: reads each enabled mailbox after its cursor and hands the new messages, in
//! UID order, to the mail intake, as soon as they arrive where the server supports IMAP IDLE and
//! every interval otherwise.
//!
//! Several server processes may share a store: a mailbox is read only under its lease
//! ([`MailboxRepository::try_lease`]), so one process reads it at a time. The cursor moves past a
//! message only once the intake has dealt with it (taken in, recognised as a duplicate, ignored
//! or rejected as unusable); a store failure stops the mailbox's round with the cursor before
//! that message, so it is handed over again next time. A UIDVALIDITY change reads the folder
//! from the start; the intake recognises what it already has by Message-ID. Failures are
//! recorded in the mailbox status and retried with back-off (30 s doubling up to 15 minutes).
//!
//! IDLE: after a mailbox was read without error, the poller (when [`MailPollerConfig::idle`] is
//! on) keeps the mailbox's lease and opens an IDLE session on its folder
//! ([`MailFetcher::watch`]). When the server reports new mail the folder is read at once; the
//! lease is renewed and IDLE re-issued at least every third of the lease time (well inside the
//! server's 29-minute IDLE limit), so other processes keep finding the mailbox busy. A server
//! without the IDLE capability, a dropped connection or any failure ends the IDLE session and
//! releases the lease: the mailbox is then polled every interval again (failures recorded with
//! the same back-off), and IDLE is tried again after its next good round.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsflow_domain::TenantId;
use opsflow_domain::mailbox::retry_delay;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::auth::Clock;
use crate::cipher::SecretCipher;
use crate::mail::{Cursor, ImapEndpoint, MailFetcher};
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
    /// Keep an IMAP IDLE session on mailboxes whose server supports it (`OPSFLOW_MAIL_IDLE`).
    pub idle: bool,
}

impl MailPollerConfig {
    /// How long one IDLE wait lasts before the lease is renewed and IDLE re-issued: a third of
    /// the lease time, and never more than 25 minutes (servers end IDLE after about 29).
    #[must_use]
    pub fn idle_renew_every(&self) -> Duration {
        let third = Duration::try_from(self.lease_ttl / 3).unwrap_or(Duration::from_secs(1));
        third.clamp(Duration::from_secs(1), Duration::from_secs(25 * 60))
    }
}

impl Default for MailPollerConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            lease_ttl: time::Duration::minutes(5),
            max_batches: 20,
            idle: true,
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

/// Why an IDLE session ended without a failure.
enum IdleEnd {
    /// The server does not advertise IDLE.
    Unsupported,
    /// Shutting down.
    Stopped,
    /// Another poller holds the lease now.
    LeaseLost,
    /// The mailbox was disabled or its inbound settings changed.
    SettingsChanged,
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
    /// Tells IDLE sessions to end (`true` once stopping).
    stop: tokio::sync::watch::Sender<bool>,
    /// Mailboxes this poller holds an IDLE session on, with their tasks.
    idling: Mutex<HashMap<TenantId, JoinHandle<()>>>,
    /// Mailboxes whose server (at that address) does not advertise IDLE.
    no_idle: Mutex<HashSet<(TenantId, String, u16)>>,
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
            stop: tokio::sync::watch::Sender::new(false),
            idling: Mutex::new(HashMap::new()),
            no_idle: Mutex::new(HashSet::new()),
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

    /// The mailboxes this poller currently holds an IMAP IDLE session on.
    #[must_use]
    pub fn idle_sessions(&self) -> Vec<TenantId> {
        self.idling
            .lock()
            .map(|m| m.iter().filter(|(_, h)| !h.is_finished()).map(|(t, _)| *t).collect())
            .unwrap_or_default()
    }

    fn is_idling(&self, tenant_id: TenantId) -> bool {
        self.idling.lock().is_ok_and(|m| m.get(&tenant_id).is_some_and(|h| !h.is_finished()))
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
            // Its IDLE session reads it as mail arrives.
            if self.is_idling(tenant_id) {
                continue;
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

    /// Starts an IDLE session on a mailbox that was just read, unless one runs already or its
    /// server is known not to support IDLE.
    fn start_idle(self: Arc<Self>, tenant_id: TenantId) {
        if self.stopping() {
            return;
        }
        let Ok(mut idling) = self.idling.lock() else { return };
        if idling.get(&tenant_id).is_some_and(|h| !h.is_finished()) {
            return;
        }
        let poller = self.clone();
        let handle = tokio::spawn(async move { poller.idle(tenant_id).await });
        idling.insert(tenant_id, handle);
    }

    /// One mailbox's IDLE session, from taking the lease to releasing it.
    async fn idle(&self, tenant_id: TenantId) {
        match self.try_idle(tenant_id).await {
            Ok(IdleEnd::Unsupported) => {
                tracing::info!(%tenant_id, "mail poller: the server does not support IDLE; polling");
            }
            Ok(IdleEnd::LeaseLost) => {
                tracing::info!(%tenant_id, "mail poller: another poller holds the mailbox now");
                // The lease is someone else's: nothing to release.
                return;
            }
            Ok(IdleEnd::Stopped | IdleEnd::SettingsChanged) => {}
            Err(e) => {
                let text = match e {
                    PollError::Mail(text) => text,
                    PollError::Store(e) => format!("the desk could not store the mail: {e}"),
                };
                let failures = match self.repo.mailbox_status(tenant_id).await {
                    Ok(s) => s.consecutive_failures,
                    Err(_) => 0,
                };
                let at = self.clock.now();
                let next = at + retry_delay(failures);
                tracing::warn!(%tenant_id, error = %text, next_retry_at = %next, "mail poller: IDLE session failed; polling");
                if let Err(e) = self.repo.record_fetch_failure(tenant_id, at, &text, next).await {
                    tracing::error!(%tenant_id, error = %e, "mail poller: could not record failure");
                }
            }
        }
        if let Err(e) = self.repo.release_lease(tenant_id, &self.holder).await {
            tracing::warn!(%tenant_id, error = %e, "mail poller: could not release the lease");
        }
    }

    /// The inbound endpoint of an enabled mailbox, or `None`.
    async fn endpoint(&self, tenant_id: TenantId) -> Result<Option<ImapEndpoint>, PollError> {
        let Some(settings) = self.repo.mailbox_settings(tenant_id).await? else {
            return Ok(None);
        };
        if !settings.enabled {
            return Ok(None);
        }
        imap_endpoint(self.cipher.as_ref(), tenant_id, &settings)
            .map(Some)
            .map_err(|e| PollError::Mail(format!("the IMAP password cannot be used: {e}")))
    }

    async fn try_idle(&self, tenant_id: TenantId) -> Result<IdleEnd, PollError> {
        let lease = |now| self.repo.try_lease(tenant_id, &self.holder, now, self.config.lease_ttl);
        if !lease(self.clock.now()).await? {
            return Ok(IdleEnd::LeaseLost);
        }
        let Some(endpoint) = self.endpoint(tenant_id).await? else {
            return Ok(IdleEnd::SettingsChanged);
        };
        let key = (tenant_id, endpoint.host.clone(), endpoint.port);
        if self.no_idle.lock().is_ok_and(|s| s.contains(&key)) {
            return Ok(IdleEnd::Unsupported);
        }
        let watch = self.fetcher.watch(&endpoint).await.map_err(|e| {
            PollError::Mail(format!("IMAP IDLE: {} ({})", e.stage.describe(), e.message))
        })?;
        let Some(mut watch) = watch else {
            if let Ok(mut s) = self.no_idle.lock() {
                s.insert(key);
            }
            return Ok(IdleEnd::Unsupported);
        };
        tracing::info!(%tenant_id, "mail poller: IDLE session open");
        let mut stop = self.stop.subscribe();
        let result = async {
            // Mail that came between the last round and the IDLE session is read first.
            let mut changed = true;
            loop {
                if changed {
                    let n = self.read(tenant_id).await?.unwrap_or(0);
                    if n > 0 {
                        tracing::info!(%tenant_id, messages = n, "mail poller: new mail taken in");
                    }
                }
                self.repo.record_fetch_success(tenant_id, self.clock.now()).await?;
                if self.stopping() {
                    return Ok(IdleEnd::Stopped);
                }
                changed = tokio::select! {
                    r = watch.wait(self.config.idle_renew_every()) => r.map_err(|e| {
                        PollError::Mail(format!("IMAP IDLE: {} ({})", e.stage.describe(), e.message))
                    })?,
                    _ = stop.wait_for(|s| *s) => return Ok(IdleEnd::Stopped),
                };
                if !lease(self.clock.now()).await? {
                    return Ok(IdleEnd::LeaseLost);
                }
                if self.endpoint(tenant_id).await?.as_ref() != Some(&endpoint) {
                    return Ok(IdleEnd::SettingsChanged);
                }
            }
        }
        .await;
        watch.close().await;
        result
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
        let Some(endpoint) = self.endpoint(tenant_id).await? else {
            return Ok(None);
        };
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
                let report = poller.round().await;
                if poller.config.idle {
                    for tenant_id in report.polled {
                        poller.clone().start_idle(tenant_id);
                    }
                }
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
    /// where it stopped, ends its IDLE sessions and releases its leases.
    pub async fn shutdown(self) {
        self.poller.stopping.store(true, Ordering::Relaxed);
        self.poller.stop.send_replace(true);
        self.poller.wake.notify_one();
        if let Err(e) = self.handle.await {
            tracing::error!(error = %e, "mail poller ended abnormally");
        }
        let sessions: Vec<JoinHandle<()>> = self
            .poller
            .idling
            .lock()
            .map(|mut m| m.drain().map(|(_, h)| h).collect())
            .unwrap_or_default();
        for session in sessions {
            if let Err(e) = session.await {
                tracing::error!(error = %e, "mail poller: an IDLE session ended abnormally");
            }
        }
        tracing::info!("mail poller stopped");
    }
}
