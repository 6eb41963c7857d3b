//! Recording a run as it goes: the per-execution bookkeeping, each finished step appended to the
//! run (and the state machine advanced), and the run marked failed with a readable message.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use opsflow_domain::{
    GuardrailFlag, RunEvent, RunState, RunStatus, StepType, TenantScope, Ticket, WorkflowRun,
    WorkflowStep, WorkflowStepId, transition,
};
use serde::Serialize;
use serde_json::Value;

use super::prompt::Prompt;
use super::{TicketTriageWorkflow, TriageResult};
use crate::error::{AppError, AppResult, Entity};
use crate::llm::{CallFailure, Structured, TokenUsage};
use crate::repos::RepoError;

impl TicketTriageWorkflow {
    /// Records a step whose model call failed and returns the run's error message.
    pub(super) async fn record_call_failure(
        &self,
        ctx: &RunCtx<'_>,
        step: StepType,
        prompt: &Prompt,
        failure: &CallFailure,
        started: Instant,
    ) -> String {
        let message = format!("{step} step failed: {}", failure.error);
        let record = StepRecord {
            step_type: step,
            input: to_json(&prompt.snapshot()),
            output: Value::Null,
            latency: started.elapsed(),
            usage: failure.usage,
            attempts: failure.attempts,
            model: Some(self.llm.model().to_owned()),
            prompt_version: Some(prompt.version),
            flags: Vec::new(),
            error: Some(message.clone()),
        };
        match self.record(ctx, record).await {
            Ok(()) => message,
            Err(record_error) => format!("{message}; {record_error}"),
        }
    }

    /// Appends a finished step and, if it succeeded, advances the state machine.
    ///
    /// Returns the run's error message when the step cannot be recorded.
    pub(super) async fn record(&self, ctx: &RunCtx<'_>, record: StepRecord) -> Result<(), String> {
        // Every step but `persist` is answered by the model provider.
        let provider = (record.step_type != StepType::Persist).then(|| self.llm.provider());
        let step = record.into_step(ctx, provider, self.clock.now());
        if step.succeeded {
            ctx.advance(RunEvent::StepCompleted(step.step_type))?;
        }
        if let Err(e) = self.runs.append_step(ctx.scope, &step).await {
            return Err(format!(
                "could not record the {} step: {}",
                step.step_type,
                store_cause(&e)
            ));
        }
        self.step_logged(ctx, &step, provider.unwrap_or("store"));
        ctx.push_step(step);
        Ok(())
    }

    pub(super) fn step_logged(&self, ctx: &RunCtx<'_>, step: &WorkflowStep, provider: &str) {
        let latency = StdDuration::from_millis(step.latency_ms);
        self.observer.step_finished(step.step_type, provider, latency, step.succeeded);
        let outcome = if step.succeeded { "succeeded" } else { "failed" };
        tracing::info!(
            tenant_id = %ctx.scope.tenant_id(),
            ticket_id = %ctx.run.ticket_id,
            workflow_run_id = %ctx.run.id,
            step_type = %step.step_type,
            provider,
            model = step.model.as_deref().unwrap_or(""),
            latency_ms = step.latency_ms,
            prompt_tokens = step.prompt_tokens,
            completion_tokens = step.completion_tokens,
            attempts = step.attempts,
            guardrail_flags = step.guardrail_flags.len(),
            outcome,
            error = step.error_message.as_deref().unwrap_or(""),
            "triage step finished"
        );
    }

    /// Marks the run failed in the store and returns the failed result.
    pub(super) async fn fail(
        &self,
        ctx: RunCtx<'_>,
        ticket: Ticket,
        message: String,
    ) -> AppResult<TriageResult> {
        let now = self.mark_failed(&ctx, &message).await?;
        let mut run = ctx.run.clone();
        run.status = RunStatus::Failed;
        run.error_message = Some(message);
        run.finished_at = Some(now);
        let steps = ctx.take_steps();
        Ok(TriageResult { run, ticket, draft: None, steps, guardrail_flags: Vec::new() })
    }

    pub(super) async fn mark_failed(
        &self,
        ctx: &RunCtx<'_>,
        message: &str,
    ) -> AppResult<time::OffsetDateTime> {
        let now = self.clock.now();
        // Fail is legal from every non-terminal state; a terminal one cannot occur here.
        let _ = ctx.advance(RunEvent::Fail);
        self.runs
            .fail_run(ctx.scope, ctx.run.id, message, now)
            .await
            .map_err(AppError::from_repo(Entity::WorkflowRun))?;
        let elapsed = ctx.started.elapsed();
        let tokens = ctx.tokens();
        self.observer.run_finished(RunStatus::Failed, elapsed);
        tracing::warn!(
            tenant_id = %ctx.scope.tenant_id(),
            ticket_id = %ctx.run.ticket_id,
            workflow_run_id = %ctx.run.id,
            latency_ms = millis(elapsed),
            prompt_tokens = tokens.prompt_tokens,
            completion_tokens = tokens.completion_tokens,
            outcome = "failed",
            error = message,
            "triage run finished"
        );
        Ok(now)
    }
}

