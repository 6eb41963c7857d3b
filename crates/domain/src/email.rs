//! The email channel's pure model: an inbound message as the desk sees it, and the rules that
//! keep threads together (ticket references in subjects, reply subjects) and keep follow-ups
//! short (quoted history and signatures trimmed). Parsing raw RFC 5322 bytes is an adapter's job
//! (`opsflow-mail`); everything here works on already-decoded text.

use crate::Email;

/// A named address: `Ann Example <ann@example.com>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, when the message gave one.
    pub name: Option<String>,
    /// The address, normalised.
    pub email: Email,
}

/// Why a message must never create a ticket or get an answer (mail-loop protection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automated {
    /// An out-of-office or other automatic answer (`Auto-Submitted`, `X-Autoreply`, …).
    AutoReply,
    /// A delivery status notification (mailer-daemon, `multipart/report`).
    Bounce,
    /// Bulk or list mail (`Precedence: bulk|list|junk`, `List-Id`, `List-Unsubscribe`).
    Bulk,
}

impl Automated {
    /// A short English reason, for logs and the mailbox status.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            Self::AutoReply => "automatic reply",
            Self::Bounce => "delivery status notification",
            Self::Bulk => "bulk or mailing-list mail",
        }
    }
}

/// A file that came with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAttachment {
    /// The file name the sender gave, or a generated one (`attachment-1.bin`).
    pub filename: String,
    /// The MIME type, lower case (`application/pdf`).
    pub content_type: String,
    /// The decoded bytes.
    pub data: Vec<u8>,
}

/// One inbound message, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEmail {
    /// `Message-ID` without angle brackets (one is derived from the content when missing, so
    /// duplicates are still recognised).
    pub message_id: String,
    /// `In-Reply-To` ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` ids, without angle brackets, oldest first.
    pub references: Vec<String>,
    /// The sender (`From`).
    pub from: Mailbox,
    /// Where answers go (`Reply-To`), when different from `From`.
    pub reply_to: Option<Mailbox>,
    /// The decoded subject, trimmed (may be empty).
    pub subject: String,
    /// The whole text body (text/plain preferred, else HTML converted to text).
    pub body: String,
    /// The body without quoted history and signature: what the customer wrote this time.
    pub new_text: String,
    /// Attachments, decoded.
    pub attachments: Vec<InboundAttachment>,
    /// Set when the message is automatic (never a ticket, never answered).
    pub automated: Option<Automated>,
}

impl InboundEmail {
    /// The customer: `Reply-To` when given, else `From`.
    #[must_use]
    pub fn customer(&self) -> &Mailbox {
        self.reply_to.as_ref().unwrap_or(&self.from)
    }

    /// Every message id this one answers (`In-Reply-To` first, then `References` newest first),
    /// deduplicated: the ids to look a thread up by.
    #[must_use]
    pub fn thread_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for id in self.in_reply_to.iter().chain(self.references.iter().rev()) {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        ids
    }
}

/// Whether a stored message came in from a customer or went out from the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailDirection {
    /// Received (inbound endpoint or IMAP).
    In,
    /// Sent by the desk (outbox).
    Out,
}

impl MailDirection {
    /// The stored form: `in` or `out`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }

    /// Parses the stored form.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "in" => Some(Self::In),
            "out" => Some(Self::Out),
            _ => None,
        }
    }
}

/// How a mail connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailSecurity {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587); refused if the server
    /// does not offer it.
    Starttls,
    /// No encryption (only for servers on the same host or a trusted network).
    None,
}

/// One message the desk sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    /// Sender: the agent's name with the workspace's address.
    pub from: Mailbox,
    /// The customer.
    pub to: Mailbox,
    /// The subject (see [`reply_subject`]).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// This message's id, without angle brackets (`<uuid>@<workspace domain>`).
    pub message_id: String,
    /// The id of the message answered, if any.
    pub in_reply_to: Option<String>,
    /// The thread's ids, oldest first.
    pub references: Vec<String>,
}

