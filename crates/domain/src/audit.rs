//! The workspace audit log: who did what to accounts and settings, and when.
//!
//! An event names people by id *and* by the email they had at the time, so the log still reads
//! right after a user is renamed. It never holds a password, a password hash, a token or a
//! temporary password: [`AuditEvent`] has no field that could carry one, and `detail` takes
//! only the small, fixed keys of [`DetailKey`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AuditEventId, Email, ParseEnumError, TenantId, UserId};

str_enum!(
    /// What happened.
    AuditKind {
        /// A workspace and its first admin were created.
        Signup => "signup",
        /// A user signed in.
        LoginSucceeded => "login_succeeded",
        /// Someone tried to sign in as a user of the workspace and failed (wrong password, or the
        /// user is deactivated). Unknown emails are not recorded: they belong to no workspace.
        LoginFailed => "login_failed",
        /// A user changed their own password.
        PasswordChanged => "password_changed",
        /// An admin replaced a user's password with a temporary one.
        PasswordResetByAdmin => "password_reset_by_admin",
        /// A user ended one session.
        Logout => "logout",
        /// A user ended all their sessions.
        LogoutAll => "logout_all",
        /// An admin added a user.
        UserCreated => "user_created",
        /// An admin changed a user's role.
        RoleChanged => "role_changed",
        /// An admin deactivated a user.
        UserDeactivated => "user_deactivated",
        /// An admin reactivated a user.
        UserReactivated => "user_reactivated",
        /// An admin changed the workspace name or reply policies.
        SettingsUpdated => "settings_updated",
        /// A person sent a reply the guardrails flagged (a promise of a refund, a price or a
        /// date), after confirming the warning.
        ReplyWarningOverridden => "reply_warning_overridden",
        /// An admin replaced the workspace's inbound email token (the old address stops working).
        InboundTokenRotated => "inbound_token_rotated",
        /// An admin changed the workspace's mailbox (email) settings.
        EmailSettingsUpdated => "email_settings_updated",
        /// An admin registered a webhook endpoint.
        WebhookCreated => "webhook_created",
        /// An admin changed a webhook endpoint (URL, events, enabled).
        WebhookUpdated => "webhook_updated",
        /// An admin deleted a webhook endpoint.
        WebhookDeleted => "webhook_deleted",
        /// An admin replaced a webhook endpoint's signing secret.
        WebhookSecretRotated => "webhook_secret_rotated",
    }
);

str_enum!(
    /// The keys an event's `detail` may hold. A closed list, so no caller can file a secret
    /// under a key of its choosing.
    DetailKey {
        /// The role before a change (`admin`, `agent`).
        FromRole => "from_role",
        /// The role after a change, or the role of a new user.
        ToRole => "to_role",
        /// Why a login failed (`wrong_password`, `user_deactivated`).
        Reason => "reason",
        /// The new auto-triage settings: mode and the three thresholds.
        AutoTriage => "auto_triage",
        /// Which settings changed, comma-separated (`name`, `policies`).
        Fields => "fields",
        /// How many sessions a "log out everywhere" ended.
        SessionsEnded => "sessions_ended",
        /// The workspace name (sign-up) or the new name (settings change).
        WorkspaceName => "workspace_name",
        /// The ticket an event is about, as its workspace number (`#1042`).
        Ticket => "ticket",
        /// The guardrail findings a person confirmed, comma-separated (`refund_commitment`).
        Flags => "flags",
        /// The webhook endpoint an event is about, as its URL.
        Webhook => "webhook",
    }
);

/// Longest client address kept (the longest textual IPv6 address is 45 characters).
pub const MAX_IP_CHARS: usize = 45;
/// Longest detail value kept, in characters.
pub const MAX_DETAIL_CHARS: usize = 200;

/// One entry of a workspace's audit log. Append-only: never changed once recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Identity (UUIDv7: ordered by creation).
    pub id: AuditEventId,
    /// The workspace the event belongs to.
    pub tenant_id: TenantId,
    /// When it happened (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who did it; `None` when nobody was signed in (a failed login).
    pub actor: Option<UserId>,
    /// The actor's email at the time.
    pub actor_email: Option<Email>,
    /// What happened.
    pub kind: AuditKind,
    /// The user it was done to, if any (for sign-in events, the user signing in).
    pub target_user: Option<UserId>,
    /// The target's email at the time.
    pub target_email: Option<Email>,
    /// The client address the request came from, when known.
    pub ip: Option<String>,
    /// Small facts about the change (old and new role, changed fields, ...).
    pub detail: BTreeMap<DetailKey, String>,
}

impl AuditEvent {
    /// A new event of `kind` in `tenant_id` at `at`, with no actor, target, address or detail.
    #[must_use]
    pub fn new(tenant_id: TenantId, kind: AuditKind, at: OffsetDateTime) -> Self {
        Self {
            id: AuditEventId::new(),
            tenant_id,
            at,
            actor: None,
            actor_email: None,
            kind,
            target_user: None,
            target_email: None,
            ip: None,
            detail: BTreeMap::new(),
        }
    }

