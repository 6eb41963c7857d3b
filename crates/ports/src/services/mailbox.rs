//! The workspace's support mailbox: settings (admin only, passwords sealed and write-only), the
//! connection test, the poller's live status, and the opened SMTP settings for the outbox.

use std::sync::Arc;

use opsflow_domain::email::{MailSecurity, Mailbox};
use opsflow_domain::mailbox::{
    ImapSettings, MailFolder, MailHost, MailboxSettings, MailboxStatus, SmtpSettings, check_field,
    parse_from_name, parse_port, parse_username,
};
use opsflow_domain::{AuditKind, DetailKey, Email, FieldErrors, TenantId, TenantScope};

use crate::auth::Clock;
use crate::cipher::{CipherError, SecretCipher};
use crate::error::{AppError, AppResult, require_admin};
use crate::mail::{ImapEndpoint, MailFetcher, MailSender, MailStage, SmtpEndpoint};
use crate::repos::MailboxRepository;
use crate::services::audit::AuditLog;
use crate::services::auth::AuthContext;

/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// What a save does to a stored password.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PasswordChange {
    /// Keep the stored one (the field was missing or null).
    #[default]
    Keep,
    /// Remove it (the field was an empty string).
    Clear,
    /// Replace it.
    Set(String),
}

impl PasswordChange {
    /// `None` keeps, `""` clears, anything else sets.
    #[must_use]
    pub fn from_field(field: Option<String>) -> Self {
        match field {
            None => Self::Keep,
            Some(p) if p.is_empty() => Self::Clear,
            Some(p) => Self::Set(p),
        }
    }
}

/// One server section as the admin typed it (validated by [`MailboxService::put`]).
#[derive(Debug, Clone, Default)]
pub struct ServerInput {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: i64,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    /// Login (`None` or blank: no login; required for IMAP).
    pub username: Option<String>,
    /// The password change.
    pub password: PasswordChange,
}

/// The whole settings form.
#[derive(Debug, Clone, Default)]
pub struct MailboxInput {
    /// Whether mail is read and sent.
    pub enabled: bool,
    /// Inbound server.
    pub imap: ServerInput,
    /// The IMAP folder (`None`: `INBOX`).
    pub imap_folder: Option<String>,
    /// Outbound server.
    pub smtp: ServerInput,
    /// The sender address.
    pub from_address: String,
    /// The sender display name.
    pub from_name: String,
}

/// A server section as shown to admins: no password, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Security.
    pub security: MailSecurity,
    /// Login.
    pub username: Option<String>,
    /// Whether a password is stored.
    pub password_set: bool,
}

/// The mailbox as shown to admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxView {
    /// The saved settings without passwords; `None` until an admin saves some.
    pub settings: Option<SettingsView>,
    /// The poller's live status.
    pub status: MailboxStatus,
}

/// Saved settings without passwords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsView {
    /// Whether mail is read and sent.
    pub enabled: bool,
    /// Inbound.
    pub imap: ServerView,
    /// The IMAP folder.
    pub imap_folder: String,
    /// Outbound.
    pub smtp: ServerView,
    /// Sender address.
    pub from_address: Email,
    /// Sender name.
    pub from_name: String,
    /// When they were saved.
    pub updated_at: time::OffsetDateTime,
}

impl SettingsView {
    fn of(s: &MailboxSettings) -> Self {
        Self {
            enabled: s.enabled,
            imap: ServerView {
                host: s.imap.host.as_str().to_owned(),
                port: s.imap.port,
                security: s.imap.security,
                username: Some(s.imap.username.clone()),
                password_set: s.imap.password_sealed.is_some(),
            },
            imap_folder: s.imap.folder.as_str().to_owned(),
            smtp: ServerView {
                host: s.smtp.host.as_str().to_owned(),
                port: s.smtp.port,
                security: s.smtp.security,
                username: s.smtp.username.clone(),
                password_set: s.smtp.password_sealed.is_some(),
            },
            from_address: s.from_address.clone(),
            from_name: s.from_name.clone(),
            updated_at: s.updated_at,
        }
    }
}

/// The outcome of checking one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// Whether every step worked.
    pub ok: bool,
    /// The step that failed.
    pub stage: Option<MailStage>,
    /// What failed, in words an admin understands ([`MailStage::describe`]).
    pub explanation: Option<String>,
    /// The server's or the system's own words.
    pub detail: Option<String>,
}

