//! Repository ports: how the core reads and writes tenants, users, tickets, replies, runs and
//! the audit log.
//!
//! Every method except those of [`AccountRepository`] and [`RunQueue`] takes the caller's
//! [`TenantScope`] first and filters by its tenant: another tenant's row is
//! [`RepoError::NotFound`], exactly like a missing one.

use std::collections::HashMap;

use async_trait::async_trait;
use opsflow_domain::mailbox::{MailboxSettings, MailboxStatus};
use opsflow_domain::outbox::{Delivery, OutboxMessage};
use opsflow_domain::webhook::{
    AttemptOutcome, WebhookDelivery, WebhookDeliveryId, WebhookDeliveryStatus, WebhookEndpoint,
    WebhookEndpointId,
};
use opsflow_domain::{
    AttachmentId, AuditEvent, AuditQuery, AuthSession, Page, ReplyBody, ReplyId, SessionId, Slug,
    Tenant, TenantId, TenantScope, Ticket, TicketAttachment, TicketId, TicketListPage, TicketPatch,
    TicketQuery, TicketReply, TicketStatus, User, UserId, WorkflowRun, WorkflowRunId, WorkflowStep,
};
use time::{Duration, OffsetDateTime};

/// A boxed error cause from a driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No such row in the caller's tenant (or at all).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state rule was violated; the variant names which.
    #[error("conflict on {0}")]
    Conflict(Conflict),
    /// The store failed (connection, I/O, corrupt row).
    #[error("store error: {0}")]
    Unexpected(#[source] BoxError),
}

impl RepoError {
    /// Wraps any driver error as [`RepoError::Unexpected`].
    pub fn unexpected(e: impl Into<BoxError>) -> Self {
        Self::Unexpected(e.into())
    }
}

/// Which uniqueness or state rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Another workspace already has this slug.
    Slug,
    /// Another user in this workspace already has this email.
    Email,
    /// The change would leave the workspace without an active admin.
    LastAdmin,
    /// The reply is no longer a draft (it was sent).
    NotDraft,
    /// The ticket already has a queued or running triage run.
    ActiveRun,
    /// The ticket was changed concurrently; the write lost the race.
    ConcurrentEdit,
    /// The reply's email is not in the `failed` state, so it cannot be retried.
    DeliveryNotFailed,
    /// The webhook message is still pending (queued or retrying).
    WebhookDeliveryPending,
}

impl Conflict {
    /// The rule's name as it appears in logs and messages (`slug`, `email`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Slug => "slug",
            Self::Email => "email",
            Self::LastAdmin => "last_admin",
            Self::NotDraft => "not_draft",
            Self::ActiveRun => "active_run",
            Self::ConcurrentEdit => "ticket",
            Self::DeliveryNotFailed => "delivery_not_failed",
            Self::WebhookDeliveryPending => "webhook_delivery_pending",
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Result alias for repository calls.
pub type RepoResult<T> = Result<T, RepoError>;

/// A user together with their tenant, for sign-in before any scope exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user.
    pub user: User,
    /// The user's tenant.
    pub tenant: Tenant,
}

/// Sign-up and sign-in lookups. These run before a [`TenantScope`] exists, so they are the only
/// reads not confined to one tenant; they return users only together with their own tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AccountRepository: Send + Sync + 'static {
    /// Creates a tenant and its first admin atomically: both or neither.
    ///
    /// # Errors
    /// [`Conflict::Slug`] if the slug is taken; `Unexpected`.
    async fn create_tenant_with_admin(&self, tenant: &Tenant, admin: &User) -> RepoResult<()>;

    /// Whether a tenant already uses `slug`.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn slug_exists(&self, slug: &Slug) -> RepoResult<bool>;

    /// Every user with this email, in any tenant, with the tenant (active or not).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn find_by_email(&self, email: &opsflow_domain::Email) -> RepoResult<Vec<Account>>;

    /// The user `user_id` if it belongs to `tenant_id`, with the tenant.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] if there is no such user in that tenant; `Unexpected`.
    async fn find_user(&self, tenant_id: TenantId, user_id: UserId) -> RepoResult<Account>;
}

