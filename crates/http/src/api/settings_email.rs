//! `/api/settings/email`: the workspace's support mailbox (admin only): settings with
//! write-only passwords, the connection test, and the poller's live status.
//!
//! The DTOs live here rather than in `dto.rs`: they are used by these operations only.

use std::sync::Arc;

use opsflow_domain::email::MailSecurity;
use opsflow_domain::mailbox::{DEFAULT_FOLDER, MailboxStatus};
use opsflow_ports::error::require_admin;
use opsflow_ports::mail::MailStage;
use opsflow_ports::services::mailbox::{
    CheckOutcome, ConnectionTest, MailboxInput, MailboxView, PasswordChange, ServerInput,
};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::api::ApiTags;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// How a mail connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "MailSecurity", rename_all = "snake_case")]
pub enum MailSecurityDto {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No encryption (trusted networks only).
    None,
}

impl From<MailSecurity> for MailSecurityDto {
    fn from(s: MailSecurity) -> Self {
        match s {
            MailSecurity::Tls => Self::Tls,
            MailSecurity::Starttls => Self::Starttls,
            MailSecurity::None => Self::None,
        }
    }
}

/// The step of a connection that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "MailStage", rename_all = "snake_case")]
pub enum MailStageDto {
    /// Looking the host name up.
    Dns,
    /// Opening the connection.
    Connect,
    /// The TLS handshake or STARTTLS.
    Tls,
    /// Logging in.
    Auth,
    /// Opening the folder.
    Folder,
    /// Handing a message over.
    Send,
}

impl From<MailStage> for MailStageDto {
    fn from(s: MailStage) -> Self {
        match s {
            MailStage::Dns => Self::Dns,
            MailStage::Connect => Self::Connect,
            MailStage::Tls => Self::Tls,
            MailStage::Auth => Self::Auth,
            MailStage::Folder => Self::Folder,
            MailStage::Send => Self::Send,
        }
    }
}

/// Inbound server settings as saved (the password is never returned).
#[derive(Debug, Clone, Object)]
#[oai(rename = "ImapSettings")]
pub struct ImapSettingsDto {
    /// Host name or address (empty until configured).
    pub host: String,
    /// TCP port (IMAP: 993 with TLS, 143 with STARTTLS; SMTP: 465 with TLS, 587 with
    /// STARTTLS).
    pub port: u16,
    /// Transport security.
    pub security: MailSecurityDto,
    /// The user name the server expects (often the mailbox address).
    pub username: String,
    /// Whether a password is stored.
    pub password_set: bool,
    /// The folder read (`INBOX`).
    pub folder: String,
}

/// Outbound server settings as saved (the password is never returned).
#[derive(Debug, Clone, Object)]
#[oai(rename = "SmtpSettings")]
pub struct SmtpSettingsDto {
    /// Host name or address (empty until configured).
    pub host: String,
    /// TCP port (IMAP: 993 with TLS, 143 with STARTTLS; SMTP: 465 with TLS, 587 with
    /// STARTTLS).
    pub port: u16,
    /// Transport security.
    pub security: MailSecurityDto,
    /// Login (empty: the server takes mail without one).
    pub username: String,
    /// Whether a password is stored.
    pub password_set: bool,
}

/// The live status of the mailbox's poller.
#[derive(Debug, Clone, Object)]
#[oai(rename = "MailboxStatus")]
pub struct MailboxStatusDto {
    /// When mail was last fetched without an error.
    pub last_fetch_at: Option<OffsetDateTime>,
    /// The last error, in words.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<OffsetDateTime>,
    /// When the poller tries again after failures (null: at its next round).
    pub next_retry_at: Option<OffsetDateTime>,
    /// Failed rounds in a row.
    pub consecutive_failures: u32,
}

impl From<MailboxStatus> for MailboxStatusDto {
    fn from(s: MailboxStatus) -> Self {
        Self {
            last_fetch_at: s.last_fetch_at,
            last_error: s.last_error,
            last_error_at: s.last_error_at,
            next_retry_at: s.next_retry_at,
            consecutive_failures: s.consecutive_failures,
        }
    }
}

