//! Every class of bad input: a JSON error naming the field, never a 500, never partial data.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Body, Ctx, PASSWORD, Resp, TestApp, assert_error_shape};

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// A syntactically valid email of exactly `n` characters (n >= 70): a 64-character local part
/// and a domain of labels of at most 60 characters.
fn email_of(n: usize) -> String {
    let mut remaining = n - 64 - 1 - ".com".len();
    let mut labels = Vec::new();
    while remaining > 63 {
        labels.push("d".repeat(60));
        remaining -= 61;
    }
    labels.push("d".repeat(remaining));
    let e = format!("{}@{}.com", "a".repeat(64), labels.join("."));
    assert_eq!(e.chars().count(), n);
    e
}

fn signup_body() -> Value {
    json!({"tenant_name": "Acme", "user_name": "Ada Admin", "email": "ada@example.com", "password": PASSWORD})
}

fn ticket_body() -> Value {
    json!({"subject": "Cannot log in", "body": "The page spins", "customer_name": "Carla", "customer_email": "carla@example.com"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

#[track_caller]
fn check(r: &Resp, status: &[u16], field: Option<&str>, what: &str) {
    assert!(
        status.contains(&r.status),
        "{what}: expected {status:?}, got {}: {}",
        r.status,
        r.text
    );
    assert_error_shape(r);
    if let Some(field) = field {
        assert!(
            r.json["error"]["fields"].get(field).is_some(),
            "{what}: error does not name {field:?}: {}",
            r.text
        );
    }
}

async fn setup(ctx: &Ctx) -> (TestApp, String, String) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let t = app.create_ticket(&admin.token, "Existing ticket", "Some text").await;
    (app, admin.token, t["id"].as_str().unwrap().to_owned())
}

pub async fn signup_rejects_each_bad_field_and_creates_nothing(ctx: Ctx) {
    let app = ctx.spawn().await;
    let cases: Vec<(Value, &[u16], &str, &str)> = vec![
        (with(signup_body(), "tenant_name", json!(5)), &[400], "tenant_name", "wrong type"),
        (with(signup_body(), "password", json!(["x"])), &[400], "password", "wrong type"),
        (without(signup_body(), "email"), &[400], "email", "missing"),
        (without(signup_body(), "password"), &[400], "password", "missing"),
        (with(signup_body(), "tenant_name", json!(null)), &[400, 422], "tenant_name", "null"),
        (with(signup_body(), "tenant_name", json!("   ")), &[422], "tenant_name", "blank"),
        (with(signup_body(), "user_name", json!("")), &[422], "user_name", "empty"),
        (with(signup_body(), "tenant_name", json!(long(101))), &[422], "tenant_name", "101 chars"),
        (with(signup_body(), "user_name", json!(long(101))), &[422], "user_name", "101 chars"),
        (with(signup_body(), "email", json!(email_of(255))), &[422], "email", "255 chars"),
        (with(signup_body(), "email", json!("not-an-email")), &[422], "email", "invalid"),
        (with(signup_body(), "email", json!("a@b")), &[422], "email", "no dot in domain"),
        (with(signup_body(), "password", json!("short12")), &[422], "password", "7 chars"),
        (with(signup_body(), "password", json!(long(129))), &[422], "password", "129 chars"),
        (with(signup_body(), "password", json!("          ")), &[422], "password", "blank"),
        (
            with(signup_body(), "tenant_id", json!(uuid::Uuid::now_v7())),
            &[400],
            "tenant_id",
            "tenant_id",
        ),
        (with(signup_body(), "role", json!("owner")), &[400], "role", "unknown field"),
    ];
    for (body, status, field, what) in cases {
        let r = app.post("/api/auth/signup", None, body).await;
        check(&r, status, Some(field), what);
    }
    // Boundaries are accepted.
    let ok = app
        .post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": long(100), "user_name": long(100), "email": email_of(254), "password": "Qx7!mZ2@vL9#".repeat(10) + "Qx7!mZ2@"}),
        )
        .await;
    ok.expect(201);
    let ok12 = app
        .post("/api/auth/signup", None, with(signup_body(), "password", json!("Kv8#pLq2!Rz7")))
        .await;
    ok12.expect(201);
    // None of the rejected sign-ups left a user behind.
    let r = app.login_raw("ada@example.com", PASSWORD, None).await;
    r.expect_error(401, Some("invalid_credentials"), None);
}

pub async fn malformed_bodies_and_media_types_are_4xx_json(ctx: Ctx) {
    let (app, token, tid) = setup(&ctx).await;
    let before = app.ticket_count(&token).await;
    let raw = |ct: Option<&'static str>, body: &str| Body::Raw(ct, body.as_bytes().to_vec());

    let cases: Vec<(Method, String, Body, &[u16], &str)> = vec![
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/json"), "{\"subject\": "),
            &[400],
            "truncated JSON",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/json"), "{subject: 'x'}"),
            &[400],
            "not JSON",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/json"), "[1, 2]"),
            &[400],
            "array body",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/json"), "null"),
            &[400],
            "null body",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/json"), ""),
            &[400],
            "empty body",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/json"), "   "),
            &[400],
            "blank body",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("text/plain"), &ticket_body().to_string()),
            &[415, 400],
            "text/plain",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(None, &ticket_body().to_string()),
            &[415, 400],
            "no content type",
        ),
        (
            Method::POST,
            "/api/tickets".into(),
            raw(Some("application/x-www-form-urlencoded"), "subject=x"),
            &[415, 400],
            "form",
        ),
        (Method::POST, "/api/tickets".into(), Body::None, &[415, 400], "no body at all"),
        (
            Method::PATCH,
            format!("/api/tickets/{tid}"),
            raw(Some("application/json"), "{\"status\": "),
            &[400],
            "truncated patch",
        ),
        (
            Method::PATCH,
            format!("/api/tickets/{tid}"),
            raw(Some("text/plain"), "{\"status\": \"open\"}"),
            &[415, 400],
            "text/plain patch",
        ),
        (
            Method::POST,
            "/api/auth/signup".into(),
            raw(Some("application/json"), "{\"tenant_name\": \"A\","),
            &[400],
            "truncated signup",
        ),
        (
            Method::POST,
            "/api/auth/login".into(),
            raw(Some("text/plain"), "ada@example.com"),
            &[415, 400],
            "text/plain login",
        ),
        (
            Method::POST,
            format!("/api/tickets/{tid}/replies"),
            raw(Some("application/json"), "{]"),
            &[400],
            "bad reply JSON",
        ),
    ];
    for (method, path, body, status, what) in cases {
        let r = app.send(method, &path, Some(&token), body).await;
        check(&r, status, None, what);
    }
    assert_eq!(app.ticket_count(&token).await, before, "no ticket was created");
    let detail = app.ticket(&token, &tid).await;
    assert_eq!(detail["ticket"]["status"], "new", "the ticket was not changed");
    assert_eq!(detail["replies"], json!([]));
}

