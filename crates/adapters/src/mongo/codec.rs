//! Document ↔ domain mapping for the MongoDB store: ids, timestamps, entities, JSON snapshots.
//!
//! Storage choices (documented in `docs/mongodb.md`):
//! - Ids (`_id` and every `*_id` field) are BSON binary subtype 4 (standard UUID): 16 bytes,
//!   and UUIDv7 bytes sort in creation order.
//! - A timestamp `x` is stored as a BSON date `x` (milliseconds, what indexes, sorts and range
//!   queries use) plus `x_ns`, the sub-millisecond remainder in nanoseconds (0..=999,999), so a
//!   domain timestamp round-trips exactly. An optional timestamp that is unset is `null` in both.
//! - Enums are their wire text; unset optional values are `null` (never a missing field), so
//!   `{field: null}` filters are exact.
//! - Step snapshots are embedded BSON values (objects become embedded documents).

use std::collections::BTreeSet;

use bson::spec::BinarySubtype;
use bson::{Binary, Bson, DateTime, Document, doc};
use opsflow_domain::{
    AttachmentId, AuditEventId, AutoTriageMode, AutoTriageSettings, AutoTriageThresholds, Email,
    PersonName, Policies, Priority, ReplyBody, ReplyId, ReplyPolicy, RunTrigger, SessionId, Slug,
    Tenant, TenantId, TenantName, Threshold, Ticket, TicketBody, TicketId, TicketReply,
    TicketSubject, User, UserId, WorkflowRun, WorkflowRunId, WorkflowStep, WorkflowStepId,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// A stored document that does not decode into a valid domain value.
#[derive(Debug, thiserror::Error)]
#[error("stored document has an invalid `{field}`: {problem}")]
pub struct CodecError {
    /// The field.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(field: &str, problem: impl std::fmt::Display) -> CodecError {
    CodecError { field: field.to_owned(), problem: problem.to_string() }
}

type Decoded<T> = Result<T, CodecError>;

// ---------------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------------

/// A UUID as BSON binary subtype 4.
pub fn uuid_bson(u: Uuid) -> Bson {
    Bson::Binary(Binary { subtype: BinarySubtype::Uuid, bytes: u.as_bytes().to_vec() })
}

/// Ids that are stored as UUIDs.
pub trait AsUuid: Copy {
    /// The UUID.
    fn uuid(self) -> Uuid;
    /// As a BSON UUID.
    fn bson(self) -> Bson {
        uuid_bson(self.uuid())
    }
}

macro_rules! as_uuid {
    ($($t:ty),+) => {$(
        impl AsUuid for $t {
            fn uuid(self) -> Uuid {
                self.as_uuid()
            }
        }
    )+};
}
as_uuid!(
    TenantId,
    UserId,
    TicketId,
    ReplyId,
    WorkflowRunId,
    WorkflowStepId,
    SessionId,
    AuditEventId,
    AttachmentId,
    opsflow_domain::webhook::WebhookEndpointId,
    opsflow_domain::webhook::WebhookDeliveryId
);

impl AsUuid for Uuid {
    fn uuid(self) -> Uuid {
        self
    }
}

/// An optional id: the UUID or `null`.
pub fn opt_id<T: AsUuid>(id: Option<T>) -> Bson {
    id.map_or(Bson::Null, AsUuid::bson)
}

fn uuid_of(field: &str, value: &Bson) -> Decoded<Uuid> {
    match value {
        Bson::Binary(Binary { subtype: BinarySubtype::Uuid, bytes }) => {
            Uuid::from_slice(bytes).map_err(|e| bad(field, e))
        }
        other => Err(bad(field, format!("expected a UUID, found {:?}", other.element_type()))),
    }
}

fn get<'d>(doc: &'d Document, field: &str) -> Decoded<&'d Bson> {
    doc.get(field).ok_or_else(|| bad(field, "missing"))
}

/// A required UUID field.
pub fn get_uuid(doc: &Document, field: &str) -> Decoded<Uuid> {
    uuid_of(field, get(doc, field)?)
}

/// A UUID field that may be `null`.
pub fn get_opt_uuid(doc: &Document, field: &str) -> Decoded<Option<Uuid>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(v) => uuid_of(field, v).map(Some),
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

/// The name of the sub-millisecond companion field of a timestamp field.
pub fn ns_field(field: &str) -> String {
    format!("{field}_ns")
}

