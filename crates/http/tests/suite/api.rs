//! Every endpoint's success path, as a client sees it.

use serde_json::{Value, json};

use std::sync::Arc;
use std::time::{Duration, Instant};

use opsflow_adapters::security::Argon2Hasher;

use crate::common::{AppOptions, Ctx, PASSWORD, TestApp};
use opsflow_ports::services::throttle::LoginLimits;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

pub async fn signup_creates_workspace_and_admin_and_token_works(ctx: Ctx) {
    let app = ctx.spawn().await;
    let r = app
        .post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": "Acme Agency", "user_name": "Ada Admin", "email": "  Ada@Example.COM ", "password": PASSWORD}),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json["tenant"]["name"], "Acme Agency");
    assert_eq!(r.json["tenant"]["slug"], "acme-agency");
    assert_eq!(r.json["user"]["role"], "admin");
    assert_eq!(r.json["user"]["active"], true);
    assert_eq!(r.json["user"]["email"], "ada@example.com", "email is trimmed and lower-cased");
    assert_eq!(r.json["user"]["tenant_id"], r.json["tenant"]["id"]);
    assert!(r.json["user"].get("password_hash").is_none(), "no hash in responses");
    let token = r.json["access_token"].as_str().unwrap();

    let me = app.get("/api/auth/me", Some(token)).await;
    me.expect(200);
    assert_eq!(me.json["user"]["id"], r.json["user"]["id"]);
    assert_eq!(me.json["tenant"]["id"], r.json["tenant"]["id"]);

    // A second workspace with the same name gets a different slug.
    let again = app.signup("Acme Agency", "bob@example.com").await;
    assert_ne!(again.slug, "acme-agency");
    assert!(again.slug.starts_with("acme-agency"));
}

pub async fn login_succeeds_and_bad_credentials_get_identical_401(ctx: Ctx) {
    let app = ctx.spawn().await;
    let s = app.signup("Acme", "ada@example.com").await;

    let ok = app.login_raw("ADA@example.com", PASSWORD, None).await;
    ok.expect(200);
    assert_eq!(ok.json["user"]["id"], s.user_id.as_str());
    let token = ok.json["access_token"].as_str().unwrap();
    app.get("/api/auth/me", Some(token)).await.expect(200);

    let wrong_password = app.login_raw("ada@example.com", "not the password", None).await;
    let unknown_email = app.login_raw("nobody@example.com", PASSWORD, None).await;
    wrong_password.expect_error(401, Some("invalid_credentials"), None);
    unknown_email.expect_error(401, Some("invalid_credentials"), None);
    assert_eq!(wrong_password.json, unknown_email.json, "no account enumeration");

    // A workspace slug that does not exist, or is not this user's, is the same 401.
    let other = app.signup("Other Place", "otto@example.com").await;
    for slug in ["no-such-workspace", other.slug.as_str()] {
        let r = app.login_raw("ada@example.com", PASSWORD, Some(slug)).await;
        r.expect_error(401, Some("invalid_credentials"), None);
        assert_eq!(r.json, unknown_email.json);
    }
    let r = app.login_raw("ada@example.com", PASSWORD, Some(&s.slug)).await;
    r.expect(200);
}

pub async fn login_in_several_workspaces_requires_a_tenant_slug(ctx: Ctx) {
    let app = ctx.spawn().await;
    let one = app.signup("North Studio", "sam@example.com").await;
    let two = app.signup_additional("South Studio", "sam@example.com", PASSWORD).await;
    // Same email, another password: must not be listed.
    let three =
        app.signup_additional("West Studio", "sam@example.com", "Another-Walrus-Tide-93").await;

    let r = app.login_raw("sam@example.com", PASSWORD, None).await;
    r.expect_error(409, Some("tenant_required"), None);
    let mut slugs: Vec<&str> = r.json["error"]["workspaces"]
        .as_array()
        .expect("workspaces listed")
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, vec![one.slug.as_str(), two.slug.as_str()]);
    let names: Vec<&str> = r.json["error"]["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"North Studio") && names.contains(&"South Studio"));
    assert!(!r.text.contains(&three.slug), "a workspace whose password did not match leaks");

    let picked = app.login_raw("sam@example.com", PASSWORD, Some(&two.slug)).await;
    picked.expect(200);
    assert_eq!(picked.json["tenant"]["id"], two.tenant_id.as_str());
    assert_eq!(picked.json["user"]["id"], two.user_id.as_str());

    // The third workspace's own password logs straight in there.
    let third = app.login_raw("sam@example.com", "Another-Walrus-Tide-93", None).await;
    third.expect(200);
    assert_eq!(third.json["tenant"]["id"], three.tenant_id.as_str());
}

