//! Replies reach the customer: a reply on an email ticket is queued with the reply, and an outbox
//! worker sends it to a real SMTP server (aiosmtpd, started by `scripts/with-mail.sh`; these
//! cases fail without it, they are never skipped). The clock is injected, so retries come due
//! without waiting. Workers are stepped with `run_once`, so every send is one the test caused.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use opsflow_domain::Email;
use opsflow_domain::email::{MailSecurity, Mailbox};
use opsflow_mail::{Limits, parse};
use opsflow_ports::auth::Clock;
use opsflow_ports::mail::SmtpEndpoint;
use opsflow_ports::services::outbox::{
    FixedOutboundConfigForTests, FixedThreadIdsForTests, OutboxWorker, SendOutcome,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::common::{AppOptions, Ctx, Session, TestApp};

/// A clock the test moves forward.
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(OffsetDateTime::now_utc())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the outbox tests through scripts/with-mail.sh")
    })
}

/// The customer's earlier messages, as the intake would report them.
const THREAD: [&str; 2] = ["c1.first@mail.customer.test", "c2.followup@mail.customer.test"];

fn mail_options(clock: &Arc<ManualClock>) -> AppOptions {
    AppOptions {
        outbound: Some(Arc::new(FixedOutboundConfigForTests {
            endpoint: SmtpEndpoint {
                host: "127.0.0.1".into(),
                port: env("OPSFLOW_TEST_SMTP_PORT").parse().expect("a port"),
                security: MailSecurity::None,
                username: Some("desk".into()),
                password: Some("Desk-Pass-4821".into()),
            },
            mailbox: Mailbox {
                name: Some("Acme Support".into()),
                email: Email::parse("support@acme.test").unwrap(),
            },
        })),
        threads: Some(Arc::new(FixedThreadIdsForTests(
            THREAD.iter().map(|s| (*s).to_owned()).collect(),
        ))),
        clock: Some(clock.clone()),
        // Backoff moves the clock by hours: sessions must outlive it.
        token_ttl: Duration::days(2),
        ..AppOptions::default()
    }
}

/// An app that emails replies, its admin and clock.
async fn mail_app(ctx: &Ctx) -> (TestApp, Session, Arc<ManualClock>) {
    let clock = ManualClock::new();
    let app = ctx.spawn_with(mail_options(&clock)).await;
    let admin = app.signup("Acme Agency", "ada@acme.test").await;
    (app, admin, clock)
}

async fn ticket(app: &TestApp, token: &str, channel: &str, customer: &str) -> Value {
    app.create_ticket_full(
        token,
        json!({"subject": "Re: Login broken", "body": "I cannot log in since Monday.",
               "channel": channel, "customer_name": "Carla Customer", "customer_email": customer}),
    )
    .await
}

async fn reply(app: &TestApp, token: &str, ticket_id: &str, body: &str) -> Value {
    let r = app
        .post(
            &format!("/api/tickets/{ticket_id}/replies"),
            Some(token),
            json!({"body": body, "status": "replied"}),
        )
        .await;
    r.expect(201);
    r.json
}

/// The delivery of reply `reply_id` as the ticket page shows it.
async fn delivery(app: &TestApp, token: &str, ticket_id: &str, reply_id: &str) -> Value {
    let t = app.ticket(token, ticket_id).await;
    let replies = t["replies"].as_array().expect("replies");
    replies.iter().find(|r| r["id"] == reply_id).expect("the reply")["delivery"].clone()
}

/// Every message the SMTP server accepted whose text contains `needle`.
fn captured(needle: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env("OPSFLOW_TEST_SMTP_DIR"));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let raw = std::fs::read(&path).unwrap();
            if String::from_utf8_lossy(&raw).contains(needle) {
                found.push(raw);
            }
        }
    }
    found
}

fn worker(app: &TestApp, clock: &Arc<ManualClock>) -> OutboxWorker {
    app.outbox_worker(clock.clone())
}

