//! The mail archive (raw messages and their attachments) and the inbound endpoint's tokens on
//! MongoDB.
//!
//! A raw message is stored in its `mail_messages` document and each attachment in a document
//! of its own, so no document holds more than one copy of the message's bytes: with the inbound
//! size limit capped at [`MAX_RAW_BYTES`] (15 MiB) every document stays under MongoDB's 16 MiB
//! limit, and GridFS is not needed.

use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc};
use opsflow_domain::email::MailDirection;
use opsflow_domain::{
    AttachmentId, ReplyId, TenantId, TenantScope, Ticket, TicketAttachment, TicketId, TicketReply,
    TicketStatus,
};
use opsflow_ports::repos::{
    AttachmentFile, InboundMail, InboundTokenRepository, MailArchiveRepository, MailTarget,
    RepoError, RepoResult, TakenIn,
};
use time::OffsetDateTime;

use super::codec::{
    AsUuid, get_i64, get_opt_uuid, get_time, get_uuid, opt_id, put_time, reply_doc, set_time,
    ticket_doc, ticket_from,
};
use super::filters as f;
use super::repos::undo;
use super::{Fail, MongoStore, corrupt, driver, in_transaction, is_duplicate_key};
use async_trait::async_trait;

/// The largest raw message (and attachment) this store keeps: a document must stay under
/// MongoDB's 16 MiB with room for its other fields. The server refuses a larger
/// `OPSFLOW_MAIL_MAX_BYTES` at start-up.
pub const MAX_RAW_BYTES: usize = 15 * 1024 * 1024;

/// The marker a transaction body returns when the Message-ID is already taken: the
/// transaction is aborted and the take-in reported as a duplicate.
#[derive(Debug, thiserror::Error)]
#[error("message already taken in")]
struct AlreadyTakenIn;

fn binary(bytes: &[u8]) -> Bson {
    Bson::Binary(Binary { subtype: BinarySubtype::Generic, bytes: bytes.to_vec() })
}

fn message_filter(tenant: TenantId, message_id: &str) -> Document {
    doc! { "tenant_id": tenant.bson(), "message_id": message_id }
}

fn message_doc(
    tenant: TenantId,
    mail: &InboundMail,
    ticket_id: TicketId,
    reply_id: Option<ReplyId>,
) -> Document {
    let mut d = doc! {
        "tenant_id": tenant.bson(),
        "message_id": mail.message_id.as_str(),
        "ticket_id": ticket_id.bson(),
        "reply_id": opt_id(reply_id),
        "direction": MailDirection::In.as_str(),
        "subject": mail.subject.as_str(),
        "from": mail.from.as_str(),
        "raw": binary(&mail.raw),
    };
    put_time(&mut d, "received_at", mail.received_at);
    d
}

fn attachment_docs(
    tenant: TenantId,
    mail: &InboundMail,
    ticket_id: TicketId,
    reply_id: Option<ReplyId>,
) -> Vec<Document> {
    mail.attachments
        .iter()
        .map(|a| {
            let mut d = doc! {
                "_id": a.id.bson(),
                "tenant_id": tenant.bson(),
                "ticket_id": ticket_id.bson(),
                "reply_id": opt_id(reply_id),
                "filename": a.filename.as_str(),
                "content_type": a.content_type.as_str(),
                "size": i64::try_from(a.data.len()).unwrap_or(i64::MAX),
                "data": binary(&a.data),
            };
            put_time(&mut d, "created_at", mail.received_at);
            d
        })
        .collect()
}

fn attachment_from(d: &Document) -> Result<TicketAttachment, super::codec::CodecError> {
    let text = |field: &str| {
        d.get_str(field).map(str::to_owned).map_err(|e| super::codec::CodecError {
            field: field.to_owned(),
            problem: e.to_string(),
        })
    };
    Ok(TicketAttachment {
        id: AttachmentId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        ticket_id: TicketId::from_uuid(get_uuid(d, "ticket_id")?),
        reply_id: get_opt_uuid(d, "reply_id")?.map(ReplyId::from_uuid),
        filename: text("filename")?,
        content_type: text("content_type")?,
        size: u64::try_from(get_i64(d, "size")?).unwrap_or(0),
        created_at: get_time(d, "created_at")?,
    })
}

