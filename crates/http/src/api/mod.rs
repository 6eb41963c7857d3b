//! The REST operations, grouped by tag.

pub mod audit;
pub mod auth;
pub mod health;
pub mod mail;
pub mod settings_ai;
pub mod settings_email;
pub mod settings_policies;
pub mod team;
pub mod tickets;
pub mod webhooks;
pub mod workflows;

use poem_openapi::Tags;

use crate::error::ApiError;

/// OpenAPI tags.
#[derive(Tags)]
pub enum ApiTags {
    /// Sign up, log in, current user.
    Auth,
    /// The workspace and its team.
    Workspace,
    /// The workspace audit log.
    Audit,
    /// Tickets and replies.
    Tickets,
    /// The email channel: the inbound endpoint and its address.
    Email,
    /// AI triage runs and their history.
    Triage,
    /// Health and metadata.
    System,
}

/// Parses a path id into a typed id; a malformed id is a 400 naming the parameter.
pub(crate) fn parse_id<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, ApiError> {
    raw.parse::<T>().map_err(|_| ApiError::bad_field(name, "is not a valid id (expected a UUID)"))
}
