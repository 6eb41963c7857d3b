//! # opsflow-ports
//!
//! The ports of OpsFlow Agent Desk (the traits the core needs: repositories, the LLM client,
//! clock, password hashing, tokens) and the application services that use them. Adapters in
//! other crates implement the ports; the binary wires one adapter per port.
//!
//! With the default `mocks` feature every port has a [`mockall`] mock (`MockTicketRepository`,
//! `MockLlmClient`, ...) for your own tests:
//!
//! ```
//! use std::sync::Arc;
//! use opsflow_domain::{Role, TenantId, TenantScope, UserId};
//! use opsflow_ports::error::AppError;
//! use opsflow_ports::repos::{MockAuditRepository, MockSessionRepository, MockUserRepository};
//! use opsflow_ports::services::audit::AuditLog;
//! use opsflow_ports::services::team::TeamService;
//! use opsflow_ports::auth::{MockPasswordHasher, SystemClock};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let team = TeamService::new(
//!     Arc::new(MockUserRepository::new()),
//!     Arc::new(MockSessionRepository::new()),
//!     Arc::new(MockPasswordHasher::new()),
//!     Arc::new(SystemClock),
//!     AuditLog::new(Arc::new(MockAuditRepository::new())),
//! );
//! let agent = TenantScope::new(TenantId::new(), UserId::new(), Role::Agent);
//! // Agents cannot list the team; the repository is never called.
//! assert!(matches!(team.list(&agent).await, Err(AppError::Forbidden)));
//! # });
//! ```

#![deny(missing_docs)]

pub mod auth;
pub mod cipher;
pub mod error;
pub mod llm;
pub mod mail;
pub mod mail_intake;
pub mod password_policy;
pub mod repos;
pub mod services;
pub mod webhooks;
