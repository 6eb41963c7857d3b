//! A workspace's support mailbox: where inbound mail is read (IMAP), how replies leave (SMTP),
//! the address they come from, and the live status of the poller that reads it.
//!
//! Passwords here are always in their sealed form (encrypted by the secret cipher port): the
//! domain never holds a mailbox password in clear.

use std::str::FromStr;

use time::OffsetDateTime;

use crate::email::MailSecurity;
use crate::{Email, FieldErrors};

/// Longest host name (RFC 1035: 253 characters in text form).
pub const MAX_HOST_CHARS: usize = 253;
/// Longest IMAP folder name kept.
pub const MAX_FOLDER_CHARS: usize = 200;
/// Longest login name kept.
pub const MAX_USERNAME_CHARS: usize = 320;
/// Longest display name of the sender.
pub const MAX_FROM_NAME_CHARS: usize = 100;
/// The folder read when none is given.
pub const DEFAULT_FOLDER: &str = "INBOX";

/// Why a mailbox setting was rejected; the message completes "`<field>` ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailSettingError {
    /// Empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// Longer than allowed.
    #[error("must be at most {0} characters")]
    TooLong(usize),
    /// A host name with spaces or control characters.
    #[error("must be a host name or address without spaces (like imap.example.com)")]
    BadHost,
    /// A port outside 1..=65535.
    #[error("must be a port number from 1 to 65535")]
    BadPort,
    /// Not `tls`, `starttls` or `none`.
    #[error("must be one of: tls, starttls, none")]
    BadSecurity,
    /// Control characters where none are allowed.
    #[error("must not contain control characters")]
    ControlCharacters,
}

fn bounded(raw: &str, max: usize) -> Result<String, MailSettingError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(MailSettingError::Empty);
    }
    if t.chars().count() > max {
        return Err(MailSettingError::TooLong(max));
    }
    if t.chars().any(char::is_control) {
        return Err(MailSettingError::ControlCharacters);
    }
    Ok(t.to_owned())
}

/// A mail server's host name or address: non-empty, at most 253 characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailHost(String);

impl MailHost {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`MailSettingError::Empty`], [`MailSettingError::TooLong`], [`MailSettingError::BadHost`].
    pub fn parse(raw: &str) -> Result<Self, MailSettingError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(MailSettingError::Empty);
        }
        if t.chars().count() > MAX_HOST_CHARS {
            return Err(MailSettingError::TooLong(MAX_HOST_CHARS));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '@') {
            return Err(MailSettingError::BadHost);
        }
        Ok(Self(t.to_ascii_lowercase()))
    }

    /// The host.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IMAP folder name: non-empty, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailFolder(String);

impl MailFolder {
    /// Trims and checks `raw`.
    ///
    /// # Errors
    /// [`MailSettingError::Empty`], [`MailSettingError::TooLong`],
    /// [`MailSettingError::ControlCharacters`].
    pub fn parse(raw: &str) -> Result<Self, MailSettingError> {
        bounded(raw, MAX_FOLDER_CHARS).map(Self)
    }

    /// `INBOX`.
    #[must_use]
    pub fn inbox() -> Self {
        Self(DEFAULT_FOLDER.to_owned())
    }

    /// The folder name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a port number.
///
/// # Errors
/// [`MailSettingError::BadPort`] outside 1..=65535.
pub fn parse_port(raw: i64) -> Result<u16, MailSettingError> {
    u16::try_from(raw).ok().filter(|p| *p != 0).ok_or(MailSettingError::BadPort)
}

/// Checks a login name (trimmed, non-empty, at most 320 characters).
///
/// # Errors
/// As for [`MailFolder::parse`].
pub fn parse_username(raw: &str) -> Result<String, MailSettingError> {
    bounded(raw, MAX_USERNAME_CHARS)
}

/// Checks the sender's display name (trimmed, non-empty, at most 100 characters).
///
/// # Errors
/// As for [`MailFolder::parse`].
pub fn parse_from_name(raw: &str) -> Result<String, MailSettingError> {
    bounded(raw, MAX_FROM_NAME_CHARS)
}

impl MailSecurity {
    /// The wire text: `tls`, `starttls` or `none`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Starttls => "starttls",
            Self::None => "none",
        }
    }
}

impl FromStr for MailSecurity {
    type Err = MailSettingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tls" => Ok(Self::Tls),
            "starttls" => Ok(Self::Starttls),
            "none" => Ok(Self::None),
            _ => Err(MailSettingError::BadSecurity),
        }
    }
}

/// Where inbound mail is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSettings {
    /// Server.
    pub host: MailHost,
    /// Port (993 with TLS, 143 otherwise).
    pub port: u16,
    /// Transport security.
    pub security: MailSecurity,
    /// Login.
    pub username: String,
    /// The password, sealed by the secret cipher; `None` when not set.
    pub password_sealed: Option<String>,
    /// The folder read.
    pub folder: MailFolder,
}

/// How replies leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// Server.
    pub host: MailHost,
    /// Port (465 with TLS, 587 with STARTTLS, 25 without).
    pub port: u16,
    /// Transport security.
    pub security: MailSecurity,
    /// Login; `None` for a server that takes mail without one.
    pub username: Option<String>,
    /// The password, sealed by the secret cipher; `None` when not set.
    pub password_sealed: Option<String>,
}