/// Reply and forward prefixes in the languages mail clients commonly use.
const PREFIXES: &[&str] =
    &["re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "rif", "tr", "odp", "r", "ynt"];

/// The subject without leading `Re:`/`Fwd:`/`AW:`/`Re[2]:` prefixes (any number, any case).
#[must_use]
pub fn strip_reply_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    loop {
        let Some(colon) = rest.find(':') else { return rest };
        let head = rest[..colon].trim();
        // "Re[2]" and "Re(2)" count as "Re".
        let word = head.split(['[', '(']).next().unwrap_or(head).trim();
        if colon <= 8 && PREFIXES.iter().any(|p| p.eq_ignore_ascii_case(word)) {
            rest = rest[colon + 1..].trim_start();
        } else {
            return rest;
        }
    }
}

/// The ticket number a subject refers to: `[#1042]` anywhere in it (the form our replies use).
#[must_use]
pub fn ticket_reference(subject: &str) -> Option<u64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: &str =
            &after[..after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len())];
        if !digits.is_empty()
            && after[digits.len()..].starts_with(']')
            && let Ok(n) = digits.parse::<u64>()
        {
            return Some(n);
        }
        rest = after;
    }
    None
}

/// The subject of our reply to `subject` on ticket `number`: one `Re: ` and one `[#number]`,
/// however many the customer's client added.
#[must_use]
pub fn reply_subject(subject: &str, number: u64) -> String {
    let tag = format!("[#{number}]");
    let base = strip_reply_prefixes(subject);
    let base = base.replace(&tag, "");
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    if base.is_empty() { format!("Re: {tag}") } else { format!("Re: {base} {tag}") }
}

/// The part of a reply the sender wrote this time: everything before the quoted history
/// (`On … wrote:`, `-----Original Message-----`, an Outlook `From:`/`Sent:` block, a run of `>`
/// lines) and before the signature delimiter `-- `. Falls back to the whole text when trimming
/// would leave nothing (a message that is only a quote is kept as it is).
#[must_use]
pub fn trim_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        let starts_history = line == "-- "
            || raw.trim_end_matches('\r') == "-- "
            || line.starts_with("-----Original Message-----")
            || line.starts_with("----- Original Message -----")
            || line.starts_with("________________________________")
            || is_attribution(line, next)
            || (line.starts_with("From:")
                && lines[i + 1..].iter().take(4).any(|l| {
                    let l = l.trim();
                    l.starts_with("Sent:") || l.starts_with("Date:")
                }))
            || (line.starts_with('>')
                && lines[i..].iter().all(|l| {
                    let l = l.trim();
                    l.is_empty() || l.starts_with('>')
                }));
        if starts_history {
            end = i;
            break;
        }
    }
    let kept = lines[..end].join("\n");
    let kept = kept.trim();
    if kept.is_empty() { text.trim().to_owned() } else { kept.to_owned() }
}