/// Splits a timestamp into BSON date (ms) and the sub-millisecond remainder (ns).
pub fn split_time(t: OffsetDateTime) -> (Bson, Bson) {
    let nanos = t.unix_timestamp_nanos();
    let millis = nanos.div_euclid(1_000_000);
    let sub = nanos.rem_euclid(1_000_000);
    // OffsetDateTime's range (±9999 years) fits an i64 of milliseconds; saturate defensively.
    let millis = i64::try_from(millis).unwrap_or(if millis < 0 { i64::MIN } else { i64::MAX });
    let sub = i32::try_from(sub).unwrap_or(0);
    (Bson::DateTime(DateTime::from_millis(millis)), Bson::Int32(sub))
}

/// The BSON date of a timestamp (millisecond precision), for range filters.
pub fn date(t: OffsetDateTime) -> Bson {
    split_time(t).0
}

/// Writes `field` and `field_ns` for a timestamp.
pub fn put_time(doc: &mut Document, field: &str, t: OffsetDateTime) {
    let (date, sub) = split_time(t);
    doc.insert(field, date);
    doc.insert(ns_field(field), sub);
}

/// Writes `field` and `field_ns` for an optional timestamp (`null` for both when unset).
pub fn put_opt_time(doc: &mut Document, field: &str, t: Option<OffsetDateTime>) {
    match t {
        Some(t) => put_time(doc, field, t),
        None => {
            doc.insert(field, Bson::Null);
            doc.insert(ns_field(field), Bson::Null);
        }
    }
}

/// A `$set` document for one timestamp field.
pub fn set_time(field: &str, t: OffsetDateTime) -> Document {
    let mut d = Document::new();
    put_time(&mut d, field, t);
    d
}

fn time_of(doc: &Document, field: &str, date: &Bson) -> Decoded<OffsetDateTime> {
    let Bson::DateTime(dt) = date else {
        return Err(bad(field, format!("expected a date, found {:?}", date.element_type())));
    };
    let sub = match doc.get(ns_field(field)) {
        None | Some(Bson::Null) => 0,
        Some(Bson::Int32(n)) if (0..1_000_000).contains(n) => i128::from(*n),
        Some(other) => return Err(bad(&ns_field(field), format!("unexpected {other}"))),
    };
    let nanos = i128::from(dt.timestamp_millis()) * 1_000_000 + sub;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|e| bad(field, e))
}

/// A required timestamp.
pub fn get_time(doc: &Document, field: &str) -> Decoded<OffsetDateTime> {
    time_of(doc, field, get(doc, field)?)
}

/// A timestamp that may be `null`.
pub fn get_opt_time(doc: &Document, field: &str) -> Decoded<Option<OffsetDateTime>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(v) => time_of(doc, field, v).map(Some),
    }
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

fn get_str<'d>(doc: &'d Document, field: &str) -> Decoded<&'d str> {
    match get(doc, field)? {
        Bson::String(s) => Ok(s),
        other => Err(bad(field, format!("expected a string, found {:?}", other.element_type()))),
    }
}

fn get_opt_str(doc: &Document, field: &str) -> Decoded<Option<String>> {
    match doc.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(bad(field, format!("expected a string, found {:?}", other.element_type())))
        }
    }
}

fn get_bool(doc: &Document, field: &str) -> Decoded<bool> {
    match get(doc, field)? {
        Bson::Boolean(b) => Ok(*b),
        other => Err(bad(field, format!("expected a bool, found {:?}", other.element_type()))),
    }
}

pub(crate) fn get_i64(doc: &Document, field: &str) -> Decoded<i64> {
    match get(doc, field)? {
        Bson::Int32(n) => Ok(i64::from(*n)),
        Bson::Int64(n) => Ok(*n),
        other => Err(bad(field, format!("expected an integer, found {:?}", other.element_type()))),
    }
}

fn get_u32(doc: &Document, field: &str) -> Decoded<u32> {
    u32::try_from(get_i64(doc, field)?).map_err(|e| bad(field, e))
}

fn parse<T: std::str::FromStr>(doc: &Document, field: &str) -> Decoded<T>
where
    T::Err: std::fmt::Display,
{
    get_str(doc, field)?.parse().map_err(|e| bad(field, e))
}

