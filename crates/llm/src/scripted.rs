//! `ScriptedLlm`: a test double that answers from queues of scripted responses, keyed by triage
//! step, and records every request it received. With [`ScriptedLlm::with_valid_defaults`] it
//! answers every step it has no script for with a valid answer built from the request's typed
//! input, one match arm per [`TriageTask`] variant, so a new step cannot be forgotten here.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use opsflow_domain::{
    AssigneeOutput, Category, ClassificationOutput, Priority, PriorityOutput, ReplyDraftOutput,
    StepType,
};
use opsflow_ports::llm::{LlmClient, LlmError, LlmRequest, LlmResponse, TokenUsage, TriageTask};
use serde_json::Value;

/// One scripted answer: a value or an error, with optional delay and usage.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedReply {
    result: Result<Value, LlmError>,
    delay: Option<Duration>,
    usage: TokenUsage,
    attempts: u32,
}

impl ScriptedReply {
    /// Answers with `value`.
    #[must_use]
    pub fn ok(value: Value) -> Self {
        Self { result: Ok(value), delay: None, usage: TokenUsage::default(), attempts: 1 }
    }

    /// Fails with `error`.
    #[must_use]
    pub fn err(error: LlmError) -> Self {
        Self { result: Err(error), delay: None, usage: TokenUsage::default(), attempts: 1 }
    }

    /// Waits `delay` before answering (to test timeouts, concurrency, latency figures).
    #[must_use]
    pub const fn after(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Reports this token usage.
    #[must_use]
    pub const fn with_usage(mut self, prompt_tokens: u32, completion_tokens: u32) -> Self {
        self.usage = TokenUsage { prompt_tokens, completion_tokens };
        self
    }

    /// Reports this many HTTP attempts (as if the provider had retried).
    #[must_use]
    pub const fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }
}

#[derive(Debug, Default)]
struct Script {
    by_step: HashMap<StepType, VecDeque<ScriptedReply>>,
    global: VecDeque<ScriptedReply>,
    requests: Vec<LlmRequest>,
    default_delay: Option<Duration>,
    valid_defaults: bool,
}

/// A fake [`LlmClient`] for tests: answers come from queues, first the queue of the request's
/// step, then the global queue; when both are empty the call fails with
/// [`LlmError::Rejected`] naming the step, so an unexpected call is visible in the test (or,
/// after [`ScriptedLlm::with_valid_defaults`], gets [`default_answer`]).
///
/// All methods take `&self`, so the fake can be shared (`Arc<ScriptedLlm>`) between the code
/// under test and the test's assertions.
#[derive(Debug)]
pub struct ScriptedLlm {
    model: String,
    script: Mutex<Script>,
}

impl Default for ScriptedLlm {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedLlm {
    /// An empty script; provider `scripted`, model `scripted-v1`.
    #[must_use]
    pub fn new() -> Self {
        Self { model: "scripted-v1".to_owned(), script: Mutex::new(Script::default()) }
    }

    /// Reports `model` as the model name.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Delays every answer that has no delay of its own.
    #[must_use]
    pub fn with_delay(self, delay: Duration) -> Self {
        self.lock().default_delay = Some(delay);
        self
    }

