//! Redaction of emails, phone numbers and card numbers before text leaves for an external provider.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use opsflow_ports::llm::{LlmClient, LlmError, LlmRequest, LlmResponse, map_strings};
use regex::{Captures, Regex};
use serde_json::Value;

/// Placeholder for an email address.
pub const EMAIL: &str = "[email]";
/// Placeholder for a phone number.
pub const PHONE: &str = "[phone]";
/// Placeholder for a payment card number.
pub const CARD: &str = "[card]";

#[allow(clippy::expect_used)] // constant patterns, covered by the tests below
static CARD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("card pattern"));
#[allow(clippy::expect_used)]
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("email pattern")
});
// A phone number is an optional `+country`, an optional `(area)`, then digit groups joined by
// single spaces, dots or dashes. Which matches really are phones is decided in `phone_like`.
#[allow(clippy::expect_used)]
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{1,8}(?:[ .\-]\d{1,8}){0,5}")
        .expect("phone pattern")
});
#[allow(clippy::expect_used)]
static DATE_OR_IP_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{4}|\d{1,3}(?:\.\d{1,3}){3})$")
        .expect("date pattern")
});

/// Whether the digits pass the Luhn checksum used by payment cards.
#[must_use]
pub fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0;
    let mut count = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else { return false };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        count += 1;
    }
    count > 0 && sum % 10 == 0
}

fn phone_like(candidate: &str) -> bool {
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    if !(7..=15).contains(&digits) || DATE_OR_IP_RE.is_match(candidate) {
        return false;
    }
    // A bare run of digits is more often an order or invoice number than a phone number.
    candidate.starts_with('+') || candidate.contains('(') || candidate.contains([' ', '-', '.'])
}

/// Replaces card numbers (13–19 digits, Luhn-valid), emails and phone numbers in `text`.
#[must_use]
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let cards = CARD_RE.replace_all(text, |c: &Captures<'_>| {
        let m = &c[0];
        let digits: String = m.chars().filter(char::is_ascii_digit).collect();
        if (13..=19).contains(&digits.len()) && luhn_valid(&digits) {
            CARD.to_owned()
        } else {
            m.to_owned()
        }
    });
    let emails = EMAIL_RE.replace_all(&cards, EMAIL);
    let phones = PHONE_RE.replace_all(&emails, |c: &Captures<'_>| {
        let m = c.get(0).map_or("", |m| m.as_str());
        // Digits glued to letters or dashes belong to something else (an id, a UUID, a SKU).
        let start = c.get(0).map_or(0, |m| m.start());
        let end = c.get(0).map_or(0, |m| m.end());
        let before = emails[..start].chars().next_back();
        let after = emails[end..].chars().next();
        let glued = |ch: Option<char>| ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '-');
        if !glued(before) && !glued(after) && phone_like(m.trim()) {
            PHONE.to_owned()
        } else {
            m.to_owned()
        }
    });
    if phones == text { Cow::Borrowed(text) } else { Cow::Owned(phones.into_owned()) }
}

/// Redacts every string inside a JSON value, leaving keys and UUIDs (record ids) alone.
#[must_use]
pub fn redact_value(value: &Value) -> Value {
    map_strings(value, &|s| redact_text(s).into_owned())
}

/// The request with personal data replaced in every message and in the context.
#[must_use]
pub fn redact_request(request: &LlmRequest) -> LlmRequest {
    let mut out = request.clone();
    for message in &mut out.messages {
        if let Cow::Owned(clean) = redact_text(&message.content) {
            message.content = clean;
        }
    }
    out.task = request.task.map_strings(&|s| redact_text(s).into_owned());
    out
}

/// Wraps a client so it only ever sees redacted requests.
#[derive(Debug, Clone)]
pub struct Redacting<C> {
    inner: C,
}

impl<C: LlmClient> Redacting<C> {
    /// Wraps `inner`.
    pub const fn new(inner: C) -> Self {
        Self { inner }
    }

    /// The wrapped client.
    pub const fn inner(&self) -> &C {
        &self.inner
    }
}

#[async_trait]
impl<C: LlmClient> LlmClient for Redacting<C> {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        self.inner.complete(&redact_request(request)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted::ScriptedLlm;
    use opsflow_ports::llm::{ChatMessage, TriageTask};
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case("Mail me at jane.doe+shop@example.co.uk please", "Mail me at [email] please")]
    #[case("Card 4111 1111 1111 1111 was charged twice", "Card [card] was charged twice")]
    #[case("card 4111-1111-1111-1111", "card [card]")]
    #[case("amex 378282246310005.", "amex [card].")]
    #[case("Call +44 20 7946 0958 or (555) 123-4567", "Call [phone] or [phone]")]
    #[case("my cell is 555-867-5309", "my cell is [phone]")]
    #[case("call 030 1234567 tomorrow", "call [phone] tomorrow")]
    #[case("office 555.123.4567", "office [phone]")]
    fn personal_data_is_replaced(#[case] input: &str, #[case] want: &str) {
        assert_eq!(redact_text(input), want);
        // Redacting again changes nothing (the workflow and the provider wrapper both redact).
        assert_eq!(redact_text(want), want);
    }

    #[rstest]
    #[case("Order 123456789 failed")]
    #[case("Released on 2024-05-01 at 10:30")]
    #[case("Server 192.168.10.24 is down")]
    #[case("Upgrade to version 10.2.14")]
    #[case("Invoice INV-2024-00042 is wrong")]
    #[case("Card 4111 1111 1111 1112 fails Luhn, so it is left")]
    #[case("ticket 0190a3b2-7c11-7abc-8def-123456789012")]
    #[case("We have 25 users and 3 sites")]
    fn ordinary_numbers_are_kept(#[case] input: &str) {
        assert_eq!(redact_text(input), input);
    }

    #[test]
    fn luhn() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("5555555555554444"));
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
    }

    #[tokio::test]
    async fn the_wrapped_client_sees_only_redacted_text() {
        let inner = ScriptedLlm::new();
        inner.push_ok(json!({"category": "billing", "reason": "r"}));
        let client = Redacting::new(inner);
        let id = "0190a3b2-7c11-7abc-8def-123456789012";
        let context = json!({
            "ticket": {"customer_email": "bob@client.io", "body": "ring +1 415 555 0100"},
            "candidates": [{"id": id, "name": "Sam", "role": "agent", "open_tickets": 3}],
        });
        let request = LlmRequest {
            task: TriageTask::from_parts("assignee_suggestion", context).expect("task"),
            messages: vec![
                ChatMessage::system("Classify."),
                ChatMessage::user(
                    "From bob@client.io: card 5555 5555 5555 4444, call 555-867-5309",
                ),
            ],
            schema_name: "assignee_suggestion".into(),
            schema: json!({"type": "object"}),
        };
        let response = client.complete(&request).await.expect("scripted answer");
        assert_eq!(response.value["category"], "billing");
        let seen = client.inner().requests();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].messages[0].content, "Classify.");
        assert_eq!(seen[0].messages[1].content, "From [email]: card [card], call [phone]");
        let context = seen[0].context();
        assert_eq!(context["ticket"]["customer_email"], "[email]");
        assert_eq!(context["ticket"]["body"], "ring [phone]");
        assert_eq!(context["candidates"][0]["id"], id);
        assert_eq!(context["candidates"][0]["open_tickets"], 3);
    }
}