/// The caller's tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TenantRepository: Send + Sync + 'static {
    /// The scope's tenant.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn get(&self, scope: &TenantScope) -> RepoResult<Tenant>;

    /// Saves name and policies (and `updated_at`) of the scope's tenant; `tenant.id` must be the
    /// scope's tenant, otherwise `NotFound`.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn update(&self, scope: &TenantScope, tenant: &Tenant) -> RepoResult<()>;
}

/// Team members of the caller's tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Adds a user to the scope's tenant (`user.tenant_id` must equal it).
    ///
    /// # Errors
    /// [`Conflict::Email`] if the email exists in this tenant; `Unexpected`.
    async fn create(&self, scope: &TenantScope, user: &User) -> RepoResult<()>;

    /// One user of the tenant.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn get(&self, scope: &TenantScope, id: UserId) -> RepoResult<User>;

    /// All users of the tenant, oldest first.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list(&self, scope: &TenantScope) -> RepoResult<Vec<User>>;

    /// Saves name, role, active and `updated_at`. Atomically refuses a change that would leave
    /// the tenant without an active admin.
    ///
    /// # Errors
    /// `NotFound`; [`Conflict::LastAdmin`]; `Unexpected`.
    async fn update(&self, scope: &TenantScope, user: &User) -> RepoResult<()>;

    /// Replaces the user's password hash and `must_change_password` flag (and `updated_at`).
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn set_password(
        &self,
        scope: &TenantScope,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
        now: OffsetDateTime,
    ) -> RepoResult<()>;
}

/// Server-side records of signed-in sessions (one per access token). Every authenticated request
/// reads its session here, so deleting one ends it on the next request in every server process.
/// Like [`AccountRepository`], lookups run before a scope exists and are keyed by tenant and id.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn create_session(&self, session: &AuthSession) -> RepoResult<()>;

    /// Whether the session exists for this tenant and user and has not expired at `now`.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn session_is_live(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        id: SessionId,
        now: OffsetDateTime,
    ) -> RepoResult<bool>;

    /// Ends one session of the user (no error if it is already gone).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn delete_session(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        id: SessionId,
    ) -> RepoResult<()>;

    /// Ends every session of the user except `keep`; returns how many were ended.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn delete_user_sessions(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> RepoResult<u64>;

    /// Removes sessions that expired before `now`; returns how many.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn prune_expired_sessions(&self, now: OffsetDateTime) -> RepoResult<u64>;
}

/// Tickets of the caller's tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait TicketRepository: Send + Sync + 'static {
    /// Stores a new ticket (`ticket.tenant_id` must equal the scope's tenant) and returns the
    /// workspace number it was given: the next one of the tenant's counter, taken atomically, so
    /// concurrent creates get distinct numbers (`ticket.number` is ignored).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn create(&self, scope: &TenantScope, ticket: &Ticket) -> RepoResult<u64>;

    /// Like [`Self::create`], and stores `run` (a queued triage run of this ticket) in the same
    /// transaction: both or neither, so a ticket is never left without the run queued for it on
    /// arrival (without transactions, MongoDB removes the ticket when the run cannot be written).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn create_with_run(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        run: &WorkflowRun,
    ) -> RepoResult<u64>;

    /// Stores many new tickets in one transaction (imports, seeding, benchmarks). They get
    /// consecutive workspace numbers in slice order; the first one is returned (`None` for an
    /// empty slice).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn create_many(&self, scope: &TenantScope, tickets: &[Ticket])
    -> RepoResult<Option<u64>>;

    /// One ticket by its workspace number.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn get_by_number(&self, scope: &TenantScope, number: u64) -> RepoResult<Ticket>;

    /// One ticket.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn get(&self, scope: &TenantScope, id: TicketId) -> RepoResult<Ticket>;

    /// A filtered page in `query.sort` order, with the count of matches up to
    /// [`TicketListPage::COUNT_CAP`] and the cursor of the next page. The page starts just after
    /// `query.after` when set (keyset paging: the cost does not grow with depth), else at
    /// `query.page`. `query.search` words must each be a prefix of a keyword of the ticket's
    /// text or of its sent replies and notes (see [`opsflow_domain::search`]). Implementations read `page_size + 1` rows and build the
    /// page with [`TicketListPage::from_rows`].
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list(&self, scope: &TenantScope, query: &TicketQuery) -> RepoResult<TicketListPage>;

    /// How many tickets match the query's filters (paging and order are ignored), exactly;
    /// used for the views' counts. A store may answer a status/priority/assignee-only query
    /// (every view) from per-workspace counters kept in its write transactions.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn count(&self, scope: &TenantScope, query: &TicketQuery) -> RepoResult<u64>;

    /// Applies a patch (and sets `updated_at = now`); returns the updated ticket.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn update(
        &self,
        scope: &TenantScope,
        id: TicketId,
        patch: &TicketPatch,
        now: OffsetDateTime,
    ) -> RepoResult<Ticket>;

    /// How many tickets in status new, open or pending each user is assigned.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn open_counts_by_assignee(
        &self,
        scope: &TenantScope,
    ) -> RepoResult<HashMap<UserId, u64>>;
}

