//! `opsflow eval`: runs the triage workflow with a configured provider over a labelled set and
//! reports accuracy, macro-F1 and confusion matrices for category and priority, with latency and
//! tokens.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::wiring::{Deps, app_state};
use anyhow::Context as _;
use futures::StreamExt as _;
use opsflow_adapters::security::{Argon2Hasher, JwtTokens, generate_secret};
use opsflow_adapters::sqlite::SqliteStore;
use opsflow_domain::{
    Channel, Email, Password, PersonName, Policies, Role, RunStatus, StepType, TenantName,
    TenantScope, TicketBody, TicketSubject, User, UserId,
};
use opsflow_http::AppState;
use opsflow_llm::eval::{EvalReport, LabelledTicket, load_path, parse_jsonl};
use opsflow_llm::{LlmSettings, Provider};
use opsflow_ports::auth::SystemClock;
use opsflow_ports::llm::TokenUsage;
use opsflow_ports::repos::{StoreAdmin as _, UserRepository};
use opsflow_ports::services::auth::SignupInput;
use opsflow_ports::services::tenant::TenantPatch;
use opsflow_ports::services::throttle::LoginLimits;
use opsflow_ports::services::tickets::NewTicket;
use opsflow_ports::services::triage::TriageConfig;
use secrecy::SecretString;

use crate::bench::report::{Machine, upsert_section, verdict};

/// The held-out split, relative to the repository root.
const DEFAULT_DATA: &str = "crates/llm/data/heldout.jsonl";
/// Target macro-F1 for the category.
const CATEGORY_TARGET: f64 = 0.80;
/// Target macro-F1 for the priority.
const PRIORITY_TARGET: f64 = 0.70;

const POLICIES: &str = "Be warm and concise. Never promise refunds, credits, discounts or \
delivery dates: billing changes are confirmed by the billing team. Urgent outages are escalated \
to the on-call engineer.";

/// Options of `opsflow eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Labelled set: `.jsonl` or `.csv` with subject, body, category and priority. Default: the
    /// LLM crate's held-out split (crates/llm/data/heldout.jsonl), which the offline engine is
    /// not trained on.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Provider: offline, openai or anthropic (default: OPSFLOW_LLM_PROVIDER, else offline).
    /// The key comes from OPSFLOW_LLM_API_KEY, never from a flag.
    #[arg(long)]
    pub provider: Option<String>,
    /// Model (default: OPSFLOW_LLM_MODEL, else the provider's default).
    #[arg(long)]
    pub model: Option<String>,
    /// Base URL of the provider's API (default: OPSFLOW_LLM_BASE_URL, else the public API).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Triages in flight at once (useful for remote providers).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Evaluate only the first N items.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Also write the figures into this markdown file (one section per provider), e.g.
    /// docs/triage-quality.md.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Runs the evaluation and prints the report.
