//! `opsflow`: the composition root. It only wires config → tracing → adapters → services → HTTP.

mod config;
mod seed;
mod wiring;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    // A missing .env is fine; a malformed one is reported.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: could not read .env: {e}");
            return ExitCode::from(2);
        }
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
