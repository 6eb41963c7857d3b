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

/// Sets status, priority and (optionally) assignee of a ticket.
async fn set(
    app: &TestApp,
    s: &Session,
    t: &Value,
    status: &str,
    priority: &str,
    who: Option<&str>,
) {
    let mut body = serde_json::json!({"status": status, "priority": priority});
    if let Some(user) = who {
        body["assignee_id"] = Value::String(user.to_owned());
    }
    app.patch(&format!("/api/tickets/{}", id(t)), Some(&s.token), body).await.expect(200);
}

pub async fn list_filters_take_several_values_assignees_and_sorts(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let agent = app.add_user(&a, "Alan Agent", "alan@alpha.example", "agent").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let t1 = make(&app, &a, "Low and open").await;
    let t2 = make(&app, &a, "Urgent and new").await;
    let t3 = make(&app, &a, "High and closed").await;
    let t4 = make(&app, &a, "Medium and pending").await;
    let t5 = make(&app, &a, "Urgent and replied").await;
    set(&app, &a, &t1, "open", "low", Some(&agent.user_id)).await;
    set(&app, &a, &t2, "new", "urgent", None).await;
    set(&app, &a, &t3, "closed", "high", Some(&agent.user_id)).await;
    set(&app, &a, &t4, "pending", "medium", Some(&a.user_id)).await;
    set(&app, &a, &t5, "replied", "urgent", None).await;
    // The last change makes T2 the most recently active.
    set(&app, &a, &t2, "new", "urgent", None).await;
    // B's tickets match every filter below, and must never show up in A's lists.
    for subject in ["Beta urgent", "Beta other"] {
        let bt = make(&app, &b, subject).await;
        set(&app, &b, &bt, "new", "urgent", Some(&b.user_id)).await;
    }
    let list = async |s: &Session, query: &str| ids(&app.list(&s.token, query).await);
    let tok = &a;

    assert_eq!(list(tok, "status=new&status=pending").await, vec![id(&t4), id(&t2)]);
    assert_eq!(list(tok, "status=new&status=new").await, vec![id(&t2)], "repeats are harmless");
    assert_eq!(list(tok, "priority=urgent&priority=high").await, vec![id(&t5), id(&t3), id(&t2)]);
    assert_eq!(list(tok, "status=open&status=closed&priority=high").await, vec![id(&t3)]);
    // `me` is the caller: the agent sees their own tickets, the admin theirs.
    assert_eq!(list(&agent, "assignee=me").await, vec![id(&t3), id(&t1)]);
    assert_eq!(list(tok, "assignee=me").await, vec![id(&t4)]);
    assert_eq!(list(tok, "assignee=unassigned").await, vec![id(&t5), id(&t2)]);
    assert_eq!(list(tok, &format!("assignee={}", agent.user_id)).await, vec![id(&t3), id(&t1)]);
    assert_eq!(list(tok, &format!("assignee={}", b.user_id)).await, Vec::<String>::new());

    // Sorts.
    assert_eq!(
        list(tok, "sort=priority").await,
        vec![id(&t2), id(&t5), id(&t3), id(&t4), id(&t1)],
        "urgent first, oldest first within a priority"
    );
    assert_eq!(list(tok, "sort=last_activity").await[0], id(&t2));
    assert_eq!(
        list(tok, "sort=oldest_waiting").await,
        vec![id(&t1), id(&t2), id(&t4)],
        "only tickets still waiting, oldest first"
    );
    assert_eq!(
        list(tok, "sort=oldest_waiting&status=closed&status=replied").await,
        vec![id(&t3), id(&t5)],
        "an explicit status wins"
    );
    assert_eq!(list(tok, "").await, list(tok, "sort=created").await, "newest first is the default");
    let paged = app.list(&a.token, "sort=priority&page=2&page_size=2").await;
    assert_eq!(ids(&paged), vec![id(&t3), id(&t4)]);
    assert_eq!(paged["total"], 5);

    // Bad values name their parameter.
    for (query, field) in [
        ("sort=random", "sort"),
        ("status=new&status=bogus", "status"),
        ("priority=urgent,high", "priority"),
        ("assignee=nobody", "assignee"),
        ("assignee=", "assignee"),
        ("assignee=me&unassigned=true", "assignee"),
        ("assignee=me&assignee_id=0190f3a4-0000-7000-8000-000000000000", "assignee"),
    ] {
        let r = app.get(&format!("/api/tickets?{query}"), Some(&a.token)).await;
        assert!(matches!(r.status, 400 | 422), "{query}: {}", r.status);
        r.expect_error(r.status, None, Some(field));
    }
}

