//! Account, tenant, user, ticket and reply repositories on MongoDB.

use std::collections::HashMap;
use std::future::IntoFuture;

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use opsflow_domain::{
    Email, ReplyBody, ReplyId, Role, Slug, Tenant, TenantId, TenantScope, Ticket, TicketId,
    TicketListPage, TicketPatch, TicketQuery, TicketReply, TicketStatus, User, UserId,
};
use opsflow_ports::repos::{
    Account, AccountRepository, Conflict, ReplyRepository, RepoError, RepoResult, TenantRepository,
    TicketRepository, UserRepository,
};
use time::OffsetDateTime;

use super::codec::{
    self, reply_doc, reply_from, reply_policy_doc, set_time, tenant_doc, tenant_from, ticket_doc,
    ticket_from, ticket_patch_set, user_doc, user_from,
};
use super::filters as f;
use super::{Fail, MongoStore, collect, conflict_on, corrupt, driver, in_transaction};

/// How often a subject or customer edit is retried when another such edit lands between its
/// read and its write.
const SEARCH_TEXT_ATTEMPTS: usize = 5;

/// Runs a compensating write; a failure is logged (the original error is what the caller sees).
pub(super) async fn undo<T>(
    what: &'static str,
    op: impl IntoFuture<Output = mongodb::error::Result<T>>,
) {
    if let Err(e) = op.into_future().await {
        tracing::error!(undo = what, error = %e, "MongoDB compensation failed; data may be partial");
    }
}

fn not_found() -> Fail {
    Fail::Repo(RepoError::NotFound)
}

fn mismatch(what: &str) -> RepoError {
    RepoError::unexpected(format!("{what} belongs to another tenant than the caller's scope"))
}

fn user_set(u: &User) -> Document {
    let mut set = doc! { "name": u.name.as_str(), "role": u.role.as_str(), "active": u.active };
    set.extend(set_time("updated_at", u.updated_at));
    set
}

fn is_active_admin(u: &User) -> bool {
    u.active && u.role == Role::Admin
}

/// The change a new reply makes to its ticket, if any: the status it sets, and for a sent
/// message (customer or agent reply, internal note) the last activity (`updated_at = now`) and
/// its words added to the ticket's search keywords. `None` for an unsent draft that sets no
/// status.
fn reply_activity(
    reply: &TicketReply,
    set_status: Option<TicketStatus>,
    now: OffsetDateTime,
) -> Option<Document> {
    let sent = reply.sent_at.is_some();
    if !sent && set_status.is_none() {
        return None;
    }
    let mut set = set_time("updated_at", now);
    if let Some(status) = set_status {
        set.insert("status", status.as_str());
    }
    let mut update = doc! { "$set": set };
    let words = codec::reply_keywords(reply);
    if !words.is_empty() {
        update.insert(
            "$addToSet",
            doc! {
                "keywords": { "$each": words.clone() },
                "reply_keywords": { "$each": words },
            },
        );
    }
    Some(update)
}

#[async_trait]
impl AccountRepository for MongoStore {
    async fn create_tenant_with_admin(&self, tenant: &Tenant, admin: &User) -> RepoResult<()> {
        if admin.tenant_id != tenant.id {
            return Err(mismatch("the first admin"));
        }
        let (t, u) = (&tenant_doc(tenant), &user_doc(admin));
        if self.transactions {
            return in_transaction!(self, |s| async move {
                self.tenants
                    .insert_one(t)
                    .session(&mut *s)
                    .await
                    .map_err(conflict_on(Conflict::Slug))?;
                self.users
                    .insert_one(u)
                    .session(&mut *s)
                    .await
                    .map_err(conflict_on(Conflict::Email))?;
                Ok(())
            });
        }
        // Standalone: tenant first, then the admin; if the admin fails, remove the tenant.
        self.tenants
            .insert_one(t)
            .await
            .map_err(|e| RepoError::from(conflict_on(Conflict::Slug)(e)))?;
        if let Err(e) = self.users.insert_one(u).await {
            undo("signup tenant", self.tenants.delete_one(f::tenant_by_id(tenant.id))).await;
            return Err(conflict_on(Conflict::Email)(e).into());
        }
        Ok(())
    }

    async fn slug_exists(&self, slug: &Slug) -> RepoResult<bool> {
        let n = self
            .tenants
            .count_documents(f::tenant_by_slug(slug.as_str()))
            .limit(1)
            .await
            .map_err(driver)?;
        Ok(n > 0)
    }

