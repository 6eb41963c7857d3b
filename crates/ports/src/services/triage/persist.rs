//! The persist step: the results of every model step written in one transaction (ticket patch,
//! AI draft, the step record and the run's success), each step contributing its own part.

use std::time::Instant;

use opsflow_domain::{
    Category, GuardrailFlag, Priority, ReplyBody, RunEvent, RunStatus, StepType, Ticket,
    TicketPatch, UserId,
};
use serde::Serialize;
use serde_json::Value;

use super::record::{RunCtx, StepRecord, flag_names, millis, store_cause, to_json};
use super::{TicketTriageWorkflow, TriageResult, assignee, classification, priority, reply_draft};
use crate::error::AppResult;
use crate::llm::TokenUsage;
use crate::repos::TriageOutcome;

/// What the model steps produced, ready to be written.
pub(super) struct Results {
    pub(super) category: Category,
    pub(super) priority: Priority,
    pub(super) assignee: Option<UserId>,
    pub(super) body: ReplyBody,
    pub(super) flags: Vec<GuardrailFlag>,
}

/// The persist step's `input_snapshot`.
#[derive(Serialize)]
struct Input {
    patch: PatchSnapshot,
    draft_reply_id: String,
}

#[derive(Serialize)]
struct PatchSnapshot {
    category: Category,
    priority: Priority,
    assignee_id: Option<UserId>,
}

/// The persist step's `output_snapshot`.
#[derive(Serialize)]
struct Output {
    ticket_id: String,
    category: Category,
    priority: Priority,
    assignee_id: Option<UserId>,
    assignee_changed: bool,
    draft_reply_id: String,
    guardrail_flags: Vec<String>,
}

impl TicketTriageWorkflow {
    /// Writes the results and finishes the run; a store failure fails it instead.
    pub(super) async fn persist(
        &self,
        ctx: RunCtx<'_>,
        ticket: Ticket,
        results: Results,
    ) -> AppResult<TriageResult> {
        let Results { category, priority, assignee, body, flags } = results;
        let started = Instant::now();
        let scope = ctx.scope;
        // `persist` is written by `complete_run` in the same transaction, so the state machine
        // must allow it before anything is sent.
        let succeeded = match ctx.peek(RunEvent::StepCompleted(StepType::Persist)) {
            Ok(state) => state,
            Err(message) => return self.fail(ctx, ticket, message).await,
        };
        let now = self.clock.now();
        let mut patch = TicketPatch::default();
        classification::persist(&mut patch, category);
        priority::persist(&mut patch, priority);
        assignee::persist(&mut patch, assignee);
        let draft = reply_draft::persist(scope, &ticket, body, now);
        let (assignee_after, assignee_changed) = assignee::persisted(&ticket, assignee);
        let input = to_json(&Input {
            patch: PatchSnapshot { category, priority, assignee_id: assignee },
            draft_reply_id: draft.id.to_string(),
        });
        let output = to_json(&Output {
            ticket_id: ticket.id.to_string(),
            category,
            priority,
            assignee_id: assignee_after,
            assignee_changed,
            draft_reply_id: draft.id.to_string(),
            guardrail_flags: flag_names(&flags),
        });
        let record = StepRecord {
            step_type: StepType::Persist,
            input: input.clone(),
            output,
            latency: started.elapsed(),
            usage: TokenUsage::default(),
            attempts: 1,
            model: None,
            prompt_version: None,
            flags: Vec::new(),
            error: None,
        };
        let persist_step = record.into_step(&ctx, None, now);
        let outcome = TriageOutcome { patch, draft: draft.clone(), persist_step };
        match self.runs.complete_run(scope, ctx.run.id, &outcome, now).await {
            Ok(updated) => {
                ctx.set_state(succeeded);
                self.step_logged(&ctx, &outcome.persist_step, "store");
                ctx.push_step(outcome.persist_step);
                let tokens = ctx.tokens();
                let elapsed = ctx.started.elapsed();
                self.observer.run_finished(RunStatus::Succeeded, elapsed);
                tracing::info!(
                    tenant_id = %scope.tenant_id(),
                    ticket_id = %ctx.run.ticket_id,
                    workflow_run_id = %ctx.run.id,
                    latency_ms = millis(elapsed),
                    prompt_tokens = tokens.prompt_tokens,
                    completion_tokens = tokens.completion_tokens,
                    guardrail_flags = flags.len(),
                    outcome = "succeeded",
                    "triage run finished"
                );
                let mut run = ctx.run.clone();
                run.status = RunStatus::Succeeded;
                run.finished_at = Some(now);
                run.error_message = None;
                let steps = ctx.take_steps();
                Ok(TriageResult {
                    run,
                    ticket: updated,
                    draft: Some(draft),
                    steps,
                    guardrail_flags: flags,
                })
            }
            Err(e) => {
                let message = format!(
                    "persist step failed: could not save the triage result: {}",
                    store_cause(&e)
                );
                let failed = StepRecord {
                    step_type: StepType::Persist,
                    input,
                    output: Value::Null,
                    latency: started.elapsed(),
                    usage: TokenUsage::default(),
                    attempts: 1,
                    model: None,
                    prompt_version: None,
                    flags: Vec::new(),
                    error: Some(message.clone()),
                };
                // Best effort: the store just failed, and the run's error message says it all.
                if let Err(record_error) = self.record(&ctx, failed).await {
                    tracing::warn!(
                        workflow_run_id = %ctx.run.id,
                        error = %record_error,
                        "could not record the failed persist step"
                    );
                }
                self.fail(ctx, ticket, message).await
            }
        }
    }
}
