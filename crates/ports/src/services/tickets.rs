//! Tickets and their replies.

use std::collections::HashMap;
use std::sync::Arc;

use opsflow_domain::email::{Mailbox, OutboundEmail, reply_subject};
use opsflow_domain::outbox::{Delivery, OutboxMessage, reply_message_id};
use opsflow_domain::{
    AuthorType, Channel, Email, PersonName, ReplyBody, ReplyId, TenantScope, Ticket, TicketBody,
    TicketId, TicketListPage, TicketPatch, TicketQuery, TicketRef, TicketReply, TicketStatus,
    TicketSubject, TicketView, UserId, WorkflowRun,
};

use futures::StreamExt as _;

use opsflow_domain::guardrails::check_reply_with;
use opsflow_domain::policy::ForbiddenCommitments;
use opsflow_domain::{AuditEvent, AuditKind, DetailKey, GuardrailFlag};

use crate::auth::Clock;
use crate::error::{AppError, AppResult, Entity};
use crate::repos::RepoError;
use crate::repos::{
    OutboxRepository, ReplyRepository, TenantRepository, TicketRepository, UserRepository,
    WorkflowRepository,
};
use crate::services::audit::AuditLog;
use crate::services::auto_triage::ArrivalTriage;
use crate::services::outbox::{OutboundConfigSource, ThreadIdSource, sender_mailbox};
use crate::services::webhooks::WebhookEmitter;

/// A new ticket.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Subject.
    pub subject: TicketSubject,
    /// Body.
    pub body: TicketBody,
    /// Channel (defaults to web at the edge).
    pub channel: Channel,
    /// Customer's name.
    pub customer_name: PersonName,
    /// Customer's email.
    pub customer_email: Email,
}

/// A manual reply (also "Save & Mark Replied").
#[derive(Debug, Clone)]
pub struct NewReply {
    /// Text.
    pub body: ReplyBody,
    /// Ticket status to set in the same transaction.
    pub status: Option<TicketStatus>,
    /// The AI draft this reply replaces; it is removed in the same transaction (the original
    /// draft text stays in the workflow run's `reply_draft` step).
    pub draft_id: Option<ReplyId>,
    /// The sender saw the guardrail warning for this text and sends it anyway.
    pub confirm_warnings: bool,
}

/// A view of the ticket list with its filter and count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewCount {
    /// Which view.
    pub view: TicketView,
    /// Its filter and order for the caller.
    pub query: TicketQuery,
    /// How many tickets it shows.
    pub count: u64,
}

/// A ticket with its thread and latest triage run.
#[derive(Debug, Clone)]
pub struct TicketDetail {
    /// The ticket.
    pub ticket: Ticket,
    /// Replies, oldest first.
    pub replies: Vec<TicketReply>,
    /// The newest triage run, if any.
    pub latest_run: Option<WorkflowRun>,
    /// For an email ticket, what happened to the email of each sent reply by a person (replies
    /// of other tickets, drafts and customer messages have no entry).
    pub deliveries: HashMap<ReplyId, ReplyDelivery>,
}

/// Whether and how a sent reply reached the customer by email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyDelivery {
    /// An email ticket's reply that was recorded only: no mailbox was connected when it was sent.
    NotEmailed,
    /// Its email in the outbox.
    Email(Delivery),
}

/// A reply just added, with what happens to its email.
#[derive(Debug, Clone)]
pub struct SentReply {
    /// The reply.
    pub reply: TicketReply,
    /// `None` on tickets of other channels (nothing is emailed); for email tickets the queued
    /// email or [`ReplyDelivery::NotEmailed`].
    pub delivery: Option<ReplyDelivery>,
}

/// Works tickets in the caller's workspace.
pub struct TicketService {
    tickets: Arc<dyn TicketRepository>,
    replies: Arc<dyn ReplyRepository>,
    users: Arc<dyn UserRepository>,
    runs: Arc<dyn WorkflowRepository>,
    clock: Arc<dyn Clock>,
    audit: Option<AuditLog>,
    email: Option<EmailPorts>,
    arrival: Option<ArrivalTriage>,
    tenants: Option<Arc<dyn TenantRepository>>,
    webhooks: Option<WebhookEmitter>,
}

/// What replies on email tickets need: the outbox, where each workspace's mail goes, and the
/// thread's Message-IDs.
struct EmailPorts {
    outbox: Arc<dyn OutboxRepository>,
    outbound: Arc<dyn OutboundConfigSource>,
    threads: Arc<dyn ThreadIdSource>,
    queued: Arc<tokio::sync::Notify>,
}