/// Replies on tickets of the caller's tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ReplyRepository: Send + Sync + 'static {
    /// Adds a reply; in the same transaction optionally sets the ticket's status (and
    /// `updated_at = now`) and deletes the unsent draft `consume_draft` the reply replaces. A
    /// sent reply or note (not an unsent draft) is the ticket's last activity (`updated_at`
    /// moves to it even without a status) and its text becomes searchable. A
    /// sent reply by a person also retires every unsent AI draft of the ticket, so the customer
    /// is not answered twice (without transactions, MongoDB does that last, best effort).
    ///
    /// # Errors
    /// `NotFound` if the ticket (or the draft, on that ticket) is not in the tenant;
    /// [`Conflict::NotDraft`] if `consume_draft` was already sent; `Unexpected`.
    async fn add(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        now: OffsetDateTime,
    ) -> RepoResult<()>;

    /// Replies of a ticket, oldest first (`created_at`, then id).
    ///
    /// # Errors
    /// `Unexpected` (an unknown ticket gives an empty list).
    async fn list(&self, scope: &TenantScope, ticket_id: TicketId) -> RepoResult<Vec<TicketReply>>;

    /// Replaces the body of an unsent draft; returns the updated reply.
    ///
    /// # Errors
    /// `NotFound`; [`Conflict::NotDraft`] if it was sent; `Unexpected`.
    async fn update_draft(
        &self,
        scope: &TenantScope,
        id: ReplyId,
        body: &ReplyBody,
        now: OffsetDateTime,
    ) -> RepoResult<TicketReply>;
}

/// Everything that is written when a triage run completes, in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageOutcome {
    /// The ticket's new category, priority and assignee.
    pub patch: TicketPatch,
    /// The AI reply draft (unsent).
    pub draft: TicketReply,
    /// The `persist` step record.
    pub persist_step: WorkflowStep,
}

/// Workflow runs and steps of the caller's tenant.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WorkflowRepository: Send + Sync + 'static {
    /// Stores a new run (queued or running).
    ///
    /// # Errors
    /// [`Conflict::ActiveRun`] if the ticket already has a queued or running run
    /// (checked atomically); `NotFound` if the ticket is not in the tenant; `Unexpected`.
    async fn create_run(&self, scope: &TenantScope, run: &WorkflowRun) -> RepoResult<()>;

    /// One run.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn get_run(&self, scope: &TenantScope, id: WorkflowRunId) -> RepoResult<WorkflowRun>;

    /// The ticket's runs, newest first.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_runs(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<WorkflowRun>>;

    /// The ticket's queued or running run, if any.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn active_run(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Option<WorkflowRun>>;

    /// Appends a step record to a run.
    ///
    /// # Errors
    /// `NotFound` if the run is not in the tenant; `Unexpected`.
    async fn append_step(&self, scope: &TenantScope, step: &WorkflowStep) -> RepoResult<()>;

    /// The run's steps in the order they were recorded.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_steps(
        &self,
        scope: &TenantScope,
        run_id: WorkflowRunId,
    ) -> RepoResult<Vec<WorkflowStep>>;

    /// Marks a run failed with a message and `finished_at = now` (only if it is still active).
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn fail_run(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
        error_message: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()>;

    /// Persists a successful run atomically: patches the ticket, replaces any unsent AI draft of
    /// the ticket with the new one (one AI draft per ticket), inserts the persist step, and marks
    /// the run succeeded with `finished_at = now`. Either all of it is written or none (without
    /// transactions, MongoDB retires the older draft last, best effort). Returns the updated
    /// ticket.
    ///
    /// # Errors
    /// `NotFound` (run or ticket not in the tenant, or run no longer active); `Unexpected`.
    async fn complete_run(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
        outcome: &TriageOutcome,
        now: OffsetDateTime,
    ) -> RepoResult<Ticket>;
}

