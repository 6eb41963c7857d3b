//! `opsflow bench api`: seeds a fresh database with many tickets, starts the real server in this
//! process and measures the views, list pages (first and a deep keyset page), search, detail,
//! create, patch, bulk update and health under concurrent, authenticated keep-alive clients.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opsflow_domain::{
    Email, PersonName, Ticket, TicketBody, TicketId, TicketStatus, TicketSubject,
};
use opsflow_ports::repos::{Store, StoreAdmin as _, TicketRepository};
use serde_json::{Value, json};

use super::corpus::{Corpus, QUERIES};
use super::load::{MakeRequest, Stats, closed_loop, pick};
use super::report::{Machine, Memory, cpu_share, process_cpu, thousands, upsert_section, verdict};
use super::{
    BenchTenant, Target, TestServer, create_tenants, deps, drop_mongo_database, http_client,
    login_all,
};

/// Ticket ids kept per tenant for the detail and patch scenarios (all of them would inflate the
/// process's memory, which is measured).
const SAMPLES_PER_TENANT: usize = 1_000;
/// The status the list scenarios filter on.
const LIST_STATUS: TicketStatus = TicketStatus::Open;
/// The deep page of the list scenario (reached once by offset while setting up; measured with
/// the keyset cursor of the page before it).
const DEEP_PAGE: u64 = 200;
/// Tickets per request of the bulk scenario.
const BULK_SIZE: usize = 100;
/// The views measured, as (scenario name, `view` parameter).
const VIEWS: [(&str, &str); 6] = [
    ("view_my_open", "my_open"),
    ("view_unassigned", "unassigned"),
    ("view_urgent_high", "urgent_high"),
    ("view_all_open", "all_open"),
    ("view_replied", "replied"),
    ("view_closed", "closed"),
];
/// Agents per workspace (besides the admin).
const AGENTS_PER_TENANT: usize = 3;

/// Options of `opsflow bench api`.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Tickets to seed (spread evenly over the workspaces).
    #[arg(long, default_value_t = 1_000_000)]
    pub tickets: u64,
    /// Workspaces (tenants) to create.
    #[arg(long, default_value_t = 50)]
    pub tenants: usize,
    /// Concurrent keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Measured time per scenario.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Unmeasured warm-up per scenario.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Database URL for a fresh database (`sqlite://new-file.db` or `mongodb://…`); default: a
    /// new SQLite file in a temporary folder.
    #[arg(long)]
    pub database: Option<String>,
    /// Tickets per `create_many` transaction while seeding.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// The markdown file whose section for this backend is replaced with the results.
    #[arg(long, default_value = "docs/benchmarks.md")]
    pub docs: PathBuf,
    /// Print the results only; leave the docs alone (for quick checks).
    #[arg(long)]
    pub no_docs: bool,
}

/// One measured scenario.
struct Scenario {
    name: &'static str,
    request: String,
    stats: Stats,
    /// Share of the cores the whole process kept busy during the scenario.
    cpu: Option<f64>,
}

/// Everything a run measured.
struct ApiReport {
    seeded: u64,
    seed_time: Duration,
    list_status_total_min: u64,
    after_seed: Option<Memory>,
    after_run: Option<Memory>,
    peak_reset: bool,
    scenarios: Vec<Scenario>,
}

