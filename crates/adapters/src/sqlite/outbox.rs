//! The email outbox on SQLite: rows written in the reply's transaction, claimed by workers with
//! one `UPDATE … RETURNING` under the write lock.

use async_trait::async_trait;
use opsflow_domain::email::{Mailbox, OutboundEmail};
use opsflow_domain::outbox::{Delivery, DeliveryState, OutboxMessage};
use opsflow_domain::{Email, ReplyId, TenantId, TenantScope, TicketId, TicketReply, TicketStatus};
use opsflow_ports::repos::{Conflict, OutboxRepository, RepoError, RepoResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection};
use time::{Duration, OffsetDateTime};

use super::rows::{blob, get, nanos, opt_nanos, opt_ts, text, ts, uuid};
use super::{SqliteStore, db_err};

const COLS: &str = "reply_id, tenant_id, ticket_id, from_name, from_email, to_name, to_email, \
     subject, body, message_id, in_reply_to, refs, state, attempts, next_attempt_at, last_error, \
     lease_until, sent_at, created_at";

/// Inserts a queued email (inside the reply's transaction).
pub(super) async fn insert_email(conn: &mut SqliteConnection, m: &OutboxMessage) -> RepoResult<()> {
    let refs = serde_json::to_string(&m.email.references).map_err(RepoError::unexpected)?;
    sqlx::query::<Sqlite>(AssertSqlSafe(format!(
        "INSERT INTO email_outbox ({COLS}) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(blob(m.reply_id.as_uuid()))
    .bind(blob(m.tenant_id.as_uuid()))
    .bind(blob(m.ticket_id.as_uuid()))
    .bind(m.email.from.name.as_deref())
    .bind(m.email.from.email.as_str())
    .bind(m.email.to.name.as_deref())
    .bind(m.email.to.email.as_str())
    .bind(m.email.subject.as_str())
    .bind(m.email.body.as_str())
    .bind(m.email.message_id.as_str())
    .bind(m.email.in_reply_to.as_deref())
    .bind(refs)
    .bind(m.state.as_str())
    .bind(i64::from(m.attempts))
    .bind(nanos(m.next_attempt_at)?)
    .bind(m.last_error.as_deref())
    .bind(opt_nanos(m.lease_until)?)
    .bind(opt_nanos(m.sent_at)?)
    .bind(nanos(m.created_at)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn email_addr(row: &SqliteRow, col: &str) -> RepoResult<Email> {
    Email::parse(&text(row, col)?).map_err(RepoError::unexpected)
}

fn state(row: &SqliteRow) -> RepoResult<DeliveryState> {
    let raw = text(row, "state")?;
    DeliveryState::parse(&raw)
        .ok_or_else(|| RepoError::unexpected(format!("unknown outbox state {raw:?}")))
}

fn attempts(row: &SqliteRow) -> RepoResult<u32> {
    let n: i64 = get(row, "attempts")?;
    u32::try_from(n).map_err(RepoError::unexpected)
}

fn message(row: &SqliteRow) -> RepoResult<OutboxMessage> {
    let refs: String = text(row, "refs")?;
    Ok(OutboxMessage {
        reply_id: ReplyId::from_uuid(uuid(row, "reply_id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        ticket_id: TicketId::from_uuid(uuid(row, "ticket_id")?),
        email: OutboundEmail {
            from: Mailbox { name: get(row, "from_name")?, email: email_addr(row, "from_email")? },
            to: Mailbox { name: get(row, "to_name")?, email: email_addr(row, "to_email")? },
            subject: text(row, "subject")?,
            body: text(row, "body")?,
            message_id: text(row, "message_id")?,
            in_reply_to: get(row, "in_reply_to")?,
            references: serde_json::from_str(&refs).map_err(RepoError::unexpected)?,
        },
        state: state(row)?,
        attempts: attempts(row)?,
        next_attempt_at: ts(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        lease_until: opt_ts(row, "lease_until")?,
        sent_at: opt_ts(row, "sent_at")?,
        created_at: ts(row, "created_at")?,
    })
}

impl SqliteStore {
    /// Moves a claimed (`sending`, this `attempt`) row on; `NotFound` when the claim was lost.
    async fn finish_claim(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        set: &str,
        binds: Vec<Option<BindValue>>,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let mut q = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "UPDATE email_outbox SET {set}, lease_until = NULL \
             WHERE tenant_id = ? AND reply_id = ? AND state = 'sending' AND attempts = ?"
        )));
        for b in binds {
            q = match b {
                Some(BindValue::Int(n)) => q.bind(n),
                Some(BindValue::Text(t)) => q.bind(t),
                None => q.bind(None::<i64>),
            };
        }
        let done = q
            .bind(blob(tenant_id.as_uuid()))
            .bind(blob(reply_id.as_uuid()))
            .bind(i64::from(attempt))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}

enum BindValue {
    Int(i64),
    Text(String),
}

#[async_trait]
impl OutboxRepository for SqliteStore {
    async fn add_reply_with_email(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        email: &OutboxMessage,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        self.add_reply(scope, reply, set_status, consume_draft, Some(email), now).await
    }

    async fn claim_next_email(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<OutboxMessage>> {
        // One statement under the write lock: two workers never pick the same row.
        let _write = self.write_lock().await;
        let now_n = nanos(now)?;
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "UPDATE email_outbox SET state = 'sending', attempts = attempts + 1, lease_until = ? \
             WHERE reply_id = (SELECT reply_id FROM email_outbox \
                               WHERE (state = 'queued' AND next_attempt_at <= ?) \
                                  OR (state = 'sending' AND lease_until < ?) \
                               ORDER BY next_attempt_at, reply_id LIMIT 1) \
             RETURNING {COLS}"
        )))
        .bind(nanos(now + lease)?)
        .bind(now_n)
        .bind(now_n)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(message).transpose()
    }

    async fn mark_sent(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        self.finish_claim(
            tenant_id,
            reply_id,
            attempt,
            "state = 'sent', sent_at = ?, last_error = NULL",
            vec![Some(BindValue::Int(nanos(now)?))],
        )
        .await
    }

    async fn mark_retry(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> RepoResult<()> {
        self.finish_claim(
            tenant_id,
            reply_id,
            attempt,
            "state = 'queued', next_attempt_at = ?, last_error = ?",
            vec![
                Some(BindValue::Int(nanos(next_attempt_at)?)),
                Some(BindValue::Text(error.to_owned())),
            ],
        )
        .await
    }

    async fn mark_failed(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        error: &str,
    ) -> RepoResult<()> {
        self.finish_claim(
            tenant_id,
            reply_id,
            attempt,
            "state = 'failed', last_error = ?",
            vec![Some(BindValue::Text(error.to_owned()))],
        )
        .await
    }

    async fn retry_delivery(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        reply_id: ReplyId,
        now: OffsetDateTime,
    ) -> RepoResult<Delivery> {
        let _write = self.write_lock().await;
        let tenant = blob(scope.tenant_id().as_uuid());
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "UPDATE email_outbox SET state = 'queued', attempts = 0, next_attempt_at = ?, \
             lease_until = NULL \
             WHERE tenant_id = ? AND ticket_id = ? AND reply_id = ? AND state = 'failed' \
             RETURNING {COLS}"
        )))
        .bind(nanos(now)?)
        .bind(tenant.clone())
        .bind(blob(ticket_id.as_uuid()))
        .bind(blob(reply_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if let Some(row) = row {
            return Ok(message(&row)?.delivery());
        }
        let exists = sqlx::query_scalar::<Sqlite, i64>(
            "SELECT 1 FROM email_outbox WHERE tenant_id = ? AND ticket_id = ? AND reply_id = ?",
        )
        .bind(tenant)
        .bind(blob(ticket_id.as_uuid()))
        .bind(blob(reply_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Err(if exists.is_some() {
            RepoError::Conflict(Conflict::DeliveryNotFailed)
        } else {
            RepoError::NotFound
        })
    }

    async fn delivery_for_replies(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<Delivery>> {
        let rows = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {COLS} FROM email_outbox WHERE tenant_id = ? AND ticket_id = ?"
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| message(r).map(|m| m.delivery())).collect()
    }
}
