//! Signed webhooks' pure model: endpoints, event types, deliveries, the retry schedule, URL
//! validation and the address classification that keeps deliveries off private networks (SSRF).

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub use crate::ids::WebhookEndpointId;
use crate::{IdError, ParseEnumError, TenantId};

/// Identifies one webhook message (a delivery and all its attempts). Its text form is the
/// Standard Webhooks `webhook-id`, `msg_` followed by the UUID's 32 hex digits; it stays the
/// same across retries so receivers can drop duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookDeliveryId(Uuid);

impl WebhookDeliveryId {
    /// A new, time-ordered (UUIDv7) id.
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Wraps a stored UUID.
    #[must_use]
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The wrapped UUID.
    #[must_use]
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// Parses `msg_<32 hex digits>` (or a bare UUID).
    ///
    /// # Errors
    /// [`IdError`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let raw = raw.trim();
        let hex = raw.strip_prefix("msg_").unwrap_or(raw);
        Uuid::parse_str(hex).map(Self).map_err(|_| IdError)
    }
}

impl Default for WebhookDeliveryId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for WebhookDeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "msg_{}", self.0.simple())
    }
}

impl FromStr for WebhookDeliveryId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

str_enum!(
    /// What a webhook message reports.
    WebhookEventType {
        /// A ticket was opened (web form, API or email).
        TicketCreated => "ticket.created",
        /// A triage run finished and its results were written to the ticket.
        TriageCompleted => "triage.completed",
        /// A person changed a ticket's status, priority, category or assignee.
        TicketUpdated => "ticket.updated",
        /// A reply to the customer was sent (internal notes and AI drafts are not).
        ReplyCreated => "reply.created",
        /// A test message an admin asked for; sent whatever the endpoint subscribes to.
        WebhookTest => "webhook.test",
    }
);

impl WebhookEventType {
    /// The events an endpoint can subscribe to (every type but the test ping).
    pub const SUBSCRIBABLE: &'static [Self] =
        &[Self::TicketCreated, Self::TriageCompleted, Self::TicketUpdated, Self::ReplyCreated];

    /// Whether an endpoint can subscribe to it.
    #[must_use]
    pub fn is_subscribable(self) -> bool {
        Self::SUBSCRIBABLE.contains(&self)
    }
}

/// Why an event list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    /// No event was chosen.
    #[error("choose at least one event")]
    Empty,
    /// A name is not a subscribable event.
    #[error(
        "unknown event {0:?}: must be one of ticket.created, triage.completed, ticket.updated, reply.created"
    )]
    Unknown(String),
}

/// The events an endpoint subscribes to: a non-empty set of subscribable types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvents(BTreeSet<WebhookEventType>);

impl WebhookEvents {
    /// Parses event names (duplicates are merged).
    ///
    /// # Errors
    /// [`EventsError::Empty`], [`EventsError::Unknown`] (the test ping is not subscribable).
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, EventsError> {
        let mut set = BTreeSet::new();
        for name in names {
            let name = name.as_ref().trim();
            match name.parse::<WebhookEventType>() {
                Ok(t) if t.is_subscribable() => {
                    set.insert(t);
                }
                _ => return Err(EventsError::Unknown(name.to_owned())),
            }
        }
        Self::new(set)
    }

    /// Wraps a set of types.
    ///
    /// # Errors
    /// As for [`WebhookEvents::parse`].
    pub fn new(set: BTreeSet<WebhookEventType>) -> Result<Self, EventsError> {
        if set.is_empty() {
            return Err(EventsError::Empty);
        }
        if let Some(t) = set.iter().find(|t| !t.is_subscribable()) {
            return Err(EventsError::Unknown(t.as_str().to_owned()));
        }
        Ok(Self(set))
    }

    /// Whether `event` is delivered to the endpoint (the test ping always is).
    #[must_use]
    pub fn includes(&self, event: WebhookEventType) -> bool {
        event == WebhookEventType::WebhookTest || self.0.contains(&event)
    }