/// `(view id, count)` pairs of `GET /api/tickets/views`, in order.
async fn view_counts(app: &TestApp, s: &Session) -> Vec<(String, u64)> {
    let r = app.get("/api/tickets/views", Some(&s.token)).await;
    r.expect(200);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v["count"].as_u64().unwrap()))
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
}

pub async fn views_have_exact_counts_and_list_what_they_count(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let agent = app.add_user(&a, "Alan Agent", "alan@alpha.example", "agent").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let t1 = make(&app, &a, "Low and open").await;
    let t2 = make(&app, &a, "Urgent and new").await;
    let t3 = make(&app, &a, "High and closed").await;
    let t4 = make(&app, &a, "Medium and pending").await;
    let t5 = make(&app, &a, "Urgent and replied").await;
    let t6 = make(&app, &a, "High and new").await;
    set(&app, &a, &t1, "open", "low", Some(&agent.user_id)).await;
    set(&app, &a, &t2, "new", "urgent", None).await;
    set(&app, &a, &t3, "closed", "high", Some(&agent.user_id)).await;
    set(&app, &a, &t4, "pending", "medium", Some(&a.user_id)).await;
    set(&app, &a, &t5, "replied", "urgent", None).await;
    set(&app, &a, &t6, "new", "high", None).await;
    // B has open urgent work of its own; none of it may count in A's views.
    for subject in ["Beta one", "Beta two", "Beta three"] {
        let bt = make(&app, &b, subject).await;
        set(&app, &b, &bt, "new", "urgent", Some(&b.user_id)).await;
    }

    let r = app.get("/api/tickets/views", Some(&a.token)).await;
    r.expect(200);
    let first = &r.json["items"][2];
    assert_eq!(first["name"], "Urgent & high");
    assert_eq!(first["status"], serde_json::json!(["new", "open", "pending"]));
    assert_eq!(first["priority"], serde_json::json!(["urgent", "high"]));
    assert_eq!(first["sort"], "priority");
    assert_eq!(r.json["items"][0]["assignee"], "me");

    let admin_view = counts(&[
        ("my_open", 1),
        ("unassigned", 2),
        ("urgent_high", 2),
        ("all_open", 4),
        ("replied", 1),
        ("closed", 1),
    ]);
    assert_eq!(view_counts(&app, &a).await, admin_view);
    // "My open" is the caller's.
    let mut agent_view = admin_view.clone();
    agent_view[0].1 = 1;
    assert_eq!(view_counts(&app, &agent).await, agent_view);
    assert_eq!(
        view_counts(&app, &b).await,
        counts(&[
            ("my_open", 3),
            ("unassigned", 0),
            ("urgent_high", 3),
            ("all_open", 3),
            ("replied", 0),
            ("closed", 0),
        ])
    );

    // Each view lists exactly the tickets it counts, in its order.
    for (view, n) in &admin_view {
        let page = app.list(&a.token, &format!("view={view}&page_size=100")).await;
        assert_eq!(page["total"].as_u64(), Some(*n), "{view}");
        assert_eq!(page["items"].as_array().unwrap().len() as u64, *n, "{view}");
    }
    assert_eq!(ids(&app.list(&a.token, "view=urgent_high").await), vec![id(&t2), id(&t6)]);
    assert_eq!(ids(&app.list(&agent.token, "view=my_open").await), vec![id(&t1)]);
    assert_eq!(ids(&app.list(&a.token, "view=my_open").await), vec![id(&t4)]);
    // Parameters given with a view replace its filter or order.
    assert_eq!(
        ids(&app.list(&a.token, "view=unassigned&sort=oldest_waiting").await),
        vec![id(&t2), id(&t6)]
    );
    assert_eq!(ids(&app.list(&a.token, "view=all_open&status=closed").await), vec![id(&t3)]);

    // Counts follow changes at once.
    set(&app, &a, &t2, "closed", "urgent", None).await;
    assert_eq!(
        view_counts(&app, &a).await,
        counts(&[
            ("my_open", 1),
            ("unassigned", 1),
            ("urgent_high", 1),
            ("all_open", 3),
            ("replied", 1),
            ("closed", 2),
        ])
    );

    app.get("/api/tickets?view=bogus", Some(&a.token)).await.expect_error(400, None, Some("view"));
    app.get("/api/tickets/views", None).await.expect_error(401, None, None);
}

