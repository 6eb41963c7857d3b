//! MongoDB store (production adapter): every repository port on the official `mongodb` driver.
//!
//! Layout: [`codec`] maps documents to domain types, [`filters`] builds every query filter (the
//! tenant is always a top-level equality), `repos` and `workflow` implement the ports, and this
//! module connects, creates indexes and runs multi-document writes atomically: in a transaction
//! when the deployment supports them (replica set, sharded cluster, Atlas), otherwise as ordered
//! writes that undo themselves on failure. See `docs/mongodb.md`.

mod audit;
pub mod codec;
pub mod filters;
mod indexes;
mod mail;
mod mailboxes;
mod numbers;
mod outbox;
mod repos;
mod sessions;
mod throttle;
mod webhooks;
mod workflow;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bson::{Document, doc};
use mongodb::error::{ErrorKind, TRANSIENT_TRANSACTION_ERROR, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use opsflow_ports::repos::{Conflict, RepoError, StoreAdmin, StoreHealth};

pub use indexes::{IndexSpec, index_specs};

/// Database used when neither the settings nor the URI path name one.
pub const DEFAULT_DATABASE: &str = "opsflow";

/// How to reach MongoDB. The server maps `OPSFLOW_DATABASE_URL`, `OPSFLOW_MONGODB_DB`,
/// `OPSFLOW_MONGODB_MAX_POOL_SIZE`, `OPSFLOW_MONGODB_SERVER_SELECTION_TIMEOUT` and
/// `OPSFLOW_MONGODB_APP_NAME` onto these fields.
#[derive(Clone, PartialEq, Eq)]
pub struct MongoSettings {
    /// `mongodb://…` or `mongodb+srv://…` connection string (may hold credentials: never logged).
    pub uri: String,
    /// Database name; else the URI's path; else [`DEFAULT_DATABASE`].
    pub database: Option<String>,
    /// Most connections per server in the pool (driver default 10).
    pub max_pool_size: Option<u32>,
    /// How long to wait for a suitable server (also bounds the start-up ping).
    pub server_selection_timeout: Duration,
    /// Name shown in the server's logs and `currentOp`.
    pub app_name: Option<String>,
}

impl MongoSettings {
    /// Default server selection timeout.
    pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(10);

    /// Settings for `uri` with every other field at its default.
    #[must_use]
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            database: None,
            max_pool_size: None,
            server_selection_timeout: Self::DEFAULT_SERVER_SELECTION_TIMEOUT,
            app_name: None,
        }
    }
}

impl fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoSettings")
            .field("uri", &redact_uri(&self.uri))
            .field("database", &self.database)
            .field("max_pool_size", &self.max_pool_size)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .field("app_name", &self.app_name)
            .finish()
    }
}

/// The URI with any `user:password@` part replaced, safe for logs and errors.
#[must_use]
pub fn redact_uri(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &uri[..scheme_end], &uri[at + 1..])
        }
        _ => uri.to_owned(),
    }
}

/// Why [`MongoStore::connect`] failed.
#[derive(Debug, thiserror::Error)]
pub enum MongoConnectError {
    /// The connection string does not parse.
    #[error("invalid MongoDB connection string {uri}")]
    InvalidUri {
        /// The URI with credentials redacted.
        uri: String,
        /// The driver's reason.
        #[source]
        source: mongodb::error::Error,
    },
    /// The database name is not allowed by MongoDB.
    #[error(
        "invalid MongoDB database name {0:?}: use 1-63 characters without / \\ . \" $ or spaces"
    )]
    InvalidDatabase(String),
    /// No server answered a ping within the server selection timeout.
    #[error("cannot reach MongoDB at {uri} within {timeout:?}")]
    Unreachable {
        /// The URI with credentials redacted.
        uri: String,
        /// The server selection timeout that elapsed.
        timeout: Duration,
        /// The driver's reason.
        #[source]
        source: mongodb::error::Error,
    },
    /// The ping did not come back at all (the driver did not time out by itself).
    #[error("cannot reach MongoDB at {uri}: no answer within {timeout:?}")]
    Timeout {
        /// The URI with credentials redacted.
        uri: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// The server answered but a start-up command (hello, createIndexes) failed.
    #[error("MongoDB start-up step `{step}` failed")]
    Setup {
        /// Which step.
        step: &'static str,
        /// The driver's reason.
        #[source]
        source: mongodb::error::Error,
    },
}

fn valid_database_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 64
        && !name.chars().any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$' | '\0'))
}

