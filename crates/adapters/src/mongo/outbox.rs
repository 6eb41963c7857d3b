//! The email outbox on MongoDB (`email_outbox`, `_id` = the reply's id): documents inserted with
//! the reply, claimed by workers with one `findOneAndUpdate`.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use opsflow_domain::email::{Mailbox, OutboundEmail};
use opsflow_domain::outbox::{Delivery, DeliveryState, OutboxMessage};
use opsflow_domain::{Email, ReplyId, TenantId, TenantScope, TicketId, TicketReply, TicketStatus};
use opsflow_ports::repos::{Conflict, OutboxRepository, RepoError, RepoResult};
use time::{Duration, OffsetDateTime};

use super::codec::{
    AsUuid, CodecError, get_i64, get_opt_time, get_time, get_uuid, ns_field, put_opt_time,
    put_time, set_time, split_time,
};
use super::{MongoStore, collect, corrupt, driver};

fn bad(field: &str, problem: impl std::fmt::Display) -> CodecError {
    CodecError { field: field.to_owned(), problem: problem.to_string() }
}

fn opt_str(s: Option<&str>) -> Bson {
    s.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

fn string(d: &Document, field: &str) -> Result<String, CodecError> {
    d.get_str(field).map(str::to_owned).map_err(|e| bad(field, e))
}

fn opt_string(d: &Document, field: &str) -> Result<Option<String>, CodecError> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(bad(field, format!("expected a string, found {:?}", other.element_type())))
        }
    }
}

fn address(d: &Document, field: &str) -> Result<Email, CodecError> {
    Email::parse(d.get_str(field).map_err(|e| bad(field, e))?).map_err(|e| bad(field, e))
}

/// The document of a queued email.
pub(super) fn email_doc(m: &OutboxMessage) -> Document {
    let mut d = doc! {
        "_id": m.reply_id.bson(),
        "tenant_id": m.tenant_id.bson(),
        "ticket_id": m.ticket_id.bson(),
        "from_name": opt_str(m.email.from.name.as_deref()),
        "from_email": m.email.from.email.as_str(),
        "to_name": opt_str(m.email.to.name.as_deref()),
        "to_email": m.email.to.email.as_str(),
        "subject": m.email.subject.as_str(),
        "body": m.email.body.as_str(),
        "message_id": m.email.message_id.as_str(),
        "in_reply_to": opt_str(m.email.in_reply_to.as_deref()),
        "refs": m.email.references.iter().map(|r| Bson::String(r.clone())).collect::<Vec<_>>(),
        "state": m.state.as_str(),
        "attempts": Bson::Int64(i64::from(m.attempts)),
        "last_error": opt_str(m.last_error.as_deref()),
    };
    put_time(&mut d, "next_attempt_at", m.next_attempt_at);
    put_opt_time(&mut d, "lease_until", m.lease_until);
    put_opt_time(&mut d, "sent_at", m.sent_at);
    put_time(&mut d, "created_at", m.created_at);
    d
}

fn email_from(d: &Document) -> Result<OutboxMessage, CodecError> {
    let refs = match d.get("refs") {
        Some(Bson::Array(a)) => a
            .iter()
            .map(|r| r.as_str().map(str::to_owned).ok_or_else(|| bad("refs", "not a string")))
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(bad("refs", "expected an array")),
    };
    let state = d.get_str("state").map_err(|e| bad("state", e))?;
    Ok(OutboxMessage {
        reply_id: ReplyId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        ticket_id: TicketId::from_uuid(get_uuid(d, "ticket_id")?),
        email: OutboundEmail {
            from: Mailbox { name: opt_string(d, "from_name")?, email: address(d, "from_email")? },
            to: Mailbox { name: opt_string(d, "to_name")?, email: address(d, "to_email")? },
            subject: string(d, "subject")?,
            body: string(d, "body")?,
            message_id: string(d, "message_id")?,
            in_reply_to: opt_string(d, "in_reply_to")?,
            references: refs,
        },
        state: DeliveryState::parse(state).ok_or_else(|| bad("state", state))?,
        attempts: u32::try_from(get_i64(d, "attempts")?).map_err(|e| bad("attempts", e))?,
        next_attempt_at: get_time(d, "next_attempt_at")?,
        last_error: opt_string(d, "last_error")?,
        lease_until: get_opt_time(d, "lease_until")?,
        sent_at: get_opt_time(d, "sent_at")?,
        created_at: get_time(d, "created_at")?,
    })
}

/// `field <= t` (`strict`: `<`) on a millisecond date with its nanosecond companion.
fn time_before(field: &str, t: OffsetDateTime, strict: bool) -> [Document; 2] {
    let (ms, ns) = split_time(t);
    let op = if strict { "$lt" } else { "$lte" };
    [doc! { field: { "$lt": ms.clone() } }, doc! { field: ms, ns_field(field): { op: ns } }]
}

fn claimable(now: OffsetDateTime) -> Document {
    let mut or = Vec::new();
    for d in time_before("next_attempt_at", now, false) {
        let mut d = d;
        d.insert("state", DeliveryState::Queued.as_str());
        or.push(d);
    }
    for d in time_before("lease_until", now, true) {
        let mut d = d;
        d.insert("state", DeliveryState::Sending.as_str());
        or.push(d);
    }
    doc! { "$or": or }
}