/// The queue of asynchronous runs, shared by every worker of every server process on the store.
/// Workers act for the tenant of the run they claim.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait RunQueue: Send + Sync + 'static {
    /// Atomically claims the oldest run that is queued, or running with an expired lease: sets
    /// it running, `attempts += 1` and `lease_expires_at = now + lease`. Two workers never
    /// claim the same run.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn claim_next(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<WorkflowRun>>;
}

/// The answer of [`ThrottleRepository::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt was counted; `used` attempts of the window are now taken (1..=limit).
    Allowed {
        /// Attempts taken in the current window, this one included.
        used: u32,
    },
    /// The bucket is full: nothing was counted. The window ends at `until`.
    Refused {
        /// When the current window ends and the bucket is empty again.
        until: OffsetDateTime,
    },
}

/// Attempt buckets shared by every server process on the store (login, sign-up and password
/// throttles). A bucket holds at most `limit` attempts in a fixed window that starts with its
/// first attempt; each operation is atomic, so concurrent callers (in any process) never take
/// more than `limit` attempts from one window between them.
#[async_trait]
pub trait ThrottleRepository: Send + Sync + 'static {
    /// Takes one attempt from bucket `key` at `now`: counted and allowed if fewer than `limit`
    /// were taken in the window (a window that ended at or before `now` starts afresh, ending at
    /// `now + window`), refused (and not counted) otherwise. `limit` must be at least 1.
    async fn take(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> RepoResult<Attempt>;

    /// Gives one attempt back to `key` (an attempt that turned out legitimate); never below 0.
    async fn give_back(&self, key: &str) -> RepoResult<()>;

    /// Empties bucket `key`.
    async fn reset(&self, key: &str) -> RepoResult<()>;
}

/// The workspace audit log: append-only (there is no update or delete), newest first.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait AuditRepository: Send + Sync + 'static {
    /// Appends an event to the scope's tenant's log. It is written under the scope's tenant
    /// whatever `event.tenant_id` says, so no write crosses tenants. For an event with no
    /// signed-in actor (a failed login) the caller builds the scope of the user the attempt was
    /// made against.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn record(&self, scope: &TenantScope, event: &AuditEvent) -> RepoResult<()>;

    /// A filtered page of the scope's tenant's events, newest first (`at` desc, then id desc),
    /// with the total count. `from` is inclusive, `to` exclusive.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> RepoResult<Page<AuditEvent>>;
}

/// A file of an inbound message, to be stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// Identity (chosen by the caller).
    pub id: AttachmentId,
    /// The file name.
    pub filename: String,
    /// The MIME type, lower case.
    pub content_type: String,
    /// The decoded bytes.
    pub data: Vec<u8>,
}

/// An inbound message as archived: its headers of record, the raw bytes, its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// `Message-ID` without angle brackets; unique per workspace.
    pub message_id: String,
    /// The decoded subject.
    pub subject: String,
    /// The sender's address.
    pub from: String,
    /// When it was taken in (UTC).
    pub received_at: OffsetDateTime,
    /// The message exactly as received.
    pub raw: Vec<u8>,
    /// Its files.
    pub attachments: Vec<NewAttachment>,
}

