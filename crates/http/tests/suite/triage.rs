//! AI triage over HTTP: the offline engine end to end, failures, the active-run guard, async
//! runs with workers, and a queued run that survives a restart.

use std::sync::Arc;
use std::time::Duration;

use opsflow_domain::StepType;
use opsflow_llm::ScriptedLlm;
use opsflow_ports::llm::LlmError;
use serde_json::{Value, json};

use opsflow_ports::services::triage::TextRedactor;

use crate::common::{AppOptions, Ctx, Session, TestApp};

const STEPS: [&str; 5] =
    ["classification", "priority", "assignee_suggestion", "reply_draft", "persist"];

async fn billing_ticket(app: &TestApp, s: &Session) -> String {
    let t = app
        .create_ticket_full(
            &s.token,
            json!({
                "subject": "Charged twice for our monthly invoice",
                "body": "Hi, our credit card was billed twice for the March invoice. Please fix the duplicate payment.",
                "customer_name": "Irene Ivers",
                "customer_email": "irene@client.example",
            }),
        )
        .await;
    t["id"].as_str().unwrap().to_owned()
}

/// Asserts the recorded steps: all five, each once, in an order their dependencies allow
/// (classification → priority, the three analyses before the draft, persist last).
#[track_caller]
fn assert_steps_in_order(steps: &Value) {
    let types: Vec<&str> =
        steps.as_array().expect("steps").iter().map(|s| s["step_type"].as_str().unwrap()).collect();
    let mut sorted = types.clone();
    sorted.sort_unstable();
    let mut expected = STEPS.to_vec();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "five steps, each once: {types:?}");
    let pos = |t: &str| types.iter().position(|x| *x == t).unwrap();
    assert!(pos("classification") < pos("priority"), "{types:?}");
    assert!(pos("priority") < pos("reply_draft"), "{types:?}");
    assert!(pos("assignee_suggestion") < pos("reply_draft"), "{types:?}");
    assert_eq!(pos("persist"), 4, "{types:?}");
}

pub async fn sync_triage_with_the_offline_engine(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    app.patch("/api/tenant", Some(&admin.token), json!({"policies": "Be kind and concise."}))
        .await
        .expect(200);
    let tid = billing_ticket(&app, &agent).await;

    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&agent.token)).await;
    r.expect(200);
    let run = &r.json["workflow_run"];
    assert_eq!(run["status"], "succeeded", "{}", r.text);
    assert_eq!(run["ticket_id"], tid.as_str());
    assert_eq!(run["started_by_user_id"], agent.user_id.as_str());
    assert!(run["error_message"].is_null());
    assert!(run["finished_at"].is_string());
    let run_id = run["id"].as_str().unwrap().to_owned();

    let ticket = &r.json["ticket"];
    assert_eq!(ticket["category"], "billing", "the offline engine classifies a double charge");
    let priority = ticket["priority"].as_str().expect("priority set");
    assert!(["low", "medium", "high", "urgent"].contains(&priority));
    if let Some(assignee) = ticket["assignee_id"].as_str() {
        assert!([admin.user_id.as_str(), agent.user_id.as_str()].contains(&assignee));
    }

    let draft = &r.json["ai_reply_draft"];
    assert_eq!(draft["draft"], true);
    assert_eq!(draft["author_type"], "ai");
    assert!(draft["author_id"].is_null());
    assert!(draft["sent_at"].is_null());
    assert_eq!(draft["ticket_id"], tid.as_str());
    let draft_body = draft["body"].as_str().unwrap();
    assert!(draft_body.contains("Irene"), "the reply uses the customer's name: {draft_body}");
    assert_steps_in_order(&r.json["steps"]);

    // The run with its steps and snapshots.
    let detail = app.get(&format!("/api/workflows/runs/{run_id}"), Some(&admin.token)).await;
    detail.expect(200);
    assert_eq!(detail.json["workflow_run"], *run);
    let steps = &detail.json["steps"];
    assert_steps_in_order(steps);
    for s in steps.as_array().unwrap() {
        assert_eq!(s["workflow_run_id"], run_id.as_str());
        assert_eq!(s["succeeded"], true, "{s}");
        assert!(!s["input_snapshot"].is_null(), "input snapshot recorded: {s}");
        assert!(s["output_snapshot"].is_object(), "output snapshot recorded: {s}");
    }
    let by_type =
        |t: &str| steps.as_array().unwrap().iter().find(|s| s["step_type"] == t).unwrap().clone();
    assert_eq!(by_type("classification")["output_snapshot"]["category"], "billing");
    assert_eq!(by_type("priority")["output_snapshot"]["priority"], priority);
    assert_eq!(by_type("classification")["provider"], "offline");
    assert!(by_type("classification")["input_snapshot"].to_string().contains("Charged twice"));
    assert!(
        by_type("reply_draft")["input_snapshot"].to_string().contains("Be kind and concise."),
        "policies go into the reply prompt"
    );

    // History, newest first, and the ticket view.
    let list = app.get(&format!("/api/tickets/{tid}/workflows"), Some(&agent.token)).await;
    list.expect(200);
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.json["items"][0]["id"], run_id.as_str());

    let t = app.ticket(&agent.token, &tid).await;
    assert_eq!(t["latest_run"]["id"], run_id.as_str());
    assert_eq!(t["latest_run"]["status"], "succeeded");
    assert_eq!(t["ticket"], *ticket);
    assert_eq!(t["ticket"]["status"], "new", "triage does not reply by itself");
    assert_eq!(t["replies"].as_array().unwrap().len(), 1);
    assert_eq!(t["replies"][0], *draft);

    // A second run is allowed once the first finished; history is newest first.
    let second =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    second.expect(200);
    let second_id = second.json["workflow_run"]["id"].as_str().unwrap();
    let list = app.get(&format!("/api/tickets/{tid}/workflows"), Some(&agent.token)).await;
    let ids: Vec<&str> =
        list.json["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![second_id, run_id.as_str()]);
    assert_eq!(app.ticket(&agent.token, &tid).await["latest_run"]["id"], second_id);

    // Triage runs are counted in the metrics.
    let metrics = app.get("/metrics", None).await;
    assert!(
        metrics.text.contains("opsflow_triage_runs_total{status=\"succeeded\"} 2"),
        "{}",
        metrics.text
    );
}

