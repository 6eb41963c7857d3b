//! Runs the repository contract suite against the SQLite store (a fresh database file per
//! case), plus SQLite-specific checks: indexes, query plans, URL handling, exact timestamps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;

use std::sync::Arc;

use opsflow_adapters::sqlite::{SqliteConnectError, SqliteStore};
use opsflow_domain::{Role, TenantScope, TicketId, TicketQuery};
use opsflow_ports::repos::{StoreAdmin, TicketRepository};

async fn setup() -> (Arc<SqliteStore>, contract::Cleanup) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    let store = Arc::new(SqliteStore::connect(&url).await.expect("open sqlite"));
    let closing = store.clone();
    let cleanup: contract::Cleanup = Box::new(move || {
        Box::pin(async move {
            closing.close().await;
            drop(dir);
        })
    });
    (store, cleanup)
}

contract_tests!(setup);
mailbox_contract_tests!(setup);

/// The same suite against `sqlite::memory:` would take as long again; one round trip proves the
/// in-memory mode keeps its single database across calls.
#[tokio::test]
async fn in_memory_database_persists_across_calls() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let a = contract::signup(&store, "Memory Agency", "admin@memory.test").await;
    let mut t = contract::new_ticket(&a.scope, "Kept", "in memory", contract::now_ms());
    t.number = store.create(&a.scope, &t).await.unwrap();
    assert_eq!(TicketRepository::get(&store, &a.scope, t.id).await.unwrap(), t);
    assert!(store.health().await.ok);
}

#[tokio::test]
async fn creates_missing_folders_and_reopens_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/opsflow.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let a = contract::signup(&store, "Disk Agency", "admin@disk.test").await;
    store.close().await;
    assert!(path.exists());

    // Reopening runs the migrations again (a no-op) and finds the data; `sqlite:` works too.
    let again = SqliteStore::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    let tenant = opsflow_ports::repos::TenantRepository::get(&again, &a.scope).await.unwrap();
    assert_eq!(tenant, a.tenant);
    let health = again.health().await;
    assert_eq!(health.backend, "sqlite");
    assert!(health.ok && health.detail.starts_with("SQLite 3."), "{health:?}");
}

#[tokio::test]
async fn rejects_urls_that_are_not_sqlite() {
    for url in ["postgres://localhost/db", "mongodb://localhost", "sqlite:", "sqlite://"] {
        let err = SqliteStore::connect(url).await.expect_err(url);
        assert!(matches!(err, SqliteConnectError::InvalidUrl { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains("sqlite://"), "the message shows the expected form");
    }
}

#[tokio::test]
async fn required_indexes_exist() {
    let (store, cleanup) = setup().await;
    let names = store.index_names().await.unwrap();
    for required in [
        "users_email",
        "tickets_tenant_created",
        "tickets_tenant_status_created",
        "tickets_tenant_assignee_created",
        "tickets_tenant_priority_created",
        "tickets_tenant_category_created",
        "ticket_replies_tenant_ticket_created",
        "workflow_runs_tenant_ticket_started",
        "workflow_runs_one_active_per_ticket",
        "workflow_runs_queue_status_started",
        "workflow_steps_tenant_run_created",
        "audit_events_tenant_at",
        "audit_events_tenant_actor_at",
    ] {
        assert!(names.iter().any(|n| n == required), "missing index {required}: {names:?}");
    }
    cleanup().await;
}

/// Lists are served from an index in the requested order: no temp B-tree sort, no table scan.
#[tokio::test]
async fn list_queries_use_their_indexes() {
    let (store, cleanup) = setup().await;
    let cases = [
        ("tenant_id = x'00'", "tickets_tenant_created"),
        ("tenant_id = x'00' AND status = 'open'", "tickets_tenant_status_created"),
        ("tenant_id = x'00' AND assignee_id = x'01'", "tickets_tenant_assignee_created"),
        ("tenant_id = x'00' AND assignee_id IS NULL", "tickets_tenant_assignee_created"),
        ("tenant_id = x'00' AND priority = 'high'", "tickets_tenant_priority_created"),
        ("tenant_id = x'00' AND category = 'bug'", "tickets_tenant_category_created"),
    ];
    let newest = "created_at DESC, id DESC";
    let cases = cases.into_iter().map(|(filter, index)| (filter, newest, index)).chain([
        (
            "tenant_id = x'00'",
            "priority_rank DESC, created_at ASC, id ASC",
            "tickets_tenant_rank_created",
        ),
        ("tenant_id = x'00'", "updated_at DESC, id DESC", "tickets_tenant_updated"),
        ("tenant_id = x'00'", "created_at ASC, id ASC", "tickets_tenant_created"),
    ]);
    for (filter, order, index) in cases {
        let plan = store
            .explain(&format!(
                "SELECT * FROM tickets WHERE {filter} ORDER BY {order} LIMIT 25 OFFSET 4975"
            ))
            .await
            .unwrap()
            .join("\n");
        assert!(plan.contains(index), "{filter}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{filter} sorts: {plan}");
    }
    let plan = store
        .explain("SELECT rowid FROM ticket_search WHERE ticket_search MATCH '\"t00ab\"*'")
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("VIRTUAL TABLE INDEX"), "{plan}");
    for (filter, index) in [
        ("tenant_id = x'00'", "audit_events_tenant_at"),
        ("tenant_id = x'00' AND at >= 5 AND at < 9", "audit_events_tenant_at"),
        ("tenant_id = x'00' AND actor_id = x'01'", "audit_events_tenant_actor_at"),
    ] {
        let plan = store
            .explain(&format!(
                "SELECT * FROM audit_events WHERE {filter} ORDER BY at DESC, id DESC LIMIT 50"
            ))
            .await
            .unwrap()
            .join("\n");
        assert!(plan.contains(index), "{filter}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{filter} sorts: {plan}");
    }
    cleanup().await;
}

/// SQLite keeps nanoseconds, beyond the millisecond precision the shared suite relies on.
#[tokio::test]
async fn timestamps_round_trip_to_the_nanosecond() {
    let (store, cleanup) = setup().await;
    let a = contract::signup(&*store, "Precise Agency", "admin@precise.test").await;
    let at = time::macros::datetime!(2026-11-25 19:30:01.123_456_789 UTC);
    let mut t = contract::new_ticket(&a.scope, "Precise", "nanoseconds", at);
    t.number = store.create(&a.scope, &t).await.unwrap();
    let got = TicketRepository::get(&*store, &a.scope, t.id).await.unwrap();
    assert_eq!(got.created_at, at);
    assert_eq!(got.created_at.nanosecond(), 123_456_789);
    cleanup().await;
}

/// A scope is only as good as its tenant id: a random tenant sees nothing.
#[tokio::test]
async fn unknown_tenant_sees_nothing() {
    let (store, cleanup) = setup().await;
    let a = contract::signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let mut t = contract::new_ticket(&a.scope, "Hidden", "body", contract::now_ms());
    t.number = store.create(&a.scope, &t).await.unwrap();
    let stranger = TenantScope::new(opsflow_domain::TenantId::new(), a.admin.id, Role::Admin);
    let page = store.list(&stranger, &TicketQuery::default()).await.unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));
    assert!(TicketRepository::get(&*store, &stranger, t.id).await.is_err());
    assert!(TicketRepository::get(&*store, &a.scope, TicketId::new()).await.is_err());
    cleanup().await;
}

