//! Benchmark commands: `opsflow bench api` (the REST API under load), `opsflow bench triage`
//! (the triage workflow against an LLM double) and `opsflow bench mail` (the email outbox
//! against a local SMTP server). Both seed a fresh database, run the real server
//! in this process on 127.0.0.1 and drive it over HTTP/1.1 with keep-alive connections.

pub mod api;
pub mod mail_ingest;
pub mod mail_outbox;
pub mod triage;

mod corpus;
mod double;
mod load;
pub mod report;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::wiring::Deps;
use anyhow::Context as _;
use opsflow_adapters::mongo::{MongoSettings, MongoStore, redact_uri};
use opsflow_adapters::security::{Argon2Hasher, JwtTokens, generate_secret};
use opsflow_adapters::sqlite::SqliteStore;
use opsflow_domain::{
    Email, Password, PersonName, Role, TenantId, TenantName, TenantScope, User, UserId,
};
use opsflow_http::AppState;
use opsflow_ports::auth::SystemClock;
use opsflow_ports::llm::LlmClient;
use opsflow_ports::repos::{Store, UserRepository};
use opsflow_ports::services::auth::SignupInput;
use opsflow_ports::services::throttle::LoginLimits;
use opsflow_ports::services::triage::TriageConfig;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{DatabaseConfig, parse_database};

/// Password of every benchmark user.
const PASSWORD: &str = "Bench-Walrus-Meadow-7719";

/// Installs a quiet log subscriber (`OPSFLOW_LOG`, default `warn`) on stderr, so request logs do
/// not cost time during a measurement while warnings and errors stay visible.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

/// Where a benchmark keeps its data: always a fresh database, removed afterwards.
pub enum Target {
    /// A new SQLite file (in a temporary folder unless a path was given).
    Sqlite {
        /// `sqlite://…` URL of the file.
        url: String,
        /// The file.
        file: PathBuf,
        /// The temporary folder, deleted on drop.
        dir: Option<tempfile::TempDir>,
    },
    /// A new database on a MongoDB server.
    Mongo {
        /// Connection string (may hold a password).
        uri: SecretString,
        /// The fresh database's name.
        database: String,
        /// `OPSFLOW_MONGODB_MAX_POOL_SIZE`, if set.
        max_pool_size: Option<u32>,
        /// `OPSFLOW_MONGODB_SERVER_SELECTION_TIMEOUT`.
        server_selection_timeout: Duration,
    },
}

impl Target {
    /// A fresh database for `--database URL`, or a temporary SQLite file without one.
    ///
    /// # Errors
    /// An unsupported URL, an in-memory SQLite URL, or an existing SQLite file.
    pub fn new(database: Option<&str>) -> anyhow::Result<Self> {
        let Some(url) = database else {
            let dir = tempfile::Builder::new()
                .prefix("opsflow-bench-")
                .tempdir()
                .context("could not create a temporary folder for the benchmark database")?;
            let file = dir.path().join("bench.db");
            return Ok(Self::Sqlite {
                url: format!("sqlite://{}", file.display()),
                file,
                dir: Some(dir),
            });
        };
        match parse_database(url)? {
            DatabaseConfig::Sqlite { file: None, .. } => anyhow::bail!(
                "an in-memory SQLite database holds a single connection and says nothing about the \
                 server's speed: give a file path (sqlite://path/to/new.db) or leave --database out"
            ),
            DatabaseConfig::Sqlite { url, file: Some(file) } => {
                anyhow::ensure!(
                    !file.exists(),
                    "{} already exists: the benchmark seeds a fresh database, so choose a new path",
                    file.display()
                );
                Ok(Self::Sqlite { url, file, dir: None })
            }
            DatabaseConfig::Mongo { uri, max_pool_size, server_selection_timeout, .. } => {
                Ok(Self::Mongo {
                    uri,
                    database: format!("opsflow_bench_{}", uuid::Uuid::now_v7().simple()),
                    max_pool_size,
                    server_selection_timeout,
                })
            }
        }
    }

    /// `sqlite` or `mongodb`.
    pub const fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Mongo { .. } => "mongodb",
        }
    }

    /// A one-line description for the report (no password).
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite { file, dir: Some(_), .. } => {
                format!("SQLite, a fresh file in a temporary folder ({})", file.display())
            }
            Self::Sqlite { file, dir: None, .. } => {
                format!("SQLite, a fresh file at {} (left in place)", file.display())
            }
            Self::Mongo { uri, database, .. } => format!(
                "MongoDB at {}, fresh database `{database}` (dropped afterwards)",
                redact_uri(uri.expose_secret())
            ),
        }
    }

    /// Opens the SQLite store.
    async fn open_sqlite(url: &str) -> anyhow::Result<Arc<SqliteStore>> {
        let store =
            SqliteStore::connect(url).await.context("could not create the SQLite database")?;
        Ok(Arc::new(store))
    }

    /// Opens the MongoDB store on the fresh database.
    async fn open_mongo(&self) -> anyhow::Result<Arc<MongoStore>> {
        let Self::Mongo { uri, database, max_pool_size, server_selection_timeout } = self else {
            anyhow::bail!("not a MongoDB target");
        };
        let settings = MongoSettings {
            uri: uri.expose_secret().to_owned(),
            database: Some(database.clone()),
            max_pool_size: *max_pool_size,
            server_selection_timeout: *server_selection_timeout,
            app_name: Some("opsflow-bench".to_owned()),
        };
        let store = MongoStore::connect(settings).await.context("could not connect to MongoDB")?;
        Ok(Arc::new(store))
    }
}