pub async fn cursor_pages_follow_the_sort_and_stay_in_the_workspace(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let mut made = Vec::new();
    for (i, priority) in
        ["low", "urgent", "high", "urgent", "medium", "low", "high"].iter().enumerate()
    {
        let t = make(&app, &a, &format!("Cursor ticket {i}")).await;
        set(&app, &a, &t, "open", priority, None).await;
        made.push(t);
    }
    let beta = make(&app, &b, "Beta cursor ticket").await;

    for sort in ["created", "priority", "last_activity", "oldest_waiting"] {
        let whole = app.list(&a.token, &format!("sort={sort}&page_size=100")).await;
        assert!(whole["next_cursor"].is_null(), "{sort}: one page holds all");
        assert_eq!(whole["total_exact"], true);
        let mut walked = Vec::new();
        let mut query = format!("sort={sort}&page_size=3");
        loop {
            let page = app.list(&a.token, &query).await;
            assert_eq!(page["total"], 7, "{sort}: the count ignores the cursor");
            walked.extend(ids(&page));
            let Some(next) = page["next_cursor"].as_str() else { break };
            query = format!("sort={sort}&page_size=3&cursor={next}");
        }
        assert_eq!(walked, ids(&whole), "{sort}");
    }

    // Bad cursors are 4xx errors naming the field, never 500s.
    let first = app.list(&a.token, "page_size=2").await;
    let cursor = first["next_cursor"].as_str().expect("a next page").to_owned();
    for query in [
        "cursor=garbage".to_owned(),
        "cursor=t1.created.0.99999999999999999999.0196a1b2c3d4e5f60718293a4b5c6d7e".to_owned(),
        format!("sort=priority&cursor={cursor}"),
        format!("page=2&cursor={cursor}"),
        // Best match has no cursor: it pages by number.
        format!("q=cursor&sort=relevance&cursor={cursor}"),
    ] {
        let got = app.get(&format!("/api/tickets?{query}"), Some(&a.token)).await;
        got.expect_error(422, Some("validation_failed"), Some("cursor"));
    }

    // Best match lists the search's matches in B's workspace only, paged by number.
    let ranked = app.list(&a.token, "q=cursor+ticket&sort=relevance&page_size=5").await;
    assert_eq!(ranked["total"], 7);
    assert!(ranked["next_cursor"].is_null());
    let second = app.list(&a.token, "q=cursor+ticket&sort=relevance&page_size=5&page=2").await;
    let mut both = ids(&ranked);
    both.extend(ids(&second));
    both.sort();
    let mut all: Vec<_> = made.iter().map(id).collect();
    all.sort();
    assert_eq!(both, all);
    let in_b = app.list(&b.token, "q=cursor+ticket&sort=relevance").await;
    assert_eq!(ids(&in_b), vec![id(&beta)]);

    // A's cursor in B's workspace lists B's tickets only.
    let in_b = app.list(&b.token, &format!("cursor={cursor}")).await;
    assert!(ids(&in_b).iter().all(|i| *i == id(&beta)), "{in_b}");
    assert!(!ids(&in_b).iter().any(|i| made.iter().any(|t| id(t) == *i)));
}

