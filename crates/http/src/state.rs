//! Everything a request handler needs: the application services, built once by the composition
//! root (`crates/opsflow`, `wiring.rs`), and the edge's own ports (store health, metrics).

use std::sync::Arc;

use opsflow_ports::auth::{Clock, PasswordHasher};
use opsflow_ports::repos::{RunQueue, Store, StoreAdmin};
use opsflow_ports::services::Services;
use opsflow_ports::services::audit::AuditLog;
use opsflow_ports::services::auth::AuthService;
use opsflow_ports::services::runs::RunHistoryService;
use opsflow_ports::services::team::TeamService;
use opsflow_ports::services::tenant::TenantService;
use opsflow_ports::services::tickets::TicketService;
use opsflow_ports::services::triage::TicketTriageWorkflow;

use crate::metrics::Metrics;

/// Shared application state.
pub struct AppState {
    /// Sign-up, login, token resolution.
    pub auth: AuthService,
    /// Workspace settings.
    pub tenants: TenantService,
    /// Team management.
    pub team: TeamService,
    /// The workspace audit log (the services above record into it; admins read it).
    pub audit: AuditLog,
    /// Tickets and replies.
    pub tickets: TicketService,
    /// The AI triage workflow.
    pub triage: Arc<TicketTriageWorkflow>,
    /// Run history: a ticket's runs, a run with its steps.
    pub runs: RunHistoryService,
    /// The queue async runs are claimed from.
    pub queue: Arc<dyn RunQueue>,
    /// Store health and shutdown.
    pub store: Arc<dyn StoreAdmin>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Password hashing (seeding and imports).
    pub hasher: Arc<dyn PasswordHasher>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Whether the client address is the left-most `X-Forwarded-For` entry (behind a trusted
    /// proxy) rather than the peer address.
    pub trust_forwarded_for: bool,
}

impl AppState {
    /// Puts the services wired by the composition root (see
    /// [`opsflow_ports::services::Services::new`]) behind the HTTP edge, with the store's
    /// health and queue ports and the metrics the triage observer writes to.
    pub fn new<S: Store>(
        store: Arc<S>,
        services: Services,
        metrics: Arc<Metrics>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        trust_forwarded_for: bool,
    ) -> Arc<Self> {
        let Services { auth, tenants, team, tickets, triage, runs, audit } = services;
        Arc::new(Self {
            auth,
            tenants,
            team,
            tickets,
            triage,
            runs,
            audit,
            queue: store.clone(),
            store,
            metrics,
            hasher,
            clock,
            trust_forwarded_for,
        })
    }
}
