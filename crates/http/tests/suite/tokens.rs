//! Access tokens over HTTP: anything but a valid, unexpired HS256 token of an active user is a
//! JSON 401.

use serde_json::json;

use crate::common::jwt::{claims, now, payload, sign, unsigned, with_payload};
use crate::common::{AppOptions, Ctx, JWT_SECRET, Resp, TestApp};

/// Claims for a user that name the live session of `token` (its `jti`), as a forger holding the
/// signing key and a real token would write them.
fn claims_in(
    token: &str,
    user_id: &str,
    tenant_id: &str,
    role: &str,
    iat: i64,
    exp: i64,
) -> serde_json::Value {
    let mut c = claims(user_id, tenant_id, role, iat, exp);
    c["jti"] = payload(token)["jti"].clone();
    c
}

/// Protected endpoints probed with each bad token.
const PROTECTED: &[&str] =
    &["/api/auth/me", "/api/tickets", "/api/tenant", "/api/team", "/api/users"];

#[track_caller]
fn expect_401(r: &Resp, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text);
    r.expect_error(401, None, None);
}

async fn probe(app: &TestApp, header: &str, what: &str) {
    for path in PROTECTED {
        let r = app.get_with_auth_header(path, header).await;
        expect_401(&r, &format!("{what} on {path}"));
    }
}

pub async fn missing_and_malformed_tokens_are_401(ctx: Ctx) {
    let app = ctx.spawn().await;
    let s = app.signup("Acme", "ada@example.com").await;
    for path in PROTECTED {
        expect_401(&app.get(path, None).await, &format!("no header on {path}"));
    }
    let r = app.post("/api/tickets", None, json!({"subject": "x", "body": "y", "customer_name": "c", "customer_email": "c@example.com"})).await;
    expect_401(&r, "create ticket without a token");
    probe(&app, "Bearer garbage", "garbage").await;
    probe(&app, "Bearer ", "empty bearer").await;
    probe(&app, "Bearer a.b.c", "three junk parts").await;
    probe(&app, &format!("Basic {}", s.token), "wrong scheme").await;
    probe(&app, &s.token, "no scheme").await;
    // The real token still works, so the failures above are about the tokens.
    app.get("/api/auth/me", Some(&s.token)).await.expect(200);
    assert_eq!(app.ticket_count(&s.token).await, 0, "nothing was created without a token");
}

pub async fn expired_wrongly_signed_unsigned_and_tampered_tokens_are_401(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Alpha", "ann@alpha.example").await;
    let b = app.signup("Beta", "ben@beta.example").await;
    let t = now();

    // A token crafted here with the server's secret is accepted: the crafting is right, so the
    // rejections below are about what each token changes.
    let good =
        sign(&claims_in(&a.token, &a.user_id, &a.tenant_id, "admin", t, t + 600), JWT_SECRET);
    app.get("/api/auth/me", Some(&good)).await.expect(200);

    let expired = sign(
        &claims_in(&a.token, &a.user_id, &a.tenant_id, "admin", t - 7200, t - 3600),
        JWT_SECRET,
    );
    probe(&app, &format!("Bearer {expired}"), "expired").await;

    let wrong_secret = sign(
        &claims_in(&a.token, &a.user_id, &a.tenant_id, "admin", t, t + 600),
        "another-secret-of-the-same-length-0123456789abc",
    );
    probe(&app, &format!("Bearer {wrong_secret}"), "wrong secret").await;

    let none = unsigned(&claims_in(&a.token, &a.user_id, &a.tenant_id, "admin", t, t + 600));
    probe(&app, &format!("Bearer {none}"), "alg none").await;

    // The server's own token with its payload edited (tenant swapped to B), signature kept.
    let mut p = payload(&a.token);
    p["tenant_id"] = json!(b.tenant_id);
    probe(&app, &format!("Bearer {}", with_payload(&a.token, &p)), "tampered tenant").await;
    let mut p = payload(&a.token);
    p["exp"] = json!(t + 10 * 365 * 86_400);
    probe(&app, &format!("Bearer {}", with_payload(&a.token, &p)), "tampered exp").await;

    // Correctly signed, but claims that do not belong together: A's user in B's tenant, B's
    // user in A's tenant, an unknown user.
    let mixed =
        sign(&claims_in(&a.token, &a.user_id, &b.tenant_id, "admin", t, t + 600), JWT_SECRET);
    probe(&app, &format!("Bearer {mixed}"), "A's user in B's tenant").await;
    let mixed =
        sign(&claims_in(&b.token, &b.user_id, &a.tenant_id, "admin", t, t + 600), JWT_SECRET);
    probe(&app, &format!("Bearer {mixed}"), "B's user in A's tenant").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let ghost = sign(&claims(&unknown, &a.tenant_id, "admin", t, t + 600), JWT_SECRET);
    probe(&app, &format!("Bearer {ghost}"), "unknown user").await;
    // Claims that are not ids at all.
    let junk = sign(
        &json!({"sub": "x", "user_id": "x", "tenant_id": "y", "role": "admin", "iat": t, "exp": t + 600}),
        JWT_SECRET,
    );
    probe(&app, &format!("Bearer {junk}"), "junk claims").await;

    // B's data is unaffected by any of it, and both real tokens still work.
    app.get("/api/auth/me", Some(&a.token)).await.expect(200);
    let me = app.get("/api/auth/me", Some(&b.token)).await;
    me.expect(200);
    assert_eq!(me.json["tenant"]["id"], b.tenant_id.as_str());
}

pub async fn a_claimed_role_does_not_grant_admin(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    // A validly signed token that claims `admin` for an agent: the stored role decides.
    let t = now();
    let forged = sign(
        &claims_in(&agent.token, &agent.user_id, &agent.tenant_id, "admin", t, t + 600),
        JWT_SECRET,
    );
    app.get("/api/users", Some(&forged)).await.expect_error(403, Some("forbidden"), None);
    app.patch("/api/tenant", Some(&forged), json!({"name": "Mine"}))
        .await
        .expect_error(403, None, None);
    assert_eq!(app.get("/api/tenant", Some(&admin.token)).await.json["name"], "Acme");
}

pub async fn tokens_of_a_short_lived_app_expire(ctx: Ctx) {
    // Tokens issued with a TTL already in the past are refused by the same server.
    let app = ctx
        .spawn_with(AppOptions { token_ttl: time::Duration::minutes(-10), ..AppOptions::default() })
        .await;
    let s = app.signup("Acme", "ada@example.com").await;
    probe(&app, &format!("Bearer {}", s.token), "issued expired").await;
}

pub async fn deactivated_users_tokens_are_401(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    let t = app.create_ticket(&agent.token, "Before", "created while active").await;
    app.deactivate(&admin, &agent.user_id).await;
    probe(&app, &format!("Bearer {}", agent.token), "deactivated user").await;
    let r = app
        .patch(
            &format!("/api/tickets/{}", t["id"].as_str().unwrap()),
            Some(&agent.token),
            json!({"status": "closed"}),
        )
        .await;
    expect_401(&r, "deactivated user patching");
    assert_eq!(
        app.ticket(&admin.token, t["id"].as_str().unwrap()).await["ticket"]["status"],
        "new"
    );
}
