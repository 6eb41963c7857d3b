//! The ticket triage workflow: a model classifies a ticket, sets its priority, suggests an
//! assignee and drafts a reply; every step is recorded and the result is persisted atomically.
//!
//! The run follows the pure state machine [`opsflow_domain::transition`]: the classification →
//! priority chain and the assignee suggestion run concurrently (the suggestion needs neither
//! category nor priority), then the reply draft, then `persist`. Each step is appended to the run
//! as soon as it finishes, so the steps done so far stay visible when a later one fails.
//!
//! Model output is never trusted: enum values are checked by the schema, reasons must be
//! non-empty, a suggested assignee must be one of this tenant's active users, and drafted replies
//! pass the deterministic guardrails (one regeneration, remaining flags are kept). Ticket text is
//! fenced in the prompts, and whose data is read or written comes only from the caller's
//! [`TenantScope`].
//!
//! The folder holds one module per model step ([`classification`], [`priority`], [`assignee`],
//! [`reply_draft`]), each owning its prompt and prompt version, its typed input, its output's
//! validation and its part of `persist`; the `orchestrator` walks the steps in the order of
//! [`opsflow_domain::prerequisites`], `guardrails` regenerates flagged drafts, `record` appends
//! steps and fails runs, and [`observer`] receives the measurements. [`TriageTask`] is the typed
//! request a step sends through [`crate::llm::LlmRequest`].

pub mod assignee;
pub mod classification;
mod guardrails;
pub mod observer;
mod orchestrator;
mod persist;
pub mod priority;
mod prompt;
mod record;
pub mod reply_draft;
mod task;

use std::sync::Arc;

use opsflow_domain::{
    GuardrailFlag, TenantScope, Ticket, TicketId, TicketReply, WorkflowRun, WorkflowStep,
};
use tokio::sync::Notify;

use crate::auth::Clock;
use crate::error::{AppError, AppResult, Entity};
use crate::llm::LlmClient;
use crate::repos::{TenantRepository, TicketRepository, UserRepository, WorkflowRepository};

pub use assignee::NOT_AN_ACTIVE_USER;
pub use observer::{NoopObserver, TriageObserver};
pub use prompt::TicketInput;
pub use task::TriageTask;

/// How a run is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// The caller executes it right away: the run is created `running`.
    Sync,
    /// A worker executes it later: the run is created `queued`.
    Async,
}

/// Rewrites prompt text before it is sent to the model and recorded as a step's input, for
/// example to replace personal data (see `opsflow_llm::redact`). Applied to every message and to
/// every string in the context except UUIDs (record ids).
pub type TextRedactor = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// Settings of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageConfig {
    /// How long a worker (or a synchronous caller) holds a run before another worker may pick it
    /// up again. A synchronous run gets a lease too, so a run left `running` by a crash is
    /// finished by a worker instead of blocking its ticket forever.
    pub lease: time::Duration,
    /// How many times a run may be started (claimed) before it is failed instead of retried: a
    /// run that keeps getting interrupted (a crash, a panic) must not loop forever.
    pub max_attempts: u32,
}

