//! Application services: the use cases, written against the ports they are given.
//!
//! [`Services::new`] wires every service to one store; the composition root (`crates/opsflow`,
//! `wiring.rs`) calls it, and so does the HTTP test harness.

use std::sync::Arc;

use crate::auth::{Clock, PasswordHasher, TokenService};
use crate::cipher::SecretCipher;
use crate::llm::LlmClient;
use crate::mail::{MailFetcher, MailSender};
use crate::repos::Store;

pub mod audit;
pub mod auth;
pub mod auto_triage;
pub mod inbound_mail;
pub mod mail_poller;
pub mod mailbox;
pub mod outbox;
pub mod runs;
pub mod system;
pub mod team;
pub mod tenant;
pub mod throttle;
pub mod tickets;
pub mod triage;
pub mod webhooks;
pub mod worker;

/// The ports the services need besides the store.
pub struct ServiceDeps {
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access tokens.
    pub tokens: Arc<dyn TokenService>,
    /// The model provider.
    pub llm: Arc<dyn LlmClient>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Triage settings.
    pub triage: triage::TriageConfig,
    /// Login, sign-up and password throttle limits.
    pub login: throttle::LoginLimits,
    /// Rewrites triage prompts before they are sent and recorded (personal-data redaction).
    pub redactor: Option<triage::TextRedactor>,
    /// Receives the triage measurements (metrics).
    pub observer: Arc<dyn triage::TriageObserver>,
    /// Inbound email: the MIME parser, the secret cipher, own addresses, the size limit.
    pub inbound: inbound_mail::InboundMailDeps,
    /// Where each workspace's outbound mail goes ([`outbox::NoOutboundMail`]: nowhere, replies
    /// are recorded only).
    pub outbound: Arc<dyn outbox::OutboundConfigSource>,
    /// The Message-IDs of a ticket's email thread ([`outbox::NoThreadIds`] while none are
    /// stored).
    pub threads: Arc<dyn outbox::ThreadIdSource>,
    /// Seals and opens secrets stored at rest (mailbox passwords).
    pub cipher: Arc<dyn SecretCipher>,
    /// Reads mail over IMAP (the mailbox connection test).
    pub mail_fetcher: Arc<dyn MailFetcher>,
    /// Sends mail over SMTP (the mailbox connection test).
    pub mail_sender: Arc<dyn MailSender>,
    /// Webhook delivery: host resolver, HTTP sender, settings (SSRF policy).
    pub webhooks: webhooks::WebhookDeps,
}

/// Every application service, wired to one store.
pub struct Services {
    /// Sign-up, login, token resolution.
    pub auth: auth::AuthService,
    /// Workspace settings.
    pub tenants: tenant::TenantService,
    /// Team management.
    pub team: team::TeamService,
    /// Tickets and replies.
    pub tickets: tickets::TicketService,
    /// The AI triage workflow (shared with the worker pool).
    pub triage: Arc<triage::TicketTriageWorkflow>,
    /// Run history: a ticket's runs, a run with its steps.
    pub runs: runs::RunHistoryService,
    /// The workspace audit log (the services above record into it; admins read it).
    pub audit: audit::AuditLog,
    /// The workspace's support mailbox: settings, connection test, status.
    pub mailbox: mailbox::MailboxService,
    /// Store health and shutdown, the clock, password hashing.
    pub system: system::SystemService,
    /// Inbound email (the [`crate::mail_intake::MailIntake`] the endpoint and the IMAP poller
    /// call), the inbound token, ticket attachments.
    pub inbound_mail: Arc<inbound_mail::InboundMailService>,
    /// Webhook endpoints and their delivery log (admins).
    pub webhooks: Arc<webhooks::WebhookService>,
    /// Delivers queued webhook messages (the composition root spawns a pool of it).
    pub webhook_worker: Arc<webhooks::WebhookWorker>,
}

impl Services {
    /// Wires every service to `store` and the given ports.
    pub fn new<S: Store>(store: &Arc<S>, deps: ServiceDeps) -> Self {
        let mut triage = triage::TicketTriageWorkflow::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            deps.llm,
            deps.clock.clone(),
        )
        .with_config(deps.triage)
        .with_observer(deps.observer);
        if let Some(redactor) = deps.redactor {
            triage = triage.with_redactor(redactor);
        }
        let audit = audit::AuditLog::new(store.clone());
        let emitter = webhooks::WebhookEmitter::new(
            store.clone(),
            deps.clock.clone(),
            Arc::new(tokio::sync::Notify::new()),
        );
        triage = triage.with_webhooks(emitter.clone());
        let webhook_worker = Arc::new(webhooks::WebhookWorker::new(
            store.clone(),
            deps.cipher.clone(),
            deps.webhooks.clone(),
            deps.clock.clone(),
            emitter.notifier(),
        ));
        let webhook_service = Arc::new(webhooks::WebhookService::new(
            store.clone(),
            deps.cipher.clone(),
            deps.webhooks.resolver.clone(),
            deps.clock.clone(),
            audit.clone(),
            emitter.clone(),
            deps.webhooks.config.allow_private,
        ));
        let system =
            system::SystemService::new(store.clone(), deps.hasher.clone(), deps.clock.clone());
        let arrival = auto_triage::ArrivalTriage::new(store.clone(), triage.queued_notifier());
        let inbound_mail = Arc::new(
            inbound_mail::InboundMailService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                deps.clock.clone(),
                audit.clone(),
                deps.inbound,
            )
            .with_auto_triage(arrival.clone())
            .with_webhooks(emitter.clone()),
        );
        Self {
            auth: auth::AuthService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                deps.hasher.clone(),
                deps.tokens,
                deps.clock.clone(),
                store.clone(),
                audit.clone(),
            )
            .with_login_limits(deps.login),
            tenants: tenant::TenantService::new(store.clone(), deps.clock.clone(), audit.clone()),
            team: team::TeamService::new(
                store.clone(),
                store.clone(),
                deps.hasher,
                deps.clock.clone(),
                audit.clone(),
            ),
            tickets: tickets::TicketService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                store.clone(),
                deps.clock.clone(),
            )
            .with_audit(audit.clone())
            .with_policies(store.clone())
            .with_auto_triage(arrival)
            .with_webhooks(emitter)
            .with_email(
                store.clone(),
                deps.outbound,
                deps.threads,
                Arc::new(tokio::sync::Notify::new()),
            ),
            triage: Arc::new(triage),
            runs: runs::RunHistoryService::new(store.clone(), store.clone()),
            mailbox: mailbox::MailboxService::new(
                store.clone(),
                deps.cipher,
                deps.mail_fetcher,
                deps.mail_sender,
                deps.clock.clone(),
                audit.clone(),
            ),
            audit,
            system,
            inbound_mail,
            webhooks: webhook_service,
            webhook_worker,
        }
    }
}