impl CheckOutcome {
    fn ok() -> Self {
        Self { ok: true, stage: None, explanation: None, detail: None }
    }

    fn failed(stage: MailStage, detail: impl Into<String>) -> Self {
        Self {
            ok: false,
            stage: Some(stage),
            explanation: Some(stage.describe().to_owned()),
            detail: Some(detail.into()),
        }
    }
}

/// The outcome of "Test connection".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionTest {
    /// IMAP login and folder.
    pub imap: CheckOutcome,
    /// SMTP login.
    pub smtp: CheckOutcome,
}

fn context(tenant_id: TenantId, part: &str) -> Vec<u8> {
    format!("mailbox:{tenant_id}:{part}").into_bytes()
}

/// Seals an IMAP password for `tenant_id`'s stored settings as [`MailboxService::put`] does,
/// for tools that store settings below the service (the ingest benchmark).
///
/// # Errors
/// [`CipherError`] when sealing fails.
pub fn seal_imap_password(
    cipher: &dyn SecretCipher,
    tenant_id: TenantId,
    password: &str,
) -> Result<String, CipherError> {
    cipher.seal(password, &context(tenant_id, "imap"))
}

/// The IMAP endpoint of `settings` with its password opened.
///
/// # Errors
/// The cipher's error when the stored password cannot be opened.
pub fn imap_endpoint(
    cipher: &dyn SecretCipher,
    tenant_id: TenantId,
    s: &MailboxSettings,
) -> Result<ImapEndpoint, CipherError> {
    let password = s
        .imap
        .password_sealed
        .as_deref()
        .map(|p| cipher.open(p, &context(tenant_id, "imap")))
        .transpose()?
        .unwrap_or_default();
    Ok(ImapEndpoint {
        host: s.imap.host.as_str().to_owned(),
        port: s.imap.port,
        security: s.imap.security,
        username: s.imap.username.clone(),
        password,
        folder: s.imap.folder.as_str().to_owned(),
    })
}

/// The SMTP endpoint of `settings` with its password opened.
///
/// # Errors
/// The cipher's error when the stored password cannot be opened.
pub fn smtp_endpoint(
    cipher: &dyn SecretCipher,
    tenant_id: TenantId,
    s: &MailboxSettings,
) -> Result<SmtpEndpoint, CipherError> {
    let password = s
        .smtp
        .password_sealed
        .as_deref()
        .map(|p| cipher.open(p, &context(tenant_id, "smtp")))
        .transpose()?;
    Ok(SmtpEndpoint {
        host: s.smtp.host.as_str().to_owned(),
        port: s.smtp.port,
        security: s.smtp.security,
        username: s.smtp.username.clone(),
        password,
    })
}

/// Settings, test, status and outbound configuration of workspace mailboxes.
pub struct MailboxService {
    repo: Arc<dyn MailboxRepository>,
    cipher: Arc<dyn SecretCipher>,
    fetcher: Arc<dyn MailFetcher>,
    sender: Arc<dyn MailSender>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
}

struct Validated {
    host: MailHost,
    port: u16,
    security: MailSecurity,
    username: Option<String>,
}

fn server(errors: &mut FieldErrors, section: &str, input: &ServerInput) -> Option<Validated> {
    let host = check_field(errors, section, "host", MailHost::parse(&input.host));
    let port = check_field(errors, section, "port", parse_port(input.port));
    let security = check_field(errors, section, "security", input.security.parse());
    let username = match input.username.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => Some(check_field(errors, section, "username", parse_username(u))?),
    };
    if let PasswordChange::Set(p) = &input.password
        && p.chars().count() > MAX_PASSWORD_CHARS
    {
        errors.add(
            &format!("{section}.password"),
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        );
    }
    Some(Validated { host: host?, port: port?, security: security?, username })
}

impl MailboxService {
    /// Wires the service to its ports.
    pub fn new(
        repo: Arc<dyn MailboxRepository>,
        cipher: Arc<dyn SecretCipher>,
        fetcher: Arc<dyn MailFetcher>,
        sender: Arc<dyn MailSender>,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
    ) -> Self {
        Self { repo, cipher, fetcher, sender, clock, audit }
    }

    /// The mailbox settings (without passwords) and status (admin only).
    ///
    /// # Errors
    /// `Forbidden` for agents; `Unexpected`.
    pub async fn get(&self, scope: &TenantScope) -> AppResult<MailboxView> {
        require_admin(scope)?;
        let settings = self.repo.get_mailbox(scope).await?;
        let status = self.repo.get_mailbox_status(scope).await?;
        Ok(MailboxView { settings: settings.as_ref().map(SettingsView::of), status })
    }

