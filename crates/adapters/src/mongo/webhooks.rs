//! Webhook endpoints (`webhook_endpoints`) and their message queue (`webhook_deliveries`) on
//! MongoDB: claims are one `findOneAndUpdate`; an attempt's outcome is written fenced by the
//! attempt number, then the endpoint's failure count with `$inc` (and a conditional disable).

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use mongodb::Collection;
use mongodb::options::ReturnDocument;
use opsflow_domain::webhook::{
    AttemptOutcome, WebhookDelivery, WebhookDeliveryId, WebhookDeliveryStatus, WebhookEndpoint,
    WebhookEndpointId, WebhookEventType, WebhookEvents, WebhookUrl,
};
use opsflow_domain::{Page, TenantId, TenantScope};
use opsflow_ports::repos::{
    ClaimedWebhook, Conflict, DeliveryQuery, RepoError, RepoResult, WebhookRepository,
};
use time::{Duration, OffsetDateTime};

use super::codec::{
    AsUuid, CodecError, get_i64, get_opt_time, get_time, get_uuid, ns_field, put_opt_time,
    put_time, set_time, split_time,
};
use super::{MongoStore, collect, corrupt, driver};

/// The endpoints collection.
pub(super) const ENDPOINTS: &str = "webhook_endpoints";
/// The messages collection.
pub(super) const DELIVERIES: &str = "webhook_deliveries";

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

fn u32_of(d: &Document, field: &str) -> Result<u32, CodecError> {
    u32::try_from(get_i64(d, field)?).map_err(|e| bad(field, e))
}

fn endpoint_doc(e: &WebhookEndpoint, sealed_secret: &str) -> Document {
    let mut d = doc! {
        "_id": e.id.bson(),
        "tenant_id": e.tenant_id.bson(),
        "secret_sealed": sealed_secret,
    };
    d.extend(endpoint_set(e));
    d
}

/// The changeable fields of an endpoint.
fn endpoint_set(e: &WebhookEndpoint) -> Document {
    let mut d = doc! {
        "url": e.url.as_str(),
        "description": e.description.as_str(),
        "events": e.events.iter().map(|t| Bson::String(t.as_str().to_owned())).collect::<Vec<_>>(),
        "enabled": e.enabled,
        "disabled_reason": opt_str(e.disabled_reason.as_deref()),
        "consecutive_failures": Bson::Int64(i64::from(e.consecutive_failures)),
    };
    put_time(&mut d, "created_at", e.created_at);
    put_time(&mut d, "updated_at", e.updated_at);
    d
}

fn endpoint_from(d: &Document) -> Result<WebhookEndpoint, CodecError> {
    let events = match d.get("events") {
        Some(Bson::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| bad("events", "not a string")))
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(bad("events", "expected an array")),
    };
    Ok(WebhookEndpoint {
        id: WebhookEndpointId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        url: WebhookUrl::parse(&string(d, "url")?).map_err(|e| bad("url", e))?,
        description: string(d, "description")?,
        events: WebhookEvents::parse(&events).map_err(|e| bad("events", e))?,
        enabled: d.get_bool("enabled").map_err(|e| bad("enabled", e))?,
        disabled_reason: opt_string(d, "disabled_reason")?,
        consecutive_failures: u32_of(d, "consecutive_failures")?,
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
    })
}

fn delivery_doc(x: &WebhookDelivery) -> Document {
    let mut d = doc! {
        "_id": x.id.bson(),
        "tenant_id": x.tenant_id.bson(),
        "endpoint_id": x.endpoint_id.bson(),
        "event_type": x.event_type.as_str(),
        "payload": x.payload.as_str(),
        "status": x.status.as_str(),
        "attempts": Bson::Int64(i64::from(x.attempts)),
        "last_status": x.last_status.map_or(Bson::Null, |s| Bson::Int32(i32::from(s))),
        "last_error": opt_str(x.last_error.as_deref()),
        "response_excerpt": opt_str(x.response_excerpt.as_deref()),
    };
    put_time(&mut d, "next_attempt_at", x.next_attempt_at);
    put_opt_time(&mut d, "lease_until", x.lease_until);
    put_time(&mut d, "created_at", x.created_at);
    put_time(&mut d, "updated_at", x.updated_at);
    d
}

