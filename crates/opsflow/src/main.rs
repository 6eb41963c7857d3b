//! `opsflow`: the composition root. It only wires config → tracing → adapters → services → HTTP.

mod bench;
mod config;
mod eval;
mod seed;
mod wiring;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc malloc: glibc keeps argon2's 19 MiB working blocks in per-thread
/// arenas once its mmap threshold has risen, so resident memory grew by up to 300 MiB depending
/// on which threads hashed passwords; mimalloc gives them back (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// OpsFlow Agent Desk: a multi-tenant help desk with AI triage you can trust.
#[derive(Parser)]
#[command(name = "opsflow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (API at /api, web UI at /).
    Serve {
        /// Listen address (overrides OPSFLOW_BIND).
        #[arg(long)]
        bind: Option<String>,
        /// Database URL (overrides OPSFLOW_DATABASE_URL).
        #[arg(long)]
        database: Option<String>,
        /// Create the demo workspace first if it is missing.
        #[arg(long)]
        seed_demo: bool,
    },
    /// Create the demo workspace "Acme Agency" (idempotent) and print its logins.
    SeedDemo {
        /// Database URL (overrides OPSFLOW_DATABASE_URL).
        #[arg(long)]
        database: Option<String>,
    },
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Measure the server (use a release build: `cargo run --release -p opsflow -- bench …`).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// Measure triage quality on a labelled set: accuracy, macro-F1, confusion matrices.
    Eval(eval::EvalArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The REST API under concurrent load on a large seeded database.
    Api(bench::api::ApiArgs),
    /// The triage workflow's orchestration overhead and throughput against an LLM double.
    Triage(bench::triage::TriageArgs),
    /// The email outbox's send rate into a local SMTP server (run through
    /// `scripts/with-mail.sh`, which starts one).
    Mail(bench::mail_outbox::MailArgs),
}

fn main() -> ExitCode {
    // A missing .env is fine; a malformed one is reported.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: could not read .env: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Openapi => {
                println!("{}", opsflow_http::openapi_json());
                Ok(())
            }
            Command::Serve { bind, database, seed_demo } => {
                let config = config::Config::load(bind.as_deref(), database.as_deref())?;
                wiring::init_tracing(&config);
                wiring::serve(config, seed_demo).await
            }
            Command::Bench { which } => {
                bench::init_tracing();
                match which {
                    BenchCommand::Api(args) => bench::api::run(args).await,
                    BenchCommand::Triage(args) => bench::triage::run(args).await,
                    BenchCommand::Mail(args) => bench::mail_outbox::run(args).await,
                }
            }
            Command::Eval(args) => {
                bench::init_tracing();
                eval::run(args).await
            }
            Command::SeedDemo { database } => {
                let config = config::Config::load(None, database.as_deref())?;
                wiring::init_tracing(&config);
                wiring::seed_only(config).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
