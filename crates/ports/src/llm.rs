//! The LLM port: one structured call, `call_llm(prompt, schema)`, provider-agnostic.
//!
//! Providers implement [`LlmClient::complete`], which returns a JSON value; [`call_structured`]
//! derives the JSON schema of the output type, calls the provider, validates the answer into the
//! type, and makes one repair attempt when the answer is invalid.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crate::services::triage::TriageTask;

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions.
    System,
    /// Input.
    User,
    /// A previous model answer (used for repair).
    Assistant,
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Speaker.
    pub role: ChatRole,
    /// Text.
    pub content: String,
}

impl ChatMessage {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: ChatRole::System, content: content.into() }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self { role: ChatRole::User, content: content.into() }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self { role: ChatRole::Assistant, content: content.into() }
    }
}

/// A structured completion request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmRequest {
    /// What is asked, keyed by triage step, with the typed data the prompt was rendered from
    /// (ticket fields, candidates, policies). Providers that do not read prompts (the offline
    /// engine, test doubles) decide by it. Serialised flat as `task` (the step name) and
    /// `context` (the input).
    #[serde(flatten)]
    pub task: TriageTask,
    /// The rendered prompt.
    pub messages: Vec<ChatMessage>,
    /// Name of the output schema (the task's name).
    pub schema_name: String,
    /// JSON schema the answer must match.
    pub schema: serde_json::Value,
}

impl LlmRequest {
    /// A request for `task` with the JSON schema of `T` as its output schema.
    #[must_use]
    pub fn new<T: JsonSchema>(task: TriageTask, messages: Vec<ChatMessage>) -> Self {
        Self { schema_name: task.name().to_owned(), task, messages, schema: schema_for::<T>() }
    }

    /// The task's wire name (`classification`, `priority`, `assignee_suggestion`,
    /// `reply_draft`).
    #[must_use]
    pub const fn task_name(&self) -> &'static str {
        self.task.name()
    }

    /// The task's input as JSON (what a step records as `input_snapshot.context`).
    #[must_use]
    pub fn context(&self) -> serde_json::Value {
        self.task.context()
    }
}

/// Tokens used by a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Prompt (input) tokens.
    pub prompt_tokens: u32,
    /// Completion (output) tokens.
    pub completion_tokens: u32,
}

impl TokenUsage {
    /// Adds another call's usage.
    #[must_use]
    pub const fn plus(self, other: Self) -> Self {
        Self {
            prompt_tokens: self.prompt_tokens.saturating_add(other.prompt_tokens),
            completion_tokens: self.completion_tokens.saturating_add(other.completion_tokens),
        }
    }
}

/// A provider's raw answer: a JSON value, not yet validated against the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmResponse {
    /// The answer.
    pub value: serde_json::Value,
    /// Tokens used (all HTTP attempts).
    pub usage: TokenUsage,
    /// The model that answered.
    pub model: String,
    /// HTTP attempts made (1 without retries).
    pub attempts: u32,
}

/// What a provider call can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer within the timeout (after retries).
    #[error("the model provider timed out")]
    Timeout,
    /// Rate limited, and retries were exhausted.
    #[error("the model provider is rate limiting requests (HTTP 429)")]
    RateLimited,
    /// The provider answered with a server error, and retries were exhausted.
    #[error("the model provider failed with HTTP {0}")]
    Server(u16),
    /// The request was rejected (bad key, bad model, 4xx).
    #[error("the model provider rejected the request: {0}")]
    Rejected(String),
    /// The connection failed.
    #[error("could not reach the model provider: {0}")]
    Transport(String),
    /// The model declined to answer.
    #[error("the model refused: {0}")]
    Refused(String),
    /// The answer was not valid JSON for the schema (after the repair attempt).
    #[error("the model's answer was invalid: {0}")]
    InvalidOutput(String),
}

impl LlmError {
    /// A short label for metrics (`timeout`, `rate_limited`, ...).
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::RateLimited => "rate_limited",
            Self::Server(_) => "server",
            Self::Rejected(_) => "rejected",
            Self::Transport(_) => "transport",
            Self::Refused(_) => "refused",
            Self::InvalidOutput(_) => "invalid_output",
        }
    }
}

