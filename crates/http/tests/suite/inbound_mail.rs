//! Inbound email: raw messages posted to the workspace's secret address become tickets or join
//! them; automatic mail, duplicates and unusable messages change nothing; attachments download
//! with safe headers; the address is per workspace, admin-only and rotatable.

use reqwest::Method;
use serde_json::Value;

use crate::common::{Body, Ctx, Session, TestApp};

/// The workspace's inbound path (as an admin sees it).
async fn inbound_path(app: &TestApp, admin: &Session) -> String {
    let r = app.get("/api/settings/email/inbound", Some(&admin.token)).await;
    r.expect(200);
    let path = r.json["path"].as_str().unwrap().to_owned();
    assert_eq!(path, format!("/api/inbound/email/{}", r.json["token"].as_str().unwrap()));
    path
}

async fn post_mail(app: &TestApp, path: &str, raw: impl Into<Vec<u8>>) -> crate::common::Resp {
    app.send(Method::POST, path, None, Body::Raw(Some("message/rfc822"), raw.into())).await
}

/// A plain message from Carla.
fn message(id: &str, subject: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "From: Carla Customer <carla@shop.example>\r\nTo: support@desk.example\r\n\
         Subject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Wed, 02 Dec 2026 09:00:00 +0000\r\n\
         {extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn replies(ticket: &Value) -> &Vec<Value> {
    ticket["replies"].as_array().unwrap()
}

pub async fn new_mail_opens_an_email_ticket_and_follow_ups_join_it(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    let path = inbound_path(&app, &admin).await;
    let tok = Some(admin.token.as_str());

    let r = post_mail(
        &app,
        &path,
        message("m1@shop.example", "Printer on fire", "", "It is on fire.\r\nPlease help."),
    )
    .await;
    r.expect(201);
    assert_eq!(r.json["outcome"], "created");
    assert_eq!(r.json["number"], 1);
    let id = r.json["ticket_id"].as_str().unwrap().to_owned();
    let t = app.ticket(&admin.token, "1").await;
    assert_eq!(t["ticket"]["id"], id.as_str());
    assert_eq!(t["ticket"]["channel"], "email");
    assert_eq!(t["ticket"]["status"], "new");
    assert_eq!(t["ticket"]["subject"], "Printer on fire");
    assert_eq!(t["ticket"]["body"], "It is on fire.\nPlease help.");
    assert_eq!(t["ticket"]["customer_name"], "Carla Customer");
    assert_eq!(t["ticket"]["customer_email"], "carla@shop.example");
    assert!(t["ticket"]["created_by_id"].is_null(), "nobody on the team created it: {t}");

    // The team answers and marks it replied; the customer's answer (quoting us) reopens it.
    app.patch(&format!("/api/tickets/{id}"), tok, serde_json::json!({"status": "replied"}))
        .await
        .expect(200);
    let follow = message(
        "m2@shop.example",
        "Re: Printer on fire",
        "In-Reply-To: <m1@shop.example>\r\nReferences: <m1@shop.example>\r\n",
        "Still burning.\r\n\r\nOn Wed, 2 Dec 2026 at 09:00, Support <support@desk.example> wrote:\r\n> Have you tried water?\r\n",
    );
    let r = post_mail(&app, &path, follow).await;
    r.expect(202);
    assert_eq!(r.json["outcome"], "appended");
    assert_eq!(r.json["ticket_id"], id.as_str());
    let t = app.ticket(&admin.token, &id).await;
    assert_eq!(t["ticket"]["status"], "open", "reopened");
    let last = replies(&t).last().unwrap();
    assert_eq!(last["author_type"], "customer");
    assert_eq!(last["body"], "Still burning.", "quoted history trimmed");

    // By the ticket reference in the subject, from the ticket's customer.
    let r =
        post_mail(&app, &path, message("m3@shop.example", "Update [#1]", "", "Now smoking.")).await;
    r.expect(202);
    assert_eq!(r.json["outcome"], "appended");
    // A stranger quoting [#1] gets a ticket of their own.
    let stranger = "From: mallory@evil.example\r\nSubject: Re: [#1] give me access\r\nMessage-ID: <s1@evil.example>\r\n\r\nhello\r\n";
    let r = post_mail(&app, &path, stranger).await;
    r.expect(201);
    assert_eq!(r.json["number"], 2);
    assert_eq!(replies(&app.ticket(&admin.token, &id).await).len(), 2);

    // Our own outbound Message-ID (reply-<reply id>@…) threads too.
    let agent_reply = app
        .post(
            &format!("/api/tickets/{id}/replies"),
            tok,
            serde_json::json!({"body": "Sending a technician."}),
        )
        .await;
    agent_reply.expect(201);
    let rid = agent_reply.json["id"].as_str().unwrap();
    let r = post_mail(
        &app,
        &path,
        message(
            "m4@shop.example",
            "Re: technician",
            &format!("In-Reply-To: <reply-{rid}@desk.example>\r\n"),
            "Thanks!",
        ),
    )
    .await;
    r.expect(202);
    assert_eq!(r.json["ticket_id"], id.as_str());

    // The same message again changes nothing.
    let r =
        post_mail(&app, &path, message("m1@shop.example", "Printer on fire", "", "It is on fire."))
            .await;
    r.expect(202);
    assert_eq!(r.json["outcome"], "duplicate");
    assert_eq!(app.ticket_count(&admin.token).await, 2);
    assert_eq!(replies(&app.ticket(&admin.token, &id).await).len(), 4);
}

