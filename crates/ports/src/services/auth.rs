//! Sign-up, login and token resolution.

use std::sync::Arc;

use opsflow_domain::{
    AuditEvent, AuditKind, AuthSession, DetailKey, Email, Password, PersonName, Policies, Role,
    SessionId, Slug, Tenant, TenantId, TenantName, TenantScope, User, UserId,
};
use tracing::instrument;

use crate::auth::{Clock, PasswordHasher, TokenError, TokenService};
use crate::error::{AppError, AppResult, ConflictCode, Entity, WorkspaceChoice};
use crate::password_policy::NewPassword;
use crate::repos::{
    Account, AccountRepository, Conflict, RepoError, SessionRepository, ThrottleRepository,
    UserRepository,
};
use crate::services::audit::AuditLog;
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
    /// The first admin's password (checked against the policy for new passwords).
    pub password: NewPassword,
    /// The caller knowingly creates another workspace for an email that already has one.
    pub additional_workspace: bool,
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
    /// The session (token `jti`) the request was made with.
    pub session_id: SessionId,
    /// The client address of the request, when the HTTP layer knows it (for the audit log).
    pub address: Option<String>,
}

impl AuthContext {
    /// An audit event of `kind` done by this user now, from this request's address.
    #[must_use]
    pub fn event(&self, kind: AuditKind, at: time::OffsetDateTime) -> AuditEvent {
        AuditEvent::new(self.scope.tenant_id(), kind, at)
            .by(self.user.id, &self.user.email)
            .from_ip(self.address.as_deref())
    }
}

/// How many slug suffixes are tried before giving up.
const SLUG_ATTEMPTS: u32 = 50;

/// Sign-up, login and token resolution.
pub struct AuthService {
    accounts: Arc<dyn AccountRepository>,
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenService>,
    clock: Arc<dyn Clock>,
    throttles: Arc<dyn ThrottleRepository>,
    throttle: Throttle,
    audit: AuditLog,
}