pub async fn ai_draft_is_edited_then_consumed_by_the_sent_reply(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;
    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    let draft_id = r.json["ai_reply_draft"]["id"].as_str().unwrap().to_owned();
    let original = r.json["ai_reply_draft"]["body"].as_str().unwrap().to_owned();
    let run_id = r.json["workflow_run"]["id"].as_str().unwrap().to_owned();

    // Save Draft.
    let edited = app
        .patch(
            &format!("/api/tickets/{tid}/replies/{draft_id}"),
            Some(&admin.token),
            json!({"body": "Hi Irene, we are refunding... no: we are checking."}),
        )
        .await;
    edited.expect(200);
    assert_eq!(edited.json["id"], draft_id.as_str());
    assert_eq!(edited.json["draft"], true, "still a draft");
    assert!(edited.json["sent_at"].is_null());
    assert_eq!(edited.json["body"], "Hi Irene, we are refunding... no: we are checking.");
    let t = app.ticket(&admin.token, &tid).await;
    assert_eq!(t["replies"][0]["body"], "Hi Irene, we are refunding... no: we are checking.");

    // Save & Mark Replied: the sent reply replaces the draft, the status changes, at once.
    let sent = app
        .post(
            &format!("/api/tickets/{tid}/replies"),
            Some(&admin.token),
            json!({"body": "Hi Irene, the duplicate charge is being reversed.", "status": "replied", "draft_id": draft_id}),
        )
        .await;
    sent.expect(201);
    assert_eq!(sent.json["draft"], false);
    assert_eq!(sent.json["author_type"], "human");
    let t = app.ticket(&admin.token, &tid).await;
    assert_eq!(t["ticket"]["status"], "replied");
    let replies = t["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1, "the draft was consumed: {replies:?}");
    assert_eq!(replies[0]["id"], sent.json["id"]);
    assert_eq!(replies[0]["draft"], false);

    // The draft is gone for good; the original text stays in the run's history.
    app.patch(
        &format!("/api/tickets/{tid}/replies/{draft_id}"),
        Some(&admin.token),
        json!({"body": "again"}),
    )
    .await
    .expect_error(404, None, None);
    let run = app.get(&format!("/api/workflows/runs/{run_id}"), Some(&admin.token)).await;
    let kept = run.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step_type"] == "reply_draft")
        .map(|s| s["output_snapshot"]["reply_body"].clone());
    assert_eq!(kept, Some(json!(original)), "the original draft stays in the run's history");
}

pub async fn a_failing_provider_fails_the_run_and_leaves_the_ticket_unchanged(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new());
    for _ in 0..3 {
        llm.push_err(LlmError::Timeout);
    }
    let app = ctx.spawn_with(AppOptions::default().llm(llm.clone())).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;
    let before = app.ticket(&admin.token, &tid).await;

    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    let run = &r.json["workflow_run"];
    assert_eq!(run["status"], "failed", "{}", r.text);
    assert!(run["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text);
    assert!(run["finished_at"].is_string());
    assert!(r.json["ai_reply_draft"].is_null());
    assert_eq!(r.json["ticket"], before["ticket"], "ticket unchanged");

    let after = app.ticket(&admin.token, &tid).await;
    assert_eq!(after["ticket"], before["ticket"]);
    assert_eq!(after["replies"], json!([]), "no draft stored");
    assert_eq!(after["latest_run"]["status"], "failed");
    assert_eq!(after["latest_run"]["id"], run["id"]);

    let detail = app
        .get(&format!("/api/workflows/runs/{}", run["id"].as_str().unwrap()), Some(&admin.token))
        .await;
    detail.expect(200);
    assert_eq!(detail.json["workflow_run"]["status"], "failed");
    assert!(
        detail.json["steps"].as_array().unwrap().iter().all(|s| s["step_type"] != "persist"),
        "nothing was persisted: {}",
        detail.text
    );

    // A failed run is not active: the ticket can be triaged again (and fails again here,
    // because the scripted provider has no answers left).
    let again =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    again.expect(200);
    assert_eq!(again.json["workflow_run"]["status"], "failed");
    assert_eq!(app.ticket(&admin.token, &tid).await["ticket"], before["ticket"]);
}

pub async fn invalid_model_output_fails_the_run_cleanly(ctx: Ctx) {
    // Out-of-enum answers, twice (the repair attempt too): the run fails, nothing is stored.
    let llm = Arc::new(ScriptedLlm::new());
    for _ in 0..2 {
        llm.push_ok_for(
            StepType::Classification,
            json!({"category": "urgent-billing", "reason": "made up"}),
        );
    }
    let app = ctx.spawn_with(AppOptions::default().llm(llm)).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;
    let before = app.ticket(&admin.token, &tid).await;
    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "failed", "{}", r.text);
    assert!(r.json["ai_reply_draft"].is_null());
    let after = app.ticket(&admin.token, &tid).await;
    assert_eq!(after["ticket"], before["ticket"]);
    assert_eq!(after["replies"], json!([]));
}

pub async fn a_second_request_while_a_run_is_active_is_409_with_its_id(ctx: Ctx) {
    // No workers: the async run stays queued, i.e. active.
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;

    let queued = app
        .post_empty(&format!("/api/tickets/{tid}/workflows/triage?async=true"), Some(&admin.token))
        .await;
    queued.expect(202);
    assert_eq!(queued.json["workflow_run"]["status"], "queued");
    assert!(queued.json["ai_reply_draft"].is_null());
    let run_id = queued.json["workflow_run"]["id"].as_str().unwrap();

    for path in [
        format!("/api/tickets/{tid}/workflows/triage"),
        format!("/api/tickets/{tid}/workflows/triage?async=true"),
    ] {
        let r = app.post_empty(&path, Some(&admin.token)).await;
        r.expect_error(409, Some("workflow_run_active"), None);
        assert_eq!(r.json["error"]["workflow_run_id"], run_id, "the active run's id: {}", r.text);
    }
    let list = app.get(&format!("/api/tickets/{tid}/workflows"), Some(&admin.token)).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1, "no duplicate run");
    let t = app.ticket(&admin.token, &tid).await;
    assert_eq!(t["latest_run"]["id"], run_id);
    assert_eq!(t["latest_run"]["status"], "queued");
    assert!(t["ticket"]["category"].is_null());

    // Another ticket is not blocked.
    let other = app.create_ticket(&admin.token, "Another", "Something else broke").await;
    app.post_empty(
        &format!("/api/tickets/{}/workflows/triage", other["id"].as_str().unwrap()),
        Some(&admin.token),
    )
    .await
    .expect(200);
}

