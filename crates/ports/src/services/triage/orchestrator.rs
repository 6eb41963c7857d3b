//! Running one triage: creating the run, then walking the steps in the order the domain's
//! [`prerequisites`] allow (each step starts as soon as the steps it needs have completed, so
//! independent steps run concurrently), then persisting.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt as _};
use opsflow_domain::{
    Category, GuardrailFlag, Priority, ReplyBody, RunEvent, RunState, RunStatus, RunTrigger,
    StepType, TICKET_TRIAGE, TenantScope, Ticket, UserId, WorkflowRun, WorkflowRunId,
    prerequisites,
};

use super::assignee::{self, AssigneeInput};
use super::classification::ClassificationInput;
use super::persist::{Confidences, Results};
use super::priority::PriorityInput;
use super::prompt::TicketInput;
use super::record::{RunCtx, store_cause};
use super::reply_draft::ReplyDraftInput;
use super::{RunMode, TicketTriageWorkflow, TriageResult};
use crate::error::{AppError, AppResult, ConflictCode, Entity};
use crate::repos::{Conflict, RepoError};

/// What every step may read: loaded once per run.
struct RunData {
    ticket: TicketInput,
    candidates: Vec<assignee::CandidateInput>,
    policies: String,
    tenant_name: String,
    policy: opsflow_domain::ReplyPolicy,
}

/// What a model step produced.
enum StepValue {
    Category(Category, Option<f64>),
    Priority(Priority, Option<f64>),
    Assignee(Option<UserId>, Option<f64>),
    Draft(ReplyBody, Vec<GuardrailFlag>),
}

/// The outputs of the steps completed so far, read by the steps that need them.
#[derive(Default)]
struct Outputs {
    category: Option<Category>,
    priority: Option<Priority>,
    assignee: Option<Option<UserId>>,
    confidence: Confidences,
    draft: Option<(ReplyBody, Vec<GuardrailFlag>)>,
}

impl Outputs {
    fn store(&mut self, value: StepValue) {
        match value {
            StepValue::Category(c, confidence) => {
                self.category = Some(c);
                self.confidence.category = confidence;
            }
            StepValue::Priority(p, confidence) => {
                self.priority = Some(p);
                self.confidence.priority = confidence;
            }
            StepValue::Assignee(a, confidence) => {
                self.assignee = Some(a);
                self.confidence.assignee = confidence;
            }
            StepValue::Draft(body, flags) => self.draft = Some((body, flags)),
        }
    }

    fn into_results(self) -> Option<Results> {
        let (body, flags) = self.draft?;
        Some(Results {
            category: self.category?,
            priority: self.priority?,
            assignee: self.assignee?,
            confidence: self.confidence,
            body,
            flags,
        })
    }
}

/// A prerequisite's output was missing when a step started: the walk below prevents it.
fn missing(step: StepType) -> String {
    format!("internal error: the {step} step started before its prerequisites")
}

impl TicketTriageWorkflow {
    /// Runs [`Self::execute_with`], turning a panic anywhere below (a provider, an adapter) into
    /// a failed run instead of a run left `running` until its lease expires.
    pub(super) async fn execute_guarded(
        &self,
        scope: &TenantScope,
        run: WorkflowRun,
        ticket: Option<Ticket>,
    ) -> AppResult<TriageResult> {
        use futures::FutureExt as _;
        let (run_id, ticket_id) = (run.id, run.ticket_id);
        let started = Instant::now();
        let outcome = std::panic::AssertUnwindSafe(self.execute_with(scope, run, ticket))
            .catch_unwind()
            .await;
        let Err(panic) = outcome else {
            return outcome.unwrap_or_else(|_| Err(AppError::NotFound(Entity::WorkflowRun)));
        };
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        tracing::error!(
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket_id,
            workflow_run_id = %run_id,
            panic = %detail,
            "triage run panicked"
        );
        let message = "the triage run stopped on an internal error (details are in the server log)";
        let now = self.clock.now();
        self.runs
            .fail_run(scope, run_id, message, now)
            .await
            .map_err(AppError::from_repo(Entity::WorkflowRun))?;
        self.observer.run_finished(RunStatus::Failed, started.elapsed());
        let (run, ticket, steps) = futures::try_join!(
            self.runs.get_run(scope, run_id),
            self.tickets.get(scope, ticket_id),
            self.runs.list_steps(scope, run_id),
        )
        .map_err(AppError::from_repo(Entity::WorkflowRun))?;
        Ok(TriageResult { run, ticket, draft: None, steps, guardrail_flags: Vec::new() })
    }

