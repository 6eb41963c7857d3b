//! Test harness: spawns the real app on 127.0.0.1:0 with a fresh store (SQLite or MongoDB) and
//! talks to it over HTTP with `reqwest`.
//!
//! A test case is an `async fn(Ctx)`; [`run`] gives it a [`Ctx`] for one backend and drops every
//! database the case created afterwards, also when the case panics. The same case bodies run
//! against SQLite (`tests/http.rs`) and MongoDB (`tests/mongo.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod jwt;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, TryStreamExt};
use opsflow_adapters::mongo::{MongoSettings, MongoStore};
use opsflow_adapters::security::{Argon2Hasher, JwtTokens};
use opsflow_adapters::sqlite::SqliteStore;
use opsflow_http::AppState;
use opsflow_http::metrics::{Metrics, PrometheusObserver};
use opsflow_llm::OfflineEngine;
use opsflow_ports::auth::Clock;
use opsflow_ports::auth::{PasswordHasher, SystemClock};
use opsflow_ports::llm::LlmClient;
use opsflow_ports::repos::OutboxRepository;
use opsflow_ports::repos::Store;
use opsflow_ports::services::inbound_mail::{InboundMailConfig, InboundMailDeps};
use opsflow_ports::services::outbox::{
    NoOutboundMail, OutboundConfigSource, OutboxWorker, ThreadIdSource,
};
use opsflow_ports::services::throttle::LoginLimits;
use opsflow_ports::services::triage::{TextRedactor, TriageConfig};
use opsflow_ports::services::worker::{TriageWorkerPool, WorkerConfig};
use opsflow_ports::services::{ServiceDeps, Services};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The HMAC secret every test app signs tokens with (tests craft tokens with it too).
pub const JWT_SECRET: &str = "opsflow-http-tests-secret-0123456789-abcdefghij";
/// The password used by test users.
pub const PASSWORD: &str = "Sturdy-Otter-4821";
/// The environment variable that points the MongoDB tests at a server.
pub const MONGO_URI_VAR: &str = "OPSFLOW_TEST_MONGODB_URI";

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the server of `OPSFLOW_TEST_MONGODB_URI`.
    Mongo,
}

impl Backend {
    /// The `store.backend` reported by `/api/health`.
    pub fn health_name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Mongo => "mongodb",
        }
    }
}

type Cleanup = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

struct CtxInner {
    backend: Backend,
    dir: tempfile::TempDir,
    mongo_uri: Option<String>,
    mongo_names: Mutex<Vec<String>>,
    cleanups: Mutex<Vec<Cleanup>>,
}

/// One test case's context: creates databases and apps on its backend.
#[derive(Clone)]
pub struct Ctx(Arc<CtxInner>);

/// A database that can be opened by several apps in turn (restart tests).
#[derive(Debug, Clone)]
pub enum Db {
    /// `sqlite://<file>`.
    Sqlite(String),
    /// A database name on the MongoDB test server.
    Mongo(String),
}

/// How to build an app.
#[derive(Clone)]
pub struct AppOptions {
    /// The model provider; `None` is the offline engine.
    pub llm: Option<Arc<dyn LlmClient>>,
    /// Triage workers to run (0: none, queued runs stay queued).
    pub workers: usize,
    /// Access token lifetime.
    pub token_ttl: time::Duration,
    /// How long a run is leased to its executor (`None`: the default).
    pub lease: Option<time::Duration>,
    /// The password hasher; `None` is argon2id with cheap parameters.
    pub hasher: Option<Arc<dyn PasswordHasher>>,
    /// Failed-login limits (the server's defaults unless set).
    pub login: LoginLimits,
    /// Triage prompt redaction (none unless set).
    pub redactor: Option<TextRedactor>,
    /// Take the client address from `X-Forwarded-For` (trusted proxy).
    pub trust_forwarded_for: bool,
    /// Connection limits (the server's defaults unless set).
    pub limits: opsflow_http::server::ServerLimits,
    /// Edge options (HSTS).
    pub edge: opsflow_http::edge::EdgeOptions,
    /// Where workspaces' outbound mail goes (none unless set: replies are recorded only).
    pub outbound: Option<Arc<dyn OutboundConfigSource>>,
    /// The Message-IDs of tickets' email threads (none unless set).
    pub threads: Option<Arc<dyn ThreadIdSource>>,
    /// The services' clock (the system clock unless set).
    pub clock: Option<Arc<dyn Clock>>,
    /// Webhook endpoints may be on private and loopback addresses (the operator's
    /// `OPSFLOW_WEBHOOKS_ALLOW_PRIVATE`; off unless set, as on the server).
    pub webhooks_allow_private: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            llm: None,
            workers: 0,
            token_ttl: time::Duration::hours(1),
            lease: None,
            hasher: None,
            login: LoginLimits::default(),
            redactor: None,
            trust_forwarded_for: false,
            limits: opsflow_http::server::ServerLimits::default(),
            edge: opsflow_http::edge::EdgeOptions::default(),
            outbound: None,
            threads: None,
            clock: None,
            webhooks_allow_private: false,
        }
    }
}

