//! # opsflow-http
//!
//! The REST API of OpsFlow Agent Desk on poem + poem-openapi. The OpenAPI document is generated
//! from this code and served at `/api/openapi.json`, with an explorer at `/api/docs`. The web UI
//! is served from `/`, with `index.html` for any non-API path.

// Handlers return `Result<_, ApiError>`; the error body is a few hundred bytes and only built
// on the error path, so boxing it would cost more clarity than it saves.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod auth;
pub mod body;
pub mod dto;
pub mod edge;
pub mod error;
pub mod metrics;
pub mod openapi_fix;
pub mod request_log;
pub mod server;
pub mod state;
pub mod static_files;

use std::sync::Arc;

use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route, handler, web::Data};
use poem_openapi::OpenApiService;

pub use metrics::Metrics;
pub use state::AppState;

use api::{
    audit::AuditApi, auth::AuthApi, health::HealthApi, mail::MailApi, settings_ai::SettingsAiApi,
    settings_email::SettingsEmailApi, settings_policies::SettingsPoliciesApi, team::TeamApi,
    tickets::TicketsApi, webhooks::WebhooksApi, workflows::WorkflowsApi,
};

/// The API title.
pub const API_TITLE: &str = "OpsFlow Agent Desk API";

type Apis = (
    AuthApi,
    HealthApi,
    TeamApi,
    SettingsEmailApi,
    SettingsAiApi,
    SettingsPoliciesApi,
    AuditApi,
    TicketsApi,
    WorkflowsApi,
    MailApi,
    WebhooksApi,
);

/// The OpenAPI service (all operations under `/api`).
#[must_use]
pub fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            AuthApi,
            HealthApi,
            TeamApi,
            SettingsEmailApi,
            SettingsAiApi,
            SettingsPoliciesApi,
            AuditApi,
            TicketsApi,
            WorkflowsApi,
            MailApi,
            WebhooksApi,
        ),
        API_TITLE,
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Multi-tenant help desk with AI triage. Authenticate with `Authorization: Bearer <token>` \
         from signup or login. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
    )
    .server("/api")
}

/// The OpenAPI document as JSON.
#[must_use]
pub fn openapi_json() -> String {
    openapi_fix::fixed_json(&api_service().spec())
}

#[handler]
fn openapi_handler(doc: Data<&Arc<String>>) -> poem::Response {
    poem::Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(doc.0.as_str().to_owned())
}

#[handler]
fn metrics_handler(state: Data<&Arc<AppState>>) -> String {
    state.metrics.render()
}

/// The whole HTTP application: API, docs, metrics and web UI, with the default edge options.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    app_with(state, edge::EdgeOptions::default())
}

/// The whole HTTP application with the given edge options (HSTS behind TLS).
pub fn app_with(state: Arc<AppState>, options: edge::EdgeOptions) -> impl Endpoint {
    let api = api_service();
    let docs = api.swagger_ui();
    let spec = openapi_handler.data(Arc::new(openapi_fix::fixed_json(&api.spec())));
    let metrics = state.metrics.clone();
    Route::new()
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/api", api)
        .at("/metrics", metrics_handler)
        .at("/*path", static_files::spa)
        .at("/", static_files::spa)
        .with(error::JsonErrors)
        .with(CatchPanic::new().with_handler(error::panic_response))
        .with(edge::SecurityHeaders(options))
        .with(metrics::HttpMetrics(metrics))
        .with(request_log::RequestLog)
        .data(state)
}