pub async fn oversized_bodies_are_413(ctx: Ctx) {
    let (app, token, tid) = setup(&ctx).await;
    let before = app.ticket_count(&token).await;
    let huge = with(ticket_body(), "body", json!(long(70 * 1024)));
    let r = app.post("/api/tickets", Some(&token), huge.clone()).await;
    r.expect_error(413, None, None);
    let r = app
        .post(
            &format!("/api/tickets/{tid}/replies"),
            Some(&token),
            json!({"body": long(65 * 1024)}),
        )
        .await;
    r.expect_error(413, None, None);
    let r = app
        .post("/api/auth/signup", None, with(signup_body(), "tenant_name", json!(long(66_000))))
        .await;
    r.expect_error(413, None, None);
    assert_eq!(app.ticket_count(&token).await, before);
    assert_eq!(app.ticket(&token, &tid).await["replies"], json!([]));
}

fn chunked_post(path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .into_bytes()
}

pub async fn oversized_chunked_bodies_without_a_length_are_413(ctx: Ctx) {
    let (app, token, _) = setup(&ctx).await;
    let before = app.ticket_count(&token).await;
    // A small chunked body is accepted: the request format is right.
    let (status, text) =
        app.raw_http(&chunked_post("/api/tickets", &token, &ticket_body().to_string())).await;
    assert_eq!(status, 201, "{text}");
    // Without Content-Length the size limit is enforced while reading.
    let huge = with(ticket_body(), "body", json!(long(70 * 1024))).to_string();
    let (status, text) = app.raw_http(&chunked_post("/api/tickets", &token, &huge)).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"error\"") && text.contains("payload_too_large"), "{text}");
    assert_eq!(app.ticket_count(&token).await, before + 1, "only the small ticket was created");
}

