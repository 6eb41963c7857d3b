//! Issue 10, mailbox settings: `/api/settings/email` saves IMAP and SMTP settings with
//! write-only passwords sealed at rest, answers only admins of the workspace, names every bad
//! field, and tests the connection against real servers (Dovecot and aiosmtpd, started by
//! `scripts/with-mail.sh`) saying which step failed in words.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{AppOptions, Body, Ctx, Session, TestApp, raw_mailboxes};

const IMAP_PASSWORD: &str = "Imap-Pass-4821";
const SMTP_PASSWORD: &str = "Desk-Pass-4821";

fn env_port(name: &str) -> u16 {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests through scripts/with-mail.sh"))
        .parse()
        .expect("a port number")
}

/// Settings for made-up servers.
fn settings() -> Value {
    json!({
        "enabled": true,
        "imap": {
            "host": "imap.example.com",
            "port": 993,
            "security": "tls",
            "username": "support@example.com",
            "password": "Imap-Secret-Value-1",
            "folder": "INBOX"
        },
        "smtp": {
            "host": "smtp.example.com",
            "port": 587,
            "security": "starttls",
            "username": "support@example.com",
            "password": "Smtp-Secret-Value-2"
        },
        "from_address": "support@example.com",
        "from_name": "Acme Support"
    })
}

/// Settings for the test servers of `scripts/with-mail.sh`.
fn local_settings(imap_password: &str, smtp_password: &str) -> Value {
    json!({
        "enabled": false,
        "imap": {
            "host": "127.0.0.1",
            "port": env_port("OPSFLOW_TEST_IMAP_PORT"),
            "security": "none",
            "username": "support",
            "password": imap_password
        },
        "smtp": {
            "host": "127.0.0.1",
            "port": env_port("OPSFLOW_TEST_SMTP_PORT"),
            "security": "none",
            "username": "desk",
            "password": smtp_password
        },
        "from_address": "support@example.com",
        "from_name": "Acme Support"
    })
}

async fn put(app: &TestApp, s: &Session, body: Value) -> crate::common::Resp {
    app.send(Method::PUT, "/api/settings/email", Some(&s.token), Body::Json(body)).await
}

async fn get(app: &TestApp, s: &Session) -> Value {
    let r = app.get("/api/settings/email", Some(&s.token)).await;
    r.expect(200);
    r.json
}

