//! OpenAI-compatible Chat Completions provider with JSON-schema structured output.
//!
//! Works with OpenAI and with anything that speaks the same API at another base URL: Azure
//! OpenAI's v1 endpoint, Ollama (`http://localhost:11434/v1`), vLLM, llama.cpp server,
//! OpenRouter.

use async_trait::async_trait;
use opsflow_ports::llm::{ChatRole, LlmClient, LlmError, LlmRequest, LlmResponse, TokenUsage};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::schema;
use crate::transport::{self, HttpSettings};

/// The public OpenAI API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// A small current model with structured-output support.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// How to reach an OpenAI-compatible server.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Base URL up to and including the version segment, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Bearer token; local servers (Ollama, llama.cpp) may need none.
    pub api_key: Option<SecretString>,
    /// Timeouts and retries.
    pub http: HttpSettings,
    /// Sampling temperature; `None` leaves the server's default (some reasoning models reject it).
    pub temperature: Option<f32>,
    /// Upper bound on the answer's tokens (`max_completion_tokens`); `None` leaves the default.
    pub max_completion_tokens: Option<u32>,
    /// Whether to ask for `strict: true` schema adherence. Some compatible servers reject the
    /// flag; the schema is always rewritten to the strict shape, which every server accepts.
    pub strict: bool,
}

impl OpenAiConfig {
    /// OpenAI's public API with the default model, timeouts and retries.
    pub fn new(api_key: Option<SecretString>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            api_key,
            http: HttpSettings::default(),
            temperature: Some(0.0),
            max_completion_tokens: None,
            strict: true,
        }
    }
}

/// An [`LlmClient`] for OpenAI-compatible Chat Completions.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    config: OpenAiConfig,
    endpoint: String,
    http: reqwest::Client,
}

impl OpenAiClient {
    /// Builds the client.
    ///
    /// # Errors
    /// The HTTP client could not be built (TLS backend initialisation).
    pub fn new(config: OpenAiConfig) -> Result<Self, reqwest::Error> {
        let http = config.http.client()?;
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(Self { config, endpoint, http })
    }

    /// The JSON body sent for `request` (public so tests and `opsflow eval --dry-run` can show it).
    #[must_use]
    pub fn request_body(&self, request: &LlmRequest) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    ChatRole::System => "system",
                    ChatRole::User => "user",
                    ChatRole::Assistant => "assistant",
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": transport::tool_name(&request.schema_name),
                    "schema": schema::strict(&request.schema),
                    "strict": self.config.strict,
                }
            }
        });
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(max) = self.config.max_completion_tokens {
            body["max_completion_tokens"] = json!(max);
        }
        body
    }
}

/// Reads a Chat Completions response body.
fn parse_response(
    body: &str,
    fallback_model: &str,
) -> Result<(Value, TokenUsage, String), LlmError> {
    let parsed: Value = serde_json::from_str(body).map_err(|e| {
        LlmError::InvalidOutput(format!("the provider's response is not JSON ({e})"))
    })?;
    let usage = TokenUsage {
        prompt_tokens: token_count(&parsed, "/usage/prompt_tokens"),
        completion_tokens: token_count(&parsed, "/usage/completion_tokens"),
    };
    let model = parsed.get("model").and_then(Value::as_str).unwrap_or(fallback_model).to_owned();
    let choice = parsed
        .pointer("/choices/0")
        .ok_or_else(|| LlmError::InvalidOutput("the response has no choices".to_owned()))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
        return Err(LlmError::Refused(transport::truncate(refusal, 300)));
    }
    if choice.get("finish_reason").and_then(Value::as_str) == Some("content_filter") {
        return Err(LlmError::Refused("the provider's content filter stopped the answer".into()));
    }
    let content = message
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| LlmError::InvalidOutput("the answer has no text content".to_owned()))?;
    Ok((transport::parse_json_answer(content), usage, model))
}

pub(crate) fn token_count(v: &Value, pointer: &str) -> u32 {
    v.pointer(pointer).and_then(Value::as_u64).map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

#[async_trait]
impl LlmClient for OpenAiClient {
    fn provider(&self) -> &str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let body = self.request_body(request);
        let auth = self.config.api_key.as_ref().and_then(|key| {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose_secret())).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        if self.config.api_key.is_some() && auth.is_none() {
            return Err(LlmError::Rejected("the API key contains invalid characters".to_owned()));
        }
        let delivered = transport::send_with_retries("openai", &self.config.http, || {
            let builder = self.http.post(&self.endpoint).json(&body);
            match &auth {
                Some(value) => builder.header(AUTHORIZATION, value.clone()),
                None => builder,
            }
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
    fn content_filter_is_a_refusal() {
        let body = r#"{"choices":[{"finish_reason":"content_filter","message":{"content":null}}]}"#;
        assert!(matches!(parse_response(body, "m"), Err(LlmError::Refused(_))));
    }

    #[test]
    fn missing_choices_is_invalid_output() {
        assert!(matches!(parse_response("{}", "m"), Err(LlmError::InvalidOutput(_))));
        assert!(matches!(parse_response("<html>", "m"), Err(LlmError::InvalidOutput(_))));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let config = OpenAiConfig::new(Some(SecretString::from("sk-very-secret")));
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }
}
