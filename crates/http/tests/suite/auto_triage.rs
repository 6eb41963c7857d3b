//! Auto-triage on arrival (issue 12): the workspace's `auto_triage` mode and thresholds at
//! `/api/settings/ai`, and what a run queued with each new ticket (web, API, email) may change.

use std::sync::Arc;
use std::time::Duration;

use opsflow_domain::StepType;
use opsflow_llm::ScriptedLlm;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{AppOptions, Body, Ctx, Session, TestApp};

async fn put_ai(app: &TestApp, s: &Session, body: Value) -> crate::common::Resp {
    app.send(Method::PUT, "/api/settings/ai", Some(&s.token), Body::Json(body)).await
}

fn settings(mode: &str, category: f64, priority: f64, assignee: f64) -> Value {
    json!({
        "auto_triage": mode,
        "thresholds": {"category": category, "priority": priority, "assignee": assignee},
    })
}

/// Scripts one whole run with these confidences (`None`: the step gives none).
fn script(llm: &ScriptedLlm, assignee: &str, confidences: [Option<f64>; 3]) {
    let [c, p, a] = confidences;
    llm.push_ok_for(
        StepType::Classification,
        json!({"category": "billing", "reason": "a double charge", "confidence": c}),
    )
    .push_ok_for(
        StepType::Priority,
        json!({"priority": "high", "reason": "money taken twice", "confidence": p}),
    )
    .push_ok_for(
        StepType::AssigneeSuggestion,
        json!({"assignee_user_id": assignee, "reason": "handles billing", "confidence": a}),
    )
    .push_ok_for(
        StepType::ReplyDraft,
        json!({"reply_body": "Hi Irene, we are looking into the double charge."}),
    );
}

/// The run queued with a new ticket, waited for until it finished.
async fn arrival_run(app: &TestApp, s: &Session, ticket_id: &str) -> Value {
    let t = app.ticket(&s.token, ticket_id).await;
    let run = &t["latest_run"];
    assert!(run.is_object(), "a run was queued with the ticket: {t}");
    app.wait_for_run(&s.token, run["id"].as_str().unwrap()).await
}

/// The persist step's decision on `field`.
fn decision<'a>(run: &'a Value, field: &str) -> &'a Value {
    let persist = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step_type"] == "persist")
        .unwrap_or_else(|| panic!("no persist step in {run}"));
    persist["output_snapshot"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] == field)
        .unwrap_or_else(|| panic!("no decision on {field} in {persist}"))
}

async fn billing_ticket(app: &TestApp, s: &Session) -> String {
    let t = app
        .create_ticket(&s.token, "Charged twice", "My card was charged twice for invoice 1042.")
        .await;
    t["id"].as_str().unwrap().to_owned()
}

pub async fn ai_settings_are_admin_only_validated_audited_and_per_workspace(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    let other = app.signup("Beta", "ben@beta.example").await;

    let r = app.get("/api/settings/ai", Some(&agent.token)).await;
    r.expect(200);
    assert_eq!(r.json, settings("off", 0.8, 0.8, 0.9), "defaults");

    // Agents read but cannot change.
    put_ai(&app, &agent, settings("apply", 0.5, 0.5, 0.5)).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    // Each bad value names its field; nothing changes.
    put_ai(&app, &admin, settings("apply", 0.8, 1.5, 0.9)).await.expect_error(
        422,
        Some("validation_failed"),
        Some("thresholds.priority"),
    );
    put_ai(&app, &admin, settings("apply", -0.1, 0.8, 0.9)).await.expect_error(
        422,
        Some("validation_failed"),
        Some("thresholds.category"),
    );
    put_ai(&app, &admin, settings("sometimes", 0.8, 0.8, 0.9)).await.expect_error(
        400,
        None,
        Some("auto_triage"),
    );
    put_ai(&app, &admin, json!({"auto_triage": "apply", "thresholds": {"category": 0.8}}))
        .await
        .expect_error(400, Some("invalid_body"), Some("thresholds.priority"));
    put_ai(&app, &admin, json!({"auto_triage": "apply", "thresholds": {"category": "high", "priority": 0.8, "assignee": 0.9}}))
        .await
        .expect_error(400, None, Some("thresholds.category"));
    assert_eq!(app.get("/api/settings/ai", Some(&admin.token)).await.json["auto_triage"], "off");

    let r = put_ai(&app, &admin, settings("apply", 0.7, 0.75, 0.95)).await;
    r.expect(200);
    assert_eq!(r.json, settings("apply", 0.7, 0.75, 0.95));
    assert_eq!(app.get("/api/settings/ai", Some(&agent.token)).await.json, r.json);

    // Recorded once, with who and what; saving the same settings again records nothing.
    put_ai(&app, &admin, settings("apply", 0.7, 0.75, 0.95)).await.expect(200);
    let log = app.get("/api/audit?kind=settings_updated", Some(&admin.token)).await;
    log.expect(200);
    let events = log.json["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", log.text);
    assert_eq!(events[0]["actor_id"], admin.user_id.as_str());
    assert_eq!(events[0]["detail"]["fields"], "auto_triage.mode,auto_triage.thresholds");
    assert_eq!(
        events[0]["detail"]["auto_triage"],
        "mode=apply category>=0.70 priority>=0.75 assignee>=0.95"
    );

    // Another workspace neither sees nor changes these settings.
    assert_eq!(
        app.get("/api/settings/ai", Some(&other.token)).await.json,
        settings("off", 0.8, 0.8, 0.9)
    );
    put_ai(&app, &other, settings("suggest", 0.1, 0.1, 0.1)).await.expect(200);
    assert_eq!(
        app.get("/api/settings/ai", Some(&admin.token)).await.json,
        settings("apply", 0.7, 0.75, 0.95)
    );
    app.get("/api/settings/ai", None).await.expect_error(401, None, None);
}

