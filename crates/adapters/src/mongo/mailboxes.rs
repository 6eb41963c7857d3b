//! Workspace mailboxes on MongoDB: one document per tenant in `mailboxes` (`_id` = tenant id)
//! with the settings (passwords sealed), the IMAP poller's cursor, its status and its lease.
//! Times are Unix nanoseconds (`Int64`). Every write is one single-document update, so the
//! lease is atomic across processes: only a document whose lease is free, expired or already
//! the caller's matches the conditional update.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use mongodb::Collection;
use opsflow_domain::mailbox::{
    ImapSettings, MailFolder, MailHost, MailboxSettings, MailboxStatus, SmtpSettings,
};
use opsflow_domain::{Email, TenantId, TenantScope};
use opsflow_ports::repos::{MailboxCursor, MailboxRepository, RepoError, RepoResult};
use time::{Duration, OffsetDateTime};

use super::MongoStore;
use super::codec::{AsUuid, get_uuid};

const COLLECTION: &str = "mailboxes";

fn nanos(t: OffsetDateTime) -> RepoResult<i64> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(RepoError::unexpected)
}

fn bad(field: &str) -> RepoError {
    RepoError::unexpected(format!("mailbox document with a missing or invalid {field}"))
}

fn text<'d>(d: &'d Document, field: &str) -> RepoResult<&'d str> {
    d.get_str(field).map_err(|_| bad(field))
}

fn opt_text(d: &Document, field: &str) -> RepoResult<Option<String>> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(field)),
    }
}

fn opt_int(d: &Document, field: &str) -> RepoResult<Option<i64>> {
    match d.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::Int64(n)) => Ok(Some(*n)),
        Some(Bson::Int32(n)) => Ok(Some(i64::from(*n))),
        Some(_) => Err(bad(field)),
    }
}

fn int(d: &Document, field: &str) -> RepoResult<i64> {
    opt_int(d, field)?.ok_or_else(|| bad(field))
}

fn opt_time(d: &Document, field: &str) -> RepoResult<Option<OffsetDateTime>> {
    opt_int(d, field)?
        .map(|n| OffsetDateTime::from_unix_timestamp_nanos(i128::from(n)).map_err(|_| bad(field)))
        .transpose()
}

fn port(d: &Document, field: &str) -> RepoResult<u16> {
    u16::try_from(int(d, field)?).map_err(|_| bad(field))
}

fn settings(d: &Document) -> RepoResult<MailboxSettings> {
    let imap = d.get_document("imap").map_err(|_| bad("imap"))?;
    let smtp = d.get_document("smtp").map_err(|_| bad("smtp"))?;
    Ok(MailboxSettings {
        enabled: d.get_bool("enabled").map_err(|_| bad("enabled"))?,
        imap: ImapSettings {
            host: MailHost::parse(text(imap, "host")?).map_err(|_| bad("imap.host"))?,
            port: port(imap, "port")?,
            security: text(imap, "security")?.parse().map_err(|_| bad("imap.security"))?,
            username: text(imap, "username")?.to_owned(),
            password_sealed: opt_text(imap, "password")?,
            folder: MailFolder::parse(text(imap, "folder")?).map_err(|_| bad("imap.folder"))?,
        },
        smtp: SmtpSettings {
            host: MailHost::parse(text(smtp, "host")?).map_err(|_| bad("smtp.host"))?,
            port: port(smtp, "port")?,
            security: text(smtp, "security")?.parse().map_err(|_| bad("smtp.security"))?,
            username: opt_text(smtp, "username")?,
            password_sealed: opt_text(smtp, "password")?,
        },
        from_address: Email::parse(text(d, "from_address")?).map_err(|_| bad("from_address"))?,
        from_name: text(d, "from_name")?.to_owned(),
        updated_at: opt_time(d, "updated_at")?.ok_or_else(|| bad("updated_at"))?,
    })
}

fn status(d: &Document) -> RepoResult<MailboxStatus> {
    Ok(MailboxStatus {
        last_fetch_at: opt_time(d, "last_fetch_at")?,
        last_error: opt_text(d, "last_error")?,
        last_error_at: opt_time(d, "last_error_at")?,
        next_retry_at: opt_time(d, "next_retry_at")?,
        consecutive_failures: u32::try_from(opt_int(d, "consecutive_failures")?.unwrap_or(0))
            .map_err(|_| bad("consecutive_failures"))?,
    })
}

