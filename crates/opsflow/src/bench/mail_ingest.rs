//! `opsflow bench mail` (ingest part): how fast mail in an IMAP folder becomes tickets and
//! customer replies. Varied messages (plain, HTML-only, encoded words and other charsets,
//! multipart/alternative, attachments, follow-ups quoting their conversation) are appended to a
//! fresh folder of the Dovecot that `scripts/with-mail.sh` starts, then the real poller (the
//! `async-imap` fetcher, the MIME parser and the inbound-mail service on the store) reads the
//! folder until every message was handed over; the counts are then checked in the store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opsflow_domain::email::MailSecurity;
use opsflow_domain::mailbox::{ImapSettings, MailFolder, MailHost, MailboxSettings, SmtpSettings};
use opsflow_domain::{Email, TenantScope, TicketQuery};
use opsflow_ports::auth::SystemClock;
use opsflow_ports::mail_intake::MailIntake;
use opsflow_ports::repos::{
    MailArchiveRepository, MailboxRepository, ReplyRepository, Store, TicketRepository,
};
use opsflow_ports::services::mail_poller::{MailPoller, MailPollerConfig};
use opsflow_ports::services::mailbox::{MailboxAddresses, seal_imap_password};
use tokio::net::TcpStream;

use super::mail_outbox::{MailArgs, per_second};
use super::report::{Machine, thousands};
use super::{create_tenants, deps};
use crate::wiring::app_state;

/// The Dovecot user `scripts/with-mail.sh` creates.
const IMAP_USER: &str = "support";
const IMAP_PASSWORD: &str = "Imap-Pass-4821";

/// The kinds of message in the mix, by `index % 10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    HtmlOnly,
    EncodedWords,
    Alternative,
    Attachment,
    /// A customer's answer to the conversation started five messages earlier.
    FollowUp,
}

fn kind(i: usize) -> Kind {
    match i % 10 {
        0..=3 => Kind::Plain,
        4 => Kind::HtmlOnly,
        5 => Kind::EncodedWords,
        6 => Kind::Alternative,
        7 => Kind::Attachment,
        _ => Kind::FollowUp,
    }
}

/// Where a follow-up belongs: five messages back is always a plain or HTML-only new
/// conversation (`8 - 5 = 3`, `9 - 5 = 4`).
const fn root_of(i: usize) -> usize {
    i - 5
}

fn message_id(run: &str, i: usize) -> String {
    format!("m{i}.{run}@customer.example")
}

/// One raw message of the mix.
fn message(run: &str, i: usize) -> Vec<u8> {
    let k = kind(i);
    let conv = if k == Kind::FollowUp { root_of(i) } else { i };
    let from = format!("Customer {conv} <c{conv}@customer.example>");
    let id = message_id(run, i);
    let date = "Wed, 02 Dec 2026 12:00:00 +0000";
    let head = |subject: &str, extra: &str| {
        format!(
            "From: {from}\r\nTo: Support <support@bench.example>\r\nDate: {date}\r\n\
             Message-ID: <{id}>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n{extra}"
        )
    };
    let text = format!(
        "Hello,\r\n\r\nour order {i} did not arrive and the tracking page shows no update since \
         Monday. Could you check what happened?\r\n\r\nThanks,\r\nCustomer {conv}\r\n"
    );
    let raw = match k {
        Kind::Plain => format!(
            "{}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}",
            head(&format!("Order {i} missing"), "")
        ),
        Kind::HtmlOnly => format!(
            "{}Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello,</p>\
             <p>the <b>invoice {i}</b> shows the wrong VAT number.</p><ul><li>Invoice {i}</li>\
             <li>Expected: DE123</li></ul><p>Regards,<br>Customer {conv}</p></body></html>\r\n",
            head(&format!("Invoice {i} VAT"), "")
        ),
        Kind::EncodedWords => format!(
            "{}Content-Type: text/plain; charset=iso-8859-1\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\nBonjour,\r\n\r\nle caf=E9 \
             commande {i} est arriv=E9 ab=EEm=E9.\r\n\r\nCordialement\r\n",
            head(
                &format!("=?UTF-8?B?Q2Fmw6kgYWLDrm3DqQ==?= {i} =?ISO-8859-1?Q?=E0_=E9changer?="),
                ""
            )
        ),
        Kind::Alternative => format!(
            "{}Content-Type: multipart/alternative; boundary=\"alt{i}\"\r\n\r\n--alt{i}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{text}--alt{i}\r\n\
             Content-Type: text/html; charset=utf-8\r\n\r\n<p>{}</p>\r\n--alt{i}--\r\n",
            head(&format!("Delivery {i} late"), ""),
            text.replace("\r\n", "<br>")
        ),
        Kind::Attachment => {
            // A 3 KiB "screenshot", base64 in 76-column lines.
            let bytes: Vec<u8> =
                (0..3072u32).map(|b| (b.wrapping_mul(31) ^ i as u32) as u8).collect();
            let b64 = base64_lines(&bytes);
            format!(
                "{}Content-Type: multipart/mixed; boundary=\"mix{i}\"\r\n\r\n--mix{i}\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{text}--mix{i}\r\n\
                 Content-Type: image/png; name=\"screen-{i}.png\"\r\n\
                 Content-Disposition: attachment; filename=\"screen-{i}.png\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{b64}--mix{i}--\r\n",
                head(&format!("Error screen {i}"), "")
            )
        }
        Kind::FollowUp => {
            let root = message_id(run, conv);
            format!(
                "{}Content-Type: text/plain; charset=utf-8\r\n\r\nStill waiting on this one, \
                 any news? ({i})\r\n\r\nOn Monday, Support wrote:\r\n> We are looking into it.\r\n\
                 > Regards\r\n",
                head(
                    "Re: earlier question",
                    &format!("In-Reply-To: <{root}>\r\nReferences: <{root}>\r\n")
                )
            )
        }
    };
    raw.into_bytes()
}