/// What an inbound message becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTarget {
    /// A new ticket (its number is assigned by the store), with the triage run queued for it on
    /// arrival, written in the same transaction so a crash cannot lose it.
    NewTicket(Ticket, Option<Box<WorkflowRun>>),
    /// A customer reply on `reply.ticket_id`; the ticket goes back to `open` if it was
    /// pending, replied or closed.
    Reply(TicketReply),
}

/// What [`MailArchiveRepository::take_in`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakenIn {
    /// The ticket was created with this number.
    Created {
        /// The new ticket.
        ticket_id: TicketId,
        /// Its workspace number.
        number: u64,
    },
    /// The reply was added to the ticket.
    Appended {
        /// The ticket.
        ticket_id: TicketId,
        /// The new customer reply.
        reply_id: ReplyId,
    },
    /// The workspace already has a message with this Message-ID: nothing was written.
    Duplicate,
}

/// A stored attachment with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentFile {
    /// What it is.
    pub meta: TicketAttachment,
    /// The bytes.
    pub data: Vec<u8>,
}

/// The workspace's email messages (raw, with their Message-IDs, for threading and so nothing
/// is lost) and the files that came with them.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MailArchiveRepository: Send + Sync + 'static {
    /// Takes an inbound message in atomically: the message row, its attachments and the
    /// ticket it opens (or the customer reply it adds, reopening the ticket) are written
    /// together or not at all (without transactions, MongoDB claims the Message-ID first and
    /// removes what it wrote on failure). A message whose Message-ID the workspace already has
    /// is [`TakenIn::Duplicate`] and changes nothing, also when two take-ins of it race.
    ///
    /// # Errors
    /// `NotFound` if the reply's ticket is not in the tenant; `Unexpected`.
    async fn take_in(
        &self,
        scope: &TenantScope,
        mail: &InboundMail,
        target: &MailTarget,
        now: OffsetDateTime,
    ) -> RepoResult<TakenIn>;

    /// The ticket of the first of `ids` (Message-IDs, in the caller's order of preference) the
    /// workspace has a message for, in either direction.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn ticket_for_message_ids(
        &self,
        scope: &TenantScope,
        ids: &[String],
    ) -> RepoResult<Option<TicketId>>;

    /// The ticket a reply is on (for our own outbound Message-IDs, which name the reply).
    ///
    /// # Errors
    /// `NotFound` if the reply is not in the tenant; `Unexpected`.
    async fn ticket_of_reply(&self, scope: &TenantScope, reply_id: ReplyId)
    -> RepoResult<TicketId>;

    /// The Message-IDs of the ticket's messages (both directions), oldest first.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn thread_message_ids(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<String>>;

    /// The ticket's attachments (without their bytes), oldest first.
    ///
    /// # Errors
    /// `Unexpected` (an unknown ticket gives an empty list).
    async fn list_attachments(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<TicketAttachment>>;

    /// One attachment of the ticket, with its bytes.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's or another ticket's attachment); `Unexpected`.
    async fn get_attachment(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        attachment_id: AttachmentId,
    ) -> RepoResult<AttachmentFile>;
}

/// The secret token of each workspace's inbound email endpoint. Looked up by its SHA-256
/// before any scope exists (the endpoint has no session), like [`AccountRepository`].
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait InboundTokenRepository: Send + Sync + 'static {
    /// The workspace whose token has this SHA-256, with the stored hash (for a constant-time
    /// comparison by the caller).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn tenant_for_inbound_token(
        &self,
        token_hash: &[u8],
    ) -> RepoResult<Option<(TenantId, Vec<u8>)>>;

    /// The scope's token in its sealed form, if one was made.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn sealed_inbound_token(&self, scope: &TenantScope) -> RepoResult<Option<String>>;

    /// Replaces (or sets) the scope's token: the old one stops working at once.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn set_inbound_token(
        &self,
        scope: &TenantScope,
        token_hash: &[u8],
        sealed: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()>;
}

