//! Tenant isolation: tenant A's token on every endpoint with tenant B's ids gets 404/422/empty
//! (exactly like a missing id), and B's data is unchanged afterwards.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Body, Ctx, Session, TestApp};

/// Tenant B's world, seen through B's own token.
struct World {
    a: Session,
    b: Session,
    b_agent: Session,
    a_ticket: String,
    b_ticket: String,
    b_run: String,
    b_draft: String,
    b_reply: String,
}

async fn world(app: &TestApp) -> World {
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let b_agent = app.add_user(&b, "Bianca Beta", "bianca@beta.example", "agent").await;

    let a_ticket =
        app.create_ticket(&a.token, "Alpha website down", "Our homepage shows an error").await;
    let b_ticket = app
        .create_ticket_full(
            &b.token,
            json!({"subject": "Zanzibar invoice mismatch", "body": "The quetzalcoatl plan was billed twice this month.",
                   "customer_name": "Xavier Betacustomer", "customer_email": "xavier@betacorp.example"}),
        )
        .await;
    let b_tid = b_ticket["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/api/tickets/{b_tid}"),
        Some(&b.token),
        json!({"assignee_id": b_agent.user_id, "status": "open"}),
    )
    .await
    .expect(200);
    let reply = app
        .post(
            &format!("/api/tickets/{b_tid}/replies"),
            Some(&b_agent.token),
            json!({"body": "We are checking the invoice."}),
        )
        .await;
    reply.expect(201);
    let triage =
        app.post_empty(&format!("/api/tickets/{b_tid}/workflows/triage"), Some(&b.token)).await;
    triage.expect(200);
    assert_eq!(triage.json["workflow_run"]["status"], "succeeded", "{}", triage.text);
    World {
        a_ticket: a_ticket["id"].as_str().unwrap().to_owned(),
        b_run: triage.json["workflow_run"]["id"].as_str().unwrap().to_owned(),
        b_draft: triage.json["ai_reply_draft"]["id"].as_str().unwrap().to_owned(),
        b_reply: reply.json["id"].as_str().unwrap().to_owned(),
        b_ticket: b_tid,
        a,
        b,
        b_agent,
    }
}

/// Everything of B's that a request could touch, read with B's token.
async fn snapshot(app: &TestApp, w: &World) -> Value {
    let b = Some(w.b.token.as_str());
    json!({
        "ticket": app.get(&format!("/api/tickets/{}", w.b_ticket), b).await.json,
        "tickets": app.get("/api/tickets", b).await.json,
        "runs": app.get(&format!("/api/tickets/{}/workflows", w.b_ticket), b).await.json,
        "run": app.get(&format!("/api/workflows/runs/{}", w.b_run), b).await.json,
        "users": app.get("/api/users", b).await.json,
        "tenant": app.get("/api/tenant", b).await.json,
    })
}