fn parse_opt<T: std::str::FromStr>(doc: &Document, field: &str) -> Decoded<Option<T>>
where
    T::Err: std::fmt::Display,
{
    get_opt_str(doc, field)?.map(|s| s.parse().map_err(|e| bad(field, e))).transpose()
}

fn text<T, E: std::fmt::Display>(
    doc: &Document,
    field: &str,
    make: impl FnOnce(&str) -> Result<T, E>,
) -> Decoded<T> {
    make(get_str(doc, field)?).map_err(|e| bad(field, e))
}

fn opt_str(s: Option<&str>) -> Bson {
    s.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

fn u32_bson(n: u32) -> Bson {
    Bson::Int64(i64::from(n))
}

// ---------------------------------------------------------------------------------------------
// JSON snapshots
// ---------------------------------------------------------------------------------------------

/// A JSON value as BSON: objects become embedded documents, so snapshots can be queried.
/// Integers are stored as Int64; an unsigned integer above `i64::MAX` becomes a double.
pub fn json_to_bson(v: &serde_json::Value) -> Bson {
    use serde_json::Value;
    match v {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Bson::Int64(i)
            } else {
                Bson::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(a) => Bson::Array(a.iter().map(json_to_bson).collect()),
        Value::Object(o) => {
            Bson::Document(o.iter().map(|(k, v)| (k.clone(), json_to_bson(v))).collect())
        }
    }
}

/// The inverse of [`json_to_bson`]; other BSON types are rejected.
pub fn bson_to_json(field: &str, v: &Bson) -> Decoded<serde_json::Value> {
    use serde_json::Value;
    Ok(match v {
        Bson::Null => Value::Null,
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Int32(n) => Value::from(*n),
        Bson::Int64(n) => Value::from(*n),
        Bson::Double(d) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .ok_or_else(|| bad(field, "non-finite number"))?,
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(a) => {
            Value::Array(a.iter().map(|x| bson_to_json(field, x)).collect::<Decoded<_>>()?)
        }
        Bson::Document(d) => Value::Object(
            d.iter()
                .map(|(k, x)| Ok((k.clone(), bson_to_json(field, x)?)))
                .collect::<Decoded<_>>()?,
        ),
        other => {
            return Err(bad(field, format!("unsupported type {:?}", other.element_type())));
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------------------------

/// A tenant as stored in `tenants` (`_id` is the tenant id).
pub fn tenant_doc(t: &Tenant) -> Document {
    let mut d = doc! {
        "_id": t.id.bson(),
        "name": t.name.as_str(),
        "slug": t.slug.as_str(),
        "policies": t.policies.as_str(),
        "auto_triage": {
            "mode": t.auto_triage.mode.as_str(),
            "category": t.auto_triage.thresholds.category.value(),
            "priority": t.auto_triage.thresholds.priority.value(),
            "assignee": t.auto_triage.thresholds.assignee.value(),
        },
    };
    d.insert("reply_policy", reply_policy_doc(&t.reply_policy));
    put_time(&mut d, "created_at", t.created_at);
    put_time(&mut d, "updated_at", t.updated_at);
    d
}

/// A tenant's structured reply policies as an embedded document (its serde shape: unset
/// values are `null`, lists are arrays).
pub fn reply_policy_doc(p: &ReplyPolicy) -> Bson {
    bson::to_bson(p).unwrap_or_else(|_| Bson::Document(Document::new()))
}

/// A tenant's structured reply policies; tenants stored before they existed read as empty.
fn reply_policy_from(d: &Document) -> Decoded<ReplyPolicy> {
    match d.get("reply_policy") {
        None | Some(Bson::Null) => Ok(ReplyPolicy::default()),
        Some(Bson::Document(p)) => {
            bson::from_document(p.clone()).map_err(|e| bad("reply_policy", e))
        }
        Some(other) => Err(bad("reply_policy", format!("unexpected {:?}", other.element_type()))),
    }
}

/// Decodes a `tenants` document.
///
/// # Errors
/// [`CodecError`] for a missing or invalid field.
pub fn tenant_from(d: &Document) -> Decoded<Tenant> {
    Ok(Tenant {
        id: TenantId::from_uuid(get_uuid(d, "_id")?),
        name: text(d, "name", TenantName::new)?,
        slug: text(d, "slug", Slug::parse)?,
        policies: text(d, "policies", Policies::new)?,
        auto_triage: auto_triage_from(d)?,
        reply_policy: reply_policy_from(d)?,
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
    })
}

/// A tenant's auto-triage settings; tenants stored before the setting existed read as the
/// defaults (off).
fn auto_triage_from(d: &Document) -> Decoded<AutoTriageSettings> {
    let Ok(a) = d.get_document("auto_triage") else {
        return Ok(AutoTriageSettings::default());
    };
    let defaults = AutoTriageThresholds::default();
    let threshold = |key: &str, default: Threshold| -> Decoded<Threshold> {
        match a.get_f64(key) {
            Ok(v) => Threshold::new(v).map_err(|e| bad(key, e)),
            Err(_) => Ok(default),
        }
    };
    Ok(AutoTriageSettings {
        mode: match a.get_str("mode") {
            Ok(_) => parse(a, "mode")?,
            Err(_) => AutoTriageMode::Off,
        },
        thresholds: AutoTriageThresholds {
            category: threshold("category", defaults.category)?,
            priority: threshold("priority", defaults.priority)?,
            assignee: threshold("assignee", defaults.assignee)?,
        },
    })
}

/// A user as stored in `users`.
pub fn user_doc(u: &User) -> Document {
    let mut d = doc! {
        "_id": u.id.bson(),
        "tenant_id": u.tenant_id.bson(),
        "name": u.name.as_str(),
        "email": u.email.as_str(),
        "password_hash": &u.password_hash,
        "role": u.role.as_str(),
        "active": u.active,
        "must_change_password": u.must_change_password,
    };
    put_time(&mut d, "created_at", u.created_at);
    put_time(&mut d, "updated_at", u.updated_at);
    d
}

/// Decodes a `users` document.
///
/// # Errors
/// [`CodecError`] for a missing or invalid field.
pub fn user_from(d: &Document) -> Decoded<User> {
    Ok(User {
        id: UserId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        name: text(d, "name", PersonName::new)?,
        email: text(d, "email", Email::parse)?,
        password_hash: get_str(d, "password_hash")?.to_owned(),
        role: parse(d, "role")?,
        active: get_bool(d, "active")?,
        // Absent on users stored before the flag existed: they chose their own password.
        must_change_password: match d.get("must_change_password") {
            None => false,
            Some(_) => get_bool(d, "must_change_password")?,
        },
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
    })
}

/// The search keywords stored with a ticket (see [`opsflow_domain::search`]).
pub fn ticket_keywords(t: &Ticket) -> BTreeSet<String> {
    opsflow_domain::search::keywords([
        t.subject.as_str(),
        t.body.as_str(),
        t.customer_name.as_str(),
        t.customer_email.as_str(),
    ])
}

/// The search keywords a sent reply (customer or agent reply, internal note) adds to its
/// ticket; an unsent AI draft adds none.
pub fn reply_keywords(r: &opsflow_domain::TicketReply) -> Vec<Bson> {
    if r.sent_at.is_none() {
        return Vec::new();
    }
    opsflow_domain::search::keywords([r.body.as_str()]).into_iter().map(Bson::String).collect()
}

/// A ticket as stored in `tickets`, with its `keywords` array (the ticket's own keywords and
/// those of its sent replies) and `reply_keywords` (the replies' share, kept so an edit of the
/// subject or customer can recompute `keywords` without reading every reply).
pub fn ticket_doc(t: &Ticket) -> Document {
    let keywords: Vec<Bson> = ticket_keywords(t).into_iter().map(Bson::String).collect();
    let mut d = doc! {
        "_id": t.id.bson(),
        "tenant_id": t.tenant_id.bson(),
        "number": i64::try_from(t.number).unwrap_or(i64::MAX),
        "subject": t.subject.as_str(),
        "body": t.body.as_str(),
        "channel": t.channel.as_str(),
        "status": t.status.as_str(),
        "priority": opt_str(t.priority.as_ref().map(|p| p.as_str())),
        "priority_rank": Priority::rank(t.priority),
        "category": opt_str(t.category.as_ref().map(|c| c.as_str())),
        "customer_name": t.customer_name.as_str(),
        "customer_email": t.customer_email.as_str(),
        "assignee_id": opt_id(t.assignee_id),
        "created_by_id": opt_id(t.created_by_id),
        "keywords": keywords,
        "reply_keywords": [],
    };
    put_time(&mut d, "created_at", t.created_at);
    put_time(&mut d, "updated_at", t.updated_at);
    d
}

/// Decodes a `tickets` document.
///
/// # Errors
/// [`CodecError`] for a missing or invalid field.
pub fn ticket_from(d: &Document) -> Decoded<Ticket> {
    Ok(Ticket {
        id: TicketId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        number: u64::try_from(get_i64(d, "number")?).map_err(|e| bad("number", e))?,
        subject: text(d, "subject", TicketSubject::new)?,
        body: text(d, "body", TicketBody::new)?,
        channel: parse(d, "channel")?,
        status: parse(d, "status")?,
        priority: parse_opt(d, "priority")?,
        category: parse_opt(d, "category")?,
        customer_name: text(d, "customer_name", PersonName::new)?,
        customer_email: text(d, "customer_email", Email::parse)?,
        assignee_id: get_opt_uuid(d, "assignee_id")?.map(UserId::from_uuid),
        created_by_id: get_opt_uuid(d, "created_by_id")?.map(UserId::from_uuid),
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
    })
}

/// A reply as stored in `ticket_replies` (`sent_at: null` marks an unsent draft).
pub fn reply_doc(r: &TicketReply) -> Document {
    let mut d = doc! {
        "_id": r.id.bson(),
        "tenant_id": r.tenant_id.bson(),
        "ticket_id": r.ticket_id.bson(),
        "author_type": r.author_type.as_str(),
        "author_id": opt_id(r.author_id),
        "body": r.body.as_str(),
    };
    put_opt_time(&mut d, "sent_at", r.sent_at);
    put_time(&mut d, "created_at", r.created_at);
    put_time(&mut d, "updated_at", r.updated_at);
    d
}

/// Decodes a `ticket_replies` document.
///
/// # Errors
/// [`CodecError`] for a missing or invalid field.
pub fn reply_from(d: &Document) -> Decoded<TicketReply> {
    Ok(TicketReply {
        id: ReplyId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        ticket_id: TicketId::from_uuid(get_uuid(d, "ticket_id")?),
        author_type: parse(d, "author_type")?,
        author_id: get_opt_uuid(d, "author_id")?.map(UserId::from_uuid),
        body: text(d, "body", ReplyBody::new)?,
        sent_at: get_opt_time(d, "sent_at")?,
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
    })
}

/// A run as stored in `workflow_runs`.
pub fn run_doc(r: &WorkflowRun) -> Document {
    let mut d = doc! {
        "_id": r.id.bson(),
        "tenant_id": r.tenant_id.bson(),
        "ticket_id": r.ticket_id.bson(),
        "workflow_type": &r.workflow_type,
        "status": r.status.as_str(),
        "started_by_user_id": r.started_by_user_id.bson(),
        "trigger": r.trigger.as_str(),
        "error_message": opt_str(r.error_message.as_deref()),
        "attempts": u32_bson(r.attempts),
    };
    put_time(&mut d, "started_at", r.started_at);
    put_opt_time(&mut d, "finished_at", r.finished_at);
    put_opt_time(&mut d, "lease_expires_at", r.lease_expires_at);
    d
}

/// Decodes a `workflow_runs` document.
///
/// # Errors
/// [`CodecError`] for a missing or invalid field.
pub fn run_from(d: &Document) -> Decoded<WorkflowRun> {
    Ok(WorkflowRun {
        id: WorkflowRunId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        ticket_id: TicketId::from_uuid(get_uuid(d, "ticket_id")?),
        workflow_type: get_str(d, "workflow_type")?.to_owned(),
        status: parse(d, "status")?,
        started_by_user_id: UserId::from_uuid(get_uuid(d, "started_by_user_id")?),
        // Runs stored before auto-triage have no trigger: people started them.
        trigger: match d.get_str("trigger") {
            Ok(_) => parse(d, "trigger")?,
            Err(_) => RunTrigger::Manual,
        },
        error_message: get_opt_str(d, "error_message")?,
        started_at: get_time(d, "started_at")?,
        finished_at: get_opt_time(d, "finished_at")?,
        attempts: get_u32(d, "attempts")?,
        lease_expires_at: get_opt_time(d, "lease_expires_at")?,
    })
}

/// A step as stored in `workflow_steps`, snapshots embedded.
pub fn step_doc(s: &WorkflowStep) -> Document {
    let flags: Vec<Bson> = s.guardrail_flags.iter().cloned().map(Bson::String).collect();
    let mut d = doc! {
        "_id": s.id.bson(),
        "tenant_id": s.tenant_id.bson(),
        "workflow_run_id": s.workflow_run_id.bson(),
        "step_type": s.step_type.as_str(),
        "succeeded": s.succeeded,
        "input_snapshot": json_to_bson(&s.input_snapshot),
        "output_snapshot": json_to_bson(&s.output_snapshot),
        "provider": opt_str(s.provider.as_deref()),
        "model": opt_str(s.model.as_deref()),
        "prompt_version": opt_str(s.prompt_version.as_deref()),
        "latency_ms": i64::try_from(s.latency_ms).unwrap_or(i64::MAX),
        "prompt_tokens": u32_bson(s.prompt_tokens),
        "completion_tokens": u32_bson(s.completion_tokens),
        "attempts": u32_bson(s.attempts),
        "guardrail_flags": flags,
        "error_message": opt_str(s.error_message.as_deref()),
        "attempt": u32_bson(s.attempt.max(1)),
    };
    put_time(&mut d, "created_at", s.created_at);
    d
}

/// Decodes a `workflow_steps` document.
///
/// # Errors
/// [`CodecError`] for a missing or invalid field.
pub fn step_from(d: &Document) -> Decoded<WorkflowStep> {
    let flags = match get(d, "guardrail_flags")? {
        Bson::Array(a) => a
            .iter()
            .map(|f| match f {
                Bson::String(s) => Ok(s.clone()),
                other => Err(bad("guardrail_flags", format!("unexpected {other}"))),
            })
            .collect::<Decoded<Vec<_>>>()?,
        other => return Err(bad("guardrail_flags", format!("unexpected {other}"))),
    };
    Ok(WorkflowStep {
        id: WorkflowStepId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        workflow_run_id: WorkflowRunId::from_uuid(get_uuid(d, "workflow_run_id")?),
        step_type: parse(d, "step_type")?,
        succeeded: get_bool(d, "succeeded")?,
        input_snapshot: bson_to_json("input_snapshot", get(d, "input_snapshot")?)?,
        output_snapshot: bson_to_json("output_snapshot", get(d, "output_snapshot")?)?,
        provider: get_opt_str(d, "provider")?,
        model: get_opt_str(d, "model")?,
        prompt_version: get_opt_str(d, "prompt_version")?,
        latency_ms: u64::try_from(get_i64(d, "latency_ms")?).map_err(|e| bad("latency_ms", e))?,
        prompt_tokens: get_u32(d, "prompt_tokens")?,
        completion_tokens: get_u32(d, "completion_tokens")?,
        attempts: get_u32(d, "attempts")?,
        guardrail_flags: flags,
        error_message: get_opt_str(d, "error_message")?,
        created_at: get_time(d, "created_at")?,
        // Steps stored before attempts were recorded belong to the first one.
        attempt: if d.contains_key("attempt") { get_u32(d, "attempt")? } else { 1 },
    })
}

/// The `$set` document of a ticket patch, with `updated_at = now`. A patch that changes the
/// subject or customer must also set `keywords` (see [`ticket_keywords`]).
pub fn ticket_patch_set(patch: &opsflow_domain::TicketPatch, now: OffsetDateTime) -> Document {
    let mut set = set_time("updated_at", now);
    if let Some(s) = &patch.subject {
        set.insert("subject", s.as_str());
    }
    if let Some(n) = &patch.customer_name {
        set.insert("customer_name", n.as_str());
    }
    if let Some(e) = &patch.customer_email {
        set.insert("customer_email", e.as_str());
    }
    if let Some(s) = patch.status {
        set.insert("status", s.as_str());
    }
    if let Some(p) = patch.priority {
        set.insert("priority", opt_str(p.as_ref().map(|p| p.as_str())));
        set.insert("priority_rank", Priority::rank(p));
    }
    if let Some(c) = patch.category {
        set.insert("category", opt_str(c.as_ref().map(|c| c.as_str())));
    }
    if let Some(a) = patch.assignee_id {
        set.insert("assignee_id", opt_id(a));
    }
    set
}

/// The `$set` document that restores a ticket's triage fields (compensation of a triage
/// completion, which changes nothing else).
pub fn ticket_restore_set(t: &Ticket) -> Document {
    ticket_patch_set(
        &opsflow_domain::TicketPatch {
            status: Some(t.status),
            priority: Some(t.priority),
            category: Some(t.category),
            assignee_id: Some(t.assignee_id),
            ..opsflow_domain::TicketPatch::default()
        },
        t.updated_at,
    )
}

#[cfg(test)]
mod tests {
    use opsflow_domain::{
        AuthorType, Category, Channel, Priority, Role, RunStatus, StepType, TICKET_TRIAGE,
        TicketStatus,
    };
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    /// A timestamp with nanoseconds, to prove sub-millisecond precision survives.
    fn precise() -> OffsetDateTime {
        datetime!(2026-11-25 10:11:12.123_456_789 UTC)
    }

    fn tenant() -> Tenant {
        Tenant {
            id: TenantId::new(),
            name: TenantName::new("Acme Agency").expect("name"),
            slug: Slug::parse("acme-agency").expect("slug"),
            policies: Policies::new("Be kind.").expect("policies"),
            auto_triage: opsflow_domain::AutoTriageSettings::default(),
            reply_policy: opsflow_domain::ReplyPolicy::default(),
            created_at: precise(),
            updated_at: precise() + time::Duration::nanoseconds(1),
        }
    }

    fn ticket() -> Ticket {
        Ticket {
            id: TicketId::new(),
            tenant_id: TenantId::new(),
            number: 42,
            subject: TicketSubject::new("Login BROKEN after update").expect("subject"),
            body: TicketBody::new("I cannot sign in since Tuesday.").expect("body"),
            channel: Channel::Email,
            status: TicketStatus::Open,
            priority: Some(Priority::High),
            category: None,
            customer_name: PersonName::new("Ann Lee").expect("name"),
            customer_email: Email::parse("ann@example.com").expect("email"),
            assignee_id: Some(UserId::new()),
            created_by_id: Some(UserId::new()),
            created_at: precise(),
            updated_at: precise(),
        }
    }

    #[test]
    fn tenant_round_trips_with_nanoseconds() {
        let t = tenant();
        let d = tenant_doc(&t);
        assert!(matches!(d.get("created_at"), Some(Bson::DateTime(_))), "dates are BSON dates");
        assert_eq!(d.get("created_at_ns"), Some(&Bson::Int32(456_789)));
        assert_eq!(tenant_from(&d).expect("decode"), t);
    }

    #[test]
    fn user_round_trips() {
        let u = User {
            id: UserId::new(),
            tenant_id: TenantId::new(),
            name: PersonName::new("Bo").expect("name"),
            email: Email::parse("bo@example.com").expect("email"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def".to_owned(),
            role: Role::Agent,
            active: false,
            must_change_password: true,
            created_at: precise(),
            updated_at: OffsetDateTime::now_utc(),
        };
        let d = user_doc(&u);
        assert_eq!(d.get_str("role").ok(), Some("agent"));
        assert_eq!(user_from(&d).expect("decode"), u);
    }

    #[test]
    fn ticket_round_trips_and_stores_keywords_and_uuid_ids() {
        let t = ticket();
        let d = ticket_doc(&t);
        assert!(matches!(
            d.get("_id"),
            Some(Bson::Binary(Binary { subtype: BinarySubtype::Uuid, .. }))
        ));
        assert_eq!(d.get("category"), Some(&Bson::Null), "unset is null, not missing");
        let kw: Vec<&str> =
            d.get_array("keywords").expect("keywords").iter().filter_map(Bson::as_str).collect();
        for w in ["login", "broken", "tuesday", "ann", "lee", "example", "com"] {
            assert!(kw.contains(&w), "missing keyword {w}");
        }
        assert_eq!(ticket_from(&d).expect("decode"), t);

        let unassigned = Ticket { assignee_id: None, priority: None, ..t };
        assert_eq!(ticket_from(&ticket_doc(&unassigned)).expect("decode"), unassigned);
    }

    #[test]
    fn reply_round_trips_for_drafts_and_sent_replies() {
        let draft = TicketReply {
            id: ReplyId::new(),
            tenant_id: TenantId::new(),
            ticket_id: TicketId::new(),
            author_type: AuthorType::Ai,
            author_id: None,
            body: ReplyBody::new("Hello Ann").expect("body"),
            sent_at: None,
            created_at: precise(),
            updated_at: precise(),
        };
        let d = reply_doc(&draft);
        assert_eq!(d.get("sent_at"), Some(&Bson::Null));
        assert_eq!(reply_from(&d).expect("decode"), draft);
        let sent = TicketReply {
            author_type: AuthorType::Human,
            author_id: Some(UserId::new()),
            sent_at: Some(precise()),
            ..draft
        };
        assert_eq!(reply_from(&reply_doc(&sent)).expect("decode"), sent);
    }

    #[test]
    fn run_round_trips() {
        let run = WorkflowRun {
            id: WorkflowRunId::new(),
            tenant_id: TenantId::new(),
            ticket_id: TicketId::new(),
            workflow_type: TICKET_TRIAGE.to_owned(),
            status: RunStatus::Running,
            started_by_user_id: UserId::new(),
            trigger: opsflow_domain::RunTrigger::Manual,
            error_message: None,
            started_at: precise(),
            finished_at: None,
            attempts: 3,
            lease_expires_at: Some(precise() + time::Duration::seconds(30)),
        };
        assert_eq!(run_from(&run_doc(&run)).expect("decode"), run);
        let failed = WorkflowRun {
            status: RunStatus::Failed,
            error_message: Some("provider timed out".to_owned()),
            finished_at: Some(precise()),
            lease_expires_at: None,
            ..run
        };
        assert_eq!(run_from(&run_doc(&failed)).expect("decode"), failed);
    }

    #[test]
    fn step_round_trips_with_embedded_snapshots() {
        let step = WorkflowStep {
            id: WorkflowStepId::new(),
            tenant_id: TenantId::new(),
            workflow_run_id: WorkflowRunId::new(),
            step_type: StepType::Classification,
            succeeded: true,
            input_snapshot: json!({
                "messages": [{"role": "system", "content": "Classify"}],
                "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema"},
                "temperature": 0.25,
                "max_tokens": 512,
                "nested": {"empty": {}, "list": [], "none": null, "yes": true, "neg": -3},
            }),
            output_snapshot: json!({"category": Category::Bug, "reason": "login fails"}),
            provider: Some("offline".to_owned()),
            model: Some("offline-1".to_owned()),
            prompt_version: Some("v1".to_owned()),
            latency_ms: 42,
            prompt_tokens: 120,
            completion_tokens: u32::MAX,
            attempts: 1,
            guardrail_flags: vec!["pii_email".to_owned()],
            error_message: None,
            created_at: precise(),
            attempt: 2,
        };
        let d = step_doc(&step);
        let input = d.get_document("input_snapshot").expect("embedded document, not a string");
        assert_eq!(input.get_array("messages").map(Vec::len).ok(), Some(1));
        assert_eq!(step_from(&d).expect("decode"), step);

        let failed = WorkflowStep {
            succeeded: false,
            output_snapshot: serde_json::Value::Null,
            error_message: Some("schema mismatch".to_owned()),
            guardrail_flags: vec![],
            ..step
        };
        assert_eq!(step_from(&step_doc(&failed)).expect("decode"), failed);

        // A step stored before attempts were recorded belongs to the first attempt.
        let mut old = step_doc(&failed);
        old.remove("attempt");
        assert_eq!(step_from(&old).expect("decode").attempt, 1);
    }

    #[test]
    fn times_before_the_epoch_and_exact_milliseconds_round_trip() {
        for t in [
            datetime!(1969-12-31 23:59:59.999_999_999 UTC),
            datetime!(2000-01-01 00:00:00 UTC),
            datetime!(2026-01-01 00:00:00.001 UTC),
        ] {
            let d = set_time("at", t);
            assert_eq!(get_time(&d, "at").expect("decode"), t);
        }
    }

    #[test]
    fn corrupt_documents_are_errors_not_panics() {
        let mut d = ticket_doc(&ticket());
        d.insert("status", "exploded");
        let err = ticket_from(&d).expect_err("unknown status");
        assert_eq!(err.field, "status");
        let mut d = tenant_doc(&tenant());
        d.insert("_id", "not-a-uuid");
        assert_eq!(tenant_from(&d).expect_err("string id").field, "_id");
        let mut d = tenant_doc(&tenant());
        d.remove("slug");
        assert_eq!(tenant_from(&d).expect_err("missing").field, "slug");
    }
}
