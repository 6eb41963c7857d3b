//! Query filters of the MongoDB store: every tenant-scoped filter is built here, with the tenant
//! as a top-level equality, so no query can forget it.

use bson::{Bson, Document, doc};
use opsflow_domain::{
    AssigneeFilter, ReplyId, RunStatus, TenantId, TenantScope, TicketCursor, TicketId, TicketQuery,
    TicketSort, TicketStatus, UserId, WorkflowRunId,
};
use time::OffsetDateTime;

use super::codec::{AsUuid, ns_field, split_time};

/// Statuses of a run that count as in flight (queued or running).
pub fn active_statuses() -> Bson {
    Bson::Array(
        RunStatus::ALL
            .iter()
            .filter(|s| s.is_active())
            .map(|s| Bson::String(s.as_str().to_owned()))
            .collect(),
    )
}

/// Ticket statuses counted as open work for an assignee.
pub fn open_ticket_statuses() -> Bson {
    Bson::Array(
        [TicketStatus::New, TicketStatus::Open, TicketStatus::Pending]
            .iter()
            .map(|s| Bson::String(s.as_str().to_owned()))
            .collect(),
    )
}

/// `{tenant_id: <scope's tenant>}`: the base of every tenant-scoped filter.
pub fn in_tenant(scope: &TenantScope) -> Document {
    tenant_field(scope.tenant_id())
}

fn tenant_field(tenant_id: TenantId) -> Document {
    doc! { "tenant_id": tenant_id.bson() }
}

fn with(mut base: Document, extra: Document) -> Document {
    base.extend(extra);
    base
}

// --- tenants (the tenant id is `_id`) --------------------------------------------------------

/// The scope's own tenant document.
pub fn own_tenant(scope: &TenantScope) -> Document {
    tenant_by_id(scope.tenant_id())
}

/// A tenant by id (sign-in lookups; the id comes from the user row found first).
pub fn tenant_by_id(id: TenantId) -> Document {
    doc! { "_id": id.bson() }
}

/// The tenants of the users a sign-in found (their ids come from those user rows).
pub fn tenants_by_ids(ids: &[TenantId]) -> Document {
    let ids: Vec<Bson> = ids.iter().map(|i| i.bson()).collect();
    doc! { "_id": { "$in": ids } }
}

/// Tenants by slug (sign-up uniqueness check; not scoped: no tenant exists yet).
pub fn tenant_by_slug(slug: &str) -> Document {
    doc! { "slug": slug }
}

// --- users ------------------------------------------------------------------------------------

/// One user of the scope's tenant.
pub fn user_by_id(scope: &TenantScope, id: UserId) -> Document {
    user_in_tenant(scope.tenant_id(), id)
}

/// One user of an explicit tenant (sign-in: the token's tenant, before a scope exists).
pub fn user_in_tenant(tenant_id: TenantId, id: UserId) -> Document {
    with(tenant_field(tenant_id), doc! { "_id": id.bson() })
}

/// Every user of the scope's tenant.
pub fn users_of_tenant(scope: &TenantScope) -> Document {
    in_tenant(scope)
}

/// Active admins of the scope's tenant other than `except`.
pub fn other_active_admins(scope: &TenantScope, except: UserId) -> Document {
    with(
        in_tenant(scope),
        doc! { "role": "admin", "active": true, "_id": { "$ne": except.bson() } },
    )
}

/// Active admins of the scope's tenant.
pub fn active_admins(scope: &TenantScope) -> Document {
    with(in_tenant(scope), doc! { "role": "admin", "active": true })
}

/// Users with an email in any tenant (sign-in only: [`opsflow_ports::repos::AccountRepository`]).
pub fn users_by_email(email: &str) -> Document {
    doc! { "email": email }
}

// --- tickets ----------------------------------------------------------------------------------

/// One ticket of the scope's tenant.
pub fn ticket_by_id(scope: &TenantScope, id: TicketId) -> Document {
    with(in_tenant(scope), doc! { "_id": id.bson() })
}

/// One ticket of the scope's tenant by its workspace number.
pub fn ticket_by_number(scope: &TenantScope, number: i64) -> Document {
    with(in_tenant(scope), doc! { "number": number })
}

/// Tickets of the scope's tenant by ids (compensation of a failed bulk insert).
pub fn tickets_by_ids(scope: &TenantScope, ids: &[TicketId]) -> Document {
    let ids: Vec<Bson> = ids.iter().map(|i| i.bson()).collect();
    with(in_tenant(scope), doc! { "_id": { "$in": ids } })
}

