//! Builds adapters and services from the config and runs the server.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use opsflow_adapters::cipher::AesGcmCipher;
use opsflow_adapters::mongo::{MongoSettings, MongoStore};
use opsflow_adapters::security::{Argon2Hasher, JwtTokens, generate_secret};
use opsflow_adapters::sqlite::SqliteStore;
use opsflow_adapters::webhook_http::{ReqwestWebhookSender, SystemResolver};
use opsflow_http::AppState;
use opsflow_http::metrics::{Metrics, PrometheusObserver};
use opsflow_mail::intake::MimeParser;
use opsflow_mail::{ImapFetcher, SmtpSender};
use opsflow_ports::auth::{Clock, PasswordHasher, SystemClock, TokenService};
use opsflow_ports::cipher::SecretCipher;
use opsflow_ports::llm::LlmClient;
use opsflow_ports::mail_intake::MailIntake;
use opsflow_ports::repos::Store;
use opsflow_ports::services::inbound_mail::{InboundMailConfig, InboundMailDeps, NoOwnAddresses};
use opsflow_ports::services::mail_poller::{MailPoller, MailPollerConfig, MailPollerHandle};
use opsflow_ports::services::mailbox::{MailboxAddresses, MailboxOutbound};
use opsflow_ports::services::outbox::ArchivedThreadIds;
use opsflow_ports::services::outbox::{
    NoOutboundMail, NoThreadIds, OutboundConfigSource, OutboxConfig, OutboxWorker,
    OutboxWorkerPool, ThreadIdSource,
};
use opsflow_ports::services::throttle::LoginLimits;
use opsflow_ports::services::triage::{TextRedactor, TriageConfig};
use opsflow_ports::services::webhooks::{WebhookConfig, WebhookDeps, WebhookWorkerPool};
use opsflow_ports::services::worker::{TriageWorkerPool, WorkerConfig};
use opsflow_ports::services::{ServiceDeps, Services};
use secrecy::{ExposeSecret as _, SecretString};
use tracing_subscriber::EnvFilter;

use crate::config::{
    Config, DatabaseConfig, JWT_SECRET_FILE, LogFormat, SECRET_KEY_FILE, secret_path,
};

/// Installs the global tracing subscriber.
pub fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Pretty => builder.init(),
    }
}

/// The non-store ports, as configured.
pub struct Deps {
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Access tokens.
    pub tokens: Arc<dyn TokenService>,
    /// The model provider.
    pub llm: Arc<dyn LlmClient>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Triage settings.
    pub triage: TriageConfig,
    /// Login, sign-up and password throttle limits.
    pub login: LoginLimits,
    /// The server is behind a trusted reverse proxy: take the client address from the
    /// left-most `X-Forwarded-For` entry instead of the peer address.
    pub trust_forwarded_for: bool,
    /// Rewrites triage prompts before they are sent and recorded (personal-data redaction).
    pub redactor: Option<TextRedactor>,
    /// Inbound email: parser, secret cipher, own addresses, size limit.
    pub inbound: InboundMailDeps,
    /// Where each workspace's outbound mail goes: [`NoOutboundMail`] (replies recorded, not
    /// emailed) for scratch stores; the server uses the workspaces' mailboxes.
    pub outbound: Arc<dyn OutboundConfigSource>,
    /// The Message-IDs of a ticket's email thread ([`NoThreadIds`] for scratch stores; the server
    /// reads the mail archive).
    pub threads: Arc<dyn ThreadIdSource>,
    /// Seals secrets stored at rest (mailbox passwords, webhook signing secrets).
    pub cipher: Arc<dyn SecretCipher>,
    /// Webhook delivery: resolver, HTTP sender, SSRF policy, workers.
    pub webhooks: WebhookDeps,
}

/// Webhook delivery with the system resolver and reqwest; `allow_private` is the operator's
/// `OPSFLOW_WEBHOOKS_ALLOW_PRIVATE`.
#[must_use]
pub fn webhook_deps(allow_private: bool, workers: usize) -> WebhookDeps {
    WebhookDeps {
        resolver: Arc::new(SystemResolver),
        sender: Arc::new(ReqwestWebhookSender::default()),
        config: WebhookConfig { allow_private, workers, ..WebhookConfig::default() },
    }
}

