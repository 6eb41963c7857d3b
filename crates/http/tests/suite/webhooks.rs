//! Issue 12, signed webhooks: admins register endpoints; ticket, reply, update and triage events
//! reach a real local receiver signed per Standard Webhooks (the receiver checks the three
//! headers and the signature); a failing receiver is retried with backoff and the endpoint is
//! disabled after repeated failures; private and loopback addresses are refused unless the
//! operator allows them (at registration and again at delivery); other workspaces get 404,
//! agents 403, and bad input a 4xx naming the field.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use opsflow_ports::webhooks::verify;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{AppOptions, Body, Ctx, Session, TestApp};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

/// A tiny HTTP/1.1 server on 127.0.0.1 that records requests and answers `status`.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(status: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let (g, s) = (got.clone(), status.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (g, s) = (g.clone(), s.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break p + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut headers = HashMap::new();
                    for line in head.lines().skip(1) {
                        if let Some((k, v)) = line.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                        }
                    }
                    let len: usize =
                        headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                    while buf.len() < head_end + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    g.lock().unwrap().push(Received { headers, body });
                    let code = s.load(Ordering::SeqCst);
                    let answer = if code < 300 { "thanks" } else { "receiver exploded" };
                    let resp = format!(
                        "HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { addr, got, status, task }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn allow_private() -> AppOptions {
    AppOptions { webhooks_allow_private: true, ..AppOptions::default() }
}

async fn create(app: &TestApp, s: &Session, url: &str, events: &[&str]) -> Value {
    let r = app
        .post(
            "/api/webhooks",
            Some(&s.token),
            json!({"url": url, "events": events, "description": "CRM"}),
        )
        .await;
    r.expect(201);
    r.json.clone()
}

async fn drain(app: &TestApp) -> usize {
    app.state.webhook_worker.drain().await.unwrap()
}

async fn deliveries(app: &TestApp, s: &Session, id: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/webhooks/{id}/deliveries{query}"), Some(&s.token)).await;
    r.expect(200);
    r.json.clone()
}

/// Checks the three Standard Webhooks headers and the signature under `secret`.
fn assert_signed(r: &Received, secret: &str) -> Value {
    let id = r.headers.get("webhook-id").expect("webhook-id");
    assert!(id.starts_with("msg_") && id.len() == 36, "{id}");
    let ts: i64 = r.headers.get("webhook-timestamp").expect("webhook-timestamp").parse().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((now - ts).abs() < 60, "timestamp {ts} vs now {now}");
    let sig = r.headers.get("webhook-signature").expect("webhook-signature");
    assert!(sig.starts_with("v1,"), "{sig}");
    assert!(verify(secret, id, ts, r.body.as_bytes(), sig), "signature does not verify: {sig}");
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/json"));
    serde_json::from_str(&r.body).unwrap()
}

