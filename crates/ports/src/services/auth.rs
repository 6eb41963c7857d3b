//! Sign-up, login and token resolution.

use std::sync::Arc;

use opsflow_domain::{
    Email, Password, PersonName, Policies, Role, Slug, Tenant, TenantId, TenantName, TenantScope,
    User, UserId,
};
use tracing::instrument;

use crate::auth::{Clock, PasswordHasher, TokenError, TokenService};
use crate::error::{AppError, AppResult, ConflictCode, Entity, WorkspaceChoice};
use crate::repos::{AccountRepository, Conflict, RepoError, ThrottleRepository};
use crate::services::throttle::{LoginLimits, Throttle};

/// Validated sign-up input.
#[derive(Debug, Clone)]
pub struct SignupInput {
    /// The new workspace's name.
    pub tenant_name: TenantName,
    /// The first admin's name.
    pub user_name: PersonName,
    /// The first admin's email.
    pub email: Email,
    /// The first admin's password.
    pub password: Password,
}

/// Validated login input.
#[derive(Debug, Clone)]
pub struct LoginInput {
    /// Email.
    pub email: Email,
    /// Password.
    pub password: Password,
    /// Which workspace, when the email exists in several.
    pub tenant_slug: Option<Slug>,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// Their workspace.
    pub tenant: Tenant,
    /// Bearer token for the API.
    pub access_token: String,
}

/// Who a verified request acts as.
#[derive(Debug, Clone)]
pub struct AuthContext {
    /// The scope every call is made under.
    pub scope: TenantScope,
    /// The user, as stored now.
    pub user: User,
    /// The user's workspace.
    pub tenant: Tenant,
}

/// How many slug suffixes are tried before giving up.
const SLUG_ATTEMPTS: u32 = 50;

/// Sign-up, login and token resolution.
pub struct AuthService {
    accounts: Arc<dyn AccountRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenService>,
    clock: Arc<dyn Clock>,
    throttles: Arc<dyn ThrottleRepository>,
    throttle: Throttle,
}

impl AuthService {
    /// Wires the service to its ports.
    pub fn new(
        accounts: Arc<dyn AccountRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenService>,
        clock: Arc<dyn Clock>,
        throttles: Arc<dyn ThrottleRepository>,
    ) -> Self {
        let throttle = Throttle::new(throttles.clone(), clock.clone(), LoginLimits::default());
        Self { accounts, hasher, tokens, clock, throttles, throttle }
    }

    /// Sets the throttle limits (default: [`LoginLimits::default`]).
    #[must_use]
    pub fn with_login_limits(mut self, limits: LoginLimits) -> Self {
        self.throttle = Throttle::new(self.throttles.clone(), self.clock.clone(), limits);
        self
    }