fn claimed(tenant_id: TenantId, reply_id: ReplyId, attempt: u32) -> Document {
    doc! {
        "tenant_id": tenant_id.bson(),
        "_id": reply_id.bson(),
        "state": DeliveryState::Sending.as_str(),
        "attempts": Bson::Int64(i64::from(attempt)),
    }
}

fn in_ticket(scope: &TenantScope, ticket_id: TicketId) -> Document {
    doc! { "tenant_id": scope.tenant_id().bson(), "ticket_id": ticket_id.bson() }
}

impl MongoStore {
    async fn finish_claim(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        mut set: Document,
    ) -> RepoResult<()> {
        set.insert("lease_until", Bson::Null);
        set.insert(ns_field("lease_until"), Bson::Null);
        let r = self
            .outbox
            .update_one(claimed(tenant_id, reply_id, attempt), doc! { "$set": set })
            .await
            .map_err(driver)?;
        if r.matched_count == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}

#[async_trait]
impl OutboxRepository for MongoStore {
    async fn add_reply_with_email(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        email: &OutboxMessage,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        if email.tenant_id != scope.tenant_id()
            || email.reply_id != reply.id
            || email.ticket_id != reply.ticket_id
        {
            return Err(RepoError::NotFound);
        }
        let d = email_doc(email);
        self.add_reply(scope, reply, set_status, consume_draft, Some(&d), now).await
    }

    async fn claim_next_email(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<OutboxMessage>> {
        let mut set = doc! { "state": DeliveryState::Sending.as_str() };
        set.extend(set_time("lease_until", now + lease));
        let d = self
            .outbox
            .find_one_and_update(
                claimable(now),
                doc! { "$set": set, "$inc": { "attempts": Bson::Int64(1) } },
            )
            .sort(doc! { "next_attempt_at": 1, "next_attempt_at_ns": 1, "_id": 1 })
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        d.map(|d| email_from(&d).map_err(corrupt)).transpose()
    }

    async fn mark_sent(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let mut set = doc! { "state": DeliveryState::Sent.as_str(), "last_error": Bson::Null };
        set.extend(set_time("sent_at", now));
        self.finish_claim(tenant_id, reply_id, attempt, set).await
    }

    async fn mark_retry(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> RepoResult<()> {
        let mut set = doc! { "state": DeliveryState::Queued.as_str(), "last_error": error };
        set.extend(set_time("next_attempt_at", next_attempt_at));
        self.finish_claim(tenant_id, reply_id, attempt, set).await
    }

    async fn mark_failed(
        &self,
        tenant_id: TenantId,
        reply_id: ReplyId,
        attempt: u32,
        error: &str,
    ) -> RepoResult<()> {
        let set = doc! { "state": DeliveryState::Failed.as_str(), "last_error": error };
        self.finish_claim(tenant_id, reply_id, attempt, set).await
    }

    async fn retry_delivery(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        reply_id: ReplyId,
        now: OffsetDateTime,
    ) -> RepoResult<Delivery> {
        let mut filter = in_ticket(scope, ticket_id);
        filter.insert("_id", reply_id.bson());
        let mut failed = filter.clone();
        failed.insert("state", DeliveryState::Failed.as_str());
        let mut set = doc! {
            "state": DeliveryState::Queued.as_str(),
            "attempts": Bson::Int64(0),
            "lease_until": Bson::Null,
            ns_field("lease_until"): Bson::Null,
        };
        set.extend(set_time("next_attempt_at", now));
        let d = self
            .outbox
            .find_one_and_update(failed, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        if let Some(d) = d {
            return Ok(email_from(&d).map_err(corrupt)?.delivery());
        }
        let exists =
            self.outbox.find_one(filter).projection(doc! { "_id": 1 }).await.map_err(driver)?;
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
        let cursor = self.outbox.find(in_ticket(scope, ticket_id)).await.map_err(driver)?;
        Ok(collect(cursor, email_from).await?.iter().map(OutboxMessage::delivery).collect())
    }
}

#[cfg(test)]
mod tests {
    use opsflow_domain::email::Mailbox;

    use super::*;

    #[test]
    fn an_email_document_round_trips_every_field() {
        let now = OffsetDateTime::from_unix_timestamp_nanos(1_800_000_000_123_456_789).unwrap();
        let mut m = OutboxMessage::queued(
            TenantId::new(),
            TicketId::new(),
            ReplyId::new(),
            OutboundEmail {
                from: Mailbox {
                    name: Some("Ann via Acme".into()),
                    email: Email::parse("support@acme.test").unwrap(),
                },
                to: Mailbox { name: None, email: Email::parse("carla@example.com").unwrap() },
                subject: "Re: Login [#3]".into(),
                body: "Hello".into(),
                message_id: "reply-x@acme.test".into(),
                in_reply_to: Some("b@x".into()),
                references: vec!["a@x".into(), "b@x".into()],
            },
            now,
        );
        m.attempts = 3;
        m.last_error = Some("451 busy".into());
        m.lease_until = Some(now + Duration::minutes(5));
        m.state = DeliveryState::Sending;
        assert_eq!(email_from(&email_doc(&m)).unwrap(), m);
    }
}