pub async fn with_auto_triage_off_a_new_ticket_gets_no_run(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions::default().workers(1)).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let id = billing_ticket(&app, &admin).await;
    let t = app.ticket(&admin.token, &id).await;
    assert!(t["latest_run"].is_null(), "{t}");
    let runs = app.get(&format!("/api/tickets/{id}/workflows"), Some(&admin.token)).await;
    runs.expect(200);
    assert_eq!(runs.json["items"].as_array().map(Vec::len), Some(0), "{}", runs.text);
}

pub async fn suggest_mode_stores_suggestions_and_changes_no_field(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new());
    let app = ctx.spawn_with(AppOptions::default().workers(1).llm(llm.clone())).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    put_ai(&app, &admin, settings("suggest", 0.8, 0.8, 0.9)).await.expect(200);
    script(&llm, &admin.user_id, [Some(0.99), Some(0.99), Some(0.99)]);

    let id = billing_ticket(&app, &admin).await;
    let run = arrival_run(&app, &admin, &id).await;
    assert_eq!(run["workflow_run"]["status"], "succeeded", "{run}");
    assert_eq!(run["workflow_run"]["trigger"], "auto_suggest");
    for field in ["category", "priority", "assignee"] {
        let d = decision(&run, field);
        assert_eq!(d["outcome"], "suggested", "{d}");
        assert_eq!(d["reason"], "the workspace is in suggest mode");
    }
    assert_eq!(decision(&run, "category")["value"], "billing");
    assert_eq!(decision(&run, "priority")["confidence"], 0.99);

    let t = app.ticket(&admin.token, &id).await;
    assert!(t["ticket"]["category"].is_null(), "{t}");
    assert!(t["ticket"]["priority"].is_null(), "{t}");
    assert!(t["ticket"]["assignee_id"].is_null(), "{t}");
    assert_eq!(t["ticket"]["status"], "new");
    // The draft waits for a person: stored, never sent.
    let replies = t["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "{t}");
    assert_eq!(
        (replies[0]["author_type"].as_str(), replies[0]["draft"].as_bool()),
        (Some("ai"), Some(true))
    );
}