fn page_ids(v: &Value) -> Vec<&str> {
    v["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect()
}

pub async fn another_tenants_ids_are_not_found_and_unchanged(ctx: Ctx) {
    let app = ctx.spawn().await;
    let w = world(&app).await;
    let before = snapshot(&app, &w).await;
    assert_eq!(
        before["ticket"]["replies"].as_array().unwrap().len(),
        2,
        "a reply and the AI draft"
    );
    let a = Some(w.a.token.as_str());
    let (bt, run, draft, reply) = (&w.b_ticket, &w.b_run, &w.b_draft, &w.b_reply);
    let missing = uuid::Uuid::now_v7().to_string();

    // Each cross-tenant call answers exactly what the same call on a missing id answers.
    let calls: Vec<(Method, String, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/tickets/{bt}"), format!("/api/tickets/{missing}"), None),
        (
            Method::PATCH,
            format!("/api/tickets/{bt}"),
            format!("/api/tickets/{missing}"),
            Some(
                json!({"status": "closed", "priority": "low", "category": "other", "assignee_id": null,
                       "subject": "Renamed by A", "customer_name": "Mallory",
                       "customer_email": "mallory@alpha.example"}),
            ),
        ),
        (
            Method::POST,
            format!("/api/tickets/{bt}/replies"),
            format!("/api/tickets/{missing}/replies"),
            Some(json!({"body": "Injected by A", "status": "closed"})),
        ),
        (
            Method::POST,
            format!("/api/tickets/{bt}/notes"),
            format!("/api/tickets/{missing}/notes"),
            Some(json!({"body": "Note planted by A"})),
        ),
        (
            Method::PATCH,
            format!("/api/tickets/{bt}/replies/{draft}"),
            format!("/api/tickets/{missing}/replies/{missing}"),
            Some(json!({"body": "Rewritten by A"})),
        ),
        (
            Method::POST,
            format!("/api/tickets/{bt}/workflows/triage"),
            format!("/api/tickets/{missing}/workflows/triage"),
            None,
        ),
        (
            Method::POST,
            format!("/api/tickets/{bt}/workflows/triage?async=true"),
            format!("/api/tickets/{missing}/workflows/triage?async=true"),
            None,
        ),
        (
            Method::GET,
            format!("/api/workflows/runs/{run}"),
            format!("/api/workflows/runs/{missing}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/tickets/{bt}/workflows"),
            format!("/api/tickets/{missing}/workflows"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/users/{}", w.b_agent.user_id),
            format!("/api/users/{missing}"),
            Some(json!({"name": "Renamed by A", "role": "admin", "active": false})),
        ),
        (
            Method::PATCH,
            format!("/api/users/{}", w.b.user_id),
            format!("/api/users/{missing}"),
            Some(json!({"active": false})),
        ),
    ];
    for (method, cross, missing_path, body) in calls {
        let body_of = |b: &Option<Value>| b.clone().map_or(Body::None, Body::Json);
        let r = app.send(method.clone(), &cross, a, body_of(&body)).await;
        r.expect_error(404, None, None);
        let m = app.send(method.clone(), &missing_path, a, body_of(&body)).await;
        assert_eq!(
            (r.status, &r.json),
            (m.status, &m.json),
            "{method} {cross} must look exactly like a missing id"
        );
    }

    // A's own ticket with B's ids in it.
    let a_path = format!("/api/tickets/{}", w.a_ticket);
    app.patch(&a_path, a, json!({"assignee_id": w.b_agent.user_id})).await.expect_error(
        422,
        None,
        Some("assignee_id"),
    );
    app.patch(
        &format!("/api/tickets/{}/replies/{draft}", w.a_ticket),
        a,
        json!({"body": "Rewritten by A"}),
    )
    .await
    .expect_error(404, None, None);
    app.patch(
        &format!("/api/tickets/{}/replies/{reply}", w.a_ticket),
        a,
        json!({"body": "Rewritten by A"}),
    )
    .await
    .expect_error(404, None, None);
    // Sending a reply that "replaces" B's draft must not delete it.
    app.post(
        &format!("/api/tickets/{}/replies", w.a_ticket),
        a,
        json!({"body": "Hi", "draft_id": draft}),
    )
    .await
    .expect_error(404, None, None);
    let a_detail = app.ticket(&w.a.token, &w.a_ticket).await;
    assert!(a_detail["ticket"]["assignee_id"].is_null());
    assert_eq!(a_detail["replies"], json!([]));

    // List filters with B's ids or B's words find nothing.
    let r = app.list(&w.a.token, &format!("assignee_id={}", w.b_agent.user_id)).await;
    assert_eq!(r["total"], 0);
    assert_eq!(r["items"], json!([]));
    for q in
        ["zanzibar", "quetzalcoatl", "xavier", "betacorp", "zanz%20quetz", "renamed", "mallory"]
    {
        let r = app.list(&w.a.token, &format!("q={q}")).await;
        assert_eq!(r["total"], 0, "q={q} matched B's ticket: {r}");
    }
    // A tenant_id query parameter is ignored: A still sees only A's ticket.
    let r = app.list(&w.a.token, &format!("tenant_id={}", w.b.tenant_id)).await;
    assert_eq!(page_ids(&r), vec![w.a_ticket.as_str()]);
    let r = app.list(&w.a.token, &format!("tenant_id={}&q=zanzibar", w.b.tenant_id)).await;
    assert_eq!(r["total"], 0);
    // A's team list and directory do not show B's users.
    let users = app.get("/api/users", a).await;
    users.expect(200);
    assert!(!users.text.contains("beta.example"), "{}", users.text);
    let team = app.get("/api/team", a).await;
    team.expect(200);
    assert!(
        !team.text.contains("Bianca") && !team.text.contains(&w.b_agent.user_id),
        "{}",
        team.text
    );

    // A body carrying tenant_id is rejected and cannot move data into B.
    let r = app
        .post(
            "/api/tickets",
            a,
            json!({"tenant_id": w.b.tenant_id, "subject": "Planted", "body": "Planted in B",
                   "customer_name": "Mallory", "customer_email": "mallory@example.com"}),
        )
        .await;
    r.expect_error(400, None, Some("tenant_id"));
    app.patch(&a_path, a, json!({"tenant_id": w.b.tenant_id, "status": "closed"}))
        .await
        .expect_error(400, None, Some("tenant_id"));
    app.patch("/api/tenant", a, json!({"tenant_id": w.b.tenant_id, "name": "Owned"}))
        .await
        .expect_error(400, None, Some("tenant_id"));
    app.post(
        "/api/users",
        a,
        json!({"tenant_id": w.b.tenant_id, "name": "Mole", "email": "mole@example.com"}),
    )
    .await
    .expect_error(400, None, Some("tenant_id"));
    // A bulk update naming B's ticket: that item is not found, exactly like a missing id.
    let r = app
        .post(
            "/api/tickets/bulk",
            a,
            json!({"ids": [bt, missing], "changes": {"status": "closed", "assignee_id": null}}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["updated"], 0);
    let results = r.json["results"].as_array().expect("results");
    assert_eq!(results[0]["error"], results[1]["error"], "B's id answers as a missing one");
    assert_eq!(results[0]["error"]["code"], "ticket_not_found");

    assert_eq!(app.ticket_count(&w.a.token).await, 1);
    assert_eq!(app.ticket(&w.a.token, &w.a_ticket).await["ticket"]["status"], "new");

    // B's data is exactly as before.
    let after = snapshot(&app, &w).await;
    assert_eq!(before, after, "tenant B's data changed");
    assert_eq!(after["tenant"]["name"], "Beta Bureau");
    assert_eq!(after["ticket"]["ticket"]["status"], "open");
    assert_eq!(
        after["runs"]["items"].as_array().unwrap().len(),
        1,
        "no run was added to B's ticket"
    );
    assert_eq!(after["tickets"]["total"], 1, "nothing was planted in B");
}

pub async fn an_active_run_in_another_tenant_is_invisible(ctx: Ctx) {
    // No workers: an async run stays queued, so B's ticket has an active run.
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let bt = app.create_ticket(&b.token, "Beta ticket", "Beta body").await;
    let bt = bt["id"].as_str().unwrap();
    let queued = app
        .post_empty(&format!("/api/tickets/{bt}/workflows/triage?async=true"), Some(&b.token))
        .await;
    queued.expect(202);
    let run_id = queued.json["workflow_run"]["id"].as_str().unwrap();

    // A does not learn that B's ticket has an active run (404, not 409).
    app.post_empty(&format!("/api/tickets/{bt}/workflows/triage"), Some(&a.token))
        .await
        .expect_error(404, None, None);
    app.get(&format!("/api/workflows/runs/{run_id}"), Some(&a.token))
        .await
        .expect_error(404, None, None);

    let run = app.get(&format!("/api/workflows/runs/{run_id}"), Some(&b.token)).await;
    run.expect(200);
    assert_eq!(run.json["workflow_run"]["status"], "queued");
}