pub async fn bulk_update_changes_each_ticket_and_reports_each_result(ctx: Ctx) {
    use serde_json::json;
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let agent = app.add_user(&a, "Alan Agent", "alan@alpha.example", "agent").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let a1 = make(&app, &a, "Bulk one").await;
    let a2 = make(&app, &a, "Bulk two").await;
    let a3 = make(&app, &a, "Bulk three").await;
    let b1 = make(&app, &b, "Beta bulk").await;

    // An agent assigns, prioritises and opens two of A's tickets, and tries B's.
    let r = app
        .post(
            "/api/tickets/bulk",
            Some(&agent.token),
            json!({
                "ids": [id(&a1), id(&b1), id(&a2)],
                "changes": {"status": "open", "priority": "high", "assignee_id": agent.user_id}
            }),
        )
        .await;
    r.expect(200);
    assert_eq!((r.json["updated"].as_u64(), r.json["failed"].as_u64()), (Some(2), Some(1)));
    let results = r.json["results"].as_array().expect("results");
    assert_eq!(
        results.iter().map(|x| x["id"].as_str().unwrap()).collect::<Vec<_>>(),
        [id(&a1), id(&b1), id(&a2)]
    );
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[0]["ticket"]["priority"], "high");
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["error"]["code"], "ticket_not_found");
    assert!(results[1]["ticket"].is_null(), "nothing of B's ticket is shown");
    for t in [&a1, &a2] {
        let got = app.ticket(&a.token, &id(t)).await;
        assert_eq!(got["ticket"]["status"], "open");
        assert_eq!(got["ticket"]["assignee_id"], agent.user_id.as_str());
    }
    assert_eq!(app.ticket(&a.token, &id(&a3)).await["ticket"]["status"], "new", "not listed");
    let beta = app.ticket(&b.token, &id(&b1)).await;
    assert_eq!(beta["ticket"]["status"], "new", "B's ticket is unchanged");
    assert!(beta["ticket"]["priority"].is_null());

    // Null clears; closing in bulk.
    let r = app
        .post(
            "/api/tickets/bulk",
            Some(&a.token),
            json!({"ids": [id(&a1), id(&a2)], "changes": {"assignee_id": null, "status": "closed"}}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["updated"], 2);
    let got = app.ticket(&a.token, &id(&a2)).await;
    assert!(got["ticket"]["assignee_id"].is_null());
    assert_eq!(got["ticket"]["status"], "closed");

    // Bad requests name the field and change nothing.
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let b_user = b.user_id.clone();
    for (body, field) in [
        (json!({"ids": [], "changes": {"status": "open"}}), "ids"),
        (json!({"ids": many, "changes": {"status": "open"}}), "ids"),
        (json!({"ids": ["nope"], "changes": {"status": "open"}}), "ids"),
        (json!({"ids": [id(&a3), id(&a3)], "changes": {"status": "open"}}), "ids"),
        (json!({"ids": [id(&a3)], "changes": {}}), "changes"),
        (json!({"ids": [id(&a3)], "changes": {"status": null}}), "changes.status"),
        (json!({"ids": [id(&a3)], "changes": {"assignee_id": "x"}}), "changes.assignee_id"),
        (json!({"ids": [id(&a3)], "changes": {"assignee_id": b_user}}), "assignee_id"),
    ] {
        app.post("/api/tickets/bulk", Some(&a.token), body.clone()).await.expect_error(
            422,
            Some("validation_failed"),
            Some(field),
        );
    }
    let r = app
        .post(
            "/api/tickets/bulk",
            Some(&a.token),
            json!({"ids": [id(&a3)], "changes": {"subject": "x"}}),
        )
        .await;
    assert!(matches!(r.status, 400 | 422), "{}", r.text);
    app.post("/api/tickets/bulk", None, json!({"ids": [id(&a3)], "changes": {"status": "open"}}))
        .await
        .expect(401);
    assert_eq!(app.ticket(&a.token, &id(&a3)).await["ticket"]["status"], "new");
}

