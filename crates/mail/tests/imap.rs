//! `ImapFetcher` against a real Dovecot (started by `scripts/with-mail.sh`). Without the server
//! these tests fail: they are never skipped. Each test uses its own folder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::TryStreamExt;
use opsflow_domain::email::MailSecurity;
use opsflow_mail::imap::{Cursor, ImapEndpoint, ImapFetcher};
use opsflow_mail::{Limits, parse};
use opsflow_ports::mail::MailStage;
use tokio::net::TcpStream;

fn port() -> u16 {
    std::env::var("OPSFLOW_TEST_IMAP_PORT")
        .unwrap_or_else(|_| {
            panic!("OPSFLOW_TEST_IMAP_PORT is not set: run through scripts/with-mail.sh")
        })
        .parse()
        .unwrap()
}

fn endpoint(folder: &str) -> ImapEndpoint {
    ImapEndpoint {
        host: "127.0.0.1".into(),
        port: port(),
        security: MailSecurity::None,
        username: "support".into(),
        password: "Imap-Pass-4821".into(),
        folder: folder.into(),
    }
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Customer {n} <c{n}@example.com>\r\nSubject: Question {n}\r\nMessage-ID: <q{n}@example.com>\r\n\r\nBody {n}\r\n"
    )
    .into_bytes()
}

/// A fresh folder with `count` messages, created over a plain IMAP session.
async fn folder_with(count: usize) -> (String, async_imap::Session<TcpStream>) {
    let tcp = TcpStream::connect(("127.0.0.1", port())).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login("support", "Imap-Pass-4821").await.map_err(|(e, _)| e).unwrap();
    let folder = format!("t{}", uuid::Uuid::now_v7().simple());
    session.create(&folder).await.unwrap();
    for n in 1..=count {
        session.append(&folder, None, None, message(n)).await.unwrap();
    }
    (folder, session)
}

async fn delete_first(session: &mut async_imap::Session<TcpStream>, folder: &str) {
    session.select(folder).await.unwrap();
    let _: Vec<_> =
        session.store("1", "+FLAGS (\\Deleted)").await.unwrap().try_collect().await.unwrap();
    let _: Vec<_> = session.expunge().await.unwrap().try_collect().await.unwrap();
}

#[tokio::test]
async fn every_message_is_fetched_once_in_order_across_batches() {
    let (folder, mut session) = folder_with(7).await;
    let fetcher = ImapFetcher::new(Duration::from_secs(10), 3);
    let mut cursor = None;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let got = fetcher.fetch(&endpoint(&folder), cursor).await.unwrap();
        assert!(!got.renumbered);
        assert!(got.messages.len() <= 3, "batches are bounded");
        for (_, raw) in &got.messages {
            seen.push(parse(raw, &Limits::default()).unwrap().message_id);
        }
        cursor = Some(got.cursor);
    }
    let expected: Vec<String> = (1..=7).map(|n| format!("q{n}@example.com")).collect();
    assert_eq!(seen, expected, "all seven, once each, oldest first");

    // New mail after a gap (a deleted message leaves a hole in the UIDs) is found next time.
    delete_first(&mut session, &folder).await;
    session.append(&folder, None, None, message(8)).await.unwrap();
    let got = fetcher.fetch(&endpoint(&folder), cursor).await.unwrap();
    assert_eq!(got.messages.len(), 1);
    assert_eq!(parse(&got.messages[0].1, &Limits::default()).unwrap().message_id, "q8@example.com");
    // And nothing again after that.
    let again = fetcher.fetch(&endpoint(&folder), Some(got.cursor)).await.unwrap();
    assert!(again.messages.is_empty());
    assert_eq!(again.cursor, got.cursor);
    let _ = session.logout().await;
}

#[tokio::test]
async fn messages_stay_unread_on_the_server() {
    let (folder, mut session) = folder_with(1).await;
    ImapFetcher::default().fetch(&endpoint(&folder), None).await.unwrap();
    session.select(&folder).await.unwrap();
    let unseen = session.search("UNSEEN").await.unwrap();
    assert_eq!(unseen.len(), 1, "BODY.PEEK leaves \\Seen alone for people using the mailbox");
    let _ = session.logout().await;
}

#[tokio::test]
async fn a_changed_uidvalidity_reads_the_folder_again() {
    let (folder, mut session) = folder_with(2).await;
    let first = ImapFetcher::default().fetch(&endpoint(&folder), None).await.unwrap();
    assert_eq!(first.messages.len(), 2);
    let stale = Cursor { uid_validity: first.cursor.uid_validity.wrapping_add(1), ..first.cursor };
    let again = ImapFetcher::default().fetch(&endpoint(&folder), Some(stale)).await.unwrap();
    assert!(again.renumbered);
    assert_eq!(again.messages.len(), 2, "everything again; Message-IDs deduplicate");
    assert_eq!(again.cursor, first.cursor);
    let _ = session.logout().await;
}

#[tokio::test]
async fn an_empty_folder_gives_nothing_and_a_usable_cursor() {
    let (folder, mut session) = folder_with(0).await;
    let got = ImapFetcher::default().fetch(&endpoint(&folder), None).await.unwrap();
    assert!(got.messages.is_empty());
    assert_eq!(got.cursor.last_uid, 0);
    session.append(&folder, None, None, message(1)).await.unwrap();
    let got = ImapFetcher::default().fetch(&endpoint(&folder), Some(got.cursor)).await.unwrap();
    assert_eq!(got.messages.len(), 1);
    let _ = session.logout().await;
}

#[tokio::test]
async fn check_names_the_failing_stage() {
    let fetcher = ImapFetcher::new(Duration::from_secs(5), 10);
    fetcher.check(&endpoint("INBOX")).await.unwrap();

    let wrong = ImapEndpoint { password: "wrong".into(), ..endpoint("INBOX") };
    assert_eq!(fetcher.check(&wrong).await.unwrap_err().stage, MailStage::Auth);

    let missing = endpoint("No such folder");
    assert_eq!(fetcher.check(&missing).await.unwrap_err().stage, MailStage::Folder);

    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let closed = ImapEndpoint { port: closed_port, ..endpoint("INBOX") };
    assert_eq!(fetcher.check(&closed).await.unwrap_err().stage, MailStage::Connect);

    // Dovecot here offers no STARTTLS: the login must not go out in clear text.
    let tls = ImapEndpoint { security: MailSecurity::Starttls, ..endpoint("INBOX") };
    assert_eq!(fetcher.check(&tls).await.unwrap_err().stage, MailStage::Tls);

    let nowhere = ImapEndpoint { host: " ".into(), ..endpoint("INBOX") };
    assert_eq!(fetcher.check(&nowhere).await.unwrap_err().stage, MailStage::Connect);
}