/// The MongoDB store: implements every repository port of `opsflow_ports::repos`.
#[derive(Clone, Debug)]
pub struct MongoStore {
    client: Client,
    db: Database,
    transactions: bool,
    tenants: Collection<Document>,
    users: Collection<Document>,
    tickets: Collection<Document>,
    replies: Collection<Document>,
    runs: Collection<Document>,
    steps: Collection<Document>,
    throttle: Collection<Document>,
    sessions: Collection<Document>,
    audit: Collection<Document>,
    counters: Collection<Document>,
    outbox: Collection<Document>,
}

impl MongoStore {
    /// Connects, pings the server within the selection timeout, detects whether transactions
    /// are available and creates the indexes (idempotent).
    ///
    /// # Errors
    /// [`MongoConnectError`] naming what failed: bad URI or database name, unreachable server,
    /// or a failing start-up command.
    pub async fn connect(settings: MongoSettings) -> Result<Self, MongoConnectError> {
        let redacted = redact_uri(&settings.uri);
        let mut options = ClientOptions::parse(&settings.uri)
            .await
            .map_err(|source| MongoConnectError::InvalidUri { uri: redacted.clone(), source })?;
        let database = settings
            .database
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        if !valid_database_name(&database) {
            return Err(MongoConnectError::InvalidDatabase(database));
        }
        if settings.max_pool_size.is_some() {
            options.max_pool_size = settings.max_pool_size;
        }
        if settings.app_name.is_some() {
            options.app_name = settings.app_name.clone();
        }
        let timeout = settings.server_selection_timeout;
        options.server_selection_timeout = Some(timeout);
        options.connect_timeout = Some(options.connect_timeout.unwrap_or(timeout).min(timeout));
        let client = Client::with_options(options)
            .map_err(|source| MongoConnectError::InvalidUri { uri: redacted.clone(), source })?;

        let admin = client.database("admin");
        // The driver bounds the ping by the selection timeout; the outer timeout is a backstop.
        let ping = tokio::time::timeout(
            timeout + Duration::from_secs(5),
            admin.run_command(doc! { "ping": 1 }),
        )
        .await
        .map_err(|_| MongoConnectError::Timeout { uri: redacted.clone(), timeout })?;
        ping.map_err(|source| MongoConnectError::Unreachable {
            uri: redacted.clone(),
            timeout,
            source,
        })?;
        let hello = admin
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(|source| MongoConnectError::Setup { step: "hello", source })?;
        let transactions = supports_transactions(&hello);

        let store = Self::from_database(client.clone(), client.database(&database), transactions);
        // Before the unique (tenant_id, number) index exists: tickets stored before numbers
        // existed would all collide on a missing number.
        numbers::backfill(&store.tickets, &store.counters)
            .await
            .map_err(|source| MongoConnectError::Setup { step: "number tickets", source })?;
        numbers::backfill_priority_ranks(&store.tickets)
            .await
            .map_err(|source| MongoConnectError::Setup { step: "rank priorities", source })?;
        indexes::create_all(&store.db)
            .await
            .map_err(|source| MongoConnectError::Setup { step: "createIndexes", source })?;
        tracing::info!(
            database = %database,
            transactions,
            uri = %redacted,
            "connected to MongoDB"
        );
        Ok(store)
    }

    fn from_database(client: Client, db: Database, transactions: bool) -> Self {
        Self {
            tenants: db.collection("tenants"),
            users: db.collection("users"),
            tickets: db.collection("tickets"),
            replies: db.collection("ticket_replies"),
            runs: db.collection("workflow_runs"),
            steps: db.collection("workflow_steps"),
            throttle: db.collection("throttle_buckets"),
            sessions: db.collection("auth_sessions"),
            audit: db.collection("audit_events"),
            counters: db.collection("ticket_counters"),
            outbox: db.collection("email_outbox"),
            client,
            db,
            transactions,
        }
    }

    /// Whether multi-document writes run in transactions (replica set or sharded cluster);
    /// otherwise they run as ordered writes with compensation.
    #[must_use]
    pub const fn supports_transactions(&self) -> bool {
        self.transactions
    }

    /// The same store with transactions switched off: multi-document writes use the standalone
    /// fallback (ordered writes with compensation). For tests of that path, and for servers
    /// that claim replica-set membership but reject transactions.
    #[must_use]
    pub fn without_transactions(mut self) -> Self {
        self.transactions = false;
        self
    }