/// Runs the benchmark and prints (and by default records) the results.
///
/// # Errors
/// Invalid options, a store or server that cannot start, or a docs file that cannot be written.
pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.tenants > 0, "--tenants must be at least 1");
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(
        args.tickets >= args.tenants as u64,
        "--tickets must be at least --tenants (every workspace needs tickets to read)"
    );
    anyhow::ensure!(!args.duration.is_zero(), "--duration must be greater than zero");
    let machine = Machine::now();
    machine.warn_if_debug();
    let target = Target::new(args.database.as_deref())?;
    println!(
        "opsflow bench api: {} tickets in {} workspaces on {}; {} connections, {:?} per scenario \
         ({} build, {} cores)",
        thousands(args.tickets),
        args.tenants,
        target.describe(),
        args.connections,
        args.duration,
        machine.profile,
        machine.cores
    );
    let report = match &target {
        Target::Sqlite { url, .. } => {
            let store = Target::open_sqlite(url).await?;
            let report = bench(Arc::clone(&store), &args).await;
            store.close().await;
            report
        }
        Target::Mongo { .. } => {
            let store = target.open_mongo().await?;
            let report = bench(Arc::clone(&store), &args).await;
            drop_mongo_database(&store).await;
            store.close().await;
            report
        }
    }?;
    println!("\n{}", render_text(&report, &args));
    if args.no_docs {
        println!("(--no-docs: {} left unchanged)", args.docs.display());
    } else {
        // The one-workspace run (`--tenants 1`) has its own section beside the many-workspace
        // one, so both can stand in the docs.
        let key = if args.tenants == 1 {
            format!("api-{}-one-workspace", target.backend())
        } else {
            format!("api-{}", target.backend())
        };
        upsert_section(
            &args.docs,
            "Benchmarks",
            &key,
            &render_markdown(&report, &args, &machine, &target),
        )?;
        println!("wrote the results to {}", args.docs.display());
    }
    Ok(())
}

async fn bench<S: Store>(store: Arc<S>, args: &ApiArgs) -> anyhow::Result<ApiReport> {
    let llm = opsflow_llm::build_client(&opsflow_llm::LlmSettings::default())
        .map_err(|e| anyhow::anyhow!("could not build the offline engine: {e}"))?;
    let state = crate::wiring::app_state(Arc::clone(&store), deps(llm));
    println!("creating {} workspaces ...", args.tenants);
    let tenants = create_tenants(&state, store.as_ref(), args.tenants, AGENTS_PER_TENANT).await?;
    let seeded = seed(store.as_ref(), &tenants, args.tickets, args.batch).await?;
    let after_seed = Memory::read();
    // From here on the peak covers serving only, not the seeding batches.
    let peak_reset = Memory::reset_peak();

    let server = TestServer::start(Arc::clone(&state)).await?;
    let client = http_client(args.connections)?;
    let tokens = login_all(&client, &server.base, &tenants).await?;
    let bearer: Vec<String> = tokens.iter().map(|t| format!("Bearer {t}")).collect();
    let deep_cursors = deep_cursors(&client, &server.base, &bearer).await?;
    let ctx = Arc::new(Ctx {
        client,
        base: server.base.clone(),
        bearer,
        deep_cursors,
        ids: seeded
            .samples
            .iter()
            .map(|ids| ids.iter().map(ToString::to_string).collect())
            .collect(),
        new_tickets: new_ticket_bodies(1_024),
    });
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut scenarios = Vec::new();
    for (name, request, make) in scenario_list(&ctx) {
        println!("measuring {name:<16} {request}");
        // A bulk update is one person's action on their selection: measured one at a time.
        let connections = if name == "bulk_100" { 1 } else { args.connections };
        let (cpu_before, started) = (process_cpu(), Instant::now());
        let stats = closed_loop(connections, args.warmup, args.duration, make).await;
        let cpu = cpu_share(cpu_before, process_cpu(), started.elapsed(), cores);
        println!(
            "  {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}   answered late {}",
            stats.requests_per_sec(),
            stats.quantile_ms(0.50),
            stats.quantile_ms(0.99),
            stats.errors(),
            stats.late
        );
        if let Some(e) = &stats.first_error {
            println!("  first error: {e}");
        }
        scenarios.push(Scenario { name, request, stats, cpu });
    }
    let after_run = Memory::read();
    server.stop().await?;
    Ok(ApiReport {
        seeded: seeded.count,
        seed_time: seeded.elapsed,
        list_status_total_min: seeded.list_status_min,
        after_seed,
        after_run,
        peak_reset,
        scenarios,
    })
}

struct Seeded {
    count: u64,
    elapsed: Duration,
    /// Per tenant, a sample of ticket ids.
    samples: Vec<Vec<TicketId>>,
    /// The smallest number of tickets with [`LIST_STATUS`] in any tenant.
    list_status_min: u64,
}