    /// Answers every call that finds no scripted answer with [`default_answer`] instead of an
    /// error: for tests that script only the step they look at.
    #[must_use]
    pub fn with_valid_defaults(self) -> Self {
        self.lock().valid_defaults = true;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Script> {
        // A panicking test thread must not hide the script from the others.
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an answer for any task.
    pub fn push(&self, reply: ScriptedReply) -> &Self {
        self.lock().global.push_back(reply);
        self
    }

    /// Queues an answer for requests of `step`.
    pub fn push_for(&self, step: StepType, reply: ScriptedReply) -> &Self {
        self.lock().by_step.entry(step).or_default().push_back(reply);
        self
    }

    /// Queues a successful answer for any task.
    pub fn push_ok(&self, value: Value) -> &Self {
        self.push(ScriptedReply::ok(value))
    }

    /// Queues a failure for any task.
    pub fn push_err(&self, error: LlmError) -> &Self {
        self.push(ScriptedReply::err(error))
    }

    /// Queues a successful answer for `step`.
    pub fn push_ok_for(&self, step: StepType, value: Value) -> &Self {
        self.push_for(step, ScriptedReply::ok(value))
    }

    /// Queues a failure for `step`.
    pub fn push_err_for(&self, step: StepType, error: LlmError) -> &Self {
        self.push_for(step, ScriptedReply::err(error))
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.lock().requests.clone()
    }

    /// The steps of the requests received so far, in order.
    #[must_use]
    pub fn tasks(&self) -> Vec<StepType> {
        self.lock().requests.iter().map(|r| r.task.step()).collect()
    }

    /// Answers still queued (all tasks).
    #[must_use]
    pub fn remaining(&self) -> usize {
        let script = self.lock();
        script.global.len() + script.by_step.values().map(VecDeque::len).sum::<usize>()
    }
}

/// A valid answer to `task`, built from its typed input: category `general`, priority `medium`,
/// the first candidate as assignee (none when the team is empty), and a short reply that greets
/// the customer by name. It passes the step's schema and validation.
#[must_use]
pub fn default_answer(task: &TriageTask) -> Value {
    const WHY: &str = "Scripted default answer.";
    let answer = match task {
        TriageTask::Classification(_) => serde_json::to_value(ClassificationOutput {
            category: Category::General,
            reason: WHY.to_owned(),
        }),
        TriageTask::Priority(_) => serde_json::to_value(PriorityOutput {
            priority: Priority::Medium,
            reason: WHY.to_owned(),
        }),
        TriageTask::AssigneeSuggestion(input) => serde_json::to_value(AssigneeOutput {
            assignee_user_id: input.candidates.first().map(|c| c.id.clone()),
            reason: WHY.to_owned(),
        }),
        TriageTask::ReplyDraft(input) => serde_json::to_value(ReplyDraftOutput {
            reply_body: format!(
                "Hi {},\n\nThank you for writing to us. We are looking into your request and \
                 will get back to you shortly.\n\nBest regards",
                input.ticket.customer_name
            ),
        }),
    };
    answer.unwrap_or(Value::Null)
}

#[async_trait]
impl LlmClient for ScriptedLlm {
    fn provider(&self) -> &str {
        "scripted"
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let (reply, delay) = {
            let mut script = self.lock();
            script.requests.push(request.clone());
            let reply = script
                .by_step
                .get_mut(&request.task.step())
                .and_then(VecDeque::pop_front)
                .or_else(|| script.global.pop_front())
                .or_else(|| {
                    script.valid_defaults.then(|| ScriptedReply::ok(default_answer(&request.task)))
                });
            let delay = reply.as_ref().and_then(|r| r.delay).or(script.default_delay);
            (reply, delay)
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let reply = reply.ok_or_else(|| {
            LlmError::Rejected(format!(
                "ScriptedLlm has no scripted answer left for step `{}`",
                request.task_name()
            ))
        })?;
        let value = reply.result?;
        Ok(LlmResponse {
            value,
            usage: reply.usage,
            model: self.model.clone(),
            attempts: reply.attempts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsflow_ports::llm::TriageTask;
    use serde_json::json;

    fn request(task: &str) -> LlmRequest {
        let context = if task == "priority" { json!({"category": "bug"}) } else { json!({}) };
        LlmRequest {
            task: TriageTask::from_parts(task, context).expect("a task"),
            messages: vec![],
            schema_name: task.to_owned(),
            schema: json!({}),
        }
    }

    #[tokio::test]
    async fn task_queues_come_before_the_global_queue() {
        let llm = ScriptedLlm::new();
        llm.push_ok(json!({"n": "global"}))
            .push_ok_for(StepType::Priority, json!({"n": "priority"}))
            .push_err_for(StepType::Priority, LlmError::Timeout);
        assert_eq!(llm.remaining(), 3);
        let a = llm.complete(&request("priority")).await.expect("first");
        assert_eq!(a.value["n"], "priority");
        assert_eq!(llm.complete(&request("priority")).await, Err(LlmError::Timeout));
        let c = llm.complete(&request("priority")).await.expect("falls back to global");
        assert_eq!(c.value["n"], "global");
        let exhausted = llm.complete(&request("classification")).await;
        assert!(
            matches!(&exhausted, Err(LlmError::Rejected(m)) if m.contains("classification")),
            "{exhausted:?}"
        );
        assert_eq!(
            llm.tasks(),
            [StepType::Priority, StepType::Priority, StepType::Priority, StepType::Classification]
        );
    }

    fn task(name: &str, context: serde_json::Value) -> LlmRequest {
        LlmRequest {
            task: TriageTask::from_parts(name, context).expect("a task"),
            messages: vec![],
            schema_name: name.to_owned(),
            schema: json!({}),
        }
    }

    #[tokio::test]
    async fn valid_defaults_answer_each_step_with_its_output_type_after_the_script() {
        let llm = ScriptedLlm::new().with_valid_defaults();
        llm.push_ok_for(StepType::Priority, json!({"priority": "urgent", "reason": "scripted"}));
        let scripted = llm.complete(&request("priority")).await.expect("scripted");
        assert_eq!(scripted.value["priority"], "urgent", "the script comes first");

        let priority = llm.complete(&request("priority")).await.expect("default").value;
        let priority: PriorityOutput = serde_json::from_value(priority).expect("priority");
        assert_eq!(priority.priority, Priority::Medium);
        let category = llm.complete(&request("classification")).await.expect("default").value;
        let category: ClassificationOutput = serde_json::from_value(category).expect("category");
        assert_eq!(category.category, Category::General);

        let candidates = json!({"candidates": [
            {"id": "7a1c0f43-5d55-4d1e-9a39-3f3f8f5b2b11", "name": "Bo", "role": "agent", "open_tickets": 2},
            {"id": "0b8f4e2e-9d8e-4c55-8f43-54c1b8f0c9a2", "name": "Cy", "role": "admin", "open_tickets": 0}
        ]});
        let assignee = llm.complete(&task("assignee_suggestion", candidates)).await.expect("a");
        let assignee: AssigneeOutput = serde_json::from_value(assignee.value).expect("assignee");
        assert_eq!(
            assignee.assignee_user_id.as_deref(),
            Some("7a1c0f43-5d55-4d1e-9a39-3f3f8f5b2b11")
        );
        let nobody = llm.complete(&task("assignee_suggestion", json!({}))).await.expect("none");
        assert_eq!(nobody.value["assignee_user_id"], serde_json::Value::Null);

        let context = json!({
            "ticket": {"subject": "Login", "body": "It fails", "channel": "web",
                       "customer_name": "Ann Lee", "customer_email": "ann@example.com"},
            "category": "bug", "priority": "high"
        });
        let draft = llm.complete(&task("reply_draft", context)).await.expect("draft").value;
        let draft: ReplyDraftOutput = serde_json::from_value(draft).expect("draft");
        assert!(draft.reply_body.starts_with("Hi Ann Lee,"), "{}", draft.reply_body);
        assert_eq!(llm.remaining(), 0);
    }

    #[tokio::test]
    async fn without_valid_defaults_an_unscripted_step_is_an_error() {
        let llm = ScriptedLlm::new();
        let e =
            llm.complete(&task("reply_draft", json!({"category": "bug", "priority": "low"}))).await;
        assert!(matches!(&e, Err(LlmError::Rejected(m)) if m.contains("reply_draft")), "{e:?}");
    }

    #[tokio::test]
    async fn usage_attempts_and_delay_are_reported() {
        let llm = ScriptedLlm::new().with_model("m1");
        llm.push(
            ScriptedReply::ok(json!({}))
                .with_usage(10, 4)
                .with_attempts(2)
                .after(Duration::from_millis(30)),
        );
        let started = std::time::Instant::now();
        let r = llm.complete(&request("classification")).await.expect("answer");
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert_eq!(r.usage, TokenUsage { prompt_tokens: 10, completion_tokens: 4 });
        assert_eq!((r.attempts, r.model.as_str()), (2, "m1"));
    }
}
