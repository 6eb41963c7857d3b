//! The HTTP test suite on the embedded SQLite store: the real app on 127.0.0.1:0, a fresh
//! database file per app, talked to over HTTP. The same cases run on MongoDB in `tests/mongo.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod suite;

all_suites!(crate::common::Backend::Sqlite);
