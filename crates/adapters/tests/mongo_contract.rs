//! Runs the repository contract suite and MongoDB-specific checks against a real server.
//!
//! Needs `OPSFLOW_TEST_MONGODB_URI`; run through `scripts/with-mongo.sh`, which starts a test
//! server when the variable is unset. Without it every test fails: they are never skipped.
//! Each test gets its own database, dropped afterwards. The whole contract suite runs twice:
//! with transactions (`transactions::*`) and with the standalone fallback (`standalone::*`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod contract;

use std::sync::Arc;
use std::time::Duration;

use bson::spec::BinarySubtype;
use bson::{Bson, Document, doc};
use contract::{
    Cleanup, Fixture, ai_draft, human_reply, new_run, new_step, new_ticket, new_user, now_ms,
    signup,
};
use futures::TryStreamExt;
use opsflow_adapters::mongo::{MongoSettings, MongoStore, index_specs};
use opsflow_domain::{
    Category, Priority, Role, RunStatus, StepType, TicketPatch, TicketQuery, TicketSort,
    TicketStatus,
};
use opsflow_ports::repos::{
    AccountRepository, Conflict, ReplyRepository, RepoError, StoreAdmin, ThrottleRepository,
    TicketRepository, TriageOutcome, UserRepository, WorkflowRepository,
};

const URI_VAR: &str = "OPSFLOW_TEST_MONGODB_URI";

fn test_uri() -> String {
    match std::env::var(URI_VAR) {
        Ok(uri) if !uri.trim().is_empty() => uri,
        _ => panic!(
            "{URI_VAR} is not set: the MongoDB tests need a server. Run them through \
             scripts/with-mongo.sh (it starts a test server), e.g. \
             `scripts/with-mongo.sh cargo test -p opsflow-adapters --test mongo_contract`"
        ),
    }
}

fn unique_db_name() -> String {
    format!("opsflow_test_{}", uuid::Uuid::now_v7().simple())
}

fn settings(db: &str) -> MongoSettings {
    MongoSettings {
        database: Some(db.to_owned()),
        max_pool_size: Some(16),
        server_selection_timeout: Duration::from_secs(10),
        app_name: Some("opsflow-mongo-contract".to_owned()),
        ..MongoSettings::new(test_uri())
    }
}

fn drop_database(store: &MongoStore) -> Cleanup {
    let db = store.database().clone();
    Box::new(move || {
        Box::pin(async move {
            if let Err(e) = db.drop().await {
                eprintln!("could not drop test database {}: {e}", db.name());
            }
        })
    })
}

/// A fresh store on its own database, using transactions (the test server must support them,
/// otherwise this path would silently test the fallback).
async fn setup_tx() -> (Arc<MongoStore>, Cleanup) {
    let store = MongoStore::connect(settings(&unique_db_name())).await.expect("connect");
    assert!(
        store.supports_transactions(),
        "the test server must be a replica set (transactions); start mongod with --replSet"
    );
    let cleanup = drop_database(&store);
    (Arc::new(store), cleanup)
}

/// A fresh store on its own database, forced onto the standalone fallback path.
async fn setup_fallback() -> (Arc<MongoStore>, Cleanup) {
    let store = MongoStore::connect(settings(&unique_db_name()))
        .await
        .expect("connect")
        .without_transactions();
    let cleanup = drop_database(&store);
    (Arc::new(store), cleanup)
}

mod transactions {
    use super::setup_tx;
    contract_tests!(setup_tx);
    // Mailbox writes are single-document updates: the same with or without transactions.
    crate::mailbox_contract_tests!(setup_tx);
}

mod standalone {
    use super::setup_fallback;
    contract_tests!(setup_fallback);
}

/// Runs `case` once with transactions and once with the fallback, each on its own database.
macro_rules! both_paths {
    ($($name:ident => $case:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn with_transactions() {
                let (store, cleanup) = super::setup_tx().await;
                crate::contract::run_case(store, cleanup, super::$case).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn standalone_fallback() {
                let (store, cleanup) = super::setup_fallback().await;
                crate::contract::run_case(store, cleanup, super::$case).await;
            }
        }
    )+};
}

