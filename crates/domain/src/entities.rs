//! Stored entities: tenants, users, tickets, replies.

use time::OffsetDateTime;

use crate::{
    AttachmentId, AuthorType, AutoTriageSettings, Category, Channel, Email, PersonName, Policies,
    Priority, ReplyBody, ReplyId, ReplyPolicy, Role, SessionId, Slug, TenantId, TenantName,
    TicketBody, TicketId, TicketStatus, TicketSubject, UserId,
};

/// An agency workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Identity.
    pub id: TenantId,
    /// Display name.
    pub name: TenantName,
    /// Unique, URL-safe handle derived from the name.
    pub slug: Slug,
    /// Free text the reply drafts must respect (guidance for language models).
    pub policies: Policies,
    /// Structured reply policies every draft honours, the offline engine's included.
    pub reply_policy: ReplyPolicy,
    /// Whether and how new tickets are triaged on arrival.
    pub auto_triage: AutoTriageSettings,
    /// Creation time (UTC).
    pub created_at: OffsetDateTime,
    /// Last change (UTC).
    pub updated_at: OffsetDateTime,
}

/// A team member of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// The tenant the user belongs to.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: PersonName,
    /// Login email, unique within the tenant.
    pub email: Email,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Admin or agent.
    pub role: Role,
    /// Deactivated users cannot log in or be assigned.
    pub active: bool,
    /// Set for a temporary password (new user, admin reset): until the user picks their own,
    /// the API answers only the calls needed to do so.
    pub must_change_password: bool,
    /// Creation time (UTC).
    pub created_at: OffsetDateTime,
    /// Last change (UTC).
    pub updated_at: OffsetDateTime,
}

/// A signed-in session: the server-side record behind one access token (its `jti`). A token
/// whose session is gone or expired is refused, so deleting the record ends the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    /// Identity (the token's `jti`).
    pub id: SessionId,
    /// The user's tenant.
    pub tenant_id: TenantId,
    /// The signed-in user.
    pub user_id: UserId,
    /// When it was created (UTC).
    pub created_at: OffsetDateTime,
    /// When it stops being valid (the token's `exp`).
    pub expires_at: OffsetDateTime,
}

/// A customer request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Identity.
    pub id: TicketId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The workspace's ticket number (#1, #2, …), unique per tenant. The store assigns it when
    /// the ticket is created (the value passed to a create call is ignored; use 0).
    pub number: u64,
    /// One-line summary.
    pub subject: TicketSubject,
    /// The customer's message.
    pub body: TicketBody,
    /// Where it came from.
    pub channel: Channel,
    /// Where it is in its life.
    pub status: TicketStatus,
    /// How urgent (unset until triaged or set by a person).
    pub priority: Option<Priority>,
    /// What kind (unset until triaged or set by a person).
    pub category: Option<Category>,
    /// Customer's name.
    pub customer_name: PersonName,
    /// Customer's email.
    pub customer_email: Email,
    /// Team member responsible, if any (always a user of the same tenant).
    pub assignee_id: Option<UserId>,
    /// The team member who created the ticket; `None` when it arrived through a channel (an
    /// inbound email) rather than from a person on the team.
    pub created_by_id: Option<UserId>,
    /// Creation time (UTC).
    pub created_at: OffsetDateTime,
    /// Last change (UTC).
    pub updated_at: OffsetDateTime,
}

/// A message on a ticket. AI replies are drafts (`sent_at` is `None`) until a person sends one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketReply {
    /// Identity.
    pub id: ReplyId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The ticket replied to.
    pub ticket_id: TicketId,
    /// Human, AI or customer.
    pub author_type: AuthorType,
    /// The team member for human replies; `None` for AI and customer replies.
    pub author_id: Option<UserId>,
    /// The text.
    pub body: ReplyBody,
    /// When it was sent; `None` while it is an unsent draft.
    pub sent_at: Option<OffsetDateTime>,
    /// Creation time (UTC).
    pub created_at: OffsetDateTime,
    /// Last change (UTC); drafts can be edited.
    pub updated_at: OffsetDateTime,
}

impl TicketReply {
    /// Whether this reply is an unsent draft.
    #[must_use]
    pub const fn is_draft(&self) -> bool {
        self.sent_at.is_none()
    }
}

/// A file that came with an email on a ticket (its bytes are fetched separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketAttachment {
    /// Identity.
    pub id: AttachmentId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The ticket the email belongs to.
    pub ticket_id: TicketId,
    /// The customer reply the email became; `None` for the email that opened the ticket.
    pub reply_id: Option<ReplyId>,
    /// The file name the sender gave (or a generated one).
    pub filename: String,
    /// The MIME type the sender gave, lower case.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// When it arrived (UTC).
    pub created_at: OffsetDateTime,
}