/// Wires every service to one store and the given ports, and puts them behind the HTTP edge
/// with the Prometheus metrics the triage workflow reports to.
pub fn app_state<S: Store>(store: Arc<S>, deps: Deps) -> Arc<AppState> {
    let metrics = Arc::new(Metrics::new());
    let services = Services::new(
        &store,
        ServiceDeps {
            hasher: deps.hasher.clone(),
            tokens: deps.tokens,
            llm: deps.llm,
            clock: deps.clock.clone(),
            triage: deps.triage,
            login: deps.login,
            redactor: deps.redactor,
            observer: Arc::new(PrometheusObserver(metrics.clone())),
            inbound: deps.inbound,
            outbound: deps.outbound,
            threads: deps.threads,
            cipher: deps.cipher,
            mail_fetcher: Arc::new(ImapFetcher::default()),
            mail_sender: Arc::new(SmtpSender::default()),
            webhooks: deps.webhooks,
        },
    );
    AppState::new(services, metrics, deps.trust_forwarded_for)
}

/// Inbound email with the server's cipher and size limit. The workspace's own addresses need the
/// store: [`NoOwnAddresses`] here, replaced by the mailboxes' senders when the server starts.
///
/// # Errors
/// As [`secret_cipher`].
pub fn inbound_deps(config: &Config) -> anyhow::Result<InboundMailDeps> {
    Ok(InboundMailDeps {
        parser: Arc::new(MimeParser),
        cipher: secret_cipher(config)?,
        own_addresses: Arc::new(NoOwnAddresses),
        config: InboundMailConfig { max_message_bytes: config.mail_max_bytes },
    })
}

/// Inbound email for a throw-away store (benchmarks, evaluation): a random cipher key.
///
/// # Panics
/// Never: a generated secret is long enough.
#[must_use]
pub fn scratch_inbound_deps() -> InboundMailDeps {
    #[expect(clippy::expect_used, reason = "a generated secret is always long enough")]
    let cipher = AesGcmCipher::new(&SecretString::from(generate_secret()))
        .expect("a generated secret is long enough");
    InboundMailDeps {
        parser: Arc::new(MimeParser),
        cipher: Arc::new(cipher),
        own_addresses: Arc::new(NoOwnAddresses),
        config: InboundMailConfig::default(),
    }
}

/// The JWT secret: configured, or generated once and stored beside the SQLite file (mode 0600).
fn jwt_secret(config: &Config) -> anyhow::Result<SecretString> {
    stored_secret(config, config.jwt_secret.as_ref(), "OPSFLOW_JWT_SECRET", JWT_SECRET_FILE)
}

/// The cipher for secrets stored at rest (mailbox passwords, webhook signing secrets), keyed by
/// `OPSFLOW_SECRET_KEY`: configured, or generated once and stored beside the SQLite file.
///
/// # Errors
/// With MongoDB and no key set (every process must share it), or a key file that cannot be
/// written.
pub fn secret_cipher(config: &Config) -> anyhow::Result<Arc<dyn SecretCipher>> {
    let key =
        stored_secret(config, config.secret_key.as_ref(), "OPSFLOW_SECRET_KEY", SECRET_KEY_FILE)?;
    let cipher = AesGcmCipher::new(&key)
        .map_err(|e| anyhow::anyhow!("invalid setting OPSFLOW_SECRET_KEY: {e}"))?;
    Ok(Arc::new(cipher))
}

/// A cipher under a random key that lives as long as the process (scratch workspaces of the
/// benchmarks and the evaluation, which store no mailbox).
///
/// # Panics
/// Never: a generated secret is always long enough.
#[must_use]
pub fn ephemeral_cipher() -> Arc<dyn SecretCipher> {
    #[expect(clippy::expect_used, reason = "64 random characters are always a valid key")]
    let cipher = AesGcmCipher::new(&SecretString::from(generate_secret()))
        .expect("a generated secret is a valid key");
    Arc::new(cipher)
}

