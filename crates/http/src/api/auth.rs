//! `/api/auth/*`: sign up, log in, current user.

use std::sync::Arc;

use poem::http::HeaderMap;
use poem::web::{Data, RemoteAddr};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::ApiTags;
use crate::auth::{BearerAuth, client_address};
use crate::body::JsonBody;
use crate::dto::{LoginRequest, MeResponse, PasswordChangeRequest, SessionResponse, SignupRequest};
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

/// An answer with no body.
#[derive(ApiResponse)]
pub enum NoContentResult {
    /// Done; nothing to return.
    #[oai(status = 204)]
    Done,
}

fn session(s: opsflow_ports::services::auth::Session) -> SessionResponse {
    SessionResponse { user: s.user.into(), tenant: s.tenant.into(), access_token: s.access_token }
}

#[OpenApi(prefix_path = "/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create a workspace and its first admin. Sign-ups are limited per client address
    /// (429 `too_many_attempts` with `Retry-After`).
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&Arc<AppState>>,
        remote: &RemoteAddr,
        headers: &HeaderMap,
        body: JsonBody<SignupRequest>,
    ) -> ApiResult<SignupResponse> {
        let input = body.0.try_into_domain()?;
        let address = client_address(&state, remote, headers);
        let s = state.auth.signup(input, address.as_deref()).await?;
        Ok(SignupResponse::Created(Json(session(s))))
    }

    /// Log in. If the email and password match users in several workspaces and no
    /// `tenant_slug` is given, answers 409 `tenant_required` with the matching workspaces.
    /// Attempts are limited per email and per client address; over the limit the answer is 429
    /// `too_many_attempts` with `Retry-After`, even for the right password.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        remote: &RemoteAddr,
        headers: &HeaderMap,
        body: JsonBody<LoginRequest>,
    ) -> ApiResult<LoginResponse> {
        let input = body.0.try_into_domain()?;
        let address = client_address(&state, remote, headers);
        let s = state.auth.login(input, address.as_deref()).await?;
        Ok(LoginResponse::Ok(Json(session(s))))
    }

    /// The signed-in user and workspace.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: BearerAuth) -> ApiResult<MeResult> {
        let ctx = auth.0;
        Ok(MeResult::Ok(Json(MeResponse { user: ctx.user.into(), tenant: ctx.tenant.into() })))
    }

    /// Change your own password. `current_password` must be the one you signed in with; the new
    /// one must meet the password policy. Your other sessions end; this one stays signed in.
    /// Clears `must_change_password`.
    #[oai(path = "/password", method = "post", operation_id = "change_password")]
    async fn change_password(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<PasswordChangeRequest>,
    ) -> ApiResult<NoContentResult> {
        let ctx = auth.0;
        let (current, new) = body.0.try_into_domain(&[
            ctx.user.name.as_str(),
            ctx.user.email.as_str(),
            ctx.tenant.name.as_str(),
        ])?;
        state.auth.change_password(&ctx, &current, &new).await?;
        Ok(NoContentResult::Done)
    }

    /// End this session: the token stops working at once.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<NoContentResult> {
        state.auth.logout(&auth.0).await?;
        Ok(NoContentResult::Done)
    }

    /// End every session of the signed-in user, this one included ("log out everywhere").
    #[oai(path = "/logout-all", method = "post", operation_id = "logout_all")]
    async fn logout_all(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<NoContentResult> {
        state.auth.logout_all(&auth.0).await?;
        Ok(NoContentResult::Done)
    }
}
