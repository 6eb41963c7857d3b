//! Guardrail retries of the reply draft: a draft that makes commitments the team may not make
//! on its own (prices, deadlines, refunds, the workspace's forbidden commitments) is
//! regenerated once; flags that remain are kept and
//! shown to the person who reviews the draft.

use opsflow_domain::GuardrailFlag;
use opsflow_domain::guardrails::check_reply_with;
use opsflow_domain::policy::ForbiddenCommitments;
use serde::Serialize;
use serde_json::Value;

use super::TicketTriageWorkflow;
use super::prompt::Prompt;
use super::record::flag_names;
use super::reply_draft::{self, ReplyDraftInput, ReplyDraftOutput};
use super::task::TriageTask;
use crate::llm::{ChatMessage, Structured, TokenUsage};

/// What the guardrails did, recorded as `guardrail` in the step's output.
#[derive(Debug, Serialize)]
pub(super) struct Guardrail {
    initial_flags: Vec<String>,
    regenerated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    regeneration_error: Option<String>,
    remaining_flags: Vec<String>,
}

/// A draft after the guardrails, with what both calls spent.
pub(super) struct Checked {
    pub(super) body: String,
    pub(super) flags: Vec<GuardrailFlag>,
    pub(super) guardrail: Guardrail,
    /// The rewrite request, when one was made.
    pub(super) retry: Option<Prompt>,
    pub(super) usage: TokenUsage,
    pub(super) attempts: u32,
    pub(super) model: String,
}

/// The request to rewrite a flagged draft without the commitments found.
fn regenerate(first: &Prompt, draft: &Value, flags: &[GuardrailFlag]) -> Prompt {
    let forbidden = forbidden_of(first);
    let found: Vec<String> = flags
        .iter()
        .map(|f| match f {
            GuardrailFlag::PricingPromise => {
                "pricing_promise (a price, discount or free offer)".to_owned()
            }
            GuardrailFlag::HardDeadline => "hard_deadline (a specific deadline or time)".to_owned(),
            GuardrailFlag::RefundCommitment => {
                "refund_commitment (a refund, credit or reimbursement promise)".to_owned()
            }
            GuardrailFlag::ForbiddenCommitment => {
                let text = draft.get("reply_body").and_then(Value::as_str).unwrap_or_default();
                let phrases: Vec<String> = forbidden
                    .found_in(text)
                    .iter()
                    .map(|p| format!("\"{}\"", p.as_str()))
                    .collect();
                format!("forbidden_commitment (the workspace forbids {})", phrases.join(", "))
            }
        })
        .collect();
    let mut messages = first.messages.clone();
    messages.push(ChatMessage::assistant(draft.to_string()));
    messages.push(ChatMessage::user(format!(
        "That draft makes commitments the support team may not make on its own: {}. Rewrite \
         the reply without them (say the team will review the request instead) and answer \
         with only a JSON object {{\"reply_body\": \"...\"}}.",
        found.join("; ")
    )));
    let task = match &first.task {
        TriageTask::ReplyDraft(input) => TriageTask::ReplyDraft(ReplyDraftInput {
            regenerate_without: flags.to_vec(),
            ..input.clone()
        }),
        // Only reply drafts are regenerated; any other task is resent as it was.
        other => other.clone(),
    };
    Prompt { task, version: first.version, messages }
}

/// The workspace's forbidden commitments the draft was asked under.
fn forbidden_of(prompt: &Prompt) -> ForbiddenCommitments {
    match &prompt.task {
        TriageTask::ReplyDraft(input) => input.policy.forbidden_commitments.clone(),
        _ => ForbiddenCommitments::default(),
    }
}

impl TicketTriageWorkflow {
    /// Checks the first draft and, when it is flagged, asks once for a rewrite. A failed
    /// rewrite keeps the first draft: a person reviews it with its flags shown.
    pub(super) async fn apply_guardrails(
        &self,
        prompt: &Prompt,
        first: Structured<ReplyDraftOutput>,
    ) -> Checked {
        let forbidden = forbidden_of(prompt);
        let initial_flags = check_reply_with(&first.output.reply_body, &forbidden);
        let mut checked = Checked {
            body: String::new(),
            flags: Vec::new(),
            guardrail: Guardrail {
                initial_flags: flag_names(&initial_flags),
                regenerated: false,
                regeneration_error: None,
                remaining_flags: Vec::new(),
            },
            retry: None,
            usage: first.usage,
            attempts: first.attempts,
            model: first.model.clone(),
        };
        if initial_flags.is_empty() {
            checked.body = first.output.reply_body;
            checked.flags = initial_flags;
        } else {
            let retry = self.prepare(regenerate(prompt, &first.raw, &initial_flags));
            checked.guardrail.regenerated = true;
            match self.ask::<ReplyDraftOutput, _>(&retry, reply_draft::check).await {
                Ok(second) => {
                    checked.usage = checked.usage.plus(second.usage);
                    checked.attempts = checked.attempts.saturating_add(second.attempts);
                    checked.model = second.model;
                    checked.flags = check_reply_with(&second.output.reply_body, &forbidden);
                    checked.body = second.output.reply_body;
                }
                Err(f) => {
                    checked.usage = checked.usage.plus(f.usage);
                    checked.attempts = checked.attempts.saturating_add(f.attempts);
                    checked.guardrail.regeneration_error = Some(f.error.to_string());
                    checked.body = first.output.reply_body;
                    checked.flags = initial_flags;
                }
            }
            checked.retry = Some(retry);
        }
        checked.guardrail.remaining_flags = flag_names(&checked.flags);
        checked
    }
}
