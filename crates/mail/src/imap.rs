//! Fetching over IMAP with `async-imap`: implicit TLS, STARTTLS (required, never skipped) or
//! plain; new messages found by UID above the last one seen, under the folder's UIDVALIDITY, so
//! nothing is fetched twice and nothing is skipped, even across restarts. [`ImapWatch`] keeps an
//! IDLE session open on a folder where the server advertises IDLE (RFC 2177), so new mail is
//! known as soon as it arrives instead of at the next poll.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use opsflow_domain::email::MailSecurity;
pub use opsflow_ports::mail::{Cursor, Fetched, ImapEndpoint, ImapError};
use opsflow_ports::mail::{MailFetcher, MailStage, MailWatch};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

fn err(stage: MailStage, e: impl std::fmt::Display) -> ImapError {
    ImapError { stage, message: e.to_string() }
}

/// An IMAP client.
#[derive(Debug, Clone)]
pub struct ImapFetcher {
    timeout: Duration,
    batch: u32,
}

impl Default for ImapFetcher {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), batch: 100 }
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

type Session = async_imap::Session<Box<dyn Stream>>;

fn tls_connector() -> TlsConnector {
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let config = ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

impl ImapFetcher {
    /// A client whose network steps give up after `timeout`, taking at most `batch` messages per
    /// fetch.
    #[must_use]
    pub const fn new(timeout: Duration, batch: u32) -> Self {
        Self { timeout, batch }
    }

    async fn within<T>(
        &self,
        stage: MailStage,
        f: impl std::future::Future<Output = Result<T, ImapError>>,
    ) -> Result<T, ImapError> {
        tokio::time::timeout(self.timeout, f)
            .await
            .unwrap_or_else(|_| Err(err(stage, "the server did not answer in time")))
    }

    async fn tls(&self, host: &str, tcp: TcpStream) -> Result<Box<dyn Stream>, ImapError> {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| err(MailStage::Tls, e))?;
        let stream = self
            .within(MailStage::Tls, async {
                tls_connector().connect(name, tcp).await.map_err(|e| err(MailStage::Tls, e))
            })
            .await?;
        Ok(Box::new(stream))
    }

    /// Connects, secures and logs in.
    async fn session(&self, endpoint: &ImapEndpoint) -> Result<Session, ImapError> {
        let host = endpoint.host.trim();
        if host.is_empty() {
            return Err(err(MailStage::Connect, "no IMAP server is configured"));
        }
        let addrs = self
            .within(MailStage::Dns, async {
                tokio::net::lookup_host((host, endpoint.port))
                    .await
                    .map_err(|e| err(MailStage::Dns, e))
            })
            .await?
            .collect::<Vec<_>>();
        let addr = *addrs.first().ok_or_else(|| err(MailStage::Dns, "no address found"))?;
        let tcp = self
            .within(MailStage::Connect, async {
                TcpStream::connect(addr).await.map_err(|e| err(MailStage::Connect, e))
            })
            .await?;
        let stream: Box<dyn Stream> = match endpoint.security {
            MailSecurity::Tls => self.tls(host, tcp).await?,
            MailSecurity::None => Box::new(tcp),
            MailSecurity::Starttls => {
                let mut client = Client::new(tcp);
                self.within(MailStage::Connect, async {
                    client.read_response().await.map_err(|e| err(MailStage::Connect, e))?;
                    client
                        .run_command_and_check_ok("STARTTLS", None)
                        .await
                        .map_err(|e| err(MailStage::Tls, format!("STARTTLS refused: {e}")))
                })
                .await?;
                return self
                    .login(Client::new(self.tls(host, client.into_inner()).await?), endpoint, false)
                    .await;
            }
        };
        self.login(Client::new(stream), endpoint, true).await
    }

    async fn login(
        &self,
        mut client: Client<Box<dyn Stream>>,
        endpoint: &ImapEndpoint,
        greeting: bool,
    ) -> Result<Session, ImapError> {
        self.within(MailStage::Auth, async {
            if greeting {
                client
                    .read_response()
                    .await
                    .map_err(|e| err(MailStage::Connect, e))?
                    .ok_or_else(|| err(MailStage::Connect, "the server closed the connection"))?;
            }
            client
                .login(&endpoint.username, &endpoint.password)
                .await
                .map_err(|(e, _)| err(MailStage::Auth, e))
        })
        .await
    }

    /// Logs in and opens the folder (the settings page's "Test connection").
    ///
    /// # Errors
    /// [`ImapError`] with the stage that failed.
    pub async fn check(&self, endpoint: &ImapEndpoint) -> Result<(), ImapError> {
        let mut session = self.session(endpoint).await?;
        let result = self
            .within(MailStage::Folder, async {
                session.examine(&endpoint.folder).await.map_err(|e| err(MailStage::Folder, e))
            })
            .await;
        let _ = session.logout().await;
        result.map(drop)
    }

    /// The messages after `since` (all of them with no cursor, or when the folder's
    /// UIDVALIDITY changed), at most `batch`, oldest first. Messages are not changed on the
    /// server (read with `BODY.PEEK`, so they stay unread for people who also use the mailbox).
    ///
    /// # Errors
    /// [`ImapError`] with the stage that failed.
    pub async fn fetch(
        &self,
        endpoint: &ImapEndpoint,
        since: Option<Cursor>,
    ) -> Result<Fetched, ImapError> {
        let mut session = self.session(endpoint).await?;
        let result = self.fetch_in(&mut session, endpoint, since).await;
        let _ = session.logout().await;
        result
    }

    async fn fetch_in(
        &self,
        session: &mut Session,
        endpoint: &ImapEndpoint,
        since: Option<Cursor>,
    ) -> Result<Fetched, ImapError> {
        let mailbox = self
            .within(MailStage::Folder, async {
                session.examine(&endpoint.folder).await.map_err(|e| err(MailStage::Folder, e))
            })
            .await?;
        let uid_validity = mailbox
            .uid_validity
            .ok_or_else(|| err(MailStage::Folder, "the server gave no UIDVALIDITY"))?;
        let renumbered = since.is_some_and(|c| c.uid_validity != uid_validity);
        let last_uid = since.filter(|c| c.uid_validity == uid_validity).map_or(0, |c| c.last_uid);
        let mut cursor = Cursor { uid_validity, last_uid };
        if mailbox.exists == 0 {
            return Ok(Fetched { messages: Vec::new(), cursor, renumbered });
        }
        // UIDs are not dense: ask for the next ones with a search, then fetch a batch of them.
        let mut uids: Vec<u32> = self
            .within(MailStage::Folder, async {
                session
                    .uid_search(format!("UID {}:*", last_uid.saturating_add(1)))
                    .await
                    .map_err(|e| err(MailStage::Folder, e))
            })
            .await?
            .into_iter()
            // "N:*" always matches the last message, even below N.
            .filter(|uid| *uid > last_uid)
            .collect();
        uids.sort_unstable();
        uids.truncate(self.batch as usize);
        let Some(&last) = uids.last() else {
            return Ok(Fetched { messages: Vec::new(), cursor, renumbered });
        };
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let fetched = self
            .within(MailStage::Folder, async {
                let stream = session
                    .uid_fetch(&set, "(UID BODY.PEEK[])")
                    .await
                    .map_err(|e| err(MailStage::Folder, e))?;
                stream.try_collect::<Vec<_>>().await.map_err(|e| err(MailStage::Folder, e))
            })
            .await?;
        let mut messages: Vec<(u32, Vec<u8>)> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
            .filter(|(uid, _)| uids.binary_search(uid).is_ok())
            .collect();
        messages.sort_by_key(|(uid, _)| *uid);
        messages.dedup_by_key(|(uid, _)| *uid);
        // A message deleted between the search and the fetch is simply not there any more.
        cursor.last_uid = messages.last().map_or(last, |(uid, _)| *uid);
        Ok(Fetched { messages, cursor, renumbered })
    }
}

