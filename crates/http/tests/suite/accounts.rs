//! Issue 11 accounts: password change and policy, temporary passwords, admin reset, sessions
//! that end (logout, logout everywhere, password change, role change), duplicate-signup guard.

use serde_json::json;

use crate::common::{Ctx, PASSWORD};

const NEW_PASSWORD: &str = "Granite-Pelican-7304";

pub async fn password_change_checks_current_and_policy_and_ends_other_sessions(ctx: Ctx) {
    let app = ctx.spawn().await;
    let s = app.signup("Acme Agency", "ada@example.com").await;
    let other = app.login("ada@example.com", PASSWORD).await;

    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    // Wrong current password: 422 naming the field, nothing changes.
    let r = app
        .post("/api/auth/password", Some(&s.token), change("Wrong-Guess-12345", NEW_PASSWORD))
        .await;
    r.expect_error(422, Some("validation_failed"), Some("current_password"));
    // Policy: too short, too common, too long, built from the person's own words.
    for weak in ["Short-1", "password1234"] {
        let r = app.post("/api/auth/password", Some(&s.token), change(PASSWORD, weak)).await;
        r.expect_error(422, Some("validation_failed"), Some("new_password"));
    }
    let r = app
        .post("/api/auth/password", Some(&s.token), change(PASSWORD, &"Qx7!mZ2@vL9#".repeat(11)))
        .await;
    r.expect_error(422, Some("validation_failed"), Some("new_password"));
    let r =
        app.post("/api/auth/password", Some(&s.token), json!({"current_password": PASSWORD})).await;
    r.expect_error(400, None, Some("new_password"));
    app.login("ada@example.com", PASSWORD).await;

    app.post("/api/auth/password", Some(&s.token), change(PASSWORD, NEW_PASSWORD))
        .await
        .expect(204);
    // This session stays; the other one (and any other) is ended.
    app.get("/api/auth/me", Some(&s.token)).await.expect(200);
    app.get("/api/auth/me", Some(&other.token)).await.expect_error(401, Some("unauthorized"), None);
    app.login_raw("ada@example.com", PASSWORD, None).await.expect(401);
    app.login("ada@example.com", NEW_PASSWORD).await;
    // Without a token: 401.
    app.post("/api/auth/password", None, change(NEW_PASSWORD, PASSWORD)).await.expect(401);
}

