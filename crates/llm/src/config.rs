//! Provider settings and the one function that turns them into an [`LlmClient`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use opsflow_ports::llm::LlmClient;
use secrecy::SecretString;

use crate::anthropic::{self, AnthropicClient, AnthropicConfig};
use crate::offline::OfflineEngine;
use crate::openai::{self, OpenAiClient, OpenAiConfig};
use crate::redact::Redacting;
use crate::transport::HttpSettings;

/// Which provider answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Provider {
    /// The built-in offline engine (no network, no key).
    #[default]
    Offline,
    /// An OpenAI-compatible Chat Completions server.
    OpenAi,
    /// The Anthropic Messages API.
    Anthropic,
}

impl Provider {
    /// The setting's text (`offline`, `openai`, `anthropic`).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = LlmConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "offline" => Ok(Self::Offline),
            "openai" | "openai-compatible" => Ok(Self::OpenAi),
            "anthropic" => Ok(Self::Anthropic),
            other => Err(LlmConfigError::UnknownProvider(other.to_owned())),
        }
    }
}

/// The LLM settings the server reads from `OPSFLOW_LLM_*`.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// `OPSFLOW_LLM_PROVIDER`.
    pub provider: Provider,
    /// `OPSFLOW_LLM_MODEL`; the provider's default when unset.
    pub model: Option<String>,
    /// `OPSFLOW_LLM_BASE_URL`; the provider's public API when unset.
    pub base_url: Option<String>,
    /// `OPSFLOW_LLM_API_KEY`; never printed.
    pub api_key: Option<SecretString>,
    /// `OPSFLOW_LLM_CONNECT_TIMEOUT`.
    pub connect_timeout: Duration,
    /// `OPSFLOW_LLM_TIMEOUT`: the limit for one HTTP attempt.
    pub request_timeout: Duration,
    /// `OPSFLOW_LLM_MAX_RETRIES`: retries after the first attempt.
    pub max_retries: u32,
    /// `OPSFLOW_LLM_REDACT`: replace emails, phone and card numbers before calling an external
    /// provider.
    pub redact: bool,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            provider: Provider::Offline,
            model: None,
            base_url: None,
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            max_retries: 2,
            redact: false,
        }
    }
}

impl LlmSettings {
    /// The model that will be used: the setting, or the provider's default.
    #[must_use]
    pub fn effective_model(&self) -> String {
        self.model.clone().filter(|m| !m.trim().is_empty()).unwrap_or_else(|| match self.provider {
            Provider::Offline => crate::offline::MODEL.to_owned(),
            Provider::OpenAi => openai::DEFAULT_MODEL.to_owned(),
            Provider::Anthropic => anthropic::DEFAULT_MODEL.to_owned(),
        })
    }

    /// Timeouts and retry schedule for the remote providers.
    #[must_use]
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            max_attempts: self.max_retries.saturating_add(1),
            ..HttpSettings::default()
        }
    }

    fn base_url(&self) -> Option<String> {
        self.base_url.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned)
    }
}

/// The settings cannot produce a client.
#[derive(Debug, thiserror::Error)]
pub enum LlmConfigError {
    /// `OPSFLOW_LLM_PROVIDER` is not a known provider.
    #[error("unknown LLM provider `{0}` (expected offline, openai or anthropic)")]
    UnknownProvider(String),
    /// A remote provider needs a key.
    #[error(
        "the {0} provider needs an API key: set OPSFLOW_LLM_API_KEY, or set OPSFLOW_LLM_PROVIDER=offline"
    )]
    MissingApiKey(Provider),
    /// The base URL is not an http(s) URL.
    #[error("OPSFLOW_LLM_BASE_URL must be an http:// or https:// URL, got `{0}`")]
    InvalidBaseUrl(String),
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

fn checked_url(url: String) -> Result<String, LlmConfigError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Ok(url)
    } else {
        Err(LlmConfigError::InvalidBaseUrl(url))
    }
}

fn wrap<C: LlmClient>(client: C, redact: bool) -> Arc<dyn LlmClient> {
    if redact { Arc::new(Redacting::new(client)) } else { Arc::new(client) }
}