    /// Sets who did it.
    #[must_use]
    pub fn by(mut self, user: UserId, email: &Email) -> Self {
        self.actor = Some(user);
        self.actor_email = Some(email.clone());
        self
    }

    /// Sets who it was done to.
    #[must_use]
    pub fn on(mut self, user: UserId, email: &Email) -> Self {
        self.target_user = Some(user);
        self.target_email = Some(email.clone());
        self
    }

    /// Sets the client address (trimmed, at most [`MAX_IP_CHARS`] characters; blank is none).
    #[must_use]
    pub fn from_ip(mut self, ip: Option<&str>) -> Self {
        self.ip = ip
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(MAX_IP_CHARS).collect());
        self
    }

    /// Adds a detail (the value is cut to [`MAX_DETAIL_CHARS`] characters).
    #[must_use]
    pub fn with(mut self, key: DetailKey, value: impl fmt::Display) -> Self {
        self.detail.insert(key, value.to_string().chars().take(MAX_DETAIL_CHARS).collect());
        self
    }
}

/// Filters and paging for the audit log; results are newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only these kinds (empty: every kind).
    pub kinds: Vec<AuditKind>,
    /// Only events done by this user.
    pub actor: Option<UserId>,
    /// Only events at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Only events before this time.
    pub to: Option<OffsetDateTime>,
    /// Page number, from 1.
    pub page: u32,
    /// Items per page, 1..=[`AuditQuery::MAX_PER_PAGE`].
    pub per_page: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            kinds: Vec::new(),
            actor: None,
            from: None,
            to: None,
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

impl AuditQuery {
    /// Default page size.
    pub const DEFAULT_PER_PAGE: u32 = 50;
    /// Largest page size.
    pub const MAX_PER_PAGE: u32 = 200;

    /// How many events come before the page.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        (self.page.saturating_sub(1) as u64) * self.per_page as u64
    }

    /// Whether `event` passes the filters (the reference the adapters' queries must agree with).
    #[must_use]
    pub fn matches(&self, event: &AuditEvent) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && self.actor.is_none_or(|a| event.actor == Some(a))
            && self.from.is_none_or(|f| event.at >= f)
            && self.to.is_none_or(|t| event.at < t)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn kinds_are_snake_case_on_the_wire_and_parse_back() {
        for kind in AuditKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(kind.as_str().parse::<AuditKind>(), Ok(*kind));
        }
        assert_eq!(
            serde_json::to_string(&AuditKind::PasswordResetByAdmin).unwrap(),
            "\"password_reset_by_admin\""
        );
        assert!("LoginFailed".parse::<AuditKind>().is_err());
    }

    #[test]
    fn builder_sets_people_address_and_bounded_detail() {
        let at = datetime!(2026-12-02 06:00 UTC);
        let tenant = TenantId::new();
        let (admin, agent) = (UserId::new(), UserId::new());
        let admin_email = Email::parse("ada@example.com").unwrap();
        let agent_email = Email::parse("sam@example.com").unwrap();
        let e = AuditEvent::new(tenant, AuditKind::RoleChanged, at)
            .by(admin, &admin_email)
            .on(agent, &agent_email)
            .from_ip(Some(&format!("  {}  ", "1".repeat(60))))
            .with(DetailKey::FromRole, "agent")
            .with(DetailKey::Fields, "x".repeat(500));
        assert_eq!(e.id.as_uuid().get_version_num(), 7);
        assert_eq!((e.actor, e.target_user), (Some(admin), Some(agent)));
        assert_eq!(e.actor_email.as_ref(), Some(&admin_email));
        assert_eq!(e.ip.as_deref().map(str::len), Some(MAX_IP_CHARS));
        assert_eq!(e.detail[&DetailKey::FromRole], "agent");
        assert_eq!(e.detail[&DetailKey::Fields].chars().count(), MAX_DETAIL_CHARS);
        assert_eq!(AuditEvent::new(tenant, AuditKind::Logout, at).from_ip(Some("  ")).ip, None);
    }

    #[test]
    fn query_matches_kinds_actor_and_half_open_time_range() {
        let at = datetime!(2026-12-02 06:00 UTC);
        let actor = UserId::new();
        let email = Email::parse("ada@example.com").unwrap();
        let e = AuditEvent::new(TenantId::new(), AuditKind::Logout, at).by(actor, &email);
        assert!(AuditQuery::default().matches(&e));
        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        assert!(q(|q| q.kinds = vec![AuditKind::Logout, AuditKind::Signup]).matches(&e));
        assert!(!q(|q| q.kinds = vec![AuditKind::Signup]).matches(&e));
        assert!(!q(|q| q.actor = Some(UserId::new())).matches(&e));
        assert!(q(|q| q.from = Some(datetime!(2026-12-02 06:00 UTC))).matches(&e));
        assert!(!q(|q| q.to = Some(datetime!(2026-12-02 06:00 UTC))).matches(&e));
        assert!(q(|q| q.to = Some(datetime!(2026-12-02 06:00:01 UTC))).matches(&e));
        assert_eq!(q(|q| q.page = 3).offset(), 2 * u64::from(AuditQuery::DEFAULT_PER_PAGE));
    }
}
