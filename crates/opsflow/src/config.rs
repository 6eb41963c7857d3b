//! Typed configuration from flags, environment variables and an optional `.env` file. Every
//! invalid setting stops start-up with one line naming it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opsflow_llm::config::{LlmSettings, Provider};
use secrecy::SecretString;

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum DatabaseConfig {
    /// Embedded SQLite: `sqlite://path` or `sqlite::memory:`.
    Sqlite {
        /// The URL as given.
        url: String,
        /// The database file, or `None` in memory.
        file: Option<PathBuf>,
    },
    /// MongoDB: `mongodb://` or `mongodb+srv://`.
    Mongo {
        /// The URI (never logged: it may hold a password).
        uri: SecretString,
        /// `OPSFLOW_MONGODB_DB`.
        database: Option<String>,
        /// `OPSFLOW_MONGODB_MAX_POOL_SIZE`.
        max_pool_size: Option<u32>,
        /// `OPSFLOW_MONGODB_SERVER_SELECTION_TIMEOUT`.
        server_selection_timeout: Duration,
        /// `OPSFLOW_MONGODB_APP_NAME`.
        app_name: Option<String>,
    },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub bind: SocketAddr,
    /// Store.
    pub database: DatabaseConfig,
    /// JWT HMAC key; `None` means generate or load the one stored beside the database.
    pub jwt_secret: Option<SecretString>,
    /// Key of the cipher for secrets stored at rest; `None` means generate or load the one stored
    /// beside the database.
    pub secret_key: Option<SecretString>,
    /// Access token lifetime.
    pub token_ttl: Duration,
    /// Log filter (`OPSFLOW_LOG`).
    pub log_filter: String,
    /// Log format.
    pub log_format: LogFormat,
    /// LLM provider settings.
    pub llm: LlmSettings,
    /// Triage worker pool size (0 disables async execution in this process).
    pub workers: usize,
    /// How often idle workers look at the queue.
    pub worker_poll: Duration,
    /// How long a worker holds a run before another may take it over.
    pub triage_lease: Duration,
    /// How many times an interrupted run is started before it is failed.
    pub triage_max_attempts: u32,
    /// Argon2 memory cost in KiB (default 19456, OWASP).
    pub argon2_memory_kib: u32,
    /// Wrong passwords allowed per email before its logins are refused (0: no limit).
    pub login_max_failures: u32,
    /// How long an email's failures count, and so how long it is refused at most.
    pub login_lockout: Duration,
    /// Login attempts allowed per client address within `login_lockout` (0: no limit).
    pub login_max_per_address: u32,
    /// Sign-ups allowed per client address within `signup_window` (0: no limit).
    pub signup_max_per_address: u32,
    /// The sign-up throttle's window.
    pub signup_window: Duration,
    /// Behind a trusted reverse proxy: the client address is the left-most `X-Forwarded-For`.
    pub trusted_proxy: bool,
    /// Clients reach the server over HTTPS (a TLS-terminating proxy): send HSTS.
    pub behind_tls: bool,
    /// How long a client may take to send a request head (`OPSFLOW_HEADER_READ_TIMEOUT`).
    pub header_read_timeout: Duration,
    /// How long an idle connection stays open (`OPSFLOW_IDLE_TIMEOUT`).
    pub idle_timeout: Duration,
    /// The largest inbound email taken in, in bytes (`OPSFLOW_MAIL_MAX_BYTES`, default 10 MiB,
    /// at most 15 MiB so a raw message fits one MongoDB document).
    pub mail_max_bytes: usize,
    /// How often the IMAP poller reads enabled mailboxes (`OPSFLOW_MAIL_POLL`, default 30s);
    /// `None` when set to `off`.
    pub mail_poll: Option<Duration>,
    /// Whether the poller keeps an IMAP IDLE session on mailboxes whose server supports it
    /// (`OPSFLOW_MAIL_IDLE`, default on).
    pub mail_idle: bool,
    /// Outbox workers sending queued email in this process (`OPSFLOW_OUTBOX_WORKERS`, default 2,
    /// 0 to send from other processes only, at most 64).
    pub outbox_workers: usize,
    /// Whether webhook endpoints may be on private, loopback, link-local and other non-public
    /// addresses (`OPSFLOW_WEBHOOKS_ALLOW_PRIVATE`, default off: SSRF protection).
    pub webhooks_allow_private: bool,
    /// Webhook delivery workers in this process (`OPSFLOW_WEBHOOK_WORKERS`, default 2, 0 to
    /// deliver from other processes only, at most 64).
    pub webhook_workers: usize,
}