/// A model provider.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait LlmClient: Send + Sync + 'static {
    /// Provider name (`offline`, `openai`, `anthropic`, `scripted`, ...).
    fn provider(&self) -> &str;

    /// Configured model name.
    fn model(&self) -> &str;

    /// One structured completion. Implementations retry transport failures, 429 and 5xx with
    /// backoff themselves and report the attempts made.
    ///
    /// # Errors
    /// Any [`LlmError`] but `InvalidOutput` (that is decided by [`call_structured`]), although a
    /// provider may return it for an answer that is not JSON at all.
    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError>;
}

/// A validated structured answer with its bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured<T> {
    /// The validated output.
    pub output: T,
    /// The raw value it was parsed from.
    pub raw: serde_json::Value,
    /// Tokens used by every call, repair included.
    pub usage: TokenUsage,
    /// Model that answered.
    pub model: String,
    /// Total provider attempts (HTTP retries and the repair call).
    pub attempts: u32,
    /// Wall time.
    pub latency: Duration,
}

/// A failed structured call, with what was spent on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct CallFailure {
    /// The provider or validation error that ended the call.
    pub error: LlmError,
    /// Attempts made.
    pub attempts: u32,
    /// Tokens used.
    pub usage: TokenUsage,
    /// The last raw answer, if any (for the step record).
    pub last_raw: Option<String>,
}

/// The JSON schema of `T`, as sent to providers.
#[must_use]
pub fn schema_for<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(serde_json::Value::Null)
}

/// The seed's `callLLM(prompt, schema)`: asks `client` for a `T`, validates the answer, and on an
/// invalid answer asks once more with the validation error (repair), then gives up.
///
/// `check` adds domain validation beyond the schema (for example, a non-empty reason).
///
/// # Errors
/// [`CallFailure`] with the provider error, or [`LlmError::InvalidOutput`] after the repair.
pub async fn call_structured<T, F>(
    client: &dyn LlmClient,
    task: TriageTask,
    messages: Vec<ChatMessage>,
    check: F,
) -> Result<Structured<T>, CallFailure>
where
    T: JsonSchema + DeserializeOwned,
    F: Fn(&T) -> Result<(), String>,
{
    let started = Instant::now();
    let mut request = LlmRequest::new::<T>(task, messages);
    let mut usage = TokenUsage::default();
    let mut attempts = 0;
    let mut last_raw = None;
    for round in 0..2 {
        let response = client.complete(&request).await.map_err(|error| CallFailure {
            error,
            attempts: attempts + 1,
            usage,
            last_raw: last_raw.clone(),
        })?;
        attempts += response.attempts.max(1);
        usage = usage.plus(response.usage);
        let raw_text = response.value.to_string();
        let parsed = serde_json::from_value::<T>(response.value.clone())
            .map_err(|e| e.to_string())
            .and_then(|v| check(&v).map(|()| v));
        match parsed {
            Ok(output) => {
                return Ok(Structured {
                    output,
                    raw: response.value,
                    usage,
                    model: response.model,
                    attempts,
                    latency: started.elapsed(),
                });
            }
            Err(problem) if round == 0 => {
                request.messages.push(ChatMessage::assistant(raw_text.clone()));
                request.messages.push(ChatMessage::user(format!(
                    "That answer was invalid: {problem}. Reply again with only a JSON object \
                     that matches the schema `{}` exactly.",
                    request.schema_name
                )));
                last_raw = Some(raw_text);
            }
            Err(problem) => {
                return Err(CallFailure {
                    error: LlmError::InvalidOutput(problem),
                    attempts,
                    usage,
                    last_raw: Some(raw_text),
                });
            }
        }
    }
    Err(CallFailure {
        error: LlmError::InvalidOutput("no answer".to_owned()),
        attempts,
        usage,
        last_raw,
    })
}

/// Applies `f` to every string in `value` except UUIDs (record ids, which must reach the model
/// intact), leaving keys and other values alone. Redaction of requests and prompts uses it.
#[must_use]
pub fn map_strings(value: &serde_json::Value, f: &dyn Fn(&str) -> String) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if uuid::Uuid::parse_str(s).is_ok() => value.clone(),
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), map_strings(v, f))).collect())
        }
        other => other.clone(),
    }
}
