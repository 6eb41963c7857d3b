//! The workspace audit log (append-only).

use async_trait::async_trait;
use opsflow_domain::{AuditEvent, AuditQuery, Page, TenantScope};
use opsflow_ports::repos::{AuditRepository, RepoError, RepoResult};
use sqlx::{AssertSqlSafe, Sqlite};

use super::rows::{self, Arg, blob, int, nanos};
use super::tickets::bind;
use super::{SqliteStore, db_err};

/// The `WHERE` clause of a log query and its arguments; the tenant always comes first.
fn filter(scope: &TenantScope, q: &AuditQuery) -> RepoResult<(String, Vec<Arg>)> {
    let mut sql = String::from("tenant_id = ?");
    let mut args = vec![Arg::Blob(blob(scope.tenant_id().as_uuid()))];
    if !q.kinds.is_empty() {
        let marks = vec!["?"; q.kinds.len()].join(", ");
        sql.push_str(&format!(" AND kind IN ({marks})"));
        args.extend(q.kinds.iter().map(|k| Arg::Text(k.as_str().to_owned())));
    }
    if let Some(actor) = q.actor {
        sql.push_str(" AND actor_id = ?");
        args.push(Arg::Blob(blob(actor.as_uuid())));
    }
    if let Some(from) = q.from {
        sql.push_str(" AND at >= ?");
        args.push(Arg::Int(nanos(from)?));
    }
    if let Some(to) = q.to {
        sql.push_str(" AND at < ?");
        args.push(Arg::Int(nanos(to)?));
    }
    Ok((sql, args))
}

#[async_trait]
impl AuditRepository for SqliteStore {
    async fn record(&self, scope: &TenantScope, event: &AuditEvent) -> RepoResult<()> {
        let detail = serde_json::to_string(&event.detail).map_err(RepoError::unexpected)?;
        let _write = self.write_lock().await;
        // Written under the scope's tenant whatever the event says: no write crosses tenants.
        sqlx::query::<Sqlite>(
            "INSERT INTO audit_events (id, tenant_id, at, kind, actor_id, actor_email, \
             target_user_id, target_email, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(blob(event.id.as_uuid()))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(nanos(event.at)?)
        .bind(event.kind.as_str())
        .bind(event.actor.map(|u| blob(u.as_uuid())))
        .bind(event.actor_email.as_ref().map(|e| e.as_str().to_owned()))
        .bind(event.target_user.map(|u| blob(u.as_uuid())))
        .bind(event.target_email.as_ref().map(|e| e.as_str().to_owned()))
        .bind(event.ip.clone())
        .bind(detail)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> RepoResult<Page<AuditEvent>> {
        let (filter, args) = filter(scope, query)?;
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let mut count = sqlx::query_scalar::<Sqlite, i64>(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM audit_events WHERE {filter}"
        )));
        for a in &args {
            count = match a {
                Arg::Blob(b) => count.bind(b.clone()),
                Arg::Text(s) => count.bind(s.clone()),
                Arg::Int(n) => count.bind(*n),
                Arg::Null => count.bind(None::<i64>),
            };
        }
        let total = count.fetch_one(&mut *conn).await.map_err(db_err)?;
        let total = u64::try_from(total).map_err(RepoError::unexpected)?;
        if total <= query.offset() {
            return Ok(Page { items: Vec::new(), total });
        }
        let mut page = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM audit_events WHERE {filter} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
            rows::AUDIT_COLS
        )));
        for a in &args {
            page = bind(page, a);
        }
        let found = page
            .bind(i64::from(query.per_page))
            .bind(int(query.offset())?)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(Page { items: rows::all(&found, rows::audit_event)?, total })
    }
}
