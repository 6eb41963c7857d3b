//! The mail ports: sending over SMTP and fetching over IMAP. Implemented in `opsflow-mail`; the
//! outbox worker, the mailbox check and the IMAP poller use them.

use async_trait::async_trait;
use opsflow_domain::email::{MailSecurity, OutboundEmail};

/// Where and how to reach an SMTP server. The password is plain here: it is opened from its
/// sealed form just before use and never stored or logged in this shape.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    /// Host name or address.
    pub host: String,
    /// Port (465 for TLS, 587 for STARTTLS, 25 without).
    pub port: u16,
    /// Transport security.
    pub security: MailSecurity,
    /// Login, when the server wants one.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpEndpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The stage of a connection that failed, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStage {
    /// Looking the host name up.
    Dns,
    /// Opening the TCP connection.
    Connect,
    /// The TLS handshake (or STARTTLS).
    Tls,
    /// Logging in.
    Auth,
    /// Opening the folder (IMAP).
    Folder,
    /// Handing the message over.
    Send,
}

impl MailStage {
    /// The stage in words an admin understands.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Dns => "the server name could not be found",
            Self::Connect => "the server could not be reached",
            Self::Tls => "a secure connection could not be set up",
            Self::Auth => "the username or password was not accepted",
            Self::Folder => "the folder could not be opened",
            Self::Send => "the server did not accept the message",
        }
    }
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: a 4xx answer, a timeout, a refused or dropped connection.
    #[error("temporary failure ({stage:?}): {message}")]
    Temporary {
        /// Where it failed.
        stage: MailStage,
        /// The server's or the system's words.
        message: String,
    },
    /// Trying again will not help: a 5xx answer (unknown recipient, rejected content, refused
    /// login), or settings that cannot work.
    #[error("permanent failure ({stage:?}): {message}")]
    Permanent {
        /// Where it failed.
        stage: MailStage,
        /// The server's or the system's words.
        message: String,
    },
}

impl SendError {
    /// Whether the worker should retry.
    #[must_use]
    pub const fn is_temporary(&self) -> bool {
        matches!(self, Self::Temporary { .. })
    }

    /// The failed stage.
    #[must_use]
    pub const fn stage(&self) -> MailStage {
        match self {
            Self::Temporary { stage, .. } | Self::Permanent { stage, .. } => *stage,
        }
    }

    /// The server's or the system's words.
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Temporary { message, .. } | Self::Permanent { message, .. } => message,
        }
    }
}

/// Sends mail.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MailSender: Send + Sync + 'static {
    /// Sends `email` through `endpoint`.
    ///
    /// # Errors
    /// [`SendError::Temporary`] or [`SendError::Permanent`], with the stage that failed.
    async fn send(&self, endpoint: &SmtpEndpoint, email: &OutboundEmail) -> Result<(), SendError>;

    /// Connects and logs in without sending anything (the settings page's "Test connection").
    ///
    /// # Errors
    /// As for [`MailSender::send`], at the stage that failed.
    async fn check(&self, endpoint: &SmtpEndpoint) -> Result<(), SendError>;
}

/// Where and how to reach an IMAP server.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapEndpoint {
    /// Host name or address.
    pub host: String,
    /// Port (993 for TLS, 143 otherwise).
    pub port: u16,
    /// Transport security.
    pub security: MailSecurity,
    /// Login.
    pub username: String,
    /// Password.
    pub password: String,
    /// The folder to read (`INBOX`).
    pub folder: String,
}

impl std::fmt::Debug for ImapEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapEndpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("folder", &self.folder)
            .finish()
    }
}

/// Why a fetch or check failed, and at which stage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{stage:?}: {message}")]
pub struct ImapError {
    /// Where it failed.
    pub stage: MailStage,
    /// The server's or the system's words.
    pub message: String,
}

/// Where reading stopped last time: the folder's UIDVALIDITY and the highest UID taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The folder's UIDVALIDITY when `last_uid` was read.
    pub uid_validity: u32,
    /// The highest UID already taken in.
    pub last_uid: u32,
}

/// The new messages of one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Raw messages with their UIDs, in UID order.
    pub messages: Vec<(u32, Vec<u8>)>,
    /// Where the next fetch starts (the UID of the last message returned, or unchanged).
    pub cursor: Cursor,
    /// The folder's UIDVALIDITY changed since the given cursor (the server renumbered it): the
    /// whole folder was read again, and duplicates are left to Message-ID deduplication.
    pub renumbered: bool,
}

/// An open IMAP IDLE session on one folder: the server tells it when mail arrives.
#[async_trait]
pub trait MailWatch: Send + 'static {
    /// Waits in IDLE until the server reports a change in the folder (new mail, expunged
    /// messages) or `max_wait` passes, whichever is first, then leaves IDLE so the session can
    /// be used again. `true` when the server reported something (or had reported it since the
    /// last wait): the folder should be read. `max_wait` must stay below the server's IDLE limit
    /// (RFC 2177 servers end IDLE after about 29 minutes).
    ///
    /// # Errors
    /// [`ImapError`] when the connection failed or was dropped; the watch is then unusable.
    async fn wait(&mut self, max_wait: std::time::Duration) -> Result<bool, ImapError>;

    /// Logs out and closes the connection.
    async fn close(self: Box<Self>);
}

/// Reads mail over IMAP.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait MailFetcher: Send + Sync + 'static {
    /// Connects, logs in and opens the folder without reading anything (the settings page's
    /// "Test connection").
    ///
    /// # Errors
    /// [`ImapError`] with the stage that failed.
    async fn check(&self, endpoint: &ImapEndpoint) -> Result<(), ImapError>;

    /// The messages after `since` (all of them with no cursor, or when the folder's
    /// UIDVALIDITY changed), a bounded batch, oldest first, left unread on the server.
    ///
    /// # Errors
    /// [`ImapError`] with the stage that failed.
    async fn fetch(
        &self,
        endpoint: &ImapEndpoint,
        since: Option<Cursor>,
    ) -> Result<Fetched, ImapError>;

    /// Opens an IDLE session on the endpoint's folder, or `None` when the server does not
    /// advertise the `IDLE` capability (the caller polls instead). The default implementation
    /// does not support IDLE.
    ///
    /// # Errors
    /// [`ImapError`] with the stage that failed.
    async fn watch(
        &self,
        endpoint: &ImapEndpoint,
    ) -> Result<Option<Box<dyn MailWatch>>, ImapError> {
        let _ = endpoint;
        Ok(None)
    }
}