fn opt(v: Option<&str>) -> Bson {
    v.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

impl MongoStore {
    fn mailboxes(&self) -> Collection<Document> {
        self.db.collection(COLLECTION)
    }

    async fn mailbox_doc(&self, tenant_id: TenantId) -> RepoResult<Option<Document>> {
        self.mailboxes()
            .find_one(doc! { "_id": tenant_id.bson() })
            .await
            .map_err(RepoError::unexpected)
    }

    async fn update_existing(&self, tenant_id: TenantId, update: Document) -> RepoResult<()> {
        let r = self
            .mailboxes()
            .update_one(doc! { "_id": tenant_id.bson() }, update)
            .await
            .map_err(RepoError::unexpected)?;
        if r.matched_count == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}

#[async_trait]
impl MailboxRepository for MongoStore {
    async fn get_mailbox(&self, scope: &TenantScope) -> RepoResult<Option<MailboxSettings>> {
        self.mailbox_settings(scope.tenant_id()).await
    }

    async fn put_mailbox(
        &self,
        scope: &TenantScope,
        s: &MailboxSettings,
        reset_cursor: bool,
    ) -> RepoResult<()> {
        let mut set = doc! {
            "enabled": s.enabled,
            "imap": {
                "host": s.imap.host.as_str(),
                "port": i64::from(s.imap.port),
                "security": s.imap.security.as_str(),
                "username": s.imap.username.as_str(),
                "password": opt(s.imap.password_sealed.as_deref()),
                "folder": s.imap.folder.as_str(),
            },
            "smtp": {
                "host": s.smtp.host.as_str(),
                "port": i64::from(s.smtp.port),
                "security": s.smtp.security.as_str(),
                "username": opt(s.smtp.username.as_deref()),
                "password": opt(s.smtp.password_sealed.as_deref()),
            },
            "from_address": s.from_address.as_str(),
            "from_name": s.from_name.as_str(),
            "updated_at": nanos(s.updated_at)?,
            "next_retry_at": Bson::Null,
            "consecutive_failures": 0_i64,
        };
        if reset_cursor {
            set.insert("uid_validity", Bson::Null);
            set.insert("last_uid", Bson::Null);
        }
        // The `_id` is the scope's tenant, never one from the settings.
        self.mailboxes()
            .update_one(doc! { "_id": scope.tenant_id().bson() }, doc! { "$set": set })
            .upsert(true)
            .await
            .map_err(RepoError::unexpected)?;
        Ok(())
    }

    async fn get_mailbox_status(&self, scope: &TenantScope) -> RepoResult<MailboxStatus> {
        self.mailbox_status(scope.tenant_id()).await
    }

    async fn enabled_mailboxes(&self) -> RepoResult<Vec<TenantId>> {
        let docs: Vec<Document> = self
            .mailboxes()
            .find(doc! { "enabled": true })
            .projection(doc! { "_id": 1 })
            .sort(doc! { "_id": 1 })
            .await
            .map_err(RepoError::unexpected)?
            .try_collect()
            .await
            .map_err(RepoError::unexpected)?;
        docs.iter()
            .map(|d| get_uuid(d, "_id").map(TenantId::from_uuid).map_err(RepoError::unexpected))
            .collect()
    }

    async fn mailbox_settings(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxSettings>> {
        // A document with only poller fields (none is ever written first) counts as no mailbox.
        match self.mailbox_doc(tenant_id).await? {
            Some(d) if d.contains_key("imap") => settings(&d).map(Some),
            _ => Ok(None),
        }
    }

    async fn mailbox_status(&self, tenant_id: TenantId) -> RepoResult<MailboxStatus> {
        match self.mailbox_doc(tenant_id).await? {
            Some(d) => status(&d),
            None => Ok(MailboxStatus::default()),
        }
    }

    async fn record_fetch_success(
        &self,
        tenant_id: TenantId,
        at: OffsetDateTime,
    ) -> RepoResult<()> {
        self.update_existing(
            tenant_id,
            doc! { "$set": {
                "last_fetch_at": nanos(at)?,
                "next_retry_at": Bson::Null,
                "consecutive_failures": 0_i64,
            } },
        )
        .await
    }

    async fn record_fetch_failure(
        &self,
        tenant_id: TenantId,
        at: OffsetDateTime,
        error: &str,
        next_retry_at: OffsetDateTime,
    ) -> RepoResult<()> {
        self.update_existing(
            tenant_id,
            doc! {
                "$set": {
                    "last_error": error,
                    "last_error_at": nanos(at)?,
                    "next_retry_at": nanos(next_retry_at)?,
                },
                "$inc": { "consecutive_failures": 1_i64 },
            },
        )
        .await
    }

    async fn imap_cursor(&self, tenant_id: TenantId) -> RepoResult<Option<MailboxCursor>> {
        let Some(d) = self.mailbox_doc(tenant_id).await? else { return Ok(None) };
        match (opt_int(&d, "uid_validity")?, opt_int(&d, "last_uid")?) {
            (Some(v), Some(l)) => Ok(Some(MailboxCursor {
                uid_validity: u32::try_from(v).map_err(|_| bad("uid_validity"))?,
                last_uid: u32::try_from(l).map_err(|_| bad("last_uid"))?,
            })),
            _ => Ok(None),
        }
    }

    async fn set_imap_cursor(&self, tenant_id: TenantId, cursor: MailboxCursor) -> RepoResult<()> {
        let v = i64::from(cursor.uid_validity);
        let l = i64::from(cursor.last_uid);
        let r = self
            .mailboxes()
            .update_one(
                doc! {
                    "_id": tenant_id.bson(),
                    "$or": [
                        { "uid_validity": { "$ne": v } },
                        { "last_uid": null },
                        { "last_uid": { "$lt": l } },
                    ],
                },
                doc! { "$set": { "uid_validity": v, "last_uid": l } },
            )
            .await
            .map_err(RepoError::unexpected)?;
        if r.matched_count == 0 && self.mailbox_doc(tenant_id).await?.is_none() {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }

    async fn try_lease(
        &self,
        tenant_id: TenantId,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> RepoResult<bool> {
        let r = self
            .mailboxes()
            .update_one(
                doc! {
                    "_id": tenant_id.bson(),
                    "$or": [
                        { "lease_until": null },
                        { "lease_until": { "$lte": nanos(now)? } },
                        { "lease_holder": holder },
                    ],
                },
                doc! { "$set": { "lease_holder": holder, "lease_until": nanos(now + ttl)? } },
            )
            .await
            .map_err(RepoError::unexpected)?;
        Ok(r.matched_count == 1)
    }

    async fn release_lease(&self, tenant_id: TenantId, holder: &str) -> RepoResult<()> {
        self.mailboxes()
            .update_one(
                doc! { "_id": tenant_id.bson(), "lease_holder": holder },
                doc! { "$set": { "lease_holder": Bson::Null, "lease_until": Bson::Null } },
            )
            .await
            .map_err(RepoError::unexpected)?;
        Ok(())
    }
}