pub async fn ticket_create_rejects_each_bad_field_and_creates_nothing(ctx: Ctx) {
    let (app, token, _) = setup(&ctx).await;
    let before = app.ticket_count(&token).await;
    let cases: Vec<(Value, &[u16], &str, &str)> = vec![
        (with(ticket_body(), "subject", json!(123)), &[400], "subject", "wrong type"),
        (with(ticket_body(), "body", json!({"text": "x"})), &[400], "body", "wrong type"),
        (with(ticket_body(), "channel", json!(1)), &[400], "channel", "wrong type"),
        (with(ticket_body(), "channel", json!("fax")), &[400, 422], "channel", "unknown enum"),
        (without(ticket_body(), "subject"), &[400], "subject", "missing"),
        (without(ticket_body(), "customer_email"), &[400], "customer_email", "missing"),
        (with(ticket_body(), "subject", json!("")), &[422], "subject", "empty"),
        (with(ticket_body(), "subject", json!(" \t\n ")), &[422], "subject", "whitespace"),
        (with(ticket_body(), "body", json!("   ")), &[422], "body", "whitespace"),
        (with(ticket_body(), "customer_name", json!(" ")), &[422], "customer_name", "whitespace"),
        (with(ticket_body(), "subject", json!(long(201))), &[422], "subject", "201 chars"),
        (with(ticket_body(), "body", json!(long(20_001))), &[422], "body", "20,001 chars"),
        (
            with(ticket_body(), "customer_name", json!(long(101))),
            &[422],
            "customer_name",
            "101 chars",
        ),
        (
            with(ticket_body(), "customer_email", json!("carla@")),
            &[422],
            "customer_email",
            "invalid",
        ),
        (
            with(ticket_body(), "customer_email", json!(email_of(255))),
            &[422],
            "customer_email",
            "255 chars",
        ),
        (with(ticket_body(), "status", json!("closed")), &[400], "status", "read-only field"),
        (
            with(ticket_body(), "created_by_id", json!(uuid::Uuid::now_v7())),
            &[400],
            "created_by_id",
            "read-only field",
        ),
    ];
    for (body, status, field, what) in cases {
        let r = app.post("/api/tickets", Some(&token), body).await;
        check(&r, status, Some(field), what);
    }
    // Several bad fields are all named at once.
    let r = app
        .post(
            "/api/tickets",
            Some(&token),
            json!({"subject": "", "body": long(20_001), "customer_name": "", "customer_email": "nope"}),
        )
        .await;
    r.expect_error(422, Some("validation_failed"), None);
    for f in ["subject", "body", "customer_name", "customer_email"] {
        assert!(r.json["error"]["fields"].get(f).is_some(), "{f} not named: {}", r.text);
    }
    assert_eq!(
        app.ticket_count(&token).await,
        before,
        "a failed create leaves the count unchanged"
    );

    // Boundaries are accepted.
    let ok = app
        .post(
            "/api/tickets",
            Some(&token),
            json!({"subject": long(200), "body": long(20_000), "customer_name": long(100), "customer_email": email_of(254)}),
        )
        .await;
    ok.expect(201);
    assert_eq!(app.ticket_count(&token).await, before + 1);
}