///
/// # Errors
/// Invalid settings, an unreadable data set, or a store that cannot be created.
pub async fn run(args: EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let machine = Machine::now();
    let settings = settings(&args)?;
    let llm = opsflow_llm::build_client(&settings)
        .map_err(|e| anyhow::anyhow!("invalid LLM settings: {e}"))?;
    let provider = llm.provider().to_owned();
    let model = llm.model().to_owned();
    let path = data_path(args.data.as_deref());
    let mut items = load_path(&path).with_context(|| format!("loading {}", path.display()))?;
    if let Some(limit) = args.limit {
        items.truncate(limit);
    }
    anyhow::ensure!(!items.is_empty(), "{} holds no labelled tickets", path.display());
    let overlap = training_overlap(&items);
    println!(
        "opsflow eval: {} tickets from {} with provider {provider} (model {model}), full triage \
         workflow on a scratch in-memory store",
        items.len(),
        path.display()
    );
    if provider == "offline" {
        println!("items also in the offline engine's training data: {overlap}");
    }

    let store = Arc::new(
        SqliteStore::connect("sqlite::memory:")
            .await
            .context("could not open the scratch store")?,
    );
    let state = app_state(Arc::clone(&store), deps(llm)?);
    let scope = workspace(&state, store.as_ref()).await?;
    let started = Instant::now();
    let outcomes: Vec<Outcome> = futures::stream::iter(items.iter())
        .map(|item| triage(&state, &scope, item))
        .buffered(args.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    store.close().await;

    let mut report = EvalReport::new();
    for (item, outcome) in items.iter().zip(outcomes) {
        match outcome.prediction {
            Ok((category, priority)) => {
                report.record(item, category, priority, outcome.latency, outcome.usage);
                report.record_confidence(item, (category, priority), outcome.confidence);
            }
            Err(why) => report.record_failure(why, outcome.latency, outcome.usage),
        }
    }
    println!("\n{}", report.render());
    let category_f1 = report.category.macro_f1();
    let priority_f1 = report.priority.macro_f1();
    println!(
        "targets: category macro-F1 {category_f1:.3} ≥ {CATEGORY_TARGET:.2} [{}], priority \
         macro-F1 {priority_f1:.3} ≥ {PRIORITY_TARGET:.2} [{}]",
        if category_f1 >= CATEGORY_TARGET { "met" } else { "MISSED" },
        if priority_f1 >= PRIORITY_TARGET { "met" } else { "MISSED" },
    );
    println!("wall time {:.1} s", elapsed.as_secs_f64());
    for failure in report.failures.iter().take(5) {
        println!("failed: {failure}");
    }
    if let Some(doc) = &args.report {
        let facts = Facts {
            provider: &provider,
            model: &model,
            path: &path,
            items: &items,
            overlap,
            machine: &machine,
        };
        upsert_section(
            doc,
            "Triage quality",
            &format!("eval-{provider}"),
            &markdown(&report, &facts),
        )?;
        println!("wrote the figures to {}", doc.display());
    }
    Ok(())
}

/// The provider settings: `OPSFLOW_LLM_*` from the environment, then the flags.
fn settings(args: &EvalArgs) -> anyhow::Result<LlmSettings> {
    let mut settings = crate::config::Config::load(None, Some("sqlite::memory:"))?.llm;
    if let Some(p) = &args.provider {
        let provider = p.parse::<Provider>().map_err(|e| anyhow::anyhow!("--provider: {e}"))?;
        if provider != settings.provider {
            // A model or base URL configured for another provider would not exist at this one.
            settings.model = None;
            settings.base_url = None;
        }
        settings.provider = provider;
    }
    if let Some(m) = &args.model {
        settings.model = Some(m.clone());
    }
    if let Some(u) = &args.base_url {
        settings.base_url = Some(u.clone());
    }
    Ok(settings)
}

/// The data set: the flag, else the held-out split from the repository root, else from the
/// source tree this binary was built from.
fn data_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    let relative = PathBuf::from(DEFAULT_DATA);
    if relative.exists() {
        return relative;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../llm/data/heldout.jsonl")
}

/// How many evaluated items appear (same subject and body) in the offline engine's training data.
fn training_overlap(items: &[LabelledTicket]) -> usize {
    let training: HashSet<(String, String)> = parse_jsonl(opsflow_llm::offline::TRAINING_DATA)
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.subject, t.body))
        .collect();
    items.iter().filter(|t| training.contains(&(t.subject.clone(), t.body.clone()))).count()
}

fn deps(llm: Arc<dyn opsflow_ports::llm::LlmClient>) -> anyhow::Result<Deps> {
    // Cheap hashing: the scratch workspace's password protects nothing.
    let hasher = Argon2Hasher::with_params(8 * 1024, 1, 1)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Deps {
        hasher: Arc::new(hasher),
        tokens: Arc::new(JwtTokens::new(
            &SecretString::from(generate_secret()),
            time::Duration::hours(1),
        )),
        llm,
        clock: Arc::new(SystemClock),
        triage: TriageConfig::default(),
        login: LoginLimits::default(),
        trust_forwarded_for: false,
        redactor: None,
        inbound: crate::wiring::scratch_inbound_deps(),
        outbound: Arc::new(opsflow_ports::services::outbox::NoOutboundMail),
        threads: Arc::new(opsflow_ports::services::outbox::NoThreadIds),
        cipher: crate::wiring::ephemeral_cipher(),
        webhooks: crate::wiring::webhook_deps(false, 0),
    })
}