/// Seeds `total` tickets over the tenants with `create_many`, `batch` per transaction.
async fn seed<S: TicketRepository>(
    store: &S,
    tenants: &[BenchTenant],
    total: u64,
    batch: usize,
) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    let two_years = 2 * 365 * 24 * 3600;
    let count = tenants.len() as u64;
    let mut done = 0u64;
    let mut next_report = total / 20;
    let mut samples = Vec::with_capacity(tenants.len());
    let mut list_status_min = u64::MAX;
    println!("seeding {} tickets in batches of {batch} ...", thousands(total));
    for (i, tenant) in tenants.iter().enumerate() {
        let share = total / count + u64::from((i as u64) < total % count);
        let every =
            usize::try_from(share).unwrap_or(usize::MAX).div_ceil(SAMPLES_PER_TENANT).max(1);
        let mut corpus = Corpus::new(0x0b5f_1000 + i as u64);
        let mut tenant_samples = Vec::with_capacity(SAMPLES_PER_TENANT + 1);
        let mut with_status = 0u64;
        let mut written = 0u64;
        let people: Vec<_> =
            tenant.agents.iter().copied().chain(std::iter::once(tenant.admin.user_id())).collect();
        while written < share {
            let n = usize::try_from((share - written).min(batch as u64)).unwrap_or(batch);
            let mut tickets = Vec::with_capacity(n);
            for _ in 0..n {
                let g = corpus.ticket();
                let status = corpus.status();
                let age = i64::try_from(corpus.index(two_years)).unwrap_or(0);
                let created_at = now - time::Duration::seconds(age);
                let triaged = status != TicketStatus::New || corpus.chance(0.2);
                let assignee = (status != TicketStatus::New && corpus.chance(0.8))
                    .then(|| people[corpus.index(people.len())]);
                let ticket = Ticket {
                    id: TicketId::new(),
                    tenant_id: tenant.id(),
                    number: 0,
                    subject: TicketSubject::new(&g.subject)?,
                    body: TicketBody::new(&g.body)?,
                    channel: g.channel,
                    status,
                    priority: triaged.then_some(g.priority),
                    category: triaged.then_some(g.category),
                    customer_name: PersonName::new(&g.customer_name)?,
                    customer_email: Email::parse(&g.customer_email)?,
                    assignee_id: assignee,
                    created_by_id: Some(tenant.admin.user_id()),
                    created_at,
                    updated_at: created_at,
                };
                if status == LIST_STATUS {
                    with_status += 1;
                }
                if (written as usize + tickets.len()).is_multiple_of(every) {
                    tenant_samples.push(ticket.id);
                }
                tickets.push(ticket);
            }
            store
                .create_many(&tenant.admin, &tickets)
                .await
                .with_context(|| format!("seeding tickets of workspace {i}"))?;
            written += n as u64;
            done += n as u64;
            if done >= next_report || done == total {
                let secs = started.elapsed().as_secs_f64();
                #[allow(clippy::cast_precision_loss)]
                let rate = done as f64 / secs.max(1e-9);
                println!(
                    "  seeded {:>11} / {} tickets  ({:.0} s, {:.0} tickets/s)",
                    thousands(done),
                    thousands(total),
                    secs,
                    rate
                );
                next_report = done + total / 20;
            }
        }
        list_status_min = list_status_min.min(with_status);
        samples.push(tenant_samples);
    }
    Ok(Seeded { count: done, elapsed: started.elapsed(), samples, list_status_min })
}

/// What the request builders share.
struct Ctx {
    client: reqwest::Client,
    base: String,
    /// `Bearer …` per tenant.
    bearer: Vec<String>,
    /// Per tenant, the keyset cursor that starts page [`DEEP_PAGE`] of the status list.
    deep_cursors: Vec<String>,
    /// Sampled ticket ids per tenant.
    ids: Vec<Vec<String>>,
    /// Request bodies for the create scenario.
    new_tickets: Vec<Value>,
}

impl Ctx {
    fn tenant(&self, seq: u64) -> usize {
        pick(seq, self.bearer.len())
    }

