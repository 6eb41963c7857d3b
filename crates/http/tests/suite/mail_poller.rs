//! Issue 10, the IMAP poller against a real Dovecot (started by `scripts/with-mail.sh`): the
//! mailbox is set up through the API, the poller runs on a second handle to the same database
//! (as another server process would) and hands messages to a recording fake intake. Each test
//! reads its own fresh folder.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use opsflow_domain::{TenantId, TicketId};
use opsflow_ports::auth::Clock;
use opsflow_ports::mail_intake::{IntakeError, IntakeOutcome, MailIntake};
use opsflow_ports::repos::{MailboxRepository, RepoError};
use opsflow_ports::services::mail_poller::{MailPoller, MailPollerConfig};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::common::{AppOptions, Body, Ctx, Db, Session, TestApp, mailbox_repository, test_cipher};

fn imap_port() -> u16 {
    std::env::var("OPSFLOW_TEST_IMAP_PORT")
        .expect("OPSFLOW_TEST_IMAP_PORT is not set: run the tests through scripts/with-mail.sh")
        .parse()
        .expect("a port")
}

type ImapSession = async_imap::Session<TcpStream>;

/// A fresh folder on the test server, and a session to append to it.
async fn new_folder() -> (String, ImapSession) {
    let tcp = TcpStream::connect(("127.0.0.1", imap_port())).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login("support", "Imap-Pass-4821").await.map_err(|(e, _)| e).unwrap();
    let folder = format!("p{}", uuid::Uuid::now_v7().simple());
    session.create(&folder).await.unwrap();
    (folder, session)
}

fn message(folder: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Customer {n} <c{n}@example.com>\r\nSubject: Question {n}\r\n\
         Message-ID: <{folder}-{n}@example.com>\r\n\r\nBody {n}\r\n"
    )
    .into_bytes()
}

async fn append(session: &mut ImapSession, folder: &str, numbers: std::ops::RangeInclusive<usize>) {
    for n in numbers {
        session.append(folder, None, None, message(folder, n)).await.unwrap();
    }
}

/// The Message-ID of each message handed over, in order; optionally failing or pausing.
#[derive(Default)]
struct RecordingIntake {
    seen: Mutex<Vec<(TenantId, String)>>,
    /// Message-IDs that fail with a store error the first time they are handed over.
    fail_once: Mutex<Vec<String>>,
    /// When set, the first message handed over waits here until notified.
    pause: Option<(Arc<Notify>, Arc<Notify>)>,
}

impl RecordingIntake {
    fn ids(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|(_, id)| id.clone()).collect()
    }
}

#[async_trait]
impl MailIntake for RecordingIntake {
    async fn take_in(&self, tenant_id: TenantId, raw: &[u8]) -> Result<IntakeOutcome, IntakeError> {
        let text = String::from_utf8_lossy(raw);
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: <"))
            .map(|l| l.trim_end_matches('>').split('@').next().unwrap_or("").to_owned())
            .unwrap_or_default();
        let first = {
            let mut seen = self.seen.lock().unwrap();
            seen.push((tenant_id, id.clone()));
            seen.len() == 1
        };
        if first && let Some((entered, release)) = &self.pause {
            entered.notify_one();
            release.notified().await;
        }
        let mut fail = self.fail_once.lock().unwrap();
        if let Some(i) = fail.iter().position(|f| *f == id) {
            fail.remove(i);
            return Err(IntakeError::Store(RepoError::unexpected(std::io::Error::other(
                "disk full",
            ))));
        }
        Ok(IntakeOutcome::Created { ticket_id: TicketId::new(), number: 1 })
    }
}