pub async fn ticket_patch_reply_and_draft_reject_bad_fields(ctx: Ctx) {
    let (app, token, tid) = setup(&ctx).await;
    let before = app.ticket(&token, &tid).await;
    let patch = format!("/api/tickets/{tid}");
    let cases: Vec<(Value, &[u16], &str)> = vec![
        (json!({"status": "bogus"}), &[400, 422], "status"),
        (json!({"status": null}), &[400, 422], "status"),
        (json!({"status": 3}), &[400], "status"),
        (json!({"priority": "critical"}), &[400, 422], "priority"),
        (json!({"category": "spam"}), &[400, 422], "category"),
        (json!({"assignee_id": "not-a-uuid"}), &[400, 422], "assignee_id"),
        (json!({"assignee_id": 42}), &[400], "assignee_id"),
        (json!({"assignee_id": uuid::Uuid::now_v7()}), &[422], "assignee_id"),
        (json!({"subject": ""}), &[422], "subject"),
        (json!({"subject": "   "}), &[422], "subject"),
        (json!({"subject": null}), &[422], "subject"),
        (json!({"subject": long(201)}), &[422], "subject"),
        (json!({"subject": 5}), &[400], "subject"),
        (json!({"customer_name": ""}), &[422], "customer_name"),
        (json!({"customer_name": null}), &[422], "customer_name"),
        (json!({"customer_name": ["Ann"]}), &[400], "customer_name"),
        (json!({"customer_email": "not-an-email"}), &[422], "customer_email"),
        (json!({"customer_email": null}), &[422], "customer_email"),
        (json!({"subject": "Fine", "customer_email": "a@"}), &[422], "customer_email"),
        (json!({"body": "the body cannot be rewritten"}), &[400], "body"),
        (json!({"tenant_id": uuid::Uuid::now_v7()}), &[400], "tenant_id"),
        (json!({"status": "open", "priority": "critical"}), &[400, 422], "priority"),
    ];
    for (body, status, field) in cases {
        let r = app.patch(&patch, Some(&token), body.clone()).await;
        check(&r, status, Some(field), &format!("PATCH {body}"));
    }

    let replies = format!("/api/tickets/{tid}/replies");
    let cases: Vec<(Value, &[u16], &str)> = vec![
        (json!({}), &[400], "body"),
        (json!({"body": ""}), &[422], "body"),
        (json!({"body": "  \n "}), &[422], "body"),
        (json!({"body": long(20_001)}), &[422], "body"),
        (json!({"body": 7}), &[400], "body"),
        (json!({"body": "ok", "status": "bogus"}), &[400, 422], "status"),
        (json!({"body": "ok", "draft_id": "nope"}), &[400, 422], "draft_id"),
        (json!({"body": "ok", "author_type": "ai"}), &[400], "author_type"),
    ];
    for (body, status, field) in cases {
        let r = app.post(&replies, Some(&token), body.clone()).await;
        check(&r, status, Some(field), &format!("reply {body}"));
    }
    // A reply that names a draft that does not exist changes nothing (not even the status).
    let r = app
        .post(
            &replies,
            Some(&token),
            json!({"body": "ok", "status": "replied", "draft_id": uuid::Uuid::now_v7()}),
        )
        .await;
    r.expect_error(404, None, None);

    let draft = format!("/api/tickets/{tid}/replies/{}", uuid::Uuid::now_v7());
    let r = app.patch(&draft, Some(&token), json!({"body": ""})).await;
    check(&r, &[422, 404], None, "empty draft body");
    let r = app.patch(&draft, Some(&token), json!({"text": "x"})).await;
    check(&r, &[400], Some("text"), "unknown draft field");
    let r = app.patch(&draft, Some(&token), json!({"body": "fine"})).await;
    r.expect_error(404, None, None);

    assert_eq!(app.ticket(&token, &tid).await, before, "nothing changed");
}