both_paths!(
    failed_signup_leaves_no_tenant => signup_rolls_back_when_the_admin_fails,
    failed_reply_leaves_draft_and_status => reply_rolls_back_when_the_insert_fails,
    failed_completion_leaves_ticket_and_run => complete_run_rolls_back_when_the_step_fails,
    concurrent_demotions_keep_an_admin => concurrent_demotions_never_remove_the_last_admin,
    failed_bulk_insert_leaves_nothing => create_many_rolls_back_when_one_ticket_fails,
    concurrent_run_starts_keep_one_active => only_one_of_many_concurrent_runs_starts,
);

// ---------------------------------------------------------------------------------------------
// Atomicity of multi-document writes (both paths)
// ---------------------------------------------------------------------------------------------

async fn signup_rolls_back_when_the_admin_fails(store: Arc<MongoStore>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    // The second admin reuses the first admin's id: its insert fails on `_id` after the tenant
    // was written, so the tenant must go too.
    let now = now_ms();
    let tenant = contract::new_tenant("Gamma Agency", now);
    let mut admin = new_user(tenant.id, "Gamma Admin", "admin@gamma.test", Role::Admin, now);
    admin.id = a.admin.id;
    let err = store.create_tenant_with_admin(&tenant, &admin).await.expect_err("duplicate _id");
    assert!(matches!(err, RepoError::Conflict(_)), "{err:?}");
    assert!(!store.slug_exists(&tenant.slug).await.unwrap(), "half-made tenant left behind");
    assert!(matches!(store.find_user(tenant.id, admin.id).await, Err(RepoError::NotFound)));
    // The tenant can be created afterwards with a proper admin.
    let admin = new_user(tenant.id, "Gamma Admin", "admin@gamma.test", Role::Admin, now);
    store.create_tenant_with_admin(&tenant, &admin).await.unwrap();
}

async fn reply_rolls_back_when_the_insert_fails(store: Arc<MongoStore>) {
    let Fixture { scope, .. } = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&scope, "Refund", "order 42", base);
    t.number = TicketRepository::create(&*store, &scope, &t).await.unwrap();
    let earlier = human_reply(&scope, t.id, "Looking into it", base);
    ReplyRepository::add(&*store, &scope, &earlier, None, None, base).await.unwrap();
    let draft = ai_draft(&scope, t.id, "Draft answer", base + time::Duration::seconds(1));
    ReplyRepository::add(&*store, &scope, &draft, None, None, base).await.unwrap();

    // The reply reuses an existing reply's id: its insert fails after the draft was consumed.
    let mut clash = human_reply(&scope, t.id, "Final answer", base + time::Duration::seconds(2));
    clash.id = earlier.id;
    let later = base + time::Duration::seconds(5);
    let err = ReplyRepository::add(
        &*store,
        &scope,
        &clash,
        Some(TicketStatus::Replied),
        Some(draft.id),
        later,
    )
    .await
    .expect_err("duplicate _id");
    assert!(!matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(ReplyRepository::list(&*store, &scope, t.id).await.unwrap(), vec![earlier, draft]);
    assert_eq!(TicketRepository::get(&*store, &scope, t.id).await.unwrap(), t);
}