/// `OPSFLOW_OUTBOX_WORKERS`: 0 to 64 (each worker holds one SMTP connection at a time).
fn outbox_workers(raw: Option<&str>) -> Result<usize, ConfigError> {
    const NAME: &str = "OPSFLOW_OUTBOX_WORKERS";
    let Some(raw) = raw else { return Ok(2) };
    match raw.trim().parse::<usize>() {
        Ok(n) if n <= 64 => Ok(n),
        Ok(_) => Err(err(NAME, format!("`{raw}` is more than 64 workers"))),
        Err(_) => Err(err(NAME, format!("`{raw}` is not a number of workers from 0 to 64"))),
    }
}

/// `OPSFLOW_MAIL_MAX_BYTES`: 1 KiB up to the ceiling a MongoDB document allows.
fn mail_max_bytes() -> Result<usize, ConfigError> {
    use opsflow_ports::services::inbound_mail::{
        DEFAULT_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES_CEILING,
    };
    match number("OPSFLOW_MAIL_MAX_BYTES", DEFAULT_MAX_MESSAGE_BYTES)? {
        n if n < 1024 => Err(err("OPSFLOW_MAIL_MAX_BYTES", "must be at least 1024")),
        n if n > MAX_MESSAGE_BYTES_CEILING => Err(err(
            "OPSFLOW_MAIL_MAX_BYTES",
            format!(
                "must be at most {MAX_MESSAGE_BYTES_CEILING} (15 MiB): a raw message is stored in \
                 one MongoDB document"
            ),
        )),
        n => Ok(n),
    }
}

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// What is wrong.
    pub message: String,
}

fn err(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { name, message: message.into() }
}

/// Reads a variable; unset and empty are both `None`.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn duration(name: &'static str, default: &str) -> Result<Duration, ConfigError> {
    let raw = var(name).unwrap_or_else(|| default.to_owned());
    let d = humantime::parse_duration(&raw)
        .map_err(|e| err(name, format!("`{raw}` is not a duration like 30s, 5m or 12h ({e})")))?;
    if d.is_zero() {
        return Err(err(name, "must be greater than zero"));
    }
    Ok(d)
}

/// `OPSFLOW_MAIL_POLL`: a duration (default 30s), or `off`.
fn mail_poll(raw: Option<&str>) -> Result<Option<Duration>, ConfigError> {
    const NAME: &str = "OPSFLOW_MAIL_POLL";
    let raw = raw.unwrap_or("30s");
    if raw.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let d = humantime::parse_duration(raw).map_err(|e| {
        err(NAME, format!("`{raw}` is not `off` or a duration like 30s or 5m ({e})"))
    })?;
    if d.is_zero() {
        return Err(err(NAME, "must be greater than zero (or `off`)"));
    }
    Ok(Some(d))
}

fn number<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| err(name, format!("`{raw}` is not a valid number"))),
    }
}

fn boolean(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(err(name, format!("`{v}` is not true or false"))),
    }
}

/// Parses `OPSFLOW_DATABASE_URL` (or the `--database` flag).
///
/// # Errors
/// Unknown scheme, or a Mongo setting that is invalid.
pub fn parse_database(url: &str) -> Result<DatabaseConfig, ConfigError> {
    const NAME: &str = "OPSFLOW_DATABASE_URL";
    let url = url.trim();
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Ok(DatabaseConfig::Sqlite { url: "sqlite::memory:".to_owned(), file: None });
    }
    if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(err(NAME, "a sqlite URL needs a file path, e.g. sqlite://data/opsflow.db"));
        }
        return Ok(DatabaseConfig::Sqlite { url: url.to_owned(), file: Some(PathBuf::from(path)) });
    }
    if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        let max_pool_size = match var("OPSFLOW_MONGODB_MAX_POOL_SIZE") {
            None => None,
            Some(raw) => Some(raw.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                err("OPSFLOW_MONGODB_MAX_POOL_SIZE", format!("`{raw}` is not a positive number"))
            })?),
        };
        return Ok(DatabaseConfig::Mongo {
            uri: SecretString::from(url.to_owned()),
            database: var("OPSFLOW_MONGODB_DB"),
            max_pool_size,
            server_selection_timeout: duration("OPSFLOW_MONGODB_SERVER_SELECTION_TIMEOUT", "10s")?,
            app_name: var("OPSFLOW_MONGODB_APP_NAME").or_else(|| Some("opsflow".to_owned())),
        });
    }
    let scheme = url.split("://").next().unwrap_or(url);
    Err(err(
        NAME,
        format!(
            "unsupported scheme `{scheme}` (use sqlite://path, sqlite::memory:, mongodb:// or mongodb+srv://)"
        ),
    ))
}

