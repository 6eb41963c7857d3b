//! Throttle buckets: one atomic UPSERT per attempt, in a write transaction.

use async_trait::async_trait;
use opsflow_ports::repos::{Attempt, RepoError, RepoResult, ThrottleRepository};
use sqlx::Sqlite;
use time::{Duration, OffsetDateTime};

use super::rows::nanos;
use super::{SqliteStore, db_err};

/// Expired buckets removed per attempt, so the table stays about as large as the live buckets.
const PRUNE_BATCH: i64 = 32;

fn from_nanos(n: i64) -> RepoResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).map_err(RepoError::unexpected)
}

#[async_trait]
impl ThrottleRepository for SqliteStore {
    async fn take(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> RepoResult<Attempt> {
        let now_n = nanos(now)?;
        let end_n = nanos(now + window)?;
        let mut tx = self.begin_write().await?;
        sqlx::query::<Sqlite>(
            "DELETE FROM throttle_buckets WHERE key IN (SELECT key FROM throttle_buckets \
             WHERE expires_at <= ? AND key <> ? LIMIT ?)",
        )
        .bind(now_n)
        .bind(key)
        .bind(PRUNE_BATCH)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // A new bucket, an ended window (restart at 1) or a bucket with room (+1) is counted; a
        // full bucket matches no row of the DO UPDATE and returns nothing.
        let counted: Option<i64> = sqlx::query_scalar::<Sqlite, i64>(
            "INSERT INTO throttle_buckets (key, count, expires_at) VALUES (?1, 1, ?3) \
             ON CONFLICT (key) DO UPDATE SET \
               count = CASE WHEN expires_at <= ?2 THEN 1 ELSE count + 1 END, \
               expires_at = CASE WHEN expires_at <= ?2 THEN ?3 ELSE expires_at END \
             WHERE expires_at <= ?2 OR count < ?4 \
             RETURNING count",
        )
        .bind(key)
        .bind(now_n)
        .bind(end_n)
        .bind(i64::from(limit))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let attempt = match counted {
            Some(used) => Attempt::Allowed { used: u32::try_from(used).unwrap_or(u32::MAX) },
            None => {
                let until: i64 = sqlx::query_scalar::<Sqlite, i64>(
                    "SELECT expires_at FROM throttle_buckets WHERE key = ?",
                )
                .bind(key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                Attempt::Refused { until: from_nanos(until)? }
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(attempt)
    }

    async fn give_back(&self, key: &str) -> RepoResult<()> {
        let _lock = self.write_lock().await;
        sqlx::query::<Sqlite>(
            "UPDATE throttle_buckets SET count = count - 1 WHERE key = ? AND count > 0",
        )
        .bind(key)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> RepoResult<()> {
        let _lock = self.write_lock().await;
        sqlx::query::<Sqlite>("DELETE FROM throttle_buckets WHERE key = ?")
            .bind(key)
            .execute(self.pool())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