fn ts(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().expect("a timestamp"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339")
}

pub async fn an_email_tickets_reply_reaches_the_customer_threaded(ctx: Ctx) {
    let (app, admin, clock) = mail_app(&ctx).await;
    let t = ticket(&app, &admin.token, "email", "carla@example.com").await;
    let tid = t["id"].as_str().unwrap();
    let number = t["number"].as_u64().unwrap();

    let r = reply(&app, &admin.token, tid, "Hello Carla,\n\nPlease try again now.\n\nAda").await;
    let rid = r["id"].as_str().unwrap();
    assert_eq!(r["delivery"]["state"], "queued", "{r}");
    assert_eq!(r["delivery"]["attempts"], 0);
    assert_eq!(delivery(&app, &admin.token, tid, rid).await["state"], "queued");
    let message_id = format!("reply-{rid}@acme.test");
    assert!(captured(&message_id).is_empty(), "nothing is sent before a worker runs");

    let w = worker(&app, &clock);
    assert_eq!(w.run_once().await.unwrap(), Some(SendOutcome::Sent));
    assert_eq!(w.run_once().await.unwrap(), None, "sent once, nothing left");

    let got = captured(&message_id);
    assert_eq!(got.len(), 1, "exactly one copy");
    let text = String::from_utf8_lossy(&got[0]).into_owned();
    assert!(text.contains("X-Test-Rcpt: carla@example.com"), "{text}");
    assert!(text.contains("X-Test-Login: yes"), "{text}");
    let m = parse(&got[0], &Limits::default()).unwrap();
    assert_eq!(m.message_id, message_id);
    assert_eq!(m.subject, format!("Re: Login broken [#{number}]"));
    assert_eq!(m.from.email.as_str(), "support@acme.test");
    assert_eq!(m.from.name.as_deref(), Some("Ada Admin via Acme Support"));
    assert_eq!(m.in_reply_to, [THREAD[1]]);
    assert_eq!(m.references, THREAD);
    assert_eq!(m.body, "Hello Carla,\n\nPlease try again now.\n\nAda");
    assert_eq!(m.customer().email.as_str(), "support@acme.test", "answers go to the mailbox");

    let d = delivery(&app, &admin.token, tid, rid).await;
    assert_eq!(d["state"], "sent", "{d}");
    assert_eq!(d["attempts"], 1);
    assert_eq!(ts(&d["sent_at"]), clock.now());
    assert!(d["last_error"].is_null() && d["next_attempt_at"].is_null(), "{d}");

    // A web ticket's reply is recorded, never emailed.
    let web = ticket(&app, &admin.token, "web", "carla@example.com").await;
    let wid = web["id"].as_str().unwrap();
    let wr = reply(&app, &admin.token, wid, "Answered on the phone.").await;
    assert!(wr["delivery"].is_null(), "{wr}");
    assert!(delivery(&app, &admin.token, wid, wr["id"].as_str().unwrap()).await.is_null());
    assert_eq!(w.run_once().await.unwrap(), None, "nothing was queued");
    assert!(captured("Answered on the phone").is_empty());
}

pub async fn a_temporary_failure_is_retried_with_backoff_until_it_gives_up(ctx: Ctx) {
    let (app, admin, clock) = mail_app(&ctx).await;
    let t = ticket(&app, &admin.token, "email", "tempfail@example.com").await;
    let tid = t["id"].as_str().unwrap();
    let r = reply(&app, &admin.token, tid, "We are on it.").await;
    let rid = r["id"].as_str().unwrap();
    let w = worker(&app, &clock);

    // First try: 451 → queued again in a minute, with the server's words.
    let start = clock.now();
    match w.run_once().await.unwrap() {
        Some(SendOutcome::Retry { at, error }) => {
            assert_eq!(at, start + Duration::minutes(1));
            assert!(error.contains("451"), "{error}");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    let d = delivery(&app, &admin.token, tid, rid).await;
    assert_eq!(d["state"], "queued", "{d}");
    assert_eq!(d["attempts"], 1);
    assert_eq!(ts(&d["next_attempt_at"]), start + Duration::minutes(1));
    assert!(d["last_error"].as_str().unwrap().contains("try again later"), "{d}");
    // Not due yet.
    clock.advance(Duration::seconds(59));
    assert_eq!(w.run_once().await.unwrap(), None);

    // Each further try waits twice as long (capped at an hour); the 8th gives up.
    let mut waits = Vec::new();
    let mut due = start + Duration::minutes(1);
    loop {
        *clock.0.lock().unwrap() = due;
        match w.run_once().await.unwrap() {
            Some(SendOutcome::Retry { at, .. }) => {
                waits.push((at - due).whole_minutes());
                due = at;
            }
            Some(SendOutcome::Failed(reason)) => {
                assert!(
                    reason.contains("gave up after 8 tries") && reason.contains("451"),
                    "{reason}"
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(waits, [2, 4, 8, 16, 32, 60]);
    let d = delivery(&app, &admin.token, tid, rid).await;
    assert_eq!(d["state"], "failed", "{d}");
    assert_eq!(d["attempts"], 8);
    clock.advance(Duration::days(1));
    assert_eq!(
        w.run_once().await.unwrap(),
        None,
        "failed emails are not tried again by themselves"
    );
    assert!(captured(&format!("reply-{rid}@")).is_empty());
}

pub async fn a_rejected_email_fails_with_the_servers_words_and_can_be_retried(ctx: Ctx) {
    let (app, admin, clock) = mail_app(&ctx).await;
    let agent = app.add_user(&admin, "Ann Agent", "ann@acme.test", "agent").await;
    let t = ticket(&app, &admin.token, "email", "reject@example.com").await;
    let tid = t["id"].as_str().unwrap();
    let r = reply(&app, &agent.token, tid, "Here is your invoice.").await;
    let rid = r["id"].as_str().unwrap();
    let retry_path = format!("/api/tickets/{tid}/replies/{rid}/retry-delivery");
    let w = worker(&app, &clock);

    // Only a failed email can be retried.
    app.post_empty(&retry_path, Some(&agent.token)).await.expect_error(
        409,
        Some("delivery_not_failed"),
        None,
    );
    match w.run_once().await.unwrap() {
        Some(SendOutcome::Failed(reason)) => assert!(reason.contains("550"), "{reason}"),
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    let d = delivery(&app, &admin.token, tid, rid).await;
    assert_eq!(d["state"], "failed", "{d}");
    let error = d["last_error"].as_str().unwrap();
    assert!(error.contains("550") && error.contains("No such user here"), "{error}");

    // Another workspace cannot see or retry it, by any id it might guess.
    let other = app.signup("Other Org", "olga@other.test").await;
    app.post_empty(&retry_path, Some(&other.token)).await.expect_error(
        404,
        Some("reply_not_found"),
        None,
    );
    app.get(&format!("/api/tickets/{tid}"), Some(&other.token)).await.expect(404);
    assert_eq!(delivery(&app, &admin.token, tid, rid).await["state"], "failed", "unchanged");

    // An agent of the workspace retries it: queued, due now, a fresh count.
    let again = app.post_empty(&retry_path, Some(&agent.token)).await;
    again.expect(200);
    assert_eq!(again.json["state"], "queued", "{}", again.text);
    assert_eq!(again.json["attempts"], 0);
    assert_eq!(ts(&again.json["next_attempt_at"]), clock.now());
    app.post_empty(&retry_path, Some(&admin.token)).await.expect_error(
        409,
        Some("delivery_not_failed"),
        None,
    );
    assert!(matches!(w.run_once().await.unwrap(), Some(SendOutcome::Failed(_))));
    assert_eq!(delivery(&app, &admin.token, tid, rid).await["attempts"], 1);

    // Replies without an email, unknown replies and malformed ids.
    let web = ticket(&app, &admin.token, "web", "carla@example.com").await;
    let wid = web["id"].as_str().unwrap();
    let wr = reply(&app, &admin.token, wid, "Recorded only.").await;
    let wrid = wr["id"].as_str().unwrap();
    app.post_empty(
        &format!("/api/tickets/{wid}/replies/{wrid}/retry-delivery"),
        Some(&admin.token),
    )
    .await
    .expect_error(404, Some("reply_not_found"), None);
    app.post_empty(&format!("/api/tickets/{wid}/replies/{rid}/retry-delivery"), Some(&admin.token))
        .await
        .expect_error(404, Some("reply_not_found"), None);
    app.post_empty(&format!("/api/tickets/{tid}/replies/nope/retry-delivery"), Some(&admin.token))
        .await
        .expect_error(400, None, Some("reply_id"));
    app.post_empty(&format!("/api/tickets/nope/replies/{rid}/retry-delivery"), Some(&admin.token))
        .await
        .expect_error(400, None, Some("id"));
    app.post_empty(&retry_path, None).await.expect(401);
}

pub async fn a_send_cut_short_by_a_crash_is_sent_once_by_a_fresh_worker(ctx: Ctx) {
    let (app, admin, clock) = mail_app(&ctx).await;
    let t = ticket(&app, &admin.token, "email", "carla@example.com").await;
    let tid = t["id"].as_str().unwrap();
    let r = reply(&app, &admin.token, tid, "Sent after a crash.").await;
    let rid = r["id"].as_str().unwrap();
    let message_id = format!("reply-{rid}@acme.test");

    // A worker claims the email and dies before talking to the server.
    let lease = Duration::minutes(5);
    let claimed = app.outbox.claim_next_email(clock.now(), lease).await.unwrap().unwrap();
    assert_eq!(claimed.email.message_id, message_id);
    assert_eq!(delivery(&app, &admin.token, tid, rid).await["state"], "sending");

    // While the lease holds, a fresh worker leaves it alone.
    let fresh = worker(&app, &clock).with_lease(lease);
    clock.advance(Duration::minutes(4));
    assert_eq!(fresh.run_once().await.unwrap(), None);
    // After it, the email is sent, once.
    clock.advance(Duration::minutes(2));
    assert_eq!(fresh.run_once().await.unwrap(), Some(SendOutcome::Sent));
    assert_eq!(fresh.run_once().await.unwrap(), None);
    assert_eq!(worker(&app, &clock).run_once().await.unwrap(), None);
    assert_eq!(captured(&message_id).len(), 1, "sent exactly once");
    let d = delivery(&app, &admin.token, tid, rid).await;
    assert_eq!(d["state"], "sent", "{d}");
    assert_eq!(d["attempts"], 2);
    // The dead worker's late outcome changes nothing.
    let late =
        app.outbox.mark_failed(claimed.tenant_id, claimed.reply_id, claimed.attempts, "late").await;
    assert!(late.is_err());
    assert_eq!(delivery(&app, &admin.token, tid, rid).await["state"], "sent");
}

pub async fn without_a_mailbox_email_replies_are_recorded_not_emailed(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@acme.test").await;
    let t = ticket(&app, &admin.token, "email", "carla@example.com").await;
    let tid = t["id"].as_str().unwrap();
    let r = reply(&app, &admin.token, tid, "Recorded, not emailed.").await;
    assert_eq!(r["delivery"]["state"], "not_emailed", "{r}");
    assert_eq!(r["delivery"]["note"], "not emailed: no mailbox connected");
    let d = delivery(&app, &admin.token, tid, r["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "not_emailed", "{d}");
    let clock = ManualClock::new();
    assert_eq!(app.outbox_worker(clock).run_once().await.unwrap(), None, "nothing queued");
    // Drafts never carry a delivery.
    let triage =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    triage.expect(200);
    assert!(triage.json["ai_reply_draft"]["delivery"].is_null(), "{}", triage.text);
    let web = ticket(&app, &admin.token, "web", "carla@example.com").await;
    let wr = reply(&app, &admin.token, web["id"].as_str().unwrap(), "Web reply").await;
    assert!(wr["delivery"].is_null(), "{wr}");
}

/// The whole email loop with the real archive: a customer's email opens a ticket, the agent's
/// reply reaches the SMTP server answering that email (In-Reply-To and References), and the
/// customer's answer to the reply joins the same ticket and reopens it.
pub async fn an_email_thread_stays_one_ticket_both_ways(ctx: Ctx) {
    let clock = ManualClock::new();
    let app = ctx.spawn_with(AppOptions { threads: None, ..mail_options(&clock) }).await;
    let admin = app.signup("Acme Agency", "ada@acme.test").await;
    let r = app.get("/api/settings/email/inbound", Some(&admin.token)).await;
    r.expect(200);
    let path = r.json["path"].as_str().expect("path").to_owned();
    let first = "Message-ID: <first.ask@shop.example>\r\nFrom: Carla Customer <carla@shop.example>\r\n\
                 To: support@acme.test\r\nSubject: Cannot download invoices\r\n\r\n\
                 The invoices page shows an error.\r\n";
    let created = app
        .send(
            reqwest::Method::POST,
            &path,
            None,
            crate::common::Body::Raw(Some("message/rfc822"), first.as_bytes().to_vec()),
        )
        .await;
    created.expect(201);
    let ticket_id = created.json["ticket_id"].as_str().expect("a ticket").to_owned();

    let sent = reply(&app, &admin.token, &ticket_id, "We are looking at the invoices page.").await;
    let reply_id = sent["id"].as_str().unwrap().to_owned();
    let w = worker(&app, &clock);
    assert_eq!(w.run_once().await.unwrap(), Some(SendOutcome::Sent));
    let message_id = format!("reply-{reply_id}@acme.test");
    let raw = captured(&message_id);
    assert_eq!(raw.len(), 1, "sent once");
    let email = parse(&raw[0], &Limits::default()).expect("a message");
    assert_eq!(email.in_reply_to, vec!["first.ask@shop.example".to_owned()]);
    assert_eq!(email.references, vec!["first.ask@shop.example".to_owned()]);
    assert_eq!(email.from.email.as_str(), "support@acme.test");
    assert!(email.subject.starts_with("Re: Cannot download invoices"), "{}", email.subject);

    // The customer answers the reply (their client sets In-Reply-To to our Message-ID).
    let answer = format!(
        "Message-ID: <second.answer@shop.example>\r\nFrom: Carla Customer <carla@shop.example>\r\n\
         To: support@acme.test\r\nSubject: Re: Cannot download invoices\r\n\
         In-Reply-To: <{message_id}>\r\nReferences: <first.ask@shop.example> <{message_id}>\r\n\r\n\
         Thanks, it works again.\r\n"
    );
    let joined = app
        .send(
            reqwest::Method::POST,
            &path,
            None,
            crate::common::Body::Raw(Some("message/rfc822"), answer.into_bytes()),
        )
        .await;
    joined.expect(202);
    assert_eq!(joined.json["outcome"], "appended");
    assert_eq!(joined.json["ticket_id"], ticket_id.as_str());
    let t = app.ticket(&admin.token, &ticket_id).await;
    assert_eq!(t["ticket"]["status"], "open", "the answer reopens the replied ticket");
    let last = t["replies"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author_type"], "customer");
    assert_eq!(last["body"], "Thanks, it works again.");
}