impl TicketService {
    /// Wires the service to its ports.
    pub fn new(
        tickets: Arc<dyn TicketRepository>,
        replies: Arc<dyn ReplyRepository>,
        users: Arc<dyn UserRepository>,
        runs: Arc<dyn WorkflowRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tickets,
            replies,
            users,
            runs,
            clock,
            audit: None,
            email: None,
            arrival: None,
            tenants: None,
            webhooks: None,
        }
    }

    /// Reports ticket and reply events to the workspace's webhook endpoints.
    #[must_use]
    pub fn with_webhooks(mut self, emitter: WebhookEmitter) -> Self {
        self.webhooks = Some(emitter);
        self
    }

    /// Queues a triage run with every new ticket, per the workspace's auto-triage mode.
    #[must_use]
    pub fn with_auto_triage(mut self, arrival: ArrivalTriage) -> Self {
        self.arrival = Some(arrival);
        self
    }

    /// Records confirmed guardrail warnings in the workspace audit log.
    #[must_use]
    pub fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Checks human replies against the workspace's forbidden commitments too (its structured
    /// reply policies), as AI drafts are.
    #[must_use]
    pub fn with_policies(mut self, tenants: Arc<dyn TenantRepository>) -> Self {
        self.tenants = Some(tenants);
        self
    }

    /// The same guardrail check AI drafts get, for a reply a person is about to send: a
    /// commitment (refund, price, date, or one of the workspace's forbidden commitments) needs
    /// the sender's confirmation. Returns the flags that were confirmed (empty when the text is
    /// clean).
    ///
    /// # Errors
    /// `ReplyNeedsConfirmation` with the flags when the text is flagged and not confirmed;
    /// `NotFound`, `Unexpected` when the workspace's policies cannot be read.
    async fn check_guardrails(
        &self,
        scope: &TenantScope,
        input: &NewReply,
    ) -> AppResult<Vec<GuardrailFlag>> {
        let forbidden = match &self.tenants {
            Some(tenants) => {
                tenants
                    .get(scope)
                    .await
                    .map_err(AppError::from_repo(Entity::Tenant))?
                    .reply_policy
                    .forbidden_commitments
            }
            None => ForbiddenCommitments::default(),
        };
        let flags = check_reply_with(input.body.as_str(), &forbidden);
        if flags.is_empty() || input.confirm_warnings {
            Ok(flags)
        } else {
            Err(AppError::ReplyNeedsConfirmation(flags))
        }
    }

    /// Audits a sent reply whose guardrail warning the sender confirmed.
    async fn audit_confirmed(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        flags: &[GuardrailFlag],
    ) {
        let Some(audit) = &self.audit else { return };
        if flags.is_empty() {
            return;
        }
        let mut event =
            AuditEvent::new(scope.tenant_id(), AuditKind::ReplyWarningOverridden, self.clock.now())
                .with(
                    DetailKey::Flags,
                    flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","),
                );
        if let Ok(user) = self.users.get(scope, scope.user_id()).await {
            event = event.by(user.id, &user.email);
        }
        if let Ok(ticket) = self.tickets.get(scope, ticket_id).await {
            event = event.with(DetailKey::Ticket, format!("#{}", ticket.number));
        }
        audit.record(scope, event).await;
    }

    /// Emails replies on email tickets through the workspace's mailbox (`outbound`), queued in
    /// `outbox` with the reply. Without this (or with [`crate::services::outbox::NoOutboundMail`]) replies are recorded
    /// only. `queued` is notified after each queued email (the outbox workers wait on it).
    #[must_use]
    pub fn with_email(
        mut self,
        outbox: Arc<dyn OutboxRepository>,
        outbound: Arc<dyn OutboundConfigSource>,
        threads: Arc<dyn ThreadIdSource>,
        queued: Arc<tokio::sync::Notify>,
    ) -> Self {
        self.email = Some(EmailPorts { outbox, outbound, threads, queued });
        self
    }

    /// The signal the outbox workers wait on (see [`TicketService::with_email`]).
    #[must_use]
    pub fn email_queued_notifier(&self) -> Option<Arc<tokio::sync::Notify>> {
        self.email.as_ref().map(|e| Arc::clone(&e.queued))
    }

    /// Opens a ticket with status `new`, created by the caller.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn create(&self, scope: &TenantScope, input: NewTicket) -> AppResult<Ticket> {
        let now = self.clock.now();
        let mut ticket = Ticket {
            id: TicketId::new(),
            tenant_id: scope.tenant_id(),
            number: 0,
            subject: input.subject,
            body: input.body,
            channel: input.channel,
            status: TicketStatus::New,
            priority: None,
            category: None,
            customer_name: input.customer_name,
            customer_email: input.customer_email,
            assignee_id: None,
            created_by_id: Some(scope.user_id()),
            created_at: now,
            updated_at: now,
        };
        let run = match &self.arrival {
            Some(arrival) => arrival.plan(scope, &ticket).await?,
            None => None,
        };
        ticket.number = match &run {
            Some(run) => self.tickets.create_with_run(scope, &ticket, run).await?,
            None => self.tickets.create(scope, &ticket).await?,
        };
        if let (Some(run), Some(arrival)) = (&run, &self.arrival) {
            arrival.stored(run);
        }
        tracing::info!(
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket.id,
            number = ticket.number,
            "ticket created"
        );
        if let Some(w) = &self.webhooks {
            w.ticket_created(scope, &ticket).await;
        }
        Ok(ticket)
    }

    /// A filtered page of tickets in the query's order, with a capped count and the next
    /// page's cursor.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn list(
        &self,
        scope: &TenantScope,
        query: &TicketQuery,
    ) -> AppResult<TicketListPage> {
        Ok(self.tickets.list(scope, query).await?)
    }

    /// Every view of the ticket list with its filter (for the caller) and its exact count (one
    /// store count per view, run concurrently; see [`TicketRepository::count`]).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn views(&self, scope: &TenantScope) -> AppResult<Vec<ViewCount>> {
        let counts = TicketView::ALL.iter().map(|view| async move {
            let query = TicketQuery::for_view(*view, scope.user_id());
            let count = self.tickets.count(scope, &query).await?;
            Ok::<_, RepoError>(ViewCount { view: *view, query, count })
        });
        Ok(futures::future::try_join_all(counts).await?)
    }

    /// A ticket (by id or workspace number) with replies and its latest triage run.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    pub async fn get(&self, scope: &TenantScope, by: TicketRef) -> AppResult<TicketDetail> {
        let ticket = match by {
            TicketRef::Id(id) => self.tickets.get(scope, id).await,
            TicketRef::Number(n) => self.tickets.get_by_number(scope, n).await,
        }
        .map_err(AppError::from_repo(Entity::Ticket))?;
        let id = ticket.id;
        let (replies, runs) =
            futures::try_join!(self.replies.list(scope, id), self.runs.list_runs(scope, id))?;
        let mut deliveries = HashMap::new();
        if ticket.channel == Channel::Email {
            let mut emailed: HashMap<ReplyId, Delivery> = match &self.email {
                Some(email) => email
                    .outbox
                    .delivery_for_replies(scope, id)
                    .await?
                    .into_iter()
                    .map(|d| (d.reply_id, d))
                    .collect(),
                None => HashMap::new(),
            };
            for r in replies.iter().filter(|r| is_emailable(r)) {
                let d =
                    emailed.remove(&r.id).map_or(ReplyDelivery::NotEmailed, ReplyDelivery::Email);
                deliveries.insert(r.id, d);
            }
        }
        Ok(TicketDetail { ticket, replies, latest_run: runs.into_iter().next(), deliveries })
    }

    /// Changes status, priority, category or assignee. An assignee must be an active user of the
    /// same workspace.
    ///
    /// # Errors
    /// `Validation` (`assignee_id`), `NotFound`, `Unexpected`.
    pub async fn update(
        &self,
        scope: &TenantScope,
        id: TicketId,
        patch: TicketPatch,
    ) -> AppResult<Ticket> {
        self.check_assignee(scope, patch.assignee_id).await?;
        if patch.is_empty() {
            return self.tickets.get(scope, id).await.map_err(AppError::from_repo(Entity::Ticket));
        }
        let ticket = self
            .tickets
            .update(scope, id, &patch, self.clock.now())
            .await
            .map_err(AppError::from_repo(Entity::Ticket))?;
        if let Some(w) = &self.webhooks {
            w.ticket_updated(scope, &ticket, &changed_fields(&patch)).await;
        }
        Ok(ticket)
    }

    /// Applies one change (status, priority, category, assignee) to several tickets: each
    /// ticket is updated in its own transaction and gets its own result, in the order of `ids`
    /// (a ticket that is not in the workspace is `NotFound`, the others still change). The
    /// assignee is checked once, before anything changes.
    ///
    /// # Errors
    /// `Validation` (`changes`: empty or a subject/customer change; `assignee_id`), `Unexpected`
    /// only for a failure before any ticket was touched.
    pub async fn bulk_update(
        &self,
        scope: &TenantScope,
        ids: &[TicketId],
        changes: TicketPatch,
    ) -> AppResult<Vec<(TicketId, AppResult<Ticket>)>> {
        if changes.is_empty() {
            return Err(AppError::field("changes", "must change at least one field"));
        }
        if changes.changes_search_text() {
            return Err(AppError::field(
                "changes",
                "can change status, priority, category and assignee only",
            ));
        }
        self.check_assignee(scope, changes.assignee_id).await?;
        let now = self.clock.now();
        let changes = &changes;
        // Several tickets at a time (writes still serialise in the store); results in order.
        let results = futures::stream::iter(ids.iter().copied())
            .map(|id| async move {
                let result = self
                    .tickets
                    .update(scope, id, changes, now)
                    .await
                    .map_err(AppError::from_repo(Entity::Ticket));
                (id, result)
            })
            .buffered(8)
            .collect::<Vec<_>>()
            .await;
        if let Some(w) = &self.webhooks {
            let changed = changed_fields(changes);
            for (_, result) in &results {
                if let Ok(ticket) = result {
                    w.ticket_updated(scope, ticket, &changed).await;
                }
            }
        }
        Ok(results)
    }

    /// An assignee must be an active user of the workspace.
    async fn check_assignee(
        &self,
        scope: &TenantScope,
        assignee: Option<Option<UserId>>,
    ) -> AppResult<()> {
        if let Some(Some(user_id)) = assignee {
            match self.users.get(scope, user_id).await {
                Ok(u) if u.active => {}
                Ok(_) => return Err(AppError::field("assignee_id", "is a deactivated user")),
                Err(RepoError::NotFound) => {
                    return Err(AppError::field("assignee_id", "is not a user of this workspace"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Adds a human reply by the caller, optionally changing the status and replacing an AI
    /// draft, all in one transaction. On an email ticket whose workspace has a connected
    /// mailbox, the reply's email is queued in the same transaction (the outbox workers send
    /// it); without a mailbox it is recorded only ([`ReplyDelivery::NotEmailed`]).
    ///
    /// # Errors
    /// `NotFound` (ticket or draft), `Conflict` (`reply_not_draft`), `Unexpected`.
    pub async fn reply(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        input: NewReply,
    ) -> AppResult<SentReply> {
        let confirmed = self.check_guardrails(scope, &input).await?;
        let now = self.clock.now();
        let reply = TicketReply {
            id: ReplyId::new(),
            tenant_id: scope.tenant_id(),
            ticket_id,
            author_type: AuthorType::Human,
            author_id: Some(scope.user_id()),
            body: input.body,
            sent_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        let entity = if input.draft_id.is_some() { Entity::Reply } else { Entity::Ticket };
        let outgoing = self.outgoing_email(scope, &reply, entity).await?;
        let delivery = match (&outgoing, &self.email) {
            (Some(Some(message)), Some(email)) => {
                email
                    .outbox
                    .add_reply_with_email(scope, &reply, input.status, input.draft_id, message, now)
                    .await
                    .map_err(AppError::from_repo(entity))?;
                email.queued.notify_waiters();
                tracing::info!(
                    tenant_id = %scope.tenant_id(),
                    ticket_id = %ticket_id,
                    reply_id = %reply.id,
                    "reply queued for email"
                );
                Some(ReplyDelivery::Email(message.delivery()))
            }
            _ => {
                self.replies
                    .add(scope, &reply, input.status, input.draft_id, now)
                    .await
                    .map_err(AppError::from_repo(entity))?;
                outgoing.map(|_| ReplyDelivery::NotEmailed)
            }
        };
        self.audit_confirmed(scope, ticket_id, &confirmed).await;
        if let Some(w) = &self.webhooks {
            w.reply_created(scope, &reply).await;
        }
        Ok(SentReply { reply, delivery })
    }

    /// The email a reply gets: `None` when the ticket is not an email ticket, `Some(None)` when
    /// it is but the workspace has no connected mailbox, else the message to queue.
    async fn outgoing_email(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        not_found: Entity,
    ) -> AppResult<Option<Option<OutboxMessage>>> {
        let ticket = self
            .tickets
            .get(scope, reply.ticket_id)
            .await
            .map_err(AppError::from_repo(not_found))?;
        if ticket.channel != Channel::Email || !is_emailable(reply) {
            return Ok(None);
        }
        let Some(email) = &self.email else { return Ok(Some(None)) };
        let Some((_endpoint, mailbox)) = email.outbound.outbound_config(scope.tenant_id()).await?
        else {
            return Ok(Some(None));
        };
        let agent = self.users.get(scope, scope.user_id()).await?;
        let thread = email.threads.thread_message_ids(scope, ticket.id).await?;
        let message = OutboundEmail {
            from: sender_mailbox(agent.name.as_str(), &mailbox),
            to: Mailbox {
                name: Some(ticket.customer_name.as_str().to_owned()),
                email: ticket.customer_email.clone(),
            },
            subject: reply_subject(ticket.subject.as_str(), ticket.number),
            body: reply.body.as_str().to_owned(),
            message_id: reply_message_id(reply.id, &mailbox.email),
            in_reply_to: thread.last().cloned(),
            references: thread,
        };
        Ok(Some(Some(OutboxMessage::queued(
            scope.tenant_id(),
            ticket.id,
            reply.id,
            message,
            reply.created_at,
        ))))
    }

    /// Queues a failed email again ("Retry"): `failed` → `queued`, due now.
    ///
    /// # Errors
    /// `NotFound` (`reply`: no emailed reply with this id on the ticket in the workspace),
    /// `Conflict` (`delivery_not_failed`), `Unexpected`.
    pub async fn retry_delivery(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        reply_id: ReplyId,
    ) -> AppResult<Delivery> {
        let Some(email) = &self.email else { return Err(AppError::NotFound(Entity::Reply)) };
        let delivery = email
            .outbox
            .retry_delivery(scope, ticket_id, reply_id, self.clock.now())
            .await
            .map_err(AppError::from_repo(Entity::Reply))?;
        email.queued.notify_waiters();
        tracing::info!(
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket_id,
            reply_id = %reply_id,
            "email delivery retried"
        );
        Ok(delivery)
    }

    /// Adds an internal note by the caller: for the team only, never sent to the customer. It
    /// changes neither the status nor the AI draft.
    ///
    /// # Errors
    /// `NotFound` (ticket), `Unexpected`.
    pub async fn note(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        body: ReplyBody,
    ) -> AppResult<TicketReply> {
        let now = self.clock.now();
        let note = TicketReply {
            id: ReplyId::new(),
            tenant_id: scope.tenant_id(),
            ticket_id,
            author_type: AuthorType::Note,
            author_id: Some(scope.user_id()),
            body,
            sent_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        self.replies
            .add(scope, &note, None, None, now)
            .await
            .map_err(AppError::from_repo(Entity::Ticket))?;
        Ok(note)
    }

    /// Edits an unsent AI draft on a ticket ("Save Draft").
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (`reply_not_draft`), `Unexpected`.
    pub async fn save_draft(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        reply_id: ReplyId,
        body: ReplyBody,
    ) -> AppResult<TicketReply> {
        let on_ticket = self.replies.list(scope, ticket_id).await?.iter().any(|r| r.id == reply_id);
        if !on_ticket {
            return Err(AppError::NotFound(Entity::Reply));
        }
        self.replies
            .update_draft(scope, reply_id, &body, self.clock.now())
            .await
            .map_err(AppError::from_repo(Entity::Reply))
    }
}

/// Whether a reply goes to the customer when its ticket is an email ticket: sent replies by a
/// person (AI drafts never; customer messages are what we receive).
fn is_emailable(reply: &TicketReply) -> bool {
    reply.sent_at.is_some() && reply.author_type == AuthorType::Human
}

/// The names of the fields a patch changes (for `ticket.updated`).
fn changed_fields(patch: &TicketPatch) -> Vec<&'static str> {
    let mut f = Vec::new();
    if patch.subject.is_some() {
        f.push("subject");
    }
    if patch.customer_name.is_some() {
        f.push("customer_name");
    }
    if patch.customer_email.is_some() {
        f.push("customer_email");
    }
    if patch.status.is_some() {
        f.push("status");
    }
    if patch.priority.is_some() {
        f.push("priority");
    }
    if patch.category.is_some() {
        f.push("category");
    }
    if patch.assignee_id.is_some() {
        f.push("assignee_id");
    }
    f
}