/// The durable email outbox: one row per emailed reply, written in the reply's transaction and
/// worked by the outbox workers of every server process. The worker methods (`claim_next_email`,
/// `mark_*`) act across tenants like [`RunQueue`], on the tenant and reply of the row they
/// claimed; `mark_*` apply only while the row is still `sending` with the attempt number the
/// claim returned (a fencing token), so a worker whose lease expired cannot overwrite the outcome
/// of the worker that claimed the row after it.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync + 'static {
    /// [`ReplyRepository::add`] that also queues `email` (its `tenant_id`, `ticket_id` and
    /// `reply_id` must be the reply's), all in one transaction: the reply is never recorded
    /// without its email, nor the email queued without the reply (without transactions, MongoDB
    /// removes the reply again when the email cannot be queued).
    ///
    /// # Errors
    /// As for [`ReplyRepository::add`]; `NotFound` also when `email` names another reply or
    /// ticket.
    async fn add_reply_with_email(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        email: &OutboxMessage,
        now: OffsetDateTime,
    ) -> RepoResult<()>;

    /// Atomically claims the queued message whose `next_attempt_at` is due (`<= now`), oldest
    /// due first, or a `sending` one whose lease expired before `now` (its worker crashed): sets
    /// it `sending`, `attempts += 1`, `lease_until = now + lease`, and returns it. Two workers
    /// never claim the same message.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn claim_next_email(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<OutboxMessage>>;

    /// `sending` → `sent` at `now` (the server accepted it).
    ///
    /// # Errors
    /// `NotFound` if the row is not `sending` with this `attempt` (another worker took it over);
    /// `Unexpected`.
    async fn mark_sent(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        now: OffsetDateTime,
    ) -> RepoResult<()>;

    /// `sending` → `queued` for another try at `next_attempt_at`, keeping `error`.
    ///
    /// # Errors
    /// As for [`OutboxRepository::mark_sent`].
    async fn mark_retry(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> RepoResult<()>;

    /// `sending` → `failed` with `error` (no more automatic tries).
    ///
    /// # Errors
    /// As for [`OutboxRepository::mark_sent`].
    async fn mark_failed(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        error: &str,
    ) -> RepoResult<()>;

    /// `failed` → `queued` for a try at `now` with the attempt count reset (a person asked for
    /// it, usually after fixing the address or the mailbox); the last error is kept until the
    /// next try. Returns the new delivery.
    ///
    /// # Errors
    /// `NotFound` (no email for this reply on this ticket in the tenant);
    /// [`Conflict::DeliveryNotFailed`]; `Unexpected`.
    async fn retry_delivery(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        reply_id: ReplyId,
        now: OffsetDateTime,
    ) -> RepoResult<Delivery>;

    /// The deliveries of the ticket's emailed replies (in no particular order).
    ///
    /// # Errors
    /// `Unexpected` (an unknown ticket gives an empty list).
    async fn delivery_for_replies(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<Delivery>>;
}

/// Where the IMAP poller stopped reading a mailbox: the folder's UIDVALIDITY and the highest UID
/// taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxCursor {
    /// The folder's UIDVALIDITY.
    pub uid_validity: u32,
    /// The highest UID taken in under it.
    pub last_uid: u32,
}