/// Escapes regex metacharacters (search tokens are alphanumeric, but never trust that).
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !c.is_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ticket list filter: tenant, optional status/priority/category/assignee, and each search
/// word as an anchored prefix regex on the multikey `keywords` array (so the
/// `(tenant_id, keywords, created_at)` index gives tight bounds).
pub fn ticket_list(scope: &TenantScope, q: &TicketQuery) -> Document {
    let mut f = in_tenant(scope);
    if let Some(statuses) = one_or_in(q.statuses.iter().map(|s| s.as_str())) {
        f.insert("status", statuses);
    }
    if let Some(priorities) = one_or_in(q.priorities.iter().map(|p| p.as_str())) {
        f.insert("priority", priorities);
    }
    if let Some(c) = q.category {
        f.insert("category", c.as_str());
    }
    if let Some(n) = q.number {
        f.insert("number", i64::try_from(n).unwrap_or(-1));
    }
    match q.assignee {
        Some(AssigneeFilter::User(u)) => {
            f.insert("assignee_id", u.bson());
        }
        Some(AssigneeFilter::Unassigned) => {
            f.insert("assignee_id", Bson::Null);
        }
        None => {}
    }
    let words: Vec<Bson> = q
        .search
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| Bson::Document(doc! { "keywords": { "$regex": format!("^{}", regex_escape(w)) } }))
        .collect();
    let mut and = words;
    if let Some(cursor) = &q.after {
        and.push(Bson::Document(after_cursor(cursor)));
    }
    if !and.is_empty() {
        f.insert("$and", and);
    }
    f
}

/// The tickets after `cursor` in the order of [`ticket_sort`] (dates compare at the stored
/// millisecond precision, `_id` breaks ties, as in the sort).
fn after_cursor(cursor: &TicketCursor) -> Document {
    let at = split_time(cursor.at).0;
    let id = cursor.id.bson();
    let (field, before) = match cursor.sort {
        // Relevance has no cursor (the domain refuses one); newest first like its order here.
        TicketSort::Created | TicketSort::Relevance => ("created_at", "$lt"),
        TicketSort::OldestWaiting => ("created_at", "$gt"),
        TicketSort::LastActivity => ("updated_at", "$lt"),
        TicketSort::Priority => {
            let rank = cursor.rank;
            return doc! { "$or": [
                { "priority_rank": { "$lt": rank } },
                { "priority_rank": rank, "created_at": { "$gt": at.clone() } },
                { "priority_rank": rank, "created_at": at, "_id": { "$gt": id } },
            ] };
        }
    };
    doc! { "$or": [
        { field: { before: at.clone() } },
        { field: at, "_id": { before: id } },
    ] }
}

/// A field condition for a list of values: the value itself for one (an equality, as before
/// lists existed), `{$in: [...]}` for several, nothing for none.
fn one_or_in<'a>(values: impl Iterator<Item = &'a str>) -> Option<Bson> {
    let mut values: Vec<Bson> = values.map(|v| Bson::String(v.to_owned())).collect();
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(Bson::Document(doc! { "$in": values })),
    }
}

/// The sort of a ticket list, `_id` as the tie-breaker; each has an index after `tenant_id`.
/// Relevance is newest first: the keyword arrays a search matches have no scores to rank by
/// (documented in docs/search.md).
pub fn ticket_sort(sort: TicketSort) -> Document {
    match sort {
        TicketSort::Created | TicketSort::Relevance => doc! { "created_at": -1, "_id": -1 },
        TicketSort::Priority => doc! { "priority_rank": -1, "created_at": 1, "_id": 1 },
        TicketSort::LastActivity => doc! { "updated_at": -1, "_id": -1 },
        TicketSort::OldestWaiting => doc! { "created_at": 1, "_id": 1 },
    }
}

/// The `$match` of the open-ticket count per assignee.
pub fn open_assigned_tickets(scope: &TenantScope) -> Document {
    with(
        in_tenant(scope),
        doc! { "status": { "$in": open_ticket_statuses() }, "assignee_id": { "$ne": Bson::Null } },
    )
}

// --- replies ----------------------------------------------------------------------------------

/// Replies of one ticket.
pub fn replies_of_ticket(scope: &TenantScope, ticket_id: TicketId) -> Document {
    with(in_tenant(scope), doc! { "ticket_id": ticket_id.bson() })
}

/// One reply of the tenant.
pub fn reply_by_id(scope: &TenantScope, id: ReplyId) -> Document {
    with(in_tenant(scope), doc! { "_id": id.bson() })
}

/// One reply of the tenant on a given ticket.
pub fn reply_on_ticket(scope: &TenantScope, ticket_id: TicketId, id: ReplyId) -> Document {
    with(reply_by_id(scope, id), doc! { "ticket_id": ticket_id.bson() })
}

/// One unsent draft of the tenant on a given ticket.
pub fn draft_on_ticket(scope: &TenantScope, ticket_id: TicketId, id: ReplyId) -> Document {
    with(reply_on_ticket(scope, ticket_id, id), doc! { "sent_at": Bson::Null })
}