pub async fn tenant_can_be_read_by_all_and_changed_by_admins(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;

    let t = app.get("/api/tenant", Some(&agent.token)).await;
    t.expect(200);
    assert_eq!(t.json["id"], admin.tenant_id.as_str());
    assert_eq!(t.json["policies"], "");

    let r = app
        .patch(
            "/api/tenant",
            Some(&admin.token),
            json!({"name": "Acme Agency Ltd", "policies": "Never promise refunds."}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["name"], "Acme Agency Ltd");
    assert_eq!(r.json["policies"], "Never promise refunds.");
    assert_eq!(r.json["slug"], t.json["slug"], "renaming keeps the slug");

    let back = app.get("/api/tenant", Some(&admin.token)).await;
    assert_eq!(back.json["name"], "Acme Agency Ltd");
    assert_eq!(back.json["policies"], "Never promise refunds.");

    app.patch("/api/tenant", Some(&agent.token), json!({"name": "Hijacked"})).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    assert_eq!(app.get("/api/tenant", Some(&admin.token)).await.json["name"], "Acme Agency Ltd");
}

pub async fn team_members_are_listed_created_and_updated_by_admins(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;

    let created = app
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"name": "Alan Agent", "email": "Alan@Example.com"}),
        )
        .await;
    created.expect(201);
    assert_eq!(created.json["user"]["role"], "agent", "role defaults to agent");
    assert_eq!(created.json["user"]["email"], "alan@example.com");
    assert_eq!(created.json["user"]["tenant_id"], admin.tenant_id.as_str());
    let temporary = created.json["temporary_password"].as_str().unwrap();
    assert!(temporary.chars().count() >= 12, "a strong temporary password");
    let agent_id = created.json["user"]["id"].as_str().unwrap().to_owned();

    // The temporary password logs in.
    let agent = app.login("alan@example.com", temporary).await;
    assert_eq!(agent.user_id, agent_id);
    app.post(
        "/api/auth/password",
        Some(&agent.token),
        json!({"current_password": temporary, "new_password": PASSWORD}),
    )
    .await
    .expect(204);

    let list = app.get("/api/users", Some(&admin.token)).await;
    list.expect(200);
    let emails: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, vec!["ada@example.com", "alan@example.com"], "oldest first");

    // Agents cannot manage the team.
    app.get("/api/users", Some(&agent.token)).await.expect_error(403, Some("forbidden"), None);
    app.post("/api/users", Some(&agent.token), json!({"name": "X", "email": "x@example.com"}))
        .await
        .expect_error(403, Some("forbidden"), None);
    app.patch(
        &format!("/api/users/{}", admin.user_id),
        Some(&agent.token),
        json!({"role": "agent"}),
    )
    .await
    .expect_error(403, Some("forbidden"), None);

    // Rename and promote.
    let r = app
        .patch(
            &format!("/api/users/{agent_id}"),
            Some(&admin.token),
            json!({"name": "Alan Turing", "role": "admin"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["name"], "Alan Turing");
    assert_eq!(r.json["role"], "admin");
    // A role change ends the user's sessions; signing in again gives the admin rights.
    app.get("/api/users", Some(&agent.token)).await.expect(401);
    let agent = app.login("alan@example.com", PASSWORD).await;
    app.get("/api/users", Some(&agent.token)).await.expect(200);
    // Demote again.
    app.patch(&format!("/api/users/{agent_id}"), Some(&admin.token), json!({"role": "agent"}))
        .await
        .expect(200);

    // Deactivate: the user's token stops working at once, and they cannot log in.
    let r = app
        .patch(&format!("/api/users/{agent_id}"), Some(&admin.token), json!({"active": false}))
        .await;
    r.expect(200);
    assert_eq!(r.json["active"], false);
    app.get("/api/auth/me", Some(&agent.token)).await.expect_error(401, None, None);
    app.login_raw("alan@example.com", temporary, None).await.expect_error(401, None, None);

    // Reactivate: the ended session stays ended; signing in again works.
    app.patch(&format!("/api/users/{agent_id}"), Some(&admin.token), json!({"active": true}))
        .await
        .expect(200);
    app.get("/api/auth/me", Some(&agent.token)).await.expect(401);
    let agent = app.login("alan@example.com", PASSWORD).await;
    app.get("/api/auth/me", Some(&agent.token)).await.expect(200);
}

pub async fn the_team_directory_is_open_to_every_member_without_emails(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    let leaver = app.add_user(&admin, "Lea Leaver", "lea@example.com", "agent").await;
    app.deactivate(&admin, &leaver.user_id).await;
    let other = app.signup("Other", "oscar@other.example").await;
    app.add_user(&other, "Olga Other", "olga@other.example", "agent").await;

    // An agent may not manage users, but sees who their colleagues are.
    app.get("/api/users", Some(&agent.token)).await.expect_error(403, Some("forbidden"), None);
    let r = app.get("/api/team", Some(&agent.token)).await;
    r.expect(200);
    assert_eq!(
        r.json["items"],
        json!([
            {"id": admin.user_id, "name": "Ada Admin", "role": "admin", "active": true},
            {"id": agent.user_id, "name": "Alan Agent", "role": "agent", "active": true},
            {"id": leaver.user_id, "name": "Lea Leaver", "role": "agent", "active": false},
        ]),
        "oldest first, names and roles only"
    );
    assert!(!r.text.contains("@example.com"), "no emails in the directory: {}", r.text);
    // Admins get the same directory; another workspace's people never appear in it.
    let r = app.get("/api/team", Some(&admin.token)).await;
    r.expect(200);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
    assert!(!r.text.contains("Olga"), "{}", r.text);
    let r = app.get("/api/team", Some(&other.token)).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 2);
    assert!(!r.text.contains("Alan"), "{}", r.text);
}

