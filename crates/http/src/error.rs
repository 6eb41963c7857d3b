//! One JSON error shape everywhere: `{"error": {"code", "message", "fields"}}`.

use std::collections::BTreeMap;

use opsflow_domain::FieldErrors;
use opsflow_ports::error::{AppError, ConflictCode, Entity};
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::error::{AuthorizationError, ContentTypeError, ParseParamError};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use uuid::Uuid;

use crate::body::BodyError;

/// Every machine-readable `error.code` the API answers with, in one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `validation_failed`: Well-formed values that break a rule; `fields` names each.
    ValidationFailed,
    /// `invalid_request`: A malformed request (a bad id or field).
    InvalidRequest,
    /// `invalid_body`: The body is not valid JSON for this operation.
    InvalidBody,
    /// `invalid_parameter`: A query or path parameter could not be parsed.
    InvalidParameter,
    /// `payload_too_large`: The body is over the size limit.
    PayloadTooLarge,
    /// `unsupported_media_type`: The body is not JSON.
    UnsupportedMediaType,
    /// `unauthorized`: Missing, invalid or expired token.
    Unauthorized,
    /// `invalid_credentials`: Wrong email or password.
    InvalidCredentials,
    /// `tenant_required`: The credentials match several workspaces.
    TenantRequired,
    /// `too_many_attempts`: Too many failed logins for the email.
    TooManyAttempts,
    /// `forbidden`: The action needs the admin role.
    Forbidden,
    /// `not_found`: No such endpoint.
    NotFound,
    /// `method_not_allowed`: The endpoint does not take this method.
    MethodNotAllowed,
    /// `tenant_not_found`: No such workspace.
    TenantNotFound,
    /// `user_not_found`: No such user in the workspace.
    UserNotFound,
    /// `ticket_not_found`: No such ticket in the workspace.
    TicketNotFound,
    /// `reply_not_found`: No such reply on the ticket.
    ReplyNotFound,
    /// `workflow_run_not_found`: No such triage run in the workspace.
    WorkflowRunNotFound,
    /// `resource_not_found`: Something the request names does not exist.
    ResourceNotFound,
    /// `attachment_not_found`: No such attachment on this ticket in your workspace.
    AttachmentNotFound,
    /// `message_rejected`: The inbound email cannot be used (not a message, no sender); the
    /// message says why.
    MessageRejected,
    /// `email_taken`: The email is used by another user of the workspace.
    EmailTaken,
    /// `slug_taken`: No free workspace slug.
    SlugTaken,
    /// `last_admin`: The workspace must keep an active admin.
    LastAdmin,
    /// `reply_not_draft`: The reply was already sent.
    ReplyNotDraft,
    /// `workflow_run_active`: A triage run is already queued or running for the ticket.
    WorkflowRunActive,
    /// `reply_needs_confirmation`: The reply makes a commitment the guardrails flag; send it
    /// again with `confirm_warnings: true` to go ahead.
    ReplyNeedsConfirmation,
    /// `workflow_run_finished`: The triage run already finished.
    WorkflowRunFinished,
    /// `edit_conflict`: The ticket was edited concurrently.
    EditConflict,
    /// `workspace_exists`: The email already owns a workspace of this name.
    WorkspaceExists,
    /// `additional_workspace_required`: The email already owns a workspace; set
    /// `additional_workspace` to create another.
    AdditionalWorkspaceRequired,
    /// `own_password_reset`: Admins change their own password with `POST /api/auth/password`.
    OwnPasswordReset,
    /// `password_change_required`: Signed in with a temporary password; change it first.
    PasswordChangeRequired,
    /// `delivery_not_failed`: Only a failed email can be retried (it is queued, being sent or
    /// sent).
    DeliveryNotFailed,
    /// `webhook_not_found`: No such webhook endpoint in your workspace.
    WebhookNotFound,
    /// `webhook_delivery_not_found`: No such message of this webhook endpoint.
    WebhookDeliveryNotFound,
    /// `webhook_delivery_pending`: The webhook message is still queued or retrying.
    WebhookDeliveryPending,
    /// `uri_too_long`: The request URI is over the size limit.
    UriTooLong,
    /// `request_headers_too_large`: The request head has too many or too large headers.
    RequestHeadersTooLarge,
    /// `internal_error`: Something failed on the server.
    InternalError,
}

