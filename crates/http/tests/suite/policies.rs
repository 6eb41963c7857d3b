//! Structured reply policies (issue 12) at `/api/settings/policies`: validation, admin-only
//! writes, audit and workspace isolation; the next draft following them; and the forbidden
//! commitments checked on AI drafts and on people's replies.

use std::sync::Arc;

use opsflow_domain::StepType;
use opsflow_llm::ScriptedLlm;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{AppOptions, Body, Ctx, Session, TestApp};

const PATH: &str = "/api/settings/policies";

async fn put(app: &TestApp, s: &Session, body: Value) -> crate::common::Resp {
    app.send(Method::PUT, PATH, Some(&s.token), Body::Json(body)).await
}

fn empty() -> Value {
    json!({"sign_off": null, "support_hours": null, "status_page_url": null, "languages": [],
           "forbidden_commitments": []})
}

fn full() -> Value {
    json!({
        "sign_off": "Maria, Acme Support",
        "support_hours": {"days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                          "start": "09:00", "end": "17:00", "time_zone": "Europe/Berlin"},
        "status_page_url": "https://status.acme.example",
        "languages": ["en", "es"],
        "forbidden_commitments": ["compensation", "billing team"],
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut body = full();
    body[field] = value;
    body
}

pub async fn reply_policies_are_admin_only_validated_audited_and_per_workspace(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    let other = app.signup("Beta", "ben@beta.example").await;

    let r = app.get(PATH, Some(&agent.token)).await;
    r.expect(200);
    assert_eq!(r.json["policies"], empty(), "a workspace starts without policies");
    let zones = r.json["time_zones"].as_array().expect("time zones");
    assert!(zones.iter().any(|z| z == "Europe/Berlin"), "{}", r.text);
    assert_eq!(r.json["engine_languages"], json!(["en", "es", "de"]));

    // Agents read but cannot change.
    put(&app, &agent, full()).await.expect_error(403, Some("forbidden"), None);

    // Each bad value is a 4xx naming its field, and nothing changes.
    let hours = |start: &str, end: &str, zone: &str, days: Value| json!({"days": days, "start": start, "end": end, "time_zone": zone});
    let weekdays = json!(["monday"]);
    let cases: Vec<(Value, u16, &str)> = vec![
        (with("sign_off", json!("s".repeat(201))), 422, "sign_off"),
        (with("status_page_url", json!("ftp://status.acme.example")), 422, "status_page_url"),
        (with("status_page_url", json!("javascript:alert(1)")), 422, "status_page_url"),
        (with("languages", json!(["en", "xx"])), 422, "languages[1]"),
        (with("languages", json!(["en", "EN"])), 422, "languages"),
        (
            with(
                "languages",
                json!(["en", "de", "es", "fr", "it", "nl", "pt", "pl", "sv", "da", "fi"]),
            ),
            422,
            "languages",
        ),
        (with("forbidden_commitments", json!(["refund", " "])), 422, "forbidden_commitments[1]"),
        (with("forbidden_commitments", json!(["x".repeat(61)])), 422, "forbidden_commitments[0]"),
        (with("forbidden_commitments", json!(["Refund", "refund"])), 422, "forbidden_commitments"),
        (
            with(
                "forbidden_commitments",
                json!((0..21).map(|i| format!("p{i}")).collect::<Vec<_>>()),
            ),
            422,
            "forbidden_commitments",
        ),
        (
            with("support_hours", hours("17:00", "09:00", "Europe/Berlin", weekdays.clone())),
            422,
            "support_hours.end",
        ),
        (
            with("support_hours", hours("9am", "17:00", "Europe/Berlin", weekdays.clone())),
            422,
            "support_hours.start",
        ),
        (
            with("support_hours", hours("09:00", "25:00", "Europe/Berlin", weekdays.clone())),
            422,
            "support_hours.end",
        ),
        (
            with("support_hours", hours("09:00", "17:00", "Mars/Olympus", weekdays.clone())),
            422,
            "support_hours.time_zone",
        ),
        (
            with("support_hours", hours("09:00", "17:00", "UTC", json!([]))),
            422,
            "support_hours.days",
        ),
        (
            with("support_hours", hours("09:00", "17:00", "UTC", json!(["someday"]))),
            400,
            "support_hours.days[0]",
        ),
        (with("languages", json!("en")), 400, "languages"),
        (with("unknown", json!(1)), 400, "unknown"),
    ];
    for (body, status, field) in cases {
        let r = put(&app, &admin, body.clone()).await;
        assert_eq!(r.status, status, "{body} -> {}", r.text);
        r.expect_error(status, None, Some(field));
    }
    assert_eq!(app.get(PATH, Some(&admin.token)).await.json["policies"], empty());

    // A valid change is stored, normalised and readable by agents.
    let r = put(&app, &admin, full()).await;
    r.expect(200);
    assert_eq!(r.json["policies"], full());
    assert_eq!(app.get(PATH, Some(&agent.token)).await.json["policies"], full());
    // Blank optional texts (a cleared form field) mean "none".
    let mut cleared = full();
    cleared["sign_off"] = json!("  ");
    cleared["status_page_url"] = json!("");
    let r = put(&app, &admin, cleared).await;
    r.expect(200);
    assert!(
        r.json["policies"]["sign_off"].is_null() && r.json["policies"]["status_page_url"].is_null()
    );
    put(&app, &admin, full()).await.expect(200);

    // Each change is audited with the fields it touched; saving the same again is not.
    put(&app, &admin, full()).await.expect(200);
    let log = app.get("/api/audit?kind=settings_updated", Some(&admin.token)).await;
    log.expect(200);
    let fields: Vec<&str> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"]["fields"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        fields,
        [
            "reply_policy.sign_off,reply_policy.status_page_url",
            "reply_policy.sign_off,reply_policy.status_page_url",
            "reply_policy.sign_off,reply_policy.support_hours,reply_policy.status_page_url,\
             reply_policy.languages,reply_policy.forbidden_commitments",
        ],
        "{}",
        log.text
    );

    // Another workspace neither sees nor changes them.
    assert_eq!(app.get(PATH, Some(&other.token)).await.json["policies"], empty());
    put(&app, &other, with("sign_off", json!("Ben"))).await.expect(200);
    assert_eq!(app.get(PATH, Some(&admin.token)).await.json["policies"], full());
    let theirs = app.get("/api/audit?kind=settings_updated", Some(&other.token)).await;
    assert_eq!(theirs.json["items"].as_array().map(Vec::len), Some(1), "{}", theirs.text);
    app.get(PATH, None).await.expect_error(401, None, None);
    app.send(Method::PUT, PATH, None, Body::Json(full())).await.expect_error(401, None, None);
}

async fn triage(app: &TestApp, s: &Session, subject: &str, body: &str) -> Value {
    let t = app
        .create_ticket_full(
            &s.token,
            json!({"subject": subject, "body": body, "customer_name": "Irene Ivers",
                   "customer_email": "irene@client.example"}),
        )
        .await;
    let tid = t["id"].as_str().unwrap();
    let r = app.post_empty(&format!("/api/tickets/{tid}/workflows/triage"), Some(&s.token)).await;
    r.expect(200);
    assert_eq!(r.json["workflow_run"]["status"], "succeeded", "{}", r.text);
    r.json
}

fn draft(run: &Value) -> String {
    run["ai_reply_draft"]["body"].as_str().expect("a draft").to_owned()
}

fn step<'a>(run: &'a Value, t: &str) -> &'a Value {
    run["steps"].as_array().unwrap().iter().find(|s| s["step_type"] == t).expect("step")
}

