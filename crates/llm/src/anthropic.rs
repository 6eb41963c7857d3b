//! Anthropic Messages API provider; structured output through a forced tool call.

use async_trait::async_trait;
use opsflow_ports::llm::{ChatRole, LlmClient, LlmError, LlmRequest, LlmResponse, TokenUsage};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::openai::token_count;
use crate::schema;
use crate::transport::{self, HttpSettings};

/// The public Anthropic API.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// A current general-purpose model.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// The API version header value.
pub const API_VERSION: &str = "2023-06-01";

/// How to reach the Anthropic API.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// Base URL without the `/v1` segment, e.g. `https://api.anthropic.com`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// The `x-api-key`.
    pub api_key: SecretString,
    /// Timeouts and retries.
    pub http: HttpSettings,
    /// Upper bound on the answer's tokens (required by the API).
    pub max_tokens: u32,
    /// Sampling temperature; `None` leaves the API default.
    pub temperature: Option<f32>,
}

impl AnthropicConfig {
    /// The public API with the default model, timeouts and retries.
    pub fn new(api_key: SecretString) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            api_key,
            http: HttpSettings::default(),
            max_tokens: 1024,
            temperature: Some(0.0),
        }
    }
}

/// An [`LlmClient`] for the Anthropic Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicClient {
    config: AnthropicConfig,
    endpoint: String,
    http: reqwest::Client,
}

impl AnthropicClient {
    /// Builds the client.
    ///
    /// # Errors
    /// The HTTP client could not be built (TLS backend initialisation).
    pub fn new(config: AnthropicConfig) -> Result<Self, reqwest::Error> {
        let http = config.http.client()?;
        let endpoint = format!("{}/v1/messages", config.base_url.trim_end_matches('/'));
        Ok(Self { config, endpoint, http })
    }

    /// The JSON body sent for `request`: system messages joined into `system`, the answer forced
    /// through a tool whose input schema is the output schema.
    #[must_use]
    pub fn request_body(&self, request: &LlmRequest) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == ChatRole::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages: Vec<Value> = request
            .messages
            .iter()
            .filter_map(|m| match m.role {
                ChatRole::System => None,
                ChatRole::User => Some(json!({"role": "user", "content": m.content})),
                ChatRole::Assistant => Some(json!({"role": "assistant", "content": m.content})),
            })
            .collect();
        let name = transport::tool_name(&request.schema_name);
        let mut input_schema = schema::inline(&request.schema);
        if input_schema.get("type").is_none() {
            input_schema["type"] = json!("object");
        }
        let mut body = json!({
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "messages": messages,
            "tools": [{
                "name": name,
                "description": format!(
                    "Record the answer for the `{}` task. Call this tool exactly once with \
                     arguments that match the schema.",
                    request.task_name()
                ),
                "input_schema": input_schema,
            }],
            "tool_choice": {"type": "tool", "name": name},
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        body
    }
}

/// Reads a Messages API response body.
fn parse_response(
    body: &str,
    fallback_model: &str,
) -> Result<(Value, TokenUsage, String), LlmError> {
    let parsed: Value = serde_json::from_str(body).map_err(|e| {
        LlmError::InvalidOutput(format!("the provider's response is not JSON ({e})"))
    })?;
    let usage = TokenUsage {
        // Cached prompt tokens are still prompt tokens for accounting.
        prompt_tokens: token_count(&parsed, "/usage/input_tokens")
            .saturating_add(token_count(&parsed, "/usage/cache_creation_input_tokens"))
            .saturating_add(token_count(&parsed, "/usage/cache_read_input_tokens")),
        completion_tokens: token_count(&parsed, "/usage/output_tokens"),
    };
    let model = parsed.get("model").and_then(Value::as_str).unwrap_or(fallback_model).to_owned();
    let blocks = parsed.get("content").and_then(Value::as_array).cloned().unwrap_or_default();
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    if parsed.get("stop_reason").and_then(Value::as_str) == Some("refusal") {
        let why = if text.is_empty() { "stop_reason refusal".to_owned() } else { text };
        return Err(LlmError::Refused(transport::truncate(&why, 300)));
    }
    if let Some(input) = blocks
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
        .and_then(|b| b.get("input"))
    {
        return Ok((input.clone(), usage, model));
    }
    if text.is_empty() {
        return Err(LlmError::InvalidOutput("the answer has no tool call and no text".to_owned()));
    }
    // The tool was forced, but a proxy in between may have dropped it: accept JSON text.
    Ok((transport::parse_json_answer(&text), usage, model))
}

#[async_trait]
impl LlmClient for AnthropicClient {
    fn provider(&self) -> &str {
        "anthropic"
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let body = self.request_body(request);
        let mut key = HeaderValue::from_str(self.config.api_key.expose_secret()).map_err(|_| {
            LlmError::Rejected("the API key contains invalid characters".to_owned())
        })?;
        key.set_sensitive(true);
        let delivered = transport::send_with_retries("anthropic", &self.config.http, || {
            self.http
                .post(&self.endpoint)
                .header("x-api-key", key.clone())
                .header("anthropic-version", API_VERSION)
                .json(&body)
        })
        .await?;
        let (value, usage, model) = parse_response(&delivered.body, &self.config.model)?;
        Ok(LlmResponse { value, usage, model, attempts: delivered.attempts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_json_is_accepted_when_the_tool_call_is_missing() {
        let body = r#"{"content":[{"type":"text","text":"{\"reply_body\":\"Hi\"}"}],"usage":{"input_tokens":3,"output_tokens":2}}"#;
        let (value, usage, _) = parse_response(body, "m").expect("parses");
        assert_eq!(value, json!({"reply_body": "Hi"}));
        assert_eq!(usage, TokenUsage { prompt_tokens: 3, completion_tokens: 2 });
    }

    #[test]
    fn no_tool_and_no_text_is_invalid() {
        let body = r#"{"content":[],"stop_reason":"max_tokens"}"#;
        assert!(matches!(parse_response(body, "m"), Err(LlmError::InvalidOutput(_))));
    }

    #[test]
    fn cached_tokens_count_as_prompt_tokens() {
        let body = r#"{"content":[{"type":"tool_use","name":"x","input":{}}],
            "usage":{"input_tokens":3,"cache_read_input_tokens":10,"output_tokens":2}}"#;
        let (_, usage, _) = parse_response(body, "m").expect("parses");
        assert_eq!(usage.prompt_tokens, 13);
    }
}