fn delivery_from(d: &Document) -> Result<WebhookDelivery, CodecError> {
    let event = d.get_str("event_type").map_err(|e| bad("event_type", e))?;
    let status = d.get_str("status").map_err(|e| bad("status", e))?;
    let last_status = match d.get("last_status") {
        None | Some(Bson::Null) => None,
        Some(Bson::Int32(n)) => Some(u16::try_from(*n).map_err(|e| bad("last_status", e))?),
        Some(Bson::Int64(n)) => Some(u16::try_from(*n).map_err(|e| bad("last_status", e))?),
        Some(_) => return Err(bad("last_status", "expected an integer")),
    };
    Ok(WebhookDelivery {
        id: WebhookDeliveryId::from_uuid(get_uuid(d, "_id")?),
        tenant_id: TenantId::from_uuid(get_uuid(d, "tenant_id")?),
        endpoint_id: WebhookEndpointId::from_uuid(get_uuid(d, "endpoint_id")?),
        event_type: event.parse::<WebhookEventType>().map_err(|e| bad("event_type", e))?,
        payload: string(d, "payload")?,
        status: WebhookDeliveryStatus::parse(status).map_err(|e| bad("status", e))?,
        attempts: u32_of(d, "attempts")?,
        next_attempt_at: get_time(d, "next_attempt_at")?,
        lease_until: get_opt_time(d, "lease_until")?,
        last_status,
        last_error: opt_string(d, "last_error")?,
        response_excerpt: opt_string(d, "response_excerpt")?,
        created_at: get_time(d, "created_at")?,
        updated_at: get_time(d, "updated_at")?,
    })
}

/// `field <= t` (`strict`: `<`) on a millisecond date with its nanosecond companion.
fn time_before(field: &str, t: OffsetDateTime, strict: bool) -> Vec<Document> {
    let (ms, ns) = split_time(t);
    let op = if strict { "$lt" } else { "$lte" };
    vec![doc! { field: { "$lt": ms.clone() } }, doc! { field: ms, ns_field(field): { op: ns } }]
}

fn claimable(now: OffsetDateTime) -> Document {
    let mut unleased = vec![doc! { "lease_until": Bson::Null }];
    unleased.extend(time_before("lease_until", now, true));
    doc! {
        "status": { "$in": [WebhookDeliveryStatus::Queued.as_str(), WebhookDeliveryStatus::Retrying.as_str()] },
        "$and": [
            { "$or": time_before("next_attempt_at", now, false) },
            { "$or": unleased },
        ],
    }
}

fn scoped(tenant_id: TenantId, id: Bson) -> Document {
    doc! { "tenant_id": tenant_id.bson(), "_id": id }
}

impl MongoStore {
    fn endpoints(&self) -> Collection<Document> {
        self.db.collection(ENDPOINTS)
    }

    fn deliveries(&self) -> Collection<Document> {
        self.db.collection(DELIVERIES)
    }

    async fn endpoint_with_secret(
        &self,
        tenant_id: TenantId,
        id: WebhookEndpointId,
    ) -> RepoResult<Option<(WebhookEndpoint, String)>> {
        let d = self.endpoints().find_one(scoped(tenant_id, id.bson())).await.map_err(driver)?;
        d.map(|d| {
            let e = endpoint_from(&d).map_err(corrupt)?;
            let secret = string(&d, "secret_sealed").map_err(corrupt)?;
            Ok((e, secret))
        })
        .transpose()
    }
}

#[async_trait]
impl WebhookRepository for MongoStore {
    async fn create_webhook(
        &self,
        scope: &TenantScope,
        e: &WebhookEndpoint,
        sealed_secret: &str,
    ) -> RepoResult<()> {
        if e.tenant_id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        self.endpoints().insert_one(endpoint_doc(e, sealed_secret)).await.map_err(driver)?;
        Ok(())
    }

    async fn list_webhooks(&self, scope: &TenantScope) -> RepoResult<Vec<WebhookEndpoint>> {
        let cursor = self
            .endpoints()
            .find(doc! { "tenant_id": scope.tenant_id().bson() })
            .sort(doc! { "created_at": 1, "created_at_ns": 1, "_id": 1 })
            .await
            .map_err(driver)?;
        collect(cursor, endpoint_from).await
    }

    async fn get_webhook(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
    ) -> RepoResult<WebhookEndpoint> {
        self.endpoint_with_secret(scope.tenant_id(), id)
            .await?
            .map(|(e, _)| e)
            .ok_or(RepoError::NotFound)
    }