pub async fn subscribed_events_reach_the_receiver_signed(ctx: Ctx) {
    let receiver = Receiver::start(200).await;
    let app = ctx.spawn_with(allow_private()).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = create(
        &app,
        &admin,
        &receiver.url(),
        &["ticket.created", "ticket.updated", "reply.created", "triage.completed"],
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["webhook"]["enabled"], true);
    // The secret is shown once: never in a read.
    let got = app.get(&format!("/api/webhooks/{id}"), Some(&admin.token)).await;
    got.expect(200);
    assert!(!got.text.contains(&secret) && got.json.get("secret").is_none(), "{}", got.text);
    let list = app.get("/api/webhooks", Some(&admin.token)).await;
    assert!(!list.text.contains(&secret));
    assert_eq!(list.json.as_array().unwrap().len(), 1);

    let ticket = app.create_ticket(&admin.token, "Printer on fire", "Help please").await;
    let tid = ticket["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/tickets/{tid}"), Some(&admin.token), json!({"status": "open"}))
        .await
        .expect(200);
    app.post(&format!("/api/tickets/{tid}/replies"), Some(&admin.token), json!({"body": "On it."}))
        .await
        .expect(201);
    // An internal note is not a reply to the customer: no message.
    app.post(
        &format!("/api/tickets/{tid}/notes"),
        Some(&admin.token),
        json!({"body": "team only"}),
    )
    .await;
    app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token))
        .await
        .expect(200);
    assert_eq!(drain(&app).await, 4);

    let received = receiver.received();
    assert_eq!(received.len(), 4, "{received:?}");
    let bodies: Vec<Value> = received.iter().map(|r| assert_signed(r, &secret)).collect();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    for t in ["ticket.created", "ticket.updated", "reply.created", "triage.completed"] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    let by_type = |t: &str| bodies.iter().find(|b| b["type"] == t).unwrap().clone();
    assert_eq!(by_type("ticket.created")["data"]["ticket"]["id"], tid.as_str());
    assert_eq!(by_type("ticket.created")["data"]["ticket"]["subject"], "Printer on fire");
    assert!(by_type("ticket.created")["timestamp"].is_string());
    assert_eq!(by_type("ticket.updated")["data"]["changed"], json!(["status"]));
    assert_eq!(by_type("reply.created")["data"]["reply"]["body"], "On it.");
    assert_eq!(by_type("triage.completed")["data"]["status"], "succeeded");

    let log = deliveries(&app, &admin, &id, "").await;
    assert_eq!(log["total"], 4);
    for d in log["items"].as_array().unwrap() {
        assert_eq!(d["status"], "succeeded", "{d}");
        assert_eq!(d["last_status"], 200);
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["response_excerpt"], "thanks");
        assert!(d["next_attempt_at"].is_null());
    }

    // A test ping, after rotating: signed with the new secret only.
    let rotated =
        app.post_empty(&format!("/api/webhooks/{id}/rotate-secret"), Some(&admin.token)).await;
    rotated.expect(200);
    let new_secret = rotated.json["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    let ping = app.post_empty(&format!("/api/webhooks/{id}/test"), Some(&admin.token)).await;
    ping.expect(202);
    assert_eq!(ping.json["event_type"], "webhook.test");
    assert_eq!(ping.json["status"], "queued");
    assert_eq!(drain(&app).await, 1);
    let last = receiver.received().pop().unwrap();
    let body = assert_signed(&last, &new_secret);
    assert_eq!(body["type"], "webhook.test");
    let sig = last.headers["webhook-signature"].clone();
    let ts: i64 = last.headers["webhook-timestamp"].parse().unwrap();
    assert!(!verify(&secret, &last.headers["webhook-id"], ts, last.body.as_bytes(), &sig));
    assert_eq!(last.headers["webhook-id"], ping.json["id"].as_str().unwrap());

    // Unsubscribed events and disabled endpoints get nothing.
    app.patch(
        &format!("/api/webhooks/{id}"),
        Some(&admin.token),
        json!({"events": ["reply.created"]}),
    )
    .await
    .expect(200);
    app.create_ticket(&admin.token, "Second", "no message for this").await;
    app.patch(&format!("/api/webhooks/{id}"), Some(&admin.token), json!({"enabled": false}))
        .await
        .expect(200);
    app.post(&format!("/api/tickets/{tid}/replies"), Some(&admin.token), json!({"body": "Again"}))
        .await
        .expect(201);
    assert_eq!(drain(&app).await, 0);
    assert_eq!(receiver.received().len(), 5);

    // The audit log has the admin's changes.
    let audit = app
        .get(
            "/api/audit?kind=webhook_created&kind=webhook_secret_rotated&kind=webhook_updated",
            Some(&admin.token),
        )
        .await;
    audit.expect(200);
    assert_eq!(audit.json["total"], 4, "{}", audit.text);
    assert!(!audit.text.contains(&secret) && !audit.text.contains(&new_secret));

    // Deleting removes it and its log.
    let del = app
        .send(Method::DELETE, &format!("/api/webhooks/{id}"), Some(&admin.token), Body::None)
        .await;
    del.expect(204);
    app.get(&format!("/api/webhooks/{id}"), Some(&admin.token)).await.expect_error(
        404,
        Some("webhook_not_found"),
        None,
    );
}

