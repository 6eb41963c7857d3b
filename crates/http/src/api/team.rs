//! `/api/tenant`, `/api/team` and `/api/users`: the workspace and its team.

use std::sync::Arc;

use opsflow_domain::UserId;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::{ApiTags, parse_id};
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::dto::{
    PasswordResetResponse, TeamMemberList, TenantDto, TenantPatchRequest, UserCreateRequest,
    UserCreatedResponse, UserDto, UserList, UserPatchRequest,
};
use crate::error::ApiResult;
use crate::state::AppState;

/// Workspace and team operations.
pub struct TeamApi;

/// Workspace answer.
#[derive(ApiResponse)]
pub enum TenantResult {
    /// The workspace.
    #[oai(status = 200)]
    Ok(Json<TenantDto>),
}

/// Users answer.
#[derive(ApiResponse)]
pub enum UserListResult {
    /// The users.
    #[oai(status = 200)]
    Ok(Json<UserList>),
}

/// Team directory answer.
#[derive(ApiResponse)]
pub enum TeamResult {
    /// The members.
    #[oai(status = 200)]
    Ok(Json<TeamMemberList>),
}

/// User created answer.
#[derive(ApiResponse)]
pub enum UserCreatedResult {
    /// Created; the temporary password is shown only now.
    #[oai(status = 201)]
    Created(Json<UserCreatedResponse>),
}

/// User answer.
#[derive(ApiResponse)]
pub enum UserResult {
    /// The user as it now is.
    #[oai(status = 200)]
    Ok(Json<UserDto>),
}

/// Password reset answer.
#[derive(ApiResponse)]
pub enum PasswordResetResult {
    /// The new temporary password, shown only now.
    #[oai(status = 200)]
    Ok(Json<PasswordResetResponse>),
}

#[OpenApi(tag = "ApiTags::Workspace")]
impl TeamApi {
    /// The current workspace.
    #[oai(path = "/tenant", method = "get", operation_id = "get_tenant")]
    async fn get_tenant(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<TenantResult> {
        let t = state.tenants.get(&auth.0.scope).await?;
        Ok(TenantResult::Ok(Json(t.into())))
    }

    /// Rename the workspace or change its reply policies (admin).
    #[oai(path = "/tenant", method = "patch", operation_id = "update_tenant")]
    async fn update_tenant(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<TenantPatchRequest>,
    ) -> ApiResult<TenantResult> {
        opsflow_ports::error::require_admin(&auth.0.scope)?;
        let patch = body.0.try_into_domain()?;
        let t = state.tenants.update(&auth.0, patch).await?;
        Ok(TenantResult::Ok(Json(t.into())))
    }

    /// The team directory: names, roles and whether active, oldest first (any member; used for
    /// assignee pickers and reply authors).
    #[oai(path = "/team", method = "get", operation_id = "list_team")]
    async fn list_team(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<TeamResult> {
        let users = state.team.directory(&auth.0.scope).await?;
        Ok(TeamResult::Ok(Json(TeamMemberList {
            items: users.into_iter().map(Into::into).collect(),
        })))
    }

    /// The workspace's users, oldest first (admin).
    #[oai(path = "/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<UserListResult> {
        let users = state.team.list(&auth.0.scope).await?;
        Ok(UserListResult::Ok(Json(UserList {
            items: users.into_iter().map(Into::into).collect(),
        })))
    }

    /// Add a user; answers a temporary password once (admin).
    #[oai(path = "/users", method = "post", operation_id = "create_user")]
    async fn create_user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<UserCreateRequest>,
    ) -> ApiResult<UserCreatedResult> {
        opsflow_ports::error::require_admin(&auth.0.scope)?;
        let input = body.0.try_into_domain()?;
        let (user, temporary_password) = state.team.create(&auth.0, input).await?;
        Ok(UserCreatedResult::Created(Json(UserCreatedResponse {
            user: user.into(),
            temporary_password,
        })))
    }

    /// Rename, change role, or (de)activate a user (admin). The last active admin cannot be
    /// demoted or deactivated (409 `last_admin`).
    #[oai(path = "/users/:id", method = "patch", operation_id = "update_user")]
    async fn update_user(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<UserPatchRequest>,
    ) -> ApiResult<UserResult> {
        opsflow_ports::error::require_admin(&auth.0.scope)?;
        let id: UserId = parse_id("id", &id.0)?;
        let patch = body.0.try_into_domain()?;
        let user = state.team.update(&auth.0, id, patch).await?;
        Ok(UserResult::Ok(Json(user.into())))
    }

    /// Replace a user's password with a new temporary one, answered once (admin). The user's
    /// sessions end, and they must choose their own password at their next login.
    #[oai(
        path = "/users/:id/password-reset",
        method = "post",
        operation_id = "reset_user_password"
    )]
    async fn reset_user_password(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> ApiResult<PasswordResetResult> {
        opsflow_ports::error::require_admin(&auth.0.scope)?;
        let id: UserId = parse_id("id", &id.0)?;
        let temporary_password = state.team.reset_password(&auth.0, id).await?;
        Ok(PasswordResetResult::Ok(Json(PasswordResetResponse { temporary_password })))
    }
}