/// A scratch workspace with policies and two agents, like a small agency.
async fn workspace(state: &AppState, store: &SqliteStore) -> anyhow::Result<TenantScope> {
    let password = Password::new("Eval-Quarry-Lantern-3904")?;
    let session = state
        .auth
        .signup(
            SignupInput {
                tenant_name: TenantName::new("Eval Agency")?,
                user_name: PersonName::new("Eval Admin")?,
                email: Email::parse("admin@eval.example")?,
                password: opsflow_ports::password_policy::NewPassword::new(password.expose(), &[])?,
                additional_workspace: true,
            },
            None,
        )
        .await?;
    let ctx = state.auth.authenticate(&session.access_token).await?;
    let scope = ctx.scope;
    state
        .tenants
        .update(&ctx, TenantPatch { name: None, policies: Some(Policies::new(POLICIES)?) })
        .await?;
    let hash = state.system.hash_password(&password).await?;
    for (name, email) in [("Sam Rivera", "sam@eval.example"), ("Priya Shah", "priya@eval.example")]
    {
        let now = state.system.now();
        let user = User {
            id: UserId::new(),
            tenant_id: session.tenant.id,
            name: PersonName::new(name)?,
            email: Email::parse(email)?,
            password_hash: hash.clone(),
            role: Role::Agent,
            active: true,
            must_change_password: false,
            created_at: now,
            updated_at: now,
        };
        UserRepository::create(store, &scope, &user).await?;
    }
    Ok(scope)
}

struct Outcome {
    prediction: Result<(opsflow_domain::Category, opsflow_domain::Priority), String>,
    /// The confidences the classification and priority steps stated, if any.
    confidence: (Option<f64>, Option<f64>),
    latency: Duration,
    usage: TokenUsage,
}

/// Creates the item as a ticket and triages it synchronously.
async fn triage(state: &AppState, scope: &TenantScope, item: &LabelledTicket) -> Outcome {
    let failed = |why: String| Outcome {
        prediction: Err(why),
        confidence: (None, None),
        latency: Duration::ZERO,
        usage: TokenUsage::default(),
    };
    let input = (|| {
        Ok::<_, anyhow::Error>(NewTicket {
            subject: TicketSubject::new(&item.subject)?,
            body: TicketBody::new(&item.body)?,
            channel: Channel::Email,
            customer_name: PersonName::new("Eval Customer")?,
            customer_email: Email::parse("customer@eval.example")?,
        })
    })();
    let input = match input {
        Ok(i) => i,
        Err(e) => return failed(format!("{:?}: not a valid ticket: {e}", item.subject)),
    };
    let ticket = match state.tickets.create(scope, input).await {
        Ok(t) => t,
        Err(e) => return failed(format!("{:?}: could not create the ticket: {e}", item.subject)),
    };
    let started = Instant::now();
    let result = state.triage.run_sync(scope, ticket.id).await;
    let latency = started.elapsed();
    match result {
        Ok(r) => {
            let usage = r.steps.iter().fold(TokenUsage::default(), |acc, s| {
                acc.plus(TokenUsage {
                    prompt_tokens: s.prompt_tokens,
                    completion_tokens: s.completion_tokens,
                })
            });
            let prediction = match (r.run.status, r.ticket.category, r.ticket.priority) {
                (RunStatus::Succeeded, Some(c), Some(p)) => Ok((c, p)),
                _ => Err(format!(
                    "{:?}: run {}: {}",
                    item.subject,
                    r.run.status,
                    r.run.error_message.unwrap_or_default()
                )),
            };
            let stated = |step: StepType| {
                r.steps
                    .iter()
                    .rev()
                    .find(|s| s.step_type == step && s.succeeded)
                    .and_then(|s| s.output_snapshot.get("confidence"))
                    .and_then(serde_json::Value::as_f64)
            };
            let confidence = (stated(StepType::Classification), stated(StepType::Priority));
            Outcome { prediction, confidence, latency, usage }
        }
        Err(e) => Outcome {
            prediction: Err(format!("{:?}: {e}", item.subject)),
            confidence: (None, None),
            latency,
            usage: TokenUsage::default(),
        },
    }
}

struct Facts<'a> {
    provider: &'a str,
    model: &'a str,
    path: &'a Path,
    items: &'a [LabelledTicket],
    overlap: usize,
    machine: &'a Machine,
}

