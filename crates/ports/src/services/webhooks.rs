//! Signed webhooks: endpoint management for admins, the emitter the ticket, reply, intake and
//! triage services call after their writes, and the workers that deliver queued messages.
//!
//! **Queueing.** Messages are queued right after the write they report commits, not in its
//! transaction: the event sources (ticket create/update, replies, email intake, triage) span
//! five store methods on two backends, and the emitter must read the workspace's endpoints
//! first. If the process dies between the commit and the queueing (a few milliseconds), that
//! event is not delivered; everything queued is delivered at least once. See `docs/webhooks.md`.
//!
//! **Delivery.** Workers of every server process claim due messages under a lease (one
//! `UPDATE … RETURNING` / `findOneAndUpdate`), resolve and check the endpoint's address
//! (SSRF: no private, loopback, link-local … addresses unless the operator allows them), sign
//! the body per Standard Webhooks, POST it, and record the outcome: 2xx succeeded; anything
//! else retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then failed. After
//! [`DISABLE_AFTER_FAILURES`] failed attempts in a row the endpoint is disabled with a reason.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use opsflow_domain::webhook::{
    AttemptOutcome, DISABLE_AFTER_FAILURES, MAX_DESCRIPTION_CHARS, WebhookDelivery,
    WebhookDeliveryId, WebhookEndpoint, WebhookEndpointId, WebhookEventType, WebhookEvents,
    WebhookUrl, message_body,
};
use opsflow_domain::{
    AuditKind, DetailKey, Page, TenantId, TenantScope, Ticket, TicketReply, WorkflowRun,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::auth::Clock;
use crate::cipher::SecretCipher;
use crate::error::{AppError, AppResult, Entity, require_admin};
use crate::repos::{DeliveryQuery, RepoError, WebhookRepository};
use crate::services::audit::AuditLog;
use crate::services::auth::AuthContext;
use crate::webhooks::{
    HostResolver, WebhookRequest, WebhookSender, checked_addresses, generate_secret, sign,
};

/// Settings of webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Allow endpoints on private, loopback and other non-public addresses
    /// (`OPSFLOW_WEBHOOKS_ALLOW_PRIVATE`; off by default).
    pub allow_private: bool,
    /// Workers in this process (0: this process does not deliver).
    pub workers: usize,
    /// How long an idle worker waits before looking again.
    pub poll_interval: StdDuration,
    /// How long a claimed message is held (longer than the 10 s request timeout).
    pub lease: Duration,
    /// Failed attempts in a row that disable an endpoint.
    pub disable_after: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            workers: 2,
            poll_interval: StdDuration::from_secs(2),
            lease: Duration::minutes(1),
            disable_after: DISABLE_AFTER_FAILURES,
        }
    }
}

/// The ports webhooks need besides the store.
#[derive(Clone)]
pub struct WebhookDeps {
    /// Resolves endpoint host names (registration and delivery checks).
    pub resolver: Arc<dyn HostResolver>,
    /// Sends the signed POSTs.
    pub sender: Arc<dyn WebhookSender>,
    /// Delivery settings.
    pub config: WebhookConfig,
}

/// A new or changed endpoint, as an admin entered it.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    /// The URL.
    pub url: WebhookUrl,
    /// A note.
    pub description: String,
    /// The subscribed events.
    pub events: WebhookEvents,
}

/// A change to an endpoint: only the given parts change.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    /// New URL.
    pub url: Option<WebhookUrl>,
    /// New note.
    pub description: Option<String>,
    /// New events.
    pub events: Option<WebhookEvents>,
    /// Enable (resets the failure count and the disabled reason) or disable.
    pub enabled: Option<bool>,
}

/// An endpoint with the secret shown once (create, rotate).
#[derive(Debug, Clone)]
pub struct EndpointWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Its signing secret (`whsec_…`); never shown again.
    pub secret: String,
}

fn secret_context(tenant_id: TenantId, id: WebhookEndpointId) -> Vec<u8> {
    format!("webhook:{tenant_id}:{id}").into_bytes()
}

/// Queues webhook messages for the events of a workspace. Cheap to clone.
#[derive(Clone)]
pub struct WebhookEmitter {
    repo: Arc<dyn WebhookRepository>,
    clock: Arc<dyn Clock>,
    queued: Arc<Notify>,
}