/// The unsent AI drafts of one ticket (at most one is kept: a new one or a sent reply retires
/// them).
pub fn ai_drafts_of_ticket(scope: &TenantScope, ticket_id: TicketId) -> Document {
    with(replies_of_ticket(scope, ticket_id), doc! { "author_type": "ai", "sent_at": Bson::Null })
}

/// The unsent AI drafts of one ticket other than `keep`.
pub fn ai_drafts_of_ticket_except(
    scope: &TenantScope,
    ticket_id: TicketId,
    keep: ReplyId,
) -> Document {
    with(ai_drafts_of_ticket(scope, ticket_id), doc! { "_id": { "$ne": keep.bson() } })
}

/// One unsent draft of the tenant.
pub fn draft_by_id(scope: &TenantScope, id: ReplyId) -> Document {
    with(reply_by_id(scope, id), doc! { "sent_at": Bson::Null })
}

/// Oldest first, id as the tie-breaker.
pub fn oldest_first() -> Document {
    doc! { "created_at": 1, "_id": 1 }
}

// --- workflow runs and steps ------------------------------------------------------------------

/// One run of the tenant.
pub fn run_by_id(scope: &TenantScope, id: WorkflowRunId) -> Document {
    with(in_tenant(scope), doc! { "_id": id.bson() })
}

/// One run of the tenant, only while queued or running.
pub fn active_run_by_id(scope: &TenantScope, id: WorkflowRunId) -> Document {
    with(run_by_id(scope, id), doc! { "status": { "$in": active_statuses() } })
}

/// One run of the tenant in exactly this status (compensation restores only its own write).
pub fn run_in_status(scope: &TenantScope, id: WorkflowRunId, status: RunStatus) -> Document {
    with(run_by_id(scope, id), doc! { "status": status.as_str() })
}

/// Runs of one ticket.
pub fn runs_of_ticket(scope: &TenantScope, ticket_id: TicketId) -> Document {
    with(in_tenant(scope), doc! { "ticket_id": ticket_id.bson() })
}

/// The queued or running run of one ticket.
pub fn active_run_of_ticket(scope: &TenantScope, ticket_id: TicketId) -> Document {
    with(runs_of_ticket(scope, ticket_id), doc! { "status": { "$in": active_statuses() } })
}

/// Newest run first.
pub fn newest_run_first() -> Document {
    doc! { "started_at": -1, "_id": -1 }
}

/// Steps of one run.
pub fn steps_of_run(scope: &TenantScope, run_id: WorkflowRunId) -> Document {
    with(in_tenant(scope), doc! { "workflow_run_id": run_id.bson() })
}

/// Runs a worker may claim at `now`: queued, or running with a lease that expired before `now`
/// (compared exactly, sub-millisecond part included). The queue is shared by all tenants: a
/// worker acts for the tenant of the run it claims, so this is the one unscoped write.
pub fn claimable(now: OffsetDateTime) -> Document {
    let (ms, ns) = split_time(now);
    let lease = "lease_expires_at";
    let lease_ns = ns_field(lease);
    doc! {
        "$or": [
            { "status": RunStatus::Queued.as_str() },
            { "status": RunStatus::Running.as_str(), lease: { "$lt": ms.clone() } },
            { "status": RunStatus::Running.as_str(), lease: ms, lease_ns: { "$lt": ns } },
        ]
    }
}

/// Oldest queued first.
pub fn queue_order() -> Document {
    doc! { "started_at": 1, "_id": 1 }
}

#[cfg(test)]
mod tests {
    use opsflow_domain::{Category, Priority, Role};

    use super::*;