impl ErrorCode {
    /// The code as clients see it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidBody => "invalid_body",
            Self::InvalidParameter => "invalid_parameter",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TenantRequired => "tenant_required",
            Self::TooManyAttempts => "too_many_attempts",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TenantNotFound => "tenant_not_found",
            Self::UserNotFound => "user_not_found",
            Self::TicketNotFound => "ticket_not_found",
            Self::ReplyNotFound => "reply_not_found",
            Self::WorkflowRunNotFound => "workflow_run_not_found",
            Self::ResourceNotFound => "resource_not_found",
            Self::AttachmentNotFound => "attachment_not_found",
            Self::MessageRejected => "message_rejected",
            Self::EmailTaken => "email_taken",
            Self::SlugTaken => "slug_taken",
            Self::LastAdmin => "last_admin",
            Self::ReplyNotDraft => "reply_not_draft",
            Self::WorkflowRunActive => "workflow_run_active",
            Self::ReplyNeedsConfirmation => "reply_needs_confirmation",
            Self::WorkflowRunFinished => "workflow_run_finished",
            Self::EditConflict => "edit_conflict",
            Self::WorkspaceExists => "workspace_exists",
            Self::AdditionalWorkspaceRequired => "additional_workspace_required",
            Self::OwnPasswordReset => "own_password_reset",
            Self::PasswordChangeRequired => "password_change_required",
            Self::DeliveryNotFailed => "delivery_not_failed",
            Self::WebhookNotFound => "webhook_not_found",
            Self::WebhookDeliveryNotFound => "webhook_delivery_not_found",
            Self::WebhookDeliveryPending => "webhook_delivery_pending",
            Self::UriTooLong => "uri_too_long",
            Self::RequestHeadersTooLarge => "request_headers_too_large",
            Self::InternalError => "internal_error",
        }
    }

    /// The `…_not_found` code for an entity.
    #[must_use]
    pub const fn not_found(entity: Entity) -> Self {
        match entity {
            Entity::Tenant => Self::TenantNotFound,
            Entity::User => Self::UserNotFound,
            Entity::Ticket => Self::TicketNotFound,
            Entity::Reply => Self::ReplyNotFound,
            Entity::WorkflowRun => Self::WorkflowRunNotFound,
            Entity::Resource => Self::ResourceNotFound,
            Entity::Attachment => Self::AttachmentNotFound,
            Entity::Webhook => Self::WebhookNotFound,
            Entity::WebhookDelivery => Self::WebhookDeliveryNotFound,
        }
    }
}

impl From<ConflictCode> for ErrorCode {
    fn from(c: ConflictCode) -> Self {
        match c {
            ConflictCode::EmailTaken => Self::EmailTaken,
            ConflictCode::SlugTaken => Self::SlugTaken,
            ConflictCode::LastAdmin => Self::LastAdmin,
            ConflictCode::ReplyNotDraft => Self::ReplyNotDraft,
            ConflictCode::WorkflowRunActive => Self::WorkflowRunActive,
            ConflictCode::WorkflowRunFinished => Self::WorkflowRunFinished,
            ConflictCode::EditConflict => Self::EditConflict,
            ConflictCode::WorkspaceExists => Self::WorkspaceExists,
            ConflictCode::AdditionalWorkspaceRequired => Self::AdditionalWorkspaceRequired,
            ConflictCode::OwnPasswordReset => Self::OwnPasswordReset,
            ConflictCode::DeliveryNotFailed => Self::DeliveryNotFailed,
            ConflictCode::WebhookDeliveryPending => Self::WebhookDeliveryPending,
        }
    }
}