impl AppOptions {
    /// With `n` triage workers.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// With this model provider.
    pub fn llm(mut self, llm: Arc<dyn LlmClient>) -> Self {
        self.llm = Some(llm);
        self
    }
}

/// Runs one case on `backend`, then drops the databases it created, then re-raises a failure.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let ctx = Ctx::new(backend);
    let result = AssertUnwindSafe(case(ctx.clone())).catch_unwind().await;
    ctx.cleanup().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

impl Ctx {
    /// A context for `backend`. For MongoDB, `OPSFLOW_TEST_MONGODB_URI` must be set: a missing
    /// server fails the test, it never skips it.
    pub fn new(backend: Backend) -> Self {
        let mongo_uri = match backend {
            Backend::Sqlite => None,
            Backend::Mongo => match std::env::var(MONGO_URI_VAR) {
                Ok(uri) if !uri.trim().is_empty() => Some(uri),
                _ => panic!(
                    "{MONGO_URI_VAR} is not set: the MongoDB HTTP tests need a server. Run them \
                     through scripts/with-mongo.sh (it starts a test server), e.g. \
                     `scripts/with-mongo.sh cargo test -p opsflow-http --test mongo`"
                ),
            },
        };
        Self(Arc::new(CtxInner {
            backend,
            dir: tempfile::tempdir().expect("temporary folder"),
            mongo_uri,
            mongo_names: Mutex::new(Vec::new()),
            cleanups: Mutex::new(Vec::new()),
        }))
    }

    /// The MongoDB database names created so far (empty on SQLite).
    pub fn mongo_databases(&self) -> Vec<String> {
        self.0.mongo_names.lock().unwrap().clone()
    }

    /// The backend of this context.
    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    /// A new, empty database.
    pub fn new_db(&self) -> Db {
        let id = uuid::Uuid::now_v7().simple().to_string();
        match self.0.backend {
            Backend::Sqlite => {
                let path = self.0.dir.path().join(format!("opsflow-{id}.db"));
                Db::Sqlite(format!("sqlite://{}", path.display()))
            }
            Backend::Mongo => Db::Mongo(format!("opsflow_http_{id}")),
        }
    }

    /// An app on a fresh database with default options (offline engine, no workers).
    pub async fn spawn(&self) -> TestApp {
        self.spawn_with(AppOptions::default()).await
    }

    /// An app on a fresh database.
    pub async fn spawn_with(&self, options: AppOptions) -> TestApp {
        let db = self.new_db();
        self.spawn_on(&db, options).await
    }

    /// An app on `db` (which may already hold data from an earlier app).
    pub async fn spawn_on(&self, db: &Db, options: AppOptions) -> TestApp {
        match db {
            Db::Sqlite(url) => {
                let store = SqliteStore::connect(url).await.expect("open SQLite test database");
                spawn_store(Arc::new(store), self.0.backend, options).await
            }
            Db::Mongo(name) => {
                let uri = self.0.mongo_uri.clone().expect("MongoDB URI");
                let settings = MongoSettings {
                    database: Some(name.clone()),
                    max_pool_size: Some(8),
                    server_selection_timeout: Duration::from_secs(10),
                    app_name: Some("opsflow-http-tests".to_owned()),
                    ..MongoSettings::new(uri)
                };
                let store = MongoStore::connect(settings).await.expect("connect to MongoDB");
                self.0.mongo_names.lock().unwrap().push(name.clone());
                let dropper = store.clone();
                self.0.cleanups.lock().unwrap().push(Box::new(move || {
                    Box::pin(async move {
                        if let Err(e) = dropper.database().drop().await {
                            eprintln!("could not drop test database: {e}");
                        }
                    })
                }));
                spawn_store(Arc::new(store), self.0.backend, options).await
            }
        }
    }

