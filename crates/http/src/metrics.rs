//! Prometheus metrics: HTTP requests by route, triage runs, steps, LLM retries, errors, tokens.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::OperationId;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The metric families of the server.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_latency: HistogramVec,
    /// Triage runs finished, by status.
    pub runs: IntCounterVec,
    /// Step latency in seconds, by step and provider.
    pub step_latency: HistogramVec,
    /// Steps finished, by step and outcome.
    pub steps: IntCounterVec,
    /// LLM provider errors, by kind.
    pub llm_errors: IntCounterVec,
    /// LLM extra attempts (retries and repairs), by provider.
    pub llm_retries: IntCounterVec,
    /// Tokens used, by provider and kind (prompt, completion).
    pub tokens: IntCounterVec,
}

impl Metrics {
    /// Registers every family.
    ///
    /// # Panics
    /// Never in practice: names are static and unique.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique metric");
            c
        };
        let histogram = |name: &str, help: &str, labels: &[&str], buckets: Vec<f64>| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
                .expect("valid metric");
            registry.register(Box::new(h.clone())).expect("unique metric");
            h
        };
        let http_buckets =
            vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
        let step_buckets =
            vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
        Self {
            http_requests: counter(
                "opsflow_http_requests_total",
                "HTTP requests by route (operation id), method and status",
                &["route", "method", "status"],
            ),
            http_latency: histogram(
                "opsflow_http_request_duration_seconds",
                "HTTP request latency by route",
                &["route"],
                http_buckets,
            ),
            runs: counter(
                "opsflow_triage_runs_total",
                "Triage runs finished, by status",
                &["status"],
            ),
            step_latency: histogram(
                "opsflow_triage_step_duration_seconds",
                "Triage step latency by step and provider",
                &["step", "provider"],
                step_buckets,
            ),
            steps: counter(
                "opsflow_triage_steps_total",
                "Triage steps finished, by step and outcome",
                &["step", "outcome"],
            ),
            llm_errors: counter(
                "opsflow_llm_errors_total",
                "LLM provider errors by kind",
                &["kind"],
            ),
            llm_retries: counter(
                "opsflow_llm_retries_total",
                "Extra LLM attempts (retries and repairs) by provider",
                &["provider"],
            ),
            tokens: counter("opsflow_llm_tokens_total", "LLM tokens used", &["provider", "kind"]),
            registry,
        }
    }

    /// The text exposition of every metric.
    #[must_use]
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if TextEncoder::new().encode(&self.registry.gather(), &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Records request count and latency per route.
pub struct HttpMetrics(pub std::sync::Arc<Metrics>);

impl<E: Endpoint> Middleware<E> for HttpMetrics {
    type Output = HttpMetricsEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        HttpMetricsEndpoint { inner: ep, metrics: self.0.clone() }
    }
}

/// Endpoint produced by [`HttpMetrics`].
pub struct HttpMetricsEndpoint<E> {
    inner: E,
    metrics: std::sync::Arc<Metrics>,
}

impl<E: Endpoint> Endpoint for HttpMetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method().to_string();
        let started = Instant::now();
        let resp = match self.inner.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => {
                let op = e.data::<OperationId>().map(|o| o.0);
                let mut r = crate::error::error_to_response(e);
                if let Some(op) = op {
                    r.set_data(OperationId(op));
                }
                r
            }
        };
        let route = resp.data::<OperationId>().map_or("other", |o| o.0);
        self.metrics
            .http_requests
            .with_label_values(&[route, method.as_str(), resp.status().as_str()])
            .inc();
        self.metrics
            .http_latency
            .with_label_values(&[route])
            .observe(started.elapsed().as_secs_f64());
        Ok(resp)
    }
}

/// Feeds triage measurements into the Prometheus families.
pub struct PrometheusObserver(pub std::sync::Arc<Metrics>);

impl opsflow_ports::services::triage::TriageObserver for PrometheusObserver {
    fn run_finished(&self, status: opsflow_domain::RunStatus, _duration: std::time::Duration) {
        self.0.runs.with_label_values(&[status.as_str()]).inc();
    }

    fn step_finished(
        &self,
        step: opsflow_domain::StepType,
        provider: &str,
        latency: std::time::Duration,
        succeeded: bool,
    ) {
        self.0
            .step_latency
            .with_label_values(&[step.as_str(), provider])
            .observe(latency.as_secs_f64());
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.0.steps.with_label_values(&[step.as_str(), outcome]).inc();
    }

    fn llm_error(&self, _provider: &str, kind: &'static str) {
        self.0.llm_errors.with_label_values(&[kind]).inc();
    }

    fn llm_retries(&self, provider: &str, retries: u32) {
        self.0.llm_retries.with_label_values(&[provider]).inc_by(u64::from(retries));
    }

    fn tokens(&self, provider: &str, prompt_tokens: u32, completion_tokens: u32) {
        self.0.tokens.with_label_values(&[provider, "prompt"]).inc_by(u64::from(prompt_tokens));
        self.0
            .tokens
            .with_label_values(&[provider, "completion"])
            .inc_by(u64::from(completion_tokens));
    }
}