impl ImapFetcher {
    /// Logs in, opens the folder read-only and checks that the server advertises IDLE; `None`
    /// when it does not.
    ///
    /// # Errors
    /// [`ImapError`] with the stage that failed.
    pub async fn watch(&self, endpoint: &ImapEndpoint) -> Result<Option<ImapWatch>, ImapError> {
        let mut session = self.session(endpoint).await?;
        let opened = self
            .within(MailStage::Folder, async {
                let caps = session.capabilities().await.map_err(|e| err(MailStage::Connect, e))?;
                if !caps.has_str("IDLE") {
                    return Ok(false);
                }
                session.examine(&endpoint.folder).await.map_err(|e| err(MailStage::Folder, e))?;
                Ok(true)
            })
            .await;
        match opened {
            Ok(true) => {
                let pending = session.unsolicited_responses.clone();
                Ok(Some(ImapWatch { session: Some(session), pending, timeout: self.timeout }))
            }
            Ok(false) => {
                let _ = session.logout().await;
                Ok(None)
            }
            Err(e) => {
                let _ = session.logout().await;
                Err(e)
            }
        }
    }
}

/// An IDLE session on one folder (see [`MailWatch`]).
pub struct ImapWatch {
    /// `None` once a failure left the connection unusable.
    session: Option<Session>,
    /// Untagged responses the session set aside (EXISTS seen while entering or leaving IDLE).
    pending: async_channel::Receiver<UnsolicitedResponse>,
    timeout: Duration,
}

