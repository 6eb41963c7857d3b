//! The reply-draft step: a reply to the customer for a person to review, written within the
//! workspace's policies and checked by the guardrails (`guardrails.rs` regenerates a flagged
//! draft once).

use std::time::Instant;

use opsflow_domain::{
    AuthorType, Category, GuardrailFlag, Priority, ReplyBody, ReplyId, ReplyPolicy, StepType,
    TenantScope, Ticket, TicketReply,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::TicketTriageWorkflow;
use super::guardrails::Guardrail;
use super::prompt::{Prompt, TicketInput, UNTRUSTED, neutralise, ticket_block};
use super::record::{RunCtx, StepRecord, flag_names, to_json};
use super::task::TriageTask;
use crate::llm::ChatMessage;

pub use opsflow_domain::ReplyDraftOutput;

/// Version of the prompt below, recorded on each step.
pub const PROMPT_VERSION: &str = "reply_draft/v1";

/// What the reply is drafted from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDraftInput {
    /// The ticket.
    #[serde(default)]
    pub ticket: TicketInput,
    /// The category the classification step chose.
    pub category: Category,
    /// The priority the priority step chose.
    pub priority: Priority,
    /// The workspace's reply policies, written by its admins (may be empty).
    #[serde(default)]
    pub policies: String,
    /// The workspace's name, to sign with when the policy sets no sign-off.
    #[serde(default)]
    pub tenant_name: String,
    /// The workspace's structured reply policies (sign-off, support hours, status page,
    /// languages, forbidden commitments). Boxed: it is the largest field of any step's input.
    #[serde(default)]
    pub policy: Box<ReplyPolicy>,
    /// On a guardrail rewrite: the commitments the first draft made and the rewrite must not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regenerate_without: Vec<GuardrailFlag>,
}

pub(super) fn prompt(input: ReplyDraftInput) -> Prompt {
    let sign_off = input.policy.sign_off.as_ref().map_or_else(
        || format!("Sign off as the {} support team.", input.tenant_name),
        |s| format!("End the reply with exactly this sign-off:\n{}", s.as_str()),
    );
    let system = format!(
        "You draft replies to customers for the support team of {tenant}. A person reviews \
         every draft before it is sent.\n\
         Write a concise, friendly reply in plain text: greet the customer by name, show you \
         understood the request, and say what the team will do next. {sign_off}\n\
         Follow the workspace's policies, given between <policies> and </policies> by the \
         workspace admins, and the workspace rules listed below them.\n\
         Never, whatever the ticket asks:\n\
         - promise prices, discounts or anything free of charge;\n\
         - commit to a specific deadline or time (\"by Friday\", \"within 24 hours\", \
         \"today\");\n\
         - promise a refund, credit or reimbursement.\n\
         When the customer asks for any of these, say the team will review the request.\n\
         Mention escalation or urgency only when the ticket's priority is urgent.\n\
         {UNTRUSTED}\n\
         Answer with only a JSON object {{\"reply_body\": \"...\"}}.",
        tenant = input.tenant_name,
    );
    let policies = if input.policies.trim().is_empty() {
        "(no specific policies)".to_owned()
    } else {
        neutralise(&input.policies)
    };
    let user = format!(
        "Category: {}\nPriority: {}\n\n<policies>\n{policies}\n</policies>\n\n\
         Workspace rules:\n{}\n\nDraft a reply to this ticket.\n\n{}",
        input.category,
        input.priority,
        policy_rules(&input.policy),
        ticket_block(&input.ticket),
    );
    Prompt {
        task: TriageTask::ReplyDraft(input),
        version: PROMPT_VERSION,
        messages: vec![ChatMessage::system(system), ChatMessage::user(user)],
    }
}

/// The structured policies as explicit instructions, one line each (set by the workspace's
/// admins, so not fenced as untrusted text).
pub(super) fn policy_rules(p: &ReplyPolicy) -> String {
    let mut rules = Vec::new();
    match &p.sign_off {
        Some(s) => rules.push(format!(
            "- Sign-off: end the reply with exactly \"{}\".",
            s.as_str().replace('\n', " / ")
        )),
        None => rules.push("- Sign-off: the workspace's team.".to_owned()),
    }
    if let Some(h) = &p.support_hours {
        rules.push(format!(
            "- Support hours: {}. When the reply promises follow-up, say when the team is \
             available; never promise an answer outside these hours.",
            h.render()
        ));
    }
    if let Some(url) = &p.status_page_url {
        rules.push(format!(
            "- Status page: {}. Link it in replies about bugs or outages of high or urgent \
             priority.",
            url.as_str()
        ));
    }
    let codes: Vec<&str> = p.languages.codes().iter().map(|c| c.as_str()).collect();
    let listed = if codes.is_empty() { "en".to_owned() } else { codes.join(", ") };
    rules.push(format!(
        "- Languages: {listed} (ISO 639-1). Write in the customer's language when it is one of \
         these; otherwise write in {}.",
        p.languages.default_code()
    ));
    let phrases: Vec<String> =
        p.forbidden_commitments.phrases().iter().map(|f| format!("\"{}\"", f.as_str())).collect();
    if !phrases.is_empty() {
        rules.push(format!(
            "- Forbidden commitments: never write {}, in any form; say the team will review \
             the request instead.",
            phrases.join(", ")
        ));
    }
    rules.join("\n")
}

/// Validation beyond the schema: the body must be a valid reply.
pub(super) fn check(output: &ReplyDraftOutput) -> Result<(), String> {
    ReplyBody::new(&output.reply_body).map(|_| ()).map_err(|e| format!("reply_body {e}"))
}

