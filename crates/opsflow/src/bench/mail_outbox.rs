//! `opsflow bench mail`: the ingest part (see [`super::mail_ingest`]) and the outbox part, how
//! fast queued replies leave through SMTP. Replies are
//! queued through the ticket service exactly as the API does (reply and email in one
//! transaction), then outbox workers drain them into a local SMTP server with the real client.
//!
//! The mail servers are not started here: run the command through `scripts/with-mail.sh`, which
//! starts Dovecot and aiosmtpd and sets `OPSFLOW_TEST_IMAP_PORT` and `OPSFLOW_TEST_SMTP_PORT`:
//!
//! ```sh
//! scripts/with-mail.sh target/release/opsflow bench mail
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opsflow_domain::email::{MailSecurity, Mailbox};
use opsflow_domain::outbox::DeliveryState;
use opsflow_domain::{Channel, Email, PersonName, ReplyBody, TicketBody, TicketId, TicketSubject};
use opsflow_ports::auth::SystemClock;
use opsflow_ports::mail::SmtpEndpoint;
use opsflow_ports::repos::{OutboxRepository, Store, StoreAdmin as _};
use opsflow_ports::services::outbox::{
    FixedOutboundConfigForTests, FixedThreadIdsForTests, OutboxWorker,
};
use opsflow_ports::services::tickets::{NewReply, NewTicket};

use super::report::{Machine, thousands, upsert_section};
use super::{Target, create_tenants, deps, drop_mongo_database};
use crate::wiring::app_state;

/// Which parts of `opsflow bench mail` run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailPart {
    /// IMAP folder to tickets.
    Ingest,
    /// Outbox to SMTP.
    Outbox,
}

/// Options of `opsflow bench mail`.
#[derive(Debug, clap::Args)]
pub struct MailArgs {
    /// The parts to run (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "ingest,outbox")]
    pub parts: Vec<MailPart>,
    /// Messages appended to the IMAP folder and taken in (ingest part).
    #[arg(long, default_value_t = 2000)]
    pub ingest_messages: usize,
    /// Messages per IMAP UID FETCH (ingest part).
    #[arg(long, default_value_t = 100)]
    pub imap_batch: u32,
    /// IMAP server host (ingest part).
    #[arg(long, default_value = "127.0.0.1")]
    pub imap_host: String,
    /// IMAP server port (default: `OPSFLOW_TEST_IMAP_PORT`, set by `scripts/with-mail.sh`).
    #[arg(long)]
    pub imap_port: Option<u16>,
    /// Emails queued and sent for each worker count.
    #[arg(long, default_value_t = 500)]
    pub emails: usize,
    /// Outbox worker counts to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    pub workers: Vec<usize>,
    /// SMTP server host.
    #[arg(long, default_value = "127.0.0.1")]
    pub smtp_host: String,
    /// SMTP server port (default: `OPSFLOW_TEST_SMTP_PORT`, set by `scripts/with-mail.sh`).
    #[arg(long)]
    pub smtp_port: Option<u16>,
    /// Database URL for a fresh database (`sqlite://new-file.db` or `mongodb://…`); default: a
    /// new SQLite file in a temporary folder.
    #[arg(long)]
    pub database: Option<String>,
    /// The markdown file whose sections are replaced with the results.
    #[arg(long, default_value = "docs/benchmarks.md")]
    pub docs: PathBuf,
    /// Print the results only; leave the docs alone.
    #[arg(long)]
    pub no_docs: bool,
}

/// One measured drain.
struct Round {
    workers: usize,
    queue_time: Duration,
    drain_time: Duration,
    sent: usize,
    failed: usize,
}