/// The bookkeeping of one execution.
pub(super) struct RunCtx<'a> {
    pub(super) scope: &'a TenantScope,
    pub(super) run: WorkflowRun,
    pub(super) started: Instant,
    pub(super) state: Mutex<RunState>,
    pub(super) steps: Mutex<Vec<WorkflowStep>>,
}

impl RunCtx<'_> {
    /// The state `event` would lead to, without applying it.
    pub(super) fn peek(&self, event: RunEvent) -> Result<RunState, String> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        transition(&state, event).map_err(|e| format!("internal error: {e}"))
    }

    pub(super) fn advance(&self, event: RunEvent) -> Result<(), String> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = transition(&state, event).map_err(|e| format!("internal error: {e}"))?;
        Ok(())
    }

    pub(super) fn set_state(&self, next: RunState) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = next;
    }

    pub(super) fn push_step(&self, step: WorkflowStep) {
        self.steps.lock().unwrap_or_else(PoisonError::into_inner).push(step);
    }

    /// Tokens spent by the steps recorded so far.
    pub(super) fn tokens(&self) -> TokenUsage {
        let steps = self.steps.lock().unwrap_or_else(PoisonError::into_inner);
        steps.iter().fold(TokenUsage::default(), |sum, s| {
            sum.plus(TokenUsage {
                prompt_tokens: s.prompt_tokens,
                completion_tokens: s.completion_tokens,
            })
        })
    }

    pub(super) fn take_steps(&self) -> Vec<WorkflowStep> {
        std::mem::take(&mut *self.steps.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A finished step before it gets its identity.
pub(super) struct StepRecord {
    pub(super) step_type: StepType,
    pub(super) input: Value,
    pub(super) output: Value,
    pub(super) latency: StdDuration,
    pub(super) usage: TokenUsage,
    pub(super) attempts: u32,
    pub(super) model: Option<String>,
    pub(super) prompt_version: Option<&'static str>,
    pub(super) flags: Vec<String>,
    pub(super) error: Option<String>,
}

impl StepRecord {
    pub(super) fn success<T>(
        step_type: StepType,
        prompt: &Prompt,
        call: &Structured<T>,
        output: Value,
        started: Instant,
    ) -> Self {
        Self {
            step_type,
            input: to_json(&prompt.snapshot()),
            output,
            latency: started.elapsed(),
            usage: call.usage,
            attempts: call.attempts,
            model: Some(call.model.clone()),
            prompt_version: Some(prompt.version),
            flags: Vec::new(),
            error: None,
        }
    }

    pub(super) fn into_step(
        self,
        ctx: &RunCtx<'_>,
        provider: Option<&str>,
        now: time::OffsetDateTime,
    ) -> WorkflowStep {
        WorkflowStep {
            id: WorkflowStepId::new(),
            tenant_id: ctx.scope.tenant_id(),
            workflow_run_id: ctx.run.id,
            step_type: self.step_type,
            succeeded: self.error.is_none(),
            input_snapshot: self.input,
            output_snapshot: self.output,
            provider: provider.map(str::to_owned),
            model: self.model,
            prompt_version: self.prompt_version.map(str::to_owned),
            latency_ms: millis(self.latency),
            prompt_tokens: self.usage.prompt_tokens,
            completion_tokens: self.usage.completion_tokens,
            attempts: self.attempts,
            guardrail_flags: self.flags,
            error_message: self.error,
            created_at: now,
            // A worker's claim counts the attempt; a run executed directly is on its first.
            attempt: ctx.run.attempts.max(1),
        }
    }
}

/// A store failure as told in a run's `error_message`, which people read in the UI: driver
/// details stay in the server log.
pub(super) fn store_cause(e: &RepoError) -> String {
    match e {
        RepoError::NotFound => "it no longer exists or is no longer active".to_owned(),
        RepoError::Conflict(what) => format!("conflict on {what}"),
        RepoError::Unexpected(cause) => {
            tracing::error!(error = %cause, "store error during a triage run");
            "the data store failed (details are in the server log)".to_owned()
        }
    }
}

pub(super) fn flag_names(flags: &[GuardrailFlag]) -> Vec<String> {
    flags.iter().map(|f| f.as_str().to_owned()).collect()
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(super) fn millis(d: StdDuration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
