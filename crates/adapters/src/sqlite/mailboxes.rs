//! Workspace mailboxes: settings, the IMAP poller's cursor, status and lease, one row per tenant.

use async_trait::async_trait;
use opsflow_domain::mailbox::{MailboxSettings, MailboxStatus};
use opsflow_domain::{TenantId, TenantScope};
use opsflow_ports::repos::{MailboxCursor, MailboxRepository, RepoError, RepoResult};
use sqlx::{AssertSqlSafe, Sqlite};
use time::{Duration, OffsetDateTime};

use super::rows::{self, blob, nanos, uuid};
use super::{SqliteStore, db_err};

impl SqliteStore {
    async fn settings_of(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxSettings>> {
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM mailboxes WHERE tenant_id = ?",
            rows::MAILBOX_COLS
        )))
        .bind(blob(tenant_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(rows::mailbox).transpose()
    }

    async fn status_of(&self, tenant_id: TenantId) -> RepoResult<MailboxStatus> {
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM mailboxes WHERE tenant_id = ?",
            rows::MAILBOX_STATUS_COLS
        )))
        .bind(blob(tenant_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.as_ref().map(rows::mailbox_status).transpose()?.unwrap_or_default())
    }
}

fn one_row(affected: u64) -> RepoResult<()> {
    if affected == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

#[async_trait]
impl MailboxRepository for SqliteStore {
    async fn get_mailbox(&self, scope: &TenantScope) -> RepoResult<Option<MailboxSettings>> {
        self.settings_of(scope.tenant_id()).await
    }

    async fn put_mailbox(
        &self,
        scope: &TenantScope,
        s: &MailboxSettings,
        reset_cursor: bool,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        sqlx::query::<Sqlite>(
            "INSERT INTO mailboxes (tenant_id, enabled, imap_host, imap_port, imap_security, \
             imap_username, imap_password, imap_folder, smtp_host, smtp_port, smtp_security, \
             smtp_username, smtp_password, from_address, from_name, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
             ON CONFLICT (tenant_id) DO UPDATE SET enabled = ?2, imap_host = ?3, imap_port = ?4, \
             imap_security = ?5, imap_username = ?6, imap_password = ?7, imap_folder = ?8, \
             smtp_host = ?9, smtp_port = ?10, smtp_security = ?11, smtp_username = ?12, \
             smtp_password = ?13, from_address = ?14, from_name = ?15, updated_at = ?16, \
             next_retry_at = NULL, consecutive_failures = 0, \
             uid_validity = CASE WHEN ?17 THEN NULL ELSE uid_validity END, \
             last_uid = CASE WHEN ?17 THEN NULL ELSE last_uid END",
        )
        // The tenant comes from the scope, never from the settings: no write crosses tenants.
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(i64::from(s.enabled))
        .bind(s.imap.host.as_str())
        .bind(i64::from(s.imap.port))
        .bind(s.imap.security.as_str())
        .bind(s.imap.username.as_str())
        .bind(s.imap.password_sealed.as_deref())
        .bind(s.imap.folder.as_str())
        .bind(s.smtp.host.as_str())
        .bind(i64::from(s.smtp.port))
        .bind(s.smtp.security.as_str())
        .bind(s.smtp.username.as_deref())
        .bind(s.smtp.password_sealed.as_deref())
        .bind(s.from_address.as_str())
        .bind(s.from_name.as_str())
        .bind(nanos(s.updated_at)?)
        .bind(reset_cursor)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn get_mailbox_status(&self, scope: &TenantScope) -> RepoResult<MailboxStatus> {
        self.status_of(scope.tenant_id()).await
    }

    async fn enabled_mailboxes(&self) -> RepoResult<Vec<TenantId>> {
        let rows = sqlx::query::<Sqlite>(
            "SELECT tenant_id FROM mailboxes WHERE enabled = 1 ORDER BY tenant_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| Ok(TenantId::from_uuid(uuid(r, "tenant_id")?))).collect()
    }

    async fn mailbox_settings(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxSettings>> {
        self.settings_of(tenant_id).await
    }

    async fn mailbox_status(&self, tenant_id: TenantId) -> RepoResult<MailboxStatus> {
        self.status_of(tenant_id).await
    }

    async fn record_fetch_success(
        &self,
        tenant_id: TenantId,
        at: OffsetDateTime,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE mailboxes SET last_fetch_at = ?, next_retry_at = NULL, \
             consecutive_failures = 0 WHERE tenant_id = ?",
        )
        .bind(nanos(at)?)
        .bind(blob(tenant_id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        one_row(done.rows_affected())
    }

    async fn record_fetch_failure(
        &self,
        tenant_id: TenantId,
        at: OffsetDateTime,
        error: &str,
        next_retry_at: OffsetDateTime,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE mailboxes SET last_error = ?, last_error_at = ?, next_retry_at = ?, \
             consecutive_failures = consecutive_failures + 1 WHERE tenant_id = ?",
        )
        .bind(error.to_owned())
        .bind(nanos(at)?)
        .bind(nanos(next_retry_at)?)
        .bind(blob(tenant_id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        one_row(done.rows_affected())
    }

    async fn imap_cursor(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxCursor>> {
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as::<Sqlite, (Option<i64>, Option<i64>)>(
                "SELECT uid_validity, last_uid FROM mailboxes WHERE tenant_id = ?",
            )
            .bind(blob(tenant_id.as_uuid()))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            Some((Some(v), Some(l))) => Ok(Some(MailboxCursor {
                uid_validity: u32::try_from(v).map_err(RepoError::unexpected)?,
                last_uid: u32::try_from(l).map_err(RepoError::unexpected)?,
            })),
            _ => Ok(None),
        }
    }

    async fn set_imap_cursor(&self, tenant_id: TenantId, cursor: MailboxCursor) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let v = i64::from(cursor.uid_validity);
        let l = i64::from(cursor.last_uid);
        let id = blob(tenant_id.as_uuid());
        let done = sqlx::query::<Sqlite>(
            "UPDATE mailboxes SET uid_validity = ?1, last_uid = ?2 WHERE tenant_id = ?3 \
             AND (uid_validity IS NULL OR last_uid IS NULL OR uid_validity <> ?1 OR last_uid < ?2)",
        )
        .bind(v)
        .bind(l)
        .bind(id.clone())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            // Either no mailbox, or the cursor is already at or past this point (kept).
            let exists = sqlx::query_scalar::<Sqlite, i64>(
                "SELECT COUNT(*) FROM mailboxes WHERE tenant_id = ?",
            )
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
            if exists == 0 {
                return Err(RepoError::NotFound);
            }
        }
        Ok(())
    }

    async fn try_lease(
        &self,
        tenant_id: TenantId,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> RepoResult<bool> {
        let _write = self.write_lock().await;
        // One conditional statement: atomic against other pools (processes) on the file too.
        let done = sqlx::query::<Sqlite>(
            "UPDATE mailboxes SET lease_holder = ?1, lease_until = ?2 WHERE tenant_id = ?3 \
             AND (lease_holder IS NULL OR lease_until IS NULL OR lease_until <= ?4 \
             OR lease_holder = ?1)",
        )
        .bind(holder.to_owned())
        .bind(nanos(now + ttl)?)
        .bind(blob(tenant_id.as_uuid()))
        .bind(nanos(now)?)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, tenant_id: TenantId, holder: &str) -> RepoResult<()> {
        let _write = self.write_lock().await;
        sqlx::query::<Sqlite>(
            "UPDATE mailboxes SET lease_holder = NULL, lease_until = NULL \
             WHERE tenant_id = ? AND lease_holder = ?",
        )
        .bind(blob(tenant_id.as_uuid()))
        .bind(holder.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