/// The ticket status after a customer's follow-up: pending, replied and closed tickets reopen.
const fn reopened(status: TicketStatus) -> TicketStatus {
    match status {
        TicketStatus::Pending | TicketStatus::Replied | TicketStatus::Closed => TicketStatus::Open,
        other => other,
    }
}

/// The ticket update of a customer's follow-up: reopened, last activity now, and the reply's
/// words added to the search keywords (as `insert_reply` does for every other reply).
fn follow_up_update(status: TicketStatus, reply: &TicketReply, now: OffsetDateTime) -> Document {
    let mut set = doc! { "status": reopened(status).as_str() };
    set.extend(set_time("updated_at", now));
    let mut update = doc! { "$set": set };
    let words = super::codec::reply_keywords(reply);
    if !words.is_empty() {
        update.insert(
            "$addToSet",
            doc! {
                "keywords": { "$each": words.clone() },
                "reply_keywords": { "$each": words },
            },
        );
    }
    update
}

impl MongoStore {
    fn mail_messages(&self) -> mongodb::Collection<Document> {
        self.db.collection("mail_messages")
    }

    fn mail_attachments(&self) -> mongodb::Collection<Document> {
        self.db.collection("mail_attachments")
    }

    fn inbound_tokens(&self) -> mongodb::Collection<Document> {
        self.db.collection("inbound_tokens")
    }

    /// Without transactions: the message document is inserted first and claims the
    /// Message-ID (a concurrent take-in of the same message gets a duplicate key and stops);
    /// every later failure removes what was written.
    async fn take_in_standalone(
        &self,
        scope: &TenantScope,
        mail: &InboundMail,
        target: &MailTarget,
        now: OffsetDateTime,
    ) -> RepoResult<TakenIn> {
        let tenant = scope.tenant_id();
        let (ticket_id, reply_id) = match target {
            MailTarget::NewTicket(t, _) => (t.id, None),
            MailTarget::Reply(r) => (r.ticket_id, Some(r.id)),
        };
        let ticket_before = match target {
            MailTarget::Reply(r) => {
                let d = self
                    .tickets
                    .find_one(f::ticket_by_id(scope, r.ticket_id))
                    .await
                    .map_err(driver)?
                    .ok_or(RepoError::NotFound)?;
                Some(ticket_from(&d).map_err(corrupt)?)
            }
            MailTarget::NewTicket(..) => None,
        };
        match self.mail_messages().insert_one(message_doc(tenant, mail, ticket_id, reply_id)).await
        {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => return Ok(TakenIn::Duplicate),
            Err(e) => return Err(driver(e)),
        }
        let undo_all = async || {
            undo(
                "message",
                self.mail_messages().delete_one(message_filter(tenant, &mail.message_id)),
            )
            .await;
            let ids: Vec<Bson> = mail.attachments.iter().map(|a| a.id.bson()).collect();
            undo(
                "attachments",
                self.mail_attachments()
                    .delete_many(doc! { "tenant_id": tenant.bson(), "_id": { "$in": ids } }),
            )
            .await;
        };
        let docs = attachment_docs(tenant, mail, ticket_id, reply_id);
        if !docs.is_empty()
            && let Err(e) = self.mail_attachments().insert_many(docs).await
        {
            undo_all().await;
            return Err(driver(e));
        }
        match (target, ticket_before) {
            (MailTarget::NewTicket(ticket, run), _) => {
                // Taken once the Message-ID is claimed: a losing take-in uses no number.
                let number = match super::numbers::take_one(&self.counters, tenant).await {
                    Ok(n) => n,
                    Err(e) => {
                        undo_all().await;
                        return Err(driver(e));
                    }
                };
                let numbered = Ticket { number, ..ticket.clone() };
                if let Err(e) = self.tickets.insert_one(ticket_doc(&numbered)).await {
                    undo_all().await;
                    return Err(driver(e));
                }
                if let Some(run) = run
                    && let Err(e) = self.runs.insert_one(super::codec::run_doc(run)).await
                {
                    undo("ticket", self.tickets.delete_one(f::ticket_by_id(scope, ticket_id)))
                        .await;
                    undo_all().await;
                    return Err(driver(e));
                }
                Ok(TakenIn::Created { ticket_id, number })
            }
            (MailTarget::Reply(reply), Some(before)) => {
                if let Err(e) = self.replies.insert_one(reply_doc(reply)).await {
                    undo_all().await;
                    return Err(driver(e));
                }
                if let Err(e) = self
                    .tickets
                    .update_one(
                        f::ticket_by_id(scope, ticket_id),
                        follow_up_update(before.status, reply, now),
                    )
                    .await
                {
                    undo("reply", self.replies.delete_one(f::reply_by_id(scope, reply.id))).await;
                    undo_all().await;
                    return Err(driver(e));
                }
                Ok(TakenIn::Appended { ticket_id, reply_id: reply.id })
            }
            (MailTarget::Reply(_), None) => Err(RepoError::NotFound),
        }
    }
}