/// A workspace offered when a login matches several.
#[derive(Debug, Clone, Object)]
pub struct WorkspaceOption {
    /// Send back as `tenant_slug`.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// The error details.
#[derive(Debug, Clone, Object)]
pub struct ErrorDetail {
    /// Machine-readable code (`validation_failed`, `ticket_not_found`, ...).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Per-field messages (empty when the error is not about fields).
    pub fields: BTreeMap<String, String>,
    /// For `tenant_required`: the workspaces the credentials matched.
    #[oai(skip_serializing_if_is_none)]
    pub workspaces: Option<Vec<WorkspaceOption>>,
    /// For `workflow_run_active`: the run already in progress.
    #[oai(skip_serializing_if_is_none)]
    pub workflow_run_id: Option<Uuid>,
    /// For `reply_needs_confirmation`: what the guardrails found (`refund_commitment`,
    /// `pricing_promise`, `hard_deadline`, `forbidden_commitment`: one of the workspace's
    /// forbidden commitments).
    #[oai(skip_serializing_if_is_none)]
    pub guardrail_flags: Option<Vec<String>>,
    /// For 5xx: the id under which the full cause is logged.
    #[oai(skip_serializing_if_is_none)]
    pub error_id: Option<String>,
}

/// Error response body.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// A body with a code and message and no fields.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.as_str().to_owned(),
                message: message.into(),
                fields: BTreeMap::new(),
                workspaces: None,
                workflow_run_id: None,
                guardrail_flags: None,
                error_id: None,
            },
        }
    }

    fn with_fields(mut self, fields: BTreeMap<String, String>) -> Self {
        self.error.fields = fields;
        self
    }
}

/// Every error an operation can answer with.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// Malformed request: bad JSON, wrong types, unknown fields, bad parameters.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing, malformed, expired or wrongly signed token; wrong credentials.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The action needs the admin role, or (`password_change_required`) the user must first
    /// replace their temporary password.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource in your workspace.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Conflicts with the current state (duplicate email, last admin, run in progress, ...).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Request body over 64 KiB (an inbound email: over the configured message size).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Well-formed but invalid values; `fields` names each.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many attempts (logins, sign-ups); retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Something failed on our side; `error_id` is in the server log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

impl ApiError {
    /// 422 with field errors.
    #[must_use]
    pub fn validation(fields: &FieldErrors) -> Self {
        Self::Unprocessable(Json(
            ErrorBody::new(ErrorCode::ValidationFailed, fields.to_string())
                .with_fields(fields.fields().clone()),
        ))
    }

    /// 400 naming one parameter or field.
    #[must_use]
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), message.clone());
        Self::BadRequest(Json(
            ErrorBody::new(ErrorCode::InvalidRequest, format!("{field}: {message}"))
                .with_fields(fields),
        ))
    }

    /// 404 for an entity.
    #[must_use]
    pub fn not_found(entity: Entity) -> Self {
        Self::NotFound(Json(ErrorBody::new(
            ErrorCode::not_found(entity),
            format!("{} not found", entity.label()),
        )))
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        Self::validation(&e)
    }
}

