//! The application error every service returns; the HTTP layer maps it exhaustively.

use opsflow_domain::{FieldErrors, Slug, TenantName, WorkflowRunId};

use crate::repos::{BoxError, RepoError};

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
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or state rule: `code` is machine-readable (`email_taken`, `last_admin`, ...).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
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
    pub fn from_repo(entity: &'static str) -> impl Fn(RepoError) -> Self {
        move |e| match e {
            RepoError::NotFound => Self::NotFound(entity),
            RepoError::Conflict(what) => conflict(what),
            RepoError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

fn conflict(what: &'static str) -> AppError {
    let (code, message) = match what {
        "email" => ("email_taken", "a user with this email already exists in this workspace"),
        "slug" => ("slug_taken", "a workspace with this slug already exists"),
        "last_admin" => ("last_admin", "the workspace must keep at least one active admin"),
        "not_draft" => ("reply_not_draft", "this reply was already sent and cannot be edited"),
        "active_run" => ("workflow_run_active", "a triage run is already in progress"),
        "ticket" => ("edit_conflict", "the ticket is being edited by someone else; try again"),
        _ => ("conflict", "the change conflicts with the current state"),
    };
    AppError::Conflict { code, message: message.to_owned() }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        Self::from_repo("resource")(e)
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