#[async_trait]
impl MailArchiveRepository for MongoStore {
    async fn take_in(
        &self,
        scope: &TenantScope,
        mail: &InboundMail,
        target: &MailTarget,
        now: OffsetDateTime,
    ) -> RepoResult<TakenIn> {
        let tenant = scope.tenant_id();
        if mail.raw.len() > MAX_RAW_BYTES {
            return Err(RepoError::unexpected(format!(
                "a raw message of {} bytes does not fit a MongoDB document (at most {MAX_RAW_BYTES})",
                mail.raw.len()
            )));
        }
        if let MailTarget::NewTicket(t, run) = target
            && (t.tenant_id != tenant
                || run.as_ref().is_some_and(|r| r.tenant_id != tenant || r.ticket_id != t.id))
        {
            return Err(RepoError::NotFound);
        }
        if let MailTarget::Reply(r) = target
            && r.tenant_id != tenant
        {
            return Err(RepoError::NotFound);
        }
        // Cheap early answer for the common duplicate (a re-delivered message), before a
        // ticket number is taken; the unique index decides races.
        let known = self
            .mail_messages()
            .find_one(message_filter(tenant, &mail.message_id))
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        if known.is_some() {
            return Ok(TakenIn::Duplicate);
        }
        if !self.transactions {
            return self.take_in_standalone(scope, mail, target, now).await;
        }
        let (ticket_id, reply_id) = match target {
            MailTarget::NewTicket(t, _) => (t.id, None),
            MailTarget::Reply(r) => (r.ticket_id, Some(r.id)),
        };
        let message = &message_doc(tenant, mail, ticket_id, reply_id);
        let attachments = &attachment_docs(tenant, mail, ticket_id, reply_id);
        let outcome = in_transaction!(self, |s| async move {
            match self.mail_messages().insert_one(message).session(&mut *s).await {
                Ok(_) => {}
                Err(e) if is_duplicate_key(&e) => {
                    return Err(Fail::Repo(RepoError::unexpected(AlreadyTakenIn)));
                }
                Err(e) => return Err(Fail::Driver(e)),
            }
            if !attachments.is_empty() {
                self.mail_attachments().insert_many(attachments).session(&mut *s).await?;
            }
            match target {
                MailTarget::NewTicket(ticket, run) => {
                    // Taken once the Message-ID is claimed, so a take-in that loses a race
                    // never uses up a number; outside the transaction, like
                    // `TicketRepository::create` (see `numbers`).
                    let number = super::numbers::take_one(&self.counters, tenant).await?;
                    let numbered = Ticket { number, ..ticket.clone() };
                    self.tickets.insert_one(ticket_doc(&numbered)).session(&mut *s).await?;
                    if let Some(run) = run {
                        self.runs.insert_one(super::codec::run_doc(run)).session(&mut *s).await?;
                    }
                    Ok(TakenIn::Created { ticket_id, number })
                }
                MailTarget::Reply(reply) => {
                    let found = self
                        .tickets
                        .find_one(f::ticket_by_id(scope, ticket_id))
                        .session(&mut *s)
                        .await?
                        .ok_or(Fail::Repo(RepoError::NotFound))?;
                    let before = ticket_from(&found)?;
                    self.replies.insert_one(reply_doc(reply)).session(&mut *s).await?;
                    self.tickets
                        .update_one(
                            f::ticket_by_id(scope, ticket_id),
                            follow_up_update(before.status, reply, now),
                        )
                        .session(&mut *s)
                        .await?;
                    Ok(TakenIn::Appended { ticket_id, reply_id: reply.id })
                }
            }
        });
        match outcome {
            Err(RepoError::Unexpected(e)) if e.is::<AlreadyTakenIn>() => Ok(TakenIn::Duplicate),
            other => other,
        }
    }