/// Logs the full cause chain under a fresh id and returns an opaque 500.
fn internal(err: &(dyn std::error::Error + 'static)) -> ApiError {
    let error_id = Uuid::now_v7().to_string();
    let mut chain = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    tracing::error!(error_id = %error_id, cause = %chain.join(": "), "request failed");
    let mut body = ErrorBody::new(ErrorCode::InternalError, "something went wrong on our side");
    body.error.error_id = Some(error_id);
    ApiError::Internal(Json(body))
}

impl ApiError {
    /// The JSON body of the error (for results inside a larger answer, such as a bulk update's
    /// per-ticket results).
    #[must_use]
    pub fn into_body(self) -> ErrorBody {
        match self {
            Self::BadRequest(Json(b))
            | Self::Unauthorized(Json(b))
            | Self::Forbidden(Json(b))
            | Self::NotFound(Json(b))
            | Self::Conflict(Json(b))
            | Self::PayloadTooLarge(Json(b))
            | Self::Unprocessable(Json(b))
            | Self::TooManyRequests(Json(b), _)
            | Self::Internal(Json(b)) => b,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(fields) => Self::validation(&fields),
            AppError::NotFound(entity) => Self::not_found(entity),
            AppError::Conflict { code, message } => {
                Self::Conflict(Json(ErrorBody::new(code.into(), message)))
            }
            AppError::ReplyNeedsConfirmation(flags) => {
                let mut body = ErrorBody::new(
                    ErrorCode::ReplyNeedsConfirmation,
                    "this reply may promise a refund, a price or a date; check it, then send it \
                     again with confirm_warnings set to send it anyway",
                );
                body.error.guardrail_flags =
                    Some(flags.iter().map(|f| f.as_str().to_owned()).collect());
                Self::Conflict(Json(body))
            }
            AppError::RunInProgress(run_id) => {
                let mut body = ErrorBody::new(
                    ErrorCode::WorkflowRunActive,
                    "a triage run is already in progress for this ticket",
                );
                body.error.workflow_run_id = Some(run_id.as_uuid());
                Self::Conflict(Json(body))
            }
            AppError::InvalidCredentials => Self::Unauthorized(Json(ErrorBody::new(
                ErrorCode::InvalidCredentials,
                "invalid email or password",
            ))),
            AppError::TenantRequired(choices) => {
                let mut body = ErrorBody::new(
                    ErrorCode::TenantRequired,
                    "this email belongs to several workspaces; choose one and send its tenant_slug",
                );
                body.error.workspaces = Some(
                    choices
                        .into_iter()
                        .map(|c| WorkspaceOption {
                            slug: c.slug.to_string(),
                            name: c.name.to_string(),
                        })
                        .collect(),
                );
                Self::Conflict(Json(body))
            }
            AppError::TooManyAttempts(wait) => {
                // Round up, so a client that waits exactly this long is let in.
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Self::TooManyRequests(
                    Json(ErrorBody::new(
                        ErrorCode::TooManyAttempts,
                        format!(
                            "too many attempts; try again in {} minute(s)",
                            seconds.div_ceil(60).max(1)
                        ),
                    )),
                    seconds,
                )
            }
            AppError::Unauthenticated(message) => {
                Self::Unauthorized(Json(ErrorBody::new(ErrorCode::Unauthorized, message)))
            }
            AppError::Forbidden => Self::Forbidden(Json(ErrorBody::new(
                ErrorCode::Forbidden,
                "this action needs the admin role",
            ))),
            AppError::PasswordChangeRequired => Self::Forbidden(Json(ErrorBody::new(
                ErrorCode::PasswordChangeRequired,
                "you signed in with a temporary password; choose your own with \
                 POST /api/auth/password before doing anything else",
            ))),
            AppError::Unexpected(cause) => internal(cause.as_ref()),
        }
    }
}

/// The answer to a request whose handler panicked: the same opaque JSON 500 as any other
/// internal error (poem's default is a plain-text body), with the panic logged under its id.
#[must_use]
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".to_owned());
    let error_id = Uuid::now_v7().to_string();
    tracing::error!(error_id = %error_id, cause = %cause, "request handler panicked");
    let mut resp = poem::web::Json(serde_json::json!({
        "error": {
            "code": ErrorCode::InternalError.as_str(),
            "message": "something went wrong on our side",
            "fields": {},
            "error_id": error_id,
        }
    }))
    .into_response();
    resp.set_status(StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// The JSON error shape as a plain poem response (outside poem-openapi operations).
#[must_use]
pub fn error_body_response(status: StatusCode, body: ErrorBody) -> Response {
    json_response(status, body)
}

fn json_response(status: StatusCode, body: ErrorBody) -> Response {
    let mut resp = poem::web::Json(serde_json::json!({
        "error": {
            "code": body.error.code,
            "message": body.error.message,
            "fields": body.error.fields,
        }
    }))
    .into_response();
    resp.set_status(status);
    resp
}

/// Converts framework errors (bad parameters, bodies, auth headers, unknown routes, ...) into
/// the JSON error shape; errors our handlers produced are already JSON and pass through.
pub struct JsonErrors;

impl<E: Endpoint> Middleware<E> for JsonErrors {
    type Output = JsonErrorsEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        JsonErrorsEndpoint(ep)
    }
}

/// Endpoint produced by [`JsonErrors`].
pub struct JsonErrorsEndpoint<E>(E);

/// The accepted values of an enum query parameter, for error messages.
fn enum_values(param: &str) -> Option<&'static str> {
    use opsflow_domain::{AuditKind, Category, Priority, TicketStatus};
    match param {
        "kind" => Some(AuditKind::EXPECTED),
        "status" => Some(TicketStatus::EXPECTED),
        "priority" => Some(Priority::EXPECTED),
        "category" => Some(Category::EXPECTED),
        _ => None,
    }
    .map(|s| s.trim_end_matches(", "))
}

