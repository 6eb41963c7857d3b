//! Issue 11 audit log: who did what to accounts and settings, readable by the workspace's
//! admins only, never across workspaces, never holding a password.

use serde_json::{Value, json};

use crate::common::{Ctx, PASSWORD, Session, TestApp};

const NEW_PASSWORD: &str = "Granite-Pelican-7304";

/// `GET /api/audit?<query>` as `s` (must succeed).
async fn audit(app: &TestApp, s: &Session, query: &str) -> Value {
    let r = app.get(&format!("/api/audit?{query}"), Some(&s.token)).await;
    r.expect(200);
    r.json
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

fn kinds(page: &Value) -> Vec<&str> {
    items(page).iter().map(|e| e["kind"].as_str().expect("kind")).collect()
}

/// The newest event of `kind` on the page.
fn newest<'a>(page: &'a Value, kind: &str) -> &'a Value {
    items(page)
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {page}"))
}

pub async fn account_and_settings_changes_are_recorded_with_actor_and_target(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;

    let log = audit(&app, &admin, "").await;
    assert_eq!(kinds(&log), ["signup"]);
    let signup = newest(&log, "signup");
    assert_eq!(signup["actor_id"], admin.user_id.as_str());
    assert_eq!(signup["actor_email"], "ada@example.com");
    assert_eq!(signup["ip"], "127.0.0.1");
    assert_eq!(signup["detail"]["workspace_name"], "Acme Agency");

    // Sign-ins: a wrong password is recorded against the user, with no actor; an unknown email
    // belongs to no workspace and is not recorded at all.
    app.login_raw("ada@example.com", "Wrong-Guess-12345", None).await.expect(401);
    app.login_raw("nobody@example.com", PASSWORD, None).await.expect(401);
    let second = app.login("ada@example.com", PASSWORD).await;
    let log = audit(&app, &admin, "").await;
    assert_eq!(kinds(&log), ["login_succeeded", "login_failed", "signup"]);
    let failed = newest(&log, "login_failed");
    assert_eq!(failed["actor_id"], Value::Null);
    assert_eq!(failed["target_user_id"], admin.user_id.as_str());
    assert_eq!(failed["target_email"], "ada@example.com");
    assert_eq!(failed["detail"]["reason"], "wrong_password");
    assert_eq!(failed["ip"], "127.0.0.1");
    assert_eq!(newest(&log, "login_succeeded")["actor_id"], admin.user_id.as_str());

    // Team changes: the new user's own sign-in and password change are theirs, the admin's
    // changes are the admin's and name the user as target.
    let sam = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    let reset = app
        .post_empty(&format!("/api/users/{}/password-reset", sam.user_id), Some(&admin.token))
        .await;
    reset.expect(200);
    let temporary = reset.json["temporary_password"].as_str().unwrap().to_owned();
    let user_path = format!("/api/users/{}", sam.user_id);
    app.patch(&user_path, Some(&admin.token), json!({"role": "admin"})).await.expect(200);
    app.patch(&user_path, Some(&admin.token), json!({"name": "Samuel Agent"})).await.expect(200);
    app.deactivate(&admin, &sam.user_id).await;
    app.login_raw("sam@example.com", &temporary, None).await.expect(401);
    app.patch(&user_path, Some(&admin.token), json!({"active": true})).await.expect(200);
    app.patch("/api/tenant", Some(&admin.token), json!({"policies": "Never promise refunds."}))
        .await
        .expect(200);

    let log = audit(&app, &admin, "").await;
    assert_eq!(
        kinds(&log),
        [
            "settings_updated",
            "user_reactivated",
            "login_failed",
            "user_deactivated",
            "role_changed",
            "password_reset_by_admin",
            "password_changed",
            "login_succeeded",
            "user_created",
            "login_succeeded",
            "login_failed",
            "signup",
        ],
        "a rename alone is not recorded; {log}"
    );
    assert_eq!(log["total"], 12);
    for kind in [
        "user_created",
        "password_reset_by_admin",
        "role_changed",
        "user_deactivated",
        "user_reactivated",
    ] {
        let e = newest(&log, kind);
        assert_eq!(e["actor_id"], admin.user_id.as_str(), "{kind}");
        assert_eq!(e["actor_email"], "ada@example.com", "{kind}");
        assert_eq!(e["target_user_id"], sam.user_id.as_str(), "{kind}");
        assert_eq!(e["target_email"], "sam@example.com", "{kind}");
    }
    assert_eq!(newest(&log, "user_created")["detail"]["to_role"], "agent");
    let role = newest(&log, "role_changed");
    assert_eq!(
        (&role["detail"]["from_role"], &role["detail"]["to_role"]),
        (&json!("agent"), &json!("admin"))
    );
    let changed = newest(&log, "password_changed");
    assert_eq!(changed["actor_id"], sam.user_id.as_str());
    assert_eq!(changed["target_user_id"], sam.user_id.as_str());
    let deactivated_login = newest(&log, "login_failed");
    assert_eq!(deactivated_login["target_user_id"], sam.user_id.as_str());
    assert_eq!(deactivated_login["detail"]["reason"], "user_deactivated");
    let settings = newest(&log, "settings_updated");
    assert_eq!(settings["actor_id"], admin.user_id.as_str());
    assert_eq!(settings["detail"]["fields"], "policies");
    assert_eq!(settings["target_user_id"], Value::Null);

    // Logouts are the user's own.
    app.post_empty("/api/auth/logout", Some(&second.token)).await.expect(204);
    let third = app.login("ada@example.com", PASSWORD).await;
    app.post_empty("/api/auth/logout-all", Some(&third.token)).await.expect(204);
    let admin = app.login("ada@example.com", PASSWORD).await;
    let log = audit(&app, &admin, "per_page=4").await;
    assert_eq!(kinds(&log), ["login_succeeded", "logout_all", "login_succeeded", "logout"]);
    assert_eq!(newest(&log, "logout")["actor_id"], admin.user_id.as_str());
    assert_eq!(newest(&log, "logout_all")["detail"]["sessions_ended"], "2");

    // A password change by the admin; no password, hash or token is ever in the log.
    app.post(
        "/api/auth/password",
        Some(&admin.token),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    let everything = audit(&app, &admin, "per_page=200").await;
    assert_eq!(newest(&everything, "password_changed")["actor_id"], admin.user_id.as_str());
    let text = everything.to_string();
    for secret in [PASSWORD, NEW_PASSWORD, temporary.as_str(), admin.token.as_str(), "argon2"] {
        assert!(!text.contains(secret), "the audit log holds a secret: {secret}");
    }
}

pub async fn filters_and_paging_narrow_the_log(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let sam = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    app.login_raw("sam@example.com", "Wrong-Guess-12345", None).await.expect(401);
    app.login_raw("ada@example.com", "Wrong-Guess-12345", None).await.expect(401);

    let failed = audit(&app, &admin, "kind=login_failed").await;
    assert_eq!(failed["total"], 2);
    assert_eq!(kinds(&failed), ["login_failed", "login_failed"]);
    let several = audit(&app, &admin, "kind=login_failed&kind=signup").await;
    assert_eq!(kinds(&several), ["login_failed", "login_failed", "signup"]);

    // Sam's own doings: his first sign-in and his password change.
    let by_sam = audit(&app, &admin, &format!("actor={}", sam.user_id)).await;
    assert_eq!(kinds(&by_sam), ["password_changed", "login_succeeded"]);

    let all = audit(&app, &admin, "").await;
    let total = all["total"].as_u64().unwrap();
    assert_eq!(total, 6, "{all}");
    let first = audit(&app, &admin, "per_page=4").await;
    let second = audit(&app, &admin, "per_page=4&page=2").await;
    assert_eq!((first["total"].as_u64(), second["total"].as_u64()), (Some(6), Some(6)));
    assert_eq!((items(&first).len(), items(&second).len()), (4, 2));
    let paged: Vec<_> =
        items(&first).iter().chain(items(&second)).map(|e| e["id"].clone()).collect();
    let whole: Vec<_> = items(&all).iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, whole);
    assert_eq!((second["page"].as_u64(), second["per_page"].as_u64()), (Some(2), Some(4)));

    // Time range: `from` inclusive, `to` exclusive.
    let oldest = items(&all).last().unwrap()["at"].as_str().unwrap().to_owned();
    let newest_at = items(&all)[0]["at"].as_str().unwrap().to_owned();
    let enc = |t: &str| t.replace('+', "%2B");
    let from_oldest = audit(&app, &admin, &format!("from={}", enc(&oldest))).await;
    assert_eq!(from_oldest["total"], 6);
    let before_oldest = audit(&app, &admin, &format!("to={}", enc(&oldest))).await;
    assert_eq!(before_oldest["total"], 0);
    let up_to_newest =
        audit(&app, &admin, &format!("from={}&to={}", enc(&oldest), enc(&newest_at))).await;
    assert_eq!(up_to_newest["total"], 5);
}