async fn complete_run_rolls_back_when_the_step_fails(store: Arc<MongoStore>) {
    let Fixture { scope, admin, .. } = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&scope, "Checkout broken", "500 on pay", base);
    t.number = TicketRepository::create(&*store, &scope, &t).await.unwrap();
    let mut run = new_run(&scope, t.id, base);
    run.status = RunStatus::Running;
    run.attempts = 1;
    run.lease_expires_at = Some(base + time::Duration::seconds(60));
    store.create_run(&scope, &run).await.unwrap();
    let first = new_step(&scope, run.id, StepType::Classification, base);
    store.append_step(&scope, &first).await.unwrap();

    // The persist step reuses the first step's id: it fails last, after every other write.
    let mut persist = new_step(&scope, run.id, StepType::Persist, base);
    persist.id = first.id;
    let outcome = TriageOutcome {
        patch: TicketPatch {
            status: Some(TicketStatus::Open),
            priority: Some(Some(Priority::Urgent)),
            category: Some(Some(Category::Bug)),
            assignee_id: Some(Some(admin.id)),
            ..TicketPatch::default()
        },
        draft: ai_draft(&scope, t.id, "We are on it.", base),
        persist_step: persist,
    };
    let done = base + time::Duration::seconds(10);
    store.complete_run(&scope, run.id, &outcome, done).await.expect_err("duplicate step id");
    assert_eq!(TicketRepository::get(&*store, &scope, t.id).await.unwrap(), t);
    assert!(ReplyRepository::list(&*store, &scope, t.id).await.unwrap().is_empty());
    assert_eq!(store.list_steps(&scope, run.id).await.unwrap(), vec![first]);
    assert_eq!(store.get_run(&scope, run.id).await.unwrap(), run, "run still active, lease kept");

    // A correct outcome then completes the run.
    let outcome = TriageOutcome {
        persist_step: new_step(&scope, run.id, StepType::Persist, done),
        ..outcome
    };
    let ticket = store.complete_run(&scope, run.id, &outcome, done).await.unwrap();
    assert_eq!(ticket.category, Some(Category::Bug));
    assert_eq!(store.get_run(&scope, run.id).await.unwrap().status, RunStatus::Succeeded);
}

async fn concurrent_demotions_never_remove_the_last_admin(store: Arc<MongoStore>) {
    let Fixture { scope, admin, .. } = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    for round in 0..8 {
        let now = now_ms();
        let second = new_user(
            scope.tenant_id(),
            "Second Admin",
            &format!("second{round}@alpha.test"),
            Role::Admin,
            now,
        );
        UserRepository::create(&*store, &scope, &second).await.unwrap();
        let first = UserRepository::get(&*store, &scope, admin.id).await.unwrap();
        let mut demote_first = first.clone();
        demote_first.role = Role::Agent;
        let mut demote_second = second.clone();
        demote_second.active = false;
        let (s1, s2) = (store.clone(), store.clone());
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { UserRepository::update(&*s1, &scope, &demote_first).await }),
            tokio::spawn(async move { UserRepository::update(&*s2, &scope, &demote_second).await }),
        );
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        for r in [&r1, &r2] {
            assert!(
                matches!(r, Ok(()) | Err(RepoError::Conflict(Conflict::LastAdmin))),
                "round {round}: {r:?}"
            );
        }
        assert!(r1.is_err() || r2.is_err(), "round {round}: both admins were demoted");
        let admins = UserRepository::list(&*store, &scope)
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.active && u.role == Role::Admin)
            .count();
        assert!(admins >= 1, "round {round}: no active admin left");
        // Restore: the first admin active again, every other admin off.
        let mut first = UserRepository::get(&*store, &scope, admin.id).await.unwrap();
        first.role = Role::Admin;
        first.active = true;
        UserRepository::update(&*store, &scope, &first).await.unwrap();
        let mut second = UserRepository::get(&*store, &scope, second.id).await.unwrap();
        second.active = false;
        UserRepository::update(&*store, &scope, &second).await.unwrap();
    }
}

async fn create_many_rolls_back_when_one_ticket_fails(store: Arc<MongoStore>) {
    let Fixture { scope, .. } = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut existing = new_ticket(&scope, "Existing", "body", base);
    existing.number = TicketRepository::create(&*store, &scope, &existing).await.unwrap();
    // The 31st ticket reuses an existing id: the first 30 were already written when it fails.
    let mut batch: Vec<_> = (0..50)
        .map(|i| {
            new_ticket(&scope, &format!("Import {i}"), "body", base + time::Duration::seconds(i))
        })
        .collect();
    batch[30].id = existing.id;
    TicketRepository::create_many(&*store, &scope, &batch).await.expect_err("duplicate _id");
    let all = TicketRepository::list(
        &*store,
        &scope,
        &TicketQuery { page_size: 100, ..TicketQuery::default() },
    )
    .await
    .unwrap();
    assert_eq!(all.total, 1, "a failed import leaves no ticket behind");
    assert_eq!(all.items, vec![existing]);
}