    pub(super) async fn create_run(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        mode: RunMode,
    ) -> AppResult<WorkflowRun> {
        // No separate "is a run active?" read: both stores refuse a second active run per
        // ticket (a unique index), and that conflict is answered below. One store call less
        // per run.
        let now = self.clock.now();
        let (status, attempts, lease_expires_at) = match mode {
            RunMode::Sync => (RunStatus::Running, 1, Some(now + self.config.lease)),
            RunMode::Async => (RunStatus::Queued, 0, None),
        };
        let run = WorkflowRun {
            id: WorkflowRunId::new(),
            tenant_id: scope.tenant_id(),
            ticket_id: ticket.id,
            workflow_type: TICKET_TRIAGE.to_owned(),
            status,
            started_by_user_id: scope.user_id(),
            trigger: RunTrigger::Manual,
            error_message: None,
            started_at: now,
            finished_at: None,
            attempts,
            lease_expires_at,
        };
        match self.runs.create_run(scope, &run).await {
            Ok(()) => {}
            // A run is already queued or running (or two requests raced): report it.
            Err(RepoError::Conflict(Conflict::ActiveRun)) => {
                return match self.runs.active_run(scope, ticket.id).await? {
                    Some(active) => Err(AppError::RunInProgress(active.id)),
                    None => Err(AppError::from_repo(Entity::Ticket)(RepoError::Conflict(
                        Conflict::ActiveRun,
                    ))),
                };
            }
            Err(e) => return Err(AppError::from_repo(Entity::Ticket)(e)),
        }
        tracing::info!(
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket.id,
            workflow_run_id = %run.id,
            status = %run.status,
            "triage run created"
        );
        if mode == RunMode::Async {
            self.queued.notify_one();
        }
        Ok(run)
    }

    async fn execute_with(
        &self,
        scope: &TenantScope,
        run: WorkflowRun,
        ticket: Option<Ticket>,
    ) -> AppResult<TriageResult> {
        if run.tenant_id != scope.tenant_id() {
            return Err(AppError::NotFound(Entity::WorkflowRun));
        }
        if !run.status.is_active() {
            return Err(AppError::Conflict {
                code: ConflictCode::WorkflowRunFinished,
                message: format!("this triage run already {}", run.status),
            });
        }
        let give_up = run.attempts > self.config.max_attempts;
        let ctx = RunCtx {
            scope,
            run,
            started: Instant::now(),
            state: Mutex::new(RunState::Queued),
            steps: Mutex::new(Vec::new()),
        };
        ctx.advance(RunEvent::Start).map_err(AppError::unexpected)?;
        tracing::info!(
            tenant_id = %scope.tenant_id(),
            ticket_id = %ctx.run.ticket_id,
            workflow_run_id = %ctx.run.id,
            attempt = ctx.run.attempts,
            provider = self.llm.provider(),
            model = self.llm.model(),
            "triage run started"
        );

        let ticket = match ticket {
            Some(t) => t,
            None => match self.tickets.get(scope, ctx.run.ticket_id).await {
                Ok(t) => t,
                Err(e) => {
                    let message = format!("could not load the ticket: {}", store_cause(&e));
                    self.mark_failed(&ctx, &message).await?;
                    return Err(AppError::from_repo(Entity::Ticket)(e));
                }
            },
        };
        if give_up {
            let message = format!(
                "gave up after {} attempts: each was interrupted before it finished (details are \
                 in the server log)",
                self.config.max_attempts
            );
            return self.fail(ctx, ticket, message).await;
        }

        let loaded = futures::try_join!(
            self.tenants.get(scope),
            self.users.list(scope),
            self.tickets.open_counts_by_assignee(scope),
        );
        let (tenant, users, counts) = match loaded {
            Ok(v) => v,
            Err(e) => {
                let message =
                    format!("could not load the workspace data for triage: {}", store_cause(&e));
                return self.fail(ctx, ticket, message).await;
            }
        };
        let data = RunData {
            ticket: TicketInput::from_ticket(&ticket),
            candidates: assignee::candidates(&users, &counts),
            policies: tenant.policies.as_str().to_owned(),
            tenant_name: tenant.name.as_str().to_owned(),
            policy: tenant.reply_policy.clone(),
        };

        match self.walk_steps(&ctx, &data).await {
            Ok(results) => self.persist(ctx, ticket, results).await,
            Err(message) => self.fail(ctx, ticket, message).await,
        }
    }