impl WebhookEmitter {
    /// An emitter on the store's queue; `queued` wakes this process's workers.
    pub fn new(
        repo: Arc<dyn WebhookRepository>,
        clock: Arc<dyn Clock>,
        queued: Arc<Notify>,
    ) -> Self {
        Self { repo, clock, queued }
    }

    /// The signal the workers wait on.
    #[must_use]
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.queued)
    }

    /// Queues one message per enabled endpoint subscribed to `event`. Never fails: the write
    /// being reported already committed, so an error is logged (see the module documentation).
    pub async fn emit(&self, scope: &TenantScope, event: WebhookEventType, data: Value) {
        if let Err(e) = self.try_emit(scope, event, data).await {
            tracing::error!(
                tenant_id = %scope.tenant_id(),
                event = %event,
                error = %e,
                "could not queue webhook messages; the event will not be delivered"
            );
        }
    }

    async fn try_emit(
        &self,
        scope: &TenantScope,
        event: WebhookEventType,
        data: Value,
    ) -> Result<usize, RepoError> {
        let endpoints = self.repo.list_webhooks(scope).await?;
        let now = self.clock.now();
        let body = message_body(event, now, data);
        let deliveries: Vec<WebhookDelivery> = endpoints
            .iter()
            .filter(|e| e.enabled && e.events.includes(event))
            .map(|e| WebhookDelivery::queued(e, event, body.clone(), now))
            .collect();
        if deliveries.is_empty() {
            return Ok(0);
        }
        self.repo.enqueue_webhooks(scope, &deliveries).await?;
        self.queued.notify_waiters();
        tracing::debug!(tenant_id = %scope.tenant_id(), event = %event, n = deliveries.len(), "webhooks queued");
        Ok(deliveries.len())
    }

    /// `ticket.created`.
    pub async fn ticket_created(&self, scope: &TenantScope, ticket: &Ticket) {
        self.emit(scope, WebhookEventType::TicketCreated, json!({ "ticket": ticket_data(ticket) }))
            .await;
    }

    /// `ticket.updated`, with the names of the changed fields.
    pub async fn ticket_updated(&self, scope: &TenantScope, ticket: &Ticket, changed: &[&str]) {
        self.emit(
            scope,
            WebhookEventType::TicketUpdated,
            json!({ "ticket": ticket_data(ticket), "changed": changed }),
        )
        .await;
    }

    /// `reply.created` (sent replies by people and customers' emailed replies).
    pub async fn reply_created(&self, scope: &TenantScope, reply: &TicketReply) {
        self.emit(
            scope,
            WebhookEventType::ReplyCreated,
            json!({ "reply": {
                "id": reply.id,
                "ticket_id": reply.ticket_id,
                "author_type": reply.author_type.as_str(),
                "author_id": reply.author_id,
                "body": reply.body.as_str(),
                "created_at": rfc3339(reply.created_at),
            } }),
        )
        .await;
    }

    /// `triage.completed`.
    pub async fn triage_completed(&self, scope: &TenantScope, run: &WorkflowRun, ticket: &Ticket) {
        self.emit(
            scope,
            WebhookEventType::TriageCompleted,
            json!({
                "workflow_run_id": run.id,
                "status": run.status.as_str(),
                "ticket": ticket_data(ticket),
            }),
        )
        .await;
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The `ticket` object of a message.
#[must_use]
pub fn ticket_data(t: &Ticket) -> Value {
    json!({
        "id": t.id,
        "number": t.number,
        "subject": t.subject.as_str(),
        "body": t.body.as_str(),
        "channel": t.channel.as_str(),
        "status": t.status.as_str(),
        "priority": t.priority.map(|p| p.as_str()),
        "category": t.category.map(|c| c.as_str()),
        "customer": { "name": t.customer_name.as_str(), "email": t.customer_email.as_str() },
        "assignee_id": t.assignee_id,
        "created_at": rfc3339(t.created_at),
        "updated_at": rfc3339(t.updated_at),
    })
}

/// Admins' management of the workspace's webhook endpoints and their delivery log.
pub struct WebhookService {
    repo: Arc<dyn WebhookRepository>,
    cipher: Arc<dyn SecretCipher>,
    resolver: Arc<dyn HostResolver>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    emitter: WebhookEmitter,
    allow_private: bool,
}

impl WebhookService {
    /// Wires the service.
    pub fn new(
        repo: Arc<dyn WebhookRepository>,
        cipher: Arc<dyn SecretCipher>,
        resolver: Arc<dyn HostResolver>,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
        emitter: WebhookEmitter,
        allow_private: bool,
    ) -> Self {
        Self { repo, cipher, resolver, clock, audit, emitter, allow_private }
    }

    /// The emitter the other services report events to.
    #[must_use]
    pub fn emitter(&self) -> WebhookEmitter {
        self.emitter.clone()
    }

    async fn check_url(&self, url: &WebhookUrl) -> AppResult<()> {
        checked_addresses(self.resolver.as_ref(), url, self.allow_private)
            .await
            .map(|_| ())
            .map_err(|e| AppError::field("url", e))
    }

    fn check_description(description: &str) -> AppResult<String> {
        let d = description.trim();
        if d.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(AppError::field(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        Ok(d.to_owned())
    }

    /// The workspace's endpoints, oldest first (admin only).
    ///
    /// # Errors
    /// `Forbidden`, `Unexpected`.
    pub async fn list(&self, scope: &TenantScope) -> AppResult<Vec<WebhookEndpoint>> {
        require_admin(scope)?;
        Ok(self.repo.list_webhooks(scope).await?)
    }

    /// One endpoint (admin only).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn get(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
    ) -> AppResult<WebhookEndpoint> {
        require_admin(scope)?;
        self.repo.get_webhook(scope, id).await.map_err(AppError::from_repo(Entity::Webhook))
    }

    /// Registers an endpoint, enabled, with a new secret (shown once). The URL's host must
    /// resolve to public addresses only, unless the operator allows private ones.
    ///
    /// # Errors
    /// `Forbidden`; `Validation` (`url`, `description`); `Unexpected`.
    pub async fn create(
        &self,
        ctx: &AuthContext,
        input: EndpointInput,
    ) -> AppResult<EndpointWithSecret> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let description = Self::check_description(&input.description)?;
        self.check_url(&input.url).await?;
        let now = self.clock.now();
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::new(),
            tenant_id: scope.tenant_id(),
            url: input.url,
            description,
            events: input.events,
            enabled: true,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        };
        let secret = generate_secret();
        let sealed = self
            .cipher
            .seal(&secret, &secret_context(endpoint.tenant_id, endpoint.id))
            .map_err(AppError::unexpected)?;
        self.repo.create_webhook(scope, &endpoint, &sealed).await?;
        let event = ctx
            .event(AuditKind::WebhookCreated, now)
            .with(DetailKey::Webhook, endpoint.url.as_str());
        self.audit.record(scope, event).await;
        tracing::info!(tenant_id = %scope.tenant_id(), webhook_id = %endpoint.id, "webhook endpoint created");
        Ok(EndpointWithSecret { endpoint, secret })
    }

    /// Changes an endpoint. Enabling it clears the failure count and the disabled reason.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Validation` (`url`, `description`), `Unexpected`.
    pub async fn update(
        &self,
        ctx: &AuthContext,
        id: WebhookEndpointId,
        patch: EndpointPatch,
    ) -> AppResult<WebhookEndpoint> {
        let scope = &ctx.scope;
        let mut endpoint = self.get(scope, id).await?;
        let mut changed = Vec::new();
        if let Some(url) = patch.url
            && url != endpoint.url
        {
            self.check_url(&url).await?;
            endpoint.url = url;
            changed.push("url");
        }
        if let Some(d) = patch.description {
            let d = Self::check_description(&d)?;
            if d != endpoint.description {
                endpoint.description = d;
                changed.push("description");
            }
        }
        if let Some(events) = patch.events
            && events != endpoint.events
        {
            endpoint.events = events;
            changed.push("events");
        }
        if let Some(enabled) = patch.enabled {
            if enabled != endpoint.enabled {
                changed.push("enabled");
            }
            if enabled {
                endpoint.consecutive_failures = 0;
                endpoint.disabled_reason = None;
            }
            endpoint.enabled = enabled;
        }
        endpoint.updated_at = self.clock.now();
        self.repo
            .update_webhook(scope, &endpoint)
            .await
            .map_err(AppError::from_repo(Entity::Webhook))?;
        if !changed.is_empty() {
            let event = ctx
                .event(AuditKind::WebhookUpdated, endpoint.updated_at)
                .with(DetailKey::Webhook, endpoint.url.as_str())
                .with(DetailKey::Fields, changed.join(","));
            self.audit.record(scope, event).await;
        }
        Ok(endpoint)
    }

    /// Deletes an endpoint and its messages.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn delete(&self, ctx: &AuthContext, id: WebhookEndpointId) -> AppResult<()> {
        let scope = &ctx.scope;
        let endpoint = self.get(scope, id).await?;
        self.repo.delete_webhook(scope, id).await.map_err(AppError::from_repo(Entity::Webhook))?;
        let event = ctx
            .event(AuditKind::WebhookDeleted, self.clock.now())
            .with(DetailKey::Webhook, endpoint.url.as_str());
        self.audit.record(scope, event).await;
        Ok(())
    }

    /// Replaces the signing secret; the new one is shown once. Messages not yet sent are
    /// signed with the new secret.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn rotate_secret(
        &self,
        ctx: &AuthContext,
        id: WebhookEndpointId,
    ) -> AppResult<EndpointWithSecret> {
        let scope = &ctx.scope;
        let endpoint = self.get(scope, id).await?;
        let secret = generate_secret();
        let sealed = self
            .cipher
            .seal(&secret, &secret_context(endpoint.tenant_id, endpoint.id))
            .map_err(AppError::unexpected)?;
        let now = self.clock.now();
        self.repo
            .set_webhook_secret(scope, id, &sealed, now)
            .await
            .map_err(AppError::from_repo(Entity::Webhook))?;
        let event = ctx
            .event(AuditKind::WebhookSecretRotated, now)
            .with(DetailKey::Webhook, endpoint.url.as_str());
        self.audit.record(scope, event).await;
        Ok(EndpointWithSecret { endpoint, secret })
    }

    /// Queues a `webhook.test` message to the endpoint (whatever it subscribes to).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn send_test(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
    ) -> AppResult<WebhookDelivery> {
        let endpoint = self.get(scope, id).await?;
        let now = self.clock.now();
        let body = message_body(
            WebhookEventType::WebhookTest,
            now,
            json!({ "webhook_id": endpoint.id, "message": "This is a test message from OpsFlow." }),
        );
        let delivery = WebhookDelivery::queued(&endpoint, WebhookEventType::WebhookTest, body, now);
        self.repo.enqueue_webhooks(scope, std::slice::from_ref(&delivery)).await?;
        self.emitter.queued.notify_waiters();
        Ok(delivery)
    }

    /// A page of the endpoint's messages, newest first.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn deliveries(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
        query: &DeliveryQuery,
    ) -> AppResult<Page<WebhookDelivery>> {
        require_admin(scope)?;
        self.repo
            .list_webhook_deliveries(scope, id, query)
            .await
            .map_err(AppError::from_repo(Entity::Webhook))
    }

    /// Sends a finished message again, now.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound` (`webhook_delivery`), `Conflict` (`webhook_delivery_pending`),
    /// `Unexpected`.
    pub async fn retry(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
        delivery: WebhookDeliveryId,
    ) -> AppResult<WebhookDelivery> {
        require_admin(scope)?;
        let d = self
            .repo
            .retry_webhook_delivery(scope, id, delivery, self.clock.now())
            .await
            .map_err(AppError::from_repo(Entity::WebhookDelivery))?;
        self.emitter.queued.notify_waiters();
        Ok(d)
    }
}