    async fn find_by_email(&self, email: &Email) -> RepoResult<Vec<Account>> {
        let cursor = self
            .users
            .find(f::users_by_email(email.as_str()))
            .sort(f::oldest_first())
            .await
            .map_err(driver)?;
        let users = collect(cursor, user_from).await?;
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<TenantId> = users.iter().map(|u| u.tenant_id).collect();
        let cursor = self.tenants.find(f::tenants_by_ids(&ids)).await.map_err(driver)?;
        let tenants: HashMap<TenantId, Tenant> =
            collect(cursor, tenant_from).await?.into_iter().map(|t| (t.id, t)).collect();
        Ok(users
            .into_iter()
            .filter_map(|user| {
                let tenant = tenants.get(&user.tenant_id).cloned();
                if tenant.is_none() {
                    tracing::warn!(user_id = %user.id, "user without tenant skipped at sign-in");
                }
                tenant.map(|tenant| Account { user, tenant })
            })
            .collect())
    }

    async fn find_user(&self, tenant_id: TenantId, user_id: UserId) -> RepoResult<Account> {
        let user = self
            .users
            .find_one(f::user_in_tenant(tenant_id, user_id))
            .await
            .map_err(driver)?
            .ok_or(RepoError::NotFound)?;
        let tenant = self
            .tenants
            .find_one(f::tenant_by_id(tenant_id))
            .await
            .map_err(driver)?
            .ok_or(RepoError::NotFound)?;
        Ok(Account {
            user: user_from(&user).map_err(corrupt)?,
            tenant: tenant_from(&tenant).map_err(corrupt)?,
        })
    }
}

#[async_trait]
impl TenantRepository for MongoStore {
    async fn get(&self, scope: &TenantScope) -> RepoResult<Tenant> {
        let d = self.tenants.find_one(f::own_tenant(scope)).await.map_err(driver)?;
        tenant_from(&d.ok_or(RepoError::NotFound)?).map_err(corrupt)
    }

    async fn update(&self, scope: &TenantScope, tenant: &Tenant) -> RepoResult<()> {
        if tenant.id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let a = &tenant.auto_triage;
        let mut set = doc! {
            "name": tenant.name.as_str(),
            "policies": tenant.policies.as_str(),
            "auto_triage": {
                "mode": a.mode.as_str(),
                "category": a.thresholds.category.value(),
                "priority": a.thresholds.priority.value(),
                "assignee": a.thresholds.assignee.value(),
            },
            "reply_policy": reply_policy_doc(&tenant.reply_policy),
        };
        set.extend(set_time("updated_at", tenant.updated_at));
        let r = self
            .tenants
            .update_one(f::own_tenant(scope), doc! { "$set": set })
            .await
            .map_err(driver)?;
        if r.matched_count == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }
}

#[async_trait]
impl UserRepository for MongoStore {
    async fn create(&self, scope: &TenantScope, user: &User) -> RepoResult<()> {
        if user.tenant_id != scope.tenant_id() {
            return Err(mismatch("the user"));
        }
        self.users
            .insert_one(user_doc(user))
            .await
            .map_err(|e| RepoError::from(conflict_on(Conflict::Email)(e)))?;
        Ok(())
    }

    async fn get(&self, scope: &TenantScope, id: UserId) -> RepoResult<User> {
        let d = self.users.find_one(f::user_by_id(scope, id)).await.map_err(driver)?;
        user_from(&d.ok_or(RepoError::NotFound)?).map_err(corrupt)
    }

    async fn list(&self, scope: &TenantScope) -> RepoResult<Vec<User>> {
        let cursor = self
            .users
            .find(f::users_of_tenant(scope))
            .sort(f::oldest_first())
            .await
            .map_err(driver)?;
        collect(cursor, user_from).await
    }