    /// Runs every model step once its prerequisites have completed, concurrently where the
    /// domain allows it, and returns their outputs or the run's error message.
    ///
    /// A step with at most one prerequisite starts as soon as that one completed (so a chain
    /// such as classification → priority runs beside the assignee suggestion). A step that
    /// joins several (the reply draft) is a barrier: it starts only when every running branch
    /// has settled and none failed, so a failed branch never leaves a draft behind.
    ///
    /// After a failure the run only finishes what is under way: running steps complete and are
    /// recorded, and a chain's next step still runs (the chain is recorded whole). With several
    /// failures, the message of the earliest step in [`StepType::ALL`] order is the run's.
    async fn walk_steps(&self, ctx: &RunCtx<'_>, data: &RunData) -> Result<Results, String> {
        let mut pending: Vec<StepType> =
            StepType::ALL.iter().copied().filter(|s| *s != StepType::Persist).collect();
        let mut done: BTreeSet<StepType> = BTreeSet::new();
        let mut outputs = Outputs::default();
        let mut failures: Vec<(StepType, String)> = Vec::new();
        let mut running = FuturesUnordered::new();
        loop {
            let mut waiting = Vec::with_capacity(pending.len());
            for step in pending {
                let needs = prerequisites(step);
                let ready = needs.iter().all(|p| done.contains(p));
                let joins = needs.len() > 1;
                if ready && (!joins || (failures.is_empty() && running.is_empty())) {
                    running.push(self.start_step(ctx, step, data, &outputs));
                } else {
                    waiting.push(step);
                }
            }
            pending = waiting;
            let Some((step, result)) = running.next().await else { break };
            match result {
                Ok(value) => {
                    outputs.store(value);
                    done.insert(step);
                }
                Err(message) => failures.push((step, message)),
            }
        }
        if let Some((_, message)) = failures.into_iter().min_by_key(|(step, _)| *step) {
            return Err(message);
        }
        outputs.into_results().ok_or_else(|| missing(StepType::Persist))
    }

    /// Starts one model step with the input built from the run's data and the outputs of its
    /// prerequisites.
    fn start_step<'a>(
        &'a self,
        ctx: &'a RunCtx<'a>,
        step: StepType,
        data: &RunData,
        outputs: &Outputs,
    ) -> BoxFuture<'a, (StepType, Result<StepValue, String>)> {
        let ticket = data.ticket.clone();
        match step {
            StepType::Classification => {
                let input = ClassificationInput { ticket };
                async move {
                    (step, self.classify(ctx, input).await.map(|(c, p)| StepValue::Category(c, p)))
                }
                .boxed()
            }
            StepType::Priority => {
                let Some(category) = outputs.category else {
                    return futures::future::ready((step, Err(missing(step)))).boxed();
                };
                let input = PriorityInput { ticket, category };
                async move {
                    (
                        step,
                        self.prioritise(ctx, input).await.map(|(v, p)| StepValue::Priority(v, p)),
                    )
                }
                .boxed()
            }
            StepType::AssigneeSuggestion => {
                let input = AssigneeInput { ticket, candidates: data.candidates.clone() };
                async move {
                    (
                        step,
                        self.suggest_assignee(ctx, input)
                            .await
                            .map(|(a, p)| StepValue::Assignee(a, p)),
                    )
                }
                .boxed()
            }
            StepType::ReplyDraft => {
                let (Some(category), Some(priority)) = (outputs.category, outputs.priority) else {
                    return futures::future::ready((step, Err(missing(step)))).boxed();
                };
                let input = ReplyDraftInput {
                    ticket,
                    category,
                    priority,
                    policies: data.policies.clone(),
                    tenant_name: data.tenant_name.clone(),
                    policy: Box::new(data.policy.clone()),
                    regenerate_without: Vec::new(),
                };
                async move {
                    let drafted = self.draft_reply(ctx, input).await;
                    (step, drafted.map(|(body, flags)| StepValue::Draft(body, flags)))
                }
                .boxed()
            }
            // Persist writes the outputs of all the others; `execute_with` runs it last.
            StepType::Persist => futures::future::ready((step, Err(missing(step)))).boxed(),
        }
    }
}