pub async fn email_settings_round_trip_and_passwords_are_never_returned(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;

    // Before anything is saved: defaults, mail off.
    let first = get(&app, &admin).await;
    assert_eq!(first["configured"], false);
    assert_eq!(first["enabled"], false);
    assert_eq!(first["imap"]["folder"], "INBOX");
    assert_eq!(first["imap"]["password_set"], false);
    assert_eq!(first["status"]["consecutive_failures"], 0);

    let saved = put(&app, &admin, settings()).await;
    saved.expect(200);
    for r in [saved.text.clone(), app.get("/api/settings/email", Some(&admin.token)).await.text] {
        assert!(!r.contains("Imap-Secret-Value-1") && !r.contains("Smtp-Secret-Value-2"), "{r}");
        assert!(!r.contains("\"password\""), "no password field at all: {r}");
    }
    let got = get(&app, &admin).await;
    assert_eq!(got["configured"], true);
    assert_eq!(got["enabled"], true);
    assert_eq!(got["imap"]["host"], "imap.example.com");
    assert_eq!(got["imap"]["port"], 993);
    assert_eq!(got["imap"]["security"], "tls");
    assert_eq!(got["imap"]["username"], "support@example.com");
    assert_eq!(got["imap"]["password_set"], true);
    assert_eq!(got["smtp"]["security"], "starttls");
    assert_eq!(got["smtp"]["password_set"], true);
    assert_eq!(got["from_address"], "support@example.com");
    assert_eq!(got["from_name"], "Acme Support");
    assert!(got["updated_at"].is_string());

    // A missing or null password keeps the stored one; an empty string removes it.
    let mut keep = settings();
    keep["imap"].as_object_mut().unwrap().remove("password");
    keep["smtp"]["password"] = Value::Null;
    keep["imap"]["folder"] = json!("Support");
    put(&app, &admin, keep).await.expect(200);
    let got = get(&app, &admin).await;
    assert_eq!(
        (got["imap"]["password_set"].clone(), got["smtp"]["password_set"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(got["imap"]["folder"], "Support");
    let mut clear = settings();
    clear["smtp"]["password"] = json!("");
    clear["smtp"]["username"] = json!("");
    put(&app, &admin, clear).await.expect(200);
    let got = get(&app, &admin).await;
    assert_eq!(got["smtp"]["password_set"], false);
    assert_eq!(got["smtp"]["username"], "");
    assert_eq!(got["imap"]["password_set"], true);

    // The status endpoint answers the same status.
    let status = app.get("/api/settings/email/status", Some(&admin.token)).await;
    status.expect(200);
    assert_eq!(status.json["consecutive_failures"], 0);
    assert_eq!(status.json["last_error"], Value::Null);

    // Each save is in the audit log, naming what changed and never a password.
    let log = app.get("/api/audit?kind=email_settings_updated", Some(&admin.token)).await;
    log.expect(200);
    let items = log.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", log.text);
    assert_eq!(items[2]["detail"]["fields"], "created", "{}", log.text);
    assert_eq!(items[1]["detail"]["fields"], "imap", "{}", log.text);
    // The last save sent the IMAP password again and the folder back to INBOX.
    assert_eq!(
        items[0]["detail"]["fields"], "imap,imap_password,smtp,smtp_password",
        "{}",
        log.text
    );
    assert!(!log.text.contains("Secret-Value"));
}

pub async fn email_passwords_are_sealed_at_rest(ctx: Ctx) {
    let db = ctx.new_db();
    let app = ctx.spawn_on(&db, AppOptions::default()).await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    put(&app, &admin, settings()).await.expect(200);
    let raw = raw_mailboxes(&ctx, &db).await;
    assert!(raw.contains("imap.example.com"), "the row is there: {raw}");
    assert!(!raw.contains("Imap-Secret-Value-1"), "IMAP password in clear: {raw}");
    assert!(!raw.contains("Smtp-Secret-Value-2"), "SMTP password in clear: {raw}");
    // What is stored still opens: the connection test gets as far as the network.
    drop(app);
    let again = ctx.spawn_on(&db, AppOptions::default()).await;
    let admin = again.login("ada@example.com", crate::common::PASSWORD).await;
    assert_eq!(get(&again, &admin).await["imap"]["password_set"], true);
}

pub async fn email_settings_are_for_admins_of_the_workspace_only(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let agent = app.add_user(&admin, "Sam Agent", "sam@example.com", "agent").await;
    put(&app, &admin, settings()).await.expect(200);

    // Agents: 403 on every operation, and nothing changes.
    app.get("/api/settings/email", Some(&agent.token)).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    app.get("/api/settings/email/status", Some(&agent.token)).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    let mut change = settings();
    change["imap"]["host"] = json!("evil.example.net");
    put(&app, &agent, change.clone()).await.expect_error(403, Some("forbidden"), None);
    app.post_empty("/api/settings/email/test", Some(&agent.token)).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    app.get("/api/settings/email", None).await.expect(401);

    // Another workspace's admin sees only their own (empty) mailbox, and their save changes
    // only theirs.
    let other = app.signup("Beta Studio", "bea@example.net").await;
    let theirs = get(&app, &other).await;
    assert_eq!(theirs["configured"], false);
    assert!(!theirs.to_string().contains("imap.example.com"));
    put(&app, &other, change).await.expect(200);
    let ours = get(&app, &admin).await;
    assert_eq!(ours["imap"]["host"], "imap.example.com");
    assert_eq!(get(&app, &other).await["imap"]["host"], "evil.example.net");
    let log = app.get("/api/audit?kind=email_settings_updated", Some(&admin.token)).await;
    assert_eq!(log.json["items"].as_array().unwrap().len(), 1, "{}", log.text);
}

pub async fn bad_email_settings_are_4xx_naming_the_field(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/imap/host", json!(""), "imap.host"),
        ("/imap/host", json!("imap example.com"), "imap.host"),
        ("/imap/host", json!("h".repeat(254)), "imap.host"),
        ("/smtp/host", json!("  "), "smtp.host"),
        ("/imap/port", json!(0), "imap.port"),
        ("/imap/port", json!(65_536), "imap.port"),
        ("/smtp/port", json!(-25), "smtp.port"),
        ("/imap/security", json!("ssl"), "imap.security"),
        ("/smtp/security", json!(""), "smtp.security"),
        ("/imap/username", json!(" "), "imap.username"),
        ("/imap/folder", json!(""), "imap.folder"),
        ("/imap/folder", json!("f".repeat(201)), "imap.folder"),
        ("/imap/password", json!("p".repeat(1025)), "imap.password"),
        ("/from_address", json!("not an address"), "from_address"),
        ("/from_name", json!(""), "from_name"),
        ("/from_name", json!("n".repeat(101)), "from_name"),
    ];
    for (pointer, value, field) in cases {
        let mut body = settings();
        *body.pointer_mut(pointer).unwrap() = value;
        put(&app, &admin, body).await.expect_error(422, Some("validation_failed"), Some(field));
    }
    // Wrong types and unknown fields are 400s naming the field; a missing one too.
    let mut body = settings();
    body["imap"]["port"] = json!("993");
    put(&app, &admin, body).await.expect_error(400, Some("invalid_body"), Some("imap.port"));
    let mut body = settings();
    body["smtp"]["pasword"] = json!("typo");
    put(&app, &admin, body).await.expect_error(400, Some("invalid_body"), None);
    let mut body = settings();
    body.as_object_mut().unwrap().remove("from_address");
    put(&app, &admin, body).await.expect_error(400, Some("invalid_body"), None);
    // Nothing was saved by any of them.
    assert_eq!(get(&app, &admin).await["configured"], false);
    // Testing before saving says what to do.
    app.post_empty("/api/settings/email/test", Some(&admin.token)).await.expect_error(
        422,
        Some("validation_failed"),
        Some("settings"),
    );
}

pub async fn connection_test_says_which_part_failed_and_why(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let test = async || {
        let r = app.post_empty("/api/settings/email/test", Some(&admin.token)).await;
        r.expect(200);
        r.json
    };

    // The real servers with the right passwords: both parts work.
    put(&app, &admin, local_settings(IMAP_PASSWORD, SMTP_PASSWORD)).await.expect(200);
    let ok = test().await;
    assert_eq!(ok["imap"]["ok"], true, "{ok}");
    assert_eq!(ok["smtp"]["ok"], true, "{ok}");
    assert_eq!(ok["imap"]["stage"], Value::Null);

    // Wrong passwords: both fail at login, said in words, with the server's own message.
    put(&app, &admin, local_settings("Wrong-Pass-0000", "Wrong-Pass-1111")).await.expect(200);
    let bad = test().await;
    for part in ["imap", "smtp"] {
        assert_eq!(bad[part]["ok"], false, "{bad}");
        assert_eq!(bad[part]["stage"], "auth", "{bad}");
        assert_eq!(bad[part]["explanation"], "the username or password was not accepted");
        assert!(bad[part]["detail"].as_str().is_some_and(|d| !d.is_empty()), "{bad}");
    }

    // A folder that does not exist: IMAP logs in and fails at the folder.
    let mut folder = local_settings(IMAP_PASSWORD, SMTP_PASSWORD);
    folder["imap"]["folder"] = json!("No-Such-Folder");
    put(&app, &admin, folder).await.expect(200);
    let f = test().await;
    assert_eq!(f["imap"]["stage"], "folder", "{f}");
    assert_eq!(f["smtp"]["ok"], true, "{f}");

    // Nothing listens on the port: both fail to connect.
    let unused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut closed = local_settings(IMAP_PASSWORD, SMTP_PASSWORD);
    closed["imap"]["port"] = json!(unused);
    closed["smtp"]["port"] = json!(unused);
    put(&app, &admin, closed).await.expect(200);
    let c = test().await;
    for part in ["imap", "smtp"] {
        assert_eq!(c[part]["stage"], "connect", "{c}");
        assert_eq!(c[part]["explanation"], "the server could not be reached");
    }
    // Answers never echo a password.
    assert!(!c.to_string().contains(IMAP_PASSWORD) && !bad.to_string().contains("Wrong-Pass"));
}