pub async fn apply_mode_sets_only_fields_whose_confidence_reaches_the_threshold(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new());
    let app = ctx.spawn_with(AppOptions::default().workers(1).llm(llm.clone())).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    put_ai(&app, &admin, settings("apply", 0.8, 0.8, 0.9)).await.expect(200);
    script(&llm, &admin.user_id, [Some(0.93), Some(0.62), Some(0.9)]);

    let id = billing_ticket(&app, &admin).await;
    let run = arrival_run(&app, &admin, &id).await;
    assert_eq!(run["workflow_run"]["status"], "succeeded", "{run}");
    assert_eq!(run["workflow_run"]["trigger"], "auto_apply");
    let t = app.ticket(&admin.token, &id).await;
    assert_eq!(t["ticket"]["category"], "billing", "0.93 ≥ 0.80: {t}");
    assert!(t["ticket"]["priority"].is_null(), "0.62 < 0.80 stays a suggestion: {t}");
    assert_eq!(t["ticket"]["assignee_id"], admin.user_id.as_str(), "0.90 ≥ 0.90");

    assert_eq!(decision(&run, "category")["outcome"], "applied");
    let p = decision(&run, "priority");
    assert_eq!(p["outcome"], "suggested");
    assert_eq!(p["reason"], "confidence 0.62 < 0.80");
    assert_eq!((p["value"].as_str(), p["threshold"].as_f64()), (Some("high"), Some(0.8)));

    // A step that gives no confidence never applies.
    script(&llm, &admin.user_id, [None, Some(1.0), None]);
    let id = billing_ticket(&app, &admin).await;
    let run = arrival_run(&app, &admin, &id).await;
    let t = app.ticket(&admin.token, &id).await;
    assert!(t["ticket"]["category"].is_null(), "{t}");
    assert_eq!(t["ticket"]["priority"], "high");
    assert!(t["ticket"]["assignee_id"].is_null(), "{t}");
    assert_eq!(decision(&run, "category")["reason"], "no confidence given (threshold 0.80)");

    // A person's run on the same ticket keeps today's behaviour: every result is applied.
    script(&llm, &admin.user_id, [Some(0.1), Some(0.1), Some(0.1)]);
    let r =
        app.post_empty(&format!("/api/tickets/{id}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["trigger"], "manual");
    assert_eq!(r.json["ticket"]["category"], "billing", "{}", r.text);
    assert_eq!(r.json["ticket"]["assignee_id"], admin.user_id.as_str());
}

pub async fn a_field_a_person_set_while_the_run_was_under_way_is_kept(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new().with_delay(Duration::from_millis(300)));
    let app = ctx.spawn_with(AppOptions::default().workers(1).llm(llm.clone())).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    put_ai(&app, &admin, settings("apply", 0.5, 0.5, 0.5)).await.expect(200);
    script(&llm, &admin.user_id, [Some(0.99), Some(0.99), Some(0.99)]);

    let id = billing_ticket(&app, &admin).await;
    app.patch(&format!("/api/tickets/{id}"), Some(&admin.token), json!({"priority": "low"}))
        .await
        .expect(200);
    let run = arrival_run(&app, &admin, &id).await;
    assert_eq!(run["workflow_run"]["status"], "succeeded", "{run}");
    let t = app.ticket(&admin.token, &id).await;
    assert_eq!(t["ticket"]["priority"], "low", "the person's value stays: {t}");
    assert_eq!(t["ticket"]["category"], "billing");
    assert_eq!(decision(&run, "priority")["outcome"], "kept_human");
}

pub async fn an_email_that_opens_a_ticket_is_auto_triaged_and_a_follow_up_is_not(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions::default().workers(1)).await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    put_ai(&app, &admin, settings("suggest", 0.8, 0.8, 0.9)).await.expect(200);
    let r = app.get("/api/settings/email/inbound", Some(&admin.token)).await;
    r.expect(200);
    let path = r.json["path"].as_str().unwrap().to_owned();
    let message = |id: &str, extra: &str, body: &str| {
        format!(
            "From: Carla Customer <carla@shop.example>\r\nTo: support@desk.example\r\n\
             Subject: Checkout down\r\nMessage-ID: <{id}>\r\n{extra}MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    let raw = message("a1@shop.example", "", "Our checkout is down and we are losing orders.");
    let r = app
        .send(Method::POST, &path, None, Body::Raw(Some("message/rfc822"), raw.into_bytes()))
        .await;
    r.expect(201);
    let id = r.json["ticket_id"].as_str().unwrap().to_owned();
    let run = arrival_run(&app, &admin, &id).await;
    assert_eq!(run["workflow_run"]["status"], "succeeded", "{run}");
    assert_eq!(run["workflow_run"]["trigger"], "auto_suggest");
    assert_eq!(
        run["workflow_run"]["started_by_user_id"], "00000000-0000-0000-0000-000000000000",
        "the workspace itself queued it"
    );
    let t = app.ticket(&admin.token, &id).await;
    assert!(t["ticket"]["category"].is_null(), "{t}");

    // The customer's follow-up joins the ticket and queues nothing.
    let follow = message("a2@shop.example", "In-Reply-To: <a1@shop.example>\r\n", "Still down.");
    app.send(Method::POST, &path, None, Body::Raw(Some("message/rfc822"), follow.into_bytes()))
        .await
        .expect(202);
    let runs = app.get(&format!("/api/tickets/{id}/workflows"), Some(&admin.token)).await;
    runs.expect(200);
    assert_eq!(runs.json["items"].as_array().map(Vec::len), Some(1), "{}", runs.text);
}
