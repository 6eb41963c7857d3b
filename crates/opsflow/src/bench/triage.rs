//! `opsflow bench triage`: the triage workflow against an LLM double that answers after a fixed
//! delay. Measures the orchestration overhead of synchronous runs (wall time minus the model time
//! on the run's critical path) at several concurrencies, and the throughput of queued runs with
//! worker pools of several sizes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt as _;
use opsflow_domain::{
    Channel, Email, PersonName, Ticket, TicketBody, TicketId, TicketStatus, TicketSubject,
    WorkflowRunId,
};
use opsflow_http::AppState;
use opsflow_llm::eval::percentile;
use opsflow_llm::{LlmSettings, Provider};
use opsflow_ports::repos::{Store, StoreAdmin as _, TicketRepository};
use opsflow_ports::services::worker::{TriageWorkerPool, WorkerConfig};
use secrecy::SecretString;
use serde_json::Value;

use super::corpus::Corpus;
use super::double::{Call, LlmDouble, TAG_PREFIX, critical_path};
use super::report::{Machine, process_cpu, upsert_section, verdict};
use super::{
    BenchTenant, Target, TestServer, create_tenants, deps, drop_mongo_database, http_client,
    login_all,
};

/// Model calls of a run that needs no repair and no regeneration.
const CALLS_PER_RUN: usize = 4;

/// Options of `opsflow bench triage`.
#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// The LLM double's delay per call, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub delay_ms: u64,
    /// Concurrent synchronous triages per batch (comma-separated levels).
    #[arg(long, value_delimiter = ',', default_value = "1,50,200")]
    pub concurrency: Vec<usize>,
    /// Worker pool sizes for the queued (async) mode (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub workers: Vec<usize>,
    /// Batches per concurrency level.
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Runs queued for each worker pool size.
    #[arg(long, default_value_t = 64)]
    pub async_runs: usize,
    /// Workspaces the tickets are spread over.
    #[arg(long, default_value_t = 4)]
    pub tenants: usize,
    /// Database URL for a fresh database (`sqlite://new-file.db` or `mongodb://…`); default: a
    /// new SQLite file in a temporary folder.
    #[arg(long)]
    pub database: Option<String>,
    /// The markdown file whose triage section is replaced with the results.
    #[arg(long, default_value = "docs/benchmarks.md")]
    pub docs: PathBuf,
    /// Print the results only; leave the docs alone.
    #[arg(long)]
    pub no_docs: bool,
}

/// One synchronous concurrency level.
struct SyncLevel {
    concurrency: usize,
    /// Wall time of each batch (first request sent to last answer read).
    batches: Vec<Duration>,
    /// Client-side wall time of each successful run.
    walls: Vec<Duration>,
    /// Model time on each successful run's critical path.
    model: Vec<Duration>,
    /// Wall minus model time.
    overhead: Vec<Duration>,
    /// Runs that failed or got no 200.
    failed: usize,
    /// First failure, for the report.
    first_failure: Option<String>,
    /// Runs whose model calls were not exactly the four expected ones.
    irregular_calls: usize,
    /// CPU time the whole process (server, client and double) used during the batches.
    cpu: Option<Duration>,
}

impl SyncLevel {
    fn runs(&self) -> usize {
        self.walls.len() + self.failed
    }

    /// Process CPU time per run, in milliseconds.
    #[allow(clippy::cast_precision_loss)]
    fn cpu_per_run_ms(&self) -> Option<f64> {
        let runs = self.runs();
        self.cpu.filter(|_| runs > 0).map(|c| ms(c) / runs as f64)
    }

    fn median_batch(&self) -> Duration {
        percentile(&self.batches, 0.5)
    }

    #[allow(clippy::cast_precision_loss)]
    fn throughput(&self) -> f64 {
        let busy: Duration = self.batches.iter().sum();
        self.walls.len() as f64 / busy.as_secs_f64().max(1e-9)
    }
}

/// One worker pool size of the async mode.
struct AsyncLevel {
    workers: usize,
    runs: usize,
    /// From starting the pool to the last run finished.
    drain: Duration,
    failed: usize,
    first_failure: Option<String>,
}

impl AsyncLevel {
    #[allow(clippy::cast_precision_loss)]
    fn throughput(&self) -> f64 {
        (self.runs - self.failed) as f64 / self.drain.as_secs_f64().max(1e-9)
    }
}

struct TriageReport {
    sync: Vec<SyncLevel>,
    asynchronous: Vec<AsyncLevel>,
}

