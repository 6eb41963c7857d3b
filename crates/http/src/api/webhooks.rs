//! `/api/webhooks`: the workspace's signed webhook endpoints and their delivery log (admin
//! only). The signing secret is returned on create and on rotate, never again.
//!
//! The DTOs live here rather than in `dto.rs`: they are used by these operations only.

use std::sync::Arc;

use opsflow_domain::FieldErrors;
use opsflow_domain::webhook::{
    WebhookDelivery, WebhookDeliveryId, WebhookDeliveryStatus, WebhookEndpoint, WebhookEndpointId,
    WebhookEvents, WebhookUrl,
};
use opsflow_ports::error::require_admin;
use opsflow_ports::repos::DeliveryQuery;
use opsflow_ports::services::webhooks::{EndpointInput, EndpointPatch, EndpointWithSecret};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::{ApiTags, parse_id};
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest page of the delivery log.
const MAX_PER_PAGE: u32 = 100;
/// Default page size of the delivery log.
const DEFAULT_PER_PAGE: u32 = 25;
/// Deepest page of the delivery log.
const MAX_PAGE: u32 = 10_000;

/// Where a webhook message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "WebhookDeliveryStatus", rename_all = "snake_case")]
pub enum WebhookDeliveryStatusDto {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt failed; another is due at `next_attempt_at`.
    Retrying,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Given up.
    Failed,
}

