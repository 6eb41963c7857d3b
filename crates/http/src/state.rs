//! Everything a request handler needs: the application services, built once by the composition
//! root (`crates/opsflow`, `wiring.rs`), and the edge's own metrics registry. No repository or
//! other port is reachable from a handler except through a service.

use std::sync::Arc;

use opsflow_ports::services::Services;
use opsflow_ports::services::audit::AuditLog;
use opsflow_ports::services::auth::AuthService;
use opsflow_ports::services::inbound_mail::InboundMailService;
use opsflow_ports::services::mailbox::MailboxService;
use opsflow_ports::services::runs::RunHistoryService;
use opsflow_ports::services::system::SystemService;
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
    /// The support mailbox: settings, connection test, status.
    pub mailbox: MailboxService,
    /// Store health and shutdown, the clock, password hashing.
    pub system: SystemService,
    /// Inbound email, the inbound token, ticket attachments.
    pub inbound_mail: Arc<InboundMailService>,
    /// Webhook endpoints and their delivery log.
    pub webhooks: Arc<opsflow_ports::services::webhooks::WebhookService>,
    /// Delivers queued webhook messages (the composition root runs a pool of it).
    pub webhook_worker: Arc<opsflow_ports::services::webhooks::WebhookWorker>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Whether the client address is the left-most `X-Forwarded-For` entry (behind a trusted
    /// proxy) rather than the peer address.
    pub trust_forwarded_for: bool,
}

impl AppState {
    /// Puts the services wired by the composition root (see
    /// [`opsflow_ports::services::Services::new`]) behind the HTTP edge, with the metrics the
    /// triage observer writes to.
    pub fn new(services: Services, metrics: Arc<Metrics>, trust_forwarded_for: bool) -> Arc<Self> {
        let Services {
            auth,
            tenants,
            team,
            tickets,
            triage,
            runs,
            audit,
            mailbox,
            system,
            inbound_mail,
            webhooks,
            webhook_worker,
        } = services;
        Arc::new(Self {
            auth,
            tenants,
            team,
            tickets,
            triage,
            runs,
            audit,
            mailbox,
            system,
            inbound_mail,
            webhooks,
            webhook_worker,
            metrics,
            trust_forwarded_for,
        })
    }
}