impl AuthService {
    /// Wires the service to its ports. Every port is required (no default that would silently
    /// drop audit events), hence the long list.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        accounts: Arc<dyn AccountRepository>,
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenService>,
        clock: Arc<dyn Clock>,
        throttles: Arc<dyn ThrottleRepository>,
        audit: AuditLog,
    ) -> Self {
        let throttle = Throttle::new(throttles.clone(), clock.clone(), LoginLimits::default());
        Self { accounts, users, sessions, hasher, tokens, clock, throttles, throttle, audit }
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
    /// An email that already belongs to a workspace of the same name is refused
    /// (`workspace_exists`: signing up twice by mistake must not make a twin workspace); one that
    /// belongs to workspaces of other names needs `additional_workspace`
    /// (`additional_workspace_required`).
    ///
    /// # Errors
    /// `Conflict` (`workspace_exists`, `additional_workspace_required`, `slug_taken`);
    /// [`AppError::TooManyAttempts`] (also while another sign-up for the same email runs);
    /// `Unexpected` on store or hashing failure.
    #[instrument(skip_all)]
    pub async fn signup(&self, input: SignupInput, address: Option<&str>) -> AppResult<Session> {
        self.throttle.signup_attempt(address).await?;
        // Check-then-create is made atomic per email by a short lock in the store.
        let lock = self.throttle.signup_lock(&input.email).await?;
        let result = self.signup_locked(input, address).await;
        if let Err(e) = self.throttle.signup_done(&lock).await {
            // The lock ends by itself within a minute.
            tracing::warn!(error = %e, "could not release the sign-up lock");
        }
        result
    }

    async fn signup_locked(&self, input: SignupInput, address: Option<&str>) -> AppResult<Session> {
        self.check_duplicate_signup(&input).await?;
        let now = self.clock.now();
        let password_hash =
            self.hasher.hash(input.password.as_password()).await.map_err(AppError::unexpected)?;
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
                auto_triage: opsflow_domain::AutoTriageSettings::default(),
                reply_policy: opsflow_domain::ReplyPolicy::default(),
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
                must_change_password: false,
                created_at: now,
                updated_at: now,
            };
            match self.accounts.create_tenant_with_admin(&tenant, &user).await {
                Ok(()) => {
                    tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "workspace created");
                    let scope = TenantScope::new(tenant.id, user.id, user.role);
                    let event = AuditEvent::new(tenant.id, AuditKind::Signup, now)
                        .by(user.id, &user.email)
                        .on(user.id, &user.email)
                        .from_ip(address)
                        .with(DetailKey::WorkspaceName, &tenant.name);
                    self.audit.record(&scope, event).await;
                    return self.session(user, tenant).await;
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

    async fn check_duplicate_signup(&self, input: &SignupInput) -> AppResult<()> {
        let existing = self.accounts.find_by_email(&input.email).await?;
        let wanted = input.tenant_name.as_str().to_lowercase();
        if existing.iter().any(|a| a.tenant.name.as_str().to_lowercase() == wanted) {
            return Err(AppError::Conflict {
                code: ConflictCode::WorkspaceExists,
                message: "this email already has a workspace with this name; log in to it \
                          instead, or choose another name"
                    .to_owned(),
            });
        }
        if !existing.is_empty() && !input.additional_workspace {
            return Err(AppError::Conflict {
                code: ConflictCode::AdditionalWorkspaceRequired,
                message: "this email already belongs to a workspace; to create another one, \
                          confirm it (send \"additional_workspace\": true)"
                    .to_owned(),
            });
        }
        Ok(())
    }

    /// Signs a user in. Unknown email and wrong password fail the same way and take about the
    /// same time. Every attempt is counted (per email and per client `address`, see
    /// [`Throttle`]) before the password is checked; when a bucket is full the login is refused
    /// without checking the password until its window has passed. A success resets the email's
    /// count.
    ///
    /// Audit: a success is recorded as `login_succeeded` in the user's workspace; a failure as
    /// `login_failed` in every workspace where the email belongs to a user (matching
    /// `tenant_slug` when given). Unknown emails and refused (throttled) attempts are not
    /// recorded: the first belong to no workspace, the second were never checked.
    ///
    /// # Errors
    /// [`AppError::InvalidCredentials`]; [`AppError::TenantRequired`] when several workspaces
    /// match and no slug was given; [`AppError::TooManyAttempts`]; `Unexpected`.
    #[instrument(skip_all)]
    pub async fn login(&self, input: LoginInput, address: Option<&str>) -> AppResult<Session> {
        let attempt = self.throttle.login_attempt(&input.email, address).await?;
        let result = self.check_credentials(input, address).await;
        if matches!(result, Ok(_) | Err(AppError::TenantRequired(_)))
            && let Err(e) = self.throttle.login_succeeded(attempt).await
        {
            // The sign-in itself succeeded; a count left in place only expires later.
            tracing::warn!(error = %e, "could not reset the login throttle after a success");
        }
        result
    }

    async fn check_credentials(
        &self,
        input: LoginInput,
        address: Option<&str>,
    ) -> AppResult<Session> {
        let (candidates, deactivated): (Vec<_>, Vec<_>) = self
            .accounts
            .find_by_email(&input.email)
            .await?
            .into_iter()
            .filter(|a| input.tenant_slug.as_ref().is_none_or(|s| &a.tenant.slug == s))
            .partition(|a| a.user.active);
        if candidates.is_empty() {
            self.hasher.verify_dummy(&input.password).await;
            self.record_failed_logins(&[], &deactivated, address).await;
            return Err(AppError::InvalidCredentials);
        }
        let mut matched = Vec::new();
        let mut wrong = Vec::new();
        for account in candidates {
            if self
                .hasher
                .verify(&input.password, &account.user.password_hash)
                .await
                .map_err(AppError::unexpected)?
            {
                matched.push(account);
            } else {
                wrong.push(account);
            }
        }
        match matched.len() {
            0 => {
                self.record_failed_logins(&wrong, &deactivated, address).await;
                Err(AppError::InvalidCredentials)
            }
            1 => {
                let account = matched.remove(0);
                let user = &account.user;
                let scope = TenantScope::new(account.tenant.id, user.id, user.role);
                let event =
                    AuditEvent::new(account.tenant.id, AuditKind::LoginSucceeded, self.clock.now())
                        .by(user.id, &user.email)
                        .on(user.id, &user.email)
                        .from_ip(address);
                self.audit.record(&scope, event).await;
                self.session(account.user, account.tenant).await
            }
            _ => Err(AppError::TenantRequired(
                matched
                    .into_iter()
                    .map(|a| WorkspaceChoice { slug: a.tenant.slug, name: a.tenant.name })
                    .collect(),
            )),
        }
    }

    /// Records `login_failed` in the workspace of each account the failed attempt named: those
    /// whose password did not match and those that are deactivated. Nobody is signed in, so the
    /// event has no actor; it is written under the scope of the user the attempt was made
    /// against.
    async fn record_failed_logins(
        &self,
        wrong_password: &[Account],
        deactivated: &[Account],
        address: Option<&str>,
    ) {
        let now = self.clock.now();
        let reasons = wrong_password
            .iter()
            .map(|a| (a, "wrong_password"))
            .chain(deactivated.iter().map(|a| (a, "user_deactivated")));
        for (account, reason) in reasons {
            let user = &account.user;
            let scope = TenantScope::new(account.tenant.id, user.id, user.role);
            let event = AuditEvent::new(account.tenant.id, AuditKind::LoginFailed, now)
                .on(user.id, &user.email)
                .from_ip(address)
                .with(DetailKey::Reason, reason);
            self.audit.record(&scope, event).await;
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
        // The session record is the source of truth: logout, password change or reset, role
        // change and deactivation delete it, and every process sees that on its next request.
        if !self
            .sessions
            .session_is_live(claims.tenant_id, claims.user_id, claims.session_id, self.clock.now())
            .await?
        {
            return Err(AppError::Unauthenticated("this session has ended; log in again"));
        }
        let scope = TenantScope::new(account.tenant.id, account.user.id, account.user.role);
        Ok(AuthContext {
            scope,
            user: account.user,
            tenant: account.tenant,
            session_id: claims.session_id,
            address: None,
        })
    }

    /// Changes the caller's own password after checking the current one. Ends the user's other
    /// sessions (a thief holding an old token is locked out) and keeps the current one; clears
    /// `must_change_password`.
    ///
    /// # Errors
    /// `Validation` on `current_password` (wrong) or `new_password` (same as the current one);
    /// [`AppError::TooManyAttempts`] after too many wrong current passwords; `Unexpected`.
    #[instrument(skip_all, fields(tenant_id = %ctx.scope.tenant_id()))]
    pub async fn change_password(
        &self,
        ctx: &AuthContext,
        current: &Password,
        new: &NewPassword,
    ) -> AppResult<()> {
        // Counted before the check, like logins: a stolen token cannot guess the password.
        self.throttle.password_attempt(ctx.user.id).await?;
        let ok = self
            .hasher
            .verify(current, &ctx.user.password_hash)
            .await
            .map_err(AppError::unexpected)?;
        if !ok {
            return Err(AppError::field("current_password", "is not your current password"));
        }
        self.throttle.password_succeeded(ctx.user.id).await?;
        if new.as_password().expose() == current.expose() {
            return Err(AppError::field("new_password", "must differ from the current password"));
        }
        let hash = self.hasher.hash(new.as_password()).await.map_err(AppError::unexpected)?;
        let now = self.clock.now();
        self.users
            .set_password(&ctx.scope, ctx.user.id, &hash, false, now)
            .await
            .map_err(AppError::from_repo(Entity::User))?;
        self.sessions
            .delete_user_sessions(ctx.scope.tenant_id(), ctx.user.id, Some(ctx.session_id))
            .await?;
        tracing::info!(tenant_id = %ctx.scope.tenant_id(), user_id = %ctx.user.id, "password changed");
        let event = ctx.event(AuditKind::PasswordChanged, now).on(ctx.user.id, &ctx.user.email);
        self.audit.record(&ctx.scope, event).await;
        Ok(())
    }

    /// Ends the session the request was made with.
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn logout(&self, ctx: &AuthContext) -> AppResult<()> {
        self.sessions.delete_session(ctx.scope.tenant_id(), ctx.user.id, ctx.session_id).await?;
        tracing::info!(tenant_id = %ctx.scope.tenant_id(), user_id = %ctx.user.id, "logged out");
        let event = ctx.event(AuditKind::Logout, self.clock.now()).on(ctx.user.id, &ctx.user.email);
        self.audit.record(&ctx.scope, event).await;
        Ok(())
    }

    /// Ends every session of the caller, this one included ("log out everywhere").
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn logout_all(&self, ctx: &AuthContext) -> AppResult<u64> {
        let ended =
            self.sessions.delete_user_sessions(ctx.scope.tenant_id(), ctx.user.id, None).await?;
        tracing::info!(tenant_id = %ctx.scope.tenant_id(), user_id = %ctx.user.id, ended, "logged out everywhere");
        let event = ctx
            .event(AuditKind::LogoutAll, self.clock.now())
            .on(ctx.user.id, &ctx.user.email)
            .with(DetailKey::SessionsEnded, ended);
        self.audit.record(&ctx.scope, event).await;
        Ok(ended)
    }

    /// Records a new session and issues its token. Expired sessions are pruned here, at
    /// sign-in, so the table stays as small as the number of live sessions.
    async fn session(&self, user: User, tenant: Tenant) -> AppResult<Session> {
        let now = self.clock.now();
        if let Err(e) = self.sessions.prune_expired_sessions(now).await {
            tracing::warn!(error = %e, "could not prune expired sessions");
        }
        let record = AuthSession {
            id: SessionId::new(),
            tenant_id: tenant.id,
            user_id: user.id,
            created_at: now,
            expires_at: now + self.tokens.ttl(),
        };
        self.sessions.create_session(&record).await?;
        let access_token = self
            .tokens
            .issue(user.id, tenant.id, user.role, record.id, now)
            .map_err(AppError::unexpected)?;
        Ok(Session { user, tenant, access_token })
    }
}