/// Maps one framework error to a JSON response.
#[must_use]
pub fn error_to_response(err: poem::Error) -> Response {
    if let Some(e) = err.downcast_ref::<BodyError>() {
        return match e {
            BodyError::TooLarge => json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new(ErrorCode::PayloadTooLarge, e.to_string()),
            ),
            BodyError::UnsupportedMediaType | BodyError::NotRawMessage => json_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorBody::new(ErrorCode::UnsupportedMediaType, e.to_string()),
            ),
            BodyError::Invalid { field, message } => {
                let mut fields = BTreeMap::new();
                let text = if field.is_empty() {
                    format!("invalid request body: {message}")
                } else {
                    fields.insert(field.clone(), message.clone());
                    format!("{field}: {message}")
                };
                json_response(
                    StatusCode::BAD_REQUEST,
                    ErrorBody::new(ErrorCode::InvalidBody, text).with_fields(fields),
                )
            }
        };
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        let reason = if e.reason.contains("enumeration value") {
            enum_values(e.name).map_or_else(|| e.reason.clone(), |v| format!("must be one of: {v}"))
        } else if e.reason.contains("integer") || e.reason.contains("invalid digit") {
            "must be a positive whole number".to_owned()
        } else {
            e.reason.clone()
        };
        let mut fields = BTreeMap::new();
        fields.insert(e.name.to_owned(), reason.clone());
        return json_response(
            StatusCode::BAD_REQUEST,
            ErrorBody::new(ErrorCode::InvalidParameter, format!("{}: {reason}", e.name))
                .with_fields(fields),
        );
    }
    if err.is::<AuthorizationError>() {
        return json_response(
            StatusCode::UNAUTHORIZED,
            ErrorBody::new(ErrorCode::Unauthorized, "a valid bearer token is required"),
        );
    }
    if err.is::<ContentTypeError>() {
        return json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorBody::new(ErrorCode::UnsupportedMediaType, "the request body must be JSON"),
        );
    }
    if err.is::<poem::error::NotFoundError>() {
        return json_response(
            StatusCode::NOT_FOUND,
            ErrorBody::new(ErrorCode::NotFound, "no such endpoint"),
        );
    }
    if err.is::<poem::error::MethodNotAllowedError>() {
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorBody::new(
                ErrorCode::MethodNotAllowed,
                "this method is not allowed on this endpoint",
            ),
        );
    }
    let status = err.status();
    let resp = err.into_response();
    let is_json = resp.content_type().is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        s if s.is_server_error() => ErrorCode::InternalError,
        _ => ErrorCode::InvalidRequest,
    };
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    json_response(status, ErrorBody::new(code, message))
}

impl<E: Endpoint> Endpoint for JsonErrorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match self.0.call(req).await {
            Ok(resp) => Ok(resp.into_response()),
            Err(err) => Ok(error_to_response(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use opsflow_ports::repos::{Conflict, RepoError};

    use super::*;

    fn code(e: AppError) -> String {
        match ApiError::from(e) {
            ApiError::NotFound(Json(b)) | ApiError::Conflict(Json(b)) => b.error.code,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn not_found_codes_are_snake_case_for_every_entity() {
        let cases = [
            (Entity::Tenant, "tenant_not_found"),
            (Entity::User, "user_not_found"),
            (Entity::Ticket, "ticket_not_found"),
            (Entity::Reply, "reply_not_found"),
            // Built with `format!` this was `workflow run_not_found`.
            (Entity::WorkflowRun, "workflow_run_not_found"),
            (Entity::Resource, "resource_not_found"),
            (Entity::Attachment, "attachment_not_found"),
            (Entity::Webhook, "webhook_not_found"),
            (Entity::WebhookDelivery, "webhook_delivery_not_found"),
        ];
        for (entity, expected) in cases {
            assert_eq!(code(AppError::NotFound(entity)), expected);
        }
    }

    #[test]
    fn repository_conflicts_keep_their_client_codes() {
        let cases = [
            (Conflict::Email, "email_taken"),
            (Conflict::Slug, "slug_taken"),
            (Conflict::LastAdmin, "last_admin"),
            (Conflict::NotDraft, "reply_not_draft"),
            (Conflict::ActiveRun, "workflow_run_active"),
            (Conflict::ConcurrentEdit, "edit_conflict"),
            (Conflict::DeliveryNotFailed, "delivery_not_failed"),
        ];
        for (conflict, expected) in cases {
            let e = AppError::from_repo(Entity::Ticket)(RepoError::Conflict(conflict));
            assert_eq!(code(e), expected);
        }
    }
}