pub async fn malformed_path_ids_are_400_naming_the_parameter(ctx: Ctx) {
    let (app, token, tid) = setup(&ctx).await;
    let valid = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(Method, String, Body, &str)> = vec![
        (Method::GET, "/api/tickets/not-a-uuid".into(), Body::None, "id"),
        (Method::GET, "/api/tickets/12a".into(), Body::None, "id"),
        (Method::GET, "/api/tickets/%23".into(), Body::None, "id"),
        (Method::PATCH, "/api/tickets/1".into(), Body::Json(json!({"status": "open"})), "id"),
        (Method::PATCH, "/api/tickets/xyz".into(), Body::Json(json!({"status": "open"})), "id"),
        (Method::POST, "/api/tickets/xyz/replies".into(), Body::Json(json!({"body": "hi"})), "id"),
        (
            Method::PATCH,
            format!("/api/tickets/{tid}/replies/zzz"),
            Body::Json(json!({"body": "hi"})),
            "reply_id",
        ),
        (
            Method::PATCH,
            format!("/api/tickets/bad/replies/{valid}"),
            Body::Json(json!({"body": "hi"})),
            "id",
        ),
        (Method::POST, "/api/tickets/bad/workflows/triage".into(), Body::None, "id"),
        (Method::POST, "/api/tickets/bad/workflows/triage?async=true".into(), Body::None, "id"),
        (Method::GET, "/api/tickets/bad/workflows".into(), Body::None, "id"),
        (Method::GET, "/api/workflows/runs/bad".into(), Body::None, "id"),
        (Method::PATCH, "/api/users/bad".into(), Body::Json(json!({"name": "X"})), "id"),
        (Method::GET, format!("/api/tickets/{tid}x"), Body::None, "id"),
    ];
    for (method, path, body, field) in cases {
        let r = app.send(method.clone(), &path, Some(&token), body).await;
        r.expect_error(400, None, Some(field));
        let _ = (method, path);
    }
    // A well-formed id or number that does not exist is 404.
    for missing in [valid.as_str(), "123", "0"] {
        app.get(&format!("/api/tickets/{missing}"), Some(&token)).await.expect_error(
            404,
            Some("ticket_not_found"),
            None,
        );
    }
    app.get(&format!("/api/workflows/runs/{valid}"), Some(&token))
        .await
        .expect_error(404, None, None);
    app.patch(&format!("/api/users/{valid}"), Some(&token), json!({"name": "X"}))
        .await
        .expect_error(404, None, None);
}

pub async fn list_parameters_out_of_range_are_rejected(ctx: Ctx) {
    let (app, token, _) = setup(&ctx).await;
    let cases: Vec<(&str, &[u16], &str)> = vec![
        ("page=0", &[400, 422], "page"),
        ("page=-1", &[400, 422], "page"),
        ("page=abc", &[400], "page"),
        ("page=1.5", &[400], "page"),
        ("page_size=0", &[400, 422], "page_size"),
        ("page_size=101", &[400, 422], "page_size"),
        ("page_size=-5", &[400, 422], "page_size"),
        ("status=bogus", &[400, 422], "status"),
        ("priority=critical", &[400, 422], "priority"),
        ("category=spam", &[400, 422], "category"),
        ("assignee_id=not-a-uuid", &[400, 422], "assignee_id"),
        ("unassigned=maybe", &[400], "unassigned"),
        (
            "unassigned=true&assignee_id=0190f3a4-0000-7000-8000-000000000000",
            &[400, 422],
            "unassigned",
        ),
        ("page=99999999999", &[400, 422], "page"),
        ("q=", &[], ""),
    ];
    for (query, status, field) in cases {
        let r = app.get(&format!("/api/tickets?{query}"), Some(&token)).await;
        if status.is_empty() {
            r.expect(200);
            continue;
        }
        check(&r, status, Some(field), query);
    }
    let q = format!("q={}", "a".repeat(201));
    let r = app.get(&format!("/api/tickets?{q}"), Some(&token)).await;
    check(&r, &[400, 422], Some("q"), "q too long");
    // Boundaries are accepted.
    app.get("/api/tickets?page=1&page_size=100", Some(&token)).await.expect(200);
    app.get("/api/tickets?page_size=1", Some(&token)).await.expect(200);
}