    fn get(&self, tenant: usize, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, &self.bearer[tenant])
    }

    fn ticket_id(&self, tenant: usize, seq: u64) -> &str {
        let ids = &self.ids[tenant];
        &ids[pick(seq.rotate_left(17), ids.len())]
    }
}

/// Per tenant, the `next_cursor` of page `DEEP_PAGE - 1` of the status list (read once by offset,
/// before measuring), so the deep-page scenario measures keyset paging as the UI's "load more"
/// does. A tenant with fewer tickets gets the cursor of its last full page.
async fn deep_cursors(
    client: &reqwest::Client,
    base: &str,
    bearer: &[String],
) -> anyhow::Result<Vec<String>> {
    let status = LIST_STATUS.as_str();
    let mut cursors = Vec::with_capacity(bearer.len());
    for token in bearer {
        let mut found = None;
        for page in [DEEP_PAGE - 1, 1] {
            let answer: Value = client
                .get(format!("{base}/api/tickets?status={status}&page={page}"))
                .header(reqwest::header::AUTHORIZATION, token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            if let Some(c) = answer.get("next_cursor").and_then(Value::as_str) {
                found = Some(c.to_owned());
                break;
            }
        }
        cursors.push(found.context("a workspace has no second page of open tickets")?);
    }
    Ok(cursors)
}

fn new_ticket_bodies(n: usize) -> Vec<Value> {
    let mut corpus = Corpus::new(0x00c0_ffee);
    (0..n)
        .map(|_| {
            let g = corpus.ticket();
            json!({
                "subject": g.subject,
                "body": g.body,
                "channel": g.channel.as_str(),
                "customer_name": g.customer_name,
                "customer_email": g.customer_email,
            })
        })
        .collect()
}

type Entry = (&'static str, String, Arc<MakeRequest>);

/// The scenarios, in the order they run: the ceiling first, then reads, then writes.
fn scenario_list(ctx: &Arc<Ctx>) -> Vec<Entry> {
    let status = LIST_STATUS.as_str();
    let mut list: Vec<Entry> = Vec::new();
    let c = Arc::clone(ctx);
    list.push((
        "health",
        "GET /api/health (no auth; pings the store)".to_owned(),
        Arc::new(move |_| c.client.get(format!("{}/api/health", c.base))),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "list_status_p1",
        format!("GET /api/tickets?status={status}&page=1"),
        Arc::new(move |seq| c.get(c.tenant(seq), &format!("/api/tickets?status={status}&page=1"))),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "list_status_deep",
        format!("GET /api/tickets?status={status}&cursor=… (page {DEEP_PAGE} by keyset cursor)"),
        Arc::new(move |seq| {
            let t = c.tenant(seq);
            c.get(t, &format!("/api/tickets?status={status}&cursor={}", c.deep_cursors[t]))
        }),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "views",
        "GET /api/tickets/views (the six views with their counts)".to_owned(),
        Arc::new(move |seq| c.get(c.tenant(seq), "/api/tickets/views")),
    ));
    for (name, view) in VIEWS {
        let c = Arc::clone(ctx);
        list.push((
            name,
            format!("GET /api/tickets?view={view}"),
            Arc::new(move |seq| c.get(c.tenant(seq), &format!("/api/tickets?view={view}"))),
        ));
    }
    let c = Arc::clone(ctx);
    list.push((
        "list_q",
        format!(
            "GET /api/tickets?q=… (rotating {} queries: {})",
            QUERIES.len(),
            QUERIES.join(", ")
        ),
        Arc::new(move |seq| {
            let q = QUERIES[pick(seq.rotate_left(29), QUERIES.len())];
            c.get(c.tenant(seq), &format!("/api/tickets?q={}", q.replace(' ', "+")))
        }),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "detail",
        "GET /api/tickets/{id} (ticket, replies, latest run)".to_owned(),
        Arc::new(move |seq| {
            let t = c.tenant(seq);
            c.get(t, &format!("/api/tickets/{}", c.ticket_id(t, seq)))
        }),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "create",
        "POST /api/tickets".to_owned(),
        Arc::new(move |seq| {
            let t = c.tenant(seq);
            let body = &c.new_tickets[pick(seq.rotate_left(7), c.new_tickets.len())];
            c.client
                .post(format!("{}/api/tickets", c.base))
                .header(reqwest::header::AUTHORIZATION, &c.bearer[t])
                .json(body)
        }),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "patch",
        "PATCH /api/tickets/{id} (status and priority)".to_owned(),
        Arc::new(move |seq| {
            let t = c.tenant(seq);
            let statuses = ["open", "pending", "replied"];
            let priorities = ["low", "medium", "high", "urgent"];
            c.client
                .patch(format!("{}/api/tickets/{}", c.base, c.ticket_id(t, seq)))
                .header(reqwest::header::AUTHORIZATION, &c.bearer[t])
                .json(&json!({
                    "status": statuses[pick(seq ^ 0x55, statuses.len())],
                    "priority": priorities[pick(seq ^ 0xaa, priorities.len())],
                }))
        }),
    ));
    let c = Arc::clone(ctx);
    list.push((
        "bulk_100",
        format!(
            "POST /api/tickets/bulk ({BULK_SIZE} tickets: status and priority; one client at a \
             time)"
        ),
        Arc::new(move |seq| {
            let t = c.tenant(seq);
            let ids = &c.ids[t];
            let start = pick(seq.rotate_left(11), ids.len());
            let chosen: Vec<&str> = ids
                .iter()
                .cycle()
                .skip(start)
                .take(BULK_SIZE.min(ids.len()))
                .map(String::as_str)
                .collect();
            let statuses = ["open", "pending"];
            let priorities = ["low", "medium", "high"];
            c.client
                .post(format!("{}/api/tickets/bulk", c.base))
                .header(reqwest::header::AUTHORIZATION, &c.bearer[t])
                .json(&json!({
                    "ids": chosen,
                    "changes": {
                        "status": statuses[pick(seq ^ 0x33, statuses.len())],
                        "priority": priorities[pick(seq ^ 0xcc, priorities.len())],
                    },
                }))
        }),
    ));
    list
}

/// The API targets, checked against a run.
struct Verdicts {
    lines: Vec<(String, bool)>,
}

fn verdicts(report: &ApiReport) -> Verdicts {
    let find = |name: &str| report.scenarios.iter().find(|s| s.name == name);
    let health_rps = find("health").map_or(0.0, |s| s.stats.requests_per_sec());
    let mut lines = Vec::new();
    let lists = ["list_status_p1", "list_status_deep", "views", "list_q", "detail"];
    for name in lists.into_iter().chain(VIEWS.iter().map(|(n, _)| *n)) {
        let Some(s) = find(name) else { continue };
        let p99 = s.stats.quantile_ms(0.99);
        if !s.stats.measured() {
            lines.push((format!("{name}: no request was answered"), false));
            continue;
        }
        lines.push((format!("{name}: p99 {p99:.2} ms ≤ 25 ms"), p99 <= 25.0));
        // Search has a latency target only.
        if name == "list_q" {
            continue;
        }
        let share = if health_rps > 0.0 { s.stats.requests_per_sec() / health_rps } else { 0.0 };
        lines.push((
            format!(
                "{name}: {:.0} req/s = {:.0}% of health's {:.0} req/s (≥ 25%)",
                s.stats.requests_per_sec(),
                share * 100.0,
                health_rps
            ),
            share >= 0.25,
        ));
    }
    if let Some(s) = find("create") {
        let rps = s.stats.requests_per_sec();
        lines.push((format!("create: {rps:.0} req/s ≥ 1,500/s"), rps >= 1500.0));
    }
    if let Some(s) = find("bulk_100").filter(|s| s.stats.measured()) {
        let p99 = s.stats.quantile_ms(0.99);
        lines.push((format!("bulk_100: p99 {p99:.2} ms ≤ 100 ms"), p99 <= 100.0));
    }
    if let Some(peak) = peak_serving_kib(report) {
        let mib = Memory::mib(peak);
        lines.push((
            format!(
                "server resident memory at {} tickets: {mib:.0} MiB ≤ 300 MB (≈ 286 MiB)",
                thousands(report.seeded)
            ),
            peak * 1024 <= 300_000_000,
        ));
    }
    for s in &report.scenarios {
        if s.stats.errors() > 0 {
            lines.push((
                format!("{}: {} errors (non-2xx or no answer)", s.name, s.stats.errors()),
                false,
            ));
        }
    }
    Verdicts { lines }
}

/// The memory figure the target is checked against: the peak while serving when the peak could
/// be reset after seeding, otherwise the resident set after the run.
fn peak_serving_kib(report: &ApiReport) -> Option<u64> {
    let after = report.after_run?;
    Some(if report.peak_reset { after.hwm_kib.max(after.rss_kib) } else { after.rss_kib })
}

fn memory_text(report: &ApiReport) -> String {
    let mut out = String::new();
    if let Some(m) = report.after_seed {
        let _ = write!(out, "after seeding {:.0} MiB", Memory::mib(m.rss_kib));
    }
    if let Some(m) = report.after_run {
        let _ = write!(out, "; after the run {:.0} MiB", Memory::mib(m.rss_kib));
        if report.peak_reset {
            let _ = write!(
                out,
                "; peak while serving (VmHWM, reset after seeding) {:.0} MiB",
                Memory::mib(m.hwm_kib)
            );
        } else {
            let _ = write!(
                out,
                "; process peak (VmHWM, includes seeding) {:.0} MiB",
                Memory::mib(m.hwm_kib)
            );
        }
    }
    if out.is_empty() { "unavailable (no /proc)".to_owned() } else { out }
}

fn render_text(report: &ApiReport, args: &ApiArgs) -> String {
    let health_rps = report
        .scenarios
        .iter()
        .find(|s| s.name == "health")
        .map_or(0.0, |s| s.stats.requests_per_sec());
    let mut out = format!(
        "{:<18}{:>11}{:>9}{:>10}{:>10}{:>10}{:>9}{:>7}\n",
        "scenario", "req/s", "% health", "p50 ms", "p99 ms", "max ms", "errors", "CPU"
    );
    for s in &report.scenarios {
        let share =
            if health_rps > 0.0 { 100.0 * s.stats.requests_per_sec() / health_rps } else { 0.0 };
        let _ = writeln!(
            out,
            "{:<18}{:>11.0}{:>8.0}%{:>10.2}{:>10.2}{:>10.2}{:>9}{:>6.0}%",
            s.name,
            s.stats.requests_per_sec(),
            share,
            s.stats.quantile_ms(0.50),
            s.stats.quantile_ms(0.99),
            s.stats.max_ms(),
            s.stats.errors(),
            s.cpu.unwrap_or(0.0) * 100.0
        );
    }
    let _ = writeln!(
        out,
        "\nseeded {} tickets in {:.1} s; {} connections, {:?} per scenario",
        thousands(report.seeded),
        report.seed_time.as_secs_f64(),
        args.connections,
        args.duration
    );
    let _ = writeln!(out, "server process memory: {}", memory_text(report));
    let _ = writeln!(out, "\ntargets:");
    for (line, met) in verdicts(report).lines {
        let _ = writeln!(out, "  [{}] {line}", if met { "met" } else { "MISSED" });
    }
    out
}

fn render_markdown(
    report: &ApiReport,
    args: &ApiArgs,
    machine: &Machine,
    target: &Target,
) -> String {
    let backend = match target.backend() {
        "mongodb" => "MongoDB",
        _ => "SQLite",
    };
    let health_rps = report
        .scenarios
        .iter()
        .find(|s| s.name == "health")
        .map_or(0.0, |s| s.stats.requests_per_sec());
    let mut out = format!(
        "## REST API on {backend}: {} tickets, {} workspace{}\n\n",
        thousands(report.seeded),
        args.tenants,
        if args.tenants == 1 { "" } else { "s" }
    );
    out.push_str(&machine.markdown());
    let _ = writeln!(
        out,
        "- Store: {}. Seeded {} tickets with `create_many` in batches of {} in {:.1} s \
         ({:.0} tickets/s); at least {} tickets per workspace have status `{}`, so page {DEEP_PAGE} \
         {}.",
        target.describe(),
        thousands(report.seeded),
        args.batch,
        report.seed_time.as_secs_f64(),
        rate(report.seeded, report.seed_time),
        thousands(report.list_status_total_min),
        LIST_STATUS.as_str(),
        if report.list_status_total_min > (DEEP_PAGE - 1) * 25 {
            "is a full page"
        } else {
            "is empty or short"
        }
    );
    let _ = writeln!(
        out,
        "- Load: {} concurrent HTTP/1.1 keep-alive connections (reqwest, in the same process as \
         the server, sharing its cores), closed loop, {:?} warm-up then {:?} measured per \
         scenario; each request picks one of the {} workspaces and uses its admin's bearer \
         token. Latency is from sending the request to reading the whole answer (HDR histogram).",
        args.connections, args.warmup, args.duration, args.tenants
    );
    out.push_str(
        "\n| scenario | request | requests/s | % of health | p50 ms | p99 ms | max ms | non-2xx / failed | process CPU |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in &report.scenarios {
        let share =
            if health_rps > 0.0 { 100.0 * s.stats.requests_per_sec() / health_rps } else { 0.0 };
        let _ = writeln!(
            out,
            "| {} | `{}` | {:.0} | {:.0}% | {:.2} | {:.2} | {:.2} | {} / {} | {} |",
            s.name,
            s.request.replace('|', "\\|"),
            s.stats.requests_per_sec(),
            share,
            s.stats.quantile_ms(0.50),
            s.stats.quantile_ms(0.99),
            s.stats.max_ms(),
            s.stats.non_2xx,
            s.stats.failed,
            s.cpu.map_or_else(|| "–".to_owned(), |c| format!("{:.0}%", c * 100.0))
        );
    }
    out.push_str(
        "\n*Process CPU* is the CPU time the whole benchmark process (server and load generator) \
         used during the scenario, as a share of all cores: near 100% means the run was bound by \
         CPU, well below it means requests were waiting (locks, I/O).\n",
    );
    let _ = writeln!(
        out,
        "\nServer resident memory (the server runs in-process, so this is `/proc/self/status` of \
         the benchmark process, which also holds the load generator's few MiB): {}.",
        memory_text(report)
    );
    // Each connection has one request in flight when the window closes; say more only when
    // late answers are a real share of the scenario.
    for s in report.scenarios.iter().filter(|s| s.stats.late * 10 > s.stats.completed_in_window) {
        let _ = writeln!(
            out,
            "\n{}: {} requests sent inside the window were answered only after it ended; their \
             latencies are included, but not in requests/s.",
            s.name, s.stats.late
        );
    }
    let errors: Vec<_> = report.scenarios.iter().filter(|s| s.stats.errors() > 0).collect();
    if errors.is_empty() {
        out.push_str("\nEvery request was answered with a 2xx status.\n");
    } else {
        out.push_str("\n**This run had errors:**\n\n");
        for s in errors {
            let _ = writeln!(
                out,
                "- {}: {} non-2xx, {} without an answer; first: `{}`",
                s.name,
                s.stats.non_2xx,
                s.stats.failed,
                s.stats.first_error.as_deref().unwrap_or("").replace('`', "'")
            );
        }
    }
    out.push_str("\nTargets (2-core machine, load generator included):\n\n");
    for (line, met) in verdicts(report).lines {
        let _ = writeln!(out, "- {}: {line}", verdict(met));
    }
    if target.backend() == "mongodb" {
        out.push_str(
            "\nNote: if this MongoDB URI points at the SecantusDB test server used in development \
             and CI (an in-memory MongoDB-compatible server written in Python), these figures \
             measure that test server and the driver round trips; they say nothing about \
             MongoDB's own speed.\n",
        );
    }
    out
}

#[allow(clippy::cast_precision_loss)]
fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}