fn markdown(report: &EvalReport, f: &Facts<'_>) -> String {
    let category_f1 = report.category.macro_f1();
    let priority_f1 = report.priority.macro_f1();
    let mut out = format!(
        "## `{}` provider (model `{}`) on `{}`: {} tickets\n\n",
        f.provider,
        f.model,
        f.path.display(),
        f.items.len()
    );
    let _ = writeln!(
        out,
        "- Command: `{}`\n- Date: {}; build profile: {}\n- Mode: the full triage workflow \
         (classification → priority, assignee, reply draft, persist) for each ticket on a scratch \
         in-memory SQLite store; category and priority are read from the triaged ticket.",
        f.machine.command, f.machine.date, f.machine.profile
    );
    if f.provider == "offline" {
        let _ = writeln!(
            out,
            "- Items that also appear in the offline engine's training data: {}.",
            f.overlap
        );
    }
    let _ = writeln!(
        out,
        "- Labels: categories {}; priorities {}.",
        distribution(f.items, true),
        distribution(f.items, false)
    );
    let _ = writeln!(
        out,
        "\n| | accuracy | macro-F1 | target (macro-F1) | |\n|---|---:|---:|---:|---|\n\
         | category | {:.3} | {category_f1:.3} | ≥ {CATEGORY_TARGET:.2} | {} |\n\
         | priority | {:.3} | {priority_f1:.3} | ≥ {PRIORITY_TARGET:.2} | {} |",
        report.category.accuracy(),
        verdict(category_f1 >= CATEGORY_TARGET),
        report.priority.accuracy(),
        verdict(priority_f1 >= PRIORITY_TARGET),
    );
    for (title, matrix) in [("Category", &report.category), ("Priority", &report.priority)] {
        let _ = writeln!(
            out,
            "\n### {title}\n\n| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|"
        );
        for m in matrix.per_class() {
            let _ = writeln!(
                out,
                "| {} | {:.3} | {:.3} | {:.3} | {} |",
                m.label, m.precision, m.recall, m.f1, m.support
            );
        }
        let _ = writeln!(
            out,
            "\nConfusion matrix (rows: expected, columns: predicted):\n\n```text\n{}```",
            matrix.render()
        );
    }
    for (name, samples) in
        [("Category", &report.category_confidence), ("Priority", &report.priority_confidence)]
    {
        if samples.is_empty() {
            let _ = writeln!(out, "\n### {name} confidence\n\nNot given by this provider.");
            continue;
        }
        let cal = opsflow_llm::eval::calibration(samples, 5);
        let source = if f.provider == "offline" {
            "the offline engine's probability, temperature-calibrated by five-fold \
             cross-validation on the training split"
        } else {
            "the model's own estimate (self-reported, not calibrated)"
        };
        let _ = writeln!(
            out,
            "\n### {name} confidence\n\nConfidence is {source}. Expected calibration error \
             **{:.3}** (mean confidence {:.3}, accuracy {:.3}).\n\n| Confidence | Predictions | \
             Mean confidence | Accuracy |\n|---|---:|---:|---:|",
            cal.ece, cal.mean_confidence, cal.accuracy
        );
        for b in &cal.bins {
            let (conf, acc) = if b.count > 0 {
                (format!("{:.3}", b.mean_confidence), format!("{:.3}", b.accuracy))
            } else {
                ("—".to_owned(), "—".to_owned())
            };
            let _ =
                writeln!(out, "| {:.1}–{:.1} | {} | {conf} | {acc} |", b.lower, b.upper, b.count);
        }
    }
    let _ = writeln!(
        out,
        "\nLatency per ticket (the whole workflow, store writes included): p50 {:.1} ms, p99 {:.1} \
         ms. Tokens: {} prompt, {} completion{}. Failed items: {}.",
        report.latency_quantile(0.5).as_secs_f64() * 1000.0,
        report.latency_quantile(0.99).as_secs_f64() * 1000.0,
        report.usage.prompt_tokens,
        report.usage.completion_tokens,
        if f.provider == "offline" {
            " (the offline engine is not a language model and spends none)"
        } else {
            ""
        },
        report.failures.len()
    );
    out
}

/// `bug 30, billing 20, …` for the expected labels.
fn distribution(items: &[LabelledTicket], category: bool) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in items {
        let label = if category { t.category.as_str() } else { t.priority.as_str() };
        *counts.entry(label).or_default() += 1;
    }
    counts.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", ")
}