impl std::fmt::Debug for ImapWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapWatch").field("open", &self.session.is_some()).finish_non_exhaustive()
    }
}

impl ImapWatch {
    /// Whether the server reported a change that was set aside: a new message count, recent
    /// messages or an expunge.
    fn drain_pending(&self) -> bool {
        let mut changed = false;
        while let Ok(r) = self.pending.try_recv() {
            changed |= matches!(
                r,
                UnsolicitedResponse::Exists(_)
                    | UnsolicitedResponse::Recent(_)
                    | UnsolicitedResponse::Expunge(_)
            );
        }
        changed
    }

    async fn idle_once(&mut self, max_wait: Duration) -> Result<bool, ImapError> {
        let session = self
            .session
            .take()
            .ok_or_else(|| err(MailStage::Connect, "the IDLE connection was lost earlier"))?;
        let before = self.drain_pending();
        let mut idle = session.idle();
        tokio::time::timeout(self.timeout, idle.init())
            .await
            .map_err(|_| err(MailStage::Connect, "the server did not answer IDLE in time"))?
            .map_err(|e| err(MailStage::Connect, e))?;
        // Mail that arrived while the folder was being read is announced before the server's
        // "+ idling": it was set aside, so there is no need to wait for the next one.
        let signalled = if before || self.drain_pending() {
            true
        } else {
            let (wait, _stop) = idle.wait_with_timeout(max_wait);
            // The library's timeout restarts on every keep-alive ("* OK Still here"); the
            // caller renews its lease between waits, so the wait itself must end on time.
            match tokio::time::timeout(max_wait, wait).await {
                Err(_) => false,
                Ok(r) => match r.map_err(|e| err(MailStage::Connect, e))? {
                    async_imap::extensions::idle::IdleResponse::NewData(_) => true,
                    async_imap::extensions::idle::IdleResponse::Timeout
                    | async_imap::extensions::idle::IdleResponse::ManualInterrupt => false,
                },
            }
        };
        let session = tokio::time::timeout(self.timeout, idle.done())
            .await
            .map_err(|_| err(MailStage::Connect, "the server did not end IDLE in time"))?
            .map_err(|e| err(MailStage::Connect, e))?;
        self.session = Some(session);
        Ok(signalled || self.drain_pending())
    }
}

#[async_trait::async_trait]
impl MailWatch for ImapWatch {
    async fn wait(&mut self, max_wait: Duration) -> Result<bool, ImapError> {
        self.idle_once(max_wait).await
    }

    async fn close(mut self: Box<Self>) {
        if let Some(mut session) = self.session.take() {
            let _ = tokio::time::timeout(self.timeout, session.logout()).await;
        }
    }
}

#[async_trait::async_trait]
impl MailFetcher for ImapFetcher {
    async fn watch(
        &self,
        endpoint: &ImapEndpoint,
    ) -> Result<Option<Box<dyn MailWatch>>, ImapError> {
        Ok(Self::watch(self, endpoint).await?.map(|w| Box::new(w) as Box<dyn MailWatch>))
    }

    async fn check(&self, endpoint: &ImapEndpoint) -> Result<(), ImapError> {
        Self::check(self, endpoint).await
    }

    async fn fetch(
        &self,
        endpoint: &ImapEndpoint,
        since: Option<Cursor>,
    ) -> Result<Fetched, ImapError> {
        Self::fetch(self, endpoint, since).await
    }
}