    /// Every filter a tenant-scoped repository method uses must pin the scope's tenant at the top
    /// level (not inside `$or`, where it would be optional).
    #[test]
    fn every_scoped_filter_pins_the_tenant_at_top_level() {
        let tenant = TenantId::new();
        let scope = TenantScope::new(tenant, UserId::new(), Role::Admin);
        let tenant_bson = tenant.bson();
        let ticket = TicketId::new();
        let reply = ReplyId::new();
        let run = WorkflowRunId::new();
        let full_query = TicketQuery {
            statuses: vec![TicketStatus::Open],
            priorities: vec![Priority::High],
            category: Some(Category::Bug),
            assignee: Some(AssigneeFilter::Unassigned),
            number: Some(7),
            search: vec!["login".to_owned(), "broken".to_owned()],
            sort: TicketSort::Priority,
            page: 3,
            page_size: 10,
            after: Some(TicketCursor {
                sort: TicketSort::Priority,
                rank: 3,
                at: OffsetDateTime::UNIX_EPOCH,
                id: TicketId::new(),
            }),
        };
        // (method, filter) for every tenant-scoped repository method.
        let scoped: Vec<(&str, Document)> = vec![
            ("AccountRepository::find_user", user_in_tenant(tenant, UserId::new())),
            ("UserRepository::create/get/update", user_by_id(&scope, UserId::new())),
            ("TicketRepository::get_by_number", ticket_by_number(&scope, 7)),
            ("UserRepository::list", users_of_tenant(&scope)),
            ("UserRepository::update (last admin)", other_active_admins(&scope, UserId::new())),
            ("UserRepository::update (fallback)", active_admins(&scope)),
            ("TicketRepository::get/update", ticket_by_id(&scope, ticket)),
            ("TicketRepository::create_many (undo)", tickets_by_ids(&scope, &[ticket])),
            ("TicketRepository::list", ticket_list(&scope, &full_query)),
            ("TicketRepository::list (no filters)", ticket_list(&scope, &TicketQuery::default())),
            ("TicketRepository::open_counts_by_assignee", open_assigned_tickets(&scope)),
            ("ReplyRepository::list", replies_of_ticket(&scope, ticket)),
            ("ReplyRepository::update_draft", draft_by_id(&scope, reply)),
            ("ReplyRepository::update_draft (exists)", reply_by_id(&scope, reply)),
            ("ReplyRepository::add (consume draft)", draft_on_ticket(&scope, ticket, reply)),
            ("ReplyRepository::add (draft exists)", reply_on_ticket(&scope, ticket, reply)),
            ("WorkflowRepository::get_run/append_step", run_by_id(&scope, run)),
            ("WorkflowRepository::fail_run/complete_run", active_run_by_id(&scope, run)),
            (
                "WorkflowRepository::complete_run (undo)",
                run_in_status(&scope, run, RunStatus::Succeeded),
            ),
            ("WorkflowRepository::list_runs", runs_of_ticket(&scope, ticket)),
            ("WorkflowRepository::active_run", active_run_of_ticket(&scope, ticket)),
            ("WorkflowRepository::list_steps", steps_of_run(&scope, run)),
        ];
        for (method, filter) in scoped {
            assert_eq!(filter.get("tenant_id"), Some(&tenant_bson), "{method}: {filter}");
        }
        // Tenants are keyed by their id.
        for (method, filter) in [
            ("TenantRepository::get/update", own_tenant(&scope)),
            ("AccountRepository::find_user (tenant)", tenant_by_id(tenant)),
        ] {
            assert_eq!(filter.get("_id"), Some(&tenant_bson), "{method}: {filter}");
        }
    }

    #[test]
    fn ticket_list_filter_has_every_condition() {
        let scope = TenantScope::new(TenantId::new(), UserId::new(), Role::Agent);
        let user = UserId::new();
        let q = TicketQuery {
            statuses: vec![TicketStatus::Pending],
            priorities: vec![Priority::Urgent, Priority::High],
            category: Some(Category::Billing),
            assignee: Some(AssigneeFilter::User(user)),
            search: vec!["inv".to_owned(), "a.b".to_owned()],
            ..TicketQuery::default()
        };
        let f = ticket_list(&scope, &q);
        assert_eq!(f.get_str("status").ok(), Some("pending"));
        assert_eq!(f.get("priority"), Some(&Bson::Document(doc! { "$in": ["urgent", "high"] })));
        assert_eq!(f.get_str("category").ok(), Some("billing"));
        assert_eq!(f.get("assignee_id"), Some(&user.bson()));
        let words = f.get_array("$and").expect("$and of words");
        assert_eq!(
            words,
            &vec![
                Bson::Document(doc! { "keywords": { "$regex": "^inv" } }),
                Bson::Document(doc! { "keywords": { "$regex": "^a\\.b" } }),
            ]
        );
        let unassigned =
            TicketQuery { assignee: Some(AssigneeFilter::Unassigned), ..TicketQuery::default() };
        let f = ticket_list(&scope, &unassigned);
        assert_eq!(f.get("assignee_id"), Some(&Bson::Null));
        assert!(!f.contains_key("$and"), "no search, no regex");
        assert!(!f.contains_key("status"));
    }

    #[test]
    fn claimable_compares_leases_exactly() {
        let now = time::macros::datetime!(2026-11-25 10:00:00.000_000_500 UTC);
        let f = claimable(now);
        let branches = f.get_array("$or").expect("$or");
        assert_eq!(branches.len(), 3);
        let last = branches[2].as_document().expect("doc");
        assert_eq!(last.get_document("lease_expires_at_ns").ok(), Some(&doc! { "$lt": 500 }));
    }

    #[test]
    fn regex_escape_neutralises_metacharacters() {
        assert_eq!(regex_escape("abc123"), "abc123");
        assert_eq!(regex_escape("a.*b"), "a\\.\\*b");
        assert_eq!(regex_escape("ümlaut"), "ümlaut");
    }
}
