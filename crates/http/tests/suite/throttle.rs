//! Store-backed throttles: logins (per email and per client address) and sign-ups (per client
//! address) are counted before the password is checked, atomically, with 429 + `Retry-After`.

use std::time::Duration;

use futures::future::join_all;
use opsflow_ports::services::throttle::LoginLimits;
use serde_json::json;

use crate::common::{AppOptions, Ctx, PASSWORD, Resp, TestApp};

/// `max_failures` per email in 10 minutes; the per-address bucket off unless a case sets it.
fn limits(max_failures: u32) -> LoginLimits {
    LoginLimits {
        max_failures,
        window: Duration::from_secs(600),
        max_per_address: 0,
        ..LoginLimits::default()
    }
}

#[track_caller]
fn assert_too_many(r: &Resp) {
    r.expect_error(429, Some("too_many_attempts"), None);
    let wait: u64 = r.retry_after.as_deref().expect("Retry-After").parse().expect("seconds");
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
}

async fn signup_from(app: &TestApp, tenant: &str, email: &str, forwarded: Option<&str>) -> Resp {
    let mut req = app.http.post(app.url("/api/auth/signup")).json(&json!({
        "tenant_name": tenant, "user_name": "Ada Admin", "email": email, "password": PASSWORD,
    }));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let r = req.send().await.expect("request reaches the server");
    let status = r.status().as_u16();
    let content_type =
        r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let retry_after =
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = r.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Resp { status, content_type, text, json, retry_after }
}

pub async fn parallel_wrong_passwords_never_get_more_than_the_limit(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions { login: limits(5), ..AppOptions::default() }).await;
    app.signup("Acme", "ada@example.com").await;
    // 40 wrong passwords at once: at most 5 are checked (401), every other one is 429.
    let answers = join_all((0..40).map(|i| {
        let app = &app;
        async move { app.login_raw("ada@example.com", &format!("wrong-{i}"), None).await }
    }))
    .await;
    let checked = answers.iter().filter(|r| r.status == 401).count();
    for r in answers.iter().filter(|r| r.status != 401) {
        assert_too_many(r);
    }
    assert_eq!(checked, 5, "exactly the limit of attempts is checked");
    // The email is now locked: even the right password is refused.
    assert_too_many(&app.login_raw("ada@example.com", PASSWORD, None).await);

    // 200 more in parallel on another email change nothing: 5 checked, then locked.
    app.signup("Beta", "bob@example.com").await;
    let answers = join_all((0..200).map(|i| {
        let app = &app;
        async move { app.login_raw("bob@example.com", &format!("wrong-{i}"), None).await }
    }))
    .await;
    assert_eq!(answers.iter().filter(|r| r.status == 401).count(), 5);
    assert_eq!(answers.iter().filter(|r| r.status == 429).count(), 195);
    assert_too_many(&app.login_raw("bob@example.com", PASSWORD, None).await);
}

pub async fn short_wrong_passwords_are_counted_and_an_empty_one_is_422(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions { login: limits(3), ..AppOptions::default() }).await;
    app.signup("Acme", "ada@example.com").await;
    // A missing or empty password is an input error, not an attempt.
    app.login_raw("ada@example.com", "", None).await.expect_error(422, None, Some("password"));
    app.post("/api/auth/login", None, json!({"email": "ada@example.com"})).await.expect_error(
        400,
        Some("invalid_body"),
        Some("password"),
    );
    // Short passwords are checked like any other: 401, and counted.
    for p in ["a", "1234", "short"] {
        app.login_raw("ada@example.com", p, None).await.expect_error(
            401,
            Some("invalid_credentials"),
            None,
        );
    }
    assert_too_many(&app.login_raw("ada@example.com", "x", None).await);
    assert_too_many(&app.login_raw("ada@example.com", PASSWORD, None).await);
}

pub async fn logins_are_limited_per_client_address(ctx: Ctx) {
    let login = LoginLimits { max_per_address: 4, ..limits(10) };
    let app = ctx.spawn_with(AppOptions { login, ..AppOptions::default() }).await;
    app.signup("Acme", "ada@example.com").await;
    // A success gives its attempt back: signing in often from one address is never refused.
    for _ in 0..6 {
        app.login("ada@example.com", PASSWORD).await;
    }
    // Wrong passwords spread over many emails from one address: 4, then 429 for any email.
    for i in 0..4 {
        app.login_raw(&format!("user{i}@example.com"), "not the password", None).await.expect(401);
    }
    assert_too_many(&app.login_raw("someone-else@example.com", "not the password", None).await);
    assert_too_many(&app.login_raw("ada@example.com", PASSWORD, None).await);
}

pub async fn signups_are_limited_per_client_address(ctx: Ctx) {
    let login = LoginLimits { signups_per_address: 2, ..LoginLimits::default() };
    let app = ctx.spawn_with(AppOptions { login, ..AppOptions::default() }).await;
    signup_from(&app, "One", "one@example.com", None).await.expect(201);
    // Without a trusted proxy a forged X-Forwarded-For changes nothing.
    signup_from(&app, "Two", "two@example.com", Some("198.51.100.9")).await.expect(201);
    let r = signup_from(&app, "Three", "three@example.com", Some("198.51.100.10")).await;
    assert_too_many(&r);
    // Nothing was created by the refused sign-up.
    app.login_raw("three@example.com", PASSWORD, None).await.expect(401);

    // Behind a trusted proxy, the left-most X-Forwarded-For entry is the client.
    let app = ctx
        .spawn_with(AppOptions { login, trust_forwarded_for: true, ..AppOptions::default() })
        .await;
    for (i, client) in ["203.0.113.1", "203.0.113.1, 10.0.0.1"].iter().enumerate() {
        signup_from(&app, "Proxied", &format!("p{i}@example.com"), Some(client)).await.expect(201);
    }
    assert_too_many(&signup_from(&app, "Proxied", "p3@example.com", Some("203.0.113.1")).await);
    // Another client behind the same proxy is not affected.
    signup_from(&app, "Other", "other@example.com", Some("203.0.113.2")).await.expect(201);
}

pub async fn wrong_current_passwords_are_throttled_per_user(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions { login: limits(3), ..AppOptions::default() }).await;
    let s = app.signup("Acme", "ada@example.com").await;
    let change = |current: &str| json!({"current_password": current, "new_password": "Granite-Pelican-7304"});
    // A stolen token cannot guess the current password at the speed of the server: of 20
    // parallel guesses only the limit is checked (422), the rest are 429.
    let answers = join_all((0..20).map(|i| {
        let app = &app;
        let token = s.token.clone();
        async move {
            app.post("/api/auth/password", Some(&token), change(&format!("Wrong-Guess-{i:04}x")))
                .await
        }
    }))
    .await;
    assert_eq!(answers.iter().filter(|r| r.status == 422).count(), 3);
    for r in answers.iter().filter(|r| r.status != 422) {
        assert_too_many(r);
    }
    // Even the right current password is refused while locked.
    assert_too_many(&app.post("/api/auth/password", Some(&s.token), change(PASSWORD)).await);
}
