//! `SmtpSender` against a real SMTP server (aiosmtpd, started by `scripts/with-mail.sh`, which
//! writes what it accepts to `OPSFLOW_TEST_SMTP_DIR`). Without the server these tests fail: they
//! are never skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use opsflow_domain::Email;
use opsflow_domain::email::{MailSecurity, Mailbox, OutboundEmail, reply_subject};
use opsflow_mail::{Limits, SmtpSender, parse};
use opsflow_ports::mail::{MailSender, MailStage, SmtpEndpoint};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the mail tests through scripts/with-mail.sh")
    })
}

fn endpoint() -> SmtpEndpoint {
    SmtpEndpoint {
        host: "127.0.0.1".into(),
        port: env("OPSFLOW_TEST_SMTP_PORT").parse().unwrap(),
        security: MailSecurity::None,
        username: Some("desk".into()),
        password: Some("Desk-Pass-4821".into()),
    }
}

fn mailbox(name: &str, email: &str) -> Mailbox {
    Mailbox { name: Some(name.into()), email: Email::parse(email).unwrap() }
}

fn email(to: &str) -> OutboundEmail {
    let id = uuid::Uuid::now_v7();
    OutboundEmail {
        from: mailbox("Ada Admin (Acme Agency)", "support@acme.test"),
        to: mailbox("Ann Example", to),
        subject: reply_subject("Re: Login broken", 42),
        body: "Hello Ann,\n\nPlease try again now: the fix is live.\n\nAda".into(),
        message_id: format!("{id}@acme.test"),
        in_reply_to: Some("CAF1@mail.example.com".into()),
        references: vec!["CAF0@mail.example.com".into(), "CAF1@mail.example.com".into()],
    }
}

