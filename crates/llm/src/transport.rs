//! HTTP reliability shared by the remote providers: timeouts, bounded retries with exponential
//! backoff and full jitter, `Retry-After`, and the mapping of HTTP failures onto [`LlmError`].

use std::time::Duration;

use opsflow_ports::llm::LlmError;
use rand::Rng;
use reqwest::{RequestBuilder, Response, StatusCode};

/// How a provider talks HTTP: timeouts and the retry schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole attempt (connect, send, wait, read the body).
    pub request_timeout: Duration,
    /// Attempts in total, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff ceiling; attempt `n` waits a random time in `0..=base * 2^(n-1)`.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
    /// The longest `Retry-After` that is honoured; longer values are capped to this.
    pub max_retry_after: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl HttpSettings {
    /// A reqwest client with these timeouts.
    ///
    /// # Errors
    /// The TLS backend could not be initialised.
    pub fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .user_agent(concat!("opsflow-llm/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// The wait before retry number `retry` (1 for the first retry): `Retry-After` when the
    /// provider sent one (capped), otherwise full jitter over an exponentially growing ceiling.
    #[must_use]
    pub fn delay_before_retry(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=ceiling_ms))
    }
}

/// A successful HTTP exchange: the body and the attempts it took.
#[derive(Debug)]
pub struct Delivered {
    /// The 2xx response body.
    pub body: String,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

/// One failed attempt, and whether trying again could help.
struct Failure {
    error: LlmError,
    retryable: bool,
    retry_after: Option<Duration>,
}

/// Sends the request that `build` makes, retrying transient failures per `settings`.
///
/// # Errors
/// [`LlmError::Timeout`], [`LlmError::Transport`], [`LlmError::RateLimited`] or
/// [`LlmError::Server`] once attempts run out; [`LlmError::Rejected`] at once for other 4xx.
pub async fn send_with_retries(
    provider: &str,
    settings: &HttpSettings,
    build: impl Fn() -> RequestBuilder,
) -> Result<Delivered, LlmError> {
    let max_attempts = settings.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = match build().send().await {
            Ok(response) => match classify(response).await {
                Ok(body) => return Ok(Delivered { body, attempts: attempt }),
                Err(failure) => failure,
            },
            Err(error) => transport_failure(error),
        };
        if !failure.retryable || attempt >= max_attempts {
            tracing::warn!(
                provider,
                attempt,
                error_kind = failure.error.kind(),
                "model provider call failed"
            );
            return Err(failure.error);
        }
        let delay = settings.delay_before_retry(attempt, failure.retry_after);
        tracing::info!(
            provider,
            attempt,
            error_kind = failure.error.kind(),
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "retrying model provider call"
        );
        tokio::time::sleep(delay).await;
    }
}

fn transport_failure(error: reqwest::Error) -> Failure {
    if error.is_timeout() {
        return Failure { error: LlmError::Timeout, retryable: true, retry_after: None };
    }
    let retryable = error.is_connect() || error.is_request() || error.is_body();
    // The cause chain is safe to show (the key travels in a header); the URL is dropped anyway.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Failure { error: LlmError::Transport(message), retryable, retry_after: None }
}

async fn classify(response: Response) -> Result<String, Failure> {
    let status = response.status();
    let retry_after = parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER));
    let body = match response.text().await {
        Ok(body) => body,
        Err(error) => return Err(transport_failure(error)),
    };
    if status.is_success() {
        return Ok(body);
    }
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => {
            Failure { error: LlmError::RateLimited, retryable: true, retry_after }
        }
        StatusCode::REQUEST_TIMEOUT => {
            Failure { error: LlmError::Timeout, retryable: true, retry_after }
        }
        s if s.is_server_error() => {
            Failure { error: LlmError::Server(s.as_u16()), retryable: true, retry_after }
        }
        s => Failure {
            error: LlmError::Rejected(format!("HTTP {}: {}", s.as_u16(), error_message(&body))),
            retryable: false,
            retry_after: None,
        },
    })
}

/// `Retry-After` in seconds (integer or decimal). HTTP dates are ignored: providers send seconds.
fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// The provider's error message (both OpenAI and Anthropic use `{"error": {"message": ...}}`),
/// or the start of the body.
fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(|m| m.as_str()).map(str::to_owned));
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    truncate(&text, 300)
}

/// At most `max` characters of `text`, marked when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A model's text answer as JSON, tolerating a Markdown code fence around it (local models
/// served over OpenAI-compatible APIs often add one).
///
/// Text that is not JSON comes back as a JSON string rather than an error: the port's
/// `call_structured` then fails to validate it and makes its one repair attempt, showing the
/// model its own answer. (A provider error would end the call without that repair.)
#[must_use]
pub fn parse_json_answer(text: &str) -> serde_json::Value {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(unfenced.trim())
        .unwrap_or_else(|_| serde_json::Value::String(truncate(trimmed, 2000)))
}

/// A schema name acceptable to both APIs (`^[a-zA-Z0-9_-]{1,64}$`).
pub fn tool_name(schema_name: &str) -> String {
    let name: String = schema_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .take(64)
        .collect();
    if name.is_empty() { "answer".to_owned() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let s =
            HttpSettings { max_retry_after: Duration::from_secs(10), ..HttpSettings::default() };
        assert_eq!(s.delay_before_retry(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
        assert_eq!(s.delay_before_retry(1, Some(Duration::from_secs(90))), Duration::from_secs(10));
    }

    #[test]
    fn backoff_is_jittered_under_an_exponential_ceiling() {
        let s = HttpSettings {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..HttpSettings::default()
        };
        for _ in 0..200 {
            assert!(s.delay_before_retry(1, None) <= Duration::from_millis(100));
            assert!(s.delay_before_retry(2, None) <= Duration::from_millis(200));
            assert!(s.delay_before_retry(5, None) <= Duration::from_millis(350));
        }
        // Full jitter spreads the waits rather than using the ceiling every time.
        let waits: std::collections::BTreeSet<_> =
            (0..50).map(|_| s.delay_before_retry(3, None)).collect();
        assert!(waits.len() > 5);
    }

    #[test]
    fn retry_after_header_forms() {
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("0.5"))),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after(Some(&HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"))),
            None
        );
        assert_eq!(parse_retry_after(Some(&HeaderValue::from_static("-1"))), None);
    }

    #[test]
    fn json_answers_with_and_without_fences() {
        assert_eq!(parse_json_answer(r#" {"a": 1} "#), serde_json::json!({"a": 1}));
        assert_eq!(parse_json_answer("```json\n{\"a\": 1}\n```"), serde_json::json!({"a": 1}));
        assert_eq!(parse_json_answer(" Sure! Here it is "), serde_json::json!("Sure! Here it is"));
    }

    #[test]
    fn error_messages_come_from_the_provider_json() {
        assert_eq!(
            error_message(r#"{"error": {"message": "Invalid API key"}}"#),
            "Invalid API key"
        );
        assert_eq!(error_message("  plain text  "), "plain text");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }

    #[test]
    fn tool_names_are_sanitised() {
        assert_eq!(tool_name("reply_draft"), "reply_draft");
        assert_eq!(tool_name("a b.c"), "a_b_c");
        assert_eq!(tool_name(""), "answer");
    }
}