pub async fn last_active_admin_cannot_be_demoted_or_deactivated(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let path = format!("/api/users/{}", admin.user_id);

    app.patch(&path, Some(&admin.token), json!({"role": "agent"})).await.expect_error(
        409,
        Some("last_admin"),
        None,
    );
    app.patch(&path, Some(&admin.token), json!({"active": false})).await.expect_error(
        409,
        Some("last_admin"),
        None,
    );
    let me = app.get("/api/auth/me", Some(&admin.token)).await;
    me.expect(200);
    assert_eq!(me.json["user"]["role"], "admin");
    assert_eq!(me.json["user"]["active"], true);

    // With a second admin, the first can step down.
    let second = app.add_user(&admin, "Bea Boss", "bea@example.com", "admin").await;
    app.patch(&path, Some(&admin.token), json!({"role": "agent"})).await.expect(200);
    // Now the second is the last admin.
    app.patch(
        &format!("/api/users/{}", second.user_id),
        Some(&second.token),
        json!({"active": false}),
    )
    .await
    .expect_error(409, Some("last_admin"), None);
}

pub async fn tickets_are_created_with_status_new_by_the_caller(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;

    let t = app
        .create_ticket_full(
            &agent.token,
            json!({
                "subject": "  Cannot log in  ",
                "body": "Since this morning the login page spins forever.",
                "customer_name": "Carla Customer",
                "customer_email": "Carla@Example.com",
            }),
        )
        .await;
    assert_eq!(t["status"], "new");
    assert_eq!(t["channel"], "web", "channel defaults to web");
    assert_eq!(t["subject"], "Cannot log in", "trimmed");
    assert_eq!(t["customer_email"], "carla@example.com");
    assert_eq!(t["created_by_id"], agent.user_id.as_str());
    assert_eq!(t["tenant_id"], admin.tenant_id.as_str());
    assert!(t["priority"].is_null() && t["category"].is_null() && t["assignee_id"].is_null());

    let phone = app
        .create_ticket_full(
            &admin.token,
            json!({"subject": "Call back", "body": "Please call", "channel": "phone",
                   "customer_name": "Dan", "customer_email": "dan@example.com"}),
        )
        .await;
    assert_eq!(phone["channel"], "phone");

    let detail = app.ticket(&admin.token, t["id"].as_str().unwrap()).await;
    assert_eq!(detail["ticket"], t);
    assert_eq!(detail["replies"], json!([]));
    assert!(detail["latest_run"].is_null());
}