/// Broad words (thousands of matches) take a different query plan from rare ones; both must
/// give exactly the reference answer of `opsflow_domain::search::matches`, newest first.
#[tokio::test]
async fn broad_and_rare_search_words_agree_with_the_reference() {
    use opsflow_domain::{TicketStatus, search};
    let (store, cleanup) = setup().await;
    let a = contract::signup(&*store, "Search Agency", "admin@search.test").await;
    let base = contract::now_ms();
    let tickets: Vec<_> = (0..2_600_i64)
        .map(|i| {
            let subject = match i % 13 {
                0 => format!("common rare{i} problem"),
                1 | 2 => format!("commonplace issue {i}"),
                _ => format!("common question {i}"),
            };
            let mut t =
                contract::new_ticket(&a.scope, &subject, "body", base + time::Duration::seconds(i));
            t.status = if i % 2 == 0 { TicketStatus::Open } else { TicketStatus::New };
            t
        })
        .collect();
    store.create_many(&a.scope, &tickets).await.unwrap();

    for (q, status) in [
        ("common", None),
        ("common", Some(TicketStatus::Open)),
        ("comm rare", None),
        ("rare1", Some(TicketStatus::New)),
        ("commonp issue", None),
        ("question 25", None),
        ("nothing", None),
    ] {
        let words = TicketQuery::search_words(q);
        let mut want: Vec<_> = tickets
            .iter()
            .filter(|t| status.is_none_or(|s| t.status == s))
            .filter(|t| {
                let kw = search::keywords([
                    t.subject.as_str(),
                    t.body.as_str(),
                    t.customer_name.as_str(),
                    t.customer_email.as_str(),
                ]);
                search::matches(&kw, &words)
            })
            .map(|t| t.id)
            .collect();
        want.reverse();
        let query = TicketQuery {
            search: words,
            statuses: status.into_iter().collect(),
            page: 2,
            page_size: 10,
            ..TicketQuery::default()
        };
        let page = store.list(&a.scope, &query).await.unwrap();
        let matching = want.len() as u64;
        let cap = opsflow_domain::TicketListPage::COUNT_CAP;
        assert_eq!((page.total, page.total_exact), (matching.min(cap), matching <= cap), "{q}");
        assert_eq!(store.count(&a.scope, &query).await.unwrap(), matching, "{q}");
        let got: Vec<_> = page.items.iter().map(|t| t.id).collect();
        let expected: Vec<_> = want.iter().skip(10).take(10).copied().collect();
        assert_eq!(got, expected, "{q}");
    }
    cleanup().await;
}

