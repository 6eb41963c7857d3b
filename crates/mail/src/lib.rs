//! # opsflow-mail
//!
//! The email channel's adapters. Today: [`parse`], which turns a raw RFC 5322 message (as IMAP
//! fetches it or an MTA posts it) into the domain's [`InboundEmail`], with `mail-parser` doing
//! the MIME work: RFC 2047 encoded words, charsets (UTF-8, ISO-8859-x, Windows-125x, Shift_JIS,
//! …), multipart/alternative (text/plain preferred, HTML converted to readable text),
//! attachments. Automatic mail (auto-replies, bounces, bulk) is recognised here so it can never
//! open a ticket or get an answer.
//!
//! ```
//! let raw = b"From: Ann <ann@example.com>\r\nSubject: =?UTF-8?Q?Caf=C3=A9_login?=\r\n\
//! Message-ID: <1@example.com>\r\n\r\nI cannot log in.\r\n";
//! let email = opsflow_mail::parse(raw, &opsflow_mail::Limits::default()).unwrap();
//! assert_eq!(email.subject, "Café login");
//! assert_eq!(email.from.email.as_str(), "ann@example.com");
//! assert!(email.automated.is_none());
//! ```

#![deny(missing_docs)]

pub mod imap;
pub mod intake;
pub mod smtp;

pub use imap::ImapFetcher;
pub use smtp::SmtpSender;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders};
use opsflow_domain::Email;
use opsflow_domain::email::{Automated, InboundAttachment, InboundEmail, Mailbox, trim_quoted};
use sha2::{Digest, Sha256};

/// Size limits for inbound mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest raw message accepted, in bytes (attachments included).
    pub max_message_bytes: usize,
}

impl Default for Limits {
    /// 10 MB per message.
    fn default() -> Self {
        Self { max_message_bytes: 10 * 1024 * 1024 }
    }
}

/// Why a message could not be taken in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Larger than [`Limits::max_message_bytes`].
    #[error("the message is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// The message's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not an RFC 5322 message (no header section could be read).
    #[error("this is not an email message (no headers could be read)")]
    NotAMessage,
    /// No usable sender address (`From`, or `Reply-To`, missing or invalid).
    #[error("the message has no valid sender address")]
    NoSender,
}

/// Parses a raw message.
///
/// # Errors
/// [`ParseError::TooLarge`], [`ParseError::NotAMessage`], [`ParseError::NoSender`]. Never
/// panics, whatever the bytes.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<InboundEmail, ParseError> {
    if raw.len() > limits.max_message_bytes {
        return Err(ParseError::TooLarge { size: raw.len(), limit: limits.max_message_bytes });
    }
    let message = MessageParser::default().parse(raw).ok_or(ParseError::NotAMessage)?;
    if message.headers().is_empty() {
        return Err(ParseError::NotAMessage);
    }
    let from = first_mailbox(message.from());
    let reply_to = first_mailbox(message.reply_to());
    let from = match (from, &reply_to) {
        (Some(from), _) => from,
        // No (valid) From but a Reply-To: answer there.
        (None, Some(reply_to)) => reply_to.clone(),
        (None, None) => return Err(ParseError::NoSender),
    };
    let reply_to = reply_to.filter(|r| r.email != from.email);
    let body = body_text(&message);
    let automated = automated(&message, &from);
    let message_id = match message.message_id() {
        Some(id) if !id.trim().is_empty() => clean_id(id),
        // Without a Message-ID, the content decides what counts as the same message.
        _ => format!("{}@opsflow.sha256", hex(&Sha256::digest(raw))[..32].to_owned()),
    };
    Ok(InboundEmail {
        message_id,
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        subject: message.subject().map(one_line).unwrap_or_default(),
        new_text: trim_quoted(&body),
        body,
        attachments: attachments(&message),
        automated,
        from,
        reply_to,
    })
}

fn first_mailbox(address: Option<&Address<'_>>) -> Option<Mailbox> {
    let addr = address?.first()?;
    let email = Email::parse(addr.address()?).ok()?;
    let name = addr
        .name()
        .map(one_line)
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(email.as_str()));
    Some(Mailbox { name, email })
}

/// Message ids from `In-Reply-To`/`References`, without angle brackets.
fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => t.split_whitespace().map(clean_id).collect(),
        HeaderValue::TextList(list) => {
            list.iter().flat_map(|t| t.split_whitespace()).map(clean_id).collect()
        }
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|id| !id.is_empty())
    .collect()
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text the customer sees: the first text/plain body, else the HTML body as text.
fn body_text(message: &Message<'_>) -> String {
    // `body_text` already falls back to converting the HTML body when there is no plain one.
    let text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let text = text.replace("\r\n", "\n").replace('\u{a0}', " ");
    // Collapse runs of blank lines left by HTML conversion.
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

fn attachments(message: &Message<'_>) -> Vec<InboundAttachment> {
    message
        .attachments()
        .enumerate()
        .map(|(i, part)| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_owned())
                .to_ascii_lowercase();
            let filename = part
                .attachment_name()
                .map(safe_filename)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("attachment-{}.bin", i + 1));
            InboundAttachment { filename, content_type, data: part.contents().to_vec() }
        })
        .collect()
}

/// A file name safe to offer for download: no path, no control characters, at most 200 chars.
fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.chars().filter(|c| !c.is_control()).take(200).collect::<String>().trim().to_owned()
}

fn header_text(message: &Message<'_>, name: &str) -> Option<String> {
    message.header_raw(name).map(|v| v.trim().to_ascii_lowercase())
}

/// Recognises mail that must never open a ticket or be answered (RFC 3834 and common practice).
fn automated(message: &Message<'_>, from: &Mailbox) -> Option<Automated> {
    let local = from.email.as_str().split('@').next().unwrap_or("");
    let is_report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    if is_report
        || matches!(local, "mailer-daemon" | "postmaster")
        || header_text(message, "X-Failed-Recipients").is_some()
    {
        return Some(Automated::Bounce);
    }
    // `Auto-Submitted: no` is an explicit "written by a person". A `noreply@` sender is not
    // automatic by itself: contact forms send from one with the customer in Reply-To.
    let auto_submitted =
        header_text(message, "Auto-Submitted").is_some_and(|v| !v.starts_with("no"));
    if auto_submitted
        || header_text(message, "X-Autoreply").is_some()
        || header_text(message, "X-Autorespond").is_some()
    {
        return Some(Automated::AutoReply);
    }
    let precedence = header_text(message, "Precedence");
    if precedence.as_deref().is_some_and(|p| matches!(p, "bulk" | "list" | "junk" | "auto_reply"))
        || header_text(message, "List-Id").is_some()
        || header_text(message, "List-Unsubscribe").is_some()
    {
        return Some(if precedence.as_deref() == Some("auto_reply") {
            Automated::AutoReply
        } else {
            Automated::Bulk
        });
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