    async fn cleanup(&self) {
        let cleanups: Vec<Cleanup> = std::mem::take(&mut *self.0.cleanups.lock().unwrap());
        for c in cleanups {
            c().await;
        }
    }
}

/// The hasher of every test app: argon2id with cheap parameters.
pub fn hasher() -> Argon2Hasher {
    Argon2Hasher::with_params(1024, 1, 1).expect("valid argon2 parameters")
}

/// The key every test app seals stored secrets with.
pub const SECRET_KEY: &str = "opsflow-http-tests-secret-key-0123456789-abcdefghij";

/// The secret cipher of every test app.
pub fn test_cipher() -> opsflow_adapters::cipher::AesGcmCipher {
    opsflow_adapters::cipher::AesGcmCipher::new(&SecretString::from(SECRET_KEY.to_owned()))
        .expect("a valid key")
}

/// Everything stored for mailboxes in `db`, as text (every column of every row, or every
/// document), to check what is at rest.
pub async fn raw_mailboxes(ctx: &Ctx, db: &Db) -> String {
    match db {
        Db::Sqlite(url) => {
            let store = SqliteStore::connect(url).await.expect("open SQLite");
            let rows =
                sqlx::query("SELECT * FROM mailboxes").fetch_all(store.pool()).await.unwrap();
            let mut out = String::new();
            for row in rows {
                use sqlx::{Column as _, Row as _, ValueRef as _};
                for (i, col) in row.columns().iter().enumerate() {
                    let raw = row.try_get_raw(i).unwrap();
                    let text = if raw.is_null() {
                        "NULL".to_owned()
                    } else if let Ok(s) = row.try_get::<String, _>(i) {
                        s
                    } else if let Ok(n) = row.try_get::<i64, _>(i) {
                        n.to_string()
                    } else {
                        format!("{:?}", row.try_get::<Vec<u8>, _>(i).unwrap_or_default())
                    };
                    out.push_str(&format!("{}={text}\n", col.name()));
                }
            }
            opsflow_ports::repos::StoreAdmin::close(&store).await;
            out
        }
        Db::Mongo(name) => {
            let uri = ctx.0.mongo_uri.clone().expect("MongoDB URI");
            let settings =
                MongoSettings { database: Some(name.clone()), ..MongoSettings::new(uri) };
            let store = MongoStore::connect(settings).await.expect("connect to MongoDB");
            let docs: Vec<bson::Document> = store
                .database()
                .collection::<bson::Document>("mailboxes")
                .find(bson::doc! {})
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            format!("{docs:?}")
        }
    }
}

/// A second handle to the mailboxes of `db` (as another server process would have), for the
/// IMAP poller.
pub async fn mailbox_repository(
    ctx: &Ctx,
    db: &Db,
) -> Arc<dyn opsflow_ports::repos::MailboxRepository> {
    match db {
        Db::Sqlite(url) => Arc::new(SqliteStore::connect(url).await.expect("open SQLite")),
        Db::Mongo(name) => {
            let uri = ctx.0.mongo_uri.clone().expect("MongoDB URI");
            let settings =
                MongoSettings { database: Some(name.clone()), ..MongoSettings::new(uri) };
            Arc::new(MongoStore::connect(settings).await.expect("connect to MongoDB"))
        }
    }
}

/// The token service of every test app (same secret), with `ttl`.
pub fn tokens(ttl: time::Duration) -> JwtTokens {
    JwtTokens::new(&SecretString::from(JWT_SECRET.to_owned()), ttl)
}