/// Runs the benchmark and prints (and by default records) the results.
///
/// # Errors
/// Invalid options, a store, double or server that cannot start, or a docs file that cannot be
/// written.
pub async fn run(args: TriageArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.tenants > 0, "--tenants must be at least 1");
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    anyhow::ensure!(args.concurrency.iter().all(|c| *c > 0), "--concurrency levels must be > 0");
    anyhow::ensure!(args.workers.iter().all(|w| *w > 0), "--workers sizes must be > 0");
    let machine = Machine::now();
    machine.warn_if_debug();
    let delay = Duration::from_millis(args.delay_ms);
    let double = LlmDouble::start(delay).await?;
    let llm = opsflow_llm::build_client(&LlmSettings {
        provider: Provider::OpenAi,
        model: Some("bench-double".to_owned()),
        base_url: Some(double.base_url.clone()),
        api_key: Some(SecretString::from("bench")),
        ..LlmSettings::default()
    })
    .map_err(|e| anyhow::anyhow!("could not build the OpenAI client for the double: {e}"))?;
    let target = Target::new(args.database.as_deref())?;
    println!(
        "opsflow bench triage: LLM double at {} answering after {} ms; store: {} ({} build, {} cores)",
        double.base_url,
        args.delay_ms,
        target.describe(),
        machine.profile,
        machine.cores
    );
    let report = match &target {
        Target::Sqlite { url, .. } => {
            let store = Target::open_sqlite(url).await?;
            let report = bench(Arc::clone(&store), llm, &double, &args).await;
            store.close().await;
            report
        }
        Target::Mongo { .. } => {
            let store = target.open_mongo().await?;
            let report = bench(Arc::clone(&store), llm, &double, &args).await;
            drop_mongo_database(&store).await;
            store.close().await;
            report
        }
    };
    double.stop().await;
    let report = report?;
    println!("\n{}", render_text(&report, &args));
    if args.no_docs {
        println!("(--no-docs: {} left unchanged)", args.docs.display());
    } else {
        let section = render_markdown(&report, &args, &machine, &target);
        let key = format!("triage-{}", target.backend());
        upsert_section(&args.docs, "Benchmarks", &key, &section)?;
        println!("wrote the results to {}", args.docs.display());
    }
    Ok(())
}

/// Tickets created for runs, each tagged so the double can tell which run a call belongs to.
struct Tickets {
    tenants: Vec<BenchTenant>,
    corpus: Corpus,
    next_tag: u64,
}

impl Tickets {
    /// Creates `n` tickets spread over the tenants; returns (tenant index, ticket, tag).
    async fn create<S: TicketRepository>(
        &mut self,
        store: &S,
        n: usize,
    ) -> anyhow::Result<Vec<(usize, TicketId, u64)>> {
        let mut by_tenant: Vec<Vec<Ticket>> = vec![Vec::new(); self.tenants.len()];
        let mut out = Vec::with_capacity(n);
        let now = time::OffsetDateTime::now_utc();
        for i in 0..n {
            let t = i % self.tenants.len();
            let tenant = &self.tenants[t];
            let g = self.corpus.ticket();
            let tag = self.next_tag;
            self.next_tag += 1;
            let subject = format!("{} (ref {TAG_PREFIX}{tag:06})", g.subject);
            let ticket = Ticket {
                id: TicketId::new(),
                tenant_id: tenant.id(),
                number: 0,
                subject: TicketSubject::new(&subject)?,
                body: TicketBody::new(&g.body)?,
                channel: Channel::Email,
                status: TicketStatus::New,
                priority: None,
                category: None,
                customer_name: PersonName::new(&g.customer_name)?,
                customer_email: Email::parse(&g.customer_email)?,
                assignee_id: None,
                created_by_id: Some(tenant.admin.user_id()),
                created_at: now,
                updated_at: now,
            };
            out.push((t, ticket.id, tag));
            by_tenant[t].push(ticket);
        }
        for (t, tickets) in by_tenant.iter().enumerate() {
            store.create_many(&self.tenants[t].admin, tickets).await.context("creating tickets")?;
        }
        Ok(out)
    }
}

/// What one synchronous triage request gave.
struct SyncOutcome {
    tag: u64,
    wall: Duration,
    error: Option<String>,
}

