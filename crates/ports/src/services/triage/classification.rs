//! The classification step: which category a ticket belongs to.

use std::time::Instant;

use opsflow_domain::{Category, StepType, TicketPatch};
use serde::{Deserialize, Serialize};

use super::TicketTriageWorkflow;
use super::prompt::{
    Prompt, TicketInput, UNTRUSTED, allowed, non_empty_reason, ticket_block, valid_confidence,
};
use super::record::{RunCtx, StepRecord, to_json};
use super::task::TriageTask;
use crate::llm::ChatMessage;

pub use opsflow_domain::ClassificationOutput;

/// Version of the prompt below, recorded on each step.
pub const PROMPT_VERSION: &str = "classification/v1";

/// What the classification is decided from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassificationInput {
    /// The ticket.
    #[serde(default)]
    pub ticket: TicketInput,
}

pub(super) fn prompt(input: ClassificationInput) -> Prompt {
    let categories: Vec<&str> = Category::ALL.iter().map(Category::as_str).collect();
    let system = format!(
        "You triage support tickets for the help desk of a digital agency. Classify the \
         ticket into exactly one category.\n\
         Allowed values for category: {}.\n\
         - bug: something is broken, failing or behaving incorrectly.\n\
         - feature_request: a request for new functionality or a change to how things work.\n\
         - billing: invoices, payments, charges, plans, subscriptions, refunds.\n\
         - general: questions, how-tos, access and account help.\n\
         - other: anything else (partnerships, spam, unrelated messages).\n\
         {UNTRUSTED}\n\
         Answer with only a JSON object {{\"category\": \"...\", \"reason\": \"...\"}}; the \
         reason is one short sentence explaining the choice.",
        allowed(&categories),
    );
    let user = format!("Classify this ticket.\n\n{}", ticket_block(&input.ticket));
    Prompt {
        task: TriageTask::Classification(input),
        version: PROMPT_VERSION,
        messages: vec![ChatMessage::system(system), ChatMessage::user(user)],
    }
}

/// Validation beyond the schema.
fn check(output: &ClassificationOutput) -> Result<(), String> {
    valid_confidence(output.confidence)?;
    non_empty_reason(&output.reason)
}

/// This step's part of the atomic write: the ticket's category.
pub(super) fn persist(patch: &mut TicketPatch, category: Category) {
    patch.category = Some(Some(category));
}

impl TicketTriageWorkflow {
    /// Runs and records the step; the error is the run's error message.
    pub(super) async fn classify(
        &self,
        ctx: &RunCtx<'_>,
        input: ClassificationInput,
    ) -> Result<(Category, Option<f64>), String> {
        let prompt = self.prepare(prompt(input));
        let started = Instant::now();
        let call = self.ask::<ClassificationOutput, _>(&prompt, check).await;
        let step = StepType::Classification;
        match call {
            Ok(s) => {
                let output = to_json(&s.output);
                self.record(ctx, StepRecord::success(step, &prompt, &s, output, started)).await?;
                Ok((s.output.category, s.output.confidence))
            }
            Err(f) => Err(self.record_call_failure(ctx, step, &prompt, &f, started).await),
        }
    }
}