/// A server secret: `configured`, else the one stored beside the SQLite database in `file_name`,
/// else a new one written there (mode 0600). In memory a random one lives as long as the process;
/// with MongoDB it must be configured, so every server process shares it.
fn stored_secret(
    config: &Config,
    configured: Option<&SecretString>,
    setting: &str,
    file_name: &str,
) -> anyhow::Result<SecretString> {
    if let Some(s) = configured {
        return Ok(s.clone());
    }
    match &config.database {
        DatabaseConfig::Sqlite { file: Some(file), .. } => {
            let path = secret_path(file, file_name);
            if let Ok(existing) = std::fs::read_to_string(&path) {
                let existing = existing.trim().to_owned();
                if existing.len() >= 32 {
                    tracing::warn!(path = %path.display(), setting, "secret not set; using the one stored beside the database");
                    return Ok(SecretString::from(existing));
                }
            }
            let secret = generate_secret();
            write_private(&path, &secret).with_context(|| {
                format!("could not store the generated {setting} at {}", path.display())
            })?;
            tracing::warn!(path = %path.display(), setting, "secret not set; generated one and stored it beside the database");
            Ok(SecretString::from(secret))
        }
        DatabaseConfig::Sqlite { file: None, .. } => {
            tracing::warn!(
                setting,
                "secret not set; using a random one for this in-memory run (it ends with the process)"
            );
            Ok(SecretString::from(generate_secret()))
        }
        DatabaseConfig::Mongo { .. } => anyhow::bail!(
            "invalid setting {setting}: must be set (32+ bytes) with MongoDB, so every server process shares it"
        ),
    }
}

fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")
}

async fn deps(config: &Config) -> anyhow::Result<Deps> {
    let secret = jwt_secret(config)?;
    let ttl = time::Duration::try_from(config.token_ttl)
        .context("invalid setting OPSFLOW_TOKEN_TTL: too large")?;
    let llm = opsflow_llm::config::build_client(&config.llm)
        .map_err(|e| anyhow::anyhow!("invalid LLM settings: {e}"))?;
    let lease = time::Duration::try_from(config.triage_lease)
        .context("invalid setting OPSFLOW_TRIAGE_LEASE: too large")?;
    // Validate the secret's size here too: the token adapter needs its bytes.
    anyhow::ensure!(
        secret.expose_secret().len() >= 32,
        "invalid setting OPSFLOW_JWT_SECRET: must be at least 32 bytes long"
    );
    Ok(Deps {
        hasher: Arc::new(
            Argon2Hasher::with_params(config.argon2_memory_kib, 2, 1)
                .map_err(|e| anyhow::anyhow!("invalid setting OPSFLOW_ARGON2_MEMORY_KIB: {e}"))?,
        ),
        tokens: Arc::new(JwtTokens::new(&secret, ttl)),
        llm,
        clock: Arc::new(SystemClock),
        triage: TriageConfig { lease, max_attempts: config.triage_max_attempts },
        login: LoginLimits {
            max_failures: config.login_max_failures,
            window: config.login_lockout,
            max_per_address: config.login_max_per_address,
            signups_per_address: config.signup_max_per_address,
            signup_window: config.signup_window,
        },
        trust_forwarded_for: config.trusted_proxy,
        redactor: redactor(&config.llm),
        inbound: inbound_deps(config)?,
        outbound: Arc::new(NoOutboundMail),
        threads: Arc::new(NoThreadIds),
        cipher: secret_cipher(config)?,
        webhooks: webhook_deps(config.webhooks_allow_private, config.webhook_workers),
    })
}

/// With `OPSFLOW_LLM_REDACT` on and an external provider, triage prompts are redacted before they
/// are sent and recorded, so a step's input snapshot is what the provider received. (The
/// provider client is also wrapped in `Redacting`; redacting twice changes nothing.)
fn redactor(llm: &opsflow_llm::config::LlmSettings) -> Option<TextRedactor> {
    (llm.redact && llm.provider != opsflow_llm::config::Provider::Offline).then(|| {
        Arc::new(|text: &str| opsflow_llm::redact::redact_text(text).into_owned()) as TextRedactor
    })
}

async fn open_sqlite(url: &str) -> anyhow::Result<Arc<SqliteStore>> {
    let store = SqliteStore::connect(url)
        .await
        .with_context(|| "could not open the SQLite database (OPSFLOW_DATABASE_URL)")?;
    Ok(Arc::new(store))
}

async fn open_mongo(config: &DatabaseConfig) -> anyhow::Result<Arc<MongoStore>> {
    let DatabaseConfig::Mongo { uri, database, max_pool_size, server_selection_timeout, app_name } =
        config
    else {
        anyhow::bail!("not a MongoDB configuration");
    };
    let settings = MongoSettings {
        uri: uri.expose_secret().to_owned(),
        database: database.clone(),
        max_pool_size: *max_pool_size,
        server_selection_timeout: *server_selection_timeout,
        app_name: app_name.clone(),
    };
    let store = MongoStore::connect(settings)
        .await
        .with_context(|| "could not connect to MongoDB (OPSFLOW_DATABASE_URL)")?;
    Ok(Arc::new(store))
}

