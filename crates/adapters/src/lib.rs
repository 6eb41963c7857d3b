//! # opsflow-adapters
//!
//! Storage and security adapters for the OpsFlow ports: the embedded SQLite store (the default),
//! the MongoDB store (production, scales out), argon2id password hashing and HS256 JWT tokens.

pub mod mongo;
pub mod security;
pub mod sqlite;