pub async fn ticket_list_filters_search_and_pages(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    let tok = admin.token.as_str();

    let mk = |subject: &'static str,
              body: &'static str,
              name: &'static str,
              email: &'static str| {
        json!({"subject": subject, "body": body, "customer_name": name, "customer_email": email})
    };
    let t1 = app
        .create_ticket_full(
            tok,
            mk(
                "Invoice overcharged",
                "March invoice is twice the usual amount",
                "Irene",
                "irene@billing.example",
            ),
        )
        .await;
    let t2 = app
        .create_ticket_full(
            tok,
            mk(
                "Export crashes",
                "The CSV export crashes with error 500",
                "Bruno",
                "bruno@example.com",
            ),
        )
        .await;
    let t3 = app
        .create_ticket_full(
            tok,
            mk("Dark mode please", "Would love a dark mode option", "Fay", "fay@example.com"),
        )
        .await;
    let t4 = app
        .create_ticket_full(
            tok,
            mk(
                "Question about SSO",
                "Do you support Okta single sign-on?",
                "Gus",
                "gus@corp.example",
            ),
        )
        .await;
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
    let (i1, i2, i3, i4) = (id(&t1), id(&t2), id(&t3), id(&t4));

    app.patch(&format!("/api/tickets/{i1}"), Some(tok), json!({"status": "open", "priority": "high", "category": "billing", "assignee_id": agent.user_id}))
        .await
        .expect(200);
    app.patch(&format!("/api/tickets/{i2}"), Some(tok), json!({"status": "open", "priority": "urgent", "category": "bug", "assignee_id": admin.user_id}))
        .await
        .expect(200);
    app.patch(
        &format!("/api/tickets/{i3}"),
        Some(tok),
        json!({"status": "closed", "priority": "low", "category": "feature_request"}),
    )
    .await
    .expect(200);

    // Newest first, with total.
    let all = app.list(tok, "").await;
    assert_eq!(ids(&all), vec![i4.clone(), i3.clone(), i2.clone(), i1.clone()]);
    assert_eq!(all["total"], 4);
    assert_eq!(all["page"], 1);
    assert_eq!(all["page_size"], 25);

    assert_eq!(ids(&app.list(tok, "status=open").await), vec![i2.clone(), i1.clone()]);
    assert_eq!(ids(&app.list(tok, "status=new").await), vec![i4.clone()]);
    assert_eq!(ids(&app.list(tok, "priority=urgent").await), vec![i2.clone()]);
    assert_eq!(ids(&app.list(tok, "category=feature_request").await), vec![i3.clone()]);
    assert_eq!(
        ids(&app.list(tok, &format!("assignee_id={}", agent.user_id)).await),
        vec![i1.clone()]
    );
    assert_eq!(ids(&app.list(tok, "unassigned=true").await), vec![i4.clone(), i3.clone()]);
    assert_eq!(ids(&app.list(tok, "status=open&priority=high").await), vec![i1.clone()]);
    let none = app.list(tok, "status=pending").await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["total"], 0);

    // q: case-insensitive word prefixes, every word must match, in subject, body, name or email.
    assert_eq!(ids(&app.list(tok, "q=INVO").await), vec![i1.clone()]);
    assert_eq!(ids(&app.list(tok, "q=march%20invoice").await), vec![i1.clone()]);
    assert_eq!(app.list(tok, "q=march%20refund").await["total"], 0);
    assert_eq!(ids(&app.list(tok, "q=crash").await), vec![i2.clone()]);
    assert_eq!(ids(&app.list(tok, "q=okta").await), vec![i4.clone()]);
    assert_eq!(ids(&app.list(tok, "q=bruno").await), vec![i2.clone()], "customer name");
    assert_eq!(ids(&app.list(tok, "q=corp").await), vec![i4.clone()], "customer email");
    assert_eq!(app.list(tok, "q=voice").await["total"], 0, "prefixes, not substrings");
    assert_eq!(ids(&app.list(tok, "q=mode&status=closed").await), vec![i3.clone()]);

    // Pages.
    let p1 = app.list(tok, "page_size=3").await;
    assert_eq!(ids(&p1), vec![i4.clone(), i3.clone(), i2.clone()]);
    assert_eq!(p1["total"], 4);
    assert_eq!(p1["page_size"], 3);
    let p2 = app.list(tok, "page=2&page_size=3").await;
    assert_eq!(ids(&p2), vec![i1.clone()]);
    assert_eq!(p2["page"], 2);
    assert_eq!(p2["total"], 4);
    let p3 = app.list(tok, "page=3&page_size=3").await;
    assert_eq!(p3["items"], json!([]));
    assert_eq!(p3["total"], 4);
    let p100 = app.list(tok, "page=2&page_size=100").await;
    assert_eq!(p100["items"], json!([]));
}

