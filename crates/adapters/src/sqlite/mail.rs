//! The mail archive (raw messages and their attachments) and the inbound endpoint's tokens.

use async_trait::async_trait;
use opsflow_domain::email::MailDirection;
use opsflow_domain::{
    AttachmentId, ReplyId, TenantId, TenantScope, TicketAttachment, TicketId, TicketStatus,
};
use opsflow_ports::repos::{
    AttachmentFile, InboundMail, InboundTokenRepository, MailArchiveRepository, MailTarget,
    RepoError, RepoResult, TakenIn,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{blob, int, nanos, ts, uuid};
use super::tickets::{insert_reply, insert_tickets, ticket_in};
use super::{SqliteStore, db_err};

const ATTACHMENT_COLS: &str =
    "id, tenant_id, ticket_id, reply_id, filename, content_type, size, created_at";

fn attachment(row: &SqliteRow) -> RepoResult<TicketAttachment> {
    let reply: Option<Vec<u8>> = row.try_get("reply_id").map_err(RepoError::unexpected)?;
    let size: i64 = row.try_get("size").map_err(RepoError::unexpected)?;
    Ok(TicketAttachment {
        id: AttachmentId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        ticket_id: TicketId::from_uuid(uuid(row, "ticket_id")?),
        reply_id: reply
            .map(|b| Uuid::from_slice(&b).map(ReplyId::from_uuid).map_err(RepoError::unexpected))
            .transpose()?,
        filename: row.try_get("filename").map_err(RepoError::unexpected)?,
        content_type: row.try_get("content_type").map_err(RepoError::unexpected)?,
        size: u64::try_from(size).map_err(RepoError::unexpected)?,
        created_at: ts(row, "created_at")?,
    })
}

/// Whether the tenant already has a message with this Message-ID.
async fn known_message(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    message_id: &str,
) -> RepoResult<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM mail_messages WHERE tenant_id = ? AND message_id = ?")
            .bind(blob(tenant.as_uuid()))
            .bind(message_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
    Ok(found.is_some())
}

/// Inserts the message row and its attachments for `ticket_id` (and `reply_id`).
async fn insert_message(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    mail: &InboundMail,
    ticket_id: TicketId,
    reply_id: Option<ReplyId>,
) -> RepoResult<()> {
    let tenant_blob = blob(tenant.as_uuid());
    sqlx::query::<Sqlite>(
        "INSERT INTO mail_messages (tenant_id, message_id, ticket_id, reply_id, direction, \
         subject, from_address, received_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_blob.clone())
    .bind(mail.message_id.as_str())
    .bind(blob(ticket_id.as_uuid()))
    .bind(reply_id.map(|r| blob(r.as_uuid())))
    .bind(MailDirection::In.as_str())
    .bind(mail.subject.as_str())
    .bind(mail.from.as_str())
    .bind(nanos(mail.received_at)?)
    .bind(mail.raw.as_slice())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    for a in &mail.attachments {
        sqlx::query::<Sqlite>(
            "INSERT INTO mail_attachments (id, tenant_id, ticket_id, reply_id, filename, \
             content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(blob(a.id.as_uuid()))
        .bind(tenant_blob.clone())
        .bind(blob(ticket_id.as_uuid()))
        .bind(reply_id.map(|r| blob(r.as_uuid())))
        .bind(a.filename.as_str())
        .bind(a.content_type.as_str())
        .bind(int(a.data.len())?)
        .bind(a.data.as_slice())
        .bind(nanos(mail.received_at)?)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// The statuses a customer's follow-up takes back to `open`.
const REOPENED_FROM: [TicketStatus; 3] =
    [TicketStatus::Pending, TicketStatus::Replied, TicketStatus::Closed];

#[async_trait]
impl MailArchiveRepository for SqliteStore {
    async fn take_in(
        &self,
        scope: &TenantScope,
        mail: &InboundMail,
        target: &MailTarget,
        now: OffsetDateTime,
    ) -> RepoResult<TakenIn> {
        let tenant = scope.tenant_id();
        // `BEGIN IMMEDIATE` holds the database's write lock from here to the commit, so the
        // check below and the insert cannot interleave with another take-in (in any process);
        // the primary key on (tenant_id, message_id) backs it up.
        let mut tx = self.begin_write().await?;
        if known_message(&mut tx, tenant, &mail.message_id).await? {
            return Ok(TakenIn::Duplicate);
        }
        let taken = match target {
            MailTarget::NewTicket(ticket, run) => {
                let number = insert_tickets(&mut tx, tenant, std::slice::from_ref(ticket)).await?;
                if let Some(run) = run {
                    super::workflow::insert_run(&mut tx, tenant, ticket.id, run).await?;
                }
                insert_message(&mut tx, tenant, mail, ticket.id, None).await?;
                TakenIn::Created { ticket_id: ticket.id, number }
            }
            MailTarget::Reply(reply) => {
                let ticket = ticket_in(&mut tx, tenant, reply.ticket_id).await?;
                insert_reply(&mut tx, tenant, ticket.id, reply).await?;
                let status = if REOPENED_FROM.contains(&ticket.status) {
                    TicketStatus::Open
                } else {
                    ticket.status
                };
                sqlx::query::<Sqlite>(
                    "UPDATE tickets SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                )
                .bind(status.as_str())
                .bind(nanos(now)?)
                .bind(blob(tenant.as_uuid()))
                .bind(blob(ticket.id.as_uuid()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                insert_message(&mut tx, tenant, mail, ticket.id, Some(reply.id)).await?;
                TakenIn::Appended { ticket_id: ticket.id, reply_id: reply.id }
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(taken)
    }

    async fn ticket_for_message_ids(
        &self,
        scope: &TenantScope,
        ids: &[String],
    ) -> RepoResult<Option<TicketId>> {
        for id in ids {
            let found: Option<Vec<u8>> = sqlx::query_scalar(
                "SELECT ticket_id FROM mail_messages WHERE tenant_id = ? AND message_id = ?",
            )
            .bind(blob(scope.tenant_id().as_uuid()))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
            if let Some(bytes) = found {
                let id = Uuid::from_slice(&bytes).map_err(RepoError::unexpected)?;
                return Ok(Some(TicketId::from_uuid(id)));
            }
        }
        Ok(None)
    }

    async fn ticket_of_reply(
        &self,
        scope: &TenantScope,
        reply_id: ReplyId,
    ) -> RepoResult<TicketId> {
        let found: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT ticket_id FROM ticket_replies WHERE tenant_id = ? AND id = ?",
        )
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(reply_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let bytes = found.ok_or(RepoError::NotFound)?;
        Ok(TicketId::from_uuid(Uuid::from_slice(&bytes).map_err(RepoError::unexpected)?))
    }

    async fn thread_message_ids(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT message_id FROM mail_messages WHERE tenant_id = ? AND ticket_id = ? \
             ORDER BY received_at, message_id",
        )
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn list_attachments(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<TicketAttachment>> {
        let rows = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLS} FROM mail_attachments WHERE tenant_id = ? AND ticket_id = ? \
             ORDER BY created_at, id"
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(attachment).collect()
    }

    async fn get_attachment(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        attachment_id: AttachmentId,
    ) -> RepoResult<AttachmentFile> {
        let row = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLS}, data FROM mail_attachments \
             WHERE tenant_id = ? AND ticket_id = ? AND id = ?"
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .bind(blob(attachment_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(RepoError::NotFound)?;
        Ok(AttachmentFile {
            meta: attachment(&row)?,
            data: row.try_get("data").map_err(RepoError::unexpected)?,
        })
    }
}

#[async_trait]
impl InboundTokenRepository for SqliteStore {
    async fn tenant_for_inbound_token(
        &self,
        token_hash: &[u8],
    ) -> RepoResult<Option<(TenantId, Vec<u8>)>> {
        let row = sqlx::query::<Sqlite>(
            "SELECT tenant_id, token_hash FROM inbound_tokens WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| {
            Ok((
                TenantId::from_uuid(uuid(&r, "tenant_id")?),
                r.try_get("token_hash").map_err(RepoError::unexpected)?,
            ))
        })
        .transpose()
    }

    async fn sealed_inbound_token(&self, scope: &TenantScope) -> RepoResult<Option<String>> {
        sqlx::query_scalar("SELECT sealed FROM inbound_tokens WHERE tenant_id = ?")
            .bind(blob(scope.tenant_id().as_uuid()))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn set_inbound_token(
        &self,
        scope: &TenantScope,
        token_hash: &[u8],
        sealed: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        sqlx::query::<Sqlite>(
            "INSERT INTO inbound_tokens (tenant_id, token_hash, sealed, created_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET \
             token_hash = excluded.token_hash, sealed = excluded.sealed, \
             created_at = excluded.created_at",
        )
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(token_hash)
        .bind(sealed)
        .bind(nanos(now)?)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