impl Default for TriageConfig {
    fn default() -> Self {
        Self { lease: time::Duration::minutes(5), max_attempts: 3 }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct TriageResult {
    /// The run in its final state: `succeeded`, or `failed` with its `error_message`.
    pub run: WorkflowRun,
    /// The ticket: updated on success, unchanged on failure.
    pub ticket: Ticket,
    /// The stored AI reply draft (unsent); `None` when the run failed.
    pub draft: Option<TicketReply>,
    /// The steps recorded by this execution, in the order they finished (a run re-claimed after
    /// a crash also has the steps of its earlier attempt in the store).
    pub steps: Vec<WorkflowStep>,
    /// Guardrail findings still present in the draft after the regeneration.
    pub guardrail_flags: Vec<GuardrailFlag>,
}

/// Prompt template versions, recorded on each step (each owned by its step's module).
pub mod prompt_versions {
    /// Classification prompt.
    pub const CLASSIFICATION: &str = super::classification::PROMPT_VERSION;
    /// Priority prompt.
    pub const PRIORITY: &str = super::priority::PROMPT_VERSION;
    /// Assignee-suggestion prompt.
    pub const ASSIGNEE_SUGGESTION: &str = super::assignee::PROMPT_VERSION;
    /// Reply-draft prompt.
    pub const REPLY_DRAFT: &str = super::reply_draft::PROMPT_VERSION;
}

/// Triage of one ticket by a model, step by step, recorded and persisted atomically.
pub struct TicketTriageWorkflow {
    tickets: Arc<dyn TicketRepository>,
    users: Arc<dyn UserRepository>,
    tenants: Arc<dyn TenantRepository>,
    runs: Arc<dyn WorkflowRepository>,
    llm: Arc<dyn LlmClient>,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn TriageObserver>,
    config: TriageConfig,
    queued: Arc<Notify>,
    redactor: Option<TextRedactor>,
    webhooks: Option<crate::services::webhooks::WebhookEmitter>,
}

impl TicketTriageWorkflow {
    /// Wires the workflow to its ports, with [`TriageConfig::default`] and a [`NoopObserver`].
    pub fn new(
        tickets: Arc<dyn TicketRepository>,
        users: Arc<dyn UserRepository>,
        tenants: Arc<dyn TenantRepository>,
        runs: Arc<dyn WorkflowRepository>,
        llm: Arc<dyn LlmClient>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tickets,
            users,
            tenants,
            runs,
            llm,
            clock,
            observer: Arc::new(NoopObserver),
            config: TriageConfig::default(),
            queued: Arc::new(Notify::new()),
            redactor: None,
            webhooks: None,
        }
    }

    /// Reports completed runs (`triage.completed`) to the workspace's webhook endpoints.
    #[must_use]
    pub fn with_webhooks(mut self, emitter: crate::services::webhooks::WebhookEmitter) -> Self {
        self.webhooks = Some(emitter);
        self
    }

    /// Replaces the settings.
    #[must_use]
    pub fn with_config(mut self, config: TriageConfig) -> Self {
        self.config = config;
        self
    }

    /// Rewrites every prompt before it is sent and recorded, so a step's `input_snapshot` is
    /// exactly what the model was given.
    #[must_use]
    pub fn with_redactor(mut self, redactor: TextRedactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    /// Replaces the metrics observer.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn TriageObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// The settings in use.
    #[must_use]
    pub const fn config(&self) -> &TriageConfig {
        &self.config
    }

    /// Notified each time [`Self::start`] queues a run, so idle workers wake at once instead of
    /// waiting for their next poll.
    #[must_use]
    pub fn queued_notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.queued)
    }

    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Creates a run for a ticket of the caller's tenant: `running` for [`RunMode::Sync`]
    /// (execute it with [`Self::execute`]), `queued` for [`RunMode::Async`] (a worker executes
    /// it; idle workers are woken).
    ///
    /// # Errors
    /// `NotFound(Entity::Ticket)` if the ticket is not in the tenant; `RunInProgress` with the active
    /// run's id if the ticket already has a queued or running run; `Unexpected`.
    pub async fn start(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
        mode: RunMode,
    ) -> AppResult<WorkflowRun> {
        let ticket = self
            .tickets
            .get(scope, ticket_id)
            .await
            .map_err(AppError::from_repo(Entity::Ticket))?;
        self.create_run(scope, &ticket, mode).await
    }

    /// Starts a run in [`RunMode::Sync`] and executes it.
    ///
    /// # Errors
    /// As [`Self::start`] and [`Self::execute`]. A run that fails is not an error: it is
    /// returned with status `failed`.
    pub async fn run_sync(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> AppResult<TriageResult> {
        let ticket = self
            .tickets
            .get(scope, ticket_id)
            .await
            .map_err(AppError::from_repo(Entity::Ticket))?;
        let run = self.create_run(scope, &ticket, RunMode::Sync).await?;
        self.execute_guarded(scope, run, Some(ticket)).await
    }

    /// Executes the steps of an active run of the caller's tenant and persists the result.
    ///
    /// A run that fails (a model error, an invalid answer after the repair attempt, a store
    /// error while saving) is marked `failed` with an `error_message` naming the step and the
    /// cause, and returned as `Ok` with the unchanged ticket and no draft. A run re-claimed after
    /// a crash may already have steps: new ones are appended after them.
    ///
    /// # Errors
    /// `NotFound(Entity::WorkflowRun)` if the run belongs to another tenant or could not be marked
    /// failed because it is no longer active; `NotFound(Entity::Ticket)` if its ticket is gone;
    /// `Conflict` (`workflow_run_finished`) if the run already succeeded or failed;
    /// `Unexpected` when the store fails so that even the failure cannot be recorded.
    pub async fn execute(&self, scope: &TenantScope, run: WorkflowRun) -> AppResult<TriageResult> {
        self.execute_guarded(scope, run, None).await
    }
}