/// Serves the real app for `store` on 127.0.0.1:0.
pub async fn spawn_store<S: Store>(
    store: Arc<S>,
    backend: Backend,
    options: AppOptions,
) -> TestApp {
    let llm: Arc<dyn LlmClient> = options.llm.unwrap_or_else(|| Arc::new(OfflineEngine::new()));
    let mut triage = TriageConfig::default();
    if let Some(lease) = options.lease {
        triage.lease = lease;
    }
    // The same wiring as the composition root (`opsflow::wiring::app_state`).
    let hasher: Arc<dyn PasswordHasher> = options.hasher.unwrap_or_else(|| Arc::new(hasher()));
    let clock: Arc<dyn Clock> = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let outbound: Arc<dyn OutboundConfigSource> =
        options.outbound.unwrap_or_else(|| Arc::new(NoOutboundMail));
    // As the server: a reply's thread comes from the mail archive unless a test fixes it.
    let threads: Arc<dyn ThreadIdSource> = options.threads.unwrap_or_else(|| {
        Arc::new(opsflow_ports::services::outbox::ArchivedThreadIds::new(store.clone()))
    });
    let metrics = Arc::new(Metrics::new());
    let services = Services::new(
        &store,
        ServiceDeps {
            hasher: hasher.clone(),
            tokens: Arc::new(tokens(options.token_ttl)),
            llm,
            clock: clock.clone(),
            triage,
            login: options.login,
            redactor: options.redactor,
            observer: Arc::new(PrometheusObserver(metrics.clone())),
            inbound: InboundMailDeps {
                parser: Arc::new(opsflow_mail::intake::MimeParser),
                cipher: Arc::new(
                    opsflow_adapters::cipher::AesGcmCipher::new(&secrecy::SecretString::from(
                        "test-secret-key-of-at-least-32-bytes!!".to_owned(),
                    ))
                    .expect("a long key"),
                ),
                // As the server: the workspace's own address is its mailbox's sender.
                own_addresses: Arc::new(opsflow_ports::services::mailbox::MailboxAddresses::new(
                    store.clone(),
                )),
                config: InboundMailConfig::default(),
            },
            outbound: outbound.clone(),
            threads,
            cipher: Arc::new(test_cipher()),
            mail_fetcher: Arc::new(opsflow_mail::ImapFetcher::new(Duration::from_secs(5), 100)),
            mail_sender: Arc::new(opsflow_mail::SmtpSender::new(Duration::from_secs(5))),
            webhooks: opsflow_ports::services::webhooks::WebhookDeps {
                resolver: Arc::new(opsflow_adapters::webhook_http::SystemResolver),
                sender: Arc::new(opsflow_adapters::webhook_http::ReqwestWebhookSender::new(
                    Duration::from_secs(5),
                )),
                config: opsflow_ports::services::webhooks::WebhookConfig {
                    allow_private: options.webhooks_allow_private,
                    workers: 0,
                    ..Default::default()
                },
            },
        },
    );
    let state = AppState::new(services, metrics, options.trust_forwarded_for);
    let workers = (options.workers > 0).then(|| {
        TriageWorkerPool::spawn(
            state.triage.clone(),
            store.clone(),
            &WorkerConfig { size: options.workers, poll_interval: Duration::from_millis(50) },
        )
    });
    // Bound before the server task starts: connections made from now on queue in the
    // listener's backlog, so no test waits for start-up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("a TCP address");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let endpoint = opsflow_http::app_with(state.clone(), options.edge);
    let limits = options.limits;
    let server = tokio::spawn(async move {
        let _ = opsflow_http::server::serve(
            listener,
            endpoint,
            limits,
            async move {
                let _ = stop_rx.await;
            },
            Duration::from_secs(5),
        )
        .await;
    });
    TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .expect("HTTP client"),
        state,
        backend,
        outbox: store.clone(),
        outbound,
        server: Some(server),
        stop: Some(stop_tx),
        workers,
    }
}

/// A running app and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
    /// The app's state (services and store).
    pub state: Arc<AppState>,
    /// The store it runs on.
    pub backend: Backend,
    /// The store's email outbox.
    pub outbox: Arc<dyn OutboxRepository>,
    /// Where its workspaces' mail goes.
    pub outbound: Arc<dyn OutboundConfigSource>,
    server: Option<JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
    workers: Option<TriageWorkerPool>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// A response: status, content type, raw text and parsed JSON (`Null` if not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: String,
    /// The body as text.
    pub text: String,
    /// The body as JSON, or `Null`.
    pub json: Value,
    /// `Retry-After`, if any.
    pub retry_after: Option<String>,
}

impl Resp {
    /// Asserts the status, printing the body on failure.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }

