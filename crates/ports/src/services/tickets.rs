//! Tickets and their replies.

use std::sync::Arc;

use opsflow_domain::{
    AuthorType, Channel, Email, PersonName, ReplyBody, ReplyId, TenantScope, Ticket, TicketBody,
    TicketId, TicketListPage, TicketPatch, TicketQuery, TicketRef, TicketReply, TicketStatus,
    TicketSubject, TicketView, UserId, WorkflowRun,
};

use futures::StreamExt as _;

use crate::auth::Clock;
use crate::error::{AppError, AppResult, Entity};
use crate::repos::RepoError;
use crate::repos::{ReplyRepository, TicketRepository, UserRepository, WorkflowRepository};

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
}

/// Works tickets in the caller's workspace.
pub struct TicketService {
    tickets: Arc<dyn TicketRepository>,
    replies: Arc<dyn ReplyRepository>,
    users: Arc<dyn UserRepository>,
    runs: Arc<dyn WorkflowRepository>,
    clock: Arc<dyn Clock>,
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
        Self { tickets, replies, users, runs, clock }
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
            created_by_id: scope.user_id(),
            created_at: now,
            updated_at: now,
        };
        ticket.number = self.tickets.create(scope, &ticket).await?;
        tracing::info!(
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket.id,
            number = ticket.number,
            "ticket created"
        );
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

    /// Every view of the ticket list with its filter (for the caller) and its exact count. The
    /// counts are one indexed `COUNT` per view, run concurrently.
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
        Ok(TicketDetail { ticket, replies, latest_run: runs.into_iter().next() })
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
        self.tickets
            .update(scope, id, &patch, self.clock.now())
            .await
            .map_err(AppError::from_repo(Entity::Ticket))
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
            .collect()
            .await;
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
    /// draft, all in one transaction.
    ///
    /// # Errors
    /// `NotFound` (ticket or draft), `Conflict` (`reply_not_draft`), `Unexpected`.
    pub async fn reply(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        input: NewReply,
    ) -> AppResult<TicketReply> {
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
        self.replies
            .add(scope, &reply, input.status, input.draft_id, now)
            .await
            .map_err(AppError::from_repo(entity))?;
        Ok(reply)
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