pub async fn async_triage_is_completed_by_the_worker_pool(ctx: Ctx) {
    let app = ctx.spawn_with(AppOptions::default().workers(2)).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;

    let r = app
        .post_empty(&format!("/api/tickets/{tid}/workflows/triage?async=true"), Some(&admin.token))
        .await;
    r.expect(202);
    assert_eq!(r.json["workflow_run"]["status"], "queued");
    let run_id = r.json["workflow_run"]["id"].as_str().unwrap().to_owned();

    let done = app.wait_for_run(&admin.token, &run_id).await;
    assert_eq!(done["workflow_run"]["status"], "succeeded", "{done}");
    assert_eq!(done["workflow_run"]["attempts"], 1);
    assert_steps_in_order(&done["steps"]);

    let t = app.ticket(&admin.token, &tid).await;
    assert_eq!(t["ticket"]["category"], "billing");
    assert!(t["ticket"]["priority"].is_string());
    assert_eq!(t["latest_run"]["status"], "succeeded");
    let replies = t["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["draft"], true);
    assert_eq!(replies[0]["author_type"], "ai");
}

pub async fn a_queued_run_survives_a_restart(ctx: Ctx) {
    let db = ctx.new_db();
    // First server: no workers, the run stays queued; then the server stops.
    let first = ctx.spawn_on(&db, AppOptions::default()).await;
    let admin = first.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&first, &admin).await;
    let r = first
        .post_empty(&format!("/api/tickets/{tid}/workflows/triage?async=true"), Some(&admin.token))
        .await;
    r.expect(202);
    let run_id = r.json["workflow_run"]["id"].as_str().unwrap().to_owned();
    first.stop().await;

    // Second server on the same database, with workers: it picks the run up.
    let second = ctx.spawn_on(&db, AppOptions::default().workers(1)).await;
    let done = second.wait_for_run(&admin.token, &run_id).await;
    assert_eq!(done["workflow_run"]["status"], "succeeded", "{done}");
    assert_steps_in_order(&done["steps"]);
    let t = second.ticket(&admin.token, &tid).await;
    assert_eq!(t["ticket"]["category"], "billing");
    assert_eq!(t["replies"].as_array().unwrap().len(), 1);
    assert_eq!(t["replies"][0]["draft"], true);
    let runs = second.get(&format!("/api/tickets/{tid}/workflows"), Some(&admin.token)).await;
    assert_eq!(runs.json["items"].as_array().unwrap().len(), 1, "the same run, not a new one");
}