/// The step's `output_snapshot`.
#[derive(Serialize)]
struct Recorded<'a> {
    reply_body: &'a str,
    guardrail: &'a Guardrail,
}

/// This step's part of the atomic write: the draft, an unsent AI reply on the ticket.
pub(super) fn persist(
    scope: &TenantScope,
    ticket: &Ticket,
    body: ReplyBody,
    now: time::OffsetDateTime,
) -> TicketReply {
    TicketReply {
        id: ReplyId::new(),
        tenant_id: scope.tenant_id(),
        ticket_id: ticket.id,
        author_type: AuthorType::Ai,
        author_id: None,
        body,
        sent_at: None,
        created_at: now,
        updated_at: now,
    }
}

impl TicketTriageWorkflow {
    /// Runs and records the step, with one guardrail rewrite when the draft makes commitments;
    /// the error is the run's error message.
    pub(super) async fn draft_reply(
        &self,
        ctx: &RunCtx<'_>,
        input: ReplyDraftInput,
    ) -> Result<(ReplyBody, Vec<GuardrailFlag>), String> {
        let step = StepType::ReplyDraft;
        let prompt = self.prepare(prompt(input));
        let started = Instant::now();
        let first = match self.ask::<ReplyDraftOutput, _>(&prompt, check).await {
            Ok(s) => s,
            Err(f) => return Err(self.record_call_failure(ctx, step, &prompt, &f, started).await),
        };
        let checked = self.apply_guardrails(&prompt, first).await;
        let mut input = prompt.snapshot();
        if let Some(retry) = &checked.retry {
            input.regeneration = Some(Box::new(retry.snapshot()));
        }
        let input = to_json(&input);
        let body = match ReplyBody::new(&checked.body) {
            Ok(b) => b,
            Err(e) => {
                let message = format!("reply_draft step failed: the drafted reply_body {e}");
                let record = StepRecord {
                    step_type: step,
                    input,
                    output: Value::Null,
                    latency: started.elapsed(),
                    usage: checked.usage,
                    attempts: checked.attempts,
                    model: Some(checked.model),
                    prompt_version: Some(prompt.version),
                    flags: Vec::new(),
                    error: Some(message.clone()),
                };
                self.record(ctx, record).await?;
                return Err(message);
            }
        };
        let output =
            to_json(&Recorded { reply_body: body.as_str(), guardrail: &checked.guardrail });
        let record = StepRecord {
            step_type: step,
            input,
            output,
            latency: started.elapsed(),
            usage: checked.usage,
            attempts: checked.attempts,
            model: Some(checked.model),
            prompt_version: Some(prompt.version),
            flags: flag_names(&checked.flags),
            error: None,
        };
        self.record(ctx, record).await?;
        Ok((body, checked.flags))
    }
}

#[cfg(test)]
mod tests {
    use opsflow_domain::policy::{
        ClockTime, ForbiddenCommitments, Languages, SignOff, StatusPageUrl, SupportHours,
        TimeZoneName, Weekday,
    };

    use super::*;

    fn input(policy: ReplyPolicy) -> ReplyDraftInput {
        ReplyDraftInput {
            ticket: TicketInput::default(),
            category: Category::Bug,
            priority: Priority::High,
            policies: "Be brief.".to_owned(),
            tenant_name: "Acme".to_owned(),
            policy: Box::new(policy),
            regenerate_without: Vec::new(),
        }
    }

    fn texts(p: &Prompt) -> (String, String) {
        (p.messages[0].content.clone(), p.messages[1].content.clone())
    }

    #[test]
    fn structured_policies_are_explicit_instructions_next_to_the_free_text() {
        let (system, user) = texts(&prompt(input(ReplyPolicy::default())));
        assert!(system.contains("Sign off as the Acme support team."), "{system}");
        assert!(user.contains("<policies>\nBe brief.\n</policies>"), "{user}");
        assert!(user.contains("- Languages: en (ISO 639-1)"), "{user}");
        assert!(!user.contains("Forbidden commitments"), "{user}");
        assert!(!user.contains("Support hours"), "{user}");

        let policy = ReplyPolicy {
            sign_off: Some(SignOff::new("Maria, Acme Support").expect("sign-off")),
            support_hours: Some(
                SupportHours::new(
                    vec![Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday],
                    ClockTime::parse("08:00").expect("time"),
                    ClockTime::parse("16:00").expect("time"),
                    TimeZoneName::parse("America/New_York").expect("zone"),
                )
                .expect("hours"),
            ),
            status_page_url: Some(StatusPageUrl::parse("https://status.acme.test").expect("url")),
            languages: Languages::parse(&["de", "en"]).expect("languages"),
            forbidden_commitments: ForbiddenCommitments::parse(&["refund", "delivery date"])
                .expect("phrases"),
        };
        let (system, user) = texts(&prompt(input(policy)));
        assert!(system.contains("End the reply with exactly this sign-off:\nMaria, Acme Support"));
        assert!(user.contains("- Sign-off: end the reply with exactly \"Maria, Acme Support\"."));
        assert!(
            user.contains("- Support hours: Monday to Wednesday, 08:00–16:00 (America/New_York).")
        );
        assert!(user.contains("- Status page: https://status.acme.test."));
        assert!(user.contains("- Languages: de, en (ISO 639-1)"));
        assert!(user.contains("otherwise write in de."));
        assert!(user.contains("never write \"refund\", \"delivery date\", in any form"));
        assert!(
            system.contains(
                "Mention escalation or urgency only when the ticket's priority is urgent."
            )
        );
    }
}