/// Runs the benchmark.
///
/// # Errors
/// No SMTP server, a store that cannot be opened, or emails that were not all sent.
pub async fn run(args: MailArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.emails > 0, "--emails must be at least 1");
    anyhow::ensure!(args.ingest_messages > 0, "--ingest-messages must be at least 1");
    anyhow::ensure!(args.imap_batch > 0, "--imap-batch must be at least 1");
    anyhow::ensure!(args.workers.iter().all(|w| *w > 0), "--workers counts must be > 0");
    let ingest = args.parts.contains(&MailPart::Ingest);
    let outbox = args.parts.contains(&MailPart::Outbox);
    let port_of = |given: Option<u16>, var: &str, what: &str| -> anyhow::Result<u16> {
        match given {
            Some(p) => Ok(p),
            None => std::env::var(var).ok().and_then(|p| p.parse().ok()).with_context(|| {
                format!(
                    "no {what} server: run `scripts/with-mail.sh target/release/opsflow bench \
                     mail` (it starts Dovecot and aiosmtpd) or pass --{}-port",
                    what.to_ascii_lowercase()
                )
            }),
        }
    };
    let imap_port = if ingest {
        Some(port_of(args.imap_port, "OPSFLOW_TEST_IMAP_PORT", "IMAP")?)
    } else {
        None
    };
    let smtp_port = if outbox {
        Some(port_of(args.smtp_port, "OPSFLOW_TEST_SMTP_PORT", "SMTP")?)
    } else {
        None
    };
    anyhow::ensure!(
        args.database.is_none() || args.parts.len() == 1,
        "each part needs a fresh database: with --database, choose one part with --parts"
    );
    let machine = Machine::now();
    machine.warn_if_debug();
    // Each part on its own fresh database, as the sections describe.
    for (part, imap, smtp) in
        [(MailPart::Ingest, imap_port, None), (MailPart::Outbox, None, smtp_port)]
    {
        if imap.is_none() && smtp.is_none() {
            continue;
        }
        let target = Target::new(args.database.as_deref())?;
        println!(
            "opsflow bench mail ({part:?}); store: {} ({} build, {} cores)",
            target.describe(),
            machine.profile,
            machine.cores
        );
        match &target {
            Target::Sqlite { url, .. } => {
                let store = Target::open_sqlite(url).await?;
                let r = parts(&store, &args, &machine, &target, imap, smtp).await;
                store.close().await;
                r
            }
            Target::Mongo { .. } => {
                let store = target.open_mongo().await?;
                let r = parts(&store, &args, &machine, &target, imap, smtp).await;
                drop_mongo_database(&store).await;
                store.close().await;
                r
            }
        }?;
    }
    Ok(())
}

async fn parts<S: Store>(
    store: &Arc<S>,
    args: &MailArgs,
    machine: &Machine,
    target: &Target,
    imap_port: Option<u16>,
    smtp_port: Option<u16>,
) -> anyhow::Result<()> {
    let backend = if target.backend() == "sqlite" { "SQLite" } else { "MongoDB" };
    if let Some(port) = imap_port {
        println!(
            "ingest: {} messages from {}:{port}, {} per fetch",
            args.ingest_messages, args.imap_host, args.imap_batch
        );
        let result = super::mail_ingest::bench(Arc::clone(store), args, port).await?;
        let markdown = result.report(machine, backend);
        println!("\n{markdown}");
        result.check()?;
        if !args.no_docs {
            let key = format!("mail-ingest-{}", target.backend());
            upsert_section(&args.docs, "Benchmarks", &key, &markdown)?;
            println!("updated {}", args.docs.display());
        }
    }
    if let Some(port) = smtp_port {
        let endpoint = SmtpEndpoint {
            host: args.smtp_host.clone(),
            port,
            security: MailSecurity::None,
            username: Some("desk".into()),
            password: Some("Desk-Pass-4821".into()),
        };
        println!("outbox: {} emails per round to {}:{port}", args.emails, args.smtp_host);
        let rounds = bench(Arc::clone(store), &endpoint, args).await?;
        let markdown = report(machine, target, args, &rounds);
        println!("\n{markdown}");
        if !args.no_docs {
            let key = format!("mail-outbox-{}", target.backend());
            upsert_section(&args.docs, "Benchmarks", &key, &markdown)?;
            println!("updated {}", args.docs.display());
        }
        for r in &rounds {
            anyhow::ensure!(
                r.sent == args.emails && r.failed == 0,
                "{} workers: {} of {} emails sent, {} failed",
                r.workers,
                r.sent,
                args.emails,
                r.failed
            );
        }
    }
    Ok(())
}