async fn only_one_of_many_concurrent_runs_starts(store: Arc<MongoStore>) {
    let Fixture { scope, .. } = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let mut t = new_ticket(&scope, "Triage me", "please", now_ms());
    t.number = TicketRepository::create(&*store, &scope, &t).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let run = new_run(&scope, t.id, now_ms());
            tokio::spawn(async move { store.create_run(&scope, &run).await })
        })
        .collect();
    let mut started = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => started += 1,
            Err(RepoError::Conflict(Conflict::ActiveRun)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(started, 1);
    assert_eq!(store.list_runs(&scope, t.id).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// MongoDB specifics
// ---------------------------------------------------------------------------------------------

async fn indexes_of(store: &MongoStore, collection: &str) -> Vec<Document> {
    let cursor = store
        .database()
        .collection::<Document>(collection)
        .list_indexes()
        .await
        .expect("listIndexes");
    cursor
        .try_collect::<Vec<_>>()
        .await
        .expect("indexes")
        .into_iter()
        .map(|m| {
            let opts = m.options.unwrap_or_default();
            let mut d = doc! { "name": opts.name.unwrap_or_default(), "key": m.keys };
            if opts.unique == Some(true) {
                d.insert("unique", true);
            }
            if let Some(p) = opts.partial_filter_expression {
                d.insert("partialFilterExpression", p);
            }
            d
        })
        .collect()
}

#[tokio::test]
async fn indexes_exist_and_creation_is_idempotent() {
    let (store, cleanup) = setup_tx().await;
    let check = async {
        // Connecting again to the same database re-runs index creation: a no-op, no error.
        let again =
            MongoStore::connect(settings(store.database().name())).await.expect("reconnect");
        for spec in index_specs() {
            let found = indexes_of(&again, spec.collection).await;
            let index =
                found.iter().find(|d| d.get_str("name").ok() == Some(spec.name)).unwrap_or_else(
                    || panic!("missing index {}.{}: {found:?}", spec.collection, spec.name),
                );
            assert_eq!(index.get_document("key").unwrap(), &spec.keys, "{}", spec.name);
            assert_eq!(index.get_bool("unique").unwrap_or(false), spec.unique, "{}", spec.name);
            assert_eq!(index.get_document("partialFilterExpression").ok(), spec.partial.as_ref());
        }
        // The indexes the issue requires, by key pattern.
        let users = indexes_of(&again, "users").await;
        assert!(
            users
                .iter()
                .any(|d| d.get_document("key").unwrap() == &doc! { "tenant_id": 1, "email": 1 }
                    && d.get_bool("unique").unwrap_or(false))
        );
        let tenants = indexes_of(&again, "tenants").await;
        assert!(tenants.iter().any(|d| d.get_document("key").unwrap() == &doc! { "slug": 1 }
            && d.get_bool("unique").unwrap_or(false)));
        let tickets = indexes_of(&again, "tickets").await;
        assert!(tickets.iter().any(|d| {
            d.get_document("key").unwrap().keys().map(String::as_str).collect::<Vec<_>>()
                == ["tenant_id", "keywords", "created_at"]
        }));
    };
    contract::run_case(store.clone(), cleanup, |_| check).await;
}

#[tokio::test]
async fn documents_have_the_documented_shape() {
    let (store, cleanup) = setup_tx().await;
    let s = store.clone();
    contract::run_case(store, cleanup, |_| async move {
        let Fixture { scope, .. } = signup(&*s, "Alpha Agency", "admin@alpha.test").await;
        let base = now_ms() + time::Duration::nanoseconds(123_456);
        let mut t = new_ticket(&scope, "Login BROKEN", "Cannot sign in", base);
        t.number = TicketRepository::create(&*s, &scope, &t).await.unwrap();
        let run = new_run(&scope, t.id, base);
        s.create_run(&scope, &run).await.unwrap();
        let step = new_step(&scope, run.id, StepType::Classification, base);
        s.append_step(&scope, &step).await.unwrap();

        let raw = s.database().collection::<Document>("tickets").find_one(doc! {}).await.unwrap().unwrap();
        assert!(matches!(raw.get("_id"), Some(Bson::Binary(b)) if b.subtype == BinarySubtype::Uuid));
        assert!(matches!(raw.get("tenant_id"), Some(Bson::Binary(b)) if b.subtype == BinarySubtype::Uuid));
        assert!(matches!(raw.get("created_at"), Some(Bson::DateTime(_))));
        assert_eq!(raw.get("priority"), Some(&Bson::Null));
        let keywords = raw.get_array("keywords").unwrap();
        assert!(keywords.contains(&Bson::String("login".into())));
        assert!(keywords.contains(&Bson::String("casey".into())), "customer name is searchable");
        // Sub-millisecond precision round-trips exactly.
        assert_eq!(TicketRepository::get(&*s, &scope, t.id).await.unwrap(), t);

        let raw = s.database().collection::<Document>("workflow_steps").find_one(doc! {}).await.unwrap().unwrap();
        let input = raw.get_document("input_snapshot").expect("snapshot is an embedded document");
        assert_eq!(input.get_document("ticket").unwrap().get_str("subject").unwrap(), "Login broken");
        // Embedded snapshots can be queried.
        let hits = s
            .database()
            .collection::<Document>("workflow_steps")
            .count_documents(doc! { "tenant_id": Bson::Binary(bson::Binary {
                subtype: BinarySubtype::Uuid,
                bytes: scope.tenant_id().as_uuid().as_bytes().to_vec(),
            }), "output_snapshot.category": "bug" })
            .await
            .unwrap();
        assert_eq!(hits, 1);
    })
    .await;
}

#[tokio::test]
async fn ended_throttle_buckets_are_removed_by_later_takes() {
    let (store, cleanup) = setup_tx().await;
    let s = store.clone();
    contract::run_case(store, cleanup, |_| async move {
        let t0 = now_ms();
        let window = time::Duration::minutes(1);
        for i in 0..40 {
            s.take(&format!("login:address:10.0.0.{i}"), 5, window, t0).await.unwrap();
        }
        let buckets = s.database().collection::<Document>("throttle_buckets");
        assert_eq!(buckets.count_documents(doc! {}).await.unwrap(), 40);
        // Still live: a later take removes nothing.
        s.take("login:email:a@b.test", 5, window, t0 + time::Duration::seconds(30)).await.unwrap();
        assert_eq!(buckets.count_documents(doc! {}).await.unwrap(), 41);
        // Ended: each take removes a bounded batch (32), two takes clear all 40.
        let later = t0 + time::Duration::minutes(2);
        s.take("login:email:c@d.test", 5, window, later).await.unwrap();
        assert_eq!(buckets.count_documents(doc! {}).await.unwrap(), 41 - 32 + 1);
        s.take("login:email:c@d.test", 5, window, later).await.unwrap();
        let left: Vec<String> = buckets
            .find(doc! {})
            .await
            .unwrap()
            .try_collect::<Vec<Document>>()
            .await
            .unwrap()
            .iter()
            .map(|d| d.get_str("_id").unwrap().to_owned())
            .collect();
        assert_eq!(left, ["login:email:c@d.test"], "only the live bucket is left");
    })
    .await;
}

#[tokio::test]
async fn search_finds_prefixes_among_many_tickets() {
    let (store, cleanup) = setup_tx().await;
    let s = store.clone();
    contract::run_case(store, cleanup, |_| async move {
        let Fixture { scope, .. } = signup(&*s, "Alpha Agency", "admin@alpha.test").await;
        let base = now_ms();
        let tickets: Vec<_> = (0..1_000)
            .map(|i| {
                let subject = if i % 100 == 7 {
                    format!("Invoice {i} overdue")
                } else {
                    format!("Question {i}")
                };
                new_ticket(&scope, &subject, "regular body text", base + time::Duration::seconds(i))
            })
            .collect();
        TicketRepository::create_many(&*s, &scope, &tickets).await.unwrap();
        let q = TicketQuery {
            search: TicketQuery::search_words("INVO over"),
            page_size: 5,
            ..TicketQuery::default()
        };
        let page = TicketRepository::list(&*s, &scope, &q).await.unwrap();
        assert_eq!(page.total, 10);
        assert_eq!(page.items.len(), 5);
        assert_eq!(page.items[0].id, tickets[907].id, "newest first");
        // Regex metacharacters in a word are literal, never a pattern.
        let q = TicketQuery { search: vec![".*".to_owned()], ..TicketQuery::default() };
        assert_eq!(TicketRepository::list(&*s, &scope, &q).await.unwrap().total, 0);
    })
    .await;
}

#[tokio::test]
async fn health_names_the_server_version() {
    let (store, cleanup) = setup_tx().await;
    let h = store.health().await;
    let detail = h.detail.clone();
    contract::run_case(store, cleanup, |_| async move {
        assert!(h.ok);
        assert_eq!(h.backend, "mongodb");
        assert!(detail.starts_with("MongoDB "), "{detail}");
        assert!(detail.contains("transactions"), "{detail}");
    })
    .await;
}

#[tokio::test]
async fn database_name_comes_from_the_uri_path() {
    let db = unique_db_name();
    let base = test_uri();
    let (head, query) = base.split_once('?').map_or((base.as_str(), ""), |(h, q)| (h, q));
    let uri = format!("{}/{db}?{query}", head.trim_end_matches('/'));
    let store = MongoStore::connect(MongoSettings::new(uri)).await.expect("connect");
    let name = store.database().name().to_owned();
    store.database().drop().await.expect("drop");
    assert_eq!(name, db);
}

#[tokio::test]
async fn tickets_stored_before_numbers_are_numbered_at_start_up() {
    let (store, cleanup) = setup_tx().await;
    let s = store.clone();
    contract::run_case(store, cleanup, |_| async move {
        let a = signup(&*s, "Alpha Agency", "admin@alpha.test").await;
        let b = signup(&*s, "Beta Agency", "admin@beta.test").await;
        let base = now_ms();
        // Created out of time order, so creation time (not insertion order) must decide.
        let a_late = new_ticket(&a.scope, "A late", "body", base + time::Duration::seconds(5));
        let a_early = new_ticket(&a.scope, "A early", "body", base);
        let mut b_only = new_ticket(&b.scope, "B only", "body", base);
        b_only.priority = Some(Priority::Urgent);
        for (scope, t) in [(a.scope, &a_late), (a.scope, &a_early), (b.scope, &b_only)] {
            TicketRepository::create(&*s, &scope, t).await.unwrap();
        }
        // Make the database look like one written before ticket numbers existed.
        let db = s.database();
        db.collection::<Document>("tickets").drop_index("tenant_number_unique").await.unwrap();
        db.collection::<Document>("tickets")
            .update_many(doc! {}, doc! { "$unset": { "number": "", "priority_rank": "" } })
            .await
            .unwrap();
        db.collection::<Document>("ticket_counters").drop().await.unwrap();

        let again = MongoStore::connect(settings(db.name())).await.expect("reconnect");
        let number = |scope, id| {
            let again = &again;
            async move { TicketRepository::get(again, &scope, id).await.unwrap().number }
        };
        assert_eq!(number(a.scope, a_early.id).await, 1);
        assert_eq!(number(a.scope, a_late.id).await, 2);
        assert_eq!(number(b.scope, b_only.id).await, 1);
        // The counters continue after the backfilled numbers, and the unique index is back.
        let next = new_ticket(&a.scope, "A next", "body", base + time::Duration::seconds(9));
        assert_eq!(TicketRepository::create(&again, &a.scope, &next).await.unwrap(), 3);
        let names: Vec<String> = indexes_of(&again, "tickets")
            .await
            .iter()
            .filter_map(|d| d.get_str("name").ok().map(str::to_owned))
            .collect();
        assert!(names.contains(&"tenant_number_unique".to_owned()), "{names:?}");
        // Priority ranks are restored too: B's urgent ticket sorts before a new unset one.
        let b_new = new_ticket(&b.scope, "B new", "body", base + time::Duration::seconds(1));
        TicketRepository::create(&again, &b.scope, &b_new).await.unwrap();
        let by_priority = TicketQuery { sort: TicketSort::Priority, ..TicketQuery::default() };
        let listed = TicketRepository::list(&again, &b.scope, &by_priority).await.unwrap();
        let order: Vec<_> = listed.items.iter().map(|t| t.id).collect();
        assert_eq!(order, vec![b_only.id, b_new.id]);
        // A second start finds nothing to number.
        MongoStore::connect(settings(db.name())).await.expect("reconnect twice");
        assert_eq!(number(a.scope, a_late.id).await, 2);
    })
    .await;
}