    async fn set_password(
        &self,
        scope: &TenantScope,
        id: UserId,
        password_hash: &str,
        must_change_password: bool,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let mut set =
            doc! { "password_hash": password_hash, "must_change_password": must_change_password };
        set.extend(set_time("updated_at", now));
        let done = self
            .users
            .update_one(f::user_by_id(scope, id), doc! { "$set": set })
            .await
            .map_err(driver)?;
        if done.matched_count == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn update(&self, scope: &TenantScope, user: &User) -> RepoResult<()> {
        if user.tenant_id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let filter = &f::user_by_id(scope, user.id);
        let set = &doc! { "$set": user_set(user) };
        if self.transactions {
            return in_transaction!(self, |s| async move {
                let current = self.users.find_one(filter.clone()).session(&mut *s).await?;
                let current = user_from(&current.ok_or_else(not_found)?)?;
                if is_active_admin(&current) && !is_active_admin(user) {
                    // Two transactions demoting two different admins would each still see the
                    // other as an admin (write skew). Both bump the tenant's guard counter, so
                    // the second one hits a write conflict, retries, and sees the first.
                    self.tenants
                        .update_one(f::own_tenant(scope), doc! { "$inc": { "admin_guard": 1 } })
                        .session(&mut *s)
                        .await?;
                    let others = self
                        .users
                        .count_documents(f::other_active_admins(scope, user.id))
                        .session(&mut *s)
                        .await?;
                    if others == 0 {
                        return Err(Fail::Repo(RepoError::Conflict(Conflict::LastAdmin)));
                    }
                }
                self.users.update_one(filter.clone(), set.clone()).session(&mut *s).await?;
                Ok(())
            });
        }
        // Standalone: write, then verify an active admin remains; if none does, put the old
        // values back. Concurrent demotions may both be refused, but never both succeed.
        let before = self
            .users
            .find_one_and_update(filter.clone(), set.clone())
            .return_document(ReturnDocument::Before)
            .await
            .map_err(driver)?
            .ok_or(RepoError::NotFound)?;
        let before = user_from(&before).map_err(corrupt)?;
        if is_active_admin(&before) && !is_active_admin(user) {
            let remaining =
                self.users.count_documents(f::active_admins(scope)).await.map_err(driver)?;
            if remaining == 0 {
                undo(
                    "last admin",
                    self.users.update_one(filter.clone(), doc! { "$set": user_set(&before) }),
                )
                .await;
                return Err(RepoError::Conflict(Conflict::LastAdmin));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TicketRepository for MongoStore {
    async fn create(&self, scope: &TenantScope, ticket: &Ticket) -> RepoResult<u64> {
        if ticket.tenant_id != scope.tenant_id() {
            return Err(mismatch("the ticket"));
        }
        let number =
            super::numbers::take_one(&self.counters, scope.tenant_id()).await.map_err(driver)?;
        let numbered = Ticket { number, ..ticket.clone() };
        self.tickets.insert_one(ticket_doc(&numbered)).await.map_err(driver)?;
        Ok(number)
    }

    async fn create_with_run(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        run: &opsflow_domain::WorkflowRun,
    ) -> RepoResult<u64> {
        if ticket.tenant_id != scope.tenant_id() {
            return Err(mismatch("the ticket"));
        }
        if run.tenant_id != scope.tenant_id() || run.ticket_id != ticket.id {
            return Err(mismatch("the run"));
        }
        let number =
            super::numbers::take_one(&self.counters, scope.tenant_id()).await.map_err(driver)?;
        let ticket_doc = &ticket_doc(&Ticket { number, ..ticket.clone() });
        let run_doc = &super::codec::run_doc(run);
        if self.transactions {
            in_transaction!(self, |s| async move {
                self.tickets.insert_one(ticket_doc).session(&mut *s).await?;
                self.runs.insert_one(run_doc).session(&mut *s).await?;
                Ok(())
            })?;
            return Ok(number);
        }
        self.tickets.insert_one(ticket_doc).await.map_err(driver)?;
        if let Err(e) = self.runs.insert_one(run_doc).await {
            undo("create_with_run", self.tickets.delete_one(f::ticket_by_id(scope, ticket.id)))
                .await;
            return Err(driver(e));
        }
        Ok(number)
    }

    async fn create_many(
        &self,
        scope: &TenantScope,
        tickets: &[Ticket],
    ) -> RepoResult<Option<u64>> {
        if tickets.is_empty() {
            return Ok(None);
        }
        if tickets.iter().any(|t| t.tenant_id != scope.tenant_id()) {
            return Err(mismatch("a ticket"));
        }
        let first = super::numbers::take(
            &self.counters,
            &codec::AsUuid::bson(scope.tenant_id()),
            tickets.len() as u64,
        )
        .await
        .map_err(driver)?;
        let docs = &tickets
            .iter()
            .zip(first..)
            .map(|(t, number)| ticket_doc(&Ticket { number, ..t.clone() }))
            .collect::<Vec<_>>();
        if self.transactions {
            in_transaction!(self, |s| async move {
                self.tickets.insert_many(docs).session(&mut *s).await?;
                Ok(())
            })?;
            return Ok(Some(first));
        }
        // Ordered insert: on failure, exactly the tickets before the first failing one were
        // written; remove those (never a document that already existed under a clashing id).
        if let Err(e) = self.tickets.insert_many(docs).await {
            let written = super::inserted_prefix(&e, tickets.len());
            let ids: Vec<TicketId> = tickets[..written].iter().map(|t| t.id).collect();
            undo("create_many", self.tickets.delete_many(f::tickets_by_ids(scope, &ids))).await;
            return Err(driver(e));
        }
        Ok(Some(first))
    }

    async fn get_by_number(&self, scope: &TenantScope, number: u64) -> RepoResult<Ticket> {
        let Ok(number) = i64::try_from(number) else {
            return Err(RepoError::NotFound);
        };
        let d = self.tickets.find_one(f::ticket_by_number(scope, number)).await.map_err(driver)?;
        ticket_from(&d.ok_or(RepoError::NotFound)?).map_err(corrupt)
    }

    async fn get(&self, scope: &TenantScope, id: TicketId) -> RepoResult<Ticket> {
        let d = self.tickets.find_one(f::ticket_by_id(scope, id)).await.map_err(driver)?;
        ticket_from(&d.ok_or(RepoError::NotFound)?).map_err(corrupt)
    }

    async fn list(&self, scope: &TenantScope, query: &TicketQuery) -> RepoResult<TicketListPage> {
        let filter = f::ticket_list(scope, query);
        // The count ignores the cursor: it is the count of the whole list, capped.
        let counted = self
            .tickets
            .count_documents(f::ticket_list(scope, &TicketQuery { after: None, ..query.clone() }))
            .limit(TicketListPage::COUNT_CAP + 1);
        let skip = if query.after.is_some() { 0 } else { query.offset() };
        let items = async {
            let cursor = self
                .tickets
                .find(filter.clone())
                .sort(f::ticket_sort(query.sort))
                .skip(skip)
                .limit(i64::from(query.page_size) + 1)
                .await?;
            Ok::<_, mongodb::error::Error>(cursor)
        };
        let (counted, cursor) = futures::try_join!(counted.into_future(), items).map_err(driver)?;
        let rows = collect(cursor, ticket_from).await?;
        Ok(TicketListPage::from_rows(rows, query.page_size, query.sort, counted))
    }

    async fn count(&self, scope: &TenantScope, query: &TicketQuery) -> RepoResult<u64> {
        self.tickets.count_documents(f::ticket_list(scope, query)).await.map_err(driver)
    }

    async fn update(
        &self,
        scope: &TenantScope,
        id: TicketId,
        patch: &TicketPatch,
        now: OffsetDateTime,
    ) -> RepoResult<Ticket> {
        if !patch.changes_search_text() {
            let d = self
                .tickets
                .find_one_and_update(
                    f::ticket_by_id(scope, id),
                    doc! { "$set": ticket_patch_set(patch, now) },
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(driver)?;
            return ticket_from(&d.ok_or(RepoError::NotFound)?).map_err(corrupt);
        }
        // The keywords derive from the subject, body and customer, so they are recomputed from
        // the stored ticket and written only if those fields are still what was read: a
        // concurrent subject or customer edit makes the write miss, and it is redone on the
        // newer ticket (edits to status, priority and the rest do not conflict).
        for _ in 0..SEARCH_TEXT_ATTEMPTS {
            let current = self
                .tickets
                .find_one(f::ticket_by_id(scope, id))
                .await
                .map_err(driver)?
                .ok_or(RepoError::NotFound)?;
            // Keywords of the ticket's sent replies stay searchable after the edit.
            let reply_words = match current.get("reply_keywords") {
                Some(Bson::Array(words)) => Some(words.clone()),
                _ => None,
            };
            let current = ticket_from(&current).map_err(corrupt)?;
            let mut next = current.clone();
            patch.apply_to(&mut next, now);
            let mut words = codec::ticket_keywords(&next);
            words
                .extend(reply_words.iter().flatten().filter_map(|w| w.as_str().map(str::to_owned)));
            let keywords: Vec<Bson> = words.into_iter().map(Bson::String).collect();
            let mut set = ticket_patch_set(patch, now);
            set.insert("keywords", keywords);
            let mut unchanged = f::ticket_by_id(scope, id);
            unchanged.insert("subject", current.subject.as_str());
            unchanged.insert("customer_name", current.customer_name.as_str());
            unchanged.insert("customer_email", current.customer_email.as_str());
            // A reply added meanwhile changes `reply_keywords`: the write misses and is redone.
            match reply_words {
                Some(words) => unchanged.insert("reply_keywords", doc! { "$eq": words }),
                None => unchanged.insert("reply_keywords", doc! { "$exists": false }),
            };
            let d = self
                .tickets
                .find_one_and_update(unchanged, doc! { "$set": set })
                .return_document(ReturnDocument::After)
                .await
                .map_err(driver)?;
            if let Some(d) = d {
                return ticket_from(&d).map_err(corrupt);
            }
        }
        Err(RepoError::Conflict(Conflict::ConcurrentEdit))
    }

    async fn open_counts_by_assignee(
        &self,
        scope: &TenantScope,
    ) -> RepoResult<HashMap<UserId, u64>> {
        let pipeline = vec![
            doc! { "$match": f::open_assigned_tickets(scope) },
            doc! { "$group": { "_id": "$assignee_id", "n": { "$sum": 1 } } },
        ];
        let cursor = self.tickets.aggregate(pipeline).await.map_err(driver)?;
        let rows = collect(cursor, |d| {
            let id = UserId::from_uuid(codec::get_uuid(d, "_id")?);
            let n = match d.get("n") {
                Some(Bson::Int32(n)) => u64::try_from(*n).ok(),
                Some(Bson::Int64(n)) => u64::try_from(*n).ok(),
                _ => None,
            };
            n.map(|n| (id, n)).ok_or_else(|| codec::CodecError {
                field: "n".to_owned(),
                problem: "expected a count".to_owned(),
            })
        })
        .await?;
        Ok(rows.into_iter().collect())
    }
}

impl MongoStore {
    /// `NotFound` or `Conflict(Conflict::NotDraft)` for a draft that could not be consumed or edited.
    async fn draft_failure(
        &self,
        filter: Document,
        session: Option<&mut mongodb::ClientSession>,
    ) -> Result<Fail, Fail> {
        let find = self.replies.find_one(filter);
        let exists = match session {
            Some(s) => find.session(s).await?,
            None => find.await?,
        };
        Ok(if exists.is_some() {
            Fail::Repo(RepoError::Conflict(Conflict::NotDraft))
        } else {
            not_found()
        })
    }
}

impl MongoStore {
    /// [`ReplyRepository::add`], also inserting `email` (an `email_outbox` document) with the
    /// reply: in the same transaction, or without transactions right after the reply (each
    /// failure puts back what was already written).
    pub(super) async fn add_reply(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        email: Option<&Document>,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        if reply.tenant_id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let ticket_filter = &f::ticket_by_id(scope, reply.ticket_id);
        let reply_d = &reply_doc(reply);
        if self.transactions {
            return in_transaction!(self, |s| async move {
                if let Some(activity) = reply_activity(reply, set_status, now) {
                    let r = self
                        .tickets
                        .update_one(ticket_filter.clone(), activity)
                        .session(&mut *s)
                        .await?;
                    if r.matched_count == 0 {
                        return Err(not_found());
                    }
                } else {
                    let found = self
                        .tickets
                        .find_one(ticket_filter.clone())
                        .projection(doc! { "_id": 1 })
                        .session(&mut *s)
                        .await?;
                    if found.is_none() {
                        return Err(not_found());
                    }
                }
                if let Some(draft) = consume_draft {
                    let r = self
                        .replies
                        .delete_one(f::draft_on_ticket(scope, reply.ticket_id, draft))
                        .session(&mut *s)
                        .await?;
                    if r.deleted_count == 0 {
                        let exists = f::reply_on_ticket(scope, reply.ticket_id, draft);
                        return Err(self.draft_failure(exists, Some(&mut *s)).await?);
                    }
                }
                if retires_drafts(reply) {
                    self.replies
                        .delete_many(f::ai_drafts_of_ticket(scope, reply.ticket_id))
                        .session(&mut *s)
                        .await?;
                }
                self.replies.insert_one(reply_d).session(&mut *s).await?;
                if let Some(email) = email {
                    self.outbox.insert_one(email).session(&mut *s).await?;
                }
                Ok(())
            });
        }
        // Standalone: check the ticket, take the draft out, insert the reply, then set the
        // status; each failure puts back what was already written.
        let found = self
            .tickets
            .find_one(ticket_filter.clone())
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        if found.is_none() {
            return Err(RepoError::NotFound);
        }
        let mut removed_draft = None;
        if let Some(draft) = consume_draft {
            let taken = self
                .replies
                .find_one_and_delete(f::draft_on_ticket(scope, reply.ticket_id, draft))
                .await
                .map_err(driver)?;
            match taken {
                Some(d) => removed_draft = Some(d),
                None => {
                    let exists = f::reply_on_ticket(scope, reply.ticket_id, draft);
                    let fail = self.draft_failure(exists, None).await?;
                    return Err(fail.into());
                }
            }
        }
        let restore_draft = async |removed: &Option<Document>| {
            if let Some(d) = removed {
                undo("consumed draft", self.replies.insert_one(d)).await;
            }
        };
        if let Err(e) = self.replies.insert_one(reply_d).await {
            restore_draft(&removed_draft).await;
            return Err(driver(e));
        }
        if let Some(email) = email
            && let Err(e) = self.outbox.insert_one(email).await
        {
            undo("reply", self.replies.delete_one(f::reply_by_id(scope, reply.id))).await;
            restore_draft(&removed_draft).await;
            return Err(driver(e));
        }
        if let Some(activity) = reply_activity(reply, set_status, now) {
            let outcome = self.tickets.update_one(ticket_filter.clone(), activity).await;
            let failure = match outcome {
                Ok(r) if r.matched_count > 0 => None,
                Ok(_) => Some(RepoError::NotFound),
                Err(e) => Some(driver(e)),
            };
            if let Some(err) = failure {
                if email.is_some() {
                    undo(
                        "queued email",
                        self.outbox.delete_one(
                            doc! { "tenant_id": codec::uuid_bson(scope.tenant_id().as_uuid()), "_id": codec::uuid_bson(reply.id.as_uuid()) },
                        ),
                    )
                    .await;
                }
                undo("reply", self.replies.delete_one(f::reply_by_id(scope, reply.id))).await;
                restore_draft(&removed_draft).await;
                return Err(err);
            }
        }
        // Without transactions, retiring the other AI drafts comes last and is best effort.
        if retires_drafts(reply)
            && let Err(e) =
                self.replies.delete_many(f::ai_drafts_of_ticket(scope, reply.ticket_id)).await
        {
            tracing::warn!(error = %e, ticket_id = %reply.ticket_id, "could not retire AI drafts");
        }
        Ok(())
    }
}

#[async_trait]
impl ReplyRepository for MongoStore {
    async fn add(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        self.add_reply(scope, reply, set_status, consume_draft, None, now).await
    }

    async fn list(&self, scope: &TenantScope, ticket_id: TicketId) -> RepoResult<Vec<TicketReply>> {
        let cursor = self
            .replies
            .find(f::replies_of_ticket(scope, ticket_id))
            .sort(f::oldest_first())
            .await
            .map_err(driver)?;
        collect(cursor, reply_from).await
    }

    async fn update_draft(
        &self,
        scope: &TenantScope,
        id: ReplyId,
        body: &ReplyBody,
        now: OffsetDateTime,
    ) -> RepoResult<TicketReply> {
        let mut set = doc! { "body": body.as_str() };
        set.extend(set_time("updated_at", now));
        let d = self
            .replies
            .find_one_and_update(f::draft_by_id(scope, id), doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        match d {
            Some(d) => reply_from(&d).map_err(corrupt),
            None => Err(self.draft_failure(f::reply_by_id(scope, id), None).await?.into()),
        }
    }
}

/// A sent reply by a person answers the customer: unsent AI drafts of the ticket go (their text
/// stays in the triage run's `reply_draft` step), so nobody answers twice.
fn retires_drafts(reply: &TicketReply) -> bool {
    reply.sent_at.is_some()
        && !matches!(
            reply.author_type,
            opsflow_domain::AuthorType::Ai | opsflow_domain::AuthorType::Note
        )
}