/// Delivers queued messages. Shared by the workers of a process (tests step it with
/// [`WebhookWorker::run_once`]).
pub struct WebhookWorker {
    repo: Arc<dyn WebhookRepository>,
    cipher: Arc<dyn SecretCipher>,
    deps: WebhookDeps,
    clock: Arc<dyn Clock>,
    queued: Arc<Notify>,
}

impl WebhookWorker {
    /// A worker on the store's queue.
    pub fn new(
        repo: Arc<dyn WebhookRepository>,
        cipher: Arc<dyn SecretCipher>,
        deps: WebhookDeps,
        clock: Arc<dyn Clock>,
        queued: Arc<Notify>,
    ) -> Self {
        Self { repo, cipher, deps, clock, queued }
    }

    /// Claims one due message and tries it. `Ok(None)` when nothing is due.
    ///
    /// # Errors
    /// `Unexpected` when the claim fails; a failure to record the outcome is logged (the
    /// message is claimed again after its lease).
    pub async fn run_once(&self) -> Result<Option<AttemptOutcome>, RepoError> {
        let Some(claimed) =
            self.repo.claim_next_webhook(self.clock.now(), self.deps.config.lease).await?
        else {
            return Ok(None);
        };
        let d = &claimed.delivery;
        let outcome = self.attempt(&claimed).await;
        let recorded = self
            .repo
            .record_webhook_attempt(
                d.tenant_id,
                d.id,
                d.attempts,
                &outcome,
                self.clock.now(),
                self.deps.config.disable_after,
            )
            .await;
        match recorded {
            Ok(Some(endpoint)) if !endpoint.enabled && claimed.endpoint.enabled => {
                tracing::warn!(
                    tenant_id = %d.tenant_id,
                    webhook_id = %endpoint.id,
                    failures = endpoint.consecutive_failures,
                    "webhook endpoint disabled after repeated failures"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(
                tenant_id = %d.tenant_id,
                webhook_message = %d.id,
                error = %e,
                "could not record a webhook attempt; it is tried again after its lease"
            ),
        }
        Ok(Some(outcome))
    }

    /// Runs [`WebhookWorker::run_once`] until nothing is due; returns how many were tried.
    ///
    /// # Errors
    /// As for [`WebhookWorker::run_once`].
    pub async fn drain(&self) -> Result<usize, RepoError> {
        let mut n = 0;
        while self.run_once().await?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    async fn attempt(&self, claimed: &crate::repos::ClaimedWebhook) -> AttemptOutcome {
        let d = &claimed.delivery;
        let now = self.clock.now();
        let fail = |status: Option<u16>, error: &str, excerpt: Option<String>, give_up: bool| {
            AttemptOutcome::failed(d.attempts, now, status, error, excerpt, give_up)
        };
        if !claimed.endpoint.enabled {
            return fail(None, "the endpoint is disabled", None, true);
        }
        let secret = match self
            .cipher
            .open(&claimed.sealed_secret, &secret_context(d.tenant_id, d.endpoint_id))
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(tenant_id = %d.tenant_id, error = %e, "cannot open a webhook secret");
                return fail(None, "the signing secret cannot be read on this server", None, false);
            }
        };
        let url = &claimed.endpoint.url;
        let addresses = match checked_addresses(
            self.deps.resolver.as_ref(),
            url,
            self.deps.config.allow_private,
        )
        .await
        {
            Ok(a) => a,
            Err(e) => return fail(None, &e.to_string(), None, false),
        };
        let msg_id = d.id.to_string();
        let timestamp = now.unix_timestamp();
        let signature = match sign(&secret, &msg_id, timestamp, d.payload.as_bytes()) {
            Ok(s) => s,
            Err(e) => return fail(None, &e.to_string(), None, false),
        };
        let request = WebhookRequest {
            url: url.clone(),
            addresses,
            headers: vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("webhook-id".to_owned(), msg_id),
                ("webhook-timestamp".to_owned(), timestamp.to_string()),
                ("webhook-signature".to_owned(), signature),
            ],
            body: d.payload.clone(),
        };
        match self.deps.sender.post(&request).await {
            Ok(r) if (200..300).contains(&r.status) => {
                tracing::info!(
                    tenant_id = %d.tenant_id,
                    webhook_message = %d.id,
                    status = r.status,
                    attempt = d.attempts,
                    "webhook delivered"
                );
                AttemptOutcome::succeeded(r.status, Some(r.excerpt))
            }
            Ok(r) => {
                let error = format!("the endpoint answered HTTP {}", r.status);
                fail(Some(r.status), &error, Some(r.excerpt), false)
            }
            Err(e) => fail(None, &e, None, false),
        }
    }
}

/// A running pool of webhook workers; stop it with [`WebhookWorkerPool::shutdown`].
pub struct WebhookWorkerPool {
    shutdown: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl WebhookWorkerPool {
    /// Spawns `workers` workers sharing `worker`.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    #[must_use]
    pub fn spawn(worker: Arc<WebhookWorker>, workers: usize, poll_interval: StdDuration) -> Self {
        let (shutdown, stop) = watch::channel(false);
        let handles = (0..workers)
            .map(|n| tokio::spawn(work(n, Arc::clone(&worker), poll_interval, stop.clone())))
            .collect();
        Self { shutdown, handles }
    }

    /// Stops the workers (each finishes its current attempt).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for handle in self.handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "webhook worker ended abnormally");
            }
        }
    }
}

async fn work(
    n: usize,
    worker: Arc<WebhookWorker>,
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
            Err(e) => tracing::error!(worker = n, error = %e, "could not claim a webhook message"),
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