    /// `json[key]`.
    pub fn get(&self, key: &str) -> &Value {
        &self.json[key]
    }

    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts an error answer: the status, the `{"error": {"code", "message", "fields"}}`
    /// shape, the code (if given) and that `fields` names `field` (if given).
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: Option<&str>, field: Option<&str>) -> &Self {
        self.expect(status);
        assert_error_shape(self);
        if let Some(code) = code {
            assert_eq!(self.code(), code, "unexpected error code; body: {}", self.text);
        }
        if let Some(field) = field {
            assert!(
                self.json["error"]["fields"]
                    .get(field)
                    .is_some_and(|m| m.as_str().is_some_and(|m| !m.is_empty())),
                "error fields do not name {field:?}; body: {}",
                self.text
            );
        }
        self
    }
}

/// Asserts the JSON error shape (never a 5xx on a client error path).
#[track_caller]
pub fn assert_error_shape(r: &Resp) {
    assert!(r.status < 500, "server error {}: {}", r.status, r.text);
    assert!(
        r.content_type.starts_with("application/json"),
        "error is not JSON ({}): {}",
        r.content_type,
        r.text
    );
    let e = &r.json["error"];
    assert!(e.is_object(), "no error object: {}", r.text);
    assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "no error code: {}", r.text);
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", r.text);
    assert!(e["fields"].is_object(), "fields is not an object: {}", r.text);
}