/// `On Tue, 3 Mar 2026 at 10:02, Ann <ann@example.com> wrote:` (possibly wrapped over two
/// lines), and its common translations (`Am … schrieb …:`, `Le … a écrit :`, …).
fn is_attribution(line: &str, next: &str) -> bool {
    const VERBS: &[&str] = &["wrote", "schrieb", "écrit", "escribió", "scrisse", "schreef"];
    const STARTS: &[&str] = &["On ", "Am ", "Le ", "El ", "Il ", "Op "];
    if !STARTS.iter().any(|s| line.starts_with(s)) {
        return false;
    }
    let says = |l: &str| l.ends_with(':') && VERBS.iter().any(|v| l.contains(v));
    says(line) || (line.len() < 120 && !next.is_empty() && says(&format!("{line} {next}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(email: &str) -> Mailbox {
        Mailbox { name: None, email: Email::parse(email).unwrap() }
    }

    #[test]
    fn prefixes_are_stripped_in_any_number_and_language() {
        assert_eq!(strip_reply_prefixes("Re: RE: Fwd: Login broken"), "Login broken");
        assert_eq!(strip_reply_prefixes("AW: Re[2]: Rechnung"), "Rechnung");
        assert_eq!(strip_reply_prefixes("SV:Faktura"), "Faktura");
        assert_eq!(strip_reply_prefixes("Meeting: Tuesday"), "Meeting: Tuesday");
        assert_eq!(strip_reply_prefixes("Result: 3 failures"), "Result: 3 failures");
        assert_eq!(strip_reply_prefixes("  "), "");
    }

    #[test]
    fn ticket_references_are_found_only_in_their_exact_form() {
        assert_eq!(ticket_reference("Re: Login broken [#1042]"), Some(1042));
        assert_eq!(ticket_reference("[#7] Re: x"), Some(7));
        assert_eq!(ticket_reference("Issue #1042 again"), None);
        assert_eq!(ticket_reference("[#] [#abc] [#12x] [#99]"), Some(99));
        assert_eq!(
            ticket_reference("[#99999999999999999999999]"),
            None,
            "overflow is no reference"
        );
    }

    #[test]
    fn reply_subjects_have_one_re_and_one_reference() {
        assert_eq!(reply_subject("Login broken", 12), "Re: Login broken [#12]");
        assert_eq!(reply_subject("RE: Re: Login broken [#12]", 12), "Re: Login broken [#12]");
        assert_eq!(reply_subject("AW: [#12] Login  broken", 12), "Re: Login broken [#12]");
        assert_eq!(reply_subject("", 3), "Re: [#3]");
    }

    #[test]
    fn quoted_history_and_signatures_are_trimmed() {
        let gmail = "Still broken after the update.\n\nOn Tue, 3 Mar 2026 at 10:02, Acme Support <support@acme.test> wrote:\n> Please try again.\n> Thanks";
        assert_eq!(trim_quoted(gmail), "Still broken after the update.");
        let wrapped = "Works now, thanks!\n\nOn Tue, 3 Mar 2026 at 10:02, Acme Support\n<support@acme.test> wrote:\n> Please try again.";
        assert_eq!(trim_quoted(wrapped), "Works now, thanks!");
        let outlook = "See attached.\r\n\r\nFrom: Acme Support <support@acme.test>\r\nSent: Tuesday, March 3, 2026 10:02 AM\r\nTo: Ann\r\nSubject: RE: Invoice\r\n\r\nPlease send the invoice.";
        assert_eq!(trim_quoted(outlook), "See attached.");
        let original = "Yes.\n-----Original Message-----\nFrom: x";
        assert_eq!(trim_quoted(original), "Yes.");
        let signature = "Thanks!\n\n-- \nAnn Example\nCEO, Example Ltd";
        assert_eq!(trim_quoted(signature), "Thanks!");
        let german = "Geht wieder.\n\nAm 03.03.2026 um 10:02 schrieb Acme Support <support@acme.test>:\n> Bitte neu starten.";
        assert_eq!(trim_quoted(german), "Geht wieder.");
    }

    #[test]
    fn text_that_only_looks_like_history_is_kept() {
        // A "From:" line without a Sent/Date line is the customer's own text.
        let text = "From: our Berlin office we cannot log in.\nPlease help.";
        assert_eq!(trim_quoted(text), text);
        // Interleaved answers (quote, answer, quote) are kept whole.
        let inline = "> Which browser?\nFirefox 140.\n> Which page?\nCheckout.";
        assert_eq!(trim_quoted(inline), inline);
        // A message that is only a quote is kept rather than emptied.
        assert_eq!(trim_quoted("> just a quote"), "> just a quote");
        assert_eq!(trim_quoted(""), "");
    }

    #[test]
    fn the_customer_is_reply_to_else_from_and_thread_ids_are_deduplicated() {
        let mut m = InboundEmail {
            message_id: "a@x".into(),
            in_reply_to: vec!["c@x".into()],
            references: vec!["b@x".into(), "c@x".into()],
            from: mailbox("ann@example.com"),
            reply_to: None,
            subject: String::new(),
            body: String::new(),
            new_text: String::new(),
            attachments: vec![],
            automated: None,
        };
        assert_eq!(m.customer().email.as_str(), "ann@example.com");
        assert_eq!(m.thread_ids(), ["c@x", "b@x"]);
        m.reply_to = Some(mailbox("help@example.com"));
        assert_eq!(m.customer().email.as_str(), "help@example.com");
    }
}