pub async fn automatic_mail_never_opens_tickets(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    let path = inbound_path(&app, &admin).await;
    let auto_reply = message(
        "a1@shop.example",
        "Out of office",
        "Auto-Submitted: auto-replied\r\n",
        "I am away.",
    );
    let bulk = message(
        "a2@shop.example",
        "Newsletter",
        "Precedence: bulk\r\nList-Id: <news.shop.example>\r\n",
        "Deals!",
    );
    let bounce = "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nSubject: Undelivered Mail Returned to Sender\r\n\
        Message-ID: <b1@mx.example>\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
        --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--B--\r\n"
        .to_owned();
    for raw in [auto_reply, bulk, bounce] {
        let r = post_mail(&app, &path, raw).await;
        r.expect(202);
        assert_eq!(r.json["outcome"], "ignored", "{}", r.text);
        assert!(!r.json["reason"].as_str().unwrap_or("").is_empty());
    }
    assert_eq!(app.ticket_count(&admin.token).await, 0);
}

pub async fn encodings_and_html_only_mail_are_readable(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    let path = inbound_path(&app, &admin).await;
    let mut cases: Vec<(Vec<u8>, &str, &str)> = Vec::new();
    cases.push((
        b"From: =?ISO-8859-1?Q?Ren=E9_Dupr=E9?= <rene@shop.example>\r\nSubject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\n\
Message-ID: <e1@shop.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nLa machine =E0 caf=E9 est cass=E9e.\r\n"
            .to_vec(),
        "Café crème",
        "La machine à café est cassée.",
    ));
    let mut cp1252 = b"From: w@shop.example\r\nSubject: Price\r\nMessage-ID: <e2@shop.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\nIt costs 5 "
        .to_vec();
    cp1252.extend_from_slice(b"\x80 \x93quoted\x94\r\n");
    cases.push((cp1252, "Price", "It costs 5 € “quoted”"));
    cases.push((
        b"From: taro@shop.example\r\nSubject: =?Shift_JIS?B?gqiW4oKijYeC7YK5?=\r\nMessage-ID: <e3@shop.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: base64\r\n\r\n\
g42DT4NDg5OCxYKrgtyCuYLxgUKPlYKvgsSCrYK+grOCooFC\r\n"
            .to_vec(),
        "お問い合わせ",
        "ログインできません。助けてください。",
    ));
    cases.push((
        b"From: h@shop.example\r\nSubject: =?UTF-8?B?SFRNTCDinJM=?=\r\nMessage-ID: <e4@shop.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello <b>team</b>,</p><p>the login page is blank.</p>\
<script>alert(1)</script></body></html>\r\n"
            .to_vec(),
        "HTML ✓",
        "",
    ));
    for (i, (raw, subject, body)) in cases.into_iter().enumerate() {
        let r = post_mail(&app, &path, raw).await;
        r.expect(201);
        let t = app.ticket(&admin.token, &(i + 1).to_string()).await;
        assert_eq!(t["ticket"]["subject"], subject);
        let text = t["ticket"]["body"].as_str().unwrap();
        if body.is_empty() {
            assert!(
                text.contains("Hello")
                    && text.contains("team")
                    && text.contains("the login page is blank."),
                "{text}"
            );
            assert!(
                !text.contains("<p>") && !text.contains("<b>"),
                "HTML turned into text: {text}"
            );
        } else {
            assert_eq!(text, body);
        }
    }
    let t = app.ticket(&admin.token, "1").await;
    assert_eq!(t["ticket"]["customer_name"], "René Dupré");
}