pub async fn a_failing_endpoint_is_retried_then_disabled_and_re_enabled(ctx: Ctx) {
    let receiver = Receiver::start(500).await;
    let app = ctx.spawn_with(allow_private()).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let created = create(&app, &admin, &receiver.url(), &["ticket.created"]).await;
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();

    let before = time::OffsetDateTime::now_utc();
    app.post_empty(&format!("/api/webhooks/{id}/test"), Some(&admin.token)).await.expect(202);
    assert_eq!(drain(&app).await, 1);
    let log = deliveries(&app, &admin, &id, "?status=retrying").await;
    assert_eq!(log["total"], 1, "{log}");
    let d = &log["items"][0];
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status"], 500);
    assert_eq!(d["response_excerpt"], "receiver exploded");
    assert!(d["last_error"].as_str().unwrap().contains("500"), "{d}");
    let next = time::OffsetDateTime::parse(
        d["next_attempt_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let wait = next - before;
    assert!(wait >= time::Duration::seconds(4) && wait <= time::Duration::seconds(15), "{wait}");
    // Not due yet: the worker leaves it.
    assert_eq!(drain(&app).await, 0);
    let d_id = d["id"].as_str().unwrap().to_owned();
    app.post_empty(&format!("/api/webhooks/{id}/deliveries/{d_id}/retry"), Some(&admin.token))
        .await
        .expect_error(409, Some("webhook_delivery_pending"), None);

    // 14 more failed attempts in a row (first attempts of new messages) disable the endpoint.
    for _ in 0..14 {
        app.post_empty(&format!("/api/webhooks/{id}/test"), Some(&admin.token)).await.expect(202);
    }
    // (On a slow machine the first message's retry, due after 5 s, may come in between.)
    assert!(drain(&app).await >= 14);
    let e = app.get(&format!("/api/webhooks/{id}"), Some(&admin.token)).await;
    e.expect(200);
    assert_eq!(e.json["enabled"], false, "{}", e.text);
    assert!(e.json["consecutive_failures"].as_u64().unwrap() >= 15, "{}", e.text);
    assert!(
        e.json["disabled_reason"].as_str().unwrap().contains("15 failed attempts"),
        "{}",
        e.text
    );
    assert!(receiver.received().len() >= 15);
    // Disabled: a new test message is not sent to it; it fails at once.
    app.post_empty(&format!("/api/webhooks/{id}/test"), Some(&admin.token)).await.expect(202);
    let sent_before = receiver.received().len();
    assert!(drain(&app).await >= 1);
    assert_eq!(receiver.received().len(), sent_before);
    let failed = deliveries(&app, &admin, &id, "?status=failed").await;
    let failed_id = failed["items"][0]["id"].as_str().unwrap().to_owned();
    assert!(failed["items"][0]["last_error"].as_str().unwrap().contains("disabled"));

    // Re-enabling clears the count and the reason; a success follows.
    receiver.status.store(204, Ordering::SeqCst);
    let on = app
        .patch(&format!("/api/webhooks/{id}"), Some(&admin.token), json!({"enabled": true}))
        .await;
    on.expect(200);
    assert_eq!(on.json["consecutive_failures"], 0);
    assert!(on.json["disabled_reason"].is_null());
    // The failed message is sent again on request, and now succeeds.
    let retried = app
        .post_empty(&format!("/api/webhooks/{id}/deliveries/{failed_id}/retry"), Some(&admin.token))
        .await;
    retried.expect(202);
    assert_eq!(retried.json["status"], "queued");
    assert_eq!(retried.json["attempts"], 0);
    assert!(drain(&app).await >= 1);
    let ok = deliveries(&app, &admin, &id, "?status=succeeded").await;
    let items = ok["items"].as_array().unwrap();
    let again = items.iter().find(|d| d["id"] == failed_id.as_str()).expect("the retried message");
    assert_eq!(again["last_status"], 204);
    assert_eq!(again["attempts"], 1);
    let e = app.get(&format!("/api/webhooks/{id}"), Some(&admin.token)).await;
    assert_eq!(e.json["consecutive_failures"], 0);
}

pub async fn private_addresses_are_refused_unless_the_operator_allows_them(ctx: Ctx) {
    let db = ctx.new_db();
    let strict = ctx.spawn_on(&db, AppOptions::default()).await;
    let admin = strict.signup("Acme", "ada@example.com").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://localhost:3000/hook",
        "http://192.168.1.20/",
        "http://[::ffff:127.0.0.1]/",
    ] {
        strict
            .post(
                "/api/webhooks",
                Some(&admin.token),
                json!({"url": url, "events": ["ticket.created"]}),
            )
            .await
            .expect_error(422, Some("validation_failed"), Some("url"));
    }
    assert_eq!(strict.get("/api/webhooks", Some(&admin.token)).await.json, json!([]));
    drop(strict);

    // The operator allows private addresses: a local endpoint can be registered.
    let receiver = Receiver::start(200).await;
    let open = ctx.spawn_on(&db, allow_private()).await;
    let created = create(&open, &admin, &receiver.url(), &["ticket.created"]).await;
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    drop(open);

    // A server without the setting re-checks at delivery time and does not connect.
    let strict = ctx.spawn_on(&db, AppOptions::default()).await;
    strict.post_empty(&format!("/api/webhooks/{id}/test"), Some(&admin.token)).await.expect(202);
    assert_eq!(drain(&strict).await, 1);
    assert!(receiver.received().is_empty(), "no request reached the private address");
    let log = deliveries(&strict, &admin, &id, "").await;
    let d = &log["items"][0];
    assert_eq!(d["status"], "retrying", "{d}");
    assert!(d["last_error"].as_str().unwrap().contains("not allowed"), "{d}");
    assert!(d["last_status"].is_null());
}

pub async fn webhooks_are_admin_only_and_other_workspaces_get_404(ctx: Ctx) {
    let receiver = Receiver::start(200).await;
    let app = ctx.spawn_with(allow_private()).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    let other = app.signup("Globex", "gina@globex.test").await;
    let created = create(&app, &admin, &receiver.url(), &["ticket.created"]).await;
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    app.post_empty(&format!("/api/webhooks/{id}/test"), Some(&admin.token)).await.expect(202);
    drain(&app).await;
    let log = deliveries(&app, &admin, &id, "").await;
    let d_id = log["items"][0]["id"].as_str().unwrap().to_owned();

    let body = json!({"url": receiver.url(), "events": ["ticket.created"]});
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/webhooks".into(), None),
        (Method::POST, "/api/webhooks".into(), Some(body.clone())),
        (Method::GET, format!("/api/webhooks/{id}"), None),
        (Method::PATCH, format!("/api/webhooks/{id}"), Some(json!({"enabled": false}))),
        (Method::DELETE, format!("/api/webhooks/{id}"), None),
        (Method::POST, format!("/api/webhooks/{id}/rotate-secret"), None),
        (Method::POST, format!("/api/webhooks/{id}/test"), None),
        (Method::GET, format!("/api/webhooks/{id}/deliveries"), None),
        (Method::POST, format!("/api/webhooks/{id}/deliveries/{d_id}/retry"), None),
    ];
    for (method, path, body) in &calls {
        let b = body.clone().map_or(Body::None, Body::Json);
        app.send(method.clone(), path, Some(&agent.token), b).await.expect_error(
            403,
            Some("forbidden"),
            None,
        );
    }
    // Another workspace's admin: the endpoint does not exist for them.
    for (method, path, body) in calls.iter().skip(2) {
        let b = body.clone().map_or(Body::None, Body::Json);
        let r = app.send(method.clone(), path, Some(&other.token), b).await;
        r.expect_error(404, None, None);
        assert!(r.code().starts_with("webhook"), "{method} {path}: {}", r.text);
    }
    assert_eq!(app.get("/api/webhooks", Some(&other.token)).await.json, json!([]));
    // Their events never reach our endpoint, nor the other way round.
    app.create_ticket(&other.token, "Globex ticket", "body").await;
    assert_eq!(drain(&app).await, 0);
    // Nothing changed for the owner.
    let e = app.get(&format!("/api/webhooks/{id}"), Some(&admin.token)).await;
    e.expect(200);
    assert_eq!(e.json["enabled"], true);
    assert_eq!(deliveries(&app, &admin, &id, "").await["total"], 1);
}

