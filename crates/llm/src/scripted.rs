//! `ScriptedLlm`: a test double that answers from a queue of scripted responses and records
//! every request it received.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use opsflow_ports::llm::{LlmClient, LlmError, LlmRequest, LlmResponse, TokenUsage};
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
    by_task: HashMap<String, VecDeque<ScriptedReply>>,
    global: VecDeque<ScriptedReply>,
    requests: Vec<LlmRequest>,
    default_delay: Option<Duration>,
}

/// A fake [`LlmClient`] for tests: answers come from queues, first the queue of the request's
/// task, then the global queue; when both are empty the call fails with
/// [`LlmError::Rejected`] naming the task, so an unexpected call is visible in the test.
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

    fn lock(&self) -> MutexGuard<'_, Script> {
        // A panicking test thread must not hide the script from the others.
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues an answer for any task.
    pub fn push(&self, reply: ScriptedReply) -> &Self {
        self.lock().global.push_back(reply);
        self
    }

    /// Queues an answer for requests whose `task` is `task`.
    pub fn push_for(&self, task: &str, reply: ScriptedReply) -> &Self {
        self.lock().by_task.entry(task.to_owned()).or_default().push_back(reply);
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

    /// Queues a successful answer for `task`.
    pub fn push_ok_for(&self, task: &str, value: Value) -> &Self {
        self.push_for(task, ScriptedReply::ok(value))
    }

    /// Queues a failure for `task`.
    pub fn push_err_for(&self, task: &str, error: LlmError) -> &Self {
        self.push_for(task, ScriptedReply::err(error))
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.lock().requests.clone()
    }

    /// The tasks of the requests received so far, in order.
    #[must_use]
    pub fn tasks(&self) -> Vec<String> {
        self.lock().requests.iter().map(|r| r.task_name().to_owned()).collect()
    }

    /// Answers still queued (all tasks).
    #[must_use]
    pub fn remaining(&self) -> usize {
        let script = self.lock();
        script.global.len() + script.by_task.values().map(VecDeque::len).sum::<usize>()
    }
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
                .by_task
                .get_mut(request.task_name())
                .and_then(VecDeque::pop_front)
                .or_else(|| script.global.pop_front());
            let delay = reply.as_ref().and_then(|r| r.delay).or(script.default_delay);
            (reply, delay)
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let reply = reply.ok_or_else(|| {
            LlmError::Rejected(format!(
                "ScriptedLlm has no scripted answer left for task `{}`",
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
            .push_ok_for("priority", json!({"n": "priority"}))
            .push_err_for("priority", LlmError::Timeout);
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
        assert_eq!(llm.tasks(), ["priority", "priority", "priority", "classification"]);
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