pub async fn internal_notes_stay_internal_and_in_the_workspace(ctx: Ctx) {
    use serde_json::json;
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let agent = app.add_user(&a, "Alan Agent", "alan@alpha.example", "agent").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let t = make(&app, &a, "Needs a second opinion").await;
    let path = format!("/api/tickets/{}/notes", id(&t));
    // The offline engine drafts a reply; a note must leave it in place.
    app.post(&format!("/api/tickets/{}/workflows/triage", id(&t)), Some(&a.token), json!({}))
        .await
        .expect(200);
    let before = app.ticket(&a.token, &id(&t)).await;

    let r = app
        .post(&path, Some(&agent.token), json!({"body": "@Ann Admin can you check the invoice?"}))
        .await;
    r.expect(201);
    assert_eq!(r.json["author_type"], "note");
    assert_eq!(r.json["author_id"], agent.user_id.as_str());
    assert_eq!(r.json["draft"], false);

    let after = app.ticket(&a.token, &id(&t)).await;
    assert_eq!(after["ticket"]["status"], before["ticket"]["status"], "a note is not a reply");
    // A note is activity on the ticket, though: its last activity is now the note.
    assert_eq!(after["ticket"]["updated_at"], r.json["created_at"], "the note is last activity");
    assert_ne!(after["ticket"]["updated_at"], before["ticket"]["updated_at"]);
    let replies = after["replies"].as_array().expect("replies");
    let drafts = replies.iter().filter(|r| r["author_type"] == "ai" && r["draft"] == true).count();
    assert_eq!(drafts, 1, "the AI draft stays: {replies:?}");
    assert!(replies.iter().any(|r| r["author_type"] == "note"));

    // Bad input and other workspaces.
    for body in [json!({"body": ""}), json!({"body": "x".repeat(20_001)})] {
        app.post(&path, Some(&a.token), body).await.expect_error(
            422,
            Some("validation_failed"),
            Some("body"),
        );
    }
    app.post(&path, Some(&a.token), json!({"body": "hi", "status": "closed"})).await.expect_error(
        400,
        None,
        Some("status"),
    );
    app.post(&path, Some(&b.token), json!({"body": "planted"})).await.expect_error(
        404,
        Some("ticket_not_found"),
        None,
    );
    app.post("/api/tickets/not-an-id/notes", Some(&a.token), json!({"body": "x"}))
        .await
        .expect_error(400, None, Some("id"));
    app.post(&path, None, json!({"body": "x"})).await.expect(401);
    let notes = app.ticket(&a.token, &id(&t)).await["replies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["author_type"] == "note")
        .count();
    assert_eq!(notes, 1, "nothing else was added");
}

pub async fn flagged_replies_need_confirmation_which_is_audited(ctx: Ctx) {
    use serde_json::json;
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let t = make(&app, &a, "Charged twice").await;
    let path = format!("/api/tickets/{}/replies", id(&t));
    let text = "Hi, sorry about that. We will refund you in full today.";

    let r = app.post(&path, Some(&a.token), json!({"body": text, "status": "replied"})).await;
    r.expect_error(409, Some("reply_needs_confirmation"), None);
    let flags = r.json["error"]["guardrail_flags"].as_array().expect("flags");
    assert!(flags.iter().any(|f| f == "refund_commitment"), "{}", r.text);
    let unchanged = app.ticket(&a.token, &id(&t)).await;
    assert_eq!(unchanged["ticket"]["status"], "new", "nothing was sent");
    assert!(unchanged["replies"].as_array().unwrap().is_empty());

    // A clean reply needs no confirmation; confirming a flagged one sends it and audits it.
    app.post(&path, Some(&a.token), json!({"body": "Thanks, we are looking into it."}))
        .await
        .expect(201);
    let r = app
        .post(
            &path,
            Some(&a.token),
            json!({"body": text, "status": "replied", "confirm_warnings": true}),
        )
        .await;
    r.expect(201);
    assert_eq!(app.ticket(&a.token, &id(&t)).await["ticket"]["status"], "replied");
    let log = app.get("/api/audit?kind=reply_warning_overridden", Some(&a.token)).await;
    log.expect(200);
    let events = log.json["items"].as_array().expect("items");
    assert_eq!(events.len(), 1, "{}", log.text);
    assert_eq!(events[0]["actor_id"], a.user_id.as_str());
    assert_eq!(events[0]["detail"]["ticket"], format!("#{}", t["number"]));
    assert!(events[0]["detail"]["flags"].as_str().unwrap().contains("refund_commitment"));

    // Bad input: a non-boolean confirmation is a 4xx naming the field.
    let r = app.post(&path, Some(&a.token), json!({"body": text, "confirm_warnings": "yes"})).await;
    assert!(matches!(r.status, 400 | 422), "{}", r.text);
    assert!(r.text.contains("confirm_warnings"), "{}", r.text);
}

pub async fn search_finds_reply_and_note_text_and_takes_any_input(ctx: Ctx) {
    use serde_json::json;
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let t = make(&app, &a, "Scanner offline").await;
    let other = make(&app, &a, "Password reset").await;
    let bt = make(&app, &b, "Scanner offline too").await;
    app.post(
        &format!("/api/tickets/{}/replies", id(&t)),
        Some(&a.token),
        json!({"body": "Please power-cycle the Brother unit"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/tickets/{}/notes", id(&t)),
        Some(&a.token),
        json!({"body": "Vendor case VX-4471 opened"}),
    )
    .await
    .expect(201);
    // Reply and note words, by prefix; the reply is also the ticket's last activity.
    assert_eq!(ids(&app.list(&a.token, "q=broth").await), vec![id(&t)]);
    assert_eq!(ids(&app.list(&a.token, "q=vx+4471").await), vec![id(&t)]);
    assert_eq!(ids(&app.list(&a.token, "q=scanner+vendor").await), vec![id(&t)]);
    let by_activity = app.list(&a.token, "sort=last_activity").await;
    assert_eq!(ids(&by_activity), vec![id(&t), id(&other)]);
    // The other workspace finds neither its neighbour's replies nor its notes.
    assert_eq!(app.list(&b.token, "q=brother").await["total"], 0);
    assert_eq!(app.list(&b.token, "q=vx").await["total"], 0);
    assert_eq!(ids(&app.list(&b.token, "q=scanner").await), vec![id(&bt)]);

    // What users type that means something to a query language is plain text here: never a
    // 500, and the letters and digits in it still search.
    let cases = [
        ("%22scanner", vec![id(&t)]),
        ("scan*", vec![id(&t)]),
        ("-offline", vec![id(&t)]),
        ("offline%3Ascanner", vec![id(&t)]),
        // As FTS5 syntax these would find a ticket; as plain words ("near", "or") they do not.
        ("NEAR(scanner+offline)", vec![]),
        ("(password", vec![id(&other)]),
        ("password+OR+scanner", vec![]),
        ("%22%22%22", vec![id(&other), id(&t)]),
        ("*", vec![id(&other), id(&t)]),
        ("%5E%7B%7D%3A", vec![id(&other), id(&t)]),
    ];
    // (Input without letters or digits searches nothing: the whole list, newest first.)
    for (q, want) in cases {
        let page = app.list(&a.token, &format!("q={q}")).await;
        assert_eq!(ids(&page), want, "q={q}");
    }
}