fn base64_lines(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    let mut line = 0;
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (j, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if j <= chunk.len() {
                out.push(TABLE[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        line += 4;
        if line >= 76 {
            out.push_str("\r\n");
            line = 0;
        }
    }
    if line > 0 {
        out.push_str("\r\n");
    }
    out
}

/// What the ingest run measured.
pub struct IngestResult {
    messages: usize,
    append_time: Duration,
    ingest_time: Duration,
    rounds: usize,
    tickets: u64,
    replies: usize,
    expected_tickets: usize,
    expected_replies: usize,
    batch: u32,
}

/// Appends the mix to a fresh folder and times the poller reading it into `store`.
///
/// # Errors
/// No IMAP server, a store failure, or counts in the store that do not match the mix.
pub async fn bench<S: Store>(
    store: Arc<S>,
    args: &MailArgs,
    imap_port: u16,
) -> anyhow::Result<IngestResult> {
    let n = args.ingest_messages;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let folder = format!("bench-{run}");

    // Fill the folder (not timed): one connection, one APPEND per message.
    let appended = Instant::now();
    let tcp = TcpStream::connect((args.imap_host.as_str(), imap_port))
        .await
        .with_context(|| format!("no IMAP server on {}:{imap_port}", args.imap_host))?;
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.context("no IMAP greeting")?;
    let mut imap =
        client.login(IMAP_USER, IMAP_PASSWORD).await.map_err(|(e, _)| e).context("IMAP login")?;
    imap.create(&folder).await.context("could not create the benchmark folder")?;
    for i in 0..n {
        imap.append(&folder, None, None, message(&run, i)).await.context("IMAP APPEND")?;
    }
    let append_time = appended.elapsed();

    let mut d = deps(Arc::new(opsflow_llm::OfflineEngine::new()));
    // As in the server: mail from the workspace's own address is looked up in the store.
    d.inbound.own_addresses = Arc::new(MailboxAddresses::new(store.clone()));
    let cipher = d.cipher.clone();
    let state = app_state(Arc::clone(&store), d);
    let tenant = create_tenants(&state, store.as_ref(), 1, 0).await?.remove(0);
    let scope = tenant.admin;
    let tenant_id = scope.tenant_id();
    let settings = MailboxSettings {
        enabled: true,
        imap: ImapSettings {
            host: MailHost::parse(&args.imap_host)?,
            port: imap_port,
            security: MailSecurity::None,
            username: IMAP_USER.to_owned(),
            password_sealed: Some(seal_imap_password(cipher.as_ref(), tenant_id, IMAP_PASSWORD)?),
            folder: MailFolder::parse(&folder)?,
        },
        smtp: SmtpSettings {
            host: MailHost::parse("127.0.0.1")?,
            port: 25,
            security: MailSecurity::None,
            username: None,
            password_sealed: None,
        },
        from_address: Email::parse("support@bench.example")?,
        from_name: "Bench Support".to_owned(),
        updated_at: time::OffsetDateTime::now_utc(),
    };
    MailboxRepository::put_mailbox(store.as_ref(), &scope, &settings, true).await?;

    let intake: Arc<dyn MailIntake> = state.inbound_mail.clone();
    let poller = MailPoller::new(
        store.clone(),
        cipher,
        Arc::new(opsflow_mail::ImapFetcher::new(Duration::from_secs(60), args.imap_batch)),
        intake,
        Arc::new(SystemClock),
        MailPollerConfig { max_batches: usize::MAX, ..MailPollerConfig::default() },
    );
    let started = Instant::now();
    let mut handed = 0;
    let mut rounds = 0;
    while handed < n {
        let report = poller.round().await;
        rounds += 1;
        anyhow::ensure!(
            report.failed.is_empty() && report.polled == [tenant_id],
            "the poller could not read the folder: {:?}",
            store.mailbox_status(tenant_id).await?.last_error
        );
        anyhow::ensure!(report.handed_over > 0, "{handed} of {n} messages handed over, then none");
        handed += report.handed_over;
    }
    let ingest_time = started.elapsed();
    let _ = imap.delete(&folder).await;
    let _ = imap.logout().await;

    // The counts in the store: a ticket per new conversation, a customer reply per follow-up,
    // on the ticket of the conversation it answers.
    let expected_replies = (0..n).filter(|i| kind(*i) == Kind::FollowUp).count();
    let expected_tickets = n - expected_replies;
    let tickets = TicketRepository::count(store.as_ref(), &scope, &TicketQuery::default()).await?;
    let mut replies = 0;
    for i in (0..n).filter(|i| kind(*i) == Kind::FollowUp) {
        let root = thread_ticket(store.as_ref(), &scope, &message_id(&run, root_of(i))).await?;
        let own = thread_ticket(store.as_ref(), &scope, &message_id(&run, i)).await?;
        anyhow::ensure!(root == own, "follow-up {i} is not on its conversation's ticket");
        replies += ReplyRepository::list(store.as_ref(), &scope, root).await?.len();
    }
    Ok(IngestResult {
        messages: n,
        append_time,
        ingest_time,
        rounds,
        tickets,
        replies,
        expected_tickets,
        expected_replies,
        batch: args.imap_batch,
    })
}

async fn thread_ticket<S: Store>(
    store: &S,
    scope: &TenantScope,
    id: &str,
) -> anyhow::Result<opsflow_domain::TicketId> {
    MailArchiveRepository::ticket_for_message_ids(store, scope, &[id.to_owned()])
        .await?
        .with_context(|| format!("no ticket has the message {id}"))
}

impl IngestResult {
    /// Whether the store holds what the mix should have made.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            usize::try_from(self.tickets).ok() == Some(self.expected_tickets)
                && self.replies == self.expected_replies,
            "the store has {} tickets and {} customer replies; the {} messages should make {} and {}",
            self.tickets,
            self.replies,
            self.messages,
            self.expected_tickets,
            self.expected_replies
        );
        Ok(())
    }

    /// Messages taken in per second.
    pub fn rate(&self) -> f64 {
        per_second(self.messages, self.ingest_time)
    }

    /// The docs section.
    pub fn report(&self, machine: &Machine, store: &str) -> String {
        let mut md = format!("## Email ingest: IMAP folder to tickets, on {store}\n\n");
        md.push_str(&machine.markdown());
        md.push_str(&format!(
            "- {} messages appended to a fresh folder of the local Dovecot 2.3 started by \
             `scripts/with-mail.sh` (plain text, HTML-only, encoded words with UTF-8 and \
             ISO-8859-1, multipart/alternative, a 3 KiB attachment, and follow-ups with \
             In-Reply-To quoting their conversation: 10 % each except plain 40 % and follow-ups \
             20 %). Appending took {:.1} s (not timed below).\n- Timed: the real poller (the \
             `async-imap` fetcher, {} messages per UID FETCH, the `mail-parser` intake, the \
             inbound-mail service writing ticket or reply, message, attachments and cursor) \
             until every message was handed over, in {} poller round(s). Then checked in the \
             store: {} tickets and {} customer replies, each follow-up on its conversation's \
             ticket.\n\n",
            thousands(self.messages as u64),
            self.append_time.as_secs_f64(),
            self.batch,
            self.rounds,
            thousands(self.tickets),
            thousands(self.replies as u64),
        ));
        md.push_str(
            "| messages | tickets | replies | time s | messages/s | target |\n\
             |---:|---:|---:|---:|---:|---:|\n",
        );
        md.push_str(&format!(
            "| {} | {} | {} | {:.2} | {:.0} | ≥ 200 |\n",
            thousands(self.messages as u64),
            thousands(self.tickets),
            thousands(self.replies as u64),
            self.ingest_time.as_secs_f64(),
            self.rate()
        ));
        md
    }
}