/// Changes to a ticket's editable fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketPatch {
    /// New subject.
    pub subject: Option<TicketSubject>,
    /// New customer name.
    pub customer_name: Option<PersonName>,
    /// New customer email.
    pub customer_email: Option<Email>,
    /// New status.
    pub status: Option<TicketStatus>,
    /// New priority (`Some(None)` clears it).
    pub priority: Option<Option<Priority>>,
    /// New category (`Some(None)` clears it).
    pub category: Option<Option<Category>>,
    /// New assignee (`Some(None)` unassigns).
    pub assignee_id: Option<Option<UserId>>,
}

impl TicketPatch {
    /// Whether the patch changes nothing.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.subject.is_none()
            && self.customer_name.is_none()
            && self.customer_email.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.category.is_none()
            && self.assignee_id.is_none()
    }

    /// Applies the patch to `ticket` in memory (adapters use it to compute the stored row).
    pub fn apply_to(&self, ticket: &mut Ticket, now: OffsetDateTime) {
        if let Some(s) = &self.subject {
            ticket.subject = s.clone();
        }
        if let Some(n) = &self.customer_name {
            ticket.customer_name = n.clone();
        }
        if let Some(e) = &self.customer_email {
            ticket.customer_email = e.clone();
        }
        if let Some(s) = self.status {
            ticket.status = s;
        }
        if let Some(p) = self.priority {
            ticket.priority = p;
        }
        if let Some(c) = self.category {
            ticket.category = c;
        }
        if let Some(a) = self.assignee_id {
            ticket.assignee_id = a;
        }
        ticket.updated_at = now;
    }

    /// Whether the patch changes a field the ticket search indexes (subject or customer).
    #[must_use]
    pub const fn changes_search_text(&self) -> bool {
        self.subject.is_some() || self.customer_name.is_some() || self.customer_email.is_some()
    }
}

/// How a ticket is named in a URL: its id or its workspace number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketRef {
    /// By id (a UUID).
    Id(TicketId),
    /// By workspace number (`1042` or `#1042`).
    Number(u64),
}

impl std::str::FromStr for TicketRef {
    type Err = crate::IdError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if let Some(n) = parse_ticket_number(raw) {
            return Ok(Self::Number(n));
        }
        raw.parse().map(Self::Id)
    }
}

/// A ticket number as users type it: `1042` or `#1042` (surrounding spaces ignored). `None`
/// for anything else, including numbers too large for `u64`.
#[must_use]
pub fn parse_ticket_number(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let digits = raw.strip_prefix('#').unwrap_or(raw);
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Who a ticket list is filtered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to this user.
    User(UserId),
    /// Not assigned.
    Unassigned,
}

/// Filters, order and paging for a ticket list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketQuery {
    /// Only these statuses (empty: any).
    pub statuses: Vec<TicketStatus>,
    /// Only these priorities (empty: any; unset priorities never match a non-empty list).
    pub priorities: Vec<Priority>,
    /// Only this category.
    pub category: Option<Category>,
    /// Only this assignee, or only unassigned.
    pub assignee: Option<AssigneeFilter>,
    /// Only the ticket with this workspace number (a search for `#1042` or `1042`).
    pub number: Option<u64>,
    /// Lower-cased tokens (see [`TicketQuery::search_words`]); each must be a prefix of a keyword
    /// of the ticket's subject, body, customer name or customer email.
    pub search: Vec<String>,
    /// The order of the results.
    pub sort: crate::TicketSort,
    /// Page number, from 1 (1 when `after` is set).
    pub page: u32,
    /// Items per page, 1..=100.
    pub page_size: u32,
    /// Keyset paging: start just after this ticket (its sort must be `sort`).
    pub after: Option<crate::TicketCursor>,
}

impl Default for TicketQuery {
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            priorities: Vec::new(),
            category: None,
            assignee: None,
            number: None,
            search: Vec::new(),
            sort: crate::TicketSort::Created,
            page: 1,
            page_size: Self::DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

impl TicketQuery {
    /// Default page size.
    pub const DEFAULT_PAGE_SIZE: u32 = 25;
    /// Largest page size.
    pub const MAX_PAGE_SIZE: u32 = 100;
    /// Most search words used (the rest are ignored).
    pub const MAX_SEARCH_WORDS: usize = 8;