    /// The poller's live status (admin only).
    ///
    /// # Errors
    /// `Forbidden` for agents; `Unexpected`.
    pub async fn status(&self, scope: &TenantScope) -> AppResult<MailboxStatus> {
        require_admin(scope)?;
        Ok(self.repo.get_mailbox_status(scope).await?)
    }

    /// Validates and saves the settings (admin only). A `Keep` password keeps the stored one,
    /// `Clear` removes it, `Set` seals and stores the new one. Recorded as
    /// `email_settings_updated` with the names of the parts that changed (never a password).
    ///
    /// # Errors
    /// `Forbidden`; `Validation` naming each bad field (`imap.host`, `smtp.port`, ...);
    /// `Unexpected`.
    pub async fn put(&self, ctx: &AuthContext, input: MailboxInput) -> AppResult<MailboxView> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let tenant_id = scope.tenant_id();
        let mut errors = FieldErrors::new();
        let imap = server(&mut errors, "imap", &input.imap);
        let smtp = server(&mut errors, "smtp", &input.smtp);
        if imap.as_ref().is_some_and(|i| i.username.is_none()) {
            errors.add("imap.username", "must not be empty");
        }
        let folder = match input.imap_folder.as_deref() {
            None => Some(MailFolder::inbox()),
            Some(f) => check_field(&mut errors, "imap", "folder", MailFolder::parse(f)),
        };
        let from_address = errors.check("from_address", Email::parse(&input.from_address));
        let from_name = errors.check("from_name", parse_from_name(&input.from_name));
        let (Some(imap), Some(smtp), Some(folder), Some(from_address), Some(from_name)) =
            (imap, smtp, folder, from_address, from_name)
        else {
            return Err(AppError::Validation(errors));
        };
        errors.into_result().map_err(AppError::Validation)?;

        let old = self.repo.get_mailbox(scope).await?;
        let seal = |change: &PasswordChange, old: Option<&String>, part: &str| match change {
            PasswordChange::Keep => Ok(old.cloned()),
            PasswordChange::Clear => Ok(None),
            PasswordChange::Set(p) => self
                .cipher
                .seal(p, &context(tenant_id, part))
                .map(Some)
                .map_err(AppError::unexpected),
        };
        let imap_password = seal(
            &input.imap.password,
            old.as_ref().and_then(|o| o.imap.password_sealed.as_ref()),
            "imap",
        )?;
        let smtp_password = seal(
            &input.smtp.password,
            old.as_ref().and_then(|o| o.smtp.password_sealed.as_ref()),
            "smtp",
        )?;
        let settings = MailboxSettings {
            enabled: input.enabled,
            imap: ImapSettings {
                host: imap.host,
                port: imap.port,
                security: imap.security,
                username: imap.username.unwrap_or_default(),
                password_sealed: imap_password,
                folder,
            },
            smtp: SmtpSettings {
                host: smtp.host,
                port: smtp.port,
                security: smtp.security,
                username: smtp.username,
                password_sealed: smtp_password,
            },
            from_address,
            from_name,
            updated_at: self.clock.now(),
        };
        let changed = changed_parts(old.as_ref(), &settings, &input);
        // Another server, account or folder has other UIDs: read it from the start (Message-ID
        // deduplication keeps mail already taken in from coming in twice).
        let reset_cursor = old.as_ref().is_some_and(|o| {
            o.imap.host != settings.imap.host
                || o.imap.port != settings.imap.port
                || o.imap.username != settings.imap.username
                || o.imap.folder != settings.imap.folder
        });
        self.repo.put_mailbox(scope, &settings, reset_cursor).await?;
        if !changed.is_empty() {
            let event = ctx
                .event(AuditKind::EmailSettingsUpdated, settings.updated_at)
                .with(DetailKey::Fields, changed.join(","));
            self.audit.record(scope, event).await;
        }
        self.get(scope).await
    }

    /// Connects to both servers with the saved settings: IMAP login and folder, SMTP login
    /// (admin only). Each part answers ok, or the failed stage in words and the server's words.
    ///
    /// # Errors
    /// `Forbidden`; `Validation` (`settings`) when nothing is saved yet; `Unexpected`.
    pub async fn test(&self, scope: &TenantScope) -> AppResult<ConnectionTest> {
        require_admin(scope)?;
        let Some(settings) = self.repo.get_mailbox(scope).await? else {
            return Err(AppError::field("settings", "must be saved before they can be tested"));
        };
        let tenant_id = scope.tenant_id();
        let imap = async {
            match imap_endpoint(self.cipher.as_ref(), tenant_id, &settings) {
                Err(e) => CheckOutcome::failed(MailStage::Auth, e.to_string()),
                Ok(endpoint) => match self.fetcher.check(&endpoint).await {
                    Ok(()) => CheckOutcome::ok(),
                    Err(e) => CheckOutcome::failed(e.stage, e.message),
                },
            }
        };
        let smtp = async {
            match smtp_endpoint(self.cipher.as_ref(), tenant_id, &settings) {
                Err(e) => CheckOutcome::failed(MailStage::Auth, e.to_string()),
                Ok(endpoint) => match self.sender.check(&endpoint).await {
                    Ok(()) => CheckOutcome::ok(),
                    Err(e) => CheckOutcome::failed(e.stage(), e.message()),
                },
            }
        };
        let (imap, smtp) = tokio::join!(imap, smtp);
        Ok(ConnectionTest { imap, smtp })
    }

    /// Where and as whom `tenant_id`'s replies are sent: the SMTP endpoint with its password
    /// opened and the sender. `None` when the mailbox is disabled or not set up.
    ///
    /// # Errors
    /// `Unexpected` (also when the stored password cannot be opened).
    pub async fn outbound_config(
        &self,
        tenant_id: TenantId,
    ) -> AppResult<Option<(SmtpEndpoint, Mailbox)>> {
        use crate::services::outbox::OutboundConfigSource as _;
        let source = MailboxOutbound::new(Arc::clone(&self.repo), Arc::clone(&self.cipher));
        Ok(source.outbound_config(tenant_id).await?)
    }
}

