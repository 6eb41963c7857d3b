//! Team management: the admins and agents of a workspace.

use std::sync::Arc;

use opsflow_domain::{
    AuditKind, DetailKey, Email, Password, PersonName, Role, TenantScope, User, UserId,
};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::auth::{Clock, PasswordHasher};
use crate::error::{AppError, AppResult, ConflictCode, Entity, require_admin};
use crate::repos::{SessionRepository, UserRepository};
use crate::services::audit::AuditLog;
use crate::services::auth::AuthContext;

/// A new team member.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Name.
    pub name: PersonName,
    /// Login email.
    pub email: Email,
    /// Role.
    pub role: Role,
}

/// Changes to a team member; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New name.
    pub name: Option<PersonName>,
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate.
    pub active: Option<bool>,
}

/// Length of generated temporary passwords.
pub const TEMPORARY_PASSWORD_LEN: usize = 20;

/// A strong random password: letters, digits and symbols, at least one of each class.
#[must_use]
pub fn generate_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    const SYMBOLS: &[u8] = b"!#%+-=?@^_";
    let mut rng = rand::rng();
    let all: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS]
        .iter()
        .map(|set| set[rng.random_range(0..set.len())])
        .collect();
    while chars.len() < TEMPORARY_PASSWORD_LEN {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    chars.into_iter().map(char::from).collect()
}

/// Manages the users of the caller's workspace (admin only).
pub struct TeamService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
}

impl TeamService {
    /// Wires the service to its ports.
    pub fn new(
        users: Arc<dyn UserRepository>,
        sessions: Arc<dyn SessionRepository>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
    ) -> Self {
        Self { users, sessions, hasher, clock, audit }
    }

    /// All users of the workspace, oldest first (admin only).
    ///
    /// # Errors
    /// `Forbidden`, `Unexpected`.
    pub async fn list(&self, scope: &TenantScope) -> AppResult<Vec<User>> {
        require_admin(scope)?;
        Ok(self.users.list(scope).await?)
    }

    /// The team directory: every user of the workspace, oldest first, for any member (agents
    /// assign tickets to colleagues and see who wrote a reply). Callers show names and roles
    /// only; managing users stays with admins ([`Self::list`]).
    ///
    /// # Errors
    /// `Unexpected`.
    pub async fn directory(&self, scope: &TenantScope) -> AppResult<Vec<User>> {
        Ok(self.users.list(scope).await?)
    }