impl Config {
    /// Reads every setting; `bind` and `database` flags override the environment.
    ///
    /// # Errors
    /// The first invalid setting.
    pub fn load(bind_flag: Option<&str>, database_flag: Option<&str>) -> Result<Self, ConfigError> {
        let bind_raw = bind_flag.map(str::to_owned).or_else(|| var("OPSFLOW_BIND"));
        let bind_raw = bind_raw.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind = bind_raw.parse().map_err(|_| {
            err("OPSFLOW_BIND", format!("`{bind_raw}` is not an address like 127.0.0.1:8080"))
        })?;
        let db_raw = database_flag
            .map(str::to_owned)
            .or_else(|| var("OPSFLOW_DATABASE_URL"))
            .unwrap_or_else(|| "sqlite://data/opsflow.db".to_owned());
        let database = parse_database(&db_raw)?;
        let jwt_secret = match var("OPSFLOW_JWT_SECRET") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(err("OPSFLOW_JWT_SECRET", "must be at least 32 bytes long"));
            }
            Some(s) => Some(SecretString::from(s)),
        };
        let secret_key = match var("OPSFLOW_SECRET_KEY") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(err("OPSFLOW_SECRET_KEY", "must be at least 32 bytes long"));
            }
            Some(s) => Some(SecretString::from(s)),
        };
        let log_format = match var("OPSFLOW_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err("OPSFLOW_LOG_FORMAT", format!("`{other}` is not json or pretty")));
            }
        };
        let provider: Provider = match var("OPSFLOW_LLM_PROVIDER") {
            None => Provider::Offline,
            Some(p) => p.parse().map_err(|e| err("OPSFLOW_LLM_PROVIDER", format!("{e}")))?,
        };
        let llm = LlmSettings {
            provider,
            model: var("OPSFLOW_LLM_MODEL"),
            base_url: var("OPSFLOW_LLM_BASE_URL"),
            api_key: var("OPSFLOW_LLM_API_KEY").map(SecretString::from),
            connect_timeout: duration("OPSFLOW_LLM_CONNECT_TIMEOUT", "5s")?,
            request_timeout: duration("OPSFLOW_LLM_TIMEOUT", "60s")?,
            max_retries: number("OPSFLOW_LLM_MAX_RETRIES", 2)?,
            redact: boolean("OPSFLOW_LLM_REDACT", false)?,
        };
        let argon2_memory_kib = number("OPSFLOW_ARGON2_MEMORY_KIB", 19_456u32)?;
        if argon2_memory_kib < 1024 {
            return Err(err("OPSFLOW_ARGON2_MEMORY_KIB", "must be at least 1024"));
        }
        Ok(Self {
            bind,
            database,
            jwt_secret,
            secret_key,
            token_ttl: duration("OPSFLOW_TOKEN_TTL", "12h")?,
            log_filter: var("OPSFLOW_LOG").unwrap_or_else(|| "info".to_owned()),
            log_format,
            llm,
            workers: number("OPSFLOW_WORKERS", 4usize)?,
            worker_poll: duration("OPSFLOW_WORKER_POLL", "1s")?,
            mail_poll: mail_poll(var("OPSFLOW_MAIL_POLL").as_deref())?,
            mail_idle: boolean("OPSFLOW_MAIL_IDLE", true)?,
            outbox_workers: outbox_workers(var("OPSFLOW_OUTBOX_WORKERS").as_deref())?,
            webhooks_allow_private: boolean("OPSFLOW_WEBHOOKS_ALLOW_PRIVATE", false)?,
            webhook_workers: match number("OPSFLOW_WEBHOOK_WORKERS", 2usize)? {
                n if n <= 64 => n,
                _ => return Err(err("OPSFLOW_WEBHOOK_WORKERS", "must be at most 64")),
            },
            triage_lease: duration("OPSFLOW_TRIAGE_LEASE", "5m")?,
            login_max_failures: number("OPSFLOW_LOGIN_MAX_FAILURES", 10u32)?,
            login_lockout: match duration("OPSFLOW_LOGIN_LOCKOUT", "15m")? {
                d if d.is_zero() => {
                    return Err(err("OPSFLOW_LOGIN_LOCKOUT", "must be greater than zero"));
                }
                d => d,
            },
            login_max_per_address: number("OPSFLOW_LOGIN_MAX_PER_ADDRESS", 100u32)?,
            signup_max_per_address: number("OPSFLOW_SIGNUP_MAX_PER_ADDRESS", 20u32)?,
            signup_window: match duration("OPSFLOW_SIGNUP_WINDOW", "1h")? {
                d if d.is_zero() => {
                    return Err(err("OPSFLOW_SIGNUP_WINDOW", "must be greater than zero"));
                }
                d => d,
            },
            trusted_proxy: boolean("OPSFLOW_TRUSTED_PROXY", false)?,
            triage_max_attempts: match number("OPSFLOW_TRIAGE_MAX_ATTEMPTS", 3u32)? {
                0 => return Err(err("OPSFLOW_TRIAGE_MAX_ATTEMPTS", "must be at least 1")),
                n => n,
            },
            argon2_memory_kib,
            behind_tls: boolean("OPSFLOW_BEHIND_TLS", false)?,
            header_read_timeout: duration("OPSFLOW_HEADER_READ_TIMEOUT", "10s")?,
            idle_timeout: duration("OPSFLOW_IDLE_TIMEOUT", "60s")?,
            mail_max_bytes: mail_max_bytes()?,
        })
    }
}

