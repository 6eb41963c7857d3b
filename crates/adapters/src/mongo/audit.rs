//! The workspace audit log on MongoDB (`audit_events`, append-only).
//!
//! `at` is stored like every timestamp (a BSON date plus `at_ns`, the sub-millisecond rest), so
//! the time-range filters compare both parts and the sort uses both: the answer is exact to the
//! nanosecond, as on SQLite.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use opsflow_domain::{
    AuditEvent, AuditEventId, AuditQuery, DetailKey, Email, Page, TenantId, TenantScope, UserId,
};
use opsflow_ports::repos::{AuditRepository, RepoResult};
use time::OffsetDateTime;

use super::codec::{self, AsUuid as _, CodecError, get_opt_uuid, get_time, get_uuid, opt_id};
use super::filters::in_tenant;
use super::{MongoStore, collect, driver};

fn opt_str(s: Option<&str>) -> Bson {
    s.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

fn bad(field: &str, problem: impl std::fmt::Display) -> CodecError {
    CodecError { field: field.to_owned(), problem: problem.to_string() }
}

/// An event as stored in `audit_events`, under `tenant_id`.
fn event_doc(tenant_id: TenantId, e: &AuditEvent) -> Document {
    let detail: Document =
        e.detail.iter().map(|(k, v)| (k.as_str().to_owned(), Bson::String(v.clone()))).collect();
    let mut d = doc! {
        "_id": e.id.bson(),
        "tenant_id": tenant_id.bson(),
        "kind": e.kind.as_str(),
        "actor_id": opt_id(e.actor),
        "actor_email": opt_str(e.actor_email.as_ref().map(Email::as_str)),
        "target_user_id": opt_id(e.target_user),
        "target_email": opt_str(e.target_email.as_ref().map(Email::as_str)),
        "ip": opt_str(e.ip.as_deref()),
        "detail": detail,
    };
    codec::put_time(&mut d, "at", e.at);
    d
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

fn opt_email(d: &Document, field: &str) -> Result<Option<Email>, CodecError> {
    opt_string(d, field)?.map(|s| Email::parse(&s).map_err(|e| bad(field, e))).transpose()
}

/// Decodes an `audit_events` document.
fn event_from(d: &Document) -> Result<AuditEvent, CodecError> {
    let kind = match d.get("kind") {
        Some(Bson::String(s)) => s.parse().map_err(|e| bad("kind", e))?,
        _ => return Err(bad("kind", "missing or not a string")),
    };
    let mut detail = BTreeMap::new();
    if let Some(Bson::Document(stored)) = d.get("detail") {
        for (k, v) in stored {
            let key: DetailKey = k.parse().map_err(|e| bad("detail", e))?;
            let Bson::String(v) = v else { return Err(bad("detail", "a value is not a string")) };
            detail.insert(key, v.clone());
        }
    }
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        at: get_time(d, "at")?,
        actor: get_opt_uuid(d, "actor_id")?.map(UserId::from_uuid),
        actor_email: opt_email(d, "actor_email")?,
        kind,
        target_user: get_opt_uuid(d, "target_user_id")?.map(UserId::from_uuid),
        target_email: opt_email(d, "target_email")?,
        ip: opt_string(d, "ip")?,
        detail,
    })
}

/// `at >= t` (or `at < t` when `before`), exact to the nanosecond over `at` and `at_ns`.
fn at_bound(t: OffsetDateTime, before: bool) -> Document {
    let (date, sub) = codec::split_time(t);
    let (outer, inner) = if before { ("$lt", "$lt") } else { ("$gt", "$gte") };
    doc! { "$or": [
        { "at": { outer: date.clone() } },
        { "at": date, "at_ns": { inner: sub } },
    ] }
}

/// The log filter: the tenant (always a top-level equality), then the optional filters.
pub fn audit_filter(scope: &TenantScope, q: &AuditQuery) -> Document {
    let mut f = in_tenant(scope);
    if !q.kinds.is_empty() {
        let kinds: Vec<Bson> =
            q.kinds.iter().map(|k| Bson::String(k.as_str().to_owned())).collect();
        f.insert("kind", doc! { "$in": kinds });
    }
    if let Some(actor) = q.actor {
        f.insert("actor_id", actor.bson());
    }
    let bounds: Vec<Bson> = [q.from.map(|t| at_bound(t, false)), q.to.map(|t| at_bound(t, true))]
        .into_iter()
        .flatten()
        .map(Bson::Document)
        .collect();
    if !bounds.is_empty() {
        f.insert("$and", bounds);
    }
    f
}

#[async_trait]
impl AuditRepository for MongoStore {
    async fn record(&self, scope: &TenantScope, event: &AuditEvent) -> RepoResult<()> {
        // Written under the scope's tenant whatever the event says: no write crosses tenants.
        self.audit.insert_one(event_doc(scope.tenant_id(), event)).await.map_err(driver)?;
        Ok(())
    }

    async fn list(&self, scope: &TenantScope, query: &AuditQuery) -> RepoResult<Page<AuditEvent>> {
        let filter = audit_filter(scope, query);
        let total = self.audit.count_documents(filter.clone()).await.map_err(driver)?;
        if total <= query.offset() {
            return Ok(Page { items: Vec::new(), total });
        }
        let cursor = self
            .audit
            .find(filter)
            .sort(doc! { "at": -1, "at_ns": -1, "_id": -1 })
            .skip(query.offset())
            .limit(i64::from(query.per_page))
            .await
            .map_err(driver)?;
        Ok(Page { items: collect(cursor, event_from).await?, total })
    }
}

#[cfg(test)]
mod tests {
    use opsflow_domain::{AuditKind, Role};
    use time::macros::datetime;

    use super::*;

    #[test]
    fn documents_round_trip_every_field() {
        let tenant = TenantId::new();
        let email = Email::parse("ada@example.com").unwrap();
        let e = AuditEvent::new(
            tenant,
            AuditKind::RoleChanged,
            datetime!(2026-12-02 06:00:00.123_456_789 UTC),
        )
        .by(UserId::new(), &email)
        .on(UserId::new(), &email)
        .from_ip(Some("192.0.2.7"))
        .with(DetailKey::FromRole, "agent")
        .with(DetailKey::ToRole, "admin");
        assert_eq!(event_from(&event_doc(tenant, &e)).unwrap(), e);
        let bare = AuditEvent::new(tenant, AuditKind::LoginFailed, datetime!(2026-12-02 06:00 UTC));
        assert_eq!(event_from(&event_doc(tenant, &bare)).unwrap(), bare);
    }

    #[test]
    fn the_filter_always_starts_with_the_tenant() {
        let scope = TenantScope::new(TenantId::new(), UserId::new(), Role::Admin);
        let q = AuditQuery {
            kinds: vec![AuditKind::Signup],
            actor: Some(UserId::new()),
            from: Some(datetime!(2026-12-01 00:00 UTC)),
            to: Some(datetime!(2026-12-02 00:00 UTC)),
            ..AuditQuery::default()
        };
        let f = audit_filter(&scope, &q);
        assert_eq!(f.keys().next().map(String::as_str), Some("tenant_id"));
        assert_eq!(f.get_array("$and").unwrap().len(), 2);
    }
}
