//! Webhook endpoints and their message queue on SQLite: claims are one `UPDATE … RETURNING`
//! under the write lock; an attempt's outcome and the endpoint's failure count are written in
//! one transaction.

use async_trait::async_trait;
use opsflow_domain::webhook::{
    AttemptOutcome, WebhookDelivery, WebhookDeliveryId, WebhookDeliveryStatus, WebhookEndpoint,
    WebhookEndpointId, WebhookEventType, WebhookEvents, WebhookUrl,
};
use opsflow_domain::{Page, TenantId, TenantScope};
use opsflow_ports::repos::{
    ClaimedWebhook, Conflict, DeliveryQuery, RepoError, RepoResult, WebhookRepository,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection};
use time::{Duration, OffsetDateTime};

use super::rows::{blob, get, nanos, opt_nanos, opt_ts, text, ts, uuid};
use super::{SqliteStore, db_err};

const ENDPOINT_COLS: &str = "id, tenant_id, url, description, events, enabled, disabled_reason, \
     consecutive_failures, secret_sealed, created_at, updated_at";
const DELIVERY_COLS: &str = "id, tenant_id, endpoint_id, event_type, payload, status, attempts, \
     next_attempt_at, lease_until, last_status, last_error, response_excerpt, created_at, \
     updated_at";

fn u32_col(row: &SqliteRow, col: &str) -> RepoResult<u32> {
    let n: i64 = get(row, col)?;
    u32::try_from(n).map_err(RepoError::unexpected)
}

fn events_json(events: &WebhookEvents) -> RepoResult<String> {
    serde_json::to_string(&events.iter().map(|e| e.as_str()).collect::<Vec<_>>())
        .map_err(RepoError::unexpected)
}

