//! Accounts (sign-up and sign-in lookups), tenants and team members.

use async_trait::async_trait;
use opsflow_domain::{
    AuthSession, Email, Role, SessionId, Slug, Tenant, TenantId, TenantScope, User, UserId,
};
use opsflow_ports::repos::{
    Account, AccountRepository, Conflict, RepoError, RepoResult, SessionRepository,
    TenantRepository, UserRepository,
};
use sqlx::AssertSqlSafe;
use sqlx::{Sqlite, SqliteConnection};
use time::OffsetDateTime;

use super::rows::{self, blob, nanos};
use super::{SqliteStore, db_err};

async fn insert_user(
    conn: &mut SqliteConnection,
    tenant_id: TenantId,
    user: &User,
) -> RepoResult<()> {
    sqlx::query::<Sqlite>(
        "INSERT INTO users (id, tenant_id, name, email, password_hash, role, active, \
         must_change_password, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(blob(user.id.as_uuid()))
    .bind(blob(tenant_id.as_uuid()))
    .bind(user.name.as_str())
    .bind(user.email.as_str())
    .bind(user.password_hash.as_str())
    .bind(user.role.as_str())
    .bind(i64::from(user.active))
    .bind(i64::from(user.must_change_password))
    .bind(nanos(user.created_at)?)
    .bind(nanos(user.updated_at)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn tenant_by_id(conn: &mut SqliteConnection, id: TenantId) -> RepoResult<Tenant> {
    let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
        "SELECT {} FROM tenants WHERE id = ?",
        rows::TENANT_COLS
    )))
    .bind(blob(id.as_uuid()))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(RepoError::NotFound)?;
    rows::tenant(&row)
}

#[async_trait]
impl AccountRepository for SqliteStore {
    async fn create_tenant_with_admin(&self, tenant: &Tenant, admin: &User) -> RepoResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query::<Sqlite>(
            "INSERT INTO tenants (id, name, slug, policies, auto_triage_mode, \
             auto_triage_category, auto_triage_priority, auto_triage_assignee, reply_policy, \
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(blob(tenant.id.as_uuid()))
        .bind(tenant.name.as_str())
        .bind(tenant.slug.as_str())
        .bind(tenant.policies.as_str())
        .bind(tenant.auto_triage.mode.as_str())
        .bind(tenant.auto_triage.thresholds.category.value())
        .bind(tenant.auto_triage.thresholds.priority.value())
        .bind(tenant.auto_triage.thresholds.assignee.value())
        .bind(policy_json(tenant)?)
        .bind(nanos(tenant.created_at)?)
        .bind(nanos(tenant.updated_at)?)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_user(&mut tx, tenant.id, admin).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn slug_exists(&self, slug: &Slug) -> RepoResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM tenants WHERE slug = ?")
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn find_by_email(&self, email: &Email) -> RepoResult<Vec<Account>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let found = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM users WHERE email = ? ORDER BY created_at, id",
            rows::USER_COLS
        )))
        .bind(email.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let mut accounts = Vec::with_capacity(found.len());
        for row in &found {
            let user = rows::user(row)?;
            let tenant = tenant_by_id(&mut conn, user.tenant_id).await?;
            accounts.push(Account { user, tenant });
        }
        Ok(accounts)
    }

    async fn find_user(&self, tenant_id: TenantId, user_id: UserId) -> RepoResult<Account> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let user = user_in(&mut conn, tenant_id, user_id).await?;
        let tenant = tenant_by_id(&mut conn, tenant_id).await?;
        Ok(Account { user, tenant })
    }
}

async fn user_in(conn: &mut SqliteConnection, tenant_id: TenantId, id: UserId) -> RepoResult<User> {
    let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
        "SELECT {} FROM users WHERE tenant_id = ? AND id = ?",
        rows::USER_COLS
    )))
    .bind(blob(tenant_id.as_uuid()))
    .bind(blob(id.as_uuid()))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(RepoError::NotFound)?;
    rows::user(&row)
}