pub async fn the_next_draft_follows_changed_policies(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let subject = "Charged twice for our monthly invoice";
    let body = "Hi, our credit card was billed twice for the March invoice. Please fix it.";

    let before = draft(&triage(&app, &admin, subject, body).await);
    assert!(before.ends_with("Kind regards,\nThe Acme Agency team"), "{before}");
    assert!(before.contains("billing team"), "{before}");
    assert!(!before.contains("available"), "{before}");

    put(&app, &admin, full()).await.expect(200);
    let run = triage(&app, &admin, subject, body).await;
    let after = draft(&run);
    assert!(after.ends_with("Kind regards,\nMaria, Acme Support"), "{after}");
    assert!(!after.contains("Acme Agency team"), "{after}");
    assert!(
        after.contains("Our team is available Monday to Friday, 09:00–17:00 (Europe/Berlin)."),
        "{after}"
    );
    assert!(!after.to_lowercase().contains("billing team"), "a forbidden phrase: {after}");
    assert!(!after.contains("status.acme.example"), "a billing ticket gets no status link");
    // The model prompt carries the same rules as explicit instructions.
    let prompt = step(&run, "reply_draft")["input_snapshot"].to_string();
    assert!(prompt.contains("Maria, Acme Support"), "{prompt}");
    assert!(prompt.contains("Forbidden commitments: never write \\\"compensation\\\""), "{prompt}");
    // A run executed directly is one attempt.
    for s in run["steps"].as_array().unwrap() {
        assert_eq!(s["attempt"], 1, "{s}");
    }

    // A Spanish ticket in a workspace that speaks Spanish gets a Spanish draft; an outage gets
    // the status page.
    let es = draft(
        &triage(
            &app,
            &admin,
            "No puedo entrar",
            "Hola, desde ayer no puedo entrar en mi cuenta y el sitio da un error. ¿Pueden \
             ayudarme, por favor? Es muy urgente para nosotros.",
        )
        .await,
    );
    assert!(es.starts_with("Hola, Irene:"), "{es}");
    assert!(es.contains("de lunes a viernes, 09:00–17:00 (Europe/Berlin)"), "{es}");
    let outage = triage(
        &app,
        &admin,
        "Website is down for all users",
        "Our whole site is down since this morning, every page shows a 502 error and no customer can order.",
    )
    .await;
    let priority = outage["ticket"]["priority"].as_str().unwrap();
    if outage["ticket"]["category"] == "bug" && ["high", "urgent"].contains(&priority) {
        assert!(draft(&outage).contains("https://status.acme.example"), "{}", draft(&outage));
    } else {
        panic!("the offline engine should see an outage as a high or urgent bug: {outage}");
    }
}