/// Builds the configured client.
///
/// The offline engine never needs a key and is never wrapped for redaction (nothing leaves the
/// process). The OpenAI provider needs a key for OpenAI's own API; a custom base URL (Ollama,
/// vLLM, llama.cpp server) may run without one.
///
/// # Errors
/// [`LlmConfigError::MissingApiKey`], [`LlmConfigError::InvalidBaseUrl`] or
/// [`LlmConfigError::Http`].
pub fn build_client(settings: &LlmSettings) -> Result<Arc<dyn LlmClient>, LlmConfigError> {
    let model = settings.effective_model();
    match settings.provider {
        Provider::Offline => Ok(Arc::new(OfflineEngine::new())),
        Provider::OpenAi => {
            let base_url = settings.base_url().map(checked_url).transpose()?;
            let official = base_url.as_deref().is_none_or(|u| u.contains("api.openai.com"));
            if settings.api_key.is_none() && official {
                return Err(LlmConfigError::MissingApiKey(Provider::OpenAi));
            }
            let config = OpenAiConfig {
                base_url: base_url.unwrap_or_else(|| openai::DEFAULT_BASE_URL.to_owned()),
                model,
                http: settings.http_settings(),
                ..OpenAiConfig::new(settings.api_key.clone())
            };
            Ok(wrap(OpenAiClient::new(config)?, settings.redact))
        }
        Provider::Anthropic => {
            let api_key = settings
                .api_key
                .clone()
                .ok_or(LlmConfigError::MissingApiKey(Provider::Anthropic))?;
            let base_url = settings.base_url().map(checked_url).transpose()?;
            let config = AnthropicConfig {
                base_url: base_url.unwrap_or_else(|| anthropic::DEFAULT_BASE_URL.to_owned()),
                model,
                http: settings.http_settings(),
                ..AnthropicConfig::new(api_key)
            };
            Ok(wrap(AnthropicClient::new(config)?, settings.redact))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: Provider) -> LlmSettings {
        LlmSettings { provider, ..LlmSettings::default() }
    }

    #[test]
    fn offline_is_the_default_and_needs_no_key() {
        let client = build_client(&LlmSettings::default()).expect("offline");
        assert_eq!(client.provider(), "offline");
        assert_eq!(client.model(), crate::offline::MODEL);
    }

    #[test]
    fn remote_providers_need_a_key() {
        for p in [Provider::OpenAi, Provider::Anthropic] {
            let err = build_client(&settings(p)).err().expect("missing key");
            assert!(matches!(err, LlmConfigError::MissingApiKey(q) if q == p));
            assert!(err.to_string().contains("OPSFLOW_LLM_API_KEY"));
        }
    }

    #[test]
    fn local_openai_compatible_servers_may_run_without_a_key() {
        let s = LlmSettings {
            base_url: Some("http://localhost:11434/v1".into()),
            model: Some("llama3.2".into()),
            ..settings(Provider::OpenAi)
        };
        let client = build_client(&s).expect("ollama");
        assert_eq!((client.provider(), client.model()), ("openai", "llama3.2"));
    }

    #[test]
    fn defaults_and_redaction() {
        let s = LlmSettings {
            api_key: Some(SecretString::from("sk-ant-secret")),
            redact: true,
            ..settings(Provider::Anthropic)
        };
        let client = build_client(&s).expect("anthropic");
        assert_eq!((client.provider(), client.model()), ("anthropic", anthropic::DEFAULT_MODEL));
        assert!(!format!("{s:?}").contains("sk-ant-secret"));
        assert_eq!(s.http_settings().max_attempts, 3);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        assert!(matches!("gemini".parse::<Provider>(), Err(LlmConfigError::UnknownProvider(_))));
        assert_eq!(" OpenAI ".parse::<Provider>().ok(), Some(Provider::OpenAi));
        let s = LlmSettings {
            base_url: Some("api.openai.com/v1".into()),
            api_key: Some(SecretString::from("k")),
            ..settings(Provider::OpenAi)
        };
        assert!(matches!(build_client(&s).err(), Some(LlmConfigError::InvalidBaseUrl(_))));
    }
}