#[async_trait]
impl TenantRepository for SqliteStore {
    async fn get(&self, scope: &TenantScope) -> RepoResult<Tenant> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        tenant_by_id(&mut conn, scope.tenant_id()).await
    }

    async fn update(&self, scope: &TenantScope, tenant: &Tenant) -> RepoResult<()> {
        if tenant.id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE tenants SET name = ?, policies = ?, auto_triage_mode = ?, \
             auto_triage_category = ?, auto_triage_priority = ?, auto_triage_assignee = ?, \
             reply_policy = ?, updated_at = ? WHERE id = ?",
        )
        .bind(tenant.name.as_str())
        .bind(tenant.policies.as_str())
        .bind(tenant.auto_triage.mode.as_str())
        .bind(tenant.auto_triage.thresholds.category.value())
        .bind(tenant.auto_triage.thresholds.priority.value())
        .bind(tenant.auto_triage.thresholds.assignee.value())
        .bind(policy_json(tenant)?)
        .bind(nanos(tenant.updated_at)?)
        .bind(blob(scope.tenant_id().as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}

#[async_trait]
impl UserRepository for SqliteStore {
    async fn create(&self, scope: &TenantScope, user: &User) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        // Written under the scope's tenant whatever the struct says: no write crosses tenants.
        insert_user(&mut conn, scope.tenant_id(), user).await
    }

    async fn get(&self, scope: &TenantScope, id: UserId) -> RepoResult<User> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        user_in(&mut conn, scope.tenant_id(), id).await
    }

    async fn list(&self, scope: &TenantScope) -> RepoResult<Vec<User>> {
        let found = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM users WHERE tenant_id = ? ORDER BY created_at, id",
            rows::USER_COLS
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows::all(&found, rows::user)
    }

    async fn update(&self, scope: &TenantScope, user: &User) -> RepoResult<()> {
        let tenant = blob(scope.tenant_id().as_uuid());
        let id = blob(user.id.as_uuid());
        // The write lock is held from the check to the update, so two concurrent demotions of
        // the last two admins cannot both pass the check.
        let mut tx = self.begin_write().await?;
        let current = user_in(&mut tx, scope.tenant_id(), user.id).await?;
        let was_active_admin = current.active && current.role == Role::Admin;
        let stays_active_admin = user.active && user.role == Role::Admin;
        if was_active_admin && !stays_active_admin {
            let others: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = 'admin' AND active = 1 \
                 AND id <> ?",
            )
            .bind(tenant.clone())
            .bind(id.clone())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if others == 0 {
                return Err(RepoError::Conflict(Conflict::LastAdmin));
            }
        }
        sqlx::query::<Sqlite>(
            "UPDATE users SET name = ?, role = ?, active = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(user.name.as_str())
        .bind(user.role.as_str())
        .bind(i64::from(user.active))
        .bind(nanos(user.updated_at)?)
        .bind(tenant)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn set_password(
        &self,
        scope: &TenantScope,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(password_hash)
        .bind(i64::from(must_change_password))
        .bind(nanos(now)?)
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}

#[async_trait]
impl SessionRepository for SqliteStore {
    async fn create_session(&self, session: &AuthSession) -> RepoResult<()> {
        let _write = self.write_lock().await;
        sqlx::query::<Sqlite>(
            "INSERT INTO auth_sessions (id, tenant_id, user_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(blob(session.id.as_uuid()))
        .bind(blob(session.tenant_id.as_uuid()))
        .bind(blob(session.user_id.as_uuid()))
        .bind(nanos(session.created_at)?)
        .bind(nanos(session.expires_at)?)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session_is_live(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        id: SessionId,
        now: OffsetDateTime,
    ) -> RepoResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM auth_sessions WHERE id = ? AND tenant_id = ? AND user_id = ? \
             AND expires_at > ?",
        )
        .bind(blob(id.as_uuid()))
        .bind(blob(tenant_id.as_uuid()))
        .bind(blob(user_id.as_uuid()))
        .bind(nanos(now)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn delete_session(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        id: SessionId,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        sqlx::query::<Sqlite>(
            "DELETE FROM auth_sessions WHERE id = ? AND tenant_id = ? AND user_id = ?",
        )
        .bind(blob(id.as_uuid()))
        .bind(blob(tenant_id.as_uuid()))
        .bind(blob(user_id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn delete_user_sessions(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> RepoResult<u64> {
        let _write = self.write_lock().await;
        // A zero id never matches a real (v7) session id, so "keep nothing" needs no second query.
        let keep = keep.map_or_else(|| blob(uuid::Uuid::nil()), |k| blob(k.as_uuid()));
        let done = sqlx::query::<Sqlite>(
            "DELETE FROM auth_sessions WHERE tenant_id = ? AND user_id = ? AND id <> ?",
        )
        .bind(blob(tenant_id.as_uuid()))
        .bind(blob(user_id.as_uuid()))
        .bind(keep)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected())
    }

    async fn prune_expired_sessions(&self, now: OffsetDateTime) -> RepoResult<u64> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>("DELETE FROM auth_sessions WHERE expires_at <= ?")
            .bind(nanos(now)?)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

/// The tenant's structured reply policies as stored in `tenants.reply_policy` (their serde shape).
fn policy_json(tenant: &Tenant) -> RepoResult<String> {
    serde_json::to_string(&tenant.reply_policy).map_err(RepoError::unexpected)
}