/// Two admins demoting each other at the same moment: exactly one change wins, the tenant keeps
/// an active admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_demotions_keep_one_admin() {
    use opsflow_ports::repos::UserRepository;
    let (store, cleanup) = setup().await;
    for round in 0..10 {
        let a = contract::signup(&*store, &format!("Race {round}"), &format!("a{round}@race.test"))
            .await;
        let second = contract::new_user(
            a.tenant.id,
            "Second",
            &format!("b{round}@race.test"),
            Role::Admin,
            contract::now_ms(),
        );
        UserRepository::create(&*store, &a.scope, &second).await.unwrap();
        let mut first_down = a.admin.clone();
        first_down.role = Role::Agent;
        let mut second_off = second.clone();
        second_off.active = false;
        let (s1, s2) = (store.clone(), store.clone());
        let scope = a.scope;
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { UserRepository::update(&*s1, &scope, &first_down).await }),
            tokio::spawn(async move { UserRepository::update(&*s2, &scope, &second_off).await }),
        );
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        assert!(r1.is_ok() != r2.is_ok(), "round {round}: {r1:?} / {r2:?}");
        let admins = UserRepository::list(&*store, &a.scope)
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .count();
        assert_eq!(admins, 1, "round {round}");
    }
    cleanup().await;
}

/// Two server processes on one database file (two pools, so the in-process write lock does not
/// help): the busy timeout and the single-statement claim still hand each run out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pools_on_one_file_never_claim_the_same_run() {
    use opsflow_ports::repos::{RunQueue, WorkflowRepository};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let first = Arc::new(SqliteStore::connect(&url).await.unwrap());
    let second = Arc::new(SqliteStore::connect(&url).await.unwrap());
    let a = contract::signup(&*first, "Shared Agency", "admin@shared.test").await;
    let base = contract::now_ms();
    let mut want = std::collections::HashSet::new();
    for i in 0..40 {
        let t = contract::new_ticket(&a.scope, "Queued", "body", base);
        first.create(&a.scope, &t).await.unwrap();
        let run = contract::new_run(&a.scope, t.id, base + time::Duration::seconds(i));
        first.create_run(&a.scope, &run).await.unwrap();
        want.insert(run.id);
    }
    let mut tasks = Vec::new();
    for k in 0..6 {
        let store = if k % 2 == 0 { first.clone() } else { second.clone() };
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(run) = store.claim_next(base, time::Duration::seconds(60)).await.unwrap()
            {
                got.push(run.id);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "claimed twice");
    assert_eq!(unique, want);
    first.close().await;
    second.close().await;
}

/// A row the domain cannot accept (written by hand or by a broken migration) is an
/// `Unexpected` error, never a panic.
#[tokio::test]
async fn undecodable_rows_are_unexpected_errors() {
    use opsflow_ports::repos::RepoError;
    let (store, cleanup) = setup().await;
    let a = contract::signup(&*store, "Corrupt Agency", "admin@corrupt.test").await;
    let mut t = contract::new_ticket(&a.scope, "Fine", "body", contract::now_ms());
    t.number = store.create(&a.scope, &t).await.unwrap();
    sqlx::query("UPDATE tickets SET status = 'exploded'").execute(store.pool()).await.unwrap();
    let got = TicketRepository::get(&*store, &a.scope, t.id).await;
    assert!(matches!(got, Err(RepoError::Unexpected(_))), "{got:?}");
    let listed = store.list(&a.scope, &TicketQuery::default()).await;
    assert!(matches!(listed, Err(RepoError::Unexpected(_))), "{listed:?}");
    sqlx::query("UPDATE users SET email = 'not an email', id = x'0102'")
        .execute(store.pool())
        .await
        .unwrap();
    let users = opsflow_ports::repos::UserRepository::list(&*store, &a.scope).await;
    assert!(matches!(users, Err(RepoError::Unexpected(_))), "{users:?}");
    cleanup().await;
}