pub async fn forbidden_commitments_flag_drafts_and_replies_need_confirming(ctx: Ctx) {
    let llm = Arc::new(ScriptedLlm::new().with_valid_defaults());
    let app = ctx.spawn_with(AppOptions::default().llm(llm.clone())).await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let other = app.signup("Beta", "ben@beta.example").await;
    put(&app, &admin, full()).await.expect(200);

    // A model draft with a forbidden commitment is flagged and regenerated once; a flag that
    // remains is recorded on the step.
    let offer = "Hi Irene, as compensation we will look at your plan.";
    llm.push_ok_for(StepType::ReplyDraft, json!({"reply_body": offer}))
        .push_ok_for(StepType::ReplyDraft, json!({"reply_body": offer}));
    let run = triage(&app, &admin, "Site slow", "The site is slow today.").await;
    let s = step(&run, "reply_draft");
    assert_eq!(s["guardrail_flags"], json!(["forbidden_commitment"]), "{s}");
    assert_eq!(s["output_snapshot"]["guardrail"]["initial_flags"], json!(["forbidden_commitment"]));
    assert_eq!(s["output_snapshot"]["guardrail"]["regenerated"], true);
    let rewrite = s["input_snapshot"]["regeneration"].to_string();
    assert!(rewrite.contains("the workspace forbids \\\"compensation\\\""), "{rewrite}");
    assert_eq!(run["guardrail_flags"], json!(["forbidden_commitment"]), "{}", run);

    // A person's reply with one needs confirming; confirming sends it and is audited.
    let tid = run["ticket"]["id"].as_str().unwrap();
    let path = format!("/api/tickets/{tid}/replies");
    let text = "Hi Irene, we can offer Compensation for the slowness.";
    let r = app.post(&path, Some(&admin.token), json!({"body": text})).await;
    r.expect_error(409, Some("reply_needs_confirmation"), None);
    assert_eq!(r.json["error"]["guardrail_flags"], json!(["forbidden_commitment"]), "{}", r.text);
    app.post(&path, Some(&admin.token), json!({"body": text, "confirm_warnings": true}))
        .await
        .expect(201);
    let log = app.get("/api/audit?kind=reply_warning_overridden", Some(&admin.token)).await;
    let events = log.json["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "{}", log.text);
    assert_eq!(events[0]["detail"]["flags"], "forbidden_commitment");

    // Another workspace's policies are its own: the same text needs no confirmation there.
    let t = app.create_ticket(&other.token, "Slow", "The site is slow.").await;
    let path = format!("/api/tickets/{}/replies", t["id"].as_str().unwrap());
    app.post(&path, Some(&other.token), json!({"body": text})).await.expect(201);
}
