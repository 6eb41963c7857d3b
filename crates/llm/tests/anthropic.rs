//! The Anthropic provider against a wiremock server: wire format, retries, failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{classify, fast_http, received};
use opsflow_domain::{Category, ReplyDraftOutput};
use opsflow_llm::{AnthropicClient, AnthropicConfig};
use opsflow_ports::llm::{ChatMessage, LlmError, TokenUsage, TriageTask, call_structured};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-ant-test-0123456789";

fn client(server: &MockServer, max_attempts: u32) -> AnthropicClient {
    AnthropicClient::new(AnthropicConfig {
        base_url: server.uri(),
        model: "claude-test".into(),
        max_tokens: 512,
        http: fast_http(max_attempts),
        ..AnthropicConfig::new(SecretString::from(KEY))
    })
    .expect("client builds")
}

fn tool_answer(input: Value) -> Value {
    json!({
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-20250929",
        "content": [
            {"type": "text", "text": "Recording the classification."},
            {"type": "tool_use", "id": "toolu_01", "name": "classification", "input": input}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 410, "output_tokens": 35}
    })
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(tool_answer(
        json!({"category": "bug", "reason": "The checkout shows an error."}),
    ))
}

#[tokio::test]
async fn sends_the_exact_body_and_reads_the_tool_call() {
    let server = MockServer::start().await;
    let expected = json!({
        "model": "claude-test",
        "max_tokens": 512,
        "system": "You triage support tickets for Acme Agency.",
        "messages": [
            {"role": "user", "content": "<ticket>The checkout page shows an error.</ticket>"}
        ],
        "tools": [{
            "name": "classification",
            "description": "Record the answer for the `classification` task. Call this tool exactly once with arguments that match the schema.",
            "input_schema": {
                "type": "object",
                "description": "Output of the classification step.",
                "properties": {
                    "category": {
                        "description": "The category.",
                        "oneOf": [
                            {"const": "bug", "description": "Something is broken.", "type": "string"},
                            {"const": "feature_request", "description": "A request for something new.", "type": "string"},
                            {"const": "billing", "description": "Invoices, payments, plans, refunds.", "type": "string"},
                            {"const": "general", "description": "Questions and how-tos.", "type": "string"},
                            {"const": "other", "description": "Anything else.", "type": "string"}
                        ]
                    },
                    "reason": {"type": "string", "description": "Why."},
                    "confidence": {
                        "type": ["number", "null"],
                        "format": "double",
                        "description": "How sure you are that this answer is right, from 0 (a guess) to 1 (certain)."
                    }
                },
                "required": ["category", "reason"],
                "additionalProperties": false
            }
        }],
        "tool_choice": {"type": "tool", "name": "classification"},
        "temperature": 0.0
    });
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(body_json(&expected))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;

    let done = classify(&client(&server, 3)).await.expect("structured answer");
    assert_eq!(done.output.category, Category::Bug);
    assert_eq!(done.usage, TokenUsage { prompt_tokens: 410, completion_tokens: 35 });
    assert_eq!(done.model, "claude-test-20250929");
    assert_eq!(done.attempts, 1);
    assert!(received(&server).await[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn several_system_messages_are_joined_and_turns_keep_their_roles() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tool_answer(
            json!({"reply_body": "Hi Dana,\n\nThanks for reporting this."}),
        )))
        .mount(&server)
        .await;
    let messages = vec![
        ChatMessage::system("Draft a reply."),
        ChatMessage::system("Never promise refunds."),
        ChatMessage::user("<ticket>Broken</ticket>"),
        ChatMessage::assistant("{\"reply_body\": 1}"),
        ChatMessage::user("That was invalid."),
    ];
    let done = call_structured::<ReplyDraftOutput, _>(
        &client(&server, 1),
        TriageTask::from_parts("reply_draft", json!({"category": "bug", "priority": "low"}))
            .expect("reply_draft task"),
        messages,
        |_| Ok(()),
    )
    .await
    .expect("reply");
    assert!(done.output.reply_body.starts_with("Hi Dana"));
    let body: Value = received(&server).await[0].body_json().expect("json");
    assert_eq!(body["system"], "Draft a reply.\n\nNever promise refunds.");
    let roles: Vec<&str> =
        body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "reply_draft"}));
    assert_eq!(body["tools"][0]["input_schema"]["required"], json!(["reply_body"]));
}

#[tokio::test]
async fn overloaded_with_retry_after_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ok()).mount(&server).await;
    let started = Instant::now();
    let done = classify(&client(&server, 3)).await.expect("retried");
    assert!(started.elapsed() >= Duration::from_millis(240), "{:?}", started.elapsed());
    assert_eq!(done.attempts, 2);
}

#[tokio::test]
async fn server_error_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(529).set_body_json(
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ok()).mount(&server).await;
    let done = classify(&client(&server, 3)).await.expect("retried");
    assert_eq!(done.attempts, 2);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_slow_provider_times_out_after_bounded_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let failure = classify(&client(&server, 3)).await.expect_err("too slow");
    assert_eq!(failure.error, LlmError::Timeout);
    assert_eq!(received(&server).await.len(), 3);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn malformed_bodies_and_answers_are_invalid_output() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"content\": [oops"))
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("broken JSON");
    assert!(matches!(failure.error, LlmError::InvalidOutput(_)), "{:?}", failure.error);
    assert_eq!(received(&server).await.len(), 1);

    // A tool call whose input violates the schema gets the one repair, then fails.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tool_answer(json!({"category": "spam"}))),
        )
        .expect(2)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("schema violation");
    assert!(matches!(failure.error, LlmError::InvalidOutput(_)), "{:?}", failure.error);
    assert_eq!((failure.attempts, failure.usage.prompt_tokens), (2, 820));
}

#[tokio::test]
async fn refusal_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "text", "text": "I can't help with that."}],
            "stop_reason": "refusal",
            "usage": {"input_tokens": 40, "output_tokens": 6}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("refused");
    assert_eq!(failure.error, LlmError::Refused("I can't help with that.".into()));
}

#[tokio::test]
async fn unauthorised_is_rejected_without_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("bad key");
    assert_eq!(failure.error, LlmError::Rejected("HTTP 401: invalid x-api-key".into()));
    assert!(!format!("{failure:?} {failure}").contains(KEY));
}
