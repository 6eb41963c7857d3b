//! Throttle buckets on MongoDB: `{_id: key, count, expires_at}` (`expires_at` in Unix
//! nanoseconds). Every step of [`ThrottleRepository::take`] is one conditional single-document
//! write, so concurrent callers in any process cannot take more than the limit between them:
//! an increment only matches a live bucket with room, a restart only matches an ended window,
//! and a new bucket is an insert whose duplicate-key failure (another caller created it first)
//! sends the caller round again. Each take also removes a few ended buckets of other keys (as
//! the SQLite store does), so a brute force from many addresses does not leave the collection
//! growing for ever.

use async_trait::async_trait;
use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::options::ReturnDocument;
use opsflow_ports::repos::{Attempt, RepoError, RepoResult, ThrottleRepository};
use time::{Duration, OffsetDateTime};

use super::{MongoStore, is_duplicate_key};

/// Rounds of the take loop before giving up (each round only repeats after another caller
/// changed the bucket in between, so this is never reached in practice).
const MAX_ROUNDS: usize = 20;

/// Ended buckets of other keys removed per take: a bounded amount of work per login.
const PRUNE_BATCH: i64 = 32;

fn nanos(t: OffsetDateTime) -> RepoResult<i64> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(RepoError::unexpected)
}

fn int(doc: &Document, field: &str) -> RepoResult<i64> {
    match doc.get(field) {
        Some(bson::Bson::Int64(n)) => Ok(*n),
        Some(bson::Bson::Int32(n)) => Ok(i64::from(*n)),
        _ => Err(RepoError::unexpected(format!("throttle bucket without a numeric {field}"))),
    }
}

impl MongoStore {
    /// Removes up to [`PRUNE_BATCH`] buckets whose window ended at or before `now_n`, other than
    /// `key` (its ended window is restarted in place by the caller).
    async fn prune_ended(&self, key: &str, now_n: i64) -> RepoResult<()> {
        let ended: Vec<Document> = self
            .throttle
            .find(doc! { "expires_at": { "$lte": now_n }, "_id": { "$ne": key } })
            .projection(doc! { "_id": 1 })
            .limit(PRUNE_BATCH)
            .await
            .map_err(RepoError::unexpected)?
            .try_collect()
            .await
            .map_err(RepoError::unexpected)?;
        if ended.is_empty() {
            return Ok(());
        }
        let ids: Vec<bson::Bson> =
            ended.into_iter().filter_map(|d| d.get("_id").cloned()).collect();
        // Only still-ended buckets go: one restarted meanwhile by another caller stays.
        self.throttle
            .delete_many(doc! { "_id": { "$in": ids }, "expires_at": { "$lte": now_n } })
            .await
            .map_err(RepoError::unexpected)?;
        Ok(())
    }
}

#[async_trait]
impl ThrottleRepository for MongoStore {
    async fn take(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> RepoResult<Attempt> {
        let now_n = nanos(now)?;
        let end_n = nanos(now + window)?;
        let limit = i64::from(limit);
        self.prune_ended(key, now_n).await?;
        let used = |doc: &Document| -> RepoResult<Attempt> {
            Ok(Attempt::Allowed { used: u32::try_from(int(doc, "count")?).unwrap_or(u32::MAX) })
        };
        for _ in 0..MAX_ROUNDS {
            // A live bucket with room: count this attempt.
            if let Some(doc) = self
                .throttle
                .find_one_and_update(
                    doc! { "_id": key, "expires_at": { "$gt": now_n }, "count": { "$lt": limit } },
                    doc! { "$inc": { "count": 1_i64 } },
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(RepoError::unexpected)?
            {
                return used(&doc);
            }
            // An ended window: start a new one with this attempt.
            if let Some(doc) = self
                .throttle
                .find_one_and_update(
                    doc! { "_id": key, "expires_at": { "$lte": now_n } },
                    doc! { "$set": { "count": 1_i64, "expires_at": end_n } },
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(RepoError::unexpected)?
            {
                return used(&doc);
            }
            match self
                .throttle
                .find_one(doc! { "_id": key })
                .await
                .map_err(RepoError::unexpected)?
            {
                // Live and full: refused. (Changed since the updates above: go round again.)
                Some(doc) => {
                    let until = int(&doc, "expires_at")?;
                    if until > now_n && int(&doc, "count")? >= limit {
                        let until = OffsetDateTime::from_unix_timestamp_nanos(i128::from(until))
                            .map_err(RepoError::unexpected)?;
                        return Ok(Attempt::Refused { until });
                    }
                }
                // No bucket yet: create it, unless another caller just did.
                None => match self
                    .throttle
                    .insert_one(doc! { "_id": key, "count": 1_i64, "expires_at": end_n })
                    .await
                {
                    Ok(_) => return Ok(Attempt::Allowed { used: 1 }),
                    Err(e) if is_duplicate_key(&e) => {}
                    Err(e) => return Err(RepoError::unexpected(e)),
                },
            }
        }
        Err(RepoError::unexpected(format!(
            "throttle bucket {key:?} kept changing for {MAX_ROUNDS} rounds"
        )))
    }

    async fn give_back(&self, key: &str) -> RepoResult<()> {
        self.throttle
            .update_one(
                doc! { "_id": key, "count": { "$gt": 0_i64 } },
                doc! { "$inc": { "count": -1_i64 } },
            )
            .await
            .map_err(RepoError::unexpected)?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> RepoResult<()> {
        self.throttle.delete_one(doc! { "_id": key }).await.map_err(RepoError::unexpected)?;
        Ok(())
    }
}
