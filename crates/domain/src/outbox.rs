//! The email outbox's pure model: one queued message per emailed reply, its delivery state, and
//! the retry schedule (exponential backoff, capped, then give up).

use time::{Duration, OffsetDateTime};

use crate::email::OutboundEmail;
use crate::{Email, ReplyId, TenantId, TicketId};

/// Where an outbound email is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Waiting for a worker (the first try, or a retry after a temporary failure).
    Queued,
    /// A worker holds it under a lease and is talking to the SMTP server. A `sending` row whose
    /// lease expired (the worker crashed) is claimed again.
    Sending,
    /// The SMTP server accepted it.
    Sent,
    /// Given up: a permanent (5xx) answer, no mailbox any more, or too many temporary failures.
    Failed,
}

impl DeliveryState {
    /// The stored and API form (`queued`, `sending`, `sent`, `failed`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored form.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Queued, Self::Sending, Self::Sent, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// How many times a message is tried (temporary failures) before it is marked failed.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 8;

/// The wait after the `attempts`-th temporary failure: 1 minute, doubled per attempt, at most
/// 1 hour (1, 2, 4, 8, 16, 32, 60, 60 … minutes).
#[must_use]
pub fn retry_delay(attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(6);
    Duration::minutes(1_i64 << exponent).min(Duration::hours(1))
}

/// What a temporary failure after `attempts` tries leads to: another try at the returned time,
/// or `None` when the message has been tried [`MAX_DELIVERY_ATTEMPTS`] times (give up).
#[must_use]
pub fn next_attempt(attempts: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    (attempts < MAX_DELIVERY_ATTEMPTS).then(|| now + retry_delay(attempts))
}

/// The Message-ID of the email of `reply`, sent from `from`: `reply-<reply uuid>@<domain>`. The
/// inbound intake recognises this form in a customer's `In-Reply-To`/`References`, so their
/// answer is threaded onto the ticket even if their client drops the subject's `[#N]`.
#[must_use]
pub fn reply_message_id(reply: ReplyId, from: &Email) -> String {
    let domain = from.as_str().rsplit_once('@').map_or("localhost", |(_, d)| d);
    format!("reply-{}@{domain}", reply.as_uuid())
}

/// The reply a Message-ID of ours belongs to (the inverse of [`reply_message_id`]).
#[must_use]
pub fn reply_of_message_id(message_id: &str) -> Option<ReplyId> {
    let rest = message_id.trim().trim_matches(['<', '>']).strip_prefix("reply-")?;
    let (id, _) = rest.split_once('@')?;
    ReplyId::parse(id).ok()
}

/// One row of the outbox: the email of one sent reply and its delivery. Keyed by the reply's id
/// (a reply is emailed at most once; a retry sends the same message again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The reply this email carries (also the row's id).
    pub reply_id: ReplyId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The reply's ticket.
    pub ticket_id: TicketId,
    /// The message exactly as it is sent (Message-ID, threading headers included).
    pub email: OutboundEmail,
    /// Where it is.
    pub state: DeliveryState,
    /// Tries so far (a claim counts one).
    pub attempts: u32,
    /// When it may be tried next (for `queued`).
    pub next_attempt_at: OffsetDateTime,
    /// The last failure, in the server's or the system's words.
    pub last_error: Option<String>,
    /// For `sending`: until when the claiming worker holds it.
    pub lease_until: Option<OffsetDateTime>,
    /// When the server accepted it.
    pub sent_at: Option<OffsetDateTime>,
    /// When it was queued (with the reply).
    pub created_at: OffsetDateTime,
}

impl OutboxMessage {
    /// A message queued at `now` for its first try.
    #[must_use]
    pub const fn queued(
        tenant_id: TenantId,
        ticket_id: TicketId,
        reply_id: ReplyId,
        email: OutboundEmail,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            reply_id,
            tenant_id,
            ticket_id,
            email,
            state: DeliveryState::Queued,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            lease_until: None,
            sent_at: None,
            created_at: now,
        }
    }

    /// Its delivery, as the thread shows it.
    #[must_use]
    pub fn delivery(&self) -> Delivery {
        Delivery {
            reply_id: self.reply_id,
            state: self.state,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            next_attempt_at: (self.state == DeliveryState::Queued).then_some(self.next_attempt_at),
            sent_at: self.sent_at,
        }
    }
}

/// The delivery of one reply's email, without the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The reply.
    pub reply_id: ReplyId,
    /// Where it is.
    pub state: DeliveryState,
    /// Tries so far.
    pub attempts: u32,
    /// The last failure.
    pub last_error: Option<String>,
    /// For `queued`: when the next try is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// When the server accepted it.
    pub sent_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_minute_and_caps_at_one_hour() {
        let minutes: Vec<i64> = (1..=9).map(|n| retry_delay(n).whole_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(retry_delay(0), Duration::minutes(1));
        assert_eq!(retry_delay(u32::MAX), Duration::hours(1));
    }

    #[test]
    fn the_eighth_temporary_failure_gives_up() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(next_attempt(1, now), Some(now + Duration::minutes(1)));
        assert_eq!(next_attempt(7, now), Some(now + Duration::hours(1)));
        assert_eq!(next_attempt(MAX_DELIVERY_ATTEMPTS, now), None);
        assert_eq!(next_attempt(MAX_DELIVERY_ATTEMPTS + 1, now), None);
    }

    #[test]
    fn message_ids_name_the_reply_and_the_senders_domain_and_parse_back() {
        let reply = ReplyId::new();
        let from = Email::parse("Support@Acme.test").unwrap();
        let id = reply_message_id(reply, &from);
        assert_eq!(id, format!("reply-{}@acme.test", reply.as_uuid()));
        assert_eq!(reply_of_message_id(&id), Some(reply));
        assert_eq!(reply_of_message_id(&format!("<{id}>")), Some(reply));
        assert_eq!(reply_of_message_id("CAF1@mail.example.com"), None);
        assert_eq!(reply_of_message_id("reply-nope@acme.test"), None);
    }

    #[test]
    fn states_round_trip_and_only_queued_shows_a_next_attempt() {
        for s in [
            DeliveryState::Queued,
            DeliveryState::Sending,
            DeliveryState::Sent,
            DeliveryState::Failed,
        ] {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeliveryState::parse("lost"), None);
        let email = OutboundEmail {
            from: crate::email::Mailbox { name: None, email: Email::parse("a@b.test").unwrap() },
            to: crate::email::Mailbox { name: None, email: Email::parse("c@d.test").unwrap() },
            subject: "Re: x [#1]".into(),
            body: "hi".into(),
            message_id: "reply-1@b.test".into(),
            in_reply_to: None,
            references: vec![],
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut m =
            OutboxMessage::queued(TenantId::new(), TicketId::new(), ReplyId::new(), email, now);
        assert_eq!(m.delivery().next_attempt_at, Some(now));
        m.state = DeliveryState::Failed;
        assert_eq!(m.delivery().next_attempt_at, None);
    }
}
