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

/// The same suite against `sqlite::memory:` would take as long again; one round trip proves the
/// in-memory mode keeps its single database across calls.
#[tokio::test]
async fn in_memory_database_persists_across_calls() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let a = contract::signup(&store, "Memory Agency", "admin@memory.test").await;
    let t = contract::new_ticket(&a.scope, "Kept", "in memory", contract::now_ms());
    store.create(&a.scope, &t).await.unwrap();
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
    for (filter, index) in cases {
        let plan = store
            .explain(&format!(
                "SELECT * FROM tickets WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT 25 OFFSET 4975"
            ))
            .await
            .unwrap()
            .join("\n");
        assert!(plan.contains(index), "{filter}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{filter} sorts: {plan}");
    }
    let plan = store
        .explain(
            "SELECT ticket_seq FROM ticket_keywords WHERE tenant_id = x'00' AND keyword >= 'ab' AND keyword < 'ac'",
        )
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("PRIMARY KEY") && plan.contains("keyword>?"), "{plan}");
    cleanup().await;
}

/// SQLite keeps nanoseconds, beyond the millisecond precision the shared suite relies on.
#[tokio::test]
async fn timestamps_round_trip_to_the_nanosecond() {
    let (store, cleanup) = setup().await;
    let a = contract::signup(&*store, "Precise Agency", "admin@precise.test").await;
    let at = time::macros::datetime!(2026-11-25 19:30:01.123_456_789 UTC);
    let t = contract::new_ticket(&a.scope, "Precise", "nanoseconds", at);
    store.create(&a.scope, &t).await.unwrap();
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
    let t = contract::new_ticket(&a.scope, "Hidden", "body", contract::now_ms());
    store.create(&a.scope, &t).await.unwrap();
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
        let query =
            TicketQuery { search: words, status, page: 2, page_size: 10, ..TicketQuery::default() };
        let page = store.list(&a.scope, &query).await.unwrap();
        assert_eq!(page.total, want.len() as u64, "{q}");
        let got: Vec<_> = page.items.iter().map(|t| t.id).collect();
        let expected: Vec<_> = want.iter().skip(10).take(10).copied().collect();
        assert_eq!(got, expected, "{q}");
    }
    cleanup().await;
}