/// Workspace mailboxes: their settings (scoped), and the poller's cursor, status and lease. The
/// poller runs for no user, so its methods take the mailbox's tenant id, like [`RunQueue`].
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MailboxRepository: Send + Sync + 'static {
    /// The scope's mailbox settings, if an admin saved some.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn get_mailbox(&self, scope: &TenantScope) -> RepoResult<Option<MailboxSettings>>;

    /// Saves the scope's mailbox settings (creating the mailbox the first time). The poller's
    /// state is kept, except that the back-off is cleared (new settings are tried at the next
    /// round) and, with `reset_cursor`, the cursor is forgotten (another server or folder).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn put_mailbox(
        &self,
        scope: &TenantScope,
        settings: &MailboxSettings,
        reset_cursor: bool,
    ) -> RepoResult<()>;

    /// The scope's mailbox status (the default, all empty, when there is no mailbox).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn get_mailbox_status(&self, scope: &TenantScope) -> RepoResult<MailboxStatus>;

    /// Every tenant whose mailbox is enabled (for the poller; not scoped).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn enabled_mailboxes(&self) -> RepoResult<Vec<TenantId>>;

    /// The settings of `tenant_id`'s mailbox (for the poller and the outbox worker).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn mailbox_settings(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxSettings>>;

    /// The status of `tenant_id`'s mailbox (default when there is none).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn mailbox_status(&self, tenant_id: TenantId) -> RepoResult<MailboxStatus>;

    /// Records a round without error at `at`: `last_fetch_at = at`, no failures, no retry time.
    ///
    /// # Errors
    /// `NotFound` without a mailbox; `Unexpected`.
    async fn record_fetch_success(&self, tenant_id: TenantId, at: OffsetDateTime)
    -> RepoResult<()>;

    /// Records a failed round: the error and its time, one more failure in a row, and when to
    /// try again.
    ///
    /// # Errors
    /// `NotFound` without a mailbox; `Unexpected`.
    async fn record_fetch_failure(
        &self,
        tenant_id: TenantId,
        at: OffsetDateTime,
        error: &str,
        next_retry_at: OffsetDateTime,
    ) -> RepoResult<()>;

    /// Where the poller stopped, if it ever read the mailbox.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn imap_cursor(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxCursor>>;

    /// Moves the cursor: under the same UIDVALIDITY only forward (a lower `last_uid` is
    /// ignored), under another UIDVALIDITY it is replaced.
    ///
    /// # Errors
    /// `NotFound` without a mailbox; `Unexpected`.
    async fn set_imap_cursor(&self, tenant_id: TenantId, cursor: MailboxCursor) -> RepoResult<()>;

    /// Takes (or, for the same holder, extends) the mailbox's poll lease until `now + ttl`.
    /// Atomic: of several holders racing, one gets it; an expired lease can be taken. Returns
    /// whether `holder` now holds it (`false` also when there is no mailbox).
    ///
    /// # Errors
    /// `Unexpected`.
    async fn try_lease(
        &self,
        tenant_id: TenantId,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> RepoResult<bool>;

    /// Gives the lease up, if `holder` holds it.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn release_lease(&self, tenant_id: TenantId, holder: &str) -> RepoResult<()>;
}

/// A message a worker claimed, with what is needed to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedWebhook {
    /// The message, with `attempts` already counting this attempt and `lease_until` set.
    pub delivery: WebhookDelivery,
    /// Its endpoint as it is now.
    pub endpoint: WebhookEndpoint,
    /// The endpoint's signing secret, sealed with the secret cipher.
    pub sealed_secret: String,
}

/// A page of an endpoint's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only messages with this status.
    pub status: Option<WebhookDeliveryStatus>,
    /// Page number, from 1.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// Webhook endpoints (scoped) and their durable message queue. The worker methods