/// A scripted provider that answers one whole run, each call after `delay`.
fn slow_valid_llm(delay: Duration) -> Arc<ScriptedLlm> {
    let llm = Arc::new(ScriptedLlm::new().with_delay(delay));
    llm.push_ok_for(StepType::Classification, json!({"category": "billing", "reason": "double charge"}))
        .push_ok_for(StepType::Priority, json!({"priority": "high", "reason": "money taken twice"}))
        .push_ok_for(StepType::AssigneeSuggestion, json!({"assignee_user_id": null, "reason": "no preference"}))
        .push_ok_for(StepType::ReplyDraft, json!({"reply_body": "Hi Irene, thanks for letting us know. We are looking into the duplicate charge."}));
    llm
}

pub async fn redacted_prompts_are_what_the_model_gets_and_what_history_shows(ctx: Ctx) {
    let llm = slow_valid_llm(Duration::ZERO);
    let redactor: TextRedactor =
        Arc::new(|text: &str| opsflow_llm::redact::redact_text(text).into_owned());
    let app = ctx
        .spawn_with(AppOptions {
            redactor: Some(redactor),
            ..AppOptions::default().llm(llm.clone())
        })
        .await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let t = app
        .create_ticket_full(
            &admin.token,
            json!({
                "subject": "Charged twice",
                "body": "Card 4111 1111 1111 1111 was billed twice. Call me on +44 20 7946 0958 or write to irene.private@mail.example.",
                "customer_name": "Irene Ivers",
                "customer_email": "irene@client.example",
            }),
        )
        .await;
    let tid = t["id"].as_str().unwrap();
    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "succeeded", "{}", r.text);

    let secrets =
        ["4111 1111 1111 1111", "7946 0958", "irene.private@mail.example", "irene@client.example"];
    // The model never saw the personal data...
    let sent = serde_json::to_string(&llm.requests()).unwrap();
    for secret in secrets {
        assert!(!sent.contains(secret), "{secret} was sent to the model: {sent}");
    }
    assert!(
        sent.contains("[card]") && sent.contains("[phone]") && sent.contains("[email]"),
        "{sent}"
    );
    // ...and the run's history records exactly that redacted input.
    let run = r.json["workflow_run"]["id"].as_str().unwrap();
    let detail = app.get(&format!("/api/workflows/runs/{run}"), Some(&admin.token)).await;
    detail.expect(200);
    let inputs: Vec<String> = detail.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step_type"] != "persist")
        .map(|s| s["input_snapshot"].to_string())
        .collect();
    assert_eq!(inputs.len(), 4);
    for input in &inputs {
        for secret in secrets {
            assert!(!input.contains(secret), "{secret} in a recorded input: {input}");
        }
    }
    assert!(inputs[0].contains("[card]"), "{}", inputs[0]);
    // Record ids are left alone, so the assignee step can still name users.
    assert!(inputs.iter().any(|i| i.contains(&admin.user_id)), "{inputs:?}");
    // The ticket itself is stored as written.
    let stored = app.ticket(&admin.token, tid).await;
    assert!(stored["ticket"]["body"].as_str().unwrap().contains("4111 1111 1111 1111"));
}