/// The names of the parts a save changed, for the audit log (passwords only as "changed").
fn changed_parts(
    old: Option<&MailboxSettings>,
    new: &MailboxSettings,
    input: &MailboxInput,
) -> Vec<&'static str> {
    let Some(old) = old else { return vec!["created"] };
    let mut changed = Vec::new();
    if old.enabled != new.enabled {
        changed.push("enabled");
    }
    let imap_server = |s: &MailboxSettings| {
        (
            s.imap.host.clone(),
            s.imap.port,
            s.imap.security,
            s.imap.username.clone(),
            s.imap.folder.clone(),
        )
    };
    if imap_server(old) != imap_server(new) {
        changed.push("imap");
    }
    if input.imap.password != PasswordChange::Keep {
        changed.push("imap_password");
    }
    let smtp_server = |s: &MailboxSettings| {
        (s.smtp.host.clone(), s.smtp.port, s.smtp.security, s.smtp.username.clone())
    };
    if smtp_server(old) != smtp_server(new) {
        changed.push("smtp");
    }
    if input.smtp.password != PasswordChange::Keep {
        changed.push("smtp_password");
    }
    if old.from_address != new.from_address || old.from_name != new.from_name {
        changed.push("sender");
    }
    changed
}

/// The workspaces' own mailboxes as the outbox's source of outbound settings: replies on email
/// tickets go out through the workspace's enabled mailbox, as its sender.
pub struct MailboxOutbound {
    repo: Arc<dyn MailboxRepository>,
    cipher: Arc<dyn SecretCipher>,
}

impl MailboxOutbound {
    /// Reads the settings from `repo`, opening passwords with `cipher`.
    pub fn new(repo: Arc<dyn MailboxRepository>, cipher: Arc<dyn SecretCipher>) -> Self {
        Self { repo, cipher }
    }
}

#[async_trait::async_trait]
impl crate::services::outbox::OutboundConfigSource for MailboxOutbound {
    async fn outbound_config(
        &self,
        tenant_id: TenantId,
    ) -> Result<Option<(SmtpEndpoint, Mailbox)>, crate::repos::RepoError> {
        let Some(settings) = self.repo.mailbox_settings(tenant_id).await? else {
            return Ok(None);
        };
        if !settings.enabled {
            return Ok(None);
        }
        let endpoint = smtp_endpoint(self.cipher.as_ref(), tenant_id, &settings)
            .map_err(crate::repos::RepoError::unexpected)?;
        let from = Mailbox {
            name: Some(settings.from_name.clone()),
            email: settings.from_address.clone(),
        };
        Ok(Some((endpoint, from)))
    }
}

