//! Failures on the server's side: an opaque JSON 500 with an error id, never the cause, and no
//! partial data.

use std::sync::Arc;

use async_trait::async_trait;
use opsflow_domain::Password;
use opsflow_ports::auth::{HashError, PasswordHasher};
use opsflow_ports::llm::{LlmClient, LlmError, LlmRequest, LlmResponse};
use serde_json::json;

use crate::common::{AppOptions, Ctx, PASSWORD, Resp, hasher};

/// The password that makes [`ExplodingHasher`] fail.
const EXPLODING_PASSWORD: &str = "explode-on-hash";
/// A detail of the failure that must never reach a client.
const SECRET_CAUSE: &str = "disk /dev/sda3 is on fire";

/// argon2id, except that hashing [`EXPLODING_PASSWORD`] fails.
struct ExplodingHasher(opsflow_adapters::security::Argon2Hasher);

#[async_trait]
impl PasswordHasher for ExplodingHasher {
    async fn hash(&self, password: &Password) -> Result<String, HashError> {
        if password.expose() == EXPLODING_PASSWORD {
            return Err(HashError(SECRET_CAUSE.to_owned()));
        }
        self.0.hash(password).await
    }

    async fn verify(&self, password: &Password, phc: &str) -> Result<bool, HashError> {
        self.0.verify(password, phc).await
    }

    async fn verify_dummy(&self, password: &Password) {
        self.0.verify_dummy(password).await;
    }
}

/// A provider that panics (a bug in a provider adapter).
struct PanickingLlm;

#[async_trait]
impl LlmClient for PanickingLlm {
    fn provider(&self) -> &str {
        "panicking"
    }

    fn model(&self) -> &str {
        "panicking-v1"
    }

    async fn complete(&self, _request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        panic!("{SECRET_CAUSE}");
    }
}

#[track_caller]
fn assert_opaque_500(r: &Resp) {
    assert_eq!(r.status, 500, "{}", r.text);
    assert!(r.content_type.starts_with("application/json"), "{}: {}", r.content_type, r.text);
    let e = &r.json["error"];
    assert_eq!(e["code"], "internal_error", "{}", r.text);
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
    assert!(e["fields"].is_object(), "{}", r.text);
    assert!(
        e["error_id"].as_str().is_some_and(|id| !id.is_empty()),
        "an error id to quote: {}",
        r.text
    );
    assert!(!r.text.contains(SECRET_CAUSE), "the cause leaked: {}", r.text);
}

pub async fn a_failing_dependency_is_an_opaque_500_and_leaves_nothing(ctx: Ctx) {
    let app = ctx
        .spawn_with(AppOptions {
            hasher: Some(Arc::new(ExplodingHasher(hasher()))),
            ..AppOptions::default()
        })
        .await;
    let r = app
        .post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": "Doomed", "user_name": "Dee", "email": "dee@example.com", "password": EXPLODING_PASSWORD}),
        )
        .await;
    assert_opaque_500(&r);
    let again = app
        .post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": "Doomed", "user_name": "Dee", "email": "dee@example.com", "password": EXPLODING_PASSWORD}),
        )
        .await;
    assert_opaque_500(&again);
    assert_ne!(r.json["error"]["error_id"], again.json["error"]["error_id"], "one id per failure");

    // Nothing half-made: the same workspace name still gets the plain slug, and the email has
    // no account.
    let ok = app.signup("Doomed", "dee@example.com").await;
    assert_eq!(ok.slug, "doomed");
    app.login_raw("dee@example.com", EXPLODING_PASSWORD, None).await.expect_error(401, None, None);
    app.login("dee@example.com", PASSWORD).await;
}

pub async fn a_panic_is_an_opaque_json_500(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions::default().llm(Arc::new(PanickingLlm))).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let t = app.create_ticket(&admin.token, "Anything", "Any text").await;
    let tid = t["id"].as_str().unwrap();
    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    assert!(r.status == 500 || r.status == 200, "{}", r.text);
    if r.status == 500 {
        assert_opaque_500(&r);
    } else {
        // The workflow caught the panic itself and failed the run.
        assert_eq!(r.json["workflow_run"]["status"], "failed", "{}", r.text);
        assert!(!r.text.contains(SECRET_CAUSE), "the cause leaked: {}", r.text);
    }
    // The ticket is unchanged and the server still answers.
    let after = app.ticket(&admin.token, tid).await;
    assert_eq!(after["ticket"], t);
    assert_eq!(after["replies"], json!([]));
}