async fn triage_sync(
    client: &reqwest::Client,
    base: &str,
    bearer: &str,
    ticket: TicketId,
    tag: u64,
) -> SyncOutcome {
    let started = Instant::now();
    let result = async {
        let response = client
            .post(format!("{base}/api/tickets/{ticket}/workflows/triage"))
            .header(reqwest::header::AUTHORIZATION, bearer)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| format!("reading the answer failed: {e}"))?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
        }
        let value: Value =
            serde_json::from_slice(&body).map_err(|e| format!("answer is not JSON: {e}"))?;
        match value.pointer("/workflow_run/status").and_then(Value::as_str) {
            Some("succeeded") => Ok(()),
            other => Err(format!(
                "run ended {}: {}",
                other.unwrap_or("without a status"),
                value.pointer("/workflow_run/error_message").unwrap_or(&Value::Null)
            )),
        }
    }
    .await;
    SyncOutcome { tag, wall: started.elapsed(), error: result.err() }
}

/// Opens `n` keep-alive connections to the server (concurrent health checks), so a batch does
/// not pay for connection set-up.
async fn warm_connections(client: &reqwest::Client, base: &str, n: usize) {
    let url = format!("{base}/api/health");
    futures::future::join_all((0..n).map(|_| async {
        if let Ok(r) = client.get(&url).send().await {
            let _ = r.bytes().await;
        }
    }))
    .await;
}

#[allow(clippy::too_many_lines)]
async fn bench<S: Store>(
    store: Arc<S>,
    llm: Arc<dyn opsflow_ports::llm::LlmClient>,
    double: &LlmDouble,
    args: &TriageArgs,
) -> anyhow::Result<TriageReport> {
    let state: Arc<AppState> = crate::wiring::app_state(Arc::clone(&store), deps(llm));
    let tenants = create_tenants(&state, store.as_ref(), args.tenants, 3).await?;
    let server = TestServer::start(Arc::clone(&state)).await?;
    let widest = args.concurrency.iter().copied().max().unwrap_or(1).max(32);
    let client = http_client(widest)?;
    let bearer: Vec<String> = login_all(&client, &server.base, &tenants)
        .await?
        .into_iter()
        .map(|t| format!("Bearer {t}"))
        .collect();
    let mut tickets = Tickets { tenants, corpus: Corpus::new(0x0721_9a6e), next_tag: 1 };

    // One unmeasured run: connections to the double, prepared statements and caches.
    for (t, id, tag) in tickets.create(store.as_ref(), 1).await? {
        let warm = triage_sync(&client, &server.base, &bearer[t], id, tag).await;
        if let Some(e) = warm.error {
            anyhow::bail!("the warm-up triage failed, so the set-up is broken: {e}");
        }
    }
    let _ = double.take_calls();

    let mut sync = Vec::new();
    for &c in &args.concurrency {
        warm_connections(&client, &server.base, c).await;
        let mut level = SyncLevel {
            concurrency: c,
            batches: Vec::new(),
            walls: Vec::new(),
            model: Vec::new(),
            overhead: Vec::new(),
            failed: 0,
            first_failure: None,
            irregular_calls: 0,
            cpu: Some(Duration::ZERO),
        };
        for round in 0..args.rounds {
            let batch = tickets.create(store.as_ref(), c).await?;
            let cpu_before = process_cpu();
            let started = Instant::now();
            let outcomes =
                futures::future::join_all(batch.iter().map(|(t, id, tag)| {
                    triage_sync(&client, &server.base, &bearer[*t], *id, *tag)
                }))
                .await;
            level.batches.push(started.elapsed());
            let used = cpu_before.zip(process_cpu()).map(|(b, a)| a.saturating_sub(b));
            level.cpu = level.cpu.zip(used).map(|(sum, u)| sum + u);
            let calls = double.take_calls();
            account(&mut level, outcomes, &calls);
            println!(
                "sync  c={c:<4} round {}/{}: batch {:>7.1} ms",
                round + 1,
                args.rounds,
                ms(*level.batches.last().unwrap_or(&Duration::ZERO))
            );
        }
        println!(
            "sync  c={c:<4} overhead p50 {:.2} ms, p99 {:.2} ms; {} failed",
            ms(percentile(&level.overhead, 0.5)),
            ms(percentile(&level.overhead, 0.99)),
            level.failed
        );
        sync.push(level);
    }

    let mut asynchronous = Vec::new();
    for &w in &args.workers {
        asynchronous.push(
            async_level(&state, &client, &server.base, &bearer, &mut tickets, &store, w, args)
                .await?,
        );
        let _ = double.take_calls();
    }
    server.stop().await?;
    Ok(TriageReport { sync, asynchronous })
}

