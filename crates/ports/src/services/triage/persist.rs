//! The persist step: the results of every model step written in one transaction (ticket patch,
//! AI draft, the step record and the run's success), each step contributing its own part.

use std::time::Instant;

use opsflow_domain::{
    AutoTriageThresholds, Category, FieldDecision, FieldOutcome, GuardrailFlag, Priority,
    ReplyBody, RunEvent, RunStatus, RunTrigger, StepType, Ticket, TicketPatch, TriageField, UserId,
    decide_field,
};
use serde::Serialize;
use serde_json::Value;

use super::record::{RunCtx, StepRecord, flag_names, millis, store_cause, to_json};
use super::{TicketTriageWorkflow, TriageResult, assignee, classification, priority, reply_draft};
use crate::error::AppResult;
use crate::llm::TokenUsage;
use crate::repos::TriageOutcome;

/// The confidence each field's step gave (`None` when it gave none).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Confidences {
    pub(super) category: Option<f64>,
    pub(super) priority: Option<f64>,
    pub(super) assignee: Option<f64>,
}

/// What the model steps produced, ready to be written.
pub(super) struct Results {
    pub(super) category: Category,
    pub(super) priority: Priority,
    pub(super) assignee: Option<UserId>,
    pub(super) confidence: Confidences,
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
    category: Option<Category>,
    priority: Option<Priority>,
    assignee_id: Option<UserId>,
}

/// The persist step's `output_snapshot`: the ticket's fields after the write, and for each
/// field whether the run's result was applied or only suggested, and why.
#[derive(Serialize)]
struct Output {
    ticket_id: String,
    category: Option<Category>,
    priority: Option<Priority>,
    assignee_id: Option<UserId>,
    assignee_changed: bool,
    draft_reply_id: String,
    guardrail_flags: Vec<String>,
    trigger: RunTrigger,
    decisions: Vec<Decision>,
}

/// One field's decision with the value the run proposed.
#[derive(Serialize)]
struct Decision {
    #[serde(flatten)]
    decision: FieldDecision,
    /// The proposed value (`category`/`priority` text, assignee user id; `null` when the run had
    /// no assignee to propose).
    value: Value,
}

/// The decision on each field: the ticket as it is now (a person may have set a field while the
/// run was under way) and the workspace thresholds decide for runs queued on arrival.
fn decisions(
    trigger: RunTrigger,
    current: &Ticket,
    thresholds: &AutoTriageThresholds,
    results: &Results,
) -> Vec<Decision> {
    let c = results.confidence;
    let fields = [
        (TriageField::Category, c.category, current.category.is_some(), to_json(&results.category)),
        (TriageField::Priority, c.priority, current.priority.is_some(), to_json(&results.priority)),
        (
            TriageField::Assignee,
            c.assignee,
            current.assignee_id.is_some(),
            to_json(&results.assignee),
        ),
    ];
    fields
        .into_iter()
        .map(|(field, confidence, set_by_person, value)| Decision {
            decision: decide_field(trigger, field, confidence, thresholds, set_by_person),
            value,
        })
        .collect()
}

fn applied(decisions: &[Decision], field: TriageField) -> bool {
    decisions
        .iter()
        .any(|d| d.decision.field == field && d.decision.outcome == FieldOutcome::Applied)
}

impl TicketTriageWorkflow {
    /// Writes the results and finishes the run; a store failure fails it instead.
    pub(super) async fn persist(
        &self,
        ctx: RunCtx<'_>,
        ticket: Ticket,
        results: Results,
    ) -> AppResult<TriageResult> {
        let started = Instant::now();
        let scope = ctx.scope;
        let trigger = ctx.run.trigger;
        // A run queued on arrival decides per field against the ticket as it is now and the
        // workspace's current thresholds; a person's run applies everything, as before.
        let (ticket, thresholds) = if trigger.is_auto() {
            match futures::try_join!(self.tickets.get(scope, ticket.id), self.tenants.get(scope)) {
                Ok((current, tenant)) => (current, tenant.auto_triage.thresholds),
                Err(e) => {
                    let message = format!(
                        "persist step failed: could not read the ticket and the workspace \
                         thresholds: {}",
                        store_cause(&e)
                    );
                    return self.fail(ctx, ticket, message).await;
                }
            }
        } else {
            (ticket, AutoTriageThresholds::default())
        };
        let decided = decisions(trigger, &ticket, &thresholds, &results);
        let Results { category, priority, assignee, body, flags, .. } = results;
        // `persist` is written by `complete_run` in the same transaction, so the state machine
        // must allow it before anything is sent.
        let succeeded = match ctx.peek(RunEvent::StepCompleted(StepType::Persist)) {
            Ok(state) => state,
            Err(message) => return self.fail(ctx, ticket, message).await,
        };
        let now = self.clock.now();
        let mut patch = TicketPatch::default();
        let category_applied = applied(&decided, TriageField::Category);
        let priority_applied = applied(&decided, TriageField::Priority);
        let assignee_applied = applied(&decided, TriageField::Assignee).then_some(assignee);
        if category_applied {
            classification::persist(&mut patch, category);
        }
        if priority_applied {
            priority::persist(&mut patch, priority);
        }
        assignee::persist(&mut patch, assignee_applied.flatten());
        let draft = reply_draft::persist(scope, &ticket, body, now);
        let (assignee_after, assignee_changed) =
            assignee::persisted(&ticket, assignee_applied.flatten());
        let input = to_json(&Input {
            patch: PatchSnapshot {
                category: category_applied.then_some(category),
                priority: priority_applied.then_some(priority),
                assignee_id: assignee_applied.flatten(),
            },
            draft_reply_id: draft.id.to_string(),
        });
        let output = to_json(&Output {
            ticket_id: ticket.id.to_string(),
            category: if category_applied { Some(category) } else { ticket.category },
            priority: if priority_applied { Some(priority) } else { ticket.priority },
            assignee_id: assignee_after,
            assignee_changed,
            draft_reply_id: draft.id.to_string(),
            guardrail_flags: flag_names(&flags),
            trigger,
            decisions: decided,
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
                if let Some(w) = &self.webhooks {
                    w.triage_completed(scope, &run, &updated).await;
                }
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