/// The workspace's own address (its mailbox's sender), so mail from it is never taken in as a
/// customer's (no loops through the desk's own replies).
pub struct MailboxAddresses {
    repo: Arc<dyn MailboxRepository>,
}

impl MailboxAddresses {
    /// Reads the sender from `repo`.
    pub fn new(repo: Arc<dyn MailboxRepository>) -> Self {
        Self { repo }
    }
}

#[async_trait::async_trait]
impl crate::services::inbound_mail::OwnAddresses for MailboxAddresses {
    async fn own_addresses(
        &self,
        tenant_id: TenantId,
    ) -> Result<Vec<opsflow_domain::Email>, crate::repos::RepoError> {
        Ok(self
            .repo
            .mailbox_settings(tenant_id)
            .await?
            .map(|s| s.from_address)
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use opsflow_domain::{
        PersonName, Policies, Role, SessionId, Slug, Tenant, TenantName, User, UserId,
    };
    use time::OffsetDateTime;

    use super::*;
    use crate::auth::SystemClock;
    use crate::cipher::MockSecretCipher;
    use crate::mail::{MockMailFetcher, MockMailSender};
    use crate::repos::{MockAuditRepository, MockMailboxRepository};

    fn ctx(role: Role) -> AuthContext {
        let now = OffsetDateTime::now_utc();
        let name = TenantName::new("Acme").unwrap();
        let tenant = Tenant {
            id: TenantId::new(),
            slug: Slug::from_name(&name),
            name,
            policies: Policies::default(),
            auto_triage: opsflow_domain::AutoTriageSettings::default(),
            reply_policy: opsflow_domain::ReplyPolicy::default(),
            created_at: now,
            updated_at: now,
        };
        let user = User {
            id: UserId::new(),
            tenant_id: tenant.id,
            name: PersonName::new("Ada Admin").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            password_hash: "$argon2id$x".to_owned(),
            role,
            active: true,
            must_change_password: false,
            created_at: now,
            updated_at: now,
        };
        AuthContext {
            scope: TenantScope::new(tenant.id, user.id, role),
            user,
            tenant,
            session_id: SessionId::new(),
            address: None,
        }
    }

    fn input() -> MailboxInput {
        let server = |host: &str, port| ServerInput {
            host: host.to_owned(),
            port,
            security: "tls".to_owned(),
            username: Some("support@example.com".to_owned()),
            password: PasswordChange::Set(format!("secret-for-{host}")),
        };
        MailboxInput {
            enabled: true,
            imap: server("imap.example.com", 993),
            imap_folder: None,
            smtp: server("smtp.example.com", 465),
            from_address: "support@example.com".to_owned(),
            from_name: "Acme Support".to_owned(),
        }
    }

    /// A cipher that "seals" as `sealed(<context>|<text>)`, so the test sees both.
    fn fake_cipher() -> MockSecretCipher {
        let mut cipher = MockSecretCipher::new();
        cipher.expect_seal().returning(|text, context| {
            Ok(format!("sealed({}|{})", String::from_utf8_lossy(context), text.len()))
        });
        cipher.expect_open().returning(|sealed, context| {
            Ok(format!("opened({}|{sealed})", String::from_utf8_lossy(context)))
        });
        cipher
    }

    fn service(repo: MockMailboxRepository, audit: MockAuditRepository) -> MailboxService {
        MailboxService::new(
            Arc::new(repo),
            Arc::new(fake_cipher()),
            Arc::new(MockMailFetcher::new()),
            Arc::new(MockMailSender::new()),
            Arc::new(SystemClock),
            AuditLog::new(Arc::new(audit)),
        )
    }

    #[tokio::test]
    async fn agents_are_refused_before_the_store_is_asked() {
        let s = service(MockMailboxRepository::new(), MockAuditRepository::new());
        let agent = ctx(Role::Agent);
        assert!(matches!(s.get(&agent.scope).await, Err(AppError::Forbidden)));
        assert!(matches!(s.status(&agent.scope).await, Err(AppError::Forbidden)));
        assert!(matches!(s.test(&agent.scope).await, Err(AppError::Forbidden)));
        assert!(matches!(s.put(&agent, input()).await, Err(AppError::Forbidden)));
    }

    #[tokio::test]
    async fn passwords_are_sealed_per_workspace_and_part_and_never_stored_in_clear() {
        let admin = ctx(Role::Admin);
        let tenant = admin.scope.tenant_id();
        let stored: Arc<Mutex<Option<MailboxSettings>>> = Arc::default();
        let mut repo = MockMailboxRepository::new();
        let read = stored.clone();
        repo.expect_get_mailbox().returning(move |_| Ok(read.lock().unwrap().clone()));
        let write = stored.clone();
        repo.expect_put_mailbox().times(2).returning(move |_, s, _| {
            *write.lock().unwrap() = Some(s.clone());
            Ok(())
        });
        repo.expect_get_mailbox_status().returning(|_| Ok(MailboxStatus::default()));
        let mut audit = MockAuditRepository::new();
        audit.expect_record().times(2).returning(|_, _| Ok(()));
        let s = service(repo, audit);

        let view = s.put(&admin, input()).await.unwrap();
        let settings = view.settings.unwrap();
        assert!(settings.imap.password_set && settings.smtp.password_set);
        let saved = stored.lock().unwrap().clone().unwrap();
        let imap = saved.imap.password_sealed.clone().unwrap();
        assert_eq!(
            imap,
            format!("sealed(mailbox:{tenant}:imap|{})", "secret-for-imap.example.com".len())
        );
        assert!(
            saved
                .smtp
                .password_sealed
                .as_deref()
                .unwrap()
                .starts_with(&format!("sealed(mailbox:{tenant}:smtp|"))
        );
        assert!(!format!("{saved:?}").contains("secret-for"));

        // Keep leaves the sealed value as it was; Clear removes it.
        let mut next = input();
        next.imap.password = PasswordChange::Keep;
        next.smtp.password = PasswordChange::Clear;
        s.put(&admin, next).await.unwrap();
        let saved = stored.lock().unwrap().clone().unwrap();
        assert_eq!(saved.imap.password_sealed.as_deref(), Some(imap.as_str()));
        assert_eq!(saved.smtp.password_sealed, None);
    }

    #[tokio::test]
    async fn outbound_config_is_the_opened_smtp_endpoint_only_when_enabled() {
        let tenant = TenantId::new();
        let mut enabled = MailboxSettings {
            enabled: true,
            imap: ImapSettings {
                host: MailHost::parse("imap.example.com").unwrap(),
                port: 993,
                security: MailSecurity::Tls,
                username: "support".to_owned(),
                password_sealed: Some("i".to_owned()),
                folder: MailFolder::inbox(),
            },
            smtp: SmtpSettings {
                host: MailHost::parse("smtp.example.com").unwrap(),
                port: 587,
                security: MailSecurity::Starttls,
                username: Some("support".to_owned()),
                password_sealed: Some("s".to_owned()),
            },
            from_address: Email::parse("support@example.com").unwrap(),
            from_name: "Acme Support".to_owned(),
            updated_at: OffsetDateTime::now_utc(),
        };
        let answers = Arc::new(Mutex::new(vec![None, Some(enabled.clone())]));
        enabled.enabled = false;
        answers.lock().unwrap().insert(0, Some(enabled));
        let mut repo = MockMailboxRepository::new();
        let next = answers.clone();
        repo.expect_mailbox_settings()
            .times(3)
            .returning(move |_| Ok(next.lock().unwrap().remove(0)));
        let s = service(repo, MockAuditRepository::new());

        assert_eq!(s.outbound_config(tenant).await.unwrap(), None, "disabled");
        assert_eq!(s.outbound_config(tenant).await.unwrap(), None, "not set up");
        let (endpoint, from) = s.outbound_config(tenant).await.unwrap().unwrap();
        assert_eq!(endpoint.host, "smtp.example.com");
        assert_eq!((endpoint.port, endpoint.security), (587, MailSecurity::Starttls));
        assert_eq!(
            endpoint.password.as_deref(),
            Some(format!("opened(mailbox:{tenant}:smtp|s)").as_str())
        );
        assert_eq!(from.email.as_str(), "support@example.com");
        assert_eq!(from.name.as_deref(), Some("Acme Support"));
    }

    #[test]
    fn a_password_field_keeps_clears_or_sets() {
        assert_eq!(PasswordChange::from_field(None), PasswordChange::Keep);
        assert_eq!(PasswordChange::from_field(Some(String::new())), PasswordChange::Clear);
        assert_eq!(PasswordChange::from_field(Some("x".into())), PasswordChange::Set("x".into()));
    }
}