    /// The store-backed throttles (also for password checks: [`Throttle::password_attempt`]).
    #[must_use]
    pub const fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Creates a workspace and its first admin, and signs them in. Sign-ups are counted per
    /// client `address` (when known) before anything else.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`]; `Unexpected` on store or hashing failure.
    #[instrument(skip_all)]
    pub async fn signup(&self, input: SignupInput, address: Option<&str>) -> AppResult<Session> {
        self.throttle.signup_attempt(address).await?;
        let now = self.clock.now();
        let password_hash =
            self.hasher.hash(&input.password).await.map_err(AppError::unexpected)?;
        let base = Slug::from_name(&input.tenant_name);
        for n in 1..=SLUG_ATTEMPTS {
            let slug = if n == 1 { base.clone() } else { base.with_suffix(n) };
            if self.accounts.slug_exists(&slug).await? {
                continue;
            }
            let tenant = Tenant {
                id: TenantId::new(),
                name: input.tenant_name.clone(),
                slug,
                policies: Policies::default(),
                created_at: now,
                updated_at: now,
            };
            let user = User {
                id: UserId::new(),
                tenant_id: tenant.id,
                name: input.user_name.clone(),
                email: input.email.clone(),
                password_hash: password_hash.clone(),
                role: Role::Admin,
                active: true,
                created_at: now,
                updated_at: now,
            };
            match self.accounts.create_tenant_with_admin(&tenant, &user).await {
                Ok(()) => {
                    tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "workspace created");
                    return self.session(user, tenant);
                }
                // Lost a race for this slug: try the next suffix.
                Err(RepoError::Conflict(Conflict::Slug)) => {}
                Err(e) => return Err(AppError::from_repo(Entity::Tenant)(e)),
            }
        }
        Err(AppError::Conflict {
            code: ConflictCode::SlugTaken,
            message: "could not find a free workspace slug for this name".to_owned(),
        })
    }

    /// Signs a user in. Unknown email and wrong password fail the same way and take about the
    /// same time. Every attempt is counted (per email and per client `address`, see
    /// [`Throttle`]) before the password is checked; when a bucket is full the login is refused
    /// without checking the password until its window has passed. A success resets the email's
    /// count.
    ///
    /// # Errors
    /// [`AppError::InvalidCredentials`]; [`AppError::TenantRequired`] when several workspaces
    /// match and no slug was given; [`AppError::TooManyAttempts`]; `Unexpected`.
    #[instrument(skip_all)]
    pub async fn login(&self, input: LoginInput, address: Option<&str>) -> AppResult<Session> {
        let attempt = self.throttle.login_attempt(&input.email, address).await?;
        let result = self.check_credentials(input).await;
        if matches!(result, Ok(_) | Err(AppError::TenantRequired(_)))
            && let Err(e) = self.throttle.login_succeeded(attempt).await
        {
            // The sign-in itself succeeded; a count left in place only expires later.
            tracing::warn!(error = %e, "could not reset the login throttle after a success");
        }
        result
    }

    async fn check_credentials(&self, input: LoginInput) -> AppResult<Session> {
        let candidates: Vec<_> = self
            .accounts
            .find_by_email(&input.email)
            .await?
            .into_iter()
            .filter(|a| a.user.active)
            .filter(|a| input.tenant_slug.as_ref().is_none_or(|s| &a.tenant.slug == s))
            .collect();
        if candidates.is_empty() {
            self.hasher.verify_dummy(&input.password).await;
            return Err(AppError::InvalidCredentials);
        }
        let mut matched = Vec::new();
        for account in candidates {
            if self
                .hasher
                .verify(&input.password, &account.user.password_hash)
                .await
                .map_err(AppError::unexpected)?
            {
                matched.push(account);
            }
        }
        match matched.len() {
            0 => Err(AppError::InvalidCredentials),
            1 => {
                let account = matched.remove(0);
                self.session(account.user, account.tenant)
            }
            _ => Err(AppError::TenantRequired(
                matched
                    .into_iter()
                    .map(|a| WorkspaceChoice { slug: a.tenant.slug, name: a.tenant.name })
                    .collect(),
            )),
        }
    }

    /// Resolves a bearer token to the user it stands for, re-reading the user so that a
    /// deactivated user or changed role takes effect at once.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`]; `Unexpected`.
    pub async fn authenticate(&self, token: &str) -> AppResult<AuthContext> {
        let claims = self.tokens.verify(token).map_err(|e| match e {
            TokenError::Expired => AppError::Unauthenticated("the access token has expired"),
            TokenError::Invalid => AppError::Unauthenticated("the access token is invalid"),
        })?;
        let account = match self.accounts.find_user(claims.tenant_id, claims.user_id).await {
            Ok(a) => a,
            Err(RepoError::NotFound) => {
                return Err(AppError::Unauthenticated("the access token is invalid"));
            }
            Err(e) => return Err(AppError::from_repo(Entity::User)(e)),
        };
        if !account.user.active {
            return Err(AppError::Unauthenticated("this user has been deactivated"));
        }
        if account.user.tenant_id != claims.tenant_id || account.tenant.id != claims.tenant_id {
            return Err(AppError::Unauthenticated("the access token is invalid"));
        }
        let scope = TenantScope::new(account.tenant.id, account.user.id, account.user.role);
        Ok(AuthContext { scope, user: account.user, tenant: account.tenant })
    }

    fn session(&self, user: User, tenant: Tenant) -> AppResult<Session> {
        let access_token = self
            .tokens
            .issue(user.id, tenant.id, user.role, self.clock.now())
            .map_err(AppError::unexpected)?;
        Ok(Session { user, tenant, access_token })
    }
}