    async fn update_webhook(&self, scope: &TenantScope, e: &WebhookEndpoint) -> RepoResult<()> {
        let mut set = endpoint_set(e);
        set.remove("created_at");
        set.remove("created_at_ns");
        let r = self
            .endpoints()
            .update_one(scoped(scope.tenant_id(), e.id.bson()), doc! { "$set": set })
            .await
            .map_err(driver)?;
        if r.matched_count == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn set_webhook_secret(
        &self,
        scope: &TenantScope,
        id: WebhookEndpointId,
        sealed_secret: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let mut set = doc! { "secret_sealed": sealed_secret };
        set.extend(set_time("updated_at", now));
        let r = self
            .endpoints()
            .update_one(scoped(scope.tenant_id(), id.bson()), doc! { "$set": set })
            .await
            .map_err(driver)?;
        if r.matched_count == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn delete_webhook(&self, scope: &TenantScope, id: WebhookEndpointId) -> RepoResult<()> {
        // The endpoint first: once it is gone no new message can be queued for it, and a
        // message claimed meanwhile fails its record (no endpoint) and is removed below.
        let r = self
            .endpoints()
            .delete_one(scoped(scope.tenant_id(), id.bson()))
            .await
            .map_err(driver)?;
        if r.deleted_count == 0 {
            return Err(RepoError::NotFound);
        }
        self.deliveries()
            .delete_many(doc! { "tenant_id": scope.tenant_id().bson(), "endpoint_id": id.bson() })
            .await
            .map_err(driver)?;
        Ok(())
    }

    async fn enqueue_webhooks(
        &self,
        scope: &TenantScope,
        deliveries: &[WebhookDelivery],
    ) -> RepoResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        if deliveries.iter().any(|d| d.tenant_id != scope.tenant_id()) {
            return Err(RepoError::NotFound);
        }
        let mut ids: Vec<Bson> = deliveries.iter().map(|d| d.endpoint_id.bson()).collect();
        ids.dedup();
        let known = self
            .endpoints()
            .count_documents(
                doc! { "tenant_id": scope.tenant_id().bson(), "_id": { "$in": ids.clone() } },
            )
            .await
            .map_err(driver)?;
        if usize::try_from(known).unwrap_or(0) != ids.len() {
            return Err(RepoError::NotFound);
        }
        self.deliveries().insert_many(deliveries.iter().map(delivery_doc)).await.map_err(driver)?;
        Ok(())
    }

    async fn claim_next_webhook(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<ClaimedWebhook>> {
        let mut set = set_time("lease_until", now + lease);
        set.extend(set_time("updated_at", now));
        let d = self
            .deliveries()
            .find_one_and_update(
                claimable(now),
                doc! { "$set": set, "$inc": { "attempts": Bson::Int64(1) } },
            )
            .sort(doc! { "next_attempt_at": 1, "next_attempt_at_ns": 1, "_id": 1 })
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        let Some(d) = d else { return Ok(None) };
        let delivery = delivery_from(&d).map_err(corrupt)?;
        let (endpoint, sealed_secret) = self
            .endpoint_with_secret(delivery.tenant_id, delivery.endpoint_id)
            .await?
            .ok_or_else(|| {
                RepoError::unexpected(format!("webhook message {} has no endpoint", delivery.id))
            })?;
        Ok(Some(ClaimedWebhook { delivery, endpoint, sealed_secret }))
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
        let mut set = doc! {
            "status": outcome.status.as_str(),
            "lease_until": Bson::Null,
            ns_field("lease_until"): Bson::Null,
            "last_status": outcome.http_status.map_or(Bson::Null, |s| Bson::Int32(i32::from(s))),
            "last_error": opt_str(outcome.error.as_deref()),
            "response_excerpt": opt_str(outcome.response_excerpt.as_deref()),
        };
        if let Some(next) = outcome.next_attempt_at {
            set.extend(set_time("next_attempt_at", next));
        }
        set.extend(set_time("updated_at", now));
        let mut fenced = scoped(tenant_id, id.bson());
        fenced.insert("attempts", Bson::Int64(i64::from(attempt)));
        fenced.insert("lease_until", doc! { "$ne": Bson::Null });
        let d = self
            .deliveries()
            .find_one_and_update(fenced, doc! { "$set": set })
            .await
            .map_err(driver)?;
        let Some(d) = d else { return Err(RepoError::NotFound) };
        let endpoint_id = get_uuid(&d, "endpoint_id").map_err(corrupt)?;
        let filter = scoped(tenant_id, endpoint_id.bson());
        let update = if outcome.is_failure() {
            doc! { "$inc": { "consecutive_failures": Bson::Int64(1) } }
        } else {
            doc! { "$set": { "consecutive_failures": Bson::Int64(0) } }
        };
        let e = self
            .endpoints()
            .find_one_and_update(filter.clone(), update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        let Some(e) = e else { return Ok(None) };
        let mut endpoint = endpoint_from(&e).map_err(corrupt)?;
        if endpoint.enabled
            && outcome.is_failure()
            && endpoint.consecutive_failures >= disable_after
        {
            let reason = format!(
                "disabled automatically after {disable_after} failed attempts in a row; last: {}",
                outcome.error.as_deref().unwrap_or("failed")
            );
            let mut only_enabled = filter;
            only_enabled.insert("enabled", true);
            let mut set = doc! { "enabled": false, "disabled_reason": reason.as_str() };
            set.extend(set_time("updated_at", now));
            let r = self
                .endpoints()
                .update_one(only_enabled, doc! { "$set": set })
                .await
                .map_err(driver)?;
            if r.modified_count > 0 {
                endpoint.enabled = false;
                endpoint.disabled_reason = Some(reason);
                endpoint.updated_at = now;
            }
        }
        Ok(Some(endpoint))
    }

    async fn list_webhook_deliveries(
        &self,
        scope: &TenantScope,
        endpoint_id: WebhookEndpointId,
        query: &DeliveryQuery,
    ) -> RepoResult<Page<WebhookDelivery>> {
        if self.endpoint_with_secret(scope.tenant_id(), endpoint_id).await?.is_none() {
            return Err(RepoError::NotFound);
        }
        let mut filter =
            doc! { "tenant_id": scope.tenant_id().bson(), "endpoint_id": endpoint_id.bson() };
        if let Some(s) = query.status {
            filter.insert("status", s.as_str());
        }
        let total = self.deliveries().count_documents(filter.clone()).await.map_err(driver)?;
        let per_page = query.per_page.max(1);
        let skip = u64::from(query.page.max(1) - 1) * u64::from(per_page);
        let cursor = self
            .deliveries()
            .find(filter)
            .sort(doc! { "created_at": -1, "created_at_ns": -1, "_id": -1 })
            .skip(skip)
            .limit(i64::from(per_page))
            .await
            .map_err(driver)?;
        Ok(Page { items: collect(cursor, delivery_from).await?, total })
    }

    async fn retry_webhook_delivery(
        &self,
        scope: &TenantScope,
        endpoint_id: WebhookEndpointId,
        id: WebhookDeliveryId,
        now: OffsetDateTime,
    ) -> RepoResult<WebhookDelivery> {
        let mut filter = scoped(scope.tenant_id(), id.bson());
        filter.insert("endpoint_id", endpoint_id.bson());
        let mut finished = filter.clone();
        finished.insert(
            "status",
            doc! { "$in": [WebhookDeliveryStatus::Succeeded.as_str(), WebhookDeliveryStatus::Failed.as_str()] },
        );
        let mut set = doc! {
            "status": WebhookDeliveryStatus::Queued.as_str(),
            "attempts": Bson::Int64(0),
            "lease_until": Bson::Null,
            ns_field("lease_until"): Bson::Null,
        };
        set.extend(set_time("next_attempt_at", now));
        set.extend(set_time("updated_at", now));
        let d = self
            .deliveries()
            .find_one_and_update(finished, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        if let Some(d) = d {
            return delivery_from(&d).map_err(corrupt);
        }
        let exists = self
            .deliveries()
            .find_one(filter)
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        Err(if exists.is_some() {
            RepoError::Conflict(Conflict::WebhookDeliveryPending)
        } else {
            RepoError::NotFound
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_every_field() {
        let now = OffsetDateTime::from_unix_timestamp_nanos(1_800_000_000_123_456_789).unwrap();
        let e = WebhookEndpoint {
            id: WebhookEndpointId::new(),
            tenant_id: TenantId::new(),
            url: WebhookUrl::parse("https://hooks.example.com/x").unwrap(),
            description: "CRM".into(),
            events: WebhookEvents::parse(&["ticket.created", "reply.created"]).unwrap(),
            enabled: false,
            disabled_reason: Some("too many failures".into()),
            consecutive_failures: 15,
            created_at: now,
            updated_at: now + Duration::seconds(1),
        };
        assert_eq!(endpoint_from(&endpoint_doc(&e, "sealed")).unwrap(), e);
        let mut d = WebhookDelivery::queued(&e, WebhookEventType::ReplyCreated, "{}".into(), now);
        d.status = WebhookDeliveryStatus::Retrying;
        d.attempts = 2;
        d.lease_until = Some(now + Duration::minutes(1));
        d.last_status = Some(503);
        d.last_error = Some("HTTP 503".into());
        d.response_excerpt = Some("busy".into());
        assert_eq!(delivery_from(&delivery_doc(&d)).unwrap(), d);
    }
}
