//! # opsflow-adapters
//!
//! Storage and security adapters for the OpsFlow ports: the embedded SQLite store (the default),
//! the MongoDB store (production, scales out), argon2id password hashing, HS256 JWT tokens and the
//! AES-256-GCM cipher for secrets stored at rest.

pub mod cipher;
pub mod mongo;
pub mod security;
pub mod sqlite;
pub mod webhook_http;