pub async fn a_double_click_starts_one_run(ctx: Ctx) {
    let app =
        ctx.spawn_with(AppOptions::default().llm(slow_valid_llm(Duration::from_millis(500)))).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;
    let path = format!("/api/tickets/{tid}/workflows/triage");
    let (one, two) = tokio::join!(
        app.post_empty(&path, Some(&admin.token)),
        app.post_empty(&path, Some(&admin.token))
    );
    let (ok, conflict) = if one.status == 200 { (one, two) } else { (two, one) };
    ok.expect(200);
    conflict.expect_error(409, Some("workflow_run_active"), None);
    assert_eq!(ok.json["workflow_run"]["status"], "succeeded", "{}", ok.text);
    assert_eq!(conflict.json["error"]["workflow_run_id"], ok.json["workflow_run"]["id"]);
    let runs = app.get(&format!("/api/tickets/{tid}/workflows"), Some(&admin.token)).await;
    assert_eq!(runs.json["items"].as_array().unwrap().len(), 1, "one run: {}", runs.text);
    let t = app.ticket(&admin.token, &tid).await;
    assert_eq!(t["ticket"]["priority"], "high");
    assert_eq!(t["replies"].as_array().unwrap().len(), 1, "one draft");
}

pub async fn a_run_left_running_by_a_crash_is_finished_after_its_lease(ctx: Ctx) {
    let db = ctx.new_db();
    let lease = time::Duration::seconds(1);
    // First server: the provider never answers in time; the client gives up and the server
    // goes away while the run is `running`.
    let stuck = Arc::new(ScriptedLlm::new().with_delay(Duration::from_secs(120)));
    let first = ctx
        .spawn_on(&db, AppOptions { lease: Some(lease), ..AppOptions::default().llm(stuck) })
        .await;
    let admin = first.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&first, &admin).await;
    // The request hangs on the provider; it is never answered.
    let hanging = tokio::spawn(
        first
            .http
            .post(first.url(&format!("/api/tickets/{tid}/workflows/triage")))
            .bearer_auth(&admin.token)
            .send(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let run_id = loop {
        let runs = first.get(&format!("/api/tickets/{tid}/workflows"), Some(&admin.token)).await;
        if let Some(run) = runs.json["items"].as_array().and_then(|items| items.first()) {
            assert_eq!(run["status"], "running", "{}", runs.text);
            break run["id"].as_str().unwrap().to_owned();
        }
        assert!(tokio::time::Instant::now() < deadline, "the run was never created");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!hanging.is_finished(), "the stuck run should not have answered");
    drop(first);
    hanging.abort();

    // Second server on the same database with a worker: once the lease has expired, the run
    // is claimed again and finished.
    let second = ctx
        .spawn_on(&db, AppOptions { lease: Some(lease), ..AppOptions::default().workers(1) })
        .await;
    let done = second.wait_for_run(&admin.token, &run_id).await;
    assert_eq!(done["workflow_run"]["status"], "succeeded", "{done}");
    assert_eq!(done["workflow_run"]["attempts"], 2, "claimed a second time");
    let t = second.ticket(&admin.token, &tid).await;
    assert_eq!(t["ticket"]["category"], "billing");
    assert_eq!(t["replies"].as_array().unwrap().len(), 1);
    assert_eq!(t["latest_run"]["id"], run_id.as_str());
}

/// Scripts one run on `llm` with the given assignee suggestion and reply (pushed `replies`
/// times, for the guardrail regeneration).
fn script_run(llm: &ScriptedLlm, assignee: Value, reply: &str, replies: usize) {
    llm.push_ok_for(
        StepType::Classification,
        json!({"category": "billing", "reason": "double charge"}),
    )
    .push_ok_for(StepType::Priority, json!({"priority": "high", "reason": "money taken twice"}))
    .push_ok_for(
        StepType::AssigneeSuggestion,
        json!({"assignee_user_id": assignee, "reason": "best fit"}),
    );
    for _ in 0..replies {
        llm.push_ok_for(StepType::ReplyDraft, json!({"reply_body": reply}));
    }
}

pub async fn a_model_cannot_assign_a_user_of_another_tenant(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new());
    let app = ctx.spawn_with(AppOptions::default().llm(llm.clone())).await;
    let a = app.signup("Alpha", "ann@alpha.example").await;
    let b = app.signup("Beta", "ben@beta.example").await;
    let tid = billing_ticket(&app, &a).await;

    // The model names tenant B's admin for tenant A's ticket: rejected, recorded, not assigned.
    script_run(&llm, json!(b.user_id), "Hi Irene, we are looking into the charge.", 1);
    let r = app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&a.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "succeeded", "{}", r.text);
    assert!(r.json["ticket"]["assignee_id"].is_null(), "{}", r.text);
    assert_eq!(r.json["ticket"]["priority"], "high");
    let step = r.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step_type"] == "assignee_suggestion")
        .unwrap()
        .clone();
    assert!(step["output_snapshot"]["assignee_user_id"].is_null(), "{step}");
    assert_eq!(step["output_snapshot"]["rejected_assignee_user_id"], b.user_id.as_str(), "{step}");
    // Nothing of B's was touched: B still has no tickets and the same single user.
    assert_eq!(app.ticket_count(&b.token).await, 0);
    let users = app.get("/api/users", Some(&b.token)).await;
    assert_eq!(users.json["items"].as_array().unwrap().len(), 1);

    // The model naming A's own active user is applied.
    script_run(&llm, json!(a.user_id), "Hi Irene, we are looking into the charge.", 1);
    let r = app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&a.token)).await;
    assert_eq!(r.json["workflow_run"]["status"], "succeeded", "{}", r.text);
    assert_eq!(r.json["ticket"]["assignee_id"], a.user_id.as_str());
}