/// Drops the benchmark's MongoDB database (best effort: a failure is reported, not fatal).
async fn drop_mongo_database(store: &MongoStore) {
    let name = store.database().name().to_owned();
    match store.database().drop().await {
        Ok(()) => eprintln!("dropped the benchmark database `{name}`"),
        Err(e) => eprintln!("warning: could not drop the benchmark database `{name}`: {e}"),
    }
}

/// The non-store ports, as the server builds them (OWASP argon2 parameters, HS256 tokens).
fn deps(llm: Arc<dyn LlmClient>) -> Deps {
    let secret = SecretString::from(generate_secret());
    Deps {
        hasher: Arc::new(Argon2Hasher::new()),
        tokens: Arc::new(JwtTokens::new(&secret, time::Duration::hours(12))),
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
    }
}

/// The server under test, running on this process's runtime.
struct TestServer {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Starts `opsflow_http::app` on 127.0.0.1 with a port chosen by the system; the listener is
    /// bound before this returns, so requests can follow at once.
    async fn start(state: Arc<AppState>) -> anyhow::Result<Self> {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .context("could not listen on 127.0.0.1")?;
        let addr: SocketAddr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("the listener has no TCP address")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = opsflow_http::app(state);
        let task =
            tokio::spawn(poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                app,
                async {
                    let _ = stopped.await;
                },
                Some(Duration::from_secs(5)),
            ));
        Ok(Self { base: format!("http://{addr}"), stop: Some(stop), task })
    }

    /// Stops accepting, lets open requests finish, and waits for the server task.
    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.context("the server task panicked")?.context("the HTTP server failed")
    }
}

/// A workspace created for a benchmark.
struct BenchTenant {
    /// The admin's scope (used for seeding, which happens below the HTTP API).
    admin: TenantScope,
    /// The workspace's slug (for login).
    slug: String,
    /// The admin's login.
    email: String,
    /// Agents that tickets can be assigned to.
    agents: Vec<UserId>,
}

impl BenchTenant {
    const fn id(&self) -> TenantId {
        self.admin.tenant_id()
    }
}

/// Creates `count` workspaces, each with an admin (signed up like a real user) and `agents`
/// agents.
async fn create_tenants<S: Store>(
    state: &AppState,
    store: &S,
    count: usize,
    agents: usize,
) -> anyhow::Result<Vec<BenchTenant>> {
    let password = Password::new(PASSWORD)?;
    // One hash for every agent: the login cost is measured through the admins, and seeding 150
    // argon2 hashes would only add seconds. Each hash embeds its own salt, so reuse is valid.
    let agent_hash = state.system.hash_password(&password).await?;
    let mut tenants = Vec::with_capacity(count);
    for i in 0..count {
        let email = format!("admin@bench-{i:03}.example");
        let session = state
            .auth
            .signup(
                SignupInput {
                    tenant_name: TenantName::new(&format!("Bench Agency {i:03}"))?,
                    user_name: PersonName::new(&format!("Admin {i:03}"))?,
                    email: Email::parse(&email)?,
                    password: opsflow_ports::password_policy::NewPassword::new(
                        password.expose(),
                        &[],
                    )?,
                    additional_workspace: true,
                },
                None,
            )
            .await
            .with_context(|| format!("signing up benchmark workspace {i}"))?;
        let admin = TenantScope::new(session.tenant.id, session.user.id, Role::Admin);
        let mut agent_ids = Vec::with_capacity(agents);
        for a in 0..agents {
            let now = state.system.now();
            let user = User {
                id: UserId::new(),
                tenant_id: session.tenant.id,
                name: PersonName::new(corpus::agent_name(i + a))?,
                email: Email::parse(&format!("agent{a}@bench-{i:03}.example"))?,
                password_hash: agent_hash.clone(),
                role: Role::Agent,
                active: true,
                must_change_password: false,
                created_at: now,
                updated_at: now,
            };
            UserRepository::create(store, &admin, &user).await?;
            agent_ids.push(user.id);
        }
        tenants.push(BenchTenant {
            admin,
            slug: session.tenant.slug.as_str().to_owned(),
            email,
            agents: agent_ids,
        });
    }
    Ok(tenants)
}

/// An HTTP/1.1 client that keeps up to `connections` connections alive to one host.
fn http_client(connections: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(connections.max(1))
        .pool_idle_timeout(Duration::from_secs(300))
        .timeout(Duration::from_secs(120))
        .build()
        .context("could not build the HTTP client")
}

/// Logs in as the workspace's admin over the API and returns the bearer token.
async fn login(
    client: &reqwest::Client,
    base: &str,
    tenant: &BenchTenant,
) -> anyhow::Result<String> {
    let response = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({
            "email": tenant.email,
            "password": PASSWORD,
            "tenant_slug": tenant.slug,
        }))
        .send()
        .await
        .context("login request failed")?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.context("login answer is not JSON")?;
    anyhow::ensure!(status.is_success(), "login as {} failed with {status}: {body}", tenant.email);
    body.get("access_token")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .context("the login answer has no access_token")
}

/// Logs in to every workspace (one token per workspace).
async fn login_all(
    client: &reqwest::Client,
    base: &str,
    tenants: &[BenchTenant],
) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::with_capacity(tenants.len());
    for t in tenants {
        tokens.push(login(client, base, t).await?);
    }
    Ok(tokens)
}
