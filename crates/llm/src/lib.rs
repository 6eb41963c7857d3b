//! LLM providers for OpsFlow Agent Desk's triage workflow: OpenAI-compatible, Anthropic, an
//! offline engine, redaction, test doubles and evaluation metrics.
//!
//! Every provider implements the [`LlmClient`] port from `opsflow-ports`; the workflow calls it
//! through [`opsflow_ports::llm::call_structured`], which validates the answer against the
//! output type and makes one repair attempt.
//!
//! # Providers
//!
//! | provider | what it is | key |
//! |---|---|---|
//! | `offline` (default) | [`OfflineEngine`]: a small deterministic classifier, rules and templates; no network | none |
//! | `openai` | [`OpenAiClient`]: Chat Completions with `response_format: json_schema` (strict); any OpenAI-compatible server (OpenAI, Azure OpenAI v1, Ollama, vLLM, llama.cpp server, OpenRouter) through the base URL | Bearer token; optional for a custom base URL |
//! | `anthropic` | [`AnthropicClient`]: the Messages API; the answer is forced through a tool call whose input schema is the output schema | `x-api-key` |
//!
//! The server maps `OPSFLOW_LLM_PROVIDER`, `_MODEL`, `_BASE_URL`, `_API_KEY`,
//! `OPSFLOW_LLM_CONNECT_TIMEOUT`, `OPSFLOW_LLM_TIMEOUT`, `OPSFLOW_LLM_MAX_RETRIES` and
//! `OPSFLOW_LLM_REDACT` onto [`LlmSettings`] and calls [`build_client`]:
//!
//! ```
//! use opsflow_llm::{LlmSettings, Provider, build_client};
//!
//! let client = build_client(&LlmSettings::default()).expect("offline needs no key");
//! assert_eq!(client.provider(), "offline");
//!
//! let missing_key = LlmSettings { provider: Provider::Anthropic, ..LlmSettings::default() };
//! assert!(build_client(&missing_key).is_err());
//! ```
//!
//! Remote providers share one reliability policy ([`HttpSettings`]): a connect timeout and a
//! per-attempt total timeout; retries with exponential backoff and full jitter on 429, 5xx,
//! timeouts and connection errors, honouring `Retry-After` (capped); other 4xx fail at once as
//! [`LlmError::Rejected`]. The response reports the attempts made and the tokens used. API keys
//! are [`secrecy::SecretString`]s and are sent as sensitive headers, never logged.
//! With `redact` on, [`Redacting`] replaces emails, phone numbers and Luhn-valid card numbers
//! with `[email]`, `[phone]` and `[card]` before anything leaves the process. The server also
//! gives [`redact::redact_text`] to the triage workflow
//! (`TicketTriageWorkflow::with_redactor`), so the prompts recorded in a run's history are the
//! redacted ones the provider received.
//!
//! # The offline engine
//!
//! Not a language model. It is a multinomial Naive Bayes text classifier over the words of the
//! ticket, trained at start-up on the 359 labelled agency support tickets committed in
//! `crates/llm/data/train.jsonl`, plus urgency and impact rules (combined with a second Naive
//! Bayes model) for priority, "agents first,
//! lowest open load" for the assignee, and category-aware reply templates (English, Spanish,
//! German) that use the customer's first name and the ticket subject, follow the workspace's
//! structured reply policies (sign-off, support hours, status page, languages, forbidden
//! commitments; never its free-text policies), and make no pricing, deadline or refund
//! promises. It is deterministic and needs no download. On the
//! held-out split (`data/heldout.jsonl`, 111 tickets never trained on) it scores category
//! macro-F1 0.91 and priority macro-F1 0.83, asserted by a test against the targets 0.80 and
//! 0.60; on unfamiliar wording expect less (5-fold cross-validation on the training split gives
//! 0.69 and 0.62). See `crates/llm/data/README.md`.
//!
//! # Test doubles
//!
//! [`ScriptedLlm`] answers from queues (per step, then global) and records every request:
//!
//! ```
//! use opsflow_domain::{ClassificationOutput, StepType};
//! use opsflow_llm::ScriptedLlm;
//! use opsflow_ports::llm::{ChatMessage, LlmError, TriageTask, call_structured};
//! use opsflow_ports::services::triage::classification::ClassificationInput;
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let llm = ScriptedLlm::new();
//! // First answer is not valid for the schema; call_structured repairs once.
//! llm.push_ok_for(StepType::Classification, json!({"category": "bugs", "reason": "typo"}))
//!     .push_ok_for(StepType::Classification, json!({"category": "bug", "reason": "error on save"}))
//!     .push_err_for(StepType::Priority, LlmError::RateLimited);
//!
//! let done = call_structured::<ClassificationOutput, _>(
//!     &llm,
//!     TriageTask::Classification(ClassificationInput::default()),
//!     vec![ChatMessage::user("Saving a page fails")],
//!     |_| Ok(()),
//! )
//! .await
//! .unwrap();
//! assert_eq!(done.output.category.as_str(), "bug");
//! assert_eq!(done.attempts, 2);
//! assert_eq!(llm.requests().len(), 2);
//! assert_eq!(llm.requests()[1].messages.len(), 3); // the repair prompt was appended
//! # });
//! ```
//!
//! The `mockall` mock of the port is re-exported as [`MockLlmClient`]:
//!
//! ```
//! use opsflow_llm::MockLlmClient;
//! use opsflow_domain::{Category, PriorityOutput};
//! use opsflow_ports::llm::{LlmClient, LlmError, LlmRequest, TriageTask};
//! use opsflow_ports::services::triage::priority::PriorityInput;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let mut mock = MockLlmClient::new();
//! mock.expect_provider().return_const("mock".to_owned());
//! mock.expect_complete()
//!     .withf(|r: &LlmRequest| matches!(r.task, TriageTask::Priority(_)))
//!     .times(1)
//!     .returning(|_| Err(LlmError::Timeout));
//!
//! let input = PriorityInput { ticket: Default::default(), category: Category::Bug };
//! let request = LlmRequest::new::<PriorityOutput>(TriageTask::Priority(input), vec![]);
//! assert_eq!(mock.complete(&request).await, Err(LlmError::Timeout));
//! assert_eq!(mock.provider(), "mock");
//! # });
//! ```
//!
//! # Evaluation
//!
//! [`eval`] loads labelled sets (JSONL or CSV with `subject`, `body`, `category`, `priority`)
//! and computes accuracy, per-class precision/recall/F1, macro-F1, confusion matrices, latency
//! percentiles and token totals for `opsflow eval`.

pub mod anthropic;
pub mod config;
pub mod eval;
pub mod offline;
pub mod openai;
pub mod redact;
pub mod schema;
pub mod scripted;
pub mod transport;

pub use anthropic::{AnthropicClient, AnthropicConfig};
pub use config::{LlmConfigError, LlmSettings, Provider, build_client};
pub use offline::OfflineEngine;
pub use openai::{OpenAiClient, OpenAiConfig};
pub use opsflow_ports::llm::{
    LlmClient, LlmError, LlmRequest, LlmResponse, MockLlmClient, TokenUsage,
};
pub use redact::Redacting;
pub use scripted::{ScriptedLlm, ScriptedReply};
pub use transport::HttpSettings;
