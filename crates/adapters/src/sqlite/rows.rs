//! Column encodings (UUID blobs, nanosecond timestamps, enum texts) and row-to-entity mapping.

use std::str::FromStr;

use opsflow_domain::{
    AuditEvent, AuditEventId, AutoTriageSettings, AutoTriageThresholds, Email, PersonName,
    Policies, ReplyBody, ReplyId, Slug, Tenant, TenantId, TenantName, Threshold, Ticket,
    TicketBody, TicketId, TicketReply, TicketSubject, User, UserId, WorkflowRun, WorkflowRunId,
    WorkflowStep, WorkflowStepId,
};
use opsflow_ports::repos::RepoError;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;
use uuid::Uuid;

/// A bound parameter of a dynamically built query.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Blob(Vec<u8>),
    Text(String),
    Int(i64),
    Null,
}

/// An id as its stored 16-byte form.
pub(super) fn blob(id: Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

/// A timestamp as stored: Unix nanoseconds (UTC). Out-of-range dates (beyond year 2262) are an
/// error rather than a silent truncation.
pub(super) fn nanos(t: OffsetDateTime) -> Result<i64, RepoError> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(RepoError::unexpected)
}

pub(super) fn opt_nanos(t: Option<OffsetDateTime>) -> Result<Option<i64>, RepoError> {
    t.map(nanos).transpose()
}

pub(super) fn int<T: TryInto<i64>>(v: T) -> Result<i64, RepoError>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    v.try_into().map_err(RepoError::unexpected)
}

pub(super) fn get<'r, T>(row: &'r SqliteRow, col: &str) -> Result<T, RepoError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(col).map_err(RepoError::unexpected)
}

pub(super) fn uuid(row: &SqliteRow, col: &str) -> Result<Uuid, RepoError> {
    let bytes: Vec<u8> = get(row, col)?;
    Uuid::from_slice(&bytes).map_err(RepoError::unexpected)
}

fn opt_uuid(row: &SqliteRow, col: &str) -> Result<Option<Uuid>, RepoError> {
    let bytes: Option<Vec<u8>> = get(row, col)?;
    bytes.map(|b| Uuid::from_slice(&b).map_err(RepoError::unexpected)).transpose()
}

pub(super) fn ts(row: &SqliteRow, col: &str) -> Result<OffsetDateTime, RepoError> {
    let n: i64 = get(row, col)?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).map_err(RepoError::unexpected)
}

pub(super) fn opt_ts(row: &SqliteRow, col: &str) -> Result<Option<OffsetDateTime>, RepoError> {
    let n: Option<i64> = get(row, col)?;
    n.map(|n| {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).map_err(RepoError::unexpected)
    })
    .transpose()
}

pub(super) fn text(row: &SqliteRow, col: &str) -> Result<String, RepoError> {
    get(row, col)
}

fn opt_text(row: &SqliteRow, col: &str) -> Result<Option<String>, RepoError> {
    get(row, col)
}

/// A stored text parsed back into its domain type (enum or validated value).
fn parsed<T>(row: &SqliteRow, col: &str) -> Result<T, RepoError>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text(row, col)?.parse().map_err(RepoError::unexpected)
}

fn opt_parsed<T>(row: &SqliteRow, col: &str) -> Result<Option<T>, RepoError>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    opt_text(row, col)?.map(|s| s.parse().map_err(RepoError::unexpected)).transpose()
}

fn valid<T, E>(
    row: &SqliteRow,
    col: &str,
    make: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, RepoError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    make(&text(row, col)?).map_err(RepoError::unexpected)
}

fn unsigned<T: TryFrom<i64>>(row: &SqliteRow, col: &str) -> Result<T, RepoError>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    let n: i64 = get(row, col)?;
    T::try_from(n).map_err(RepoError::unexpected)
}

fn flag(row: &SqliteRow, col: &str) -> Result<bool, RepoError> {
    let n: i64 = get(row, col)?;
    Ok(n != 0)
}

pub(super) const TENANT_COLS: &str = "id, name, slug, policies, auto_triage_mode, \
     auto_triage_category, auto_triage_priority, auto_triage_assignee, reply_policy, created_at, \
     updated_at";

fn threshold(row: &SqliteRow, col: &str) -> Result<Threshold, RepoError> {
    let v: f64 = get(row, col)?;
    Threshold::new(v).map_err(RepoError::unexpected)
}