fn with_files(id: &str, subject: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: carla@shop.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
         --XYZ\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
         --XYZ\r\nContent-Type: application/pdf; name=\"invoice 7.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"invoice 7.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         JVBERi0xLjQKJcOkw7zDtsOfCg==\r\n\
         --XYZ\r\nContent-Type: text/html; name=\"page.html\"\r\n\
         Content-Disposition: attachment; filename=\"page.html\"\r\n\r\n<script>alert(1)</script>\r\n\
         --XYZ--\r\n"
    )
    .into_bytes()
}

async fn download(
    app: &TestApp,
    token: &str,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app.http.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

pub async fn attachments_are_listed_and_downloaded_with_safe_headers(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    let other = app.signup("Other Agency", "olga@other.example").await;
    let path = inbound_path(&app, &admin).await;
    let r = post_mail(&app, &path, with_files("f1@shop.example", "Invoice", "")).await;
    r.expect(201);
    let id = r.json["ticket_id"].as_str().unwrap().to_owned();
    let t = app.ticket(&admin.token, &id).await;
    assert_eq!(t["ticket"]["body"], "See attached.");
    let files = t["attachments"].as_array().unwrap().clone();
    assert_eq!(files.len(), 2, "{t}");
    let pdf = files.iter().find(|f| f["filename"] == "invoice 7.pdf").unwrap();
    assert_eq!(pdf["content_type"], "application/pdf");
    let expected: &[u8] = b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n";
    assert_eq!(pdf["size"], expected.len());
    let pdf_path = format!("/api/tickets/{id}/attachments/{}", pdf["id"].as_str().unwrap());
    let (status, headers, bytes) = download(&app, &admin.token, &pdf_path).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, expected, "the exact bytes");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers.get_all("content-type").iter().count(), 1, "one Content-Type");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("content-disposition").is_none());

    let html = files.iter().find(|f| f["filename"] == "page.html").unwrap();
    let html_path = format!("/api/tickets/{id}/attachments/{}", html["id"].as_str().unwrap());
    let (status, headers, bytes) = download(&app, &admin.token, &html_path).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/octet-stream", "never served as HTML");
    assert_eq!(headers.get_all("content-type").iter().count(), 1, "one Content-Type");
    assert_eq!(headers.get_all("x-content-type-options").iter().count(), 1);
    assert_eq!(headers["content-disposition"], "attachment; filename*=UTF-8''page.html");
    assert!(String::from_utf8_lossy(&bytes).contains("<script>"));

    // Another workspace's user gets 404, exactly like a missing attachment.
    let (status, _, body) = download(&app, &other.token, &pdf_path).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    let missing = format!("/api/tickets/{id}/attachments/{}", uuid::Uuid::now_v7());
    let m = app.get(&missing, Some(&admin.token)).await;
    m.expect_error(404, Some("attachment_not_found"), None);
    assert_eq!(v["error"]["code"], m.code());
    app.get(&format!("/api/tickets/{id}/attachments/nope"), Some(&admin.token)).await.expect_error(
        400,
        Some("invalid_request"),
        Some("attachment_id"),
    );

    // A follow-up's files are listed under its reply.
    let r = post_mail(
        &app,
        &path,
        with_files("f2@shop.example", "Re: Invoice", "In-Reply-To: <f1@shop.example>\r\n"),
    )
    .await;
    r.expect(202);
    let t = app.ticket(&admin.token, &id).await;
    assert_eq!(t["attachments"].as_array().unwrap().len(), 2);
    let reply = replies(&t).last().unwrap();
    assert_eq!(reply["attachments"].as_array().unwrap().len(), 2, "{reply}");
}

