//! # opsflow-domain
//!
//! The pure model of OpsFlow Agent Desk: tenants, users, tickets, replies, triage workflow runs
//! and steps, the triage state machine, guardrails and validation. No I/O, no async runtime, no
//! database or HTTP: embed it anywhere.
//!
//! Values are validated on construction, so a value that exists is valid:
//!
//! ```
//! use opsflow_domain::{
//!     transition, Email, RunEvent, RunState, Slug, StepType, TenantName, TextError, TicketSubject,
//! };
//!
//! let email = Email::parse("  Ann@Example.COM ").unwrap();
//! assert_eq!(email.as_str(), "ann@example.com");
//! assert_eq!(TicketSubject::new("   "), Err(TextError::Empty));
//!
//! let slug = Slug::from_name(&TenantName::new("Acme Agency").unwrap());
//! assert_eq!(slug.as_str(), "acme-agency");
//!
//! // A triage run cannot skip ahead: priority needs the classification first.
//! let running = transition(&RunState::Queued, RunEvent::Start).unwrap();
//! assert!(transition(&running, RunEvent::StepCompleted(StepType::Priority)).is_err());
//! ```

#![deny(missing_docs)]

pub mod email;
#[macro_use]
mod enums;
mod audit;
mod auto_triage;
mod entities;
mod errors;
pub mod guardrails;
mod ids;
pub mod mailbox;
pub mod outbox;
mod paging;
pub mod policy;
mod scope;
pub mod search;
mod values;
pub mod webhook;
mod workflow;

pub use audit::{AuditEvent, AuditKind, AuditQuery, DetailKey, MAX_DETAIL_CHARS, MAX_IP_CHARS};
pub use auto_triage::{
    AutoTriageMode, AutoTriageSettings, AutoTriageThresholds, FieldDecision, FieldOutcome,
    RunTrigger, Threshold, ThresholdError, TriageField, decide_field,
};
pub use entities::{
    AssigneeFilter, AuthSession, Page, Tenant, Ticket, TicketAttachment, TicketPatch, TicketQuery,
    TicketRef, TicketReply, User, parse_ticket_number,
};
pub use enums::{
    AuthorType, Category, Channel, ParseEnumError, Priority, Role, RunStatus, StepType, TicketSort,
    TicketStatus, TicketView,
};
pub use errors::FieldErrors;
pub use guardrails::GuardrailFlag;
pub use ids::{
    AttachmentId, AuditEventId, IdError, ReplyId, SessionId, TenantId, TicketId, UserId,
    WorkflowRunId, WorkflowStepId,
};
pub use paging::{CursorError, TicketCursor, TicketListPage};
pub use policy::ReplyPolicy;
pub use scope::TenantScope;
pub use values::{
    Email, EmailError, Password, PersonName, Policies, ReplyBody, Slug, SlugError, TenantName,
    TextError, TicketBody, TicketSubject,
};
pub use workflow::{
    AssigneeOutput, ClassificationOutput, PriorityOutput, ReplyDraftOutput, RunEvent, RunState,
    StepDescription, TICKET_TRIAGE, TransitionError, WorkflowRun, WorkflowStep, describe,
    prerequisites, transition,
};