/// The ticket-number migration numbers the tickets that exist when it runs: per tenant, in
/// creation order, and the counters continue from there. The database is put back into its
/// state before the migration (column, index, counters and migration record removed), then
/// reopened so the real migration runs on it.
#[tokio::test]
async fn the_numbers_migration_numbers_existing_tickets_in_creation_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let a = contract::signup(&store, "Alpha Agency", "admin@alpha.test").await;
    let b = contract::signup(&store, "Beta Agency", "admin@beta.test").await;
    let base = contract::now_ms();
    let a_late = contract::new_ticket(&a.scope, "A late", "b", base + time::Duration::seconds(9));
    let a_early = contract::new_ticket(&a.scope, "A early", "b", base);
    let b_only = contract::new_ticket(&b.scope, "B only", "b", base);
    for (scope, t) in [(a.scope, &a_late), (a.scope, &a_early), (b.scope, &b_only)] {
        store.create(&scope, t).await.unwrap();
    }
    for sql in [
        "DROP INDEX tickets_tenant_number",
        "ALTER TABLE tickets DROP COLUMN number",
        "DROP TABLE ticket_counters",
        "DELETE FROM _sqlx_migrations WHERE description = 'ticket numbers'",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    store.close().await;

    let again = SqliteStore::connect(&url).await.unwrap();
    let number = async |scope, id| TicketRepository::get(&again, &scope, id).await.unwrap().number;
    assert_eq!(number(a.scope, a_early.id).await, 1);
    assert_eq!(number(a.scope, a_late.id).await, 2);
    assert_eq!(number(b.scope, b_only.id).await, 1);
    let next = contract::new_ticket(&a.scope, "A next", "b", base + time::Duration::seconds(20));
    assert_eq!(again.create(&a.scope, &next).await.unwrap(), 3);
    assert!(again.index_names().await.unwrap().contains(&"tickets_tenant_number".to_owned()));
}

/// A database whose search index a migration marked for a rebuild (as the FTS5 migration does,
/// since SQL cannot run the tokeniser) gets every ticket and sent reply indexed at the next
/// start, each under its own workspace, and the mark is cleared.
#[tokio::test]
async fn a_marked_search_index_is_rebuilt_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let a = contract::signup(&store, "Alpha Agency", "admin@alpha.test").await;
    let b = contract::signup(&store, "Beta Agency", "admin@beta.test").await;
    let base = contract::now_ms();
    let invoice = contract::new_ticket(&a.scope, "Invoice question", "vat", base);
    let other = contract::new_ticket(&b.scope, "Invoice elsewhere", "vat", base);
    store.create(&a.scope, &invoice).await.unwrap();
    store.create(&b.scope, &other).await.unwrap();
    for sql in ["DELETE FROM ticket_search", "UPDATE search_index SET rebuilt = 0"] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    let search =
        |q: &str| TicketQuery { search: TicketQuery::search_words(q), ..TicketQuery::default() };
    assert!(store.list(&a.scope, &search("invoi")).await.unwrap().items.is_empty(), "emptied");
    store.close().await;

    let again = SqliteStore::connect(&url).await.unwrap();
    let found = again.list(&a.scope, &search("invoi")).await.unwrap();
    assert_eq!(found.items.iter().map(|t| t.id).collect::<Vec<_>>(), [invoice.id]);
    let found = again.list(&b.scope, &search("elsewh")).await.unwrap();
    assert_eq!(found.items.iter().map(|t| t.id).collect::<Vec<_>>(), [other.id]);
    assert!(again.list(&a.scope, &search("elsewhere")).await.unwrap().items.is_empty());
    let rebuilt: i64 = sqlx::query_scalar("SELECT rebuilt FROM search_index")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(rebuilt, 1);
}

/// SQLite ranks a search with bm25: a ticket with the word in its subject comes before older and
/// newer ones that only mention it in the body, and more mentions rank higher.
#[tokio::test]
async fn relevance_puts_subject_matches_first() {
    use opsflow_domain::TicketSort;
    let (store, cleanup) = setup().await;
    let a = contract::signup(&*store, "Rank Agency", "admin@rank.test").await;
    let base = contract::now_ms();
    let body_only =
        contract::new_ticket(&a.scope, "Question", "about a refund", contract::at(base, 1));
    let subject = contract::new_ticket(&a.scope, "Refund", "please", contract::at(base, 2));
    let newest =
        contract::new_ticket(&a.scope, "Hello", "where is the refund", contract::at(base, 3));
    for t in [&body_only, &subject, &newest] {
        store.create(&a.scope, t).await.unwrap();
    }
    let q = TicketQuery {
        search: TicketQuery::search_words("refund"),
        sort: TicketSort::Relevance,
        ..TicketQuery::default()
    };
    let page = TicketRepository::list(&*store, &a.scope, &q).await.unwrap();
    let got: Vec<TicketId> = page.items.iter().map(|t| t.id).collect();
    assert_eq!(got[0], subject.id, "the subject match ranks first");
    assert_eq!(got.len(), 3);
    // The same search newest first differs: the ranking is not the date order.
    let by_date =
        TicketRepository::list(&*store, &a.scope, &TicketQuery { sort: TicketSort::Created, ..q })
            .await
            .unwrap();
    assert_eq!(by_date.items[0].id, newest.id);
    cleanup().await;
}
