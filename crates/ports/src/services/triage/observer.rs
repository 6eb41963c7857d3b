//! The metrics observer of the workflow: measurements the HTTP crate exports to Prometheus.

use std::time::Duration as StdDuration;

use opsflow_domain::{RunStatus, StepType};

/// Receives workflow measurements (the HTTP crate exports them as Prometheus metrics).
///
/// Every method has an empty default body, so an implementation overrides only what it records.
pub trait TriageObserver: Send + Sync + 'static {
    /// A run reached `succeeded` or `failed` after `duration` of execution.
    fn run_finished(&self, status: RunStatus, duration: StdDuration) {
        let _ = (status, duration);
    }

    /// A step finished. `provider` is the LLM provider name, or `store` for `persist`.
    fn step_finished(&self, step: StepType, provider: &str, latency: StdDuration, succeeded: bool) {
        let _ = (step, provider, latency, succeeded);
    }

    /// A structured model call failed; `kind` is [`crate::llm::LlmError::kind`].
    fn llm_error(&self, provider: &str, kind: &'static str) {
        let _ = (provider, kind);
    }

    /// A structured model call needed `retries` provider attempts beyond the first (HTTP
    /// retries and the repair call).
    fn llm_retries(&self, provider: &str, retries: u32) {
        let _ = (provider, retries);
    }

    /// Tokens spent by one structured model call, successful or not.
    fn tokens(&self, provider: &str, prompt_tokens: u32, completion_tokens: u32) {
        let _ = (provider, prompt_tokens, completion_tokens);
    }
}

/// An observer that records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl TriageObserver for NoopObserver {}
