//! Races a client can cause: uniqueness and "last admin" rules hold under concurrent requests,
//! and a lost race is a clean 409, never a 500.

use futures::future::join_all;
use serde_json::json;

use crate::common::{Ctx, PASSWORD};

pub async fn concurrent_signups_with_one_name_get_distinct_slugs(ctx: Ctx) {
    let app = ctx.spawn().await;
    let signups = (0..6).map(|i| {
        app.post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": "Rush Hour", "user_name": "Rae", "email": format!("rae{i}@example.com"), "password": PASSWORD}),
        )
    });
    let answers = join_all(signups).await;
    let mut slugs: Vec<String> = answers
        .iter()
        .map(|r| {
            r.expect(201);
            r.json["tenant"]["slug"].as_str().unwrap().to_owned()
        })
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 6, "every workspace has its own slug: {slugs:?}");
    assert!(slugs.contains(&"rush-hour".to_owned()));
}

pub async fn concurrent_signups_of_one_email_make_one_workspace(ctx: Ctx) {
    let app = ctx.spawn().await;
    let signups = (0..6).map(|_| {
        app.post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": "Double Click", "user_name": "Dee", "email": "dee@example.com", "password": PASSWORD}),
        )
    });
    let answers = join_all(signups).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "exactly one workspace: {:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 201) {
        // Either it ran after the first (workspace_exists) or during it (retry shortly).
        match r.status {
            409 => {
                r.expect_error(409, Some("workspace_exists"), None);
            }
            429 => assert!(r.retry_after.is_some(), "429 says when to retry"),
            other => panic!("unexpected status {other}: {}", r.json),
        }
    }
    // Once the first finished, the email is free to sign up again only as a duplicate: 409.
    let again = app
        .post(
            "/api/auth/signup",
            None,
            json!({"tenant_name": "Double Click", "user_name": "Dee", "email": "dee@example.com", "password": PASSWORD}),
        )
        .await;
    again.expect_error(409, Some("workspace_exists"), None);
}

pub async fn concurrent_creates_of_one_email_make_one_user(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme", "ada@example.com").await;
    let creates = (0..5).map(|i| {
        app.post(
            "/api/users",
            Some(&admin.token),
            json!({"name": format!("Twin {i}"), "email": "twin@example.com"}),
        )
    });
    let answers = join_all(creates).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    for r in answers.iter().filter(|r| r.status != 201) {
        r.expect_error(409, Some("email_taken"), None);
    }
    assert_eq!(created, 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    let users = app.get("/api/users", Some(&admin.token)).await;
    let twins = users.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] == "twin@example.com")
        .count();
    assert_eq!(twins, 1);
}

pub async fn concurrent_demotions_keep_an_active_admin(ctx: Ctx) {
    let app = ctx.spawn().await;
    for round in 0..4 {
        let first =
            app.signup(&format!("Pair {round}"), &format!("first{round}@example.com")).await;
        let second =
            app.add_user(&first, "Second", &format!("second{round}@example.com"), "admin").await;
        let first_path = format!("/api/users/{}", first.user_id);
        let second_path = format!("/api/users/{}", second.user_id);
        let (demote_self, deactivate_other) = tokio::join!(
            app.patch(&first_path, Some(&first.token), json!({"role": "agent"})),
            app.patch(&second_path, Some(&first.token), json!({"active": false})),
        );
        for r in [&demote_self, &deactivate_other] {
            // 401: the self-demotion ended `first`'s sessions before the other request was read.
            assert!(
                [200, 401, 403, 409].contains(&r.status),
                "round {round}: {} {}",
                r.status,
                r.text
            );
            if r.status != 200 {
                r.expect_error(r.status, None, None);
            }
        }
        assert!(
            !(demote_self.status == 200 && deactivate_other.status == 200),
            "round {round}: both changes went through, leaving no active admin"
        );
        // Read back with whichever token still belongs to an active admin.
        let mut admins = None;
        for token in [&first.token, &second.token] {
            let r = app.get("/api/users", Some(token)).await;
            if r.status == 200 {
                admins = Some(
                    r.json["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|u| u["role"] == "admin" && u["active"] == true)
                        .count(),
                );
                break;
            }
        }
        assert!(admins.is_some_and(|n| n >= 1), "round {round}: no active admin left");
    }
}