pub async fn team_and_tenant_inputs_are_validated(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    let tok = Some(admin.token.as_str());

    // Duplicate email in the same tenant: 409, and no second user.
    let r = app
        .post("/api/users", tok, json!({"name": "Alan Again", "email": " ALAN@example.com "}))
        .await;
    r.expect_error(409, Some("email_taken"), None);
    // The admin's own email too.
    let r =
        app.post("/api/users", tok, json!({"name": "Ada Again", "email": "ada@example.com"})).await;
    r.expect_error(409, Some("email_taken"), None);

    let cases: Vec<(Value, &[u16], &str)> = vec![
        (json!({"name": "", "email": "x@example.com"}), &[422], "name"),
        (json!({"name": long(101), "email": "x@example.com"}), &[422], "name"),
        (json!({"name": "X", "email": "x@"}), &[422], "email"),
        (json!({"name": "X", "email": email_of(255)}), &[422], "email"),
        (json!({"name": "X", "email": "x@example.com", "role": "owner"}), &[400, 422], "role"),
        (json!({"name": "X"}), &[400], "email"),
        (
            json!({"name": "X", "email": "x@example.com", "tenant_id": admin.tenant_id}),
            &[400],
            "tenant_id",
        ),
        (
            json!({"name": "X", "email": "x@example.com", "password": "chosen-by-admin"}),
            &[400],
            "password",
        ),
    ];
    for (body, status, field) in cases {
        let r = app.post("/api/users", tok, body.clone()).await;
        check(&r, status, Some(field), &format!("create user {body}"));
    }
    let users = app.get("/api/users", tok).await;
    assert_eq!(
        users.json["items"].as_array().unwrap().len(),
        2,
        "no user was added: {}",
        users.text
    );

    let path = format!("/api/users/{}", agent.user_id);
    let cases: Vec<(Value, &[u16], &str)> = vec![
        (json!({"role": "owner"}), &[400, 422], "role"),
        (json!({"active": "yes"}), &[400], "active"),
        (json!({"name": ""}), &[422], "name"),
        (json!({"name": long(101)}), &[422], "name"),
        (json!({"email": "new@example.com"}), &[400], "email"),
        (json!({"tenant_id": uuid::Uuid::now_v7()}), &[400], "tenant_id"),
    ];
    for (body, status, field) in cases {
        let r = app.patch(&path, tok, body.clone()).await;
        check(&r, status, Some(field), &format!("patch user {body}"));
    }
    let users = app.get("/api/users", tok).await;
    let alan = users.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == agent.user_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(alan["name"], "Alan Agent");
    assert_eq!(alan["role"], "agent");
    assert_eq!(alan["active"], true);

    let cases: Vec<(Value, &[u16], &str)> = vec![
        (json!({"name": ""}), &[422], "name"),
        (json!({"name": "   "}), &[422], "name"),
        (json!({"name": long(101)}), &[422], "name"),
        (json!({"name": 5}), &[400], "name"),
        (json!({"policies": long(10_001)}), &[422], "policies"),
        (json!({"slug": "mine"}), &[400], "slug"),
        (json!({"id": uuid::Uuid::now_v7()}), &[400], "id"),
    ];
    for (body, status, field) in cases {
        let r = app.patch("/api/tenant", tok, body.clone()).await;
        check(&r, status, Some(field), &format!("patch tenant {body}"));
    }
    let t = app.get("/api/tenant", tok).await;
    assert_eq!(t.json["name"], "Acme");
    assert_eq!(t.json["policies"], "");

    // Login input is validated too.
    let r = app.post("/api/auth/login", None, json!({"email": "ada@example.com"})).await;
    check(&r, &[400], Some("password"), "login without password");
    let r = app.post("/api/auth/login", None, json!({"email": 1, "password": PASSWORD})).await;
    check(&r, &[400], Some("email"), "login email type");
    let r = app.post("/api/auth/login", None, json!({"email": "ada@", "password": PASSWORD})).await;
    check(&r, &[401, 422], None, "login invalid email");
    let r = app
        .post(
            "/api/auth/login",
            None,
            json!({"email": "ada@example.com", "password": PASSWORD, "tenant_slug": "Not A Slug!"}),
        )
        .await;
    check(&r, &[401, 422], None, "login malformed slug");
}

