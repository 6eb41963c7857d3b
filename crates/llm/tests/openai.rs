//! The OpenAI-compatible provider against a wiremock server: wire format, retries, failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{classify, fast_http, received, strict_classification_schema};
use opsflow_domain::Category;
use opsflow_llm::{OpenAiClient, OpenAiConfig};
use opsflow_ports::llm::{LlmError, TokenUsage};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-0123456789";

fn client(server: &MockServer, max_attempts: u32) -> OpenAiClient {
    OpenAiClient::new(OpenAiConfig {
        base_url: format!("{}/v1/", server.uri()),
        model: "gpt-test".into(),
        http: fast_http(max_attempts),
        ..OpenAiConfig::new(Some(SecretString::from(KEY)))
    })
    .expect("client builds")
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-test-2025",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 18, "total_tokens": 138}
    })
}

const GOOD: &str = r#"{"category": "bug", "reason": "The checkout shows an error."}"#;

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(completion(GOOD))
}

#[tokio::test]
async fn sends_the_exact_body_and_reads_answer_and_usage() {
    let server = MockServer::start().await;
    let expected = json!({
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "You triage support tickets for Acme Agency."},
            {"role": "user", "content": "<ticket>The checkout page shows an error.</ticket>"}
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "classification",
                "schema": strict_classification_schema(),
                "strict": true
            }
        },
        "temperature": 0.0
    });
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;

    let done = classify(&client(&server, 3)).await.expect("structured answer");
    assert_eq!(done.output.category, Category::Bug);
    assert_eq!(done.output.reason, "The checkout shows an error.");
    assert_eq!(done.usage, TokenUsage { prompt_tokens: 120, completion_tokens: 18 });
    assert_eq!(done.model, "gpt-test-2025");
    assert_eq!(done.attempts, 1);
}

#[tokio::test]
async fn rate_limit_with_retry_after_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ok()).mount(&server).await;

    let started = Instant::now();
    let done = classify(&client(&server, 3)).await.expect("succeeds after one retry");
    // Retry-After (1 s, capped at 250 ms here) was waited rather than the 1-5 ms backoff.
    assert!(started.elapsed() >= Duration::from_millis(240), "{:?}", started.elapsed());
    assert_eq!(done.attempts, 2);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn server_error_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ok()).mount(&server).await;

    let done = classify(&client(&server, 3)).await.expect("succeeds after one retry");
    assert_eq!(done.attempts, 2);
    assert_eq!(done.output.category, Category::Bug);
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("keeps failing");
    assert_eq!(failure.error, LlmError::Server(503));

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429))
        .expect(2)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 2)).await.expect_err("keeps rate limiting");
    assert_eq!(failure.error, LlmError::RateLimited);
}

#[tokio::test]
async fn a_slow_provider_times_out_after_bounded_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let started = Instant::now();
    let failure = classify(&client(&server, 2)).await.expect_err("too slow");
    assert_eq!(failure.error, LlmError::Timeout);
    assert_eq!(received(&server).await.len(), 2);
    // Two attempts of 400 ms each, not the 3 s the server would take.
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn malformed_answers_are_invalid_output_after_one_repair() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("Sure! It is a bug.")))
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("not JSON");
    assert!(
        matches!(&failure.error, LlmError::InvalidOutput(m) if m.contains("invalid type: string")),
        "{:?}",
        failure.error
    );
    // The provider does not retry a bad answer; call_structured's single repair is the only
    // second call, and it shows the model its text.
    assert_eq!(failure.attempts, 2);
    assert_eq!(failure.last_raw.as_deref(), Some("\"Sure! It is a bug.\""));
    assert_eq!(received(&server).await.len(), 2);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("not a completion");
    assert!(matches!(failure.error, LlmError::InvalidOutput(_)), "{:?}", failure.error);
}

#[tokio::test]
async fn an_invalid_answer_is_repaired_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(r#"{"category": "urgent-bug", "reason": "x"}"#)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ok()).mount(&server).await;
    let done = classify(&client(&server, 3)).await.expect("repaired");
    assert_eq!(done.output.category, Category::Bug);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.usage.prompt_tokens, 240);
    let second: Value = received(&server).await[1].body_json().expect("json body");
    let messages = second["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert!(messages[3]["content"].as_str().unwrap().contains("invalid"));
}

#[tokio::test]
async fn refusal_is_reported() {
    let server = MockServer::start().await;
    let body = json!({
        "model": "gpt-test",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": null,
                                 "refusal": "I can't help with that request."}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7}
    });
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("refused");
    assert_eq!(failure.error, LlmError::Refused("I can't help with that request.".into()));
}

#[tokio::test]
async fn unauthorised_is_rejected_without_retry_and_without_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let failure = classify(&client(&server, 3)).await.expect_err("bad key");
    assert_eq!(failure.error, LlmError::Rejected("HTTP 401: Incorrect API key provided.".into()));
    assert!(!format!("{failure:?} {failure}").contains(KEY));
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // Nothing listens on this port once the listener is dropped.
    let uri = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let client = OpenAiClient::new(OpenAiConfig {
        base_url: uri,
        http: fast_http(2),
        ..OpenAiConfig::new(None)
    })
    .expect("client builds");
    let failure = classify(&client).await.expect_err("nothing listening");
    assert!(matches!(failure.error, LlmError::Transport(_)), "{:?}", failure.error);
}

#[tokio::test]
async fn local_servers_get_no_authorization_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ok()).mount(&server).await;
    let client = OpenAiClient::new(OpenAiConfig {
        base_url: format!("{}/v1", server.uri()),
        model: "llama3.2".into(),
        http: fast_http(1),
        ..OpenAiConfig::new(None)
    })
    .expect("client builds");
    classify(&client).await.expect("answer");
    let request = &received(&server).await[0];
    assert!(request.headers.get("authorization").is_none());
    assert_eq!(request.url.path(), "/v1/chat/completions");
}
