//! Bearer-token authentication: the only place a `TenantScope` is built from a request.

use std::sync::Arc;

use opsflow_ports::error::AppError;
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

/// The calls a user holding a temporary password may make: see who they are, choose their own
/// password, or leave.
const ALLOWED_BEFORE_PASSWORD_CHANGE: [&str; 4] =
    ["/api/auth/me", "/api/auth/password", "/api/auth/logout", "/api/auth/logout-all"];

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthContext> {
    let Some(state) = req.data::<Arc<AppState>>() else {
        return Err(ApiError::Internal(poem_openapi::payload::Json(ErrorBody::new(
            crate::error::ErrorCode::InternalError,
            "application state missing",
        )))
        .into());
    };
    let ctx = state.auth.authenticate(&bearer.token).await.map_err(ApiError::from)?;
    if ctx.user.must_change_password {
        let path = req.original_uri().path().trim_end_matches('/');
        if !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&path) {
            return Err(ApiError::from(AppError::PasswordChangeRequired).into());
        }
    }
    Ok(ctx)
}