/// (`claim_next_webhook`, `record_webhook_attempt`) act across tenants like [`RunQueue`]; the
/// record applies only while the message is still leased with the attempt number the claim
/// returned (a fencing token), so a worker whose lease expired cannot overwrite the outcome of
/// the worker that claimed it after.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookRepository: Send + Sync + 'static {
    /// Stores a new endpoint with its sealed signing secret.
    ///
    /// # Errors
    /// `NotFound` if `endpoint.tenant_id` is not the scope's; `Unexpected`.
    async fn create_webhook(
        &self,
        scope: &TenantScope,
        endpoint: &WebhookEndpoint,
        sealed_secret: &str,
    ) -> RepoResult<()>;

    /// The tenant's endpoints, oldest first.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn list_webhooks(&self, scope: &TenantScope) -> RepoResult<Vec<WebhookEndpoint>>;

    /// One endpoint.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn get_webhook(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
    ) -> RepoResult<WebhookEndpoint>;

    /// Saves URL, description, events, enabled, disabled reason, failure count and
    /// `updated_at` of an existing endpoint.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn update_webhook(
        &self,
        scope: &TenantScope,
        endpoint: &WebhookEndpoint,
    ) -> RepoResult<()>;

    /// Replaces the sealed signing secret (and `updated_at`).
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn set_webhook_secret(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
        sealed_secret: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()>;

    /// Deletes an endpoint and all its messages.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    async fn delete_webhook(&self, scope: &TenantScope, id: WebhookEndpointId) -> RepoResult<()>;

    /// Queues messages (each `tenant_id` must be the scope's and each endpoint the tenant's).
    ///
    /// # Errors
    /// `NotFound` if a message names another tenant; `Unexpected`.
    async fn enqueue_webhooks(
        &self,
        scope: &TenantScope,
        deliveries: &[WebhookDelivery],
    ) -> RepoResult<()>;

    /// Atomically claims the pending (queued or retrying) message that is due (`next_attempt_at
    /// <= now`) and not leased (or whose lease expired before `now`), oldest due first: sets
    /// `lease_until = now + lease` and `attempts += 1`, and returns it with its endpoint. Two
    /// workers never claim the same message.
    ///
    /// # Errors
    /// `Unexpected`.
    async fn claim_next_webhook(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<ClaimedWebhook>>;

    /// Records the outcome of the claimed attempt `attempt` (the lease is released) and updates
    /// the endpoint's failure count: reset on success, one more on failure, and at
    /// `disable_after` consecutive failures the endpoint is disabled with a reason. Returns the
    /// endpoint as updated (`None` if it was deleted meanwhile).
    ///
    /// # Errors
    /// `NotFound` if the message is not leased with this `attempt` any more; `Unexpected`.
    async fn record_webhook_attempt(
        &self,
        tenant_id: TenantId,
        id: WebhookDeliveryId,
        attempt: u32,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
        disable_after: u32,
    ) -> RepoResult<Option<WebhookEndpoint>>;

    /// A page of an endpoint's messages, newest first, with the total count.
    ///
    /// # Errors
    /// `NotFound` (no such endpoint in the tenant), `Unexpected`.
    async fn list_webhook_deliveries(
        &self,
        scope: &TenantScope,
        endpoint_id: WebhookEndpointId,
        query: &DeliveryQuery,
    ) -> RepoResult<Page<WebhookDelivery>>;

    /// Queues a finished (failed or succeeded) message again, due at `now`, with its attempts
    /// reset; returns it.
    ///
    /// # Errors
    /// `NotFound` (no such message of this endpoint in the tenant);
    /// [`Conflict::WebhookDeliveryPending`] while it is still queued or retrying; `Unexpected`.
    async fn retry_webhook_delivery(
        &self,
        scope: &TenantScope,
        endpoint_id: WebhookEndpointId,
        id: WebhookDeliveryId,
        now: OffsetDateTime,
    ) -> RepoResult<WebhookDelivery>;
}

/// Store status for `/api/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreHealth {
    /// `sqlite` or `mongodb`.
    pub backend: &'static str,
    /// Whether a round trip to the store succeeded.
    pub ok: bool,
    /// A short human-readable detail (version, error).
    pub detail: String,
}

/// Health and lifecycle of the store.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait StoreAdmin: Send + Sync + 'static {
    /// Pings the store.
    async fn health(&self) -> StoreHealth;

    /// Flushes and closes connections (graceful shutdown).
    async fn close(&self);
}

/// A whole store: every repository port, implemented by one adapter.
pub trait Store:
    AccountRepository
    + TenantRepository
    + UserRepository
    + TicketRepository
    + ReplyRepository
    + WorkflowRepository
    + RunQueue
    + ThrottleRepository
    + SessionRepository
    + AuditRepository
    + MailArchiveRepository
    + InboundTokenRepository
    + OutboxRepository
    + MailboxRepository
    + WebhookRepository
    + StoreAdmin
{
}

impl<T> Store for T where
    T: AccountRepository
        + TenantRepository
        + UserRepository
        + TicketRepository
        + ReplyRepository
        + WorkflowRepository
        + RunQueue
        + ThrottleRepository
        + SessionRepository
        + AuditRepository
        + MailArchiveRepository
        + InboundTokenRepository
        + OutboxRepository
        + MailboxRepository
        + WebhookRepository
        + StoreAdmin
{
}
