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