    /// The database this store uses.
    #[must_use]
    pub const fn database(&self) -> &Database {
        &self.db
    }

    /// The driver client (for admin tasks such as dropping a test database).
    #[must_use]
    pub const fn client(&self) -> &Client {
        &self.client
    }
}

/// Whether a `hello` reply describes a deployment with multi-document transactions: a replica
/// set member (`setName`) or a `mongos` router (`msg: "isdbgrid"`).
#[must_use]
pub fn supports_transactions(hello: &Document) -> bool {
    hello.contains_key("setName") || hello.get_str("msg").is_ok_and(|m| m == "isdbgrid")
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// MongoDB's duplicate key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Whether a driver error is a unique-index violation (E11000).
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => {
            m.write_errors.as_ref().is_some_and(|ws| ws.iter().any(|w| w.code == DUPLICATE_KEY))
        }
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// How many documents an ordered `insert_many` wrote before it failed: those before the first
/// write error, or all of them when the error is not a write error (their ids are new, so
/// removing them cannot touch anything that existed before).
pub(crate) fn inserted_prefix(e: &mongodb::error::Error, len: usize) -> usize {
    match e.kind.as_ref() {
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|ws| ws.iter().map(|w| w.index).min())
            .unwrap_or(len)
            .min(len),
        _ => len,
    }
}

/// Maps E11000 to `Conflict(what)` and anything else to `Unexpected`.
pub(crate) fn conflict_on(what: Conflict) -> impl Fn(mongodb::error::Error) -> Fail {
    move |e| {
        if is_duplicate_key(&e) { Fail::Repo(RepoError::Conflict(what)) } else { Fail::Driver(e) }
    }
}

/// Why one attempt of a multi-document write stopped: a domain outcome, or a driver error that
/// may be retried (transient transaction errors).
#[derive(Debug)]
pub(crate) enum Fail {
    Repo(RepoError),
    Driver(mongodb::error::Error),
}

impl From<mongodb::error::Error> for Fail {
    fn from(e: mongodb::error::Error) -> Self {
        Self::Driver(e)
    }
}

impl From<RepoError> for Fail {
    fn from(e: RepoError) -> Self {
        Self::Repo(e)
    }
}

impl From<codec::CodecError> for Fail {
    fn from(e: codec::CodecError) -> Self {
        Self::Repo(RepoError::unexpected(e))
    }
}

impl From<Fail> for RepoError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Repo(e) => e,
            Fail::Driver(e) => Self::unexpected(e),
        }
    }
}

impl Fail {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Driver(e) if e.contains_label(TRANSIENT_TRANSACTION_ERROR))
    }
}

/// How often a transaction is retried after a transient error (write conflicts).
pub(crate) const MAX_TRANSACTION_ATTEMPTS: u32 = 20;

/// Runs `$body` (an expression evaluating to a future of `Result<T, Fail>` that uses the
/// `&mut ClientSession` bound to `$session`) in a transaction, retrying the whole body on
/// transient errors (write conflicts) and the commit on unknown commit results. A macro rather
/// than a higher-order function so the body can borrow freely (no boxed-future lifetimes).
macro_rules! in_transaction {
    ($store:expr, |$session:ident| $body:expr) => {{
        use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
        let mut session_value = $store
            .client
            .start_session()
            .await
            .map_err(opsflow_ports::repos::RepoError::unexpected)?;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            session_value
                .start_transaction()
                .await
                .map_err(opsflow_ports::repos::RepoError::unexpected)?;
            let outcome: Result<_, $crate::mongo::Fail> = {
                let $session = &mut session_value;
                $body.await
            };
            match outcome {
                Ok(value) => {
                    let mut commit_tries = 0;
                    let committed = loop {
                        commit_tries += 1;
                        match session_value.commit_transaction().await {
                            Ok(()) => break Ok(()),
                            Err(e)
                                if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                                    && commit_tries < 3 =>
                            {
                                continue;
                            }
                            Err(e) => break Err(e),
                        }
                    };
                    match committed {
                        Ok(()) => break Ok(value),
                        Err(e)
                            if e.contains_label(TRANSIENT_TRANSACTION_ERROR)
                                && attempt < $crate::mongo::MAX_TRANSACTION_ATTEMPTS =>
                        {
                            continue;
                        }
                        Err(e) => break Err(opsflow_ports::repos::RepoError::unexpected(e)),
                    }
                }
                Err(fail) => {
                    // The server may already have aborted it; a failing abort changes nothing.
                    let _ = session_value.abort_transaction().await;
                    if fail.is_transient() && attempt < $crate::mongo::MAX_TRANSACTION_ATTEMPTS {
                        tokio::time::sleep(std::time::Duration::from_millis(
                            u64::from(attempt.min(10)) * 5,
                        ))
                        .await;
                        continue;
                    }
                    break Err(opsflow_ports::repos::RepoError::from(fail));
                }
            }
        }
    }};
}
pub(crate) use in_transaction;