/// Records a batch's outcomes with the model time the double measured for each run.
fn account(
    level: &mut SyncLevel,
    outcomes: Vec<SyncOutcome>,
    calls: &HashMap<Option<u64>, Vec<Call>>,
) {
    for o in outcomes {
        if let Some(e) = o.error {
            level.failed += 1;
            level.first_failure.get_or_insert(e);
            continue;
        }
        let run_calls = calls.get(&Some(o.tag)).map_or(&[][..], Vec::as_slice);
        if run_calls.len() != CALLS_PER_RUN {
            level.irregular_calls += 1;
        }
        let model = critical_path(run_calls);
        level.walls.push(o.wall);
        level.model.push(model);
        level.overhead.push(o.wall.saturating_sub(model));
    }
}

/// Queues `args.async_runs` runs with no worker running, then starts a pool of `workers` and
/// times how long it takes to finish them all.
#[allow(clippy::too_many_arguments)]
async fn async_level<S: Store>(
    state: &Arc<AppState>,
    client: &reqwest::Client,
    base: &str,
    bearer: &[String],
    tickets: &mut Tickets,
    store: &Arc<S>,
    workers: usize,
    args: &TriageArgs,
) -> anyhow::Result<AsyncLevel> {
    let batch = tickets.create(store.as_ref(), args.async_runs).await?;
    let queued: Vec<anyhow::Result<(usize, WorkflowRunId)>> = futures::stream::iter(batch)
        .map(|(t, id, _)| async move {
            let response = client
                .post(format!("{base}/api/tickets/{id}/workflows/triage?async=true"))
                .header(reqwest::header::AUTHORIZATION, &bearer[t])
                .send()
                .await?;
            let status = response.status();
            let body: Value = response.json().await?;
            anyhow::ensure!(status.as_u16() == 202, "queueing answered {status}: {body}");
            let run = body
                .pointer("/workflow_run/id")
                .and_then(Value::as_str)
                .context("the 202 answer has no workflow_run.id")?;
            Ok((t, WorkflowRunId::parse(run)?))
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let mut pending = queued.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let runs = pending.len();

    let started = Instant::now();
    let pool = TriageWorkerPool::spawn(
        Arc::clone(&state.triage),
        Arc::clone(store) as Arc<dyn opsflow_ports::repos::RunQueue>,
        &WorkerConfig { size: workers, poll_interval: Duration::from_millis(100) },
    );
    let limit = Duration::from_millis(args.delay_ms.saturating_mul(8))
        * u32::try_from(runs).unwrap_or(u32::MAX)
        + Duration::from_secs(60);
    let mut failed = 0;
    let mut first_failure = None;
    // Runs are claimed oldest first, so they finish roughly in queue order: look at the front
    // of the list until it is still active (a cheap poll that does not slow the workers down).
    while !pending.is_empty() {
        anyhow::ensure!(
            started.elapsed() < limit,
            "{} queued runs were not finished after {:?}",
            pending.len(),
            limit
        );
        let mut still = Vec::with_capacity(pending.len());
        let mut blocked = false;
        for (t, run_id) in pending {
            if blocked {
                still.push((t, run_id));
                continue;
            }
            let run = state.runs.run(&tickets.tenants[t].admin, run_id).await?;
            if run.status.is_active() {
                blocked = true;
                still.push((t, run_id));
            } else if run.status != opsflow_domain::RunStatus::Succeeded {
                failed += 1;
                first_failure.get_or_insert(run.error_message.unwrap_or_default());
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let drain = started.elapsed();
    pool.shutdown().await;
    let level = AsyncLevel { workers, runs, drain, failed, first_failure };
    println!(
        "async workers={workers:<3} {runs} runs in {:.2} s: {:.1} runs/s; {} failed",
        drain.as_secs_f64(),
        level.throughput(),
        failed
    );
    Ok(level)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Verdicts {
    lines: Vec<(String, bool)>,
}

fn verdicts(report: &TriageReport) -> Verdicts {
    let mut lines = Vec::new();
    for level in &report.sync {
        let p99 = ms(percentile(&level.overhead, 0.99));
        lines.push((
            format!(
                "orchestration overhead p99 at {} concurrent: {p99:.2} ms ≤ 10 ms",
                level.concurrency
            ),
            p99 <= 10.0 && !level.overhead.is_empty(),
        ));
    }
    let single = report.sync.iter().find(|l| l.concurrency == 1);
    let wide = report.sync.iter().find(|l| l.concurrency == 200);
    if let (Some(single), Some(wide)) = (single, wide) {
        let ratio =
            wide.median_batch().as_secs_f64() / single.median_batch().as_secs_f64().max(1e-9);
        lines.push((
            format!(
                "200 concurrent sync triages finish in {:.1} ms = {ratio:.2}× a single triage's {:.1} ms (≤ 1.25×)",
                ms(wide.median_batch()),
                ms(single.median_batch())
            ),
            ratio <= 1.25 && wide.failed == 0,
        ));
    }
    let grows = report
        .asynchronous
        .windows(2)
        .all(|w| w[1].workers <= w[0].workers || w[1].throughput() > w[0].throughput());
    if report.asynchronous.len() > 1 {
        let figures: Vec<String> = report
            .asynchronous
            .iter()
            .map(|l| format!("{} workers {:.1}/s", l.workers, l.throughput()))
            .collect();
        lines
            .push((format!("async throughput grows with the pool: {}", figures.join(", ")), grows));
    }
    for level in &report.sync {
        if level.failed > 0 {
            lines.push((
                format!("{} sync runs failed at {} concurrent", level.failed, level.concurrency),
                false,
            ));
        }
    }
    for level in &report.asynchronous {
        if level.failed > 0 {
            lines.push((
                format!("{} queued runs failed with {} workers", level.failed, level.workers),
                false,
            ));
        }
    }
    Verdicts { lines }
}

fn render_text(report: &TriageReport, args: &TriageArgs) -> String {
    let mut out = format!(
        "synchronous (POST /api/tickets/{{id}}/workflows/triage), double delay {} ms, {} rounds\n\
         {:>6}{:>6}{:>12}{:>10}{:>11}{:>11}{:>11}{:>11}{:>11}{:>9}{:>8}\n",
        args.delay_ms,
        args.rounds,
        "conc",
        "runs",
        "batch p50",
        "runs/s",
        "wall p50",
        "wall p99",
        "model",
        "ovh p50",
        "ovh p99",
        "cpu/run",
        "failed"
    );
    for l in &report.sync {
        let _ = writeln!(
            out,
            "{:>6}{:>6}{:>10.1}ms{:>10.1}{:>9.1}ms{:>9.1}ms{:>9.1}ms{:>9.2}ms{:>9.2}ms{:>7.1}ms{:>8}",
            l.concurrency,
            l.runs(),
            ms(l.median_batch()),
            l.throughput(),
            ms(percentile(&l.walls, 0.5)),
            ms(percentile(&l.walls, 0.99)),
            ms(percentile(&l.model, 0.5)),
            ms(percentile(&l.overhead, 0.5)),
            ms(percentile(&l.overhead, 0.99)),
            l.cpu_per_run_ms().unwrap_or(0.0),
            l.failed
        );
        if let Some(e) = &l.first_failure {
            let _ = writeln!(out, "      first failure: {e}");
        }
    }
    let _ = writeln!(out, "\nasync (?async=true, then a worker pool drains the queue)");
    let _ = writeln!(
        out,
        "{:>8}{:>6}{:>10}{:>10}{:>10}",
        "workers", "runs", "drain s", "runs/s", "ideal/s"
    );
    for l in &report.asynchronous {
        let _ = writeln!(
            out,
            "{:>8}{:>6}{:>10.2}{:>10.1}{:>10.1}",
            l.workers,
            l.runs,
            l.drain.as_secs_f64(),
            l.throughput(),
            ideal(l, args)
        );
        if let Some(e) = &l.first_failure {
            let _ = writeln!(out, "      first failure: {e}");
        }
    }
    let _ = writeln!(out, "\ntargets:");
    for (line, met) in verdicts(report).lines {
        let _ = writeln!(out, "  [{}] {line}", if met { "met" } else { "MISSED" });
    }
    out
}

/// Runs per second if orchestration cost nothing: each worker finishes one run per three model
/// delays.
#[allow(clippy::cast_precision_loss)]
fn ideal(level: &AsyncLevel, args: &TriageArgs) -> f64 {
    let per_run = 3.0 * args.delay_ms as f64 / 1000.0;
    level.workers.min(level.runs) as f64 / per_run.max(1e-9)
}

fn render_markdown(
    report: &TriageReport,
    args: &TriageArgs,
    machine: &Machine,
    target: &Target,
) -> String {
    let backend = if target.backend() == "mongodb" { "MongoDB" } else { "SQLite" };
    let mut out = format!("## AI triage workflow against an LLM double, on {backend}\n\n");
    out.push_str(&machine.markdown());
    let _ = writeln!(
        out,
        "- Store: {}. {} workspaces with an admin and 3 agents each; every run gets its own new \
         ticket.\n- Model: an in-process OpenAI-compatible HTTP double on 127.0.0.1 that answers \
         each Chat Completions call with valid JSON for its schema after {} ms; the server uses \
         the real `openai` provider (reqwest, JSON-schema response format) pointed at it. A run \
         makes 4 calls: classification → priority, with the assignee suggestion beside them, \
         then the reply draft, so its model time is 3 × {} ms when nothing is retried.\n- \
         **Overhead** = the client's wall time for `POST /api/tickets/{{id}}/workflows/triage` \
         minus the model time on the run's critical path, as measured by the double itself \
         (from receiving each call to answering it). It covers HTTP in and out, auth, the \
         store writes (run, 4 step records, the atomic persist), prompt building and \
         validation, and the provider's HTTP round trips.",
        target.describe(),
        args.tenants,
        args.delay_ms,
        args.delay_ms
    );
    let _ = writeln!(
        out,
        "\n### Synchronous runs ({} batches per level; all runs of a batch start together)\n\n\
         | concurrent triages | runs | batch wall p50 ms | × single | runs/s | run wall p50 / p99 ms | model time p50 ms | overhead p50 / p99 / max ms | CPU ms per run | failed |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        args.rounds
    );
    let single = report.sync.iter().find(|l| l.concurrency == 1).map(SyncLevel::median_batch);
    for l in &report.sync {
        let times = single.map_or_else(
            || "–".to_owned(),
            |s| format!("{:.2}", l.median_batch().as_secs_f64() / s.as_secs_f64().max(1e-9)),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {times} | {:.1} | {:.1} / {:.1} | {:.1} | {:.2} / {:.2} / {:.2} | {} | {} |",
            l.concurrency,
            l.runs(),
            ms(l.median_batch()),
            l.throughput(),
            ms(percentile(&l.walls, 0.5)),
            ms(percentile(&l.walls, 0.99)),
            ms(percentile(&l.model, 0.5)),
            ms(percentile(&l.overhead, 0.5)),
            ms(percentile(&l.overhead, 0.99)),
            ms(percentile(&l.overhead, 1.0)),
            l.cpu_per_run_ms().map_or_else(|| "–".to_owned(), |c| format!("{c:.1}")),
            l.failed
        );
    }
    out.push_str(
        "\n*CPU ms per run* is the CPU time the whole process (server, load generator and LLM \
         double share it) used during the batches, divided by the runs. Times the runs of a \
         batch and divided by the cores, it is the least time the batch's non-model work takes \
         when all runs start together.\n",
    );
    let irregular: usize = report.sync.iter().map(|l| l.irregular_calls).sum();
    if irregular > 0 {
        let _ = writeln!(
            out,
            "\n{irregular} runs made other than exactly 4 model calls (a repair, regeneration or \
             retry); their extra model time is counted as model time."
        );
    }
    let _ = writeln!(
        out,
        "\n### Queued runs (`?async=true`): {} runs queued, then a worker pool drains them\n\n\
         | worker pool | runs | drain time s | runs/s | × 1 worker | model-bound ideal runs/s | failed |\n\
         |---:|---:|---:|---:|---:|---:|---:|",
        args.async_runs
    );
    let base = report.asynchronous.first().map(AsyncLevel::throughput);
    for l in &report.asynchronous {
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.1} | {} | {:.1} | {} |",
            l.workers,
            l.runs,
            l.drain.as_secs_f64(),
            l.throughput(),
            base.map_or_else(|| "–".to_owned(), |b| format!("{:.2}", l.throughput() / b.max(1e-9))),
            ideal(l, args),
            l.failed
        );
    }
    let failures: Vec<String> = report
        .sync
        .iter()
        .filter_map(|l| l.first_failure.as_ref().map(|e| format!("sync c={}: {e}", l.concurrency)))
        .chain(report.asynchronous.iter().filter_map(|l| {
            l.first_failure.as_ref().map(|e| format!("async workers={}: {e}", l.workers))
        }))
        .collect();
    if failures.is_empty() {
        out.push_str("\nEvery run succeeded.\n");
    } else {
        out.push_str("\n**This run had failures:**\n\n");
        for f in failures {
            let _ = writeln!(out, "- `{}`", f.replace('`', "'"));
        }
    }
    out.push_str("\nTargets:\n\n");
    for (line, met) in verdicts(report).lines {
        let _ = writeln!(out, "- {}: {line}", verdict(met));
    }
    out
}