/// The workspace's mailbox settings and status.
#[derive(Debug, Clone, Object)]
#[oai(rename = "EmailSettings")]
pub struct EmailSettingsDto {
    /// Whether settings were ever saved (otherwise the fields show defaults).
    pub configured: bool,
    /// Whether the desk reads and sends mail through this mailbox.
    pub enabled: bool,
    /// Inbound (IMAP).
    pub imap: ImapSettingsDto,
    /// Outbound (SMTP).
    pub smtp: SmtpSettingsDto,
    /// The address replies come from.
    pub from_address: String,
    /// The name replies come from.
    pub from_name: String,
    /// When they were last saved.
    pub updated_at: Option<OffsetDateTime>,
    /// The poller's live status.
    pub status: MailboxStatusDto,
}

impl From<MailboxView> for EmailSettingsDto {
    fn from(v: MailboxView) -> Self {
        let status = v.status.into();
        match v.settings {
            None => Self {
                configured: false,
                enabled: false,
                imap: ImapSettingsDto {
                    host: String::new(),
                    port: 993,
                    security: MailSecurityDto::Tls,
                    username: String::new(),
                    password_set: false,
                    folder: DEFAULT_FOLDER.to_owned(),
                },
                smtp: SmtpSettingsDto {
                    host: String::new(),
                    port: 465,
                    security: MailSecurityDto::Tls,
                    username: String::new(),
                    password_set: false,
                },
                from_address: String::new(),
                from_name: String::new(),
                updated_at: None,
                status,
            },
            Some(s) => Self {
                configured: true,
                enabled: s.enabled,
                imap: ImapSettingsDto {
                    host: s.imap.host,
                    port: s.imap.port,
                    security: s.imap.security.into(),
                    username: s.imap.username.unwrap_or_default(),
                    password_set: s.imap.password_set,
                    folder: s.imap_folder,
                },
                smtp: SmtpSettingsDto {
                    host: s.smtp.host,
                    port: s.smtp.port,
                    security: s.smtp.security.into(),
                    username: s.smtp.username.unwrap_or_default(),
                    password_set: s.smtp.password_set,
                },
                from_address: s.from_address.as_str().to_owned(),
                from_name: s.from_name,
                updated_at: Some(s.updated_at),
                status,
            },
        }
    }
}

/// Inbound server settings to save.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "ImapSettingsInput")]
#[serde(deny_unknown_fields)]
pub struct ImapSettingsInput {
    /// Host name or address (≤ 253 characters, no spaces).
    pub host: String,
    /// Port, 1–65535 (993 with `tls`, 143 otherwise).
    pub port: i64,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    /// The user name the server expects (often the mailbox address).
    pub username: String,
    /// Missing or null keeps the stored password; an empty string removes it.
    #[serde(default)]
    pub password: Option<String>,
    /// The folder to read (default `INBOX`, ≤ 200 characters).
    #[serde(default)]
    pub folder: Option<String>,
}

/// Outbound server settings to save.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "SmtpSettingsInput")]
#[serde(deny_unknown_fields)]
pub struct SmtpSettingsInput {
    /// Host name or address (≤ 253 characters, no spaces).
    pub host: String,
    /// Port, 1–65535 (465 with `tls`, 587 with `starttls`).
    pub port: i64,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    /// Login (empty or missing: none).
    #[serde(default)]
    pub username: Option<String>,
    /// Missing or null keeps the stored password; an empty string removes it.
    #[serde(default)]
    pub password: Option<String>,
}

/// The mailbox settings to save (admin).
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "EmailSettingsInput")]
#[serde(deny_unknown_fields)]
pub struct EmailSettingsInput {
    /// Read and send mail through this mailbox.
    pub enabled: bool,
    /// Inbound (IMAP).
    pub imap: ImapSettingsInput,
    /// Outbound (SMTP).
    pub smtp: SmtpSettingsInput,
    /// The address replies come from.
    pub from_address: String,
    /// The name replies come from (≤ 100 characters).
    pub from_name: String,
}