pub async fn guardrail_flags_on_a_draft_are_returned_and_recorded(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new());
    let app = ctx.spawn_with(AppOptions::default().llm(llm.clone())).await;
    let a = app.signup("Alpha", "ann@alpha.example").await;
    let tid = billing_ticket(&app, &a).await;
    // The same promise twice: the regenerated draft still makes it.
    let promise = "Hi Irene, we will refund you in full, you will get your money back.";
    script_run(&llm, json!(null), promise, 2);
    let r = app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&a.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "succeeded", "{}", r.text);
    let flags = r.json["guardrail_flags"].as_array().expect("guardrail_flags");
    assert!(flags.contains(&json!("refund_commitment")), "{}", r.text);
    assert_eq!(
        r.json["ai_reply_draft"]["draft"], true,
        "a flagged draft is kept for a person to edit"
    );
    let run = app
        .get(
            &format!("/api/workflows/runs/{}", r.json["workflow_run"]["id"].as_str().unwrap()),
            Some(&a.token),
        )
        .await;
    let step = run.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step_type"] == "reply_draft")
        .unwrap()
        .clone();
    assert!(
        step["guardrail_flags"].as_array().unwrap().contains(&json!("refund_commitment")),
        "{step}"
    );
    assert_eq!(
        llm.tasks().iter().filter(|t| **t == StepType::ReplyDraft).count(),
        2,
        "regenerated once"
    );
}