pub async fn agents_get_403_and_other_workspaces_see_none_of_it(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let agent = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    app.get("/api/audit", Some(&agent.token)).await.expect_error(403, Some("forbidden"), None);
    app.get("/api/audit", None).await.expect_error(401, Some("unauthorized"), None);

    let other = app.signup("Beta Studio", "bob@example.org").await;
    // A failed login for an email of the first workspace is not the second one's business.
    app.login_raw("ada@example.com", "Wrong-Guess-12345", None).await.expect(401);
    let theirs = audit(&app, &other, "per_page=200").await;
    assert_eq!(kinds(&theirs), ["signup"]);
    assert_eq!(items(&theirs)[0]["actor_id"], other.user_id.as_str());
    // Naming the first workspace's admin as actor does not reach across either.
    let probe = audit(&app, &other, &format!("actor={}", admin.user_id)).await;
    assert_eq!((probe["total"].as_u64(), items(&probe).len()), (Some(0), 0));
    let text = theirs.to_string();
    for leak in
        [admin.user_id.as_str(), agent.user_id.as_str(), "ada@example.com", "sam@example.com"]
    {
        assert!(!text.contains(leak), "workspace B sees {leak}: {text}");
    }
    // The first workspace's log is whole.
    let mine = audit(&app, &admin, "per_page=200").await;
    assert!(kinds(&mine).contains(&"login_failed"));
    assert!(!mine.to_string().contains("bob@example.org"));
}

pub async fn bad_audit_parameters_are_4xx_naming_the_field(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let t = Some(admin.token.as_str());
    let cases = [
        ("kind=bogus", 400, "kind"),
        ("kind=signup&kind=LOGIN", 400, "kind"),
        ("page=abc", 400, "page"),
        ("per_page=-1", 400, "per_page"),
        ("actor=not-a-uuid", 422, "actor"),
        ("from=yesterday", 422, "from"),
        ("to=2026-13-01T00:00:00Z", 422, "to"),
        ("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", 422, "to"),
        ("page=0", 422, "page"),
        ("page=1000001", 422, "page"),
        ("per_page=0", 422, "per_page"),
        ("per_page=201", 422, "per_page"),
    ];
    for (query, status, field) in cases {
        let r = app.get(&format!("/api/audit?{query}"), t).await;
        assert!(r.status == status, "{query}: {} {}", r.status, r.text);
        r.expect_error(status, None, Some(field));
    }
    let r = app.get("/api/audit?kind=bogus", t).await;
    assert!(r.text.contains("login_failed"), "the message lists the kinds: {}", r.text);
    // Good values still answer.
    audit(&app, &admin, "kind=signup&from=2026-01-01T00:00:00Z&page=1&per_page=200").await;
}