impl From<WebhookDeliveryStatus> for WebhookDeliveryStatusDto {
    fn from(s: WebhookDeliveryStatus) -> Self {
        match s {
            WebhookDeliveryStatus::Queued => Self::Queued,
            WebhookDeliveryStatus::Retrying => Self::Retrying,
            WebhookDeliveryStatus::Succeeded => Self::Succeeded,
            WebhookDeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl From<WebhookDeliveryStatusDto> for WebhookDeliveryStatus {
    fn from(s: WebhookDeliveryStatusDto) -> Self {
        match s {
            WebhookDeliveryStatusDto::Queued => Self::Queued,
            WebhookDeliveryStatusDto::Retrying => Self::Retrying,
            WebhookDeliveryStatusDto::Succeeded => Self::Succeeded,
            WebhookDeliveryStatusDto::Failed => Self::Failed,
        }
    }
}

/// A webhook endpoint.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Webhook")]
pub struct WebhookDto {
    /// Identity.
    pub id: Uuid,
    /// Where messages are POSTed.
    pub url: String,
    /// The admin's note.
    pub description: String,
    /// Subscribed events: `ticket.created`, `triage.completed`, `ticket.updated`,
    /// `reply.created`.
    pub events: Vec<String>,
    /// Whether messages are sent.
    pub enabled: bool,
    /// Why it was disabled automatically (repeated failures).
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u32,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl From<WebhookEndpoint> for WebhookDto {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id.as_uuid(),
            url: e.url.as_str().to_owned(),
            description: e.description,
            events: e.events.iter().map(|t| t.as_str().to_owned()).collect(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            consecutive_failures: e.consecutive_failures,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WebhookWithSecret")]
pub struct WebhookWithSecretDto {
    /// The endpoint.
    pub webhook: WebhookDto,
    /// The signing secret (`whsec_…`, Standard Webhooks). Store it now: it is never shown again.
    pub secret: String,
}

impl From<EndpointWithSecret> for WebhookWithSecretDto {
    fn from(e: EndpointWithSecret) -> Self {
        Self { webhook: e.endpoint.into(), secret: e.secret }
    }
}

/// One message to an endpoint.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WebhookDelivery")]
pub struct WebhookDeliveryDto {
    /// The `webhook-id` (`msg_…`); the same for every attempt.
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// Where it is.
    pub status: WebhookDeliveryStatusDto,
    /// Attempts so far.
    pub attempts: u32,
    /// For queued and retrying messages: when the next attempt is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The HTTP status of the last answer.
    pub last_status: Option<u16>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The start of the last answer's body.
    pub response_excerpt: Option<String>,
    /// The body sent.
    pub payload: String,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl From<WebhookDelivery> for WebhookDeliveryDto {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id.to_string(),
            event_type: d.event_type.as_str().to_owned(),
            status: d.status.into(),
            attempts: d.attempts,
            next_attempt_at: d.status.is_pending().then_some(d.next_attempt_at),
            last_status: d.last_status,
            last_error: d.last_error,
            response_excerpt: d.response_excerpt,
            payload: d.payload,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A page of the delivery log.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WebhookDeliveryPage")]
pub struct WebhookDeliveryPageDto {
    /// Messages, newest first.
    pub items: Vec<WebhookDeliveryDto>,
    /// Matching messages in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// A new endpoint.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "CreateWebhook")]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// `https://…` (or `http://…`); no credentials; its host must resolve to public addresses
    /// unless the operator allows private ones.
    pub url: String,
    /// A note (at most 200 characters).
    #[serde(default)]
    #[oai(default)]
    pub description: String,
    /// At least one of `ticket.created`, `triage.completed`, `ticket.updated`,
    /// `reply.created`.
    pub events: Vec<String>,
}

/// A change to an endpoint: only the given fields change.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "UpdateWebhook")]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookBody {
    /// New URL.
    #[serde(default)]
    pub url: Option<String>,
    /// New note.
    #[serde(default)]
    pub description: Option<String>,
    /// New events (at least one).
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Enable (also clears the failure count and the disabled reason) or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
}

fn check_url(e: &mut FieldErrors, raw: &str) -> Option<WebhookUrl> {
    e.check("url", WebhookUrl::parse(raw))
}

fn check_events(e: &mut FieldErrors, raw: &[String]) -> Option<WebhookEvents> {
    e.check("events", WebhookEvents::parse(raw))
}

/// Endpoint list answer.
#[derive(ApiResponse)]
pub enum WebhookListResult {
    /// The endpoints, oldest first.
    #[oai(status = 200)]
    Ok(Json<Vec<WebhookDto>>),
}

/// Endpoint answer.
#[derive(ApiResponse)]
pub enum WebhookResult {
    /// The endpoint.
    #[oai(status = 200)]
    Ok(Json<WebhookDto>),
}

/// Created endpoint answer.
#[derive(ApiResponse)]
pub enum WebhookCreatedResult {
    /// The endpoint with its secret (shown once).
    #[oai(status = 201)]
    Created(Json<WebhookWithSecretDto>),
}

/// Rotated secret answer.
#[derive(ApiResponse)]
pub enum WebhookSecretResult {
    /// The endpoint with its new secret (shown once).
    #[oai(status = 200)]
    Ok(Json<WebhookWithSecretDto>),
}

/// Deleted answer.
#[derive(ApiResponse)]
pub enum WebhookDeletedResult {
    /// Deleted, with its messages.
    #[oai(status = 204)]
    Deleted,
}

/// Queued message answer.
#[derive(ApiResponse)]
pub enum WebhookDeliveryResult {
    /// The queued message.
    #[oai(status = 202)]
    Accepted(Json<WebhookDeliveryDto>),
}

/// Delivery log answer.
#[derive(ApiResponse)]
pub enum WebhookDeliveryPageResult {
    /// A page of messages, newest first.
    #[oai(status = 200)]
    Ok(Json<WebhookDeliveryPageDto>),
}

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, ApiError> {
    parse_id("id", raw)
}

/// Webhook operations.
pub struct WebhooksApi;

#[OpenApi(tag = "ApiTags::Workspace")]
impl WebhooksApi {
    /// The workspace's webhook endpoints (admin).
    #[oai(path = "/webhooks", method = "get", operation_id = "list_webhooks")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<WebhookListResult> {
        let list = state.webhooks.list(&auth.0.scope).await?;
        Ok(WebhookListResult::Ok(Json(list.into_iter().map(Into::into).collect())))
    }

    /// Register an endpoint (admin). The answer carries its signing secret, shown this once.
    #[oai(path = "/webhooks", method = "post", operation_id = "create_webhook")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<CreateWebhookBody>,
    ) -> ApiResult<WebhookCreatedResult> {
        require_admin(&auth.0.scope)?;
        let body = body.0;
        let mut e = FieldErrors::new();
        let url = check_url(&mut e, &body.url);
        let events = check_events(&mut e, &body.events);
        e.into_result()?;
        let (Some(url), Some(events)) = (url, events) else {
            return Err(ApiError::bad_field("url", "is invalid"));
        };
        let created = state
            .webhooks
            .create(&auth.0, EndpointInput { url, description: body.description, events })
            .await?;
        Ok(WebhookCreatedResult::Created(Json(created.into())))
    }

    /// One endpoint (admin).
    #[oai(path = "/webhooks/:id", method = "get", operation_id = "get_webhook")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
    ) -> ApiResult<WebhookResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        let e = state.webhooks.get(&auth.0.scope, id).await?;
        Ok(WebhookResult::Ok(Json(e.into())))
    }

    /// Change an endpoint (admin): URL, note, events, enabled. Enabling clears the failure
    /// count and the disabled reason.
    #[oai(path = "/webhooks/:id", method = "patch", operation_id = "update_webhook")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
        body: JsonBody<UpdateWebhookBody>,
    ) -> ApiResult<WebhookResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        let body = body.0;
        let mut e = FieldErrors::new();
        let url = body.url.as_deref().and_then(|u| check_url(&mut e, u));
        let events = body.events.as_deref().and_then(|ev| check_events(&mut e, ev));
        e.into_result()?;
        let patch =
            EndpointPatch { url, description: body.description, events, enabled: body.enabled };
        let updated = state.webhooks.update(&auth.0, id, patch).await?;
        Ok(WebhookResult::Ok(Json(updated.into())))
    }

    /// Delete an endpoint and its delivery log (admin).
    #[oai(path = "/webhooks/:id", method = "delete", operation_id = "delete_webhook")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
    ) -> ApiResult<WebhookDeletedResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        state.webhooks.delete(&auth.0, id).await?;
        Ok(WebhookDeletedResult::Deleted)
    }

    /// Replace the signing secret (admin); the new one is shown this once. Messages not yet
    /// sent are signed with it.
    #[oai(
        path = "/webhooks/:id/rotate-secret",
        method = "post",
        operation_id = "rotate_webhook_secret"
    )]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
    ) -> ApiResult<WebhookSecretResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        let rotated = state.webhooks.rotate_secret(&auth.0, id).await?;
        Ok(WebhookSecretResult::Ok(Json(rotated.into())))
    }

    /// Queue a `webhook.test` message to the endpoint (admin).
    #[oai(path = "/webhooks/:id/test", method = "post", operation_id = "test_webhook")]
    async fn test(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
    ) -> ApiResult<WebhookDeliveryResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        let d = state.webhooks.send_test(&auth.0.scope, id).await?;
        Ok(WebhookDeliveryResult::Accepted(Json(d.into())))
    }

    /// The endpoint's delivery log, newest first (admin); filter by `status`.
    #[oai(
        path = "/webhooks/:id/deliveries",
        method = "get",
        operation_id = "list_webhook_deliveries"
    )]
    async fn deliveries(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
        /// Only messages with this status.
        status: Query<Option<WebhookDeliveryStatusDto>>,
        /// Page number, from 1.
        page: Query<Option<u32>>,
        /// Items per page, 1–100 (default 25).
        per_page: Query<Option<u32>>,
    ) -> ApiResult<WebhookDeliveryPageResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        let mut e = FieldErrors::new();
        let page = page.0.unwrap_or(1);
        if page == 0 || page > MAX_PAGE {
            e.add("page", format!("must be between 1 and {MAX_PAGE}"));
        }
        let per_page = per_page.0.unwrap_or(DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > MAX_PER_PAGE {
            e.add("per_page", format!("must be between 1 and {MAX_PER_PAGE}"));
        }
        e.into_result()?;
        let query = DeliveryQuery { status: status.0.map(Into::into), page, per_page };
        let result = state.webhooks.deliveries(&auth.0.scope, id, &query).await?;
        Ok(WebhookDeliveryPageResult::Ok(Json(WebhookDeliveryPageDto {
            items: result.items.into_iter().map(Into::into).collect(),
            total: result.total,
            page,
            per_page,
        })))
    }

    /// Send a finished (succeeded or failed) message again, now (admin).
    #[oai(
        path = "/webhooks/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retry_webhook_delivery"
    )]
    async fn retry(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<String>,
        /// The message's id (`msg_…`).
        delivery_id: Path<String>,
    ) -> ApiResult<WebhookDeliveryResult> {
        require_admin(&auth.0.scope)?;
        let id = endpoint_id(&id.0)?;
        let delivery = WebhookDeliveryId::parse(&delivery_id.0).map_err(|_| {
            ApiError::bad_field("delivery_id", "is not a valid message id (expected msg_…)")
        })?;
        let d = state.webhooks.retry(&auth.0.scope, id, delivery).await?;
        Ok(WebhookDeliveryResult::Accepted(Json(d.into())))
    }
}