pub async fn tickets_are_patched_and_null_clears(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let agent = app.add_user(&admin, "Alan Agent", "alan@example.com", "agent").await;
    let t = app.create_ticket(&agent.token, "Broken link", "The pricing link 404s").await;
    let path = format!("/api/tickets/{}", t["id"].as_str().unwrap());

    let r = app
        .patch(&path, Some(&agent.token), json!({"status": "pending", "priority": "medium", "category": "bug", "assignee_id": agent.user_id}))
        .await;
    r.expect(200);
    assert_eq!(r.json["status"], "pending");
    assert_eq!(r.json["priority"], "medium");
    assert_eq!(r.json["category"], "bug");
    assert_eq!(r.json["assignee_id"], agent.user_id.as_str());
    assert_eq!(r.json["subject"], "Broken link");

    // Leaving fields out keeps them.
    let r = app.patch(&path, Some(&agent.token), json!({"status": "open"})).await;
    r.expect(200);
    assert_eq!(r.json["priority"], "medium");
    assert_eq!(r.json["assignee_id"], agent.user_id.as_str());

    // null clears priority, category and assignee.
    let r = app
        .patch(
            &path,
            Some(&agent.token),
            json!({"priority": null, "category": null, "assignee_id": null}),
        )
        .await;
    r.expect(200);
    assert!(r.json["priority"].is_null() && r.json["category"].is_null());
    assert!(r.json["assignee_id"].is_null());
    assert_eq!(r.json["status"], "open");

    let back = app.ticket(&admin.token, t["id"].as_str().unwrap()).await;
    assert_eq!(back["ticket"], r.json);

    // Subject and customer are editable, and search follows the new text.
    let r = app
        .patch(
            &path,
            Some(&agent.token),
            json!({"subject": "  Pricing page link is dead ", "customer_name": "Dana Díaz",
                   "customer_email": "Dana@Shop.example"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json["subject"], "Pricing page link is dead");
    assert_eq!(r.json["customer_name"], "Dana Díaz");
    assert_eq!(r.json["customer_email"], "dana@shop.example");
    assert_eq!(r.json["status"], "open", "fields left out are kept");
    let id = t["id"].as_str().unwrap();
    let found = |q: &'static str| {
        let app = &app;
        let token = admin.token.clone();
        async move {
            let page = app.list(&token, &format!("q={q}")).await;
            page["items"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>()
        }
    };
    assert_eq!(found("dead").await, vec![json!(id)]);
    assert_eq!(found("d%C3%ADaz").await, vec![json!(id)]);
    assert!(found("broken").await.is_empty(), "the old subject is no longer indexed");

    // A deactivated user cannot be assigned.
    let leaver = app.add_user(&admin, "Lea Leaver", "lea@example.com", "agent").await;
    app.deactivate(&admin, &leaver.user_id).await;
    app.patch(&path, Some(&agent.token), json!({"assignee_id": leaver.user_id}))
        .await
        .expect_error(422, None, Some("assignee_id"));
    assert!(
        app.ticket(&admin.token, t["id"].as_str().unwrap()).await["ticket"]["assignee_id"]
            .is_null()
    );
}

pub async fn replies_are_added_oldest_first_and_can_set_status(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let t =
        app.create_ticket(&admin.token, "Where is my order", "Order 1234 has not arrived").await;
    let tid = t["id"].as_str().unwrap();

    let first = app
        .post(
            &format!("/api/tickets/{tid}/replies"),
            Some(&admin.token),
            json!({"body": "Looking into it."}),
        )
        .await;
    first.expect(201);
    assert_eq!(first.json["author_type"], "human");
    assert_eq!(first.json["author_id"], admin.user_id.as_str());
    assert_eq!(first.json["draft"], false);
    assert!(first.json["sent_at"].is_string());
    assert_eq!(first.json["ticket_id"], tid);
    assert_eq!(app.ticket(&admin.token, tid).await["ticket"]["status"], "new", "no status given");

    let second = app
        .post(
            &format!("/api/tickets/{tid}/replies"),
            Some(&admin.token),
            json!({"body": "It ships today.", "status": "replied"}),
        )
        .await;
    second.expect(201);

    let detail = app.ticket(&admin.token, tid).await;
    assert_eq!(detail["ticket"]["status"], "replied", "status changed with the reply");
    let bodies: Vec<&str> =
        detail["replies"].as_array().unwrap().iter().map(|r| r["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["Looking into it.", "It ships today."], "oldest first");

    // A sent reply is not a draft: it cannot be edited through the draft endpoint.
    app.patch(
        &format!("/api/tickets/{tid}/replies/{}", first.json["id"].as_str().unwrap()),
        Some(&admin.token),
        json!({"body": "rewritten"}),
    )
    .await
    .expect_error(409, Some("reply_not_draft"), None);
    let detail = app.ticket(&admin.token, tid).await;
    assert_eq!(detail["replies"][0]["body"], "Looking into it.");
}

pub async fn health_docs_metrics_and_web_routes_answer(ctx: Ctx) {
    let app = ctx.spawn().await;

    let h = app.get("/api/health", None).await;
    h.expect(200);
    assert_eq!(h.json["status"], "ok");
    assert_eq!(h.json["store"]["ok"], true);
    assert_eq!(h.json["store"]["backend"], ctx.backend().health_name());

    let spec = app.get("/api/openapi.json", None).await;
    spec.expect(200);
    assert!(spec.content_type.starts_with("application/json"), "{}", spec.content_type);
    let paths = spec.json["paths"].as_object().expect("paths");
    for p in ["/tickets", "/tickets/{id}", "/auth/login", "/tickets/{id}/workflows/triage"] {
        assert!(paths.contains_key(p), "OpenAPI document lacks {p}: {:?}", paths.keys());
    }

    // The step catalogue the web UI is generated from: every step, in pipeline order, labelled.
    let steps =
        spec.json["components"]["schemas"]["StepType"]["x-steps"].as_array().expect("x-steps");
    let values: Vec<&str> = steps.iter().filter_map(|s| s["value"].as_str()).collect();
    assert_eq!(
        values,
        ["classification", "priority", "assignee_suggestion", "reply_draft", "persist"]
    );
    assert!(steps.iter().all(|s| s["label"].as_str().is_some_and(|l| !l.is_empty())), "{steps:?}");
    assert_eq!(steps[1]["prerequisites"], serde_json::json!(["classification"]));

    // Every operation has an id; every one but health, signup and login needs the bearer token
    // and documents the JSON error answers.
    let public = ["health", "signup", "login"];
    let mut op_ids = Vec::new();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            op_ids.push(id.to_owned());
            if public.contains(&id) {
                continue;
            }
            assert!(
                op.get("security").is_some(),
                "{method} {path} is not marked as needing a token"
            );
            for status in ["400", "401", "404", "422"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    let unique: std::collections::BTreeSet<_> = op_ids.iter().collect();
    assert_eq!(unique.len(), op_ids.len(), "operation ids are unique: {op_ids:?}");

    let docs = app.get("/api/docs", None).await;
    docs.expect(200);
    assert!(docs.content_type.starts_with("text/html"), "{}", docs.content_type);

    let nope = app.get("/api/nope", None).await;
    nope.expect_error(404, Some("not_found"), None);

    let deep = app.get("/tickets/0190f3a4-0000-7000-8000-000000000000", None).await;
    deep.expect(200);
    assert!(deep.content_type.starts_with("text/html"), "{}", deep.content_type);
    assert!(
        deep.text.contains("<html")
            || deep.text.contains("<!doctype")
            || deep.text.contains("<!DOCTYPE")
    );

    let metrics = app.get("/metrics", None).await;
    metrics.expect(200);
    assert!(metrics.text.contains("opsflow_http_requests_total"), "{}", metrics.text);
    assert!(metrics.text.contains("route=\"health\""), "requests are counted by route");
}

pub async fn repeated_failed_logins_are_refused_for_a_while(ctx: Ctx) {
    let limits =
        LoginLimits { max_failures: 3, window: Duration::from_secs(60), ..LoginLimits::default() };
    let app = ctx.spawn_with(AppOptions { login: limits, ..AppOptions::default() }).await;
    let ada = app.signup("Acme", "ada@example.com").await;
    app.signup("Beta", "bob@example.com").await;

    // A success clears the count: two failures, a success, two more failures still get in.
    for _ in 0..2 {
        app.login_raw("ada@example.com", "not the password", None).await.expect(401);
    }
    app.login("ada@example.com", PASSWORD).await;
    for _ in 0..2 {
        app.login_raw("ada@example.com", "not the password", None).await.expect(401);
    }
    app.login("ada@example.com", PASSWORD).await;

    // Three failures in a row: then even the right password is refused, in any letter case.
    for _ in 0..3 {
        app.login_raw("ada@example.com", "not the password", None).await.expect_error(
            401,
            Some("invalid_credentials"),
            None,
        );
    }
    for email in ["ada@example.com", " ADA@Example.com"] {
        let r = app.login_raw(email, PASSWORD, None).await;
        r.expect_error(429, Some("too_many_attempts"), None);
        let wait: u64 = r.retry_after.as_deref().expect("Retry-After").parse().expect("seconds");
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
        assert!(r.json["error"]["message"].as_str().unwrap().contains("1 minute"), "{}", r.text);
    }
    // Naming the workspace does not get around it.
    app.login_raw("ada@example.com", PASSWORD, Some(&ada.slug)).await.expect_error(
        429,
        Some("too_many_attempts"),
        None,
    );
    // Only logins are refused: Ada's existing token still works, and Bob is not affected.
    app.get("/api/auth/me", Some(&ada.token)).await.expect(200);
    app.login("bob@example.com", PASSWORD).await;

    // An unknown email is throttled the same way, so the answer reveals nothing.
    for _ in 0..3 {
        app.login_raw("nobody@example.com", PASSWORD, None).await.expect(401);
    }
    app.login_raw("nobody@example.com", PASSWORD, None).await.expect_error(
        429,
        Some("too_many_attempts"),
        None,
    );
}

async fn median_login_time(app: &TestApp, email: &str, password: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        app.login_raw(email, password, None).await.expect_error(401, None, None);
        times.push(started.elapsed());
    }
    times.sort();
    times[2]
}

pub async fn an_unknown_email_takes_as_long_as_a_wrong_password(ctx: Ctx) {
    // Real (if small) argon2 work, so that hashing dominates the answer time.
    let hasher = Argon2Hasher::with_params(8 * 1024, 2, 1).expect("argon2 parameters");
    let app = ctx
        .spawn_with(AppOptions { hasher: Some(Arc::new(hasher)), ..AppOptions::default() })
        .await;
    app.signup("Acme", "ada@example.com").await;
    // Warm up both paths (the dummy hash is computed once).
    app.login_raw("nobody@example.com", PASSWORD, None).await;
    app.login_raw("ada@example.com", "not the password", None).await;

    let wrong_password = median_login_time(&app, "ada@example.com", "not the password").await;
    let unknown_email = median_login_time(&app, "nobody@example.com", PASSWORD).await;
    // An unknown email that answers much faster tells an attacker which emails exist.
    assert!(
        unknown_email * 10 >= wrong_password * 3,
        "unknown email {unknown_email:?} vs wrong password {wrong_password:?}"
    );
}