fn endpoint(row: &SqliteRow) -> RepoResult<WebhookEndpoint> {
    let events: Vec<String> =
        serde_json::from_str(&text(row, "events")?).map_err(RepoError::unexpected)?;
    let enabled: i64 = get(row, "enabled")?;
    Ok(WebhookEndpoint {
        id: WebhookEndpointId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        url: WebhookUrl::parse(&text(row, "url")?).map_err(RepoError::unexpected)?,
        description: text(row, "description")?,
        events: WebhookEvents::parse(&events).map_err(RepoError::unexpected)?,
        enabled: enabled != 0,
        disabled_reason: get(row, "disabled_reason")?,
        consecutive_failures: u32_col(row, "consecutive_failures")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn delivery(row: &SqliteRow) -> RepoResult<WebhookDelivery> {
    let event: String = text(row, "event_type")?;
    let status: String = text(row, "status")?;
    let last_status: Option<i64> = get(row, "last_status")?;
    Ok(WebhookDelivery {
        id: WebhookDeliveryId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        endpoint_id: WebhookEndpointId::from_uuid(uuid(row, "endpoint_id")?),
        event_type: event.parse::<WebhookEventType>().map_err(RepoError::unexpected)?,
        payload: text(row, "payload")?,
        status: WebhookDeliveryStatus::parse(&status).map_err(RepoError::unexpected)?,
        attempts: u32_col(row, "attempts")?,
        next_attempt_at: ts(row, "next_attempt_at")?,
        lease_until: opt_ts(row, "lease_until")?,
        last_status: last_status.map(u16::try_from).transpose().map_err(RepoError::unexpected)?,
        last_error: get(row, "last_error")?,
        response_excerpt: get(row, "response_excerpt")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

async fn get_endpoint(
    conn: &mut SqliteConnection,
    tenant_id: TenantId,
    id: WebhookEndpointId,
) -> RepoResult<Option<(WebhookEndpoint, String)>> {
    let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = ? AND id = ?"
    )))
    .bind(blob(tenant_id.as_uuid()))
    .bind(blob(id.as_uuid()))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    row.map(|r| Ok((endpoint(&r)?, text(&r, "secret_sealed")?))).transpose()
}

#[async_trait]
impl WebhookRepository for SqliteStore {
    async fn create_webhook(
        &self,
        scope: &TenantScope,
        e: &WebhookEndpoint,
        sealed_secret: &str,
    ) -> RepoResult<()> {
        if e.tenant_id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let _write = self.write_lock().await;
        sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )))
        .bind(blob(e.id.as_uuid()))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(e.url.as_str())
        .bind(e.description.as_str())
        .bind(events_json(&e.events)?)
        .bind(i64::from(e.enabled))
        .bind(e.disabled_reason.as_deref())
        .bind(i64::from(e.consecutive_failures))
        .bind(sealed_secret)
        .bind(nanos(e.created_at)?)
        .bind(nanos(e.updated_at)?)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_webhooks(&self, scope: &TenantScope) -> RepoResult<Vec<WebhookEndpoint>> {
        let rows = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = ? \
             ORDER BY created_at, id"
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(endpoint).collect()
    }

    async fn get_webhook(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
    ) -> RepoResult<WebhookEndpoint> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        get_endpoint(&mut conn, scope.tenant_id(), id)
            .await?
            .map(|(e, _)| e)
            .ok_or(RepoError::NotFound)
    }

    async fn update_webhook(&self, scope: &TenantScope, e: &WebhookEndpoint) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE webhook_endpoints SET url = ?, description = ?, events = ?, enabled = ?, \
             disabled_reason = ?, consecutive_failures = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(e.url.as_str())
        .bind(e.description.as_str())
        .bind(events_json(&e.events)?)
        .bind(i64::from(e.enabled))
        .bind(e.disabled_reason.as_deref())
        .bind(i64::from(e.consecutive_failures))
        .bind(nanos(e.updated_at)?)
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(e.id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn set_webhook_secret(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
        sealed_secret: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE webhook_endpoints SET secret_sealed = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(sealed_secret)
        .bind(nanos(now)?)
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn delete_webhook(&self, scope: &TenantScope, id: WebhookEndpointId) -> RepoResult<()> {
        let mut tx = self.begin_write().await?;
        let tenant = blob(scope.tenant_id().as_uuid());
        sqlx::query::<Sqlite>(
            "DELETE FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?",
        )
        .bind(tenant.clone())
        .bind(blob(id.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let done =
            sqlx::query::<Sqlite>("DELETE FROM webhook_endpoints WHERE tenant_id = ? AND id = ?")
                .bind(tenant)
                .bind(blob(id.as_uuid()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(RepoError::NotFound);
        }
        tx.commit().await.map_err(db_err)
    }

    async fn enqueue_webhooks(
        &self,
        scope: &TenantScope,
        deliveries: &[WebhookDelivery],
    ) -> RepoResult<()> {
        if deliveries.iter().any(|d| d.tenant_id != scope.tenant_id()) {
            return Err(RepoError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        for d in deliveries {
            // The endpoint must be the tenant's: the INSERT … SELECT writes nothing otherwise.
            let done = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
                "INSERT INTO webhook_deliveries ({DELIVERY_COLS}) \
                 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
                 WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE tenant_id = ? AND id = ?)"
            )))
            .bind(blob(d.id.as_uuid()))
            .bind(blob(d.tenant_id.as_uuid()))
            .bind(blob(d.endpoint_id.as_uuid()))
            .bind(d.event_type.as_str())
            .bind(d.payload.as_str())
            .bind(d.status.as_str())
            .bind(i64::from(d.attempts))
            .bind(nanos(d.next_attempt_at)?)
            .bind(opt_nanos(d.lease_until)?)
            .bind(d.last_status.map(i64::from))
            .bind(d.last_error.as_deref())
            .bind(d.response_excerpt.as_deref())
            .bind(nanos(d.created_at)?)
            .bind(nanos(d.updated_at)?)
            .bind(blob(scope.tenant_id().as_uuid()))
            .bind(blob(d.endpoint_id.as_uuid()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            if done.rows_affected() == 0 {
                return Err(RepoError::NotFound);
            }
        }
        tx.commit().await.map_err(db_err)
    }

    async fn claim_next_webhook(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<ClaimedWebhook>> {
        let mut tx = self.begin_write().await?;
        let now_n = nanos(now)?;
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = ?, updated_at = ? \
             WHERE id = (SELECT id FROM webhook_deliveries \
                         WHERE status IN ('queued', 'retrying') AND next_attempt_at <= ? \
                           AND (lease_until IS NULL OR lease_until < ?) \
                         ORDER BY next_attempt_at, id LIMIT 1) \
             RETURNING {DELIVERY_COLS}"
        )))
        .bind(nanos(now + lease)?)
        .bind(now_n)
        .bind(now_n)
        .bind(now_n)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let d = delivery(&row)?;
        let found = get_endpoint(&mut tx, d.tenant_id, d.endpoint_id).await?;
        tx.commit().await.map_err(db_err)?;
        let (endpoint, sealed_secret) = found.ok_or_else(|| {
            RepoError::unexpected(format!("webhook message {} has no endpoint", d.id))
        })?;
        Ok(Some(ClaimedWebhook { delivery: d, endpoint, sealed_secret }))
    }

    async fn record_webhook_attempt(
        &self,
        tenant_id: TenantId,
        id: WebhookDeliveryId,
        attempt: u32,
        outcome: &AttemptOutcome,
        now: OffsetDateTime,
        disable_after: u32,
    ) -> RepoResult<Option<WebhookEndpoint>> {
        let mut tx = self.begin_write().await?;
        let tenant = blob(tenant_id.as_uuid());
        let row = sqlx::query::<Sqlite>(
            "UPDATE webhook_deliveries SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at), \
             lease_until = NULL, last_status = ?, last_error = ?, response_excerpt = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ? AND attempts = ? AND lease_until IS NOT NULL \
             RETURNING endpoint_id",
        )
        .bind(outcome.status.as_str())
        .bind(opt_nanos(outcome.next_attempt_at)?)
        .bind(outcome.http_status.map(i64::from))
        .bind(outcome.error.as_deref())
        .bind(outcome.response_excerpt.as_deref())
        .bind(nanos(now)?)
        .bind(tenant.clone())
        .bind(blob(id.as_uuid()))
        .bind(i64::from(attempt))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Err(RepoError::NotFound) };
        let endpoint_id = WebhookEndpointId::from_uuid(uuid(&row, "endpoint_id")?);
        if outcome.is_failure() {
            let reason = format!(
                "disabled automatically after {disable_after} failed attempts in a row; last: {}",
                outcome.error.as_deref().unwrap_or("failed")
            );
            sqlx::query::<Sqlite>(
                "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
                 enabled = CASE WHEN enabled = 1 AND consecutive_failures + 1 >= ? THEN 0 ELSE enabled END, \
                 disabled_reason = CASE WHEN enabled = 1 AND consecutive_failures + 1 >= ? \
                                   THEN ? ELSE disabled_reason END, \
                 updated_at = CASE WHEN enabled = 1 AND consecutive_failures + 1 >= ? THEN ? ELSE updated_at END \
                 WHERE tenant_id = ? AND id = ?",
            )
            .bind(i64::from(disable_after))
            .bind(i64::from(disable_after))
            .bind(reason)
            .bind(i64::from(disable_after))
            .bind(nanos(now)?)
            .bind(tenant.clone())
            .bind(blob(endpoint_id.as_uuid()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        } else {
            sqlx::query::<Sqlite>(
                "UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE tenant_id = ? AND id = ?",
            )
            .bind(tenant.clone())
            .bind(blob(endpoint_id.as_uuid()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let endpoint = get_endpoint(&mut tx, tenant_id, endpoint_id).await?.map(|(e, _)| e);
        tx.commit().await.map_err(db_err)?;
        Ok(endpoint)
    }

    async fn list_webhook_deliveries(
        &self,
        scope: &TenantScope,
        endpoint_id: WebhookEndpointId,
        query: &DeliveryQuery,
    ) -> RepoResult<Page<WebhookDelivery>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        if get_endpoint(&mut conn, scope.tenant_id(), endpoint_id).await?.is_none() {
            return Err(RepoError::NotFound);
        }
        let tenant = blob(scope.tenant_id().as_uuid());
        let status_sql = if query.status.is_some() { " AND status = ?" } else { "" };
        let mut count = sqlx::query_scalar::<Sqlite, i64>(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ?{status_sql}"
        )))
        .bind(tenant.clone())
        .bind(blob(endpoint_id.as_uuid()));
        if let Some(s) = query.status {
            count = count.bind(s.as_str());
        }
        let total = count.fetch_one(&mut *conn).await.map_err(db_err)?;
        let per_page = i64::from(query.per_page.max(1));
        let offset = i64::from(query.page.max(1) - 1) * per_page;
        let mut q = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries \
             WHERE tenant_id = ? AND endpoint_id = ?{status_sql} \
             ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        )))
        .bind(tenant)
        .bind(blob(endpoint_id.as_uuid()));
        if let Some(s) = query.status {
            q = q.bind(s.as_str());
        }
        let rows = q.bind(per_page).bind(offset).fetch_all(&mut *conn).await.map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(delivery).collect::<RepoResult<_>>()?,
            total: u64::try_from(total).map_err(RepoError::unexpected)?,
        })
    }

    async fn retry_webhook_delivery(
        &self,
        scope: &TenantScope,
        endpoint_id: WebhookEndpointId,
        id: WebhookDeliveryId,
        now: OffsetDateTime,
    ) -> RepoResult<WebhookDelivery> {
        let _write = self.write_lock().await;
        let tenant = blob(scope.tenant_id().as_uuid());
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET status = 'queued', attempts = 0, next_attempt_at = ?, \
             lease_until = NULL, updated_at = ? \
             WHERE tenant_id = ? AND endpoint_id = ? AND id = ? \
               AND status IN ('succeeded', 'failed') \
             RETURNING {DELIVERY_COLS}"
        )))
        .bind(nanos(now)?)
        .bind(nanos(now)?)
        .bind(tenant.clone())
        .bind(blob(endpoint_id.as_uuid()))
        .bind(blob(id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if let Some(row) = row {
            return delivery(&row);
        }
        let exists = sqlx::query_scalar::<Sqlite, i64>(
            "SELECT 1 FROM webhook_deliveries WHERE tenant_id = ? AND endpoint_id = ? AND id = ?",
        )
        .bind(tenant)
        .bind(blob(endpoint_id.as_uuid()))
        .bind(blob(id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Err(if exists.is_some() {
            RepoError::Conflict(Conflict::WebhookDeliveryPending)
        } else {
            RepoError::NotFound
        })
    }
}