/// Reads a whole answer.
async fn read(resp: reqwest::Response) -> Resp {
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = resp.text().await.expect("response body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, content_type, text, json, retry_after }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    /// Bearer token.
    pub token: String,
    /// User id.
    pub user_id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant slug.
    pub slug: String,
    /// Email.
    pub email: String,
}

impl Session {
    fn from_json(v: &Value) -> Self {
        Self {
            token: v["access_token"].as_str().expect("access_token").to_owned(),
            user_id: v["user"]["id"].as_str().expect("user.id").to_owned(),
            tenant_id: v["tenant"]["id"].as_str().expect("tenant.id").to_owned(),
            slug: v["tenant"]["slug"].as_str().expect("tenant.slug").to_owned(),
            email: v["user"]["email"].as_str().expect("user.email").to_owned(),
        }
    }
}

/// A request body.
pub enum Body {
    /// No body, no Content-Type.
    None,
    /// JSON with `Content-Type: application/json`.
    Json(Value),
    /// Raw bytes with the given Content-Type (or none).
    Raw(Option<&'static str>, Vec<u8>),
}

impl TestApp {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, bytes) => {
                let req = match ct {
                    Some(ct) => req.header(reqwest::header::CONTENT_TYPE, ct),
                    None => req,
                };
                req.body(bytes)
            }
        };
        read(req.send().await.expect("request reaches the server")).await
    }

    /// GET with an `Authorization` header of exactly `header`.
    pub async fn get_with_auth_header(&self, path: &str, header: &str) -> Resp {
        let req = self.http.get(self.url(path)).header(reqwest::header::AUTHORIZATION, header);
        read(req.send().await.expect("request reaches the server")).await
    }

    /// Writes `request` (a whole HTTP/1.1 request) on a fresh connection and returns the status
    /// code and the rest of the answer.
    pub async fn raw_http(&self, request: &[u8]) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        // The server may answer (and close) before it has read everything: ignore write errors.
        let _ = stream.write_all(request).await;
        let _ = stream.flush().await;
        let mut answer = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, text)
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::GET, path, token, Body::None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Method::POST, path, token, Body::Json(body)).await
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::POST, path, token, Body::None).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Method::PATCH, path, token, Body::Json(body)).await
    }

    /// Signs up a workspace `tenant` with an admin `email` (password [`PASSWORD`]).
    pub async fn signup(&self, tenant: &str, email: &str) -> Session {
        self.signup_with(tenant, email, PASSWORD).await
    }

    /// Signs up with a given password.
    pub async fn signup_with(&self, tenant: &str, email: &str, password: &str) -> Session {
        let r = self
            .post(
                "/api/auth/signup",
                None,
                json!({"tenant_name": tenant, "user_name": "Ada Admin", "email": email, "password": password}),
            )
            .await;
        r.expect(201);
        Session::from_json(&r.json)
    }

    /// Signs up another workspace for an email that already has one (`additional_workspace`).
    pub async fn signup_additional(&self, tenant: &str, email: &str, password: &str) -> Session {
        let r = self
            .post(
                "/api/auth/signup",
                None,
                json!({"tenant_name": tenant, "user_name": "Ada Admin", "email": email, "password": password, "additional_workspace": true}),
            )
            .await;
        r.expect(201);
        Session::from_json(&r.json)
    }

    /// Logs in (optionally naming the workspace) and returns the raw answer.
    pub async fn login_raw(&self, email: &str, password: &str, slug: Option<&str>) -> Resp {
        let mut body = json!({"email": email, "password": password});
        if let Some(s) = slug {
            body["tenant_slug"] = json!(s);
        }
        self.post("/api/auth/login", None, body).await
    }

    /// Logs in; must succeed.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let r = self.login_raw(email, password, None).await;
        r.expect(200);
        Session::from_json(&r.json)
    }

    /// Adds a team member as `admin`, logs them in with their temporary password and replaces it
    /// with [`PASSWORD`] (until then the API answers them only 403 `password_change_required`).
    pub async fn add_user(&self, admin: &Session, name: &str, email: &str, role: &str) -> Session {
        let r = self
            .post(
                "/api/users",
                Some(&admin.token),
                json!({"name": name, "email": email, "role": role}),
            )
            .await;
        r.expect(201);
        let password = r.json["temporary_password"].as_str().expect("temporary_password");
        let login = self.login_raw(email, password, Some(&admin.slug)).await;
        login.expect(200);
        let session = Session::from_json(&login.json);
        self.post(
            "/api/auth/password",
            Some(&session.token),
            json!({"current_password": password, "new_password": PASSWORD}),
        )
        .await
        .expect(204);
        session
    }

    /// Deactivates `user_id` as `admin` (expects 200).
    pub async fn deactivate(&self, admin: &Session, user_id: &str) {
        self.patch(&format!("/api/users/{user_id}"), Some(&admin.token), json!({"active": false}))
            .await
            .expect(200);
    }

    /// Creates a ticket and returns it.
    pub async fn create_ticket(&self, token: &str, subject: &str, body: &str) -> Value {
        self.create_ticket_full(
            token,
            json!({
                "subject": subject,
                "body": body,
                "customer_name": "Carla Customer",
                "customer_email": "carla@example.com",
            }),
        )
        .await
    }

    /// Creates a ticket from a full body and returns it.
    pub async fn create_ticket_full(&self, token: &str, body: Value) -> Value {
        let r = self.post("/api/tickets", Some(token), body).await;
        r.expect(201);
        r.json
    }

    /// `GET /api/tickets/{id}` (must succeed).
    pub async fn ticket(&self, token: &str, id: &str) -> Value {
        let r = self.get(&format!("/api/tickets/{id}"), Some(token)).await;
        r.expect(200);
        r.json
    }

    /// `GET /api/tickets?<query>` (must succeed).
    pub async fn list(&self, token: &str, query: &str) -> Value {
        let r = self.get(&format!("/api/tickets?{query}"), Some(token)).await;
        r.expect(200);
        r.json
    }

    /// Total tickets visible to `token`.
    pub async fn ticket_count(&self, token: &str) -> u64 {
        self.list(token, "page_size=1").await["total"].as_u64().expect("total")
    }

    /// Polls a run until it is no longer queued or running (at most 30 s) and returns it.
    pub async fn wait_for_run(&self, token: &str, run_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.get(&format!("/api/workflows/runs/{run_id}"), Some(token)).await;
            r.expect(200);
            let status = r.json["workflow_run"]["status"].as_str().unwrap_or("").to_owned();
            if status != "queued" && status != "running" {
                return r.json;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "run {run_id} still {status} after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// An outbox worker on this app's store and mail settings, sending with the real SMTP
    /// client, on `clock` (tests step it with [`OutboxWorker::run_once`]).
    pub fn outbox_worker(&self, clock: Arc<dyn Clock>) -> OutboxWorker {
        OutboxWorker::new(
            self.outbox.clone(),
            self.outbound.clone(),
            Arc::new(opsflow_mail::SmtpSender::new(Duration::from_secs(10))),
            clock,
        )
    }

    /// Stops the server gracefully, stops the workers and closes the store.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(workers) = self.workers.take() {
            workers.shutdown().await;
        }
        self.state.system.close().await;
    }
}

/// Expands into one `#[tokio::test]` per case of a suite module, on `$backend`.
#[macro_export]
macro_rules! http_cases {
    ($backend:expr, $module:ident, [$($case:ident),+ $(,)?]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::common::run($backend, $crate::suite::$module::$case).await;
                }
            )+
        }
    };
}