/// The raw message the server accepted for `message_id`, waiting briefly for the file.
async fn received(message_id: &str) -> Vec<u8> {
    let dir = PathBuf::from(env("OPSFLOW_TEST_SMTP_DIR"));
    for _ in 0..50 {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "eml") {
                let raw = std::fs::read(&path).unwrap();
                if String::from_utf8_lossy(&raw).contains(message_id) {
                    return raw;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server never received {message_id}");
}

#[tokio::test]
async fn a_reply_arrives_threaded_with_the_agents_name_and_the_ticket_reference() {
    let sender = SmtpSender::default();
    let out = email("ann@example.com");
    sender.send(&endpoint(), &out).await.unwrap();
    let raw = received(&out.message_id).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("X-Test-Rcpt: ann@example.com"), "{text}");
    assert!(text.contains("X-Test-Login: yes"), "logged in: {text}");
    // Read back with our own parser, as the customer's client would thread it.
    let m = parse(&raw, &Limits::default()).unwrap();
    assert_eq!(m.message_id, out.message_id);
    assert_eq!(m.in_reply_to, ["CAF1@mail.example.com"]);
    assert_eq!(m.references, ["CAF0@mail.example.com", "CAF1@mail.example.com"]);
    assert_eq!(m.subject, "Re: Login broken [#42]");
    assert_eq!(m.from.name.as_deref(), Some("Ada Admin (Acme Agency)"));
    assert_eq!(m.from.email.as_str(), "support@acme.test");
    assert_eq!(m.body, out.body);
    assert_eq!(m.automated, None);
}

#[tokio::test]
async fn non_ascii_names_subjects_and_bodies_survive_the_trip() {
    let sender = SmtpSender::default();
    let mut out = email("ann@example.com");
    out.from = mailbox("Zoë Ågren", "support@acme.test");
    out.subject = reply_subject("Problème de facturation €", 7);
    out.body = "Grüße aus Köln — 日本語も大丈夫です。\n".repeat(20);
    sender.send(&endpoint(), &out).await.unwrap();
    let m = parse(&received(&out.message_id).await, &Limits::default()).unwrap();
    assert_eq!(m.from.name.as_deref(), Some("Zoë Ågren"));
    assert_eq!(m.subject, "Re: Problème de facturation € [#7]");
    assert_eq!(m.body, out.body.trim());
}

#[tokio::test]
async fn a_4xx_answer_is_temporary_and_a_5xx_answer_permanent() {
    let sender = SmtpSender::default();
    let e = sender.send(&endpoint(), &email("tempfail@example.com")).await.unwrap_err();
    assert!(e.is_temporary(), "{e:?}");
    assert_eq!(e.stage(), MailStage::Send);
    assert!(e.message().contains("451") && e.message().contains("try again later"), "{e:?}");

    let e = sender.send(&endpoint(), &email("reject@example.com")).await.unwrap_err();
    assert!(!e.is_temporary(), "{e:?}");
    assert_eq!(e.stage(), MailStage::Send);
    assert!(e.message().contains("550") && e.message().contains("No such user"), "{e:?}");
}

#[tokio::test]
async fn a_wrong_password_fails_at_login_and_check_says_so() {
    let sender = SmtpSender::default();
    sender.check(&endpoint()).await.unwrap();
    let wrong = SmtpEndpoint { password: Some("not-the-password".into()), ..endpoint() };
    let e = sender.check(&wrong).await.unwrap_err();
    assert_eq!(e.stage(), MailStage::Auth, "{e:?}");
    assert!(!e.is_temporary(), "a refused login does not fix itself: {e:?}");
    let e = sender.send(&wrong, &email("ann@example.com")).await.unwrap_err();
    assert_eq!(e.stage(), MailStage::Auth, "{e:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_temporary_connect_failure() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sender = SmtpSender::new(Duration::from_secs(5));
    let closed = SmtpEndpoint { port, ..endpoint() };
    let e = sender.send(&closed, &email("ann@example.com")).await.unwrap_err();
    assert!(e.is_temporary(), "{e:?}");
    assert_eq!(e.stage(), MailStage::Connect, "{e:?}");
}

#[tokio::test]
async fn starttls_is_required_when_configured_never_skipped() {
    // The test server offers no STARTTLS: the message must not go out in clear text.
    let sender = SmtpSender::new(Duration::from_secs(5));
    let tls = SmtpEndpoint { security: MailSecurity::Starttls, ..endpoint() };
    let out = email("ann@example.com");
    let e = sender.send(&tls, &out).await.unwrap_err();
    assert_eq!(e.stage(), MailStage::Tls, "{e:?}");
    assert!(!e.is_temporary(), "{e:?}");
}

#[tokio::test]
async fn no_host_is_a_clear_permanent_error() {
    let sender = SmtpSender::default();
    let none = SmtpEndpoint { host: "  ".into(), ..endpoint() };
    let e = sender.check(&none).await.unwrap_err();
    assert!(!e.is_temporary());
    assert!(e.message().contains("no SMTP server"), "{e:?}");
}

/// The client's end of the connection a message came over.
fn peer(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .lines()
        .find_map(|l| l.strip_prefix("X-Test-Peer: "))
        .expect("the test server records the peer")
        .to_owned()
}

#[tokio::test]
async fn messages_to_one_mailbox_reuse_a_logged_in_connection_until_its_settings_change() {
    let sender = SmtpSender::default();
    let mut peers = Vec::new();
    for _ in 0..6 {
        let out = email("ann@example.com");
        sender.send(&endpoint(), &out).await.unwrap();
        let raw = received(&out.message_id).await;
        assert!(String::from_utf8_lossy(&raw).contains("X-Test-Login: yes"));
        peers.push(peer(&raw));
    }
    // lettre hands a connection back to its pool in a task of its own, so a message sent the
    // instant after another may open a second one; never one per message.
    let mut distinct = peers.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() <= 2, "six messages over at most two connections: {peers:?}");

    // A refused recipient (5xx) is still permanent, and the next message goes out.
    let e = sender.send(&endpoint(), &email("reject@example.com")).await.unwrap_err();
    assert!(!e.is_temporary(), "{e:?}");
    let e = sender.send(&endpoint(), &email("tempfail@example.com")).await.unwrap_err();
    assert!(e.is_temporary(), "{e:?}");
    let out = email("ann@example.com");
    sender.send(&endpoint(), &out).await.unwrap();

    // The admin changes the password: the pooled login is not used with the old one.
    let wrong = SmtpEndpoint { password: Some("not-the-password".into()), ..endpoint() };
    let e = sender.send(&wrong, &email("ann@example.com")).await.unwrap_err();
    assert_eq!(e.stage(), MailStage::Auth, "{e:?}");
    assert!(!e.is_temporary(), "{e:?}");
    // And back: a new connection, logged in again.
    let out = email("ann@example.com");
    sender.send(&endpoint(), &out).await.unwrap();
    let raw = received(&out.message_id).await;
    assert!(!peers.contains(&peer(&raw)), "a new connection after the settings changed");
    assert!(String::from_utf8_lossy(&raw).contains("X-Test-Login: yes"));
}