    async fn ticket_for_message_ids(
        &self,
        scope: &TenantScope,
        ids: &[String],
    ) -> RepoResult<Option<TicketId>> {
        for id in ids {
            let found = self
                .mail_messages()
                .find_one(message_filter(scope.tenant_id(), id))
                .projection(doc! { "ticket_id": 1 })
                .await
                .map_err(driver)?;
            if let Some(d) = found {
                return Ok(Some(TicketId::from_uuid(get_uuid(&d, "ticket_id").map_err(corrupt)?)));
            }
        }
        Ok(None)
    }

    async fn ticket_of_reply(
        &self,
        scope: &TenantScope,
        reply_id: ReplyId,
    ) -> RepoResult<TicketId> {
        let d = self
            .replies
            .find_one(f::reply_by_id(scope, reply_id))
            .projection(doc! { "ticket_id": 1 })
            .await
            .map_err(driver)?
            .ok_or(RepoError::NotFound)?;
        Ok(TicketId::from_uuid(get_uuid(&d, "ticket_id").map_err(corrupt)?))
    }

    async fn thread_message_ids(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<String>> {
        use futures::TryStreamExt;
        let docs: Vec<Document> = self
            .mail_messages()
            .find(doc! { "tenant_id": scope.tenant_id().bson(), "ticket_id": ticket_id.bson() })
            .projection(doc! { "message_id": 1 })
            .sort(doc! { "received_at": 1, "received_at_ns": 1, "message_id": 1 })
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        docs.iter()
            .map(|d| d.get_str("message_id").map(str::to_owned).map_err(RepoError::unexpected))
            .collect()
    }

    async fn list_attachments(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<TicketAttachment>> {
        use futures::TryStreamExt;
        let docs: Vec<Document> = self
            .mail_attachments()
            .find(doc! { "tenant_id": scope.tenant_id().bson(), "ticket_id": ticket_id.bson() })
            .projection(doc! { "data": 0 })
            .sort(doc! { "created_at": 1, "created_at_ns": 1, "_id": 1 })
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        docs.iter().map(|d| attachment_from(d).map_err(corrupt)).collect()
    }

    async fn get_attachment(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        attachment_id: AttachmentId,
    ) -> RepoResult<AttachmentFile> {
        let d = self
            .mail_attachments()
            .find_one(doc! {
                "tenant_id": scope.tenant_id().bson(),
                "ticket_id": ticket_id.bson(),
                "_id": attachment_id.bson(),
            })
            .await
            .map_err(driver)?
            .ok_or(RepoError::NotFound)?;
        let data = d.get_binary_generic("data").map_err(RepoError::unexpected)?.clone();
        Ok(AttachmentFile { meta: attachment_from(&d).map_err(corrupt)?, data })
    }
}

#[async_trait]
impl InboundTokenRepository for MongoStore {
    async fn tenant_for_inbound_token(
        &self,
        token_hash: &[u8],
    ) -> RepoResult<Option<(TenantId, Vec<u8>)>> {
        let found = self
            .inbound_tokens()
            .find_one(doc! { "token_hash": binary(token_hash) })
            .await
            .map_err(driver)?;
        found
            .map(|d| {
                let tenant = TenantId::from_uuid(get_uuid(&d, "_id").map_err(corrupt)?);
                let hash = d.get_binary_generic("token_hash").map_err(RepoError::unexpected)?;
                Ok((tenant, hash.clone()))
            })
            .transpose()
    }

    async fn sealed_inbound_token(&self, scope: &TenantScope) -> RepoResult<Option<String>> {
        let found = self
            .inbound_tokens()
            .find_one(doc! { "_id": scope.tenant_id().bson() })
            .await
            .map_err(driver)?;
        found
            .map(|d| d.get_str("sealed").map(str::to_owned).map_err(RepoError::unexpected))
            .transpose()
    }

    async fn set_inbound_token(
        &self,
        scope: &TenantScope,
        token_hash: &[u8],
        sealed: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let mut set = doc! { "token_hash": binary(token_hash), "sealed": sealed };
        set.extend(set_time("created_at", now));
        self.inbound_tokens()
            .update_one(doc! { "_id": scope.tenant_id().bson() }, doc! { "$set": set })
            .upsert(true)
            .await
            .map_err(driver)?;
        Ok(())
    }
}
