//! The ticket list agents work from: workspace ticket numbers, multi-value filters, sorts and
//! the views with their counts, each with another workspace that must never show through.

use serde_json::Value;

use crate::common::{Ctx, Session, TestApp};

fn id(t: &Value) -> String {
    t["id"].as_str().expect("id").to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(id).collect()
}

async fn make(app: &TestApp, s: &Session, subject: &str) -> Value {
    app.create_ticket(&s.token, subject, "Something is wrong, please help").await
}

pub async fn ticket_numbers_are_per_workspace_and_resolve_in_urls_and_search(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let a1 = make(&app, &a, "Printer on fire").await;
    let b1 = make(&app, &b, "Beta only ticket").await;
    let a2 = make(&app, &a, "Refund request").await;
    let a3 = make(&app, &a, "Login loop").await;
    assert_eq!(
        [&a1, &a2, &a3].map(|t| t["number"].as_u64()),
        [Some(1), Some(2), Some(3)],
        "numbers count up per workspace"
    );
    assert_eq!(b1["number"], 1, "another workspace starts at 1");

    // The detail answers to the number (with or without `#`) and to the id, in its workspace.
    for path in ["/api/tickets/2", "/api/tickets/%232", &format!("/api/tickets/{}", id(&a2))] {
        let got = app.get(path, Some(&a.token)).await;
        got.expect(200);
        assert_eq!(got.json["ticket"]["id"], a2["id"], "{path}");
        assert_eq!(got.json["ticket"]["number"], 2);
    }
    assert_eq!(app.ticket(&b.token, "1").await["ticket"]["id"], b1["id"]);
    assert_eq!(app.ticket(&a.token, "1").await["ticket"]["id"], a1["id"]);
    // Numbers of another workspace that this one has not reached are not found.
    app.get("/api/tickets/3", Some(&b.token)).await.expect_error(
        404,
        Some("ticket_not_found"),
        None,
    );
    app.get(&format!("/api/tickets/{}", id(&a3)), Some(&b.token)).await.expect_error(
        404,
        Some("ticket_not_found"),
        None,
    );

    // Search takes `#2` and `2` as the ticket number.
    for q in ["%232", "2", "%20%232%20"] {
        let page = app.list(&a.token, &format!("q={q}")).await;
        assert_eq!(ids(&page), vec![id(&a2)], "q={q}");
        assert_eq!(page["total"], 1);
    }
    assert_eq!(app.list(&b.token, "q=3").await["total"], 0, "B has no #3");
    assert_eq!(ids(&app.list(&b.token, "q=%231").await), vec![id(&b1)]);
    // Text search is unchanged.
    assert_eq!(ids(&app.list(&a.token, "q=refund").await), vec![id(&a2)]);

    // Every ticket in a list carries its number.
    let all = app.list(&a.token, "").await;
    let numbers: Vec<u64> =
        all["items"].as_array().unwrap().iter().map(|t| t["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![3, 2, 1]);
}