/// Reads a driver cursor into decoded domain values.
pub(crate) async fn collect<T>(
    cursor: mongodb::Cursor<Document>,
    decode: fn(&Document) -> Result<T, codec::CodecError>,
) -> Result<Vec<T>, RepoError> {
    use futures::TryStreamExt;
    let docs: Vec<Document> = cursor.try_collect().await.map_err(RepoError::unexpected)?;
    docs.iter().map(|d| decode(d).map_err(RepoError::unexpected)).collect()
}

/// Wraps a driver error.
pub(crate) fn driver(e: mongodb::error::Error) -> RepoError {
    RepoError::unexpected(e)
}

/// Wraps a decode error.
pub(crate) fn corrupt(e: codec::CodecError) -> RepoError {
    RepoError::unexpected(e)
}

#[async_trait]
impl StoreAdmin for MongoStore {
    async fn health(&self) -> StoreHealth {
        let admin = self.client.database("admin");
        let ping = admin.run_command(doc! { "ping": 1 }).await;
        match ping {
            Ok(_) => {
                let version = admin
                    .run_command(doc! { "buildInfo": 1 })
                    .await
                    .ok()
                    .and_then(|b| b.get_str("version").ok().map(str::to_owned))
                    .unwrap_or_else(|| "unknown version".to_owned());
                let mode = if self.transactions { "transactions" } else { "no transactions" };
                StoreHealth {
                    backend: "mongodb",
                    ok: true,
                    detail: format!("MongoDB {version}, database {}, {mode}", self.db.name()),
                }
            }
            Err(e) => StoreHealth { backend: "mongodb", ok: false, detail: e.to_string() },
        }
    }

    async fn close(&self) {
        // Every write is acknowledged before its call returns, so there is nothing to flush.
        // The connection pool closes when the last clone of the client is dropped.
        tracing::debug!("MongoDB store closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_uri("mongodb+srv://ann:s3cret@cluster0.example.net/opsflow?retryWrites=true"),
            "mongodb+srv://***@cluster0.example.net/opsflow?retryWrites=true"
        );
        assert_eq!(redact_uri("mongodb://localhost:27017"), "mongodb://localhost:27017");
        let s = MongoSettings::new("mongodb://u:p@h/db");
        assert!(!format!("{s:?}").contains(":p@"));
    }

    #[test]
    fn detects_transaction_support_from_hello() {
        assert!(supports_transactions(&doc! { "isWritablePrimary": true, "setName": "rs0" }));
        assert!(supports_transactions(&doc! { "msg": "isdbgrid" }));
        assert!(!supports_transactions(&doc! { "isWritablePrimary": true }));
    }

    #[test]
    fn database_names_are_checked() {
        assert!(valid_database_name("opsflow"));
        assert!(valid_database_name("opsflow_test_0123"));
        assert!(!valid_database_name(""));
        assert!(!valid_database_name("a.b"));
        assert!(!valid_database_name("a/b"));
        assert!(!valid_database_name(&"x".repeat(64)));
    }

    #[tokio::test]
    async fn unreachable_server_is_a_clear_error() {
        let mut settings =
            MongoSettings::new("mongodb://ann:pw@127.0.0.1:9/?directConnection=true");
        settings.server_selection_timeout = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let err = MongoStore::connect(settings).await.expect_err("nothing listens on port 9");
        assert!(started.elapsed() < Duration::from_secs(5), "bounded by the selection timeout");
        assert!(matches!(err, MongoConnectError::Unreachable { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.starts_with("cannot reach MongoDB at mongodb://***@127.0.0.1:9/"),
            "{message}"
        );
        assert!(!message.contains("pw"), "credentials leaked: {message}");
    }

    #[tokio::test]
    async fn bad_uri_is_a_clear_error() {
        let err =
            MongoStore::connect(MongoSettings::new("postgres://nope")).await.expect_err("bad");
        assert!(matches!(err, MongoConnectError::InvalidUri { .. }), "{err:?}");
    }
}
