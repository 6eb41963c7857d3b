//! `/api/auth/*`: sign up, log in, current user.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::ApiTags;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::dto::{LoginRequest, MeResponse, SessionResponse, SignupRequest};
use crate::error::ApiResult;
use crate::state::AppState;

/// Auth operations.
pub struct AuthApi;

/// Sign-up answer.
#[derive(ApiResponse)]
pub enum SignupResponse {
    /// Workspace and first admin created; signed in.
    #[oai(status = 201)]
    Created(Json<SessionResponse>),
}

/// Login answer.
#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Signed in.
    #[oai(status = 200)]
    Ok(Json<SessionResponse>),
}

/// Current user answer.
#[derive(ApiResponse)]
pub enum MeResult {
    /// The current user and workspace.
    #[oai(status = 200)]
    Ok(Json<MeResponse>),
}

fn session(s: opsflow_ports::services::auth::Session) -> SessionResponse {
    SessionResponse { user: s.user.into(), tenant: s.tenant.into(), access_token: s.access_token }
}

#[OpenApi(prefix_path = "/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create a workspace and its first admin.
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&Arc<AppState>>,
        body: JsonBody<SignupRequest>,
    ) -> ApiResult<SignupResponse> {
        let input = body.0.try_into_domain()?;
        let s = state.auth.signup(input).await?;
        Ok(SignupResponse::Created(Json(session(s))))
    }

    /// Log in. If the email and password match users in several workspaces and no
    /// `tenant_slug` is given, answers 409 `tenant_required` with the matching workspaces.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        body: JsonBody<LoginRequest>,
    ) -> ApiResult<LoginResponse> {
        let input = body.0.try_into_domain()?;
        let s = state.auth.login(input).await?;
        Ok(LoginResponse::Ok(Json(session(s))))
    }

    /// The signed-in user and workspace.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAuth) -> ApiResult<MeResult> {
        let ctx = auth.0;
        Ok(MeResult::Ok(Json(MeResponse { user: ctx.user.into(), tenant: ctx.tenant.into() })))
    }
}
