//! `/api/health`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::ApiTags;
use crate::dto::{HealthResponse, StoreHealthDto};
use crate::state::AppState;

/// Health operations.
pub struct HealthApi;

/// Health answer.
#[derive(ApiResponse)]
pub enum HealthResult {
    /// The server and its store are up.
    #[oai(status = 200)]
    Ok(Json<HealthResponse>),
    /// The store does not answer.
    #[oai(status = 503)]
    Unavailable(Json<HealthResponse>),
}

#[OpenApi(tag = "ApiTags::System")]
impl HealthApi {
    /// Server and store status.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self, state: Data<&Arc<AppState>>) -> HealthResult {
        let h = state.system.health().await;
        let body = HealthResponse {
            status: if h.ok { "ok" } else { "degraded" }.to_owned(),
            store: StoreHealthDto { backend: h.backend.to_owned(), ok: h.ok, detail: h.detail },
            version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        if h.ok { HealthResult::Ok(Json(body)) } else { HealthResult::Unavailable(Json(body)) }
    }
}