pub async fn temporary_passwords_must_be_changed_before_anything_else(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let r = app
        .post(
            "/api/users",
            Some(&admin.token),
            json!({"name": "Sam Agent", "email": "sam@example.com"}),
        )
        .await;
    r.expect(201);
    assert_eq!(r.json["user"]["must_change_password"], true);
    let temporary = r.json["temporary_password"].as_str().unwrap().to_owned();
    let login = app.login_raw("sam@example.com", &temporary, None).await;
    login.expect(200);
    assert_eq!(login.json["user"]["must_change_password"], true);
    let token = login.json["access_token"].as_str().unwrap().to_owned();

    let me = app.get("/api/auth/me", Some(&token)).await;
    me.expect(200);
    assert_eq!(me.json["user"]["must_change_password"], true);
    for path in ["/api/tickets", "/api/team", "/api/tenant"] {
        app.get(path, Some(&token)).await.expect_error(403, Some("password_change_required"), None);
    }
    app.post("/api/tickets", Some(&token), json!({"subject": "x"})).await.expect_error(
        403,
        Some("password_change_required"),
        None,
    );

    app.post(
        "/api/auth/password",
        Some(&token),
        json!({"current_password": temporary, "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    let me = app.get("/api/auth/me", Some(&token)).await;
    assert_eq!(me.json["user"]["must_change_password"], false);
    app.get("/api/tickets", Some(&token)).await.expect(200);
    // The temporary password no longer works.
    app.login_raw("sam@example.com", &temporary, None).await.expect(401);
}

pub async fn admin_reset_gives_a_new_temporary_password_and_ends_sessions(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let sam = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    app.get("/api/tickets", Some(&sam.token)).await.expect(200);

    // Agents may not reset passwords.
    let path = format!("/api/users/{}/password-reset", admin.user_id);
    app.post_empty(&path, Some(&sam.token)).await.expect_error(403, Some("forbidden"), None);

    // Nor may an admin reset their own: that would lock them out of the session they use.
    let own = format!("/api/users/{}/password-reset", admin.user_id);
    let r = app.post_empty(&own, Some(&admin.token)).await;
    r.expect_error(409, Some("own_password_reset"), None);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("/api/auth/password"));
    app.get("/api/tickets", Some(&admin.token)).await.expect(200);
    app.login_raw("ada@example.com", PASSWORD, None).await.expect(200);

    let path = format!("/api/users/{}/password-reset", sam.user_id);
    let r = app.post_empty(&path, Some(&admin.token)).await;
    r.expect(200);
    let temporary = r.json["temporary_password"].as_str().unwrap().to_owned();
    assert!(temporary.chars().count() >= 12);
    // Sam's session ended; the old password is gone; the new one must be changed first.
    app.get("/api/tickets", Some(&sam.token)).await.expect(401);
    app.login_raw("sam@example.com", PASSWORD, None).await.expect(401);
    let login = app.login_raw("sam@example.com", &temporary, None).await;
    login.expect(200);
    assert_eq!(login.json["user"]["must_change_password"], true);
    let token = login.json["access_token"].as_str().unwrap();
    app.get("/api/tickets", Some(token)).await.expect_error(
        403,
        Some("password_change_required"),
        None,
    );
    // A second reset makes the first temporary password useless.
    let again = app.post_empty(&path, Some(&admin.token)).await;
    again.expect(200);
    assert_ne!(again.json["temporary_password"], r.json["temporary_password"]);
    app.login_raw("sam@example.com", &temporary, None).await.expect(401);

    // Bad and unknown ids.
    app.post_empty("/api/users/not-an-id/password-reset", Some(&admin.token)).await.expect_error(
        400,
        None,
        Some("id"),
    );
    app.post_empty(&format!("/api/users/{}/password-reset", uuid_v7()), Some(&admin.token))
        .await
        .expect_error(404, Some("user_not_found"), None);
}

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub async fn password_reset_of_another_tenants_user_is_404(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Acme Agency", "ada@example.com").await;
    let b = app.signup("Beta Studio", "bob@example.com").await;
    let r =
        app.post_empty(&format!("/api/users/{}/password-reset", a.user_id), Some(&b.token)).await;
    r.expect_error(404, Some("user_not_found"), None);
    // Ada's password and session are untouched.
    app.get("/api/auth/me", Some(&a.token)).await.expect(200);
    app.login("ada@example.com", PASSWORD).await;
}

pub async fn logout_and_logout_everywhere_end_sessions_at_once(ctx: Ctx) {
    let app = ctx.spawn().await;
    let s = app.signup("Acme Agency", "ada@example.com").await;
    let second = app.login("ada@example.com", PASSWORD).await;
    let third = app.login("ada@example.com", PASSWORD).await;

    app.post_empty("/api/auth/logout", Some(&s.token)).await.expect(204);
    let r = app.get("/api/auth/me", Some(&s.token)).await;
    r.expect_error(401, Some("unauthorized"), None);
    // Logging out twice with the dead token is 401, not 500.
    app.post_empty("/api/auth/logout", Some(&s.token)).await.expect(401);
    app.get("/api/auth/me", Some(&second.token)).await.expect(200);

    app.post_empty("/api/auth/logout-all", Some(&second.token)).await.expect(204);
    app.get("/api/auth/me", Some(&second.token)).await.expect(401);
    app.get("/api/auth/me", Some(&third.token)).await.expect(401);
    // Signing in again works.
    let fresh = app.login("ada@example.com", PASSWORD).await;
    app.get("/api/auth/me", Some(&fresh.token)).await.expect(200);
    app.post_empty("/api/auth/logout", None).await.expect(401);
}

pub async fn role_change_and_deactivation_end_that_users_sessions(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let sam = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    let path = format!("/api/users/{}", sam.user_id);
    // A rename keeps the session.
    app.patch(&path, Some(&admin.token), json!({"name": "Samuel Agent"})).await.expect(200);
    app.get("/api/tickets", Some(&sam.token)).await.expect(200);
    // A role change ends it.
    app.patch(&path, Some(&admin.token), json!({"role": "admin"})).await.expect(200);
    app.get("/api/tickets", Some(&sam.token)).await.expect(401);
    let sam = app.login("sam@example.com", PASSWORD).await;
    app.get("/api/users", Some(&sam.token)).await.expect(200);
    // Deactivation ends it too; reactivation does not bring the old token back.
    app.deactivate(&admin, &sam.user_id).await;
    app.patch(&path, Some(&admin.token), json!({"active": true})).await.expect(200);
    app.get("/api/tickets", Some(&sam.token)).await.expect(401);
    // The admin's own session is untouched.
    app.get("/api/tickets", Some(&admin.token)).await.expect(200);
}

pub async fn signup_policy_and_duplicate_workspace_guard(ctx: Ctx) {
    let app = ctx.spawn().await;
    let body = |name: &str, password: &str| json!({"tenant_name": name, "user_name": "Ada Admin", "email": "ada@example.com", "password": password});
    for weak in ["password", "password1234", "Acme Agency 1"] {
        let r = app.post("/api/auth/signup", None, body("Acme Agency", weak)).await;
        r.expect_error(422, Some("validation_failed"), Some("password"));
    }
    app.post("/api/auth/signup", None, body("Acme Agency", PASSWORD)).await.expect(201);
    // The same email and name again: refused, whatever the flag says.
    let r = app.post("/api/auth/signup", None, body("Acme Agency", PASSWORD)).await;
    r.expect_error(409, Some("workspace_exists"), None);
    let r = app.post("/api/auth/signup", None, body(" acme agency ", PASSWORD)).await;
    r.expect_error(409, Some("workspace_exists"), None);
    let mut again = body("Acme Agency", PASSWORD);
    again["additional_workspace"] = json!(true);
    app.post("/api/auth/signup", None, again).await.expect_error(
        409,
        Some("workspace_exists"),
        None,
    );
    // Another name needs the explicit flag.
    let r = app.post("/api/auth/signup", None, body("Beta Studio", PASSWORD)).await;
    r.expect_error(409, Some("additional_workspace_required"), None);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("additional_workspace"));
    let mut more = body("Beta Studio", PASSWORD);
    more["additional_workspace"] = json!(true);
    app.post("/api/auth/signup", None, more).await.expect(201);
    // A wrong type for the flag is a 400 naming it.
    let mut bad = body("Gamma Works", PASSWORD);
    bad["additional_workspace"] = json!("yes");
    app.post("/api/auth/signup", None, bad).await.expect_error(
        400,
        None,
        Some("additional_workspace"),
    );
    // Only two workspaces exist for this email.
    let r = app.login_raw("ada@example.com", PASSWORD, None).await;
    r.expect_error(409, Some("tenant_required"), None);
    assert_eq!(r.json["error"]["workspaces"].as_array().unwrap().len(), 2);
}