impl From<EmailSettingsInput> for MailboxInput {
    fn from(b: EmailSettingsInput) -> Self {
        Self {
            enabled: b.enabled,
            imap: ServerInput {
                host: b.imap.host,
                port: b.imap.port,
                security: b.imap.security,
                username: Some(b.imap.username),
                password: PasswordChange::from_field(b.imap.password),
            },
            imap_folder: b.imap.folder,
            smtp: ServerInput {
                host: b.smtp.host,
                port: b.smtp.port,
                security: b.smtp.security,
                username: b.smtp.username,
                password: PasswordChange::from_field(b.smtp.password),
            },
            from_address: b.from_address,
            from_name: b.from_name,
        }
    }
}

/// The result of checking one server.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ConnectionCheck")]
pub struct ConnectionCheckDto {
    /// Whether every step worked.
    pub ok: bool,
    /// The step that failed.
    pub stage: Option<MailStageDto>,
    /// What failed, in plain words.
    pub explanation: Option<String>,
    /// The server's or the system's own words.
    pub detail: Option<String>,
}

impl From<CheckOutcome> for ConnectionCheckDto {
    fn from(c: CheckOutcome) -> Self {
        Self {
            ok: c.ok,
            stage: c.stage.map(Into::into),
            explanation: c.explanation,
            detail: c.detail,
        }
    }
}

/// The result of "Test connection".
#[derive(Debug, Clone, Object)]
#[oai(rename = "EmailTestResult")]
pub struct EmailTestResultDto {
    /// IMAP login and folder.
    pub imap: ConnectionCheckDto,
    /// SMTP login.
    pub smtp: ConnectionCheckDto,
}

impl From<ConnectionTest> for EmailTestResultDto {
    fn from(t: ConnectionTest) -> Self {
        Self { imap: t.imap.into(), smtp: t.smtp.into() }
    }
}

/// Mailbox settings answer.
#[derive(ApiResponse)]
pub enum EmailSettingsResult {
    /// The settings (without passwords) and status.
    #[oai(status = 200)]
    Ok(Json<EmailSettingsDto>),
}

/// Connection test answer.
#[derive(ApiResponse)]
pub enum EmailTestResult {
    /// Per part: ok, or the failed step in words.
    #[oai(status = 200)]
    Ok(Json<EmailTestResultDto>),
}

/// Mailbox status answer.
#[derive(ApiResponse)]
pub enum MailboxStatusResult {
    /// The poller's live status.
    #[oai(status = 200)]
    Ok(Json<MailboxStatusDto>),
}

/// Email settings operations.
pub struct SettingsEmailApi;

#[OpenApi(tag = "ApiTags::Workspace")]
impl SettingsEmailApi {
    /// The support mailbox settings (passwords never returned) and live status (admin).
    #[oai(path = "/settings/email", method = "get", operation_id = "get_email_settings")]
    async fn get_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<EmailSettingsResult> {
        let view = state.mailbox.get(&auth.0.scope).await?;
        Ok(EmailSettingsResult::Ok(Json(view.into())))
    }

    /// Save the support mailbox settings (admin). A missing or null password keeps the stored
    /// one; an empty string removes it.
    #[oai(path = "/settings/email", method = "put", operation_id = "put_email_settings")]
    async fn put_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<EmailSettingsInput>,
    ) -> ApiResult<EmailSettingsResult> {
        require_admin(&auth.0.scope)?;
        let view = state.mailbox.put(&auth.0, body.0.into()).await?;
        Ok(EmailSettingsResult::Ok(Json(view.into())))
    }

    /// Check the saved settings: IMAP login and folder, SMTP login (admin). Answers per part
    /// which step failed and why.
    #[oai(path = "/settings/email/test", method = "post", operation_id = "test_email_settings")]
    async fn test_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<EmailTestResult> {
        let result = state.mailbox.test(&auth.0.scope).await?;
        Ok(EmailTestResult::Ok(Json(result.into())))
    }

    /// The mailbox poller's live status: last fetch, last error, next retry (admin).
    #[oai(path = "/settings/email/status", method = "get", operation_id = "get_email_status")]
    async fn get_status(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<MailboxStatusResult> {
        let status = state.mailbox.status(&auth.0.scope).await?;
        Ok(MailboxStatusResult::Ok(Json(status.into())))
    }
}