pub async fn a_draft_can_only_be_consumed_on_its_own_ticket(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let x = billing_ticket(&app, &admin).await;
    let y = app.create_ticket(&admin.token, "Other ticket", "Unrelated question").await;
    let y = y["id"].as_str().unwrap().to_owned();
    let r = app.post_empty(&format!("/api/tickets/{x}/workflows/triage"), Some(&admin.token)).await;
    let draft = r.json["ai_reply_draft"]["id"].as_str().unwrap().to_owned();
    let (x_before, y_before) =
        (app.ticket(&admin.token, &x).await, app.ticket(&admin.token, &y).await);

    // X's draft named on Y: not found there; nothing is sent, consumed or changed.
    app.post(
        &format!("/api/tickets/{y}/replies"),
        Some(&admin.token),
        json!({"body": "Sent on the wrong ticket", "status": "replied", "draft_id": draft}),
    )
    .await
    .expect_error(404, None, None);
    app.patch(
        &format!("/api/tickets/{y}/replies/{draft}"),
        Some(&admin.token),
        json!({"body": "edited via Y"}),
    )
    .await
    .expect_error(404, None, None);

    // A sent (human) reply is not a draft: it cannot be consumed.
    let human = app
        .post(
            &format!("/api/tickets/{y}/replies"),
            Some(&admin.token),
            json!({"body": "First answer"}),
        )
        .await;
    human.expect(201);
    let y_with_reply = app.ticket(&admin.token, &y).await;
    app.post(
        &format!("/api/tickets/{y}/replies"),
        Some(&admin.token),
        json!({"body": "Second", "status": "closed", "draft_id": human.json["id"]}),
    )
    .await
    .expect_error(409, Some("reply_not_draft"), None);

    assert_eq!(app.ticket(&admin.token, &x).await, x_before, "X and its draft unchanged");
    assert_eq!(
        app.ticket(&admin.token, &y).await,
        y_with_reply,
        "Y unchanged by the failed replies"
    );
    assert_eq!(y_before["replies"], json!([]));
}

pub async fn two_servers_on_one_database_execute_each_queued_run_once(ctx: Ctx) {
    let db = ctx.new_db();
    let one = ctx.spawn_on(&db, AppOptions::default().workers(2)).await;
    let two = ctx.spawn_on(&db, AppOptions::default().workers(2)).await;
    let admin = one.signup("Acme", "ada@example.com").await;
    let mut runs = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &one } else { &two };
        let tid = billing_ticket(app, &admin).await;
        let r = app
            .post_empty(
                &format!("/api/tickets/{tid}/workflows/triage?async=true"),
                Some(&admin.token),
            )
            .await;
        r.expect(202);
        runs.push((tid, r.json["workflow_run"]["id"].as_str().unwrap().to_owned()));
    }
    for (tid, run_id) in &runs {
        let done = two.wait_for_run(&admin.token, run_id).await;
        assert_eq!(done["workflow_run"]["status"], "succeeded", "{done}");
        assert_eq!(done["workflow_run"]["attempts"], 1, "claimed once: {done}");
        assert_eq!(done["steps"].as_array().unwrap().len(), 5, "executed once: {done}");
        let t = one.ticket(&admin.token, tid).await;
        assert_eq!(t["replies"].as_array().unwrap().len(), 1, "one draft: {t}");
    }
}