async fn bench<S: Store>(
    store: Arc<S>,
    endpoint: &SmtpEndpoint,
    args: &MailArgs,
) -> anyhow::Result<Vec<Round>> {
    let outbound = Arc::new(FixedOutboundConfigForTests {
        endpoint: endpoint.clone(),
        mailbox: Mailbox {
            name: Some("Bench Support".into()),
            email: Email::parse("support@bench.example")?,
        },
    });
    let mut d = deps(Arc::new(opsflow_llm::OfflineEngine::new()));
    d.outbound = outbound.clone();
    d.threads = Arc::new(FixedThreadIdsForTests(vec!["first@customer.example".into()]));
    let state = app_state(Arc::clone(&store), d);
    let tenant = create_tenants(&state, store.as_ref(), 1, 0).await?.remove(0);
    let scope = tenant.admin;
    let worker = Arc::new(OutboxWorker::new(
        Arc::clone(&store) as Arc<dyn OutboxRepository>,
        outbound,
        Arc::new(opsflow_mail::SmtpSender::default()),
        Arc::new(SystemClock),
    ));
    let mut rounds = Vec::new();
    for &workers in &args.workers {
        // A fresh email ticket per round, so its deliveries are this round's.
        let ticket = state
            .tickets
            .create(
                &scope,
                NewTicket {
                    subject: TicketSubject::new("Invoice question")?,
                    body: TicketBody::new("Where is my invoice?")?,
                    channel: Channel::Email,
                    customer_name: PersonName::new("Casey Customer")?,
                    customer_email: Email::parse("casey@customer.example")?,
                },
            )
            .await?;
        let queued_at = Instant::now();
        for i in 0..args.emails {
            state
                .tickets
                .reply(
                    &scope,
                    ticket.id,
                    NewReply {
                        body: ReplyBody::new(&format!(
                            "Hello Casey,\n\nyour invoice #{i} is attached to your account.\n\nBench Support"
                        ))?,
                        status: None,
                        draft_id: None,
                        confirm_warnings: false,
                    },
                )
                .await?;
        }
        let queue_time = queued_at.elapsed();
        let started = Instant::now();
        let tasks: Vec<_> = (0..workers)
            .map(|_| {
                let worker = Arc::clone(&worker);
                tokio::spawn(async move { worker.drain().await })
            })
            .collect();
        for t in tasks {
            t.await.context("an outbox worker panicked")??;
        }
        let drain_time = started.elapsed();
        let (sent, failed) = count(store.as_ref(), &scope, ticket.id).await?;
        println!(
            "  {workers} workers: {sent} sent, {failed} failed in {:.2} s ({:.0} emails/s)",
            drain_time.as_secs_f64(),
            per_second(sent, drain_time)
        );
        rounds.push(Round { workers, queue_time, drain_time, sent, failed });
    }
    Ok(rounds)
}

async fn count<S: Store>(
    store: &S,
    scope: &opsflow_domain::TenantScope,
    ticket: TicketId,
) -> anyhow::Result<(usize, usize)> {
    let deliveries = store.delivery_for_replies(scope, ticket).await?;
    let sent = deliveries.iter().filter(|d| d.state == DeliveryState::Sent).count();
    let failed = deliveries.iter().filter(|d| d.state == DeliveryState::Failed).count();
    Ok((sent, failed))
}

#[allow(clippy::cast_precision_loss)]
pub(super) fn per_second(n: usize, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

fn report(machine: &Machine, target: &Target, args: &MailArgs, rounds: &[Round]) -> String {
    let mut md = format!(
        "## Email outbox: replies sent over SMTP, on {}\n\n",
        if target.backend() == "sqlite" { "SQLite" } else { "MongoDB" }
    );
    md.push_str(&machine.markdown());
    md.push_str(&format!(
        "- Store: {}. One workspace; per round {} replies on a fresh email ticket, each queued \
         through the ticket service (reply and email in one transaction).\n- SMTP: aiosmtpd \
         (Python, `scripts/smtp_test_server.py`) on 127.0.0.1 with AUTH, started by \
         `scripts/with-mail.sh`; the real `lettre` client as in production: a pool of \
         logged-in connections for the mailbox (connect, EHLO and AUTH once per connection, \
         then MAIL, RCPT, DATA per message).\n- Workers drain the \
         outbox concurrently: claim (atomic, leased), send, mark sent.\n\n",
        target.describe(),
        thousands(args.emails as u64)
    ));
    md.push_str(
        "| workers | emails | queue time s | queued/s | drain time s | sent/s | failed |\n\
         |---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rounds {
        md.push_str(&format!(
            "| {} | {} | {:.2} | {:.0} | {:.2} | {:.0} | {} |\n",
            r.workers,
            r.sent + r.failed,
            r.queue_time.as_secs_f64(),
            per_second(args.emails, r.queue_time),
            r.drain_time.as_secs_f64(),
            per_second(r.sent, r.drain_time),
            r.failed
        ));
    }
    md
}