    /// Adds a user with a generated temporary password, returned once (admin only). Recorded as
    /// `user_created` (the temporary password is not).
    ///
    /// # Errors
    /// `Forbidden`; `Conflict` (`email_taken`); `Unexpected`.
    pub async fn create(&self, ctx: &AuthContext, input: NewUser) -> AppResult<(User, String)> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let temporary = generate_password();
        let password = Password::new(&temporary).map_err(AppError::unexpected)?;
        let hash = self.hasher.hash(&password).await.map_err(AppError::unexpected)?;
        let now = self.clock.now();
        let user = User {
            id: UserId::new(),
            tenant_id: scope.tenant_id(),
            name: input.name,
            email: input.email,
            password_hash: hash,
            role: input.role,
            active: true,
            must_change_password: true,
            created_at: now,
            updated_at: now,
        };
        self.users.create(scope, &user).await.map_err(AppError::from_repo(Entity::User))?;
        tracing::info!(tenant_id = %scope.tenant_id(), user_id = %user.id, "user added");
        let event = ctx
            .event(AuditKind::UserCreated, now)
            .on(user.id, &user.email)
            .with(DetailKey::ToRole, user.role);
        self.audit.record(scope, event).await;
        Ok((user, temporary))
    }

    /// Replaces a user's password with a new temporary one, returned once (admin only). The user
    /// must change it at their next login, and every session they have is ended. Recorded as
    /// `password_reset_by_admin` (the temporary password is not).
    ///
    /// # Errors
    /// `Forbidden`; `NotFound` (also for another tenant's user); `Conflict`
    /// (`own_password_reset`) for the caller themselves; `Unexpected`.
    pub async fn reset_password(&self, ctx: &AuthContext, id: UserId) -> AppResult<String> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        if id == scope.user_id() {
            // It would end the admin's own sessions and replace a password they know with one
            // they must change again: they use the password change instead.
            return Err(AppError::Conflict {
                code: ConflictCode::OwnPasswordReset,
                message: "change your own password with POST /api/auth/password".to_owned(),
            });
        }
        let user = self.users.get(scope, id).await.map_err(AppError::from_repo(Entity::User))?;
        let temporary = generate_password();
        let password = Password::new(&temporary).map_err(AppError::unexpected)?;
        let hash = self.hasher.hash(&password).await.map_err(AppError::unexpected)?;
        let now = self.clock.now();
        self.users
            .set_password(scope, user.id, &hash, true, now)
            .await
            .map_err(AppError::from_repo(Entity::User))?;
        self.sessions.delete_user_sessions(scope.tenant_id(), user.id, None).await?;
        tracing::info!(tenant_id = %scope.tenant_id(), user_id = %user.id, "password reset");
        let event = ctx.event(AuditKind::PasswordResetByAdmin, now).on(user.id, &user.email);
        self.audit.record(scope, event).await;
        Ok(temporary)
    }

    /// Renames, changes the role of, or (de)activates a user (admin only). The last active admin
    /// cannot be demoted or deactivated. A role change or deactivation ends the user's sessions,
    /// so the next request of every open tab signs in again under the new rules. A role change is
    /// recorded as `role_changed` (with both roles), a (de)activation as `user_deactivated` or
    /// `user_reactivated`; a rename alone is not an access change and is not recorded.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound`; `Conflict` (`last_admin`); `Unexpected`.
    pub async fn update(&self, ctx: &AuthContext, id: UserId, patch: UserPatch) -> AppResult<User> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let mut user =
            self.users.get(scope, id).await.map_err(AppError::from_repo(Entity::User))?;
        let before = (user.role, user.active);
        if let Some(name) = patch.name {
            user.name = name;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(active) = patch.active {
            user.active = active;
        }
        user.updated_at = self.clock.now();
        self.users.update(scope, &user).await.map_err(AppError::from_repo(Entity::User))?;
        if before != (user.role, user.active) {
            self.sessions.delete_user_sessions(scope.tenant_id(), user.id, None).await?;
            tracing::info!(tenant_id = %scope.tenant_id(), user_id = %user.id, "user access changed");
        }
        let (role_before, active_before) = before;
        if role_before != user.role {
            let event = ctx
                .event(AuditKind::RoleChanged, user.updated_at)
                .on(user.id, &user.email)
                .with(DetailKey::FromRole, role_before)
                .with(DetailKey::ToRole, user.role);
            self.audit.record(scope, event).await;
        }
        if active_before != user.active {
            let kind =
                if user.active { AuditKind::UserReactivated } else { AuditKind::UserDeactivated };
            let event = ctx.event(kind, user.updated_at).on(user.id, &user.email);
            self.audit.record(scope, event).await;
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use opsflow_domain::{AuditEvent, Policies, SessionId, Slug, Tenant, TenantId, TenantName};
    use time::OffsetDateTime;

    use super::*;
    use crate::auth::{MockPasswordHasher, SystemClock};
    use crate::repos::{MockAuditRepository, MockSessionRepository, MockUserRepository, RepoError};

    fn user(tenant_id: TenantId, email: &str, role: Role) -> User {
        let now = OffsetDateTime::now_utc();
        User {
            id: UserId::new(),
            tenant_id,
            name: PersonName::new("Some One").unwrap(),
            email: Email::parse(email).unwrap(),
            password_hash: "$argon2id$old".to_owned(),
            role,
            active: true,
            must_change_password: false,
            created_at: now,
            updated_at: now,
        }
    }

    /// The documented choice: the audit write failing neither fails nor undoes the reset, and
    /// the event it tried to write names the people but not the temporary password.
    #[tokio::test]
    async fn a_failed_audit_write_does_not_fail_a_password_reset() {
        let now = OffsetDateTime::now_utc();
        let name = TenantName::new("Acme").unwrap();
        let tenant = Tenant {
            id: TenantId::new(),
            slug: Slug::from_name(&name),
            name,
            policies: Policies::default(),
            auto_triage: opsflow_domain::AutoTriageSettings::default(),
            reply_policy: opsflow_domain::ReplyPolicy::default(),
            created_at: now,
            updated_at: now,
        };
        let admin = user(tenant.id, "ada@example.com", Role::Admin);
        let agent = user(tenant.id, "sam@example.com", Role::Agent);
        let ctx = AuthContext {
            scope: TenantScope::new(tenant.id, admin.id, Role::Admin),
            user: admin.clone(),
            tenant,
            session_id: SessionId::new(),
            address: Some("192.0.2.4".to_owned()),
        };

        let mut users = MockUserRepository::new();
        let found = agent.clone();
        users.expect_get().returning(move |_, _| Ok(found.clone()));
        users.expect_set_password().times(1).returning(|_, _, _, _, _| Ok(()));
        let mut sessions = MockSessionRepository::new();
        sessions.expect_delete_user_sessions().times(1).returning(|_, _, _| Ok(2));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("$argon2id$new".to_owned()));
        let tried: Arc<Mutex<Vec<AuditEvent>>> = Arc::default();
        let seen = tried.clone();
        let mut audit = MockAuditRepository::new();
        audit.expect_record().times(1).returning(move |_, e| {
            seen.lock().unwrap().push(e.clone());
            Err(RepoError::unexpected(std::io::Error::other("audit store down")))
        });
        let team = TeamService::new(
            Arc::new(users),
            Arc::new(sessions),
            Arc::new(hasher),
            Arc::new(SystemClock),
            AuditLog::new(Arc::new(audit)),
        );

        let temporary = team.reset_password(&ctx, agent.id).await.expect("the reset stands");
        assert_eq!(temporary.chars().count(), TEMPORARY_PASSWORD_LEN);
        let tried = tried.lock().unwrap();
        let event = &tried[0];
        assert_eq!(event.kind, AuditKind::PasswordResetByAdmin);
        assert_eq!((event.actor, event.target_user), (Some(admin.id), Some(agent.id)));
        assert_eq!(event.ip.as_deref(), Some("192.0.2.4"));
        let text = format!("{event:?}");
        assert!(!text.contains(&temporary) && !text.contains("argon2"), "{text}");
    }

    #[test]
    fn generated_passwords_are_strong_and_valid() {
        let a = generate_password();
        let b = generate_password();
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), TEMPORARY_PASSWORD_LEN);
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert!(a.chars().any(|c| !c.is_ascii_alphanumeric()));
        assert!(Password::new(&a).is_ok());
    }
}
