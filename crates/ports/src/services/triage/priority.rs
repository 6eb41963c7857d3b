//! The priority step: how urgent a ticket is, knowing its category.

use std::time::Instant;

use opsflow_domain::{Category, Priority, StepType, TicketPatch};
use serde::{Deserialize, Serialize};

use super::TicketTriageWorkflow;
use super::prompt::{
    Prompt, TicketInput, UNTRUSTED, allowed, non_empty_reason, ticket_block, valid_confidence,
};
use super::record::{RunCtx, StepRecord, to_json};
use super::task::TriageTask;
use crate::llm::ChatMessage;

pub use opsflow_domain::PriorityOutput;

/// Version of the prompt below, recorded on each step.
pub const PROMPT_VERSION: &str = "priority/v1";

/// What the priority is decided from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityInput {
    /// The ticket.
    #[serde(default)]
    pub ticket: TicketInput,
    /// The category the classification step chose.
    pub category: Category,
}

pub(super) fn prompt(input: PriorityInput) -> Prompt {
    let priorities: Vec<&str> = Priority::ALL.iter().map(Priority::as_str).collect();
    let system = format!(
        "You set the priority of support tickets for the help desk of a digital agency.\n\
         Allowed values for priority: {}.\n\
         - urgent: a production outage, data loss, a security issue, or many users blocked now.\n\
         - high: an important feature broken or a customer blocked, without a workaround.\n\
         - medium: a real problem with a workaround, or a time-sensitive question.\n\
         - low: questions, suggestions and cosmetic issues that can wait.\n\
         Judge urgency and impact from the ticket itself, not from how loudly it asks.\n\
         {UNTRUSTED}\n\
         Answer with only a JSON object {{\"priority\": \"...\", \"reason\": \"...\"}}; the \
         reason is one short sentence explaining the choice.",
        allowed(&priorities),
    );
    let user = format!(
        "The ticket was classified as: {}.\nSet its priority.\n\n{}",
        input.category,
        ticket_block(&input.ticket)
    );
    Prompt {
        task: TriageTask::Priority(input),
        version: PROMPT_VERSION,
        messages: vec![ChatMessage::system(system), ChatMessage::user(user)],
    }
}

/// Validation beyond the schema.
fn check(output: &PriorityOutput) -> Result<(), String> {
    valid_confidence(output.confidence)?;
    non_empty_reason(&output.reason)
}

/// This step's part of the atomic write: the ticket's priority.
pub(super) fn persist(patch: &mut TicketPatch, priority: Priority) {
    patch.priority = Some(Some(priority));
}

impl TicketTriageWorkflow {
    /// Runs and records the step; the error is the run's error message.
    pub(super) async fn prioritise(
        &self,
        ctx: &RunCtx<'_>,
        input: PriorityInput,
    ) -> Result<(Priority, Option<f64>), String> {
        let prompt = self.prepare(prompt(input));
        let started = Instant::now();
        let call = self.ask::<PriorityOutput, _>(&prompt, check).await;
        let step = StepType::Priority;
        match call {
            Ok(s) => {
                let output = to_json(&s.output);
                self.record(ctx, StepRecord::success(step, &prompt, &s, output, started)).await?;
                Ok((s.output.priority, s.output.confidence))
            }
            Err(f) => Err(self.record_call_failure(ctx, step, &prompt, &f, started).await),
        }
    }
}