/// Starts the server on the configured store; the backend is chosen here, once.
pub async fn serve(config: Config, seed_demo: bool) -> anyhow::Result<()> {
    match &config.database {
        DatabaseConfig::Sqlite { url, .. } => {
            let store = open_sqlite(url).await?;
            run(store, config, seed_demo).await
        }
        DatabaseConfig::Mongo { .. } => {
            let store = open_mongo(&config.database).await?;
            run(store, config, seed_demo).await
        }
    }
}

/// Seeds the demo workspace and exits.
pub async fn seed_only(config: Config) -> anyhow::Result<()> {
    match &config.database {
        DatabaseConfig::Sqlite { url, .. } => {
            let store = open_sqlite(url).await?;
            let state = app_state(store.clone(), deps(&config).await?);
            crate::seed::seed_demo(&state, store.as_ref()).await?.print();
            state.system.close().await;
        }
        DatabaseConfig::Mongo { .. } => {
            let store = open_mongo(&config.database).await?;
            let state = app_state(store.clone(), deps(&config).await?);
            crate::seed::seed_demo(&state, store.as_ref()).await?.print();
        }
    }
    Ok(())
}

/// The outbox workers: they send the replies queued for email through each workspace's mailbox.
fn outbox_workers<S: Store>(
    store: &Arc<S>,
    state: &AppState,
    outbound: Arc<dyn OutboundConfigSource>,
    clock: Arc<dyn Clock>,
    workers: usize,
) -> OutboxWorkerPool {
    let mut worker = OutboxWorker::new(
        store.clone(),
        outbound,
        Arc::new(opsflow_mail::SmtpSender::default()),
        clock,
    );
    if let Some(queued) = state.tickets.email_queued_notifier() {
        worker = worker.with_notifier(queued);
    }
    OutboxWorkerPool::spawn(Arc::new(worker), &OutboxConfig { workers, ..OutboxConfig::default() })
}

