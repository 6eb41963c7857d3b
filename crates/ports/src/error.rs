//! The application error every service returns; the HTTP layer maps it exhaustively.

use opsflow_domain::{FieldErrors, Slug, TenantName, WorkflowRunId};

use crate::repos::{BoxError, Conflict, RepoError};

/// A workspace a login matched, offered when the email exists in several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceChoice {
    /// The workspace's slug, to send back as `tenant_slug`.
    pub slug: Slug,
    /// Its display name.
    pub name: TenantName,
}

/// What an application service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input fields break a rule; each field has a message.
    #[error("{0}")]
    Validation(FieldErrors),
    /// The entity does not exist in the caller's tenant (another tenant's looks the same).
    #[error("{} not found", .0.label())]
    NotFound(Entity),
    /// A uniqueness or state rule was broken; `code` says which.
    #[error("{message}")]
    Conflict {
        /// Which rule.
        code: ConflictCode,
        /// Human-readable explanation.
        message: String,
    },
    /// The reply makes a commitment the guardrails flag (a refund, a price, a date); it was not
    /// sent. Sending it again with the warning confirmed goes through, and is audited.
    #[error("the reply may commit to something the team should confirm first")]
    ReplyNeedsConfirmation(Vec<opsflow_domain::GuardrailFlag>),
    /// A triage run for the ticket is already queued or running.
    #[error("a triage run is already in progress for this ticket")]
    RunInProgress(WorkflowRunId),
    /// Email or password is wrong (deliberately not saying which).
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The email and password match users in several workspaces; pick one.
    #[error("this email belongs to several workspaces; choose one")]
    TenantRequired(Vec<WorkspaceChoice>),
    /// Too many wrong passwords for this email recently; try again after the given time.
    #[error("too many failed logins; try again later")]
    TooManyAttempts(std::time::Duration),
    /// Missing, invalid or expired token, or a deactivated user.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated but not allowed (agents on admin endpoints).
    #[error("this action needs the admin role")]
    Forbidden,
    /// The user signed in with a temporary password and must choose their own first.
    #[error("choose a new password before doing anything else")]
    PasswordChangeRequired,
    /// Anything else: the store or a dependency failed.
    #[error("unexpected error: {0}")]
    Unexpected(#[source] BoxError),
}

/// What a [`AppError::NotFound`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A workspace.
    Tenant,
    /// A user.
    User,
    /// A ticket.
    Ticket,
    /// A ticket reply or draft.
    Reply,
    /// A triage run.
    WorkflowRun,
    /// A file that came with an email.
    Attachment,
    /// Something a repository did not name.
    Resource,
    /// A webhook endpoint.
    Webhook,
    /// A webhook message (delivery).
    WebhookDelivery,
}

impl Entity {
    /// Lower-case words for messages (`workflow run`).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::User => "user",
            Self::Ticket => "ticket",
            Self::Reply => "reply",
            Self::WorkflowRun => "workflow run",
            Self::Attachment => "attachment",
            Self::Resource => "resource",
            Self::Webhook => "webhook",
            Self::WebhookDelivery => "webhook delivery",
        }
    }
}

/// The state rules a service reports as [`AppError::Conflict`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictCode {
    /// The email is used by another user of the workspace.
    EmailTaken,
    /// No free workspace slug was found.
    SlugTaken,
    /// The workspace must keep an active admin.
    LastAdmin,
    /// The reply was already sent.
    ReplyNotDraft,
    /// A triage run is already queued or running for the ticket.
    WorkflowRunActive,
    /// The triage run already finished.
    WorkflowRunFinished,
    /// The ticket was edited concurrently.
    EditConflict,
    /// The email already owns a workspace of this name.
    WorkspaceExists,
    /// The email already owns a workspace; another one needs an explicit choice.
    AdditionalWorkspaceRequired,
    /// An admin asked for an admin reset of their own password (they change it themselves).
    OwnPasswordReset,
    /// Only a failed email delivery can be retried.
    DeliveryNotFailed,
    /// The webhook message is still queued or retrying; it cannot be sent again yet.
    WebhookDeliveryPending,
}

impl From<Conflict> for ConflictCode {
    fn from(c: Conflict) -> Self {
        match c {
            Conflict::Email => Self::EmailTaken,
            Conflict::Slug => Self::SlugTaken,
            Conflict::LastAdmin => Self::LastAdmin,
            Conflict::NotDraft => Self::ReplyNotDraft,
            Conflict::ActiveRun => Self::WorkflowRunActive,
            Conflict::ConcurrentEdit => Self::EditConflict,
            Conflict::DeliveryNotFailed => Self::DeliveryNotFailed,
            Conflict::WebhookDeliveryPending => Self::WebhookDeliveryPending,
        }
    }
}

impl AppError {
    /// A validation error on one field.
    pub fn field(field: &str, message: impl std::fmt::Display) -> Self {
        Self::Validation(FieldErrors::single(field, message))
    }

    /// Wraps any error as [`AppError::Unexpected`].
    pub fn unexpected(e: impl Into<BoxError>) -> Self {
        Self::Unexpected(e.into())
    }

    /// Maps a repository error, naming the entity for `NotFound`.
    pub fn from_repo(entity: Entity) -> impl Fn(RepoError) -> Self {
        move |e| match e {
            RepoError::NotFound => Self::NotFound(entity),
            RepoError::Conflict(what) => conflict(what),
            RepoError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

fn conflict(what: Conflict) -> AppError {
    let message = match what {
        Conflict::Email => "a user with this email already exists in this workspace",
        Conflict::Slug => "a workspace with this slug already exists",
        Conflict::LastAdmin => "the workspace must keep at least one active admin",
        Conflict::NotDraft => "this reply was already sent and cannot be edited",
        Conflict::ActiveRun => "a triage run is already in progress",
        Conflict::ConcurrentEdit => "the ticket is being edited by someone else; try again",
        Conflict::DeliveryNotFailed => {
            "only a failed email can be retried; this one is queued, being sent or sent"
        }
        Conflict::WebhookDeliveryPending => {
            "this webhook message is still queued or retrying; wait for its next attempt"
        }
    };
    AppError::Conflict { code: what.into(), message: message.to_owned() }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        Self::from_repo(Entity::Resource)(e)
    }
}

/// Result alias for services.
pub type AppResult<T> = Result<T, AppError>;

/// Fails with [`AppError::Forbidden`] unless the scope is an admin's.
///
/// # Errors
/// [`AppError::Forbidden`].
pub fn require_admin(scope: &opsflow_domain::TenantScope) -> AppResult<()> {
    if scope.is_admin() { Ok(()) } else { Err(AppError::Forbidden) }
}