    /// Splits a free-text search into lower-cased alphanumeric tokens with
    /// [`crate::search::tokens`] (at most [`Self::MAX_SEARCH_WORDS`]). A ticket matches when
    /// every token is a prefix of one of its keywords.
    #[must_use]
    pub fn search_words(q: &str) -> Vec<String> {
        crate::search::tokens(q).into_iter().take(Self::MAX_SEARCH_WORDS).collect()
    }

    /// The filter and order of a view for the user `me` (first page, default size).
    #[must_use]
    pub fn for_view(view: crate::TicketView, me: UserId) -> Self {
        let assignee = match view {
            crate::TicketView::MyOpen => Some(AssigneeFilter::User(me)),
            crate::TicketView::Unassigned => Some(AssigneeFilter::Unassigned),
            _ => None,
        };
        Self {
            statuses: view.statuses().to_vec(),
            priorities: view.priorities().to_vec(),
            assignee,
            sort: view.sort(),
            ..Self::default()
        }
    }

    /// Whether the query filters on anything besides search words (stores count a pure
    /// search from their keyword index alone).
    #[must_use]
    pub const fn has_field_filters(&self) -> bool {
        !self.statuses.is_empty()
            || !self.priorities.is_empty()
            || self.category.is_some()
            || self.assignee.is_some()
            || self.number.is_some()
    }

    /// Rows to skip for the requested page.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        (self.page.saturating_sub(1) as u64) * self.page_size as u64
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn ticket() -> Ticket {
        let at = datetime!(2026-11-25 09:00 UTC);
        Ticket {
            id: TicketId::new(),
            tenant_id: TenantId::new(),
            number: 1,
            subject: TicketSubject::new("Login broken").unwrap(),
            body: TicketBody::new("It hangs").unwrap(),
            channel: Channel::Web,
            status: TicketStatus::New,
            priority: Some(Priority::High),
            category: None,
            customer_name: PersonName::new("Ann Lee").unwrap(),
            customer_email: Email::parse("ann@example.com").unwrap(),
            assignee_id: None,
            created_by_id: Some(UserId::new()),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn ticket_refs_are_numbers_or_uuids() {
        assert_eq!("1042".parse::<TicketRef>(), Ok(TicketRef::Number(1042)));
        assert_eq!(" #7 ".parse::<TicketRef>(), Ok(TicketRef::Number(7)));
        let id = TicketId::new();
        assert_eq!(id.to_string().parse::<TicketRef>(), Ok(TicketRef::Id(id)));
        assert!("#".parse::<TicketRef>().is_err());
        assert!("12a".parse::<TicketRef>().is_err());
        assert!("-1".parse::<TicketRef>().is_err());
        assert_eq!(parse_ticket_number("99999999999999999999"), None);
        assert_eq!(parse_ticket_number("#+5"), None);
    }

    #[test]
    fn an_empty_patch_only_touches_updated_at() {
        let patch = TicketPatch::default();
        assert!(patch.is_empty());
        assert!(!patch.changes_search_text());
        let mut t = ticket();
        let before = t.clone();
        let now = datetime!(2026-11-25 10:00 UTC);
        patch.apply_to(&mut t, now);
        assert_eq!(t, Ticket { updated_at: now, ..before });
    }

    #[test]
    fn a_patch_sets_given_fields_and_clears_with_some_none() {
        let patch = TicketPatch {
            subject: Some(TicketSubject::new("Login hangs").unwrap()),
            customer_email: Some(Email::parse("ann@shop.example").unwrap()),
            priority: Some(None),
            category: Some(Some(Category::Bug)),
            ..TicketPatch::default()
        };
        assert!(!patch.is_empty());
        assert!(patch.changes_search_text());
        let mut t = ticket();
        let before = t.clone();
        let now = datetime!(2026-11-25 10:00 UTC);
        patch.apply_to(&mut t, now);
        assert_eq!(t.subject.as_str(), "Login hangs");
        assert_eq!(t.customer_email.as_str(), "ann@shop.example");
        assert_eq!(t.customer_name, before.customer_name);
        assert_eq!(t.priority, None);
        assert_eq!(t.category, Some(Category::Bug));
        assert_eq!(t.status, TicketStatus::New);
        assert_eq!(t.updated_at, now);
    }

    #[test]
    fn only_subject_and_customer_edits_change_search_text() {
        let name = TicketPatch {
            customer_name: Some(PersonName::new("Bo").unwrap()),
            ..TicketPatch::default()
        };
        assert!(name.changes_search_text());
        let triage = TicketPatch {
            status: Some(TicketStatus::Open),
            priority: Some(Some(Priority::Low)),
            category: Some(None),
            assignee_id: Some(Some(UserId::new())),
            ..TicketPatch::default()
        };
        assert!(!triage.changes_search_text());
    }
}
