//! Bearer-token authentication: the only place a `TenantScope` is built from a request.

use std::sync::Arc;

use opsflow_ports::services::auth::AuthContext;
use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// `Authorization: Bearer <JWT>`; resolves to the current user, their tenant and scope.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub AuthContext);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthContext> {
    let Some(state) = req.data::<Arc<AppState>>() else {
        return Err(ApiError::Internal(poem_openapi::payload::Json(ErrorBody::new(
            crate::error::ErrorCode::InternalError,
            "application state missing",
        )))
        .into());
    };
    state.auth.authenticate(&bearer.token).await.map_err(|e| ApiError::from(e).into())
}