pub async fn malformed_and_oversized_mail_is_refused_and_stores_nothing(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    let path = inbound_path(&app, &admin).await;

    // No sender can be read: rejected with words.
    let r = post_mail(&app, &path, "this is not an email at all").await;
    r.expect_error(422, Some("message_rejected"), None);
    let r =
        post_mail(&app, &path, "Subject: no sender\r\nMessage-ID: <x@y>\r\n\r\nhello\r\n").await;
    r.expect_error(422, Some("message_rejected"), None);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("sender"), "{}", r.text);

    // Broken MIME with a readable sender still becomes a ticket.
    let broken = "From: carla@shop.example\r\nSubject: broken\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n\
        --never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!not base64!!\r\n";
    let r = post_mail(&app, &path, broken).await;
    r.expect(201);
    // No Message-ID: a second copy is still recognised by its content.
    post_mail(&app, &path, broken).await.expect(202);
    assert_eq!(app.ticket_count(&admin.token).await, 1);

    // 20 MB: 413 JSON, nothing stored.
    let mut big = message("big@shop.example", "Huge", "", "").into_bytes();
    big.extend(std::iter::repeat_n(b'a', 20 * 1024 * 1024));
    let r = post_mail(&app, &path, big).await;
    r.expect_error(413, Some("payload_too_large"), None);
    assert_eq!(app.ticket_count(&admin.token).await, 1);

    // Not a raw message.
    let r = app
        .send(Method::POST, &path, None, Body::Raw(Some("application/json"), b"{}".to_vec()))
        .await;
    r.expect_error(415, Some("unsupported_media_type"), None);
    // application/octet-stream is accepted.
    let r = app
        .send(
            Method::POST,
            &path,
            None,
            Body::Raw(
                Some("application/octet-stream"),
                message("o@shop.example", "Octets", "", "hi").into_bytes(),
            ),
        )
        .await;
    r.expect(201);
}

pub async fn inbound_addresses_are_per_workspace_admin_only_and_rotatable(ctx: Ctx) {
    let app = ctx.spawn().await;
    let a = app.signup("Alpha Agency", "ann@alpha.example").await;
    let b = app.signup("Beta Bureau", "ben@beta.example").await;
    let agent = app.add_user(&a, "Andy Agent", "andy@alpha.example", "agent").await;
    app.get("/api/settings/email/inbound", Some(&agent.token)).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    app.post_empty("/api/settings/email/inbound/rotate", Some(&agent.token)).await.expect_error(
        403,
        Some("forbidden"),
        None,
    );
    app.get("/api/settings/email/inbound", None).await.expect_error(401, None, None);

    let a_path = inbound_path(&app, &a).await;
    assert_eq!(inbound_path(&app, &a).await, a_path, "stable until rotated");
    let b_path = inbound_path(&app, &b).await;
    assert_ne!(a_path, b_path);
    let token = a_path.rsplit('/').next().unwrap();
    assert!(token.len() >= 43, "32+ random bytes");

    // A's address files into A only.
    post_mail(&app, &a_path, message("x1@shop.example", "For Alpha", "", "hi")).await.expect(201);
    assert_eq!(app.ticket_count(&a.token).await, 1);
    assert_eq!(app.ticket_count(&b.token).await, 0);
    // An unknown token is a JSON 404 and stores nothing.
    let r = post_mail(
        &app,
        &format!("/api/inbound/email/{}", "0".repeat(64)),
        message("x2@shop.example", "Guess", "", "hi"),
    )
    .await;
    r.expect_error(404, Some("not_found"), None);

    // Rotation: the old address stops working at once; the new one works; it is audited.
    let r = app.post_empty("/api/settings/email/inbound/rotate", Some(&a.token)).await;
    r.expect(200);
    let new_path = r.json["path"].as_str().unwrap().to_owned();
    assert_ne!(new_path, a_path);
    assert_eq!(inbound_path(&app, &a).await, new_path);
    post_mail(&app, &a_path, message("x3@shop.example", "Old", "", "hi")).await.expect_error(
        404,
        Some("not_found"),
        None,
    );
    post_mail(&app, &new_path, message("x4@shop.example", "New", "", "hi")).await.expect(201);
    assert_eq!(app.ticket_count(&a.token).await, 2);
    let log = app.get("/api/audit?kind=inbound_token_rotated", Some(&a.token)).await;
    log.expect(200);
    assert_eq!(log.json["total"], 1, "{}", log.text);
    assert!(!log.text.contains(new_path.rsplit('/').next().unwrap()), "the token is not logged");
}

pub async fn the_same_message_posted_concurrently_makes_one_ticket(ctx: Ctx) {
    let app = ctx.spawn().await;
    let admin = app.signup("Mail Agency", "ann@mail.example").await;
    let path = inbound_path(&app, &admin).await;
    let raw = with_files("race@shop.example", "Twice delivered", "");
    let answers =
        futures::future::join_all((0..6).map(|_| post_mail(&app, &path, raw.clone()))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 202, 202, 202, 202, 202], "{answers:?}");
    assert!(answers.iter().filter(|r| r.status == 202).all(|r| r.json["outcome"] == "duplicate"));
    assert_eq!(app.ticket_count(&admin.token).await, 1);
    let t = app.ticket(&admin.token, "1").await;
    assert_eq!(t["attachments"].as_array().unwrap().len(), 2, "one copy of each file");
}