async fn run<S: Store>(store: Arc<S>, config: Config, seed_demo: bool) -> anyhow::Result<()> {
    let mut deps = deps(&config).await?;
    // Email in and out through each workspace's own mailbox, from the same store: replies go
    // out through the workspace's enabled mailbox, threaded on the customer's messages, and
    // mail from the workspace's own address is never taken in as a customer's.
    deps.outbound = Arc::new(MailboxOutbound::new(store.clone(), deps.cipher.clone()));
    deps.threads = Arc::new(ArchivedThreadIds::new(store.clone()));
    deps.inbound.own_addresses = Arc::new(MailboxAddresses::new(store.clone()));
    let (outbound, clock) = (deps.outbound.clone(), deps.clock.clone());
    // One cipher for the services and the poller: in memory its key is random per instance.
    let cipher = deps.cipher.clone();
    let state = app_state(store.clone(), deps);
    // The poller hands each fetched message to the inbound-mail service.
    let intake: Option<Arc<dyn MailIntake>> = Some(state.inbound_mail.clone());
    let logins =
        if seed_demo { Some(crate::seed::seed_demo(&state, store.as_ref()).await?) } else { None };
    let workers = TriageWorkerPool::spawn(
        state.triage.clone(),
        store.clone(),
        &WorkerConfig { size: config.workers, poll_interval: config.worker_poll },
    );
    let mailers = outbox_workers(&store, &state, outbound, clock, config.outbox_workers);
    let webhooks = WebhookWorkerPool::spawn(
        state.webhook_worker.clone(),
        config.webhook_workers,
        WebhookConfig::default().poll_interval,
    );
    let poller = mail_poller(&store, &config, cipher, intake);
    let listener = tokio::net::TcpListener::bind(config.bind).await.with_context(|| {
        format!("invalid setting OPSFLOW_BIND: could not listen on {}", config.bind)
    })?;
    let url = format!("http://{}", config.bind);
    tracing::info!(%url, backend = state.system.health().await.backend, provider = %config.llm.provider, workers = config.workers, "OpsFlow Agent Desk is listening");
    println!("OpsFlow Agent Desk is running at {url}  (API docs: {url}/api/docs)");
    if let Some(l) = logins {
        l.print();
    }
    let app = opsflow_http::app_with(
        state.clone(),
        opsflow_http::edge::EdgeOptions { hsts: config.behind_tls },
    );
    let limits = opsflow_http::server::ServerLimits {
        header_read_timeout: config.header_read_timeout,
        idle_timeout: config.idle_timeout,
        ..opsflow_http::server::ServerLimits::default()
    };
    opsflow_http::server::serve(listener, app, limits, shutdown_signal(), Duration::from_secs(30))
        .await
        .context("the HTTP server failed")?;
    tracing::info!("shutting down: finishing triage runs in progress");
    workers.shutdown().await;
    mailers.shutdown().await;
    webhooks.shutdown().await;
    if let Some(poller) = poller {
        poller.shutdown().await;
    }
    state.system.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Starts the IMAP poller unless `OPSFLOW_MAIL_POLL` is `off`, or no mail intake is wired yet.
fn mail_poller<S: Store>(
    store: &Arc<S>,
    config: &Config,
    cipher: Arc<dyn SecretCipher>,
    intake: Option<Arc<dyn MailIntake>>,
) -> Option<MailPollerHandle> {
    let Some(interval) = config.mail_poll else {
        tracing::info!("mail poller off (OPSFLOW_MAIL_POLL=off)");
        return None;
    };
    let Some(intake) = intake else {
        tracing::warn!("mail poller not started: no mail intake is wired into this build");
        return None;
    };
    let poller = MailPoller::new(
        store.clone(),
        cipher,
        Arc::new(ImapFetcher::default()),
        intake,
        Arc::new(SystemClock),
        MailPollerConfig { interval, idle: config.mail_idle, ..MailPollerConfig::default() },
    );
    Some(Arc::new(poller).spawn())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use opsflow_llm::config::{LlmSettings, Provider};

    use super::*;
    use crate::config::parse_database;

    fn config(database: &str) -> Config {
        let mut config = Config::load(None, Some("sqlite::memory:")).expect("defaults load");
        config.database = parse_database(database).expect("a database URL");
        config.secret_key = None;
        config
    }

    #[test]
    fn the_secret_key_is_generated_once_beside_the_database_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("opsflow.db");
        let config = config(&format!("sqlite://{}", db.display()));
        let first = secret_cipher(&config).unwrap();
        let sealed = first.seal("imap password", b"ctx").unwrap();
        let key_file = dir.path().join(SECRET_KEY_FILE);
        assert!(std::fs::read_to_string(&key_file).unwrap().trim().len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A restart reads the same key, so what was sealed before still opens.
        let again = secret_cipher(&config).unwrap();
        assert_eq!(again.open(&sealed, b"ctx").unwrap(), "imap password");
        // It is not the JWT secret.
        assert!(!dir.path().join(crate::config::JWT_SECRET_FILE).exists());
    }

    #[test]
    fn a_configured_key_is_used_and_mongodb_requires_one() {
        let mut mongo = config("mongodb://127.0.0.1:1/x");
        let e = secret_cipher(&mongo).err().expect("no key with MongoDB").to_string();
        assert!(e.contains("OPSFLOW_SECRET_KEY"), "{e}");
        mongo.secret_key = Some(SecretString::from("k".repeat(40)));
        let a = secret_cipher(&mongo).unwrap();
        let b = secret_cipher(&mongo).unwrap();
        assert_eq!(b.open(&a.seal("x", b"").unwrap(), b"").unwrap(), "x");
    }

    #[test]
    fn prompts_are_redacted_only_for_an_external_provider_with_redaction_on() {
        let on = |provider| LlmSettings { provider, redact: true, ..LlmSettings::default() };
        assert!(redactor(&LlmSettings::default()).is_none(), "off by default");
        assert!(redactor(&on(Provider::Offline)).is_none(), "nothing leaves the process");
        assert!(
            redactor(&LlmSettings { provider: Provider::OpenAi, ..LlmSettings::default() })
                .is_none()
        );
        for provider in [Provider::OpenAi, Provider::Anthropic] {
            let redact = redactor(&on(provider)).expect("a redactor");
            assert_eq!(redact("write to ann@example.com"), "write to [email]");
        }
    }
}
