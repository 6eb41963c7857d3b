//! Helpers shared by the provider tests.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use opsflow_domain::ClassificationOutput;
use opsflow_llm::HttpSettings;
use opsflow_ports::llm::{
    CallFailure, ChatMessage, LlmClient, Structured, TriageTask, call_structured,
};
use serde_json::{Value, json};

/// Tiny delays so retry tests are fast; a short total timeout for the timeout test.
pub fn fast_http(max_attempts: u32) -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(400),
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(250),
    }
}

pub fn messages() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("You triage support tickets for Acme Agency."),
        ChatMessage::user("<ticket>The checkout page shows an error.</ticket>"),
    ]
}

pub fn context() -> Value {
    json!({"ticket": {"subject": "Checkout error", "body": "The checkout page shows an error."}})
}

pub async fn classify(
    client: &dyn LlmClient,
) -> Result<Structured<ClassificationOutput>, CallFailure> {
    call_structured::<ClassificationOutput, _>(
        client,
        TriageTask::from_parts("classification", context()).expect("classification task"),
        messages(),
        |_| Ok(()),
    )
    .await
}

/// The strict-mode schema every provider test expects for `ClassificationOutput`.
pub fn strict_classification_schema() -> Value {
    json!({
        "type": "object",
        "description": "Output of the classification step.",
        "properties": {
            "category": {
                "type": "string",
                "description": "The category.",
                "enum": ["bug", "feature_request", "billing", "general", "other"]
            },
            "reason": {"type": "string", "description": "Why."},
            "confidence": {
                "type": ["number", "null"],
                "description": "How sure you are that this answer is right, from 0 (a guess) to 1 (certain)."
            }
        },
        "required": ["category", "confidence", "reason"],
        "additionalProperties": false
    })
}

pub async fn received(server: &wiremock::MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.expect("request recording is on")
}