    /// The types, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = WebhookEventType> + '_ {
        self.0.iter().copied()
    }
}

/// Longest endpoint URL accepted, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// Longest endpoint description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Empty.
    #[error("is required")]
    Empty,
    /// Longer than [`MAX_URL_LEN`].
    #[error("is longer than {MAX_URL_LEN} characters")]
    TooLong,
    /// Not `http://` or `https://`.
    #[error("must start with https:// or http://")]
    Scheme,
    /// Has `user:password@`.
    #[error("must not contain credentials (user:password@)")]
    Credentials,
    /// No host, or one with characters a host name cannot have.
    #[error("has no valid host")]
    Host,
    /// A port that is not 1 to 65535.
    #[error("has an invalid port")]
    Port,
    /// Spaces or control characters.
    #[error("must not contain spaces or control characters")]
    Whitespace,
}

/// An endpoint's host: a name to resolve or a literal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlHost {
    /// A DNS name, lower case.
    Name(String),
    /// A literal IP address (`https://10.0.0.1/`, `http://[::1]/`).
    Ip(IpAddr),
}

/// A valid endpoint URL: `http` or `https`, a host, no credentials, at most [`MAX_URL_LEN`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    raw: String,
    https: bool,
    host: UrlHost,
    port: u16,
}

impl WebhookUrl {
    /// Validates a URL (surrounding spaces are trimmed).
    ///
    /// # Errors
    /// The [`UrlError`] naming what is wrong.
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(UrlError::Empty);
        }
        if raw.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::Whitespace);
        }
        let lower = raw.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("https://") {
            (true, &raw["https://".len()..])
        } else if lower.starts_with("http://") {
            (false, &raw["http://".len()..])
        } else {
            return Err(UrlError::Scheme);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (inside, after) = v6.split_once(']').ok_or(UrlError::Host)?;
            let ip: Ipv6Addr = inside.parse().map_err(|_| UrlError::Host)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(UrlError::Host)?),
            };
            (UrlHost::Ip(IpAddr::V6(ip)), port)
        } else {
            let (name, port) = match authority.rsplit_once(':') {
                Some((n, p)) => (n, Some(p)),
                None => (authority, None),
            };
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty()
                || name.len() > 253
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                || name.split('.').any(str::is_empty)
            {
                return Err(UrlError::Host);
            }
            let host = match name.parse::<Ipv4Addr>() {
                Ok(ip) => UrlHost::Ip(IpAddr::V4(ip)),
                Err(_) => UrlHost::Name(name),
            };
            (host, port)
        };
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(raw) => match raw.parse::<u16>() {
                Ok(p) if p > 0 && raw.chars().all(|c| c.is_ascii_digit()) => p,
                _ => return Err(UrlError::Port),
            },
        };
        Ok(Self { raw: raw.to_owned(), https, host, port })
    }

    /// The URL as given (trimmed).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether it is `https`.
    #[must_use]
    pub const fn is_https(&self) -> bool {
        self.https
    }

    /// The host.
    #[must_use]
    pub const fn host(&self) -> &UrlHost {
        &self.host
    }

    /// The port (80 or 443 when none is given).
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// What kind of network an address belongs to. Only [`AddressClass::Public`] is reachable by
/// deliveries unless the operator allows private addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A public unicast address.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `169.254/16` (incl. the cloud metadata address `169.254.169.254`), `fe80::/10`.
    LinkLocal,
    /// Carrier-grade NAT, `100.64/10`.
    SharedCgnat,
    /// Unique local IPv6, `fc00::/7`.
    UniqueLocal,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`.
    Documentation,
    /// Other special-purpose ranges (`192.0.0/24`, `198.18/15` benchmarking, `240/4`, ...).
    Reserved,
}

impl AddressClass {
    /// Whether deliveries may go there without the operator's allow-private setting.
    #[must_use]
    pub const fn is_public(self) -> bool {
        matches!(self, Self::Public)
    }

    /// A short description for error messages.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Public => "a public address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private network address",
            Self::LinkLocal => "a link-local address",
            Self::SharedCgnat => "a carrier-grade NAT address",
            Self::UniqueLocal => "a unique-local address",
            Self::Multicast => "a multicast address",
            Self::Unspecified => "an unspecified address",
            Self::Broadcast => "the broadcast address",
            Self::Documentation => "a documentation address",
            Self::Reserved => "a reserved address",
        }
    }
}

/// Classifies an address. IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and
/// NAT64 (`64:ff9b::a.b.c.d`) IPv6 addresses are classified as the IPv4 address they carry.
#[must_use]
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_broadcast() {
        AddressClass::Broadcast
    } else if a == 0 {
        AddressClass::Unspecified
    } else if a == 127 {
        AddressClass::Loopback
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        AddressClass::Private
    } else if a == 169 && b == 254 {
        AddressClass::LinkLocal
    } else if a == 100 && (64..=127).contains(&b) {
        AddressClass::SharedCgnat
    } else if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        AddressClass::Documentation
    } else if (224..=239).contains(&a) {
        AddressClass::Multicast
    } else if a >= 240 || (a == 192 && b == 0 && c == 0) || (a == 198 && (18..=19).contains(&b)) {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    // IPv4-compatible (deprecated, ::a.b.c.d) and the NAT64 well-known prefix 64:ff9b::/96.
    if seg[..6] == [0, 0, 0, 0, 0, 0] || seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        return classify_v4(Ipv4Addr::new(a, b, c, d));
    }
    if seg[0] & 0xfe00 == 0xfc00 {
        AddressClass::UniqueLocal
    } else if seg[0] & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if seg[0] & 0xff00 == 0xff00 {
        AddressClass::Multicast
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        AddressClass::Documentation
    } else if seg[0] & 0xe000 != 0x2000 {
        // Outside 2000::/3, the only global unicast space assigned.
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

/// Whether a host name is a loopback name by definition (`localhost`, `*.localhost`), refused
/// before any lookup.
#[must_use]
pub fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Consecutive failed attempts after which an endpoint is disabled automatically.
pub const DISABLE_AFTER_FAILURES: u32 = 15;

/// The waits between attempts: after the 1st failed attempt 5 s, then 5 min, 30 min, 2 h, 5 h,
/// 10 h, 10 h; the 8th failed attempt is final.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];

/// How many attempts a message gets before it is marked failed.
#[allow(clippy::cast_possible_truncation)]
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32 + 1;

/// When the next attempt is due after the `attempts`-th attempt failed at `now`; `None` once
/// [`MAX_ATTEMPTS`] attempts were made (the message is failed).
#[must_use]
pub fn next_retry(attempts: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    RETRY_SCHEDULE.get(index).map(|d| now + *d)
}

/// A registered webhook endpoint of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Identity.
    pub id: WebhookEndpointId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// Where messages are POSTed.
    pub url: WebhookUrl,
    /// The admin's note (may be empty).
    pub description: String,
    /// What it subscribes to.
    pub events: WebhookEvents,
    /// Whether messages are sent to it.
    pub enabled: bool,
    /// Why it was disabled automatically (`None` when enabled or disabled by a person).
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row (a success resets it).
    pub consecutive_failures: u32,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt failed; another is due at `next_attempt_at`.
    Retrying,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Given up (every attempt failed, or the endpoint was disabled or deleted).
    Failed,
}

impl WebhookDeliveryStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::Queued, Self::Retrying, Self::Succeeded, Self::Failed];

    /// The stored and API form.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored form.
    ///
    /// # Errors
    /// [`ParseEnumError`] for anything else.
    pub fn parse(raw: &str) -> Result<Self, ParseEnumError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or(ParseEnumError { expected: "queued, retrying, succeeded, failed" })
    }

    /// Whether a worker may still pick it up.
    #[must_use]
    pub const fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Retrying)
    }
}

/// Longest response excerpt kept, in characters.
pub const MAX_EXCERPT_CHARS: usize = 500;
/// Longest error kept, in characters.
pub const MAX_ERROR_CHARS: usize = 500;

/// Cuts `text` to at most `max` characters.
#[must_use]
pub fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// One message to one endpoint, with the outcome of its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Identity; its text form is the `webhook-id` header.
    pub id: WebhookDeliveryId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// What it reports.
    pub event_type: WebhookEventType,
    /// The body sent (`{"type","timestamp","data"}`), exactly as signed.
    pub payload: String,
    /// Where it is.
    pub status: WebhookDeliveryStatus,
    /// Attempts so far (a claim counts one).
    pub attempts: u32,
    /// When the next attempt is due (for pending ones).
    pub next_attempt_at: OffsetDateTime,
    /// While a worker holds it: until when.
    pub lease_until: Option<OffsetDateTime>,
    /// The HTTP status of the last answer.
    pub last_status: Option<u16>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The start of the last answer's body.
    pub response_excerpt: Option<String>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl WebhookDelivery {
    /// A message queued at `now` for its first attempt.
    #[must_use]
    pub fn queued(
        endpoint: &WebhookEndpoint,
        event_type: WebhookEventType,
        payload: String,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: WebhookDeliveryId::new(),
            tenant_id: endpoint.tenant_id,
            endpoint_id: endpoint.id,
            event_type,
            payload,
            status: WebhookDeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            last_status: None,
            last_error: None,
            response_excerpt: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The body of a message: `{"type": ..., "timestamp": RFC 3339, "data": {...}}`.
#[must_use]
pub fn message_body(
    event_type: WebhookEventType,
    at: OffsetDateTime,
    data: serde_json::Value,
) -> String {
    let timestamp = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string());
    serde_json::json!({ "type": event_type.as_str(), "timestamp": timestamp, "data": data })
        .to_string()
}

/// The outcome of one attempt, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The new status (`Succeeded`, `Retrying` or `Failed`).
    pub status: WebhookDeliveryStatus,
    /// For `Retrying`: when the next attempt is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The HTTP status, if the endpoint answered.
    pub http_status: Option<u16>,
    /// What went wrong (`None` on success).
    pub error: Option<String>,
    /// The start of the answer's body.
    pub response_excerpt: Option<String>,
}

impl AttemptOutcome {
    /// A 2xx answer.
    #[must_use]
    pub fn succeeded(http_status: u16, excerpt: Option<String>) -> Self {
        Self {
            status: WebhookDeliveryStatus::Succeeded,
            next_attempt_at: None,
            http_status: Some(http_status),
            error: None,
            response_excerpt: excerpt.map(|e| clip(&e, MAX_EXCERPT_CHARS)),
        }
    }

    /// A failed attempt (the `attempts`-th, at `now`): retrying per [`next_retry`], or failed
    /// when the schedule is used up or `give_up` is set.
    #[must_use]
    pub fn failed(
        attempts: u32,
        now: OffsetDateTime,
        http_status: Option<u16>,
        error: &str,
        excerpt: Option<String>,
        give_up: bool,
    ) -> Self {
        let next = if give_up { None } else { next_retry(attempts, now) };
        Self {
            status: if next.is_some() {
                WebhookDeliveryStatus::Retrying
            } else {
                WebhookDeliveryStatus::Failed
            },
            next_attempt_at: next,
            http_status,
            error: Some(clip(error, MAX_ERROR_CHARS)),
            response_excerpt: excerpt.map(|e| clip(&e, MAX_EXCERPT_CHARS)),
        }
    }

    /// Whether the attempt counts as a failure of the endpoint.
    #[must_use]
    pub const fn is_failure(&self) -> bool {
        !matches!(self.status, WebhookDeliveryStatus::Succeeded)
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use time::macros::datetime;

    use super::*;

    #[rstest]
    #[case("127.0.0.1", AddressClass::Loopback)]
    #[case("127.255.0.9", AddressClass::Loopback)]
    #[case("10.0.0.1", AddressClass::Private)]
    #[case("172.16.0.1", AddressClass::Private)]
    #[case("172.31.255.255", AddressClass::Private)]
    #[case("172.32.0.1", AddressClass::Public)]
    #[case("192.168.1.1", AddressClass::Private)]
    #[case("169.254.169.254", AddressClass::LinkLocal)]
    #[case("100.64.0.1", AddressClass::SharedCgnat)]
    #[case("100.127.255.255", AddressClass::SharedCgnat)]
    #[case("100.128.0.1", AddressClass::Public)]
    #[case("0.0.0.0", AddressClass::Unspecified)]
    #[case("255.255.255.255", AddressClass::Broadcast)]
    #[case("224.0.0.1", AddressClass::Multicast)]
    #[case("192.0.2.10", AddressClass::Documentation)]
    #[case("198.51.100.1", AddressClass::Documentation)]
    #[case("203.0.113.7", AddressClass::Documentation)]
    #[case("198.18.0.1", AddressClass::Reserved)]
    #[case("240.0.0.1", AddressClass::Reserved)]
    #[case("8.8.8.8", AddressClass::Public)]
    #[case("93.184.216.34", AddressClass::Public)]
    #[case("::1", AddressClass::Loopback)]
    #[case("::", AddressClass::Unspecified)]
    #[case("fc00::1", AddressClass::UniqueLocal)]
    #[case("fd12:3456::1", AddressClass::UniqueLocal)]
    #[case("fe80::1", AddressClass::LinkLocal)]
    #[case("ff02::1", AddressClass::Multicast)]
    #[case("2001:db8::1", AddressClass::Documentation)]
    #[case("::ffff:127.0.0.1", AddressClass::Loopback)]
    #[case("::ffff:10.1.2.3", AddressClass::Private)]
    #[case("::ffff:169.254.169.254", AddressClass::LinkLocal)]
    #[case("::10.0.0.1", AddressClass::Private)]
    #[case("64:ff9b::a9fe:a9fe", AddressClass::LinkLocal)]
    #[case("::ffff:8.8.8.8", AddressClass::Public)]
    #[case("2606:4700:4700::1111", AddressClass::Public)]
    fn addresses_are_classified(#[case] ip: &str, #[case] class: AddressClass) {
        assert_eq!(classify_ip(ip.parse().unwrap()), class, "{ip}");
    }

    #[test]
    fn only_public_addresses_are_public() {
        assert!(AddressClass::Public.is_public());
        assert!(!AddressClass::LinkLocal.is_public());
        assert!(is_local_name("localhost"));
        assert!(is_local_name("api.LOCALHOST."));
        assert!(!is_local_name("localhost.example.com"));
    }

    #[test]
    fn urls_are_validated() {
        let u = WebhookUrl::parse(" https://hooks.example.com/in?x=1 ").unwrap();
        assert_eq!(u.as_str(), "https://hooks.example.com/in?x=1");
        assert_eq!(u.host(), &UrlHost::Name("hooks.example.com".into()));
        assert_eq!(u.port(), 443);
        let u = WebhookUrl::parse("http://10.0.0.1:8080/x").unwrap();
        assert_eq!(u.host(), &UrlHost::Ip("10.0.0.1".parse().unwrap()));
        assert_eq!(u.port(), 8080);
        let u = WebhookUrl::parse("http://[::1]/hook").unwrap();
        assert_eq!(u.host(), &UrlHost::Ip("::1".parse().unwrap()));
        assert_eq!(u.port(), 80);
        assert_eq!(WebhookUrl::parse(""), Err(UrlError::Empty));
        assert_eq!(WebhookUrl::parse("ftp://x.test/"), Err(UrlError::Scheme));
        assert_eq!(WebhookUrl::parse("javascript:alert(1)"), Err(UrlError::Scheme));
        assert_eq!(WebhookUrl::parse("https://u:p@x.test/"), Err(UrlError::Credentials));
        assert_eq!(WebhookUrl::parse("https:///path"), Err(UrlError::Host));
        assert_eq!(WebhookUrl::parse("https://a..b/"), Err(UrlError::Host));
        assert_eq!(WebhookUrl::parse("https://x.test:0/"), Err(UrlError::Port));
        assert_eq!(WebhookUrl::parse("https://x.test:99999/"), Err(UrlError::Port));
        assert_eq!(WebhookUrl::parse("https://x.test/a b"), Err(UrlError::Whitespace));
        let long = format!("https://x.test/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(WebhookUrl::parse(&long), Err(UrlError::TooLong));
    }

    #[test]
    fn events_must_be_known_and_not_empty() {
        let e =
            WebhookEvents::parse(&["ticket.created", "reply.created", "ticket.created"]).unwrap();
        assert_eq!(e.iter().count(), 2);
        assert!(e.includes(WebhookEventType::TicketCreated));
        assert!(!e.includes(WebhookEventType::TicketUpdated));
        assert!(e.includes(WebhookEventType::WebhookTest));
        assert_eq!(WebhookEvents::parse::<&str>(&[]), Err(EventsError::Empty));
        assert_eq!(
            WebhookEvents::parse(&["ticket.deleted"]),
            Err(EventsError::Unknown("ticket.deleted".into()))
        );
        assert!(WebhookEvents::parse(&["webhook.test"]).is_err());
    }

    #[test]
    fn the_retry_schedule_backs_off_then_gives_up() {
        let now = datetime!(2026-12-02 12:00 UTC);
        let waits: Vec<Duration> =
            (1..MAX_ATTEMPTS).map(|n| next_retry(n, now).unwrap() - now).collect();
        assert_eq!(waits, RETRY_SCHEDULE.to_vec());
        assert_eq!(next_retry(1, now), Some(now + Duration::seconds(5)));
        assert_eq!(next_retry(MAX_ATTEMPTS, now), None);
        assert_eq!(next_retry(0, now), None);
        assert_eq!(MAX_ATTEMPTS, 8);
        let o = AttemptOutcome::failed(1, now, Some(500), "boom", None, false);
        assert_eq!(o.status, WebhookDeliveryStatus::Retrying);
        let o = AttemptOutcome::failed(MAX_ATTEMPTS, now, Some(500), "boom", None, false);
        assert_eq!(o.status, WebhookDeliveryStatus::Failed);
        let o = AttemptOutcome::failed(1, now, None, "disabled", None, true);
        assert_eq!(o.status, WebhookDeliveryStatus::Failed);
    }

    #[test]
    fn delivery_ids_are_msg_prefixed_and_parse_back() {
        let id = WebhookDeliveryId::new();
        let text = id.to_string();
        assert!(text.starts_with("msg_") && text.len() == 36, "{text}");
        assert_eq!(WebhookDeliveryId::parse(&text), Ok(id));
        assert_eq!(WebhookDeliveryId::parse(&id.as_uuid().to_string()), Ok(id));
        assert!(WebhookDeliveryId::parse("msg_nope").is_err());
        for s in WebhookDeliveryStatus::ALL {
            assert_eq!(WebhookDeliveryStatus::parse(s.as_str()), Ok(s));
        }
    }

    #[test]
    fn the_body_has_type_timestamp_and_data() {
        let body = message_body(
            WebhookEventType::TicketCreated,
            datetime!(2026-12-02 12:00 UTC),
            serde_json::json!({ "id": 1 }),
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["type"], "ticket.created");
        assert_eq!(v["timestamp"], "2026-12-02T12:00:00Z");
        assert_eq!(v["data"]["id"], 1);
    }
}
