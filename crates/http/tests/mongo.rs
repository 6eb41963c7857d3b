//! The whole HTTP test suite on the MongoDB store.
//!
//! Needs `OPSFLOW_TEST_MONGODB_URI`; run it through `scripts/with-mongo.sh`, which starts a test
//! server when the variable is unset:
//!
//! ```text
//! scripts/with-mongo.sh cargo test -p opsflow-http --test mongo
//! ```
//!
//! Without the variable every test fails with that instruction: they are never skipped. Each app
//! gets its own database, dropped after the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod suite;

all_suites!(crate::common::Backend::Mongo);

/// The harness itself: a test's databases exist while it runs and are gone afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_databases_are_dropped_after_each_test() {
    use std::sync::{Arc, Mutex};

    use opsflow_adapters::mongo::{MongoSettings, MongoStore};

    let seen = Arc::new(Mutex::new(Vec::new()));
    let names = seen.clone();
    common::run(common::Backend::Mongo, |ctx| async move {
        let app = ctx.spawn().await;
        app.signup("Acme", "ada@example.com").await;
        let dbs = app_databases().await;
        let created = ctx.mongo_databases();
        assert_eq!(created.len(), 1);
        assert!(dbs.contains(&created[0]), "{created:?} not in {dbs:?}");
        *names.lock().unwrap() = created;
    })
    .await;
    let created = seen.lock().unwrap().clone();
    let dbs = app_databases().await;
    assert!(!dbs.contains(&created[0]), "{} was not dropped", created[0]);

    async fn app_databases() -> Vec<String> {
        let uri = std::env::var(common::MONGO_URI_VAR).expect("MongoDB URI");
        let name = format!("opsflow_http_check_{}", uuid::Uuid::now_v7().simple());
        let store =
            MongoStore::connect(MongoSettings { database: Some(name), ..MongoSettings::new(uri) })
                .await
                .expect("connect");
        let dbs = store.client().list_database_names().await.expect("list databases");
        store.database().drop().await.expect("drop the checker's database");
        dbs
    }
}
