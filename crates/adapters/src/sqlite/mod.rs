//! SQLite store (embedded default): every repository port on one sqlx pool.
//!
//! Ids are stored as 16-byte UUID blobs and timestamps as Unix nanoseconds, so every value
//! round-trips exactly. Writes that belong together run in `BEGIN IMMEDIATE` transactions, which
//! take the write lock up front: two writers never deadlock on a lock upgrade, they queue on the
//! busy timeout instead.

mod accounts;
mod audit;
mod mail;
mod mailboxes;
mod outbox;
mod rows;
mod throttle;
mod tickets;
mod webhooks;
mod workflow;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use opsflow_ports::repos::{Conflict, RepoError, StoreAdmin, StoreHealth};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Connections in the pool of a file database (readers run in parallel under WAL).
const FILE_POOL_SIZE: u32 = 8;
/// Page cache per connection, in KiB (negative `cache_size`). Kept small: a miss is served from
/// the OS page cache (shared, outside the process's RSS) for the cost of a `pread`, so 8 private
/// 12 MB caches bought no measurable speed but ~60-80 MiB of resident memory.
const CACHE_KIB_PER_CONNECTION: i64 = 4_000;

/// Why the SQLite store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SqliteConnectError {
    /// The URL is not `sqlite://path`, `sqlite:path` or `sqlite::memory:`.
    #[error(
        "invalid SQLite URL {url:?}: expected sqlite://path/to/file.db, sqlite:path or sqlite::memory:"
    )]
    InvalidUrl {
        /// The URL given.
        url: String,
    },
    /// The database folder could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error("cannot open the SQLite database {url:?}: {source}")]
    Open {
        /// The URL given.
        url: String,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema migrations failed.
    #[error("SQLite schema migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The search index could not be rebuilt after a migration.
    #[error("rebuilding the SQLite search index failed: {0}")]
    SearchIndex(#[source] RepoError),
}

/// The embedded SQLite store. Cheap to clone (the pool and the write lock are shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite admits one writer at a time. Writers of this process queue here (FIFO, without
    /// sleeping) instead of in SQLite's busy handler, whose back-off sleeps of up to 100 ms
    /// would cap write throughput under concurrent requests. Other processes still wait on the
    /// busy timeout.
    write_lock: Arc<Mutex<()>>,
    /// In memory only: a connection outside the pool that keeps the database alive. sqlx
    /// closes a pool connection whose query was cancelled (a client that hung up); without this
    /// the database would go with it and the next connection would open an empty one.
    _keeper: Option<Arc<Mutex<SqliteConnection>>>,
}

/// A write transaction together with this process's write lock; dropping it rolls back.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _lock: OwnedMutexGuard<()>,
}

