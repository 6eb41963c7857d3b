//! Per-workspace ticket numbers on MongoDB: one counter document per tenant.
//!
//! A create takes its numbers with one `findOneAndUpdate` `$inc` on the tenant's counter
//! (inserted at 0 first if it is missing), outside any transaction: the counter is the tenant's hottest document, and taking
//! numbers in the insert's transaction would make concurrent creates abort on write conflicts
//! and retry. The cost is that a create whose insert then fails leaves a gap in the numbers;
//! numbers stay unique (the `(tenant_id, number)` index is unique), which is what matters.
//!
//! Tickets stored before numbers existed are numbered at start-up ([`backfill`]), in creation
//! order, before the unique index is created. Doing it eagerly rather than lazily on read keeps
//! every read path simple (every stored ticket has a number) and costs one query that finds
//! nothing on every later start.

use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::options::ReturnDocument;
use opsflow_domain::{Priority, TenantId};

use super::codec::{AsUuid, get_i64};

/// The counter field of a `ticket_counters` document (`_id` is the tenant id).
const FIELD: &str = "last_number";

/// How often taking numbers is retried after creating a tenant's missing counter.
const CREATE_ATTEMPTS: usize = 3;

/// Takes `count` consecutive numbers from a tenant's counter and returns the first. The `$inc`
/// runs only on an existing counter: a missing one is first inserted at 0 (a concurrent insert
/// of the same counter is a harmless duplicate key). An upserting `$inc` would do it in one
/// step, but concurrent upserts of one new document may each be retried by the server or the
/// caller after a duplicate key, and a retried `$inc` can skip a number.
pub(super) async fn take(
    counters: &Collection<Document>,
    tenant: &Bson,
    count: u64,
) -> mongodb::error::Result<u64> {
    let by = i64::try_from(count).unwrap_or(i64::MAX);
    let mut attempt = 0;
    let d = loop {
        attempt += 1;
        let found = counters
            .find_one_and_update(doc! { "_id": tenant.clone() }, doc! { "$inc": { FIELD: by } })
            .return_document(ReturnDocument::After)
            .await?;
        if let Some(d) = found {
            break d;
        }
        if attempt >= CREATE_ATTEMPTS {
            return Err(invalid("the counter could not be created"));
        }
        match counters.insert_one(doc! { "_id": tenant.clone(), FIELD: 0_i64 }).await {
            Ok(_) => {}
            Err(e) if super::is_duplicate_key(&e) => {}
            Err(e) => return Err(e),
        }
    };
    let last = get_i64(&d, FIELD).map_err(|e| invalid(&e.to_string()))?;
    u64::try_from(last - by + 1).map_err(|e| invalid(&e.to_string()))
}

/// Takes numbers for one ticket of `tenant`.
pub(super) async fn take_one(
    counters: &Collection<Document>,
    tenant: TenantId,
) -> mongodb::error::Result<u64> {
    take(counters, &tenant.bson(), 1).await
}

fn invalid(what: &str) -> mongodb::error::Error {
    mongodb::error::Error::custom(format!("ticket counter: {what}"))
}

/// Numbers every ticket that has no number yet, per tenant in creation order, continuing the
/// tenant's counter. Idempotent: a ticket numbered by an earlier (or concurrent) run is kept.
/// Returns how many tickets were numbered.
pub(super) async fn backfill(
    tickets: &Collection<Document>,
    counters: &Collection<Document>,
) -> mongodb::error::Result<u64> {
    let unnumbered = doc! { "number": { "$exists": false } };
    let found: Vec<Document> = tickets
        .find(unnumbered.clone())
        .projection(doc! { "_id": 1, "tenant_id": 1 })
        .sort(doc! { "tenant_id": 1, "created_at": 1, "created_at_ns": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    let mut numbered = 0;
    let mut rest = found.as_slice();
    while let Some(first) = rest.first() {
        let tenant = first.get("tenant_id").cloned().unwrap_or(Bson::Null);
        let len = rest.iter().take_while(|d| d.get("tenant_id") == Some(&tenant)).count();
        let (group, later) = rest.split_at(len);
        let start = take(counters, &tenant, len as u64).await?;
        for (n, d) in (start..).zip(group) {
            let id = d.get("_id").cloned().unwrap_or(Bson::Null);
            let mut filter = unnumbered.clone();
            filter.insert("_id", id);
            let number = i64::try_from(n).unwrap_or(i64::MAX);
            numbered += tickets
                .update_one(filter, doc! { "$set": { "number": number } })
                .await?
                .modified_count;
        }
        rest = later;
    }
    if numbered > 0 {
        tracing::info!(numbered, "numbered tickets stored before ticket numbers existed");
    }
    Ok(numbered)
}

/// Sets `priority_rank` (the sort key of "most urgent first") on tickets stored before it
/// existed: one update per priority value, each a no-op once every ticket has a rank.
pub(super) async fn backfill_priority_ranks(
    tickets: &Collection<Document>,
) -> mongodb::error::Result<u64> {
    let mut ranked = 0;
    let values = Priority::ALL.iter().map(|p| Some(*p)).chain([None]);
    for priority in values {
        let value = priority.map_or(Bson::Null, |p| Bson::String(p.as_str().to_owned()));
        ranked += tickets
            .update_many(
                doc! { "priority_rank": { "$exists": false }, "priority": value },
                doc! { "$set": { "priority_rank": Priority::rank(priority) } },
            )
            .await?
            .modified_count;
    }
    Ok(ranked)
}