/// An OpenAI-compatible server (wiremock) answering each triage task.
async fn openai_double(answers: &[(&str, Value)]) -> wiremock::MockServer {
    use wiremock::matchers::{body_partial_json, header, method, path};
    use wiremock::{Mock, ResponseTemplate};

    let server = wiremock::MockServer::start().await;
    for (task, answer) in answers {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(header("authorization", "Bearer sk-test-key"))
            .and(body_partial_json(json!({"response_format": {"json_schema": {"name": task}}})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "chatcmpl-1",
                "model": "gpt-test",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": answer.to_string()}}],
                "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            })))
            .mount(&server)
            .await;
    }
    server
}

fn openai_settings(server: &wiremock::MockServer) -> opsflow_llm::LlmSettings {
    opsflow_llm::LlmSettings {
        provider: opsflow_llm::Provider::OpenAi,
        model: Some("gpt-test".to_owned()),
        base_url: Some(format!("{}/v1", server.uri())),
        api_key: Some(secrecy::SecretString::from("sk-test-key".to_owned())),
        max_retries: 0,
        request_timeout: Duration::from_secs(5),
        ..opsflow_llm::LlmSettings::default()
    }
}

pub async fn triage_through_an_openai_compatible_provider(ctx: Ctx) {
    let server = openai_double(&[
        ("classification", json!({"category": "billing", "reason": "a duplicate charge"})),
        ("priority", json!({"priority": "urgent", "reason": "money taken twice"})),
        ("assignee_suggestion", json!({"assignee_user_id": null, "reason": "no one fits better"})),
        (
            "reply_draft",
            json!({"reply_body": "Hi Irene, thank you, we are looking into the duplicate charge."}),
        ),
    ])
    .await;
    let llm = opsflow_llm::build_client(&openai_settings(&server)).expect("OpenAI client");
    let app = ctx.spawn_with(AppOptions::default().llm(llm)).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    app.patch(
        "/api/tenant",
        Some(&admin.token),
        json!({"policies": "Answer within the contract."}),
    )
    .await
    .expect(200);
    let tid = billing_ticket(&app, &admin).await;

    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "succeeded", "{}", r.text);
    assert_eq!(r.json["ticket"]["category"], "billing");
    assert_eq!(r.json["ticket"]["priority"], "urgent");
    assert_eq!(
        r.json["ai_reply_draft"]["body"],
        "Hi Irene, thank you, we are looking into the duplicate charge."
    );
    for step in r.json["steps"].as_array().unwrap().iter().filter(|s| s["step_type"] != "persist") {
        assert_eq!(step["provider"], "openai", "{step}");
        assert_eq!(step["model"], "gpt-test", "{step}");
        assert_eq!(step["prompt_tokens"], 11, "{step}");
        assert_eq!(step["completion_tokens"], 7, "{step}");
    }

    // What went over the wire: one call per task, the ticket text in the prompts, the
    // workspace's policies in the reply prompt.
    let requests = server.received_requests().await.expect("recorded requests");
    assert_eq!(requests.len(), 4);
    let bodies: Vec<Value> =
        requests.iter().map(|r| r.body_json().expect("JSON request")).collect();
    let of = |task: &str| {
        bodies
            .iter()
            .find(|b| b["response_format"]["json_schema"]["name"] == task)
            .unwrap()
            .to_string()
    };
    assert!(of("classification").contains("Charged twice for our monthly invoice"));
    assert!(of("reply_draft").contains("Answer within the contract."));
    assert!(bodies.iter().all(|b| b["model"] == "gpt-test"));
}

pub async fn a_provider_that_answers_500_fails_the_run(ctx: Ctx) {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};

    let server = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .mount(&server)
        .await;
    let llm = opsflow_llm::build_client(&openai_settings(&server)).expect("OpenAI client");
    let app = ctx.spawn_with(AppOptions::default().llm(llm)).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let tid = billing_ticket(&app, &admin).await;
    let before = app.ticket(&admin.token, &tid).await;

    let r =
        app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&admin.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "failed", "{}", r.text);
    assert!(r.json["workflow_run"]["error_message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(r.json["ai_reply_draft"].is_null());
    assert_eq!(app.ticket(&admin.token, &tid).await["ticket"], before["ticket"]);
}