/// A clock that can be moved forward (past retry times).
struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(OffsetDateTime::now_utc())))
    }

    fn advance(&self, by: time::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

struct Setup {
    app: TestApp,
    admin: Session,
    tenant_id: TenantId,
    repo: Arc<dyn MailboxRepository>,
    folder: String,
    imap: ImapSession,
}

/// An app with a workspace whose enabled mailbox reads a fresh folder, and a second handle to
/// its database for the poller.
async fn setup(ctx: &Ctx, imap_password: &str) -> Setup {
    let db: Db = ctx.new_db();
    let app = ctx.spawn_on(&db, AppOptions::default()).await;
    let admin = app.signup("Acme Agency", "ada@example.com").await;
    let (folder, imap) = new_folder().await;
    let body = json!({
        "enabled": true,
        "imap": {
            "host": "127.0.0.1", "port": imap_port(), "security": "none",
            "username": "support", "password": imap_password, "folder": folder
        },
        "smtp": { "host": "127.0.0.1", "port": 25, "security": "none" },
        "from_address": "support@example.com",
        "from_name": "Acme Support"
    });
    app.send(Method::PUT, "/api/settings/email", Some(&admin.token), Body::Json(body))
        .await
        .expect(200);
    let tenant_id = admin.tenant_id.parse().unwrap();
    let repo = mailbox_repository(ctx, &db).await;
    Setup { app, admin, tenant_id, repo, folder, imap }
}

fn poller(s: &Setup, intake: Arc<RecordingIntake>, clock: Arc<TestClock>) -> MailPoller {
    MailPoller::new(
        s.repo.clone(),
        Arc::new(test_cipher()),
        Arc::new(opsflow_mail::ImapFetcher::new(StdDuration::from_secs(5), 2)),
        intake,
        clock,
        MailPollerConfig::default(),
    )
}

async fn status(s: &Setup) -> Value {
    let r = s.app.get("/api/settings/email/status", Some(&s.admin.token)).await;
    r.expect(200);
    r.json
}

fn ids(folder: &str, numbers: std::ops::RangeInclusive<usize>) -> Vec<String> {
    numbers.map(|n| format!("{folder}-{n}")).collect()
}

pub async fn poller_hands_each_message_to_the_intake_once_in_order(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    append(&mut s.imap, &s.folder, 1..=5).await;
    let intake = Arc::new(RecordingIntake::default());
    let p = poller(&s, intake.clone(), TestClock::new());

    // Five messages in batches of two: all of them, in UID order, for this workspace.
    let report = p.round().await;
    assert_eq!(report.polled, vec![s.tenant_id]);
    assert_eq!(report.handed_over, 5);
    assert_eq!(intake.ids(), ids(&s.folder, 1..=5));
    assert!(intake.seen.lock().unwrap().iter().all(|(t, _)| *t == s.tenant_id));
    // Nothing new: nothing handed over again.
    assert_eq!(p.round().await.handed_over, 0);
    assert_eq!(intake.ids().len(), 5);
    // New mail is found next round, and only it.
    append(&mut s.imap, &s.folder, 6..=7).await;
    assert_eq!(p.round().await.handed_over, 2);
    assert_eq!(intake.ids(), ids(&s.folder, 1..=7));

    // A poller of another process (a fresh one, same store) continues from the stored cursor.
    let other = Arc::new(RecordingIntake::default());
    assert_eq!(poller(&s, other.clone(), TestClock::new()).round().await.handed_over, 0);

    let st = status(&s).await;
    assert!(st["last_fetch_at"].is_string(), "{st}");
    assert_eq!(st["consecutive_failures"], 0);
    assert_eq!(st["next_retry_at"], Value::Null);
}

pub async fn a_store_failure_hands_the_message_over_again_next_round(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    append(&mut s.imap, &s.folder, 1..=3).await;
    let intake = Arc::new(RecordingIntake::default());
    intake.fail_once.lock().unwrap().push(format!("{}-2", s.folder));
    let clock = TestClock::new();
    let p = poller(&s, intake.clone(), clock.clone());

    let report = p.round().await;
    assert_eq!(report.failed, vec![s.tenant_id]);
    assert_eq!(intake.ids(), ids(&s.folder, 1..=2), "the round stops at the failure");
    let st = status(&s).await;
    assert!(st["last_error"].as_str().unwrap().contains("could not store"), "{st}");
    assert_eq!(st["consecutive_failures"], 1);
    assert!(st["next_retry_at"].is_string());

    // Before the retry time nothing is tried; after it, the failed message comes again (the one
    // before it does not), then the rest.
    assert_eq!(p.round().await.waiting, vec![s.tenant_id]);
    clock.advance(time::Duration::seconds(31));
    assert_eq!(p.round().await.handed_over, 2);
    let mut want = ids(&s.folder, 1..=2);
    want.extend(ids(&s.folder, 2..=3));
    assert_eq!(intake.ids(), want);
    assert_eq!(status(&s).await["consecutive_failures"], 0);
}

pub async fn a_wrong_password_is_in_the_status_with_a_backed_off_retry(ctx: Ctx) {
    let mut s = setup(&ctx, "Wrong-Pass-0000").await;
    append(&mut s.imap, &s.folder, 1..=1).await;
    let intake = Arc::new(RecordingIntake::default());
    let clock = TestClock::new();
    let p = poller(&s, intake.clone(), clock.clone());
    let t0 = clock.now();

    assert_eq!(p.round().await.failed, vec![s.tenant_id]);
    let st = status(&s).await;
    let error = st["last_error"].as_str().unwrap();
    assert!(error.contains("the username or password was not accepted"), "{error}");
    assert!(!error.contains("Wrong-Pass"), "no password in the status: {error}");
    assert_eq!(st["consecutive_failures"], 1);
    let next = |st: &Value| {
        OffsetDateTime::parse(
            st["next_retry_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    assert_eq!((next(&st) - t0).whole_seconds(), 30);
    // Waiting, then a second failure doubles the wait.
    assert_eq!(p.round().await.waiting, vec![s.tenant_id]);
    clock.advance(time::Duration::seconds(30));
    assert_eq!(p.round().await.failed, vec![s.tenant_id]);
    let st = status(&s).await;
    assert_eq!(st["consecutive_failures"], 2);
    assert_eq!((next(&st) - clock.now()).whole_seconds(), 60);
    assert!(intake.ids().is_empty());

    // Fixing the password clears the back-off: the next round reads the mail.
    let fix = json!({
        "enabled": true,
        "imap": {
            "host": "127.0.0.1", "port": imap_port(),
            "security": "none", "username": "support", "password": "Imap-Pass-4821",
            "folder": s.folder
        },
        "smtp": { "host": "127.0.0.1", "port": 25, "security": "none" },
        "from_address": "support@example.com",
        "from_name": "Acme Support"
    });
    s.app
        .send(Method::PUT, "/api/settings/email", Some(&s.admin.token), Body::Json(fix))
        .await
        .expect(200);
    assert_eq!(p.round().await.handed_over, 1);
    assert_eq!(status(&s).await["consecutive_failures"], 0);
}

pub async fn two_pollers_on_one_store_read_a_mailbox_one_at_a_time(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    append(&mut s.imap, &s.folder, 1..=3).await;
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let first = Arc::new(RecordingIntake {
        pause: Some((entered.clone(), release.clone())),
        ..RecordingIntake::default()
    });
    let second = Arc::new(RecordingIntake::default());
    let a = Arc::new(poller(&s, first.clone(), TestClock::new()));
    let b = poller(&s, second.clone(), TestClock::new());

    // A is in the middle of handing the first message over: B finds the mailbox leased.
    let running = tokio::spawn({
        let a = a.clone();
        async move { a.round().await }
    });
    tokio::time::timeout(StdDuration::from_secs(10), entered.notified()).await.unwrap();
    let report = b.round().await;
    assert_eq!(report.busy, vec![s.tenant_id]);
    assert!(second.ids().is_empty());
    release.notify_one();
    let report = running.await.unwrap();
    assert_eq!(report.handed_over, 3);
    // Afterwards B may read it, and finds nothing left: every message went to exactly one.
    let report = b.round().await;
    assert_eq!((report.polled.clone(), report.handed_over), (vec![s.tenant_id], 0));
    assert_eq!(first.ids(), ids(&s.folder, 1..=3));
    assert!(second.ids().is_empty());
}

pub async fn a_renumbered_folder_is_read_again_from_the_start(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    append(&mut s.imap, &s.folder, 1..=2).await;
    let intake = Arc::new(RecordingIntake::default());
    let p = poller(&s, intake.clone(), TestClock::new());
    assert_eq!(p.round().await.handed_over, 2);
    let before = s.repo.imap_cursor(s.tenant_id).await.unwrap().unwrap();

    // The folder is deleted and made again (a new UIDVALIDITY, UIDs from 1): message 2 is back
    // with a new one. Both are handed over (the intake knows message 2 by its Message-ID).
    s.imap.delete(&s.folder).await.unwrap();
    s.imap.create(&s.folder).await.unwrap();
    append(&mut s.imap, &s.folder, 2..=3).await;
    assert_eq!(p.round().await.handed_over, 2);
    let mut want = ids(&s.folder, 1..=2);
    want.extend(ids(&s.folder, 2..=3));
    assert_eq!(intake.ids(), want);
    let after = s.repo.imap_cursor(s.tenant_id).await.unwrap().unwrap();
    assert_ne!(after.uid_validity, before.uid_validity);
    assert_eq!(after.last_uid, 2);
    assert_eq!(p.round().await.handed_over, 0);
}

/// The poller with the real inbound service: mail in the folder becomes email tickets, once,
/// and a message from the workspace's own address (a copy of a sent reply) is not a customer's.
pub async fn mail_in_the_folder_becomes_tickets_once(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    append(&mut s.imap, &s.folder, 1..=3).await;
    let own = b"From: Acme Support <support@example.com>\r\nSubject: Re: Question 1\r\n\
                Message-ID: <own-copy@example.com>\r\n\r\nOur answer.\r\n";
    s.imap.append(&s.folder, None, None, own.to_vec()).await.unwrap();
    let intake: Arc<dyn MailIntake> = s.app.state.inbound_mail.clone();
    let p = MailPoller::new(
        s.repo.clone(),
        Arc::new(test_cipher()),
        Arc::new(opsflow_mail::ImapFetcher::new(StdDuration::from_secs(5), 100)),
        intake,
        TestClock::new(),
        MailPollerConfig::default(),
    );
    assert_eq!(p.round().await.handed_over, 4);
    let list = s.app.list(&s.admin.token, "sort=oldest_waiting&page_size=100").await;
    let items = list["items"].as_array().expect("items");
    let subjects: Vec<&str> = items.iter().map(|t| t["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["Question 1", "Question 2", "Question 3"], "{list}");
    assert!(items.iter().all(|t| t["channel"] == "email"));
    assert_eq!(items[1]["customer_email"], "c2@example.com");
    // A second round finds nothing new: no ticket twice.
    assert_eq!(p.round().await.handed_over, 0);
    assert_eq!(s.app.list(&s.admin.token, "").await["total"], 3);
}

fn p_config_renew() -> StdDuration {
    MailPollerConfig { lease_ttl: time::Duration::seconds(3), ..MailPollerConfig::default() }
        .idle_renew_every()
}

/// Polls `done` every 50 ms until it holds; panics with `what` after `within`.
async fn wait_until<F, Fut>(within: StdDuration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// IMAP IDLE (Dovecot advertises it): with a poll interval of an hour, a message appended to the
/// folder becomes a ticket within seconds; meanwhile another process finds the mailbox busy, and
/// shutting down ends the IDLE session and hands the lease back.
pub async fn with_idle_new_mail_becomes_a_ticket_within_seconds(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    let intake: Arc<dyn MailIntake> = s.app.state.inbound_mail.clone();
    let p = Arc::new(MailPoller::new(
        s.repo.clone(),
        Arc::new(test_cipher()),
        Arc::new(opsflow_mail::ImapFetcher::new(StdDuration::from_secs(5), 100)),
        intake,
        // The real clock: the lease is renewed as time passes, or another process takes it.
        Arc::new(opsflow_ports::auth::SystemClock),
        MailPollerConfig {
            interval: StdDuration::from_secs(3600),
            idle: true,
            // IDLE is re-issued (and the lease renewed) every second.
            lease_ttl: time::Duration::seconds(3),
            ..MailPollerConfig::default()
        },
    ));
    assert_eq!(p_config_renew(), StdDuration::from_secs(1));
    let handle = p.clone().spawn();
    wait_until(StdDuration::from_secs(10), "the IDLE session", || {
        let p = p.clone();
        let t = s.tenant_id;
        async move { p.idle_sessions() == vec![t] }
    })
    .await;

    append(&mut s.imap, &s.folder, 1..=1).await;
    let (app, token) = (&s.app, &s.admin.token);
    wait_until(StdDuration::from_secs(10), "the ticket", || async move {
        app.list(token, "").await["total"] == 1
    })
    .await;
    // Later mail arrives the same way, in the same session, after IDLE was re-issued a few
    // times (the pause lets those renewals happen; what is checked is the arrival below).
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    assert_eq!(p.idle_sessions(), vec![s.tenant_id]);
    append(&mut s.imap, &s.folder, 2..=2).await;
    wait_until(StdDuration::from_secs(10), "the second ticket", || async move {
        app.list(token, "").await["total"] == 2
    })
    .await;
    assert_eq!(p.idle_sessions(), vec![s.tenant_id]);
    assert!(status(&s).await["last_fetch_at"].is_string());

    // Another process's poller finds the mailbox leased while it is watched (longer ago than
    // the 3 s lease: it was renewed).
    let other = Arc::new(RecordingIntake::default());
    assert_eq!(poller(&s, other.clone(), TestClock::new()).round().await.busy, vec![s.tenant_id]);

    tokio::time::timeout(StdDuration::from_secs(10), handle.shutdown())
        .await
        .expect("shutdown ends the IDLE session promptly");
    assert!(p.idle_sessions().is_empty());
    // The lease was released: the other poller reads the mailbox now (nothing new for it).
    let report = poller(&s, other.clone(), TestClock::new()).round().await;
    assert_eq!((report.polled, report.handed_over), (vec![s.tenant_id], 0));
    assert!(other.ids().is_empty());
}

/// With IDLE turned off (`OPSFLOW_MAIL_IDLE=off`) the mailbox is polled every interval: no IDLE
/// session is opened, and mail still arrives, round after round.
pub async fn with_idle_off_the_mailbox_is_polled_every_interval(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    let intake = Arc::new(RecordingIntake::default());
    let p = Arc::new(MailPoller::new(
        s.repo.clone(),
        Arc::new(test_cipher()),
        Arc::new(opsflow_mail::ImapFetcher::new(StdDuration::from_secs(5), 100)),
        intake.clone(),
        TestClock::new(),
        MailPollerConfig {
            interval: StdDuration::from_millis(200),
            idle: false,
            ..MailPollerConfig::default()
        },
    ));
    let handle = p.clone().spawn();
    append(&mut s.imap, &s.folder, 1..=1).await;
    wait_until(StdDuration::from_secs(10), "the first message", || {
        let intake = intake.clone();
        async move { intake.ids().len() == 1 }
    })
    .await;
    append(&mut s.imap, &s.folder, 2..=3).await;
    wait_until(StdDuration::from_secs(10), "the next messages", || {
        let intake = intake.clone();
        async move { intake.ids().len() == 3 }
    })
    .await;
    assert_eq!(intake.ids(), ids(&s.folder, 1..=3));
    assert!(p.idle_sessions().is_empty(), "no IDLE session with IDLE off");
    tokio::time::timeout(StdDuration::from_secs(10), handle.shutdown()).await.unwrap();
}

/// The real fetcher, except that its IDLE sessions break at the first wait (a dropped
/// connection).
struct DroppingIdle {
    inner: opsflow_mail::ImapFetcher,
    opened: std::sync::atomic::AtomicUsize,
}

struct BrokenWatch;

#[async_trait]
impl opsflow_ports::mail::MailWatch for BrokenWatch {
    async fn wait(&mut self, _: StdDuration) -> Result<bool, opsflow_ports::mail::ImapError> {
        Err(opsflow_ports::mail::ImapError {
            stage: opsflow_ports::mail::MailStage::Connect,
            message: "connection reset by peer".into(),
        })
    }

    async fn close(self: Box<Self>) {}
}

#[async_trait]
impl opsflow_ports::mail::MailFetcher for DroppingIdle {
    async fn check(
        &self,
        endpoint: &opsflow_ports::mail::ImapEndpoint,
    ) -> Result<(), opsflow_ports::mail::ImapError> {
        self.inner.check(endpoint).await
    }

    async fn fetch(
        &self,
        endpoint: &opsflow_ports::mail::ImapEndpoint,
        since: Option<opsflow_ports::mail::Cursor>,
    ) -> Result<opsflow_ports::mail::Fetched, opsflow_ports::mail::ImapError> {
        self.inner.fetch(endpoint, since).await
    }

    async fn watch(
        &self,
        _: &opsflow_ports::mail::ImapEndpoint,
    ) -> Result<Option<Box<dyn opsflow_ports::mail::MailWatch>>, opsflow_ports::mail::ImapError>
    {
        self.opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Some(Box::new(BrokenWatch)))
    }
}

/// An IDLE connection that drops is recorded in the mailbox status with a back-off, and the
/// mailbox is polled again afterwards: mail still arrives, once.
pub async fn a_dropped_idle_connection_falls_back_to_polling(ctx: Ctx) {
    let mut s = setup(&ctx, "Imap-Pass-4821").await;
    let intake = Arc::new(RecordingIntake::default());
    let clock = TestClock::new();
    let fetcher = Arc::new(DroppingIdle {
        inner: opsflow_mail::ImapFetcher::new(StdDuration::from_secs(5), 100),
        opened: std::sync::atomic::AtomicUsize::new(0),
    });
    let p = Arc::new(MailPoller::new(
        s.repo.clone(),
        Arc::new(test_cipher()),
        fetcher.clone(),
        intake.clone(),
        clock.clone(),
        MailPollerConfig {
            interval: StdDuration::from_millis(100),
            idle: true,
            ..MailPollerConfig::default()
        },
    ));
    let handle = p.clone().spawn();
    let s_ref = &s;
    wait_until(StdDuration::from_secs(10), "the IDLE failure in the status", || async move {
        status(s_ref).await["last_error"].as_str().is_some_and(|e| e.contains("IDLE"))
    })
    .await;
    let st = status(&s).await;
    assert!(st["last_error"].as_str().unwrap().contains("connection reset by peer"), "{st}");
    assert!(st["next_retry_at"].is_string(), "{st}");

    // After the back-off the mailbox is polled again and new mail is taken in.
    append(&mut s.imap, &s.folder, 1..=1).await;
    clock.advance(time::Duration::seconds(31));
    wait_until(StdDuration::from_secs(10), "the message, by polling", || {
        let intake = intake.clone();
        async move { intake.ids().len() == 1 }
    })
    .await;
    assert!(fetcher.opened.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    tokio::time::timeout(StdDuration::from_secs(10), handle.shutdown()).await.unwrap();
    assert_eq!(intake.ids(), ids(&s.folder, 1..=1), "handed over once");
}