/// A workspace's support mailbox settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSettings {
    /// Whether the desk reads and sends mail through it (off by default).
    pub enabled: bool,
    /// Inbound.
    pub imap: ImapSettings,
    /// Outbound.
    pub smtp: SmtpSettings,
    /// The address replies come from (and customers write to).
    pub from_address: Email,
    /// The display name replies come from (`Acme Support`).
    pub from_name: String,
    /// When an admin last saved them.
    pub updated_at: OffsetDateTime,
}

/// The live state of a mailbox's poller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    /// When mail was last fetched without an error.
    pub last_fetch_at: Option<OffsetDateTime>,
    /// The last error, in words (stage and the server's message).
    pub last_error: Option<String>,
    /// When that error happened.
    pub last_error_at: Option<OffsetDateTime>,
    /// When the poller tries again after failures (`None`: at its next round).
    pub next_retry_at: Option<OffsetDateTime>,
    /// Failed rounds in a row (0 after a success).
    pub consecutive_failures: u32,
}

/// The first retry delay after a failure.
pub const FIRST_RETRY: time::Duration = time::Duration::seconds(30);
/// The longest retry delay.
pub const MAX_RETRY: time::Duration = time::Duration::minutes(15);

/// How long to wait after the `(failures_before + 1)`-th failure in a row:
/// 30 s · 2^`failures_before`, at most 15 minutes.
#[must_use]
pub fn retry_delay(failures_before: u32) -> time::Duration {
    let factor = 1_i64.checked_shl(failures_before.min(20)).unwrap_or(i64::MAX);
    FIRST_RETRY
        .checked_mul(i32::try_from(factor).unwrap_or(i32::MAX))
        .unwrap_or(MAX_RETRY)
        .min(MAX_RETRY)
}

/// Collects the field errors of one server section (`imap` or `smtp`) into `errors`, prefixed
/// with the section (`imap.host`).
pub fn check_field<T>(
    errors: &mut FieldErrors,
    section: &str,
    field: &str,
    r: Result<T, MailSettingError>,
) -> Option<T> {
    errors.check(&format!("{section}.{field}"), r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_trimmed_lower_case_and_without_spaces() {
        assert_eq!(MailHost::parse("  IMAP.Example.com ").unwrap().as_str(), "imap.example.com");
        assert_eq!(MailHost::parse("127.0.0.1").unwrap().as_str(), "127.0.0.1");
        assert_eq!(MailHost::parse("  "), Err(MailSettingError::Empty));
        assert_eq!(MailHost::parse("imap example.com"), Err(MailSettingError::BadHost));
        assert_eq!(MailHost::parse("user@imap.example.com"), Err(MailSettingError::BadHost));
        assert_eq!(MailHost::parse(&"a".repeat(254)), Err(MailSettingError::TooLong(253)));
        assert!(MailHost::parse(&"a".repeat(253)).is_ok());
    }

    #[test]
    fn ports_are_1_to_65535() {
        assert_eq!(parse_port(993), Ok(993));
        assert_eq!(parse_port(65_535), Ok(65_535));
        for bad in [0, -1, 65_536, i64::MAX] {
            assert_eq!(parse_port(bad), Err(MailSettingError::BadPort), "{bad}");
        }
    }

    #[test]
    fn folders_and_names_are_bounded() {
        assert_eq!(MailFolder::parse(" Support/Inbox ").unwrap().as_str(), "Support/Inbox");
        assert_eq!(MailFolder::parse(""), Err(MailSettingError::Empty));
        assert_eq!(MailFolder::parse(&"f".repeat(201)), Err(MailSettingError::TooLong(200)));
        assert_eq!(MailFolder::parse("a\nb"), Err(MailSettingError::ControlCharacters));
        assert_eq!(MailFolder::inbox().as_str(), "INBOX");
        assert_eq!(parse_from_name(&"n".repeat(101)), Err(MailSettingError::TooLong(100)));
        assert_eq!(parse_username(" support "), Ok("support".to_owned()));
    }

    #[test]
    fn security_parses_its_three_words() {
        for s in [MailSecurity::Tls, MailSecurity::Starttls, MailSecurity::None] {
            assert_eq!(s.as_str().parse::<MailSecurity>(), Ok(s));
        }
        assert_eq!("STARTTLS".parse::<MailSecurity>(), Ok(MailSecurity::Starttls));
        assert_eq!("ssl".parse::<MailSecurity>(), Err(MailSettingError::BadSecurity));
    }

    #[test]
    fn retries_back_off_from_30_seconds_to_15_minutes() {
        let secs: Vec<i64> = (0..8).map(|n| retry_delay(n).whole_seconds()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY);
    }

    #[test]
    fn field_errors_name_the_section_and_field() {
        let mut errors = FieldErrors::new();
        assert_eq!(check_field(&mut errors, "imap", "port", parse_port(0)), None);
        assert_eq!(
            errors.fields().get("imap.port").map(String::as_str),
            Some("must be a port number from 1 to 65535")
        );
    }
}