pub(super) fn tenant(row: &SqliteRow) -> Result<Tenant, RepoError> {
    Ok(Tenant {
        id: TenantId::from_uuid(uuid(row, "id")?),
        name: valid(row, "name", TenantName::new)?,
        slug: valid(row, "slug", Slug::parse)?,
        policies: valid(row, "policies", Policies::new)?,
        auto_triage: AutoTriageSettings {
            mode: parsed(row, "auto_triage_mode")?,
            thresholds: AutoTriageThresholds {
                category: threshold(row, "auto_triage_category")?,
                priority: threshold(row, "auto_triage_priority")?,
                assignee: threshold(row, "auto_triage_assignee")?,
            },
        },
        reply_policy: json(row, "reply_policy")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(super) const USER_COLS: &str = "id, tenant_id, name, email, password_hash, role, active, must_change_password, created_at, \
     updated_at";

pub(super) fn user(row: &SqliteRow) -> Result<User, RepoError> {
    Ok(User {
        id: UserId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        name: valid(row, "name", PersonName::new)?,
        email: valid(row, "email", Email::parse)?,
        password_hash: text(row, "password_hash")?,
        role: parsed(row, "role")?,
        active: flag(row, "active")?,
        must_change_password: flag(row, "must_change_password")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(super) const TICKET_COLS: &str = "id, tenant_id, number, subject, body, channel, status, priority, \
     category, customer_name, customer_email, assignee_id, created_by_id, created_at, updated_at";

pub(super) fn ticket(row: &SqliteRow) -> Result<Ticket, RepoError> {
    Ok(Ticket {
        id: TicketId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        number: u64::try_from(get::<i64>(row, "number")?).map_err(RepoError::unexpected)?,
        subject: valid(row, "subject", TicketSubject::new)?,
        body: valid(row, "body", TicketBody::new)?,
        channel: parsed(row, "channel")?,
        status: parsed(row, "status")?,
        priority: opt_parsed(row, "priority")?,
        category: opt_parsed(row, "category")?,
        customer_name: valid(row, "customer_name", PersonName::new)?,
        customer_email: valid(row, "customer_email", Email::parse)?,
        assignee_id: opt_uuid(row, "assignee_id")?.map(UserId::from_uuid),
        created_by_id: creator_from(uuid(row, "created_by_id")?),
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

/// `tickets.created_by_id` is `NOT NULL` (and has no foreign key), so a ticket no team member
/// created (one that arrived by email, `created_by_id: None`) stores the nil UUID, 16 zero
/// bytes, which no user id ever is (ids are UUIDv7). Kept this way rather than rebuilding the
/// table to make the column nullable.
pub(super) fn creator_blob(created_by: Option<UserId>) -> Vec<u8> {
    blob(created_by.map_or(Uuid::nil(), |u| u.as_uuid()))
}

/// The inverse of [`creator_blob`].
fn creator_from(stored: Uuid) -> Option<UserId> {
    (!stored.is_nil()).then(|| UserId::from_uuid(stored))
}

pub(super) const REPLY_COLS: &str =
    "id, tenant_id, ticket_id, author_type, author_id, body, sent_at, created_at, updated_at";

pub(super) fn reply(row: &SqliteRow) -> Result<TicketReply, RepoError> {
    Ok(TicketReply {
        id: ReplyId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        ticket_id: TicketId::from_uuid(uuid(row, "ticket_id")?),
        author_type: parsed(row, "author_type")?,
        author_id: opt_uuid(row, "author_id")?.map(UserId::from_uuid),
        body: valid(row, "body", ReplyBody::new)?,
        sent_at: opt_ts(row, "sent_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(super) const RUN_COLS: &str = "id, tenant_id, ticket_id, workflow_type, status, \
     started_by_user_id, run_trigger, error_message, started_at, finished_at, attempts, \
     lease_expires_at";

pub(super) fn run(row: &SqliteRow) -> Result<WorkflowRun, RepoError> {
    Ok(WorkflowRun {
        id: WorkflowRunId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        ticket_id: TicketId::from_uuid(uuid(row, "ticket_id")?),
        workflow_type: text(row, "workflow_type")?,
        status: parsed(row, "status")?,
        started_by_user_id: UserId::from_uuid(uuid(row, "started_by_user_id")?),
        trigger: parsed(row, "run_trigger")?,
        error_message: opt_text(row, "error_message")?,
        started_at: ts(row, "started_at")?,
        finished_at: opt_ts(row, "finished_at")?,
        attempts: unsigned(row, "attempts")?,
        lease_expires_at: opt_ts(row, "lease_expires_at")?,
    })
}

pub(super) const STEP_COLS: &str = "id, tenant_id, workflow_run_id, step_type, succeeded, \
     input_snapshot, output_snapshot, provider, model, prompt_version, latency_ms, prompt_tokens, \
     completion_tokens, attempts, guardrail_flags, error_message, created_at, attempt";

fn json<T: serde::de::DeserializeOwned>(row: &SqliteRow, col: &str) -> Result<T, RepoError> {
    serde_json::from_str(&text(row, col)?).map_err(RepoError::unexpected)
}

pub(super) fn step(row: &SqliteRow) -> Result<WorkflowStep, RepoError> {
    Ok(WorkflowStep {
        id: WorkflowStepId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        workflow_run_id: WorkflowRunId::from_uuid(uuid(row, "workflow_run_id")?),
        step_type: parsed(row, "step_type")?,
        succeeded: flag(row, "succeeded")?,
        input_snapshot: json(row, "input_snapshot")?,
        output_snapshot: json(row, "output_snapshot")?,
        provider: opt_text(row, "provider")?,
        model: opt_text(row, "model")?,
        prompt_version: opt_text(row, "prompt_version")?,
        latency_ms: unsigned(row, "latency_ms")?,
        prompt_tokens: unsigned(row, "prompt_tokens")?,
        completion_tokens: unsigned(row, "completion_tokens")?,
        attempts: unsigned(row, "attempts")?,
        guardrail_flags: json(row, "guardrail_flags")?,
        error_message: opt_text(row, "error_message")?,
        created_at: ts(row, "created_at")?,
        attempt: unsigned(row, "attempt")?,
    })
}

pub(super) const AUDIT_COLS: &str = "id, tenant_id, at, kind, actor_id, actor_email, \
     target_user_id, target_email, ip, detail";

pub(super) fn audit_event(row: &SqliteRow) -> Result<AuditEvent, RepoError> {
    let email = |col: &str| -> Result<Option<Email>, RepoError> {
        opt_text(row, col)?.map(|s| Email::parse(&s).map_err(RepoError::unexpected)).transpose()
    };
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(uuid(row, "id")?),
        tenant_id: TenantId::from_uuid(uuid(row, "tenant_id")?),
        at: ts(row, "at")?,
        actor: opt_uuid(row, "actor_id")?.map(UserId::from_uuid),
        actor_email: email("actor_email")?,
        kind: parsed(row, "kind")?,
        target_user: opt_uuid(row, "target_user_id")?.map(UserId::from_uuid),
        target_email: email("target_email")?,
        ip: opt_text(row, "ip")?,
        detail: json(row, "detail")?,
    })
}

/// Maps every row, failing on the first that does not decode.
pub(super) fn all<T>(
    rows: &[SqliteRow],
    map: impl Fn(&SqliteRow) -> Result<T, RepoError>,
) -> Result<Vec<T>, RepoError> {
    rows.iter().map(map).collect()
}

pub(super) const MAILBOX_COLS: &str = "enabled, imap_host, imap_port, imap_security, imap_username, \
     imap_password, imap_folder, smtp_host, smtp_port, smtp_security, smtp_username, \
     smtp_password, from_address, from_name, updated_at";

pub(super) fn mailbox(
    row: &SqliteRow,
) -> Result<opsflow_domain::mailbox::MailboxSettings, RepoError> {
    use opsflow_domain::mailbox::{
        ImapSettings, MailFolder, MailHost, MailboxSettings, SmtpSettings,
    };
    Ok(MailboxSettings {
        enabled: flag(row, "enabled")?,
        imap: ImapSettings {
            host: valid(row, "imap_host", MailHost::parse)?,
            port: unsigned(row, "imap_port")?,
            security: parsed(row, "imap_security")?,
            username: text(row, "imap_username")?,
            password_sealed: opt_text(row, "imap_password")?,
            folder: valid(row, "imap_folder", MailFolder::parse)?,
        },
        smtp: SmtpSettings {
            host: valid(row, "smtp_host", MailHost::parse)?,
            port: unsigned(row, "smtp_port")?,
            security: parsed(row, "smtp_security")?,
            username: opt_text(row, "smtp_username")?,
            password_sealed: opt_text(row, "smtp_password")?,
        },
        from_address: valid(row, "from_address", Email::parse)?,
        from_name: text(row, "from_name")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(super) const MAILBOX_STATUS_COLS: &str =
    "last_fetch_at, last_error, last_error_at, next_retry_at, consecutive_failures";

pub(super) fn mailbox_status(
    row: &SqliteRow,
) -> Result<opsflow_domain::mailbox::MailboxStatus, RepoError> {
    Ok(opsflow_domain::mailbox::MailboxStatus {
        last_fetch_at: opt_ts(row, "last_fetch_at")?,
        last_error: opt_text(row, "last_error")?,
        last_error_at: opt_ts(row, "last_error_at")?,
        next_retry_at: opt_ts(row, "next_retry_at")?,
        consecutive_failures: unsigned(row, "consecutive_failures")?,
    })
}