pub async fn bad_webhook_input_is_4xx_naming_the_field(ctx: Ctx) {
    let app = ctx.spawn_with(allow_private()).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let t = Some(admin.token.as_str());
    let cases = [
        (json!({"url": "ftp://x.example.com/", "events": ["ticket.created"]}), "url"),
        (json!({"url": "https://u:p@x.example.com/", "events": ["ticket.created"]}), "url"),
        (json!({"url": "", "events": ["ticket.created"]}), "url"),
        (json!({"url": "https://x.example.com/a b", "events": ["ticket.created"]}), "url"),
        (json!({"url": "https://x.example.com/", "events": []}), "events"),
        (json!({"url": "https://x.example.com/", "events": ["ticket.deleted"]}), "events"),
        (json!({"url": "https://x.example.com/", "events": ["webhook.test"]}), "events"),
        (
            json!({"url": "http://127.0.0.1/", "events": ["ticket.created"], "description": "d".repeat(201)}),
            "description",
        ),
    ];
    for (body, field) in cases {
        app.post("/api/webhooks", t, body.clone()).await.expect_error(
            422,
            Some("validation_failed"),
            Some(field),
        );
    }
    // Wrong shapes are 400 naming the field.
    app.post("/api/webhooks", t, json!({"events": ["ticket.created"]})).await.expect_error(
        400,
        Some("invalid_body"),
        None,
    );
    app.post("/api/webhooks", t, json!({"url": 5, "events": ["ticket.created"]}))
        .await
        .expect_error(400, Some("invalid_body"), Some("url"));
    app.post(
        "/api/webhooks",
        t,
        json!({"url": "http://127.0.0.1/", "events": ["ticket.created"], "secret": "mine"}),
    )
    .await
    .expect_error(400, Some("invalid_body"), None);
    app.get("/api/webhooks/not-a-uuid", t).await.expect_error(400, None, Some("id"));

    let created = create(&app, &admin, "http://127.0.0.1:9/hook", &["ticket.created"]).await;
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/webhooks/{id}"), t, json!({"events": []})).await.expect_error(
        422,
        Some("validation_failed"),
        Some("events"),
    );
    app.patch(&format!("/api/webhooks/{id}"), t, json!({"url": "gopher://x/"})).await.expect_error(
        422,
        Some("validation_failed"),
        Some("url"),
    );
    app.patch(&format!("/api/webhooks/{id}"), t, json!({"enabled": "yes"})).await.expect_error(
        400,
        Some("invalid_body"),
        Some("enabled"),
    );
    app.get(&format!("/api/webhooks/{id}/deliveries?status=lost"), t)
        .await
        .expect_error(400, None, None);
    app.get(&format!("/api/webhooks/{id}/deliveries?per_page=0"), t).await.expect_error(
        422,
        None,
        Some("per_page"),
    );
    app.get(&format!("/api/webhooks/{id}/deliveries?page=0"), t).await.expect_error(
        422,
        None,
        Some("page"),
    );
    app.post_empty(&format!("/api/webhooks/{id}/deliveries/nope/retry"), t).await.expect_error(
        400,
        None,
        Some("delivery_id"),
    );
    let unknown = opsflow_domain::webhook::WebhookDeliveryId::new();
    app.post_empty(&format!("/api/webhooks/{id}/deliveries/{unknown}/retry"), t)
        .await
        .expect_error(404, Some("webhook_delivery_not_found"), None);
    let missing = uuid::Uuid::now_v7();
    app.get(&format!("/api/webhooks/{missing}"), t).await.expect_error(
        404,
        Some("webhook_not_found"),
        None,
    );
}