impl WriteTx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Opens (creating if missing, with its folder) the database at `url` and migrates it.
    ///
    /// Accepts `sqlite://path/to/file.db`, `sqlite:path` and `sqlite::memory:` (one private
    /// in-memory database held by a single connection).
    ///
    /// # Errors
    /// [`SqliteConnectError`].
    pub async fn connect(url: &str) -> Result<Self, SqliteConnectError> {
        let invalid = || SqliteConnectError::InvalidUrl { url: url.to_owned() };
        let rest = url.strip_prefix("sqlite:").ok_or_else(invalid)?;
        let (location, params) = match rest.split_once('?') {
            Some((l, p)) => (l, Some(p)),
            None => (rest, None),
        };
        let memory = location == ":memory:" || location == "//:memory:";
        let open_err = |source| SqliteConnectError::Open { url: url.to_owned(), source };

        let mut keeper = None;
        let pool = if memory {
            // A uniquely named, shared-cache in-memory database: every connection of this store
            // (and only this store) sees the same one, for as long as one connection is open.
            let name =
                format!("file:opsflow-{}?mode=memory&cache=shared", uuid::Uuid::now_v7().simple());
            let options = SqliteConnectOptions::from_str(&format!("sqlite:{name}"))
                .map_err(open_err)?
                .foreign_keys(true)
                .busy_timeout(StdDuration::from_secs(5));
            keeper = Some(Arc::new(Mutex::new(
                <SqliteConnection as sqlx::Connection>::connect_with(&options)
                    .await
                    .map_err(open_err)?,
            )));
            // One pool connection: shared-cache connections lock whole tables against each
            // other, so writers and readers take turns on the one connection, as before.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(open_err)?
        } else {
            let path = location.strip_prefix("//").unwrap_or(location);
            if path.is_empty() {
                return Err(invalid());
            }
            let path = PathBuf::from(path);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| {
                    SqliteConnectError::CreateDir { path: parent.to_path_buf(), source }
                })?;
            }
            let mut options = SqliteConnectOptions::new().filename(&path);
            if let Some(params) = params {
                // Let sqlx interpret extra parameters (mode=, cache=, ...) on the same file.
                options =
                    SqliteConnectOptions::from_str(&format!("sqlite:{}?{params}", path.display()))
                        .map_err(open_err)?;
            }
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(StdDuration::from_secs(5))
                .foreign_keys(true)
                .pragma("cache_size", (-CACHE_KIB_PER_CONNECTION).to_string())
                .pragma("temp_store", "memory");
            SqlitePoolOptions::new()
                .max_connections(FILE_POOL_SIZE)
                .min_connections(1)
                .connect_with(options)
                .await
                .map_err(open_err)?
        };

        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(SqliteConnectError::Migrate)?;
        tickets::rebuild_search_if_marked(&pool).await.map_err(SqliteConnectError::SearchIndex)?;
        Ok(Self { pool, write_lock: Arc::default(), _keeper: keeper })
    }

    /// The names of the indexes in the schema (without SQLite's automatic ones).
    ///
    /// # Errors
    /// [`RepoError::Unexpected`].
    pub async fn index_names(&self) -> Result<Vec<String>, RepoError> {
        sqlx::query_scalar::<_, String>(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    /// The SQL plan SQLite chooses for `sql` (one line per step), for index tests.
    ///
    /// # Errors
    /// [`RepoError::Unexpected`].
    pub async fn explain(&self, sql: &str) -> Result<Vec<String>, RepoError> {
        use sqlx::Row;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("detail").map_err(RepoError::unexpected))
            .collect()
    }

    /// The underlying pool (for tooling such as the benchmark seeder).
    #[must_use]
    pub const fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction holding the database write lock from its first statement.
    async fn begin_write(&self) -> Result<WriteTx, RepoError> {
        let lock = self.write_lock.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        Ok(WriteTx { tx, _lock: lock })
    }

    /// This process's write lock, for single-statement writes on the pool.
    async fn write_lock(&self) -> OwnedMutexGuard<()> {
        self.write_lock.clone().lock_owned().await
    }
}

/// Maps a driver error: unique violations become the conflict they name, anything else is
/// unexpected.
fn db_err(e: sqlx::Error) -> RepoError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let msg = db.message();
        if msg.contains("tenants.slug") {
            return RepoError::Conflict(Conflict::Slug);
        }
        if msg.contains("users.email") {
            return RepoError::Conflict(Conflict::Email);
        }
        if msg.contains("workflow_runs.ticket_id") {
            return RepoError::Conflict(Conflict::ActiveRun);
        }
    }
    RepoError::unexpected(e)
}

#[async_trait]
impl StoreAdmin for SqliteStore {
    async fn health(&self) -> StoreHealth {
        match sqlx::query_scalar::<_, String>("SELECT sqlite_version()").fetch_one(&self.pool).await
        {
            Ok(version) => {
                StoreHealth { backend: "sqlite", ok: true, detail: format!("SQLite {version}") }
            }
            Err(e) => StoreHealth { backend: "sqlite", ok: false, detail: e.to_string() },
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_in_memory_database_survives_its_pool_connection_being_closed() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        let before = store.index_names().await.unwrap();
        assert!(!before.is_empty(), "migrated");
        // What sqlx does to a connection whose query was cancelled by a client hanging up.
        let conn = store.pool.acquire().await.unwrap().detach();
        sqlx::Connection::close(conn).await.unwrap();
        assert_eq!(
            store.index_names().await.unwrap(),
            before,
            "same database, not a new empty one"
        );
        // Two stores in one process have their own databases.
        let other = SqliteStore::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE only_in_other (x INTEGER)").execute(&other.pool).await.unwrap();
        let tables = |s: &SqliteStore| {
            let pool = s.pool.clone();
            async move {
                sqlx::query_scalar::<_, String>(
                    "SELECT name FROM sqlite_master WHERE type = 'table'",
                )
                .fetch_all(&pool)
                .await
                .unwrap()
            }
        };
        assert!(tables(&other).await.contains(&"only_in_other".to_owned()));
        assert!(!tables(&store).await.contains(&"only_in_other".to_owned()));
    }
}
