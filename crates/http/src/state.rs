//! Everything a request handler needs, built once by the composition root.

use std::sync::Arc;

use opsflow_ports::auth::{Clock, PasswordHasher, TokenService};
use opsflow_ports::llm::LlmClient;
use opsflow_ports::repos::{RunQueue, Store, StoreAdmin};
use opsflow_ports::services::auth::AuthService;
use opsflow_ports::services::runs::RunHistoryService;
use opsflow_ports::services::team::TeamService;
use opsflow_ports::services::tenant::TenantService;
use opsflow_ports::services::throttle::LoginLimits;
use opsflow_ports::services::tickets::TicketService;
use opsflow_ports::services::triage::{TextRedactor, TicketTriageWorkflow, TriageConfig};

use crate::metrics::{Metrics, PrometheusObserver};

/// Shared application state.
pub struct AppState {
    /// Sign-up, login, token resolution.
    pub auth: AuthService,
    /// Workspace settings.
    pub tenants: TenantService,
    /// Team management.
    pub team: TeamService,
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

/// The non-store ports the services need.
pub struct Deps {
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access tokens.
    pub tokens: Arc<dyn TokenService>,
    /// The model provider.
    pub llm: Arc<dyn LlmClient>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Triage settings.
    pub triage: TriageConfig,
    /// Login, sign-up and password throttle limits.
    pub login: LoginLimits,
    /// The server is behind a trusted reverse proxy: take the client address from the
    /// left-most `X-Forwarded-For` entry instead of the peer address.
    pub trust_forwarded_for: bool,
    /// Rewrites triage prompts before they are sent and recorded (personal-data redaction).
    pub redactor: Option<TextRedactor>,
}

impl AppState {
    /// Wires every service to one store and the given ports.
    pub fn new<S: Store>(store: Arc<S>, deps: Deps) -> Arc<Self> {
        let metrics = Arc::new(Metrics::new());
        let mut triage = TicketTriageWorkflow::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            deps.llm,
            deps.clock.clone(),
        )
        .with_config(deps.triage)
        .with_observer(Arc::new(PrometheusObserver(metrics.clone())));
        if let Some(redactor) = deps.redactor {
            triage = triage.with_redactor(redactor);
        }
        Arc::new(Self {
            auth: AuthService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                deps.hasher.clone(),
                deps.tokens,
                deps.clock.clone(),
                store.clone(),
            )
            .with_login_limits(deps.login),
            tenants: TenantService::new(store.clone(), deps.clock.clone()),
            team: TeamService::new(
                store.clone(),
                store.clone(),
                deps.hasher.clone(),
                deps.clock.clone(),
            ),
            tickets: TicketService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                store.clone(),
                deps.clock.clone(),
            ),
            triage: Arc::new(triage),
            runs: RunHistoryService::new(store.clone(), store.clone()),
            queue: store.clone(),
            store,
            metrics,
            hasher: deps.hasher,
            clock: deps.clock,
            trust_forwarded_for: deps.trust_forwarded_for,
        })
    }
}