pub async fn unknown_routes_and_methods_are_json(ctx: Ctx) {
    let (app, token, tid) = setup(&ctx).await;
    app.get("/api/nope", Some(&token)).await.expect_error(404, None, None);
    app.get("/api", Some(&token)).await.expect_error(404, None, None);
    app.get("/api/", Some(&token)).await.expect_error(404, None, None);
    app.post("/api/nope", None, json!({})).await.expect_error(404, None, None);
    app.get("/api/tickets/x/y/z", Some(&token)).await.expect_error(404, None, None);
    let r =
        app.send(Method::DELETE, &format!("/api/tickets/{tid}"), Some(&token), Body::None).await;
    check(&r, &[404, 405], None, "DELETE ticket");
    let r =
        app.send(Method::PUT, "/api/tenant", Some(&token), Body::Json(json!({"name": "x"}))).await;
    check(&r, &[404, 405], None, "PUT tenant");
    assert_eq!(app.ticket_count(&token).await, 1);
}

pub async fn odd_json_and_encodings_are_handled(ctx: Ctx) {
    let (app, token, tid) = setup(&ctx).await;
    let before = app.ticket_count(&token).await;
    let json_body = |b: Vec<u8>| Body::Raw(Some("application/json"), b);

    // Duplicate keys, deep nesting, invalid UTF-8, a BOM, trailing garbage: all 400.
    let dup = br#"{"subject": "a", "subject": "b", "body": "x", "customer_name": "c", "customer_email": "c@example.com"}"#;
    let r = app.send(Method::POST, "/api/tickets", Some(&token), json_body(dup.to_vec())).await;
    check(&r, &[400], Some("subject"), "duplicate key");
    let deep = "[".repeat(10_000);
    let r =
        app.send(Method::POST, "/api/tickets", Some(&token), json_body(deep.into_bytes())).await;
    check(&r, &[400], None, "deep nesting");
    let mut bad_utf8 = br#"{"subject": ""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe]);
    bad_utf8.extend_from_slice(
        br#"", "body": "x", "customer_name": "c", "customer_email": "c@example.com"}"#,
    );
    let r = app.send(Method::POST, "/api/tickets", Some(&token), json_body(bad_utf8)).await;
    check(&r, &[400], None, "invalid UTF-8");
    let trailing = format!("{} {{}}", ticket_body());
    let r = app
        .send(Method::POST, "/api/tickets", Some(&token), json_body(trailing.into_bytes()))
        .await;
    check(&r, &[400], None, "trailing data");
    assert_eq!(app.ticket_count(&token).await, before);

    // Lengths count characters, not bytes.
    let r = app
        .post("/api/tickets", Some(&token), with(ticket_body(), "subject", json!("😀".repeat(200))))
        .await;
    r.expect(201);
    assert_eq!(r.json["subject"].as_str().unwrap().chars().count(), 200);
    let r = app
        .post("/api/tickets", Some(&token), with(ticket_body(), "subject", json!("é".repeat(201))))
        .await;
    r.expect_error(422, None, Some("subject"));
    assert_eq!(app.ticket_count(&token).await, before + 1);

    // Odd query strings are client errors or ignored, never 500s.
    for query in ["q=%FF%FE", "q=%", "status=", "page=", "q=%00", "unassigned=", "page_size=1e2"] {
        let r = app.get(&format!("/api/tickets?{query}"), Some(&token)).await;
        assert!(
            r.status == 200 || r.status == 400 || r.status == 422,
            "{query}: {} {}",
            r.status,
            r.text
        );
        if r.status != 200 {
            assert_error_shape(&r);
        }
    }

    // The triage switch is validated before anything is queued.
    let r = app
        .post_empty(&format!("/api/tickets/{tid}/workflows/triage?async=maybe"), Some(&token))
        .await;
    check(&r, &[400], Some("async"), "async=maybe");
    let runs = app.get(&format!("/api/tickets/{tid}/workflows"), Some(&token)).await;
    assert_eq!(runs.json["items"], json!([]), "no run was created");

    // An empty patch changes nothing and answers the ticket.
    let t = app.ticket(&token, &tid).await;
    let r = app.patch(&format!("/api/tickets/{tid}"), Some(&token), json!({})).await;
    r.expect(200);
    assert_eq!(r.json, t["ticket"]);
}