/// The file beside a SQLite database where a generated JWT secret is kept.
pub const JWT_SECRET_FILE: &str = "jwt-secret";
/// The file beside a SQLite database where a generated `OPSFLOW_SECRET_KEY` is kept.
pub const SECRET_KEY_FILE: &str = "secret-key";

/// The file `name` beside a SQLite database, where a generated secret is kept.
#[must_use]
pub fn secret_path(db_file: &Path, name: &str) -> PathBuf {
    let dir = db_file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert!(matches!(
            parse_database("sqlite::memory:"),
            Ok(DatabaseConfig::Sqlite { file: None, .. })
        ));
        match parse_database("sqlite://data/x.db") {
            Ok(DatabaseConfig::Sqlite { file: Some(f), .. }) => {
                assert_eq!(f, PathBuf::from("data/x.db"))
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = parse_database("postgres://x").expect_err("unsupported");
        assert_eq!(e.name, "OPSFLOW_DATABASE_URL");
        assert!(e.to_string().contains("postgres"));
        assert!(parse_database("sqlite://").is_err());
    }

    #[test]
    fn mail_polling_defaults_to_30s_and_can_be_turned_off() {
        assert_eq!(mail_poll(None).unwrap(), Some(Duration::from_secs(30)));
        assert_eq!(mail_poll(Some("2m")).unwrap(), Some(Duration::from_secs(120)));
        assert_eq!(mail_poll(Some("OFF")).unwrap(), None);
        for bad in ["0s", "soon", "-5s"] {
            let e = mail_poll(Some(bad)).expect_err(bad);
            assert_eq!(e.name, "OPSFLOW_MAIL_POLL");
        }
    }

    #[test]
    fn outbox_workers_default_to_2_and_take_0_to_64() {
        assert_eq!(outbox_workers(None).unwrap(), 2);
        assert_eq!(outbox_workers(Some("0")).unwrap(), 0);
        assert_eq!(outbox_workers(Some("8")).unwrap(), 8);
        for bad in ["65", "-1", "four", ""] {
            let e = outbox_workers(Some(bad)).expect_err(bad);
            assert_eq!(e.name, "OPSFLOW_OUTBOX_WORKERS");
        }
    }

    #[test]
    fn secret_lives_beside_the_database() {
        assert_eq!(
            secret_path(Path::new("data/opsflow.db"), JWT_SECRET_FILE),
            PathBuf::from("data/jwt-secret")
        );
        assert_eq!(
            secret_path(Path::new("opsflow.db"), SECRET_KEY_FILE),
            PathBuf::from("./secret-key")
        );
    }
}
