//! Bearer-token authentication: the only place a `TenantScope` is built from a request.

use std::sync::Arc;

use opsflow_ports::error::AppError;
use opsflow_ports::services::auth::AuthContext;
use poem::Request;
use poem::http::HeaderMap;
use poem::web::RemoteAddr;
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

/// The client's address for the throttles and the audit log: the peer address, or, when the
/// server is configured as behind a trusted proxy, the left-most `X-Forwarded-For` entry
/// (falling back to the peer).
pub(crate) fn client_address(
    state: &AppState,
    remote: &RemoteAddr,
    headers: &HeaderMap,
) -> Option<String> {
    if state.trust_forwarded_for
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return Some(first.to_owned());
    }
    remote.as_socket_addr().map(|a| a.ip().to_string())
}

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthContext> {
    let Some(state) = req.data::<Arc<AppState>>() else {
        return Err(ApiError::Internal(poem_openapi::payload::Json(ErrorBody::new(
            crate::error::ErrorCode::InternalError,
            "application state missing",
        )))
        .into());
    };
    let mut ctx = state.auth.authenticate(&bearer.token).await.map_err(ApiError::from)?;
    ctx.address = client_address(state, req.remote_addr(), req.headers());
    if ctx.user.must_change_password {
        let path = req.original_uri().path().trim_end_matches('/');
        if !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&path) {
            return Err(ApiError::from(AppError::PasswordChangeRequired).into());
        }
    }
    Ok(ctx)
}
