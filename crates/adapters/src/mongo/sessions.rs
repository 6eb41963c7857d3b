//! Server-side sessions (the `jti` of each access token) on MongoDB.

use async_trait::async_trait;
use bson::{Document, doc};
use opsflow_domain::{AuthSession, SessionId, TenantId, UserId};
use opsflow_ports::repos::{RepoError, RepoResult, SessionRepository};
use time::OffsetDateTime;

use super::codec::{AsUuid as _, put_time};
use super::{MongoStore, driver};

/// Expiry is kept as whole Unix nanoseconds so "still live" is one exact numeric comparison.
fn nanos(t: OffsetDateTime) -> RepoResult<i64> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(RepoError::unexpected)
}

fn of_user(tenant_id: TenantId, user_id: UserId) -> Document {
    doc! { "tenant_id": tenant_id.bson(), "user_id": user_id.bson() }
}

#[async_trait]
impl SessionRepository for MongoStore {
    async fn create_session(&self, session: &AuthSession) -> RepoResult<()> {
        let mut d = doc! {
            "_id": session.id.bson(),
            "tenant_id": session.tenant_id.bson(),
            "user_id": session.user_id.bson(),
            "expires_ns": nanos(session.expires_at)?,
        };
        put_time(&mut d, "created_at", session.created_at);
        self.sessions.insert_one(d).await.map_err(driver)?;
        Ok(())
    }

    async fn session_is_live(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        id: SessionId,
        now: OffsetDateTime,
    ) -> RepoResult<bool> {
        let mut filter = of_user(tenant_id, user_id);
        filter.insert("_id", id.bson());
        filter.insert("expires_ns", doc! { "$gt": nanos(now)? });
        let found = self.sessions.find_one(filter).projection(doc! { "_id": 1 }).await;
        Ok(found.map_err(driver)?.is_some())
    }

    async fn delete_session(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        id: SessionId,
    ) -> RepoResult<()> {
        let mut filter = of_user(tenant_id, user_id);
        filter.insert("_id", id.bson());
        self.sessions.delete_one(filter).await.map_err(driver)?;
        Ok(())
    }

    async fn delete_user_sessions(
        &self,
        tenant_id: TenantId,
        user_id: UserId,
        keep: Option<SessionId>,
    ) -> RepoResult<u64> {
        let mut filter = of_user(tenant_id, user_id);
        if let Some(keep) = keep {
            filter.insert("_id", doc! { "$ne": keep.bson() });
        }
        let done = self.sessions.delete_many(filter).await.map_err(driver)?;
        Ok(done.deleted_count)
    }

    async fn prune_expired_sessions(&self, now: OffsetDateTime) -> RepoResult<u64> {
        let filter = doc! { "expires_ns": { "$lte": nanos(now)? } };
        let done = self.sessions.delete_many(filter).await.map_err(driver)?;
        Ok(done.deleted_count)
    }
}
