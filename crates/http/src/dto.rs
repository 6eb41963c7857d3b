//! Request and response bodies at the HTTP edge, and their conversion to domain types.

use opsflow_domain as d;
use opsflow_domain::FieldErrors;
use opsflow_ports::password_policy::NewPassword;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $domain:ident as $schema:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
        #[oai(rename = $schema)]
        pub enum $name {
            $(#[oai(rename = $text)] #[serde(rename = $text)] $variant,)+
        }

        impl From<$name> for d::$domain {
            fn from(v: $name) -> Self {
                match v { $($name::$variant => d::$domain::$variant,)+ }
            }
        }

        impl From<d::$domain> for $name {
            fn from(v: d::$domain) -> Self {
                match v { $(d::$domain::$variant => $name::$variant,)+ }
            }
        }
    };
}

mirror_enum!(
    /// User role.
    RoleDto => Role as "Role" { Admin => "admin", Agent => "agent" }
);
mirror_enum!(
    /// Ticket channel.
    ChannelDto => Channel as "Channel" { Email => "email", Web => "web", Chat => "chat", Phone => "phone", Api => "api" }
);
mirror_enum!(
    /// Ticket status.
    TicketStatusDto => TicketStatus as "TicketStatus" {
        New => "new", Open => "open", Pending => "pending", Replied => "replied", Closed => "closed"
    }
);
mirror_enum!(
    /// Ticket priority.
    PriorityDto => Priority as "Priority" { Low => "low", Medium => "medium", High => "high", Urgent => "urgent" }
);
mirror_enum!(
    /// The order of a ticket list: `created` newest first (the default); `priority` most urgent
    /// first (urgent, high, medium, low, unset), oldest first within a priority;
    /// `last_activity` most recently changed first; `oldest_waiting` oldest first.
    TicketSortDto => TicketSort as "TicketSort" {
        Created => "created", Priority => "priority", LastActivity => "last_activity",
        OldestWaiting => "oldest_waiting", Relevance => "relevance"
    }
);
mirror_enum!(
    /// A saved view of the ticket list.
    TicketViewIdDto => TicketView as "TicketViewId" {
        MyOpen => "my_open", Unassigned => "unassigned", UrgentHigh => "urgent_high",
        AllOpen => "all_open", Replied => "replied", Closed => "closed"
    }
);
mirror_enum!(
    /// Ticket category.
    CategoryDto => Category as "Category" {
        Bug => "bug", FeatureRequest => "feature_request", Billing => "billing",
        General => "general", Other => "other"
    }
);
mirror_enum!(
    /// Reply author type.
    AuthorTypeDto => AuthorType as "AuthorType" { Human => "human", Ai => "ai", Customer => "customer", Note => "note" }
);
mirror_enum!(
    /// Workflow run status.
    RunStatusDto => RunStatus as "RunStatus" {
        Queued => "queued", Running => "running", Succeeded => "succeeded", Failed => "failed"
    }
);
mirror_enum!(
    /// What started a triage run.
    RunTriggerDto => RunTrigger as "RunTrigger" {
        Manual => "manual", AutoSuggest => "auto_suggest", AutoApply => "auto_apply"
    }
);
mirror_enum!(
    /// Workflow step type.
    StepTypeDto => StepType as "StepType" {
        Classification => "classification", Priority => "priority",
        AssigneeSuggestion => "assignee_suggestion", ReplyDraft => "reply_draft", Persist => "persist"
    }
);

// ---------- responses ----------

/// A workspace.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Tenant")]
pub struct TenantDto {
    /// Unique id of this workspace (a UUID v7, so ids sort by creation time).
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique handle (used at login when an email is in several workspaces).
    pub slug: String,
    /// Policies the AI reply drafts must respect.
    pub policies: String,
    /// Created (UTC).
    pub created_at: OffsetDateTime,
    /// Last changed (UTC).
    pub updated_at: OffsetDateTime,
}

impl From<d::Tenant> for TenantDto {
    fn from(t: d::Tenant) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name.to_string(),
            slug: t.slug.to_string(),
            policies: t.policies.as_str().to_owned(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A team member.
#[derive(Debug, Clone, Object)]
#[oai(rename = "User")]
pub struct UserDto {
    /// Unique id of this user (a UUID v7, so ids sort by creation time).
    pub id: Uuid,
    /// Workspace.
    pub tenant_id: Uuid,
    /// Display name, as colleagues see it.
    pub name: String,
    /// Login email.
    pub email: String,
    /// `admin` (manages the workspace and team) or `agent` (works tickets).
    pub role: RoleDto,
    /// Whether the user may sign in and be assigned.
    pub active: bool,
    /// The user signed in with a temporary password and must choose their own
    /// (`POST /api/auth/password`) before any other call is answered.
    pub must_change_password: bool,
    /// Created (UTC).
    pub created_at: OffsetDateTime,
    /// Last changed (UTC).
    pub updated_at: OffsetDateTime,
}

impl From<d::User> for UserDto {
    fn from(u: d::User) -> Self {
        Self {
            id: u.id.as_uuid(),
            tenant_id: u.tenant_id.as_uuid(),
            name: u.name.to_string(),
            email: u.email.to_string(),
            role: u.role.into(),
            active: u.active,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A support ticket of the caller's workspace.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Ticket")]
pub struct TicketDto {
    /// Unique id of this ticket (a UUID v7, so ids sort by creation time).
    pub id: Uuid,
    /// Workspace.
    pub tenant_id: Uuid,
    /// The workspace's ticket number (#1, #2, …): unique in the workspace, assigned in creation
    /// order. `GET /api/tickets/{id}` accepts it in place of the id.
    pub number: u64,
    /// One-line summary (1–200 characters).
    pub subject: String,
    /// The customer's message.
    pub body: String,
    /// Where it came from (`email` for tickets opened by an inbound email).
    pub channel: ChannelDto,
    /// Where it is in its life: `new`, `open`, `pending`, `replied` or `closed`.
    pub status: TicketStatusDto,
    /// Priority (null until triaged or set).
    pub priority: Option<PriorityDto>,
    /// Category (null until triaged or set).
    pub category: Option<CategoryDto>,
    /// Customer's name.
    pub customer_name: String,
    /// Customer's email.
    pub customer_email: String,
    /// Assigned team member.
    pub assignee_id: Option<Uuid>,
    /// The team member who created the ticket; absent when it arrived through a channel
    /// (an inbound email).
    pub created_by_id: Option<Uuid>,
    /// Created (UTC).
    pub created_at: OffsetDateTime,
    /// Last changed (UTC).
    pub updated_at: OffsetDateTime,
}

impl From<d::Ticket> for TicketDto {
    fn from(t: d::Ticket) -> Self {
        Self {
            id: t.id.as_uuid(),
            tenant_id: t.tenant_id.as_uuid(),
            number: t.number,
            subject: t.subject.to_string(),
            body: t.body.to_string(),
            channel: t.channel.into(),
            status: t.status.into(),
            priority: t.priority.map(Into::into),
            category: t.category.map(Into::into),
            customer_name: t.customer_name.to_string(),
            customer_email: t.customer_email.to_string(),
            assignee_id: t.assignee_id.map(|u| u.as_uuid()),
            created_by_id: t.created_by_id.map(|u| u.as_uuid()),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A reply on a ticket. AI replies are drafts (`draft: true`, `sent_at: null`) until a person
/// sends them.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Reply")]
pub struct ReplyDto {
    /// Unique id of this reply (a UUID v7, so ids sort by creation time).
    pub id: Uuid,
    /// The ticket the reply belongs to.
    pub ticket_id: Uuid,
    /// Who wrote it.
    pub author_type: AuthorTypeDto,
    /// The team member for human replies.
    pub author_id: Option<Uuid>,
    /// The message text (plain text, 1–20,000 characters).
    pub body: String,
    /// True while unsent.
    pub draft: bool,
    /// When it was sent (null for drafts).
    pub sent_at: Option<OffsetDateTime>,
    /// Created (UTC).
    pub created_at: OffsetDateTime,
    /// Last changed (UTC).
    pub updated_at: OffsetDateTime,
    /// Files that came with the customer's email (empty for other replies).
    pub attachments: Vec<AttachmentDto>,
    /// For a sent reply on an email ticket, what happened to its email; null for replies on
    /// tickets of other channels (they are recorded, never emailed), drafts and customer
    /// messages.
    pub delivery: Option<DeliveryDto>,
}

/// A file that came with an email; download it from
/// `GET /api/tickets/{ticket_id}/attachments/{id}`.
#[derive(Debug, Clone, Object)]
pub struct AttachmentDto {
    /// The attachment's id (download it from the ticket's attachments path).
    pub id: Uuid,
    /// The file name the sender gave.
    pub filename: String,
    /// The MIME type the sender gave.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

impl From<d::TicketAttachment> for AttachmentDto {
    fn from(a: d::TicketAttachment) -> Self {
        Self {
            id: a.id.as_uuid(),
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
        }
    }
}

/// Where a reply's email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename = "DeliveryState", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStateDto {
    /// Waiting to be sent (first try, or a retry after a temporary failure at
    /// `next_attempt_at`).
    Queued,
    /// Being handed to the mail server now.
    Sending,
    /// The mail server accepted it at `sent_at`.
    Sent,
    /// Not delivered: `last_error` says why; `POST …/retry-delivery` queues it again.
    Failed,
    /// Recorded only: no mailbox was connected when it was sent.
    NotEmailed,
}

impl From<d::outbox::DeliveryState> for DeliveryStateDto {
    fn from(s: d::outbox::DeliveryState) -> Self {
        use d::outbox::DeliveryState as S;
        match s {
            S::Queued => Self::Queued,
            S::Sending => Self::Sending,
            S::Sent => Self::Sent,
            S::Failed => Self::Failed,
        }
    }
}

/// What became of an inbound email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum, Serialize, Deserialize)]
#[oai(rename = "InboundOutcome", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum InboundOutcomeDto {
    /// A new ticket was opened.
    Created,
    /// Added to an existing ticket as a customer reply.
    Appended,
    /// Already taken in (same Message-ID): nothing changed.
    Duplicate,
    /// Not taken in on purpose (automatic mail, the workspace's own address).
    Ignored,
}

/// The answer of the inbound email endpoint.
#[derive(Debug, Clone, Object)]
pub struct InboundResultDto {
    /// What happened.
    pub outcome: InboundOutcomeDto,
    /// The ticket opened or continued.
    pub ticket_id: Option<Uuid>,
    /// The new ticket's number (for `created`).
    pub number: Option<u64>,
    /// Why it was ignored.
    pub reason: Option<String>,
}

/// The workspace's inbound email address (the secret path MTAs and forwarding services post
/// raw messages to).
#[derive(Debug, Clone, Object)]
pub struct InboundAddressDto {
    /// The secret token.
    pub token: String,
    /// The full path: `/api/inbound/email/{token}`.
    pub path: String,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: u64,
}

/// The email delivery of a reply.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Delivery")]
pub struct DeliveryDto {
    /// Where it is.
    pub state: DeliveryStateDto,
    /// Tries so far.
    pub attempts: u32,
    /// The last failure in the mail server's words (kept while a retry is queued).
    pub last_error: Option<String>,
    /// For `queued`: when the next try is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// For `sent`: when the mail server accepted it.
    pub sent_at: Option<OffsetDateTime>,
    /// A plain sentence for `not_emailed` ("not emailed: no mailbox connected").
    pub note: Option<String>,
}

impl From<d::outbox::Delivery> for DeliveryDto {
    fn from(x: d::outbox::Delivery) -> Self {
        Self {
            state: x.state.into(),
            attempts: x.attempts,
            last_error: x.last_error,
            next_attempt_at: x.next_attempt_at,
            sent_at: x.sent_at,
            note: None,
        }
    }
}

impl From<opsflow_ports::services::tickets::ReplyDelivery> for DeliveryDto {
    fn from(x: opsflow_ports::services::tickets::ReplyDelivery) -> Self {
        use opsflow_ports::services::tickets::ReplyDelivery as R;
        match x {
            R::Email(delivery) => delivery.into(),
            R::NotEmailed => Self {
                state: DeliveryStateDto::NotEmailed,
                attempts: 0,
                last_error: None,
                next_attempt_at: None,
                sent_at: None,
                note: Some("not emailed: no mailbox connected".to_owned()),
            },
        }
    }
}

impl ReplyDto {
    /// The reply with its email delivery.
    #[must_use]
    pub fn with_delivery(
        reply: d::TicketReply,
        delivery: Option<opsflow_ports::services::tickets::ReplyDelivery>,
    ) -> Self {
        Self { delivery: delivery.map(Into::into), ..reply.into() }
    }
}

impl From<d::TicketReply> for ReplyDto {
    fn from(r: d::TicketReply) -> Self {
        Self {
            id: r.id.as_uuid(),
            ticket_id: r.ticket_id.as_uuid(),
            author_type: r.author_type.into(),
            author_id: r.author_id.map(|u| u.as_uuid()),
            draft: r.is_draft(),
            body: r.body.to_string(),
            sent_at: r.sent_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            attachments: Vec::new(),
            delivery: None,
        }
    }
}

/// A triage workflow run.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WorkflowRun")]
pub struct WorkflowRunDto {
    /// Unique id of this triage run (a UUID v7, so ids sort by creation time).
    pub id: Uuid,
    /// Ticket triaged.
    pub ticket_id: Uuid,
    /// Always `ticket_triage`.
    pub workflow_type: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: RunStatusDto,
    /// Who asked for it (the nil UUID when the workspace itself queued it for an email).
    pub started_by_user_id: Uuid,
    /// `manual` (a person asked: every result is applied), `auto_suggest` or `auto_apply`
    /// (queued on arrival; see the persist step's `decisions` for what was applied and why).
    pub trigger: RunTriggerDto,
    /// Why it failed.
    pub error_message: Option<String>,
    /// When it was requested (UTC).
    pub started_at: OffsetDateTime,
    /// When it ended (UTC).
    pub finished_at: Option<OffsetDateTime>,
    /// Worker claims (async mode).
    pub attempts: u32,
}

impl From<d::WorkflowRun> for WorkflowRunDto {
    fn from(r: d::WorkflowRun) -> Self {
        Self {
            id: r.id.as_uuid(),
            ticket_id: r.ticket_id.as_uuid(),
            workflow_type: r.workflow_type,
            status: r.status.into(),
            started_by_user_id: r.started_by_user_id.as_uuid(),
            trigger: r.trigger.into(),
            error_message: r.error_message,
            started_at: r.started_at,
            finished_at: r.finished_at,
            attempts: r.attempts,
        }
    }
}

/// One recorded step of a run: what was sent and what came back.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WorkflowStep")]
pub struct WorkflowStepDto {
    /// Unique id of this step (a UUID v7, so ids sort by creation time).
    pub id: Uuid,
    /// The run the step belongs to.
    pub workflow_run_id: Uuid,
    /// Which step: `classification`, `priority`, `assignee_suggestion`, `reply_draft` or `persist`.
    pub step_type: StepTypeDto,
    /// Whether it produced a valid output.
    pub succeeded: bool,
    /// Rendered prompt messages and the data they came from.
    pub input_snapshot: serde_json::Value,
    /// Parsed output.
    pub output_snapshot: serde_json::Value,
    /// The LLM provider that answered (`offline`, `openai`, `anthropic`), for model steps.
    pub provider: Option<String>,
    /// The model that answered, for model steps.
    pub model: Option<String>,
    /// Prompt template version.
    pub prompt_version: Option<String>,
    /// Wall time (ms).
    pub latency_ms: u64,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Provider calls made.
    pub attempts: u32,
    /// Guardrail findings in the output (`pricing_promise`, `hard_deadline`, `refund_commitment`,
    /// `forbidden_commitment`).
    pub guardrail_flags: Vec<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Recorded at (UTC).
    pub created_at: OffsetDateTime,
    /// The run attempt the step belongs to (1, then 2 for a run a worker resumed after the
    /// first one was interrupted, ...).
    pub attempt: u32,
}

impl From<d::WorkflowStep> for WorkflowStepDto {
    fn from(s: d::WorkflowStep) -> Self {
        Self {
            id: s.id.as_uuid(),
            workflow_run_id: s.workflow_run_id.as_uuid(),
            step_type: s.step_type.into(),
            succeeded: s.succeeded,
            input_snapshot: s.input_snapshot,
            output_snapshot: s.output_snapshot,
            provider: s.provider,
            model: s.model,
            prompt_version: s.prompt_version,
            latency_ms: s.latency_ms,
            prompt_tokens: s.prompt_tokens,
            completion_tokens: s.completion_tokens,
            attempts: s.attempts,
            guardrail_flags: s.guardrail_flags,
            error_message: s.error_message,
            created_at: s.created_at,
            attempt: s.attempt,
        }
    }
}

// ---------- requests ----------

/// Sign-up request.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Workspace name (1–100 characters).
    pub tenant_name: String,
    /// Your name (1–100 characters).
    pub user_name: String,
    /// Your email.
    pub email: String,
    /// Password: 12–128 characters, not a common or easily guessed one.
    pub password: String,
    /// Set to `true` to create another workspace for an email that already has one (otherwise
    /// that is refused with 409 `additional_workspace_required`).
    #[serde(default)]
    pub additional_workspace: Option<bool>,
}

impl SignupRequest {
    /// Validates every field.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(
        self,
    ) -> Result<opsflow_ports::services::auth::SignupInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let tenant_name = e.check("tenant_name", d::TenantName::new(&self.tenant_name));
        let user_name = e.check("user_name", d::PersonName::new(&self.user_name));
        let email = e.check("email", d::Email::parse(&self.email));
        let password = e.check(
            "password",
            NewPassword::new(&self.password, &[&self.tenant_name, &self.user_name, &self.email]),
        );
        match (tenant_name, user_name, email, password) {
            (Some(tenant_name), Some(user_name), Some(email), Some(password)) => {
                Ok(opsflow_ports::services::auth::SignupInput {
                    tenant_name,
                    user_name,
                    email,
                    password,
                    additional_workspace: self.additional_workspace.unwrap_or(false),
                })
            }
            _ => Err(e),
        }
    }
}

/// Password change request.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The password you signed in with (the temporary one, if you were given one).
    pub current_password: String,
    /// The new password: 12–128 characters, not a common or easily guessed one.
    pub new_password: String,
}

impl PasswordChangeRequest {
    /// Validates both fields; `context` holds the person's own words (name, email, workspace)
    /// the new password must not be built from.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(
        self,
        context: &[&str],
    ) -> Result<(d::Password, NewPassword), FieldErrors> {
        let mut e = FieldErrors::new();
        let current = e.check("current_password", d::Password::new(&self.current_password));
        let new = e.check("new_password", NewPassword::new(&self.new_password, context));
        match (current, new) {
            (Some(current), Some(new)) => Ok((current, new)),
            _ => Err(e),
        }
    }
}

/// A new temporary password set by an admin.
#[derive(Debug, Clone, Object)]
pub struct PasswordResetResponse {
    /// Shown once; the user signs in with it and must then choose their own.
    pub temporary_password: String,
}

/// Login request.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The email address the user signs in with.
    pub email: String,
    /// The user's password (never stored or logged in clear).
    pub password: String,
    /// Workspace slug, when the email is in several workspaces.
    #[serde(default)]
    pub tenant_slug: Option<String>,
}

impl LoginRequest {
    /// Validates every field.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<opsflow_ports::services::auth::LoginInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let email = e.check("email", d::Email::parse(&self.email));
        let password = e.check("password", d::Password::candidate(&self.password));
        let tenant_slug = match self.tenant_slug.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(s) => e.check("tenant_slug", d::Slug::parse(s)).map(Some),
        };
        match (email, password, tenant_slug) {
            (Some(email), Some(password), Some(tenant_slug)) => {
                Ok(opsflow_ports::services::auth::LoginInput { email, password, tenant_slug })
            }
            _ => Err(e),
        }
    }
}

/// Signed-in user, workspace and token.
#[derive(Debug, Clone, Object)]
pub struct SessionResponse {
    /// The signed-in user.
    pub user: UserDto,
    /// The workspace.
    pub tenant: TenantDto,
    /// Bearer token for `Authorization: Bearer <token>`.
    pub access_token: String,
}

/// The current user and workspace.
#[derive(Debug, Clone, Object)]
pub struct MeResponse {
    /// The signed-in user.
    pub user: UserDto,
    /// The workspace.
    pub tenant: TenantDto,
}

/// Workspace changes (admin).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchRequest {
    /// The user's new display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New policies text (may be empty; ≤ 10,000 characters).
    #[serde(default)]
    pub policies: Option<String>,
}

impl TenantPatchRequest {
    /// Validates the changes.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(
        self,
    ) -> Result<opsflow_ports::services::tenant::TenantPatch, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = self.name.as_deref().and_then(|n| e.check("name", d::TenantName::new(n)));
        let policies =
            self.policies.as_deref().and_then(|p| e.check("policies", d::Policies::new(p)));
        e.into_result()?;
        Ok(opsflow_ports::services::tenant::TenantPatch { name, policies })
    }
}

/// A new team member (admin).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCreateRequest {
    /// Display name, as colleagues see it.
    pub name: String,
    /// Login email.
    pub email: String,
    /// Role (default `agent`).
    #[serde(default)]
    pub role: Option<RoleDto>,
}

impl UserCreateRequest {
    /// Validates the new user.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<opsflow_ports::services::team::NewUser, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = e.check("name", d::PersonName::new(&self.name));
        let email = e.check("email", d::Email::parse(&self.email));
        let (Some(name), Some(email)) = (name, email) else { return Err(e) };
        let role = self.role.unwrap_or(RoleDto::Agent).into();
        Ok(opsflow_ports::services::team::NewUser { name, email, role })
    }
}

/// Team member changes (admin).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatchRequest {
    /// The user's new display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user's new role (`admin` or `agent`).
    #[serde(default)]
    pub role: Option<RoleDto>,
    /// Activate or deactivate.
    #[serde(default)]
    pub active: Option<bool>,
}

impl UserPatchRequest {
    /// Validates the changes.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<opsflow_ports::services::team::UserPatch, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = self.name.as_deref().and_then(|n| e.check("name", d::PersonName::new(n)));
        e.into_result()?;
        Ok(opsflow_ports::services::team::UserPatch {
            name,
            role: self.role.map(Into::into),
            active: self.active,
        })
    }
}

/// A created user and their one-time temporary password.
#[derive(Debug, Clone, Object)]
pub struct UserCreatedResponse {
    /// The new user (they must choose their own password at first sign-in).
    pub user: UserDto,
    /// Shown once; the user signs in with it.
    pub temporary_password: String,
}

/// A colleague as every member of the workspace sees them (no email or timestamps).
#[derive(Debug, Clone, Object)]
#[oai(rename = "TeamMember")]
pub struct TeamMemberDto {
    /// The colleague's user id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// `admin` or `agent`.
    pub role: RoleDto,
    /// Whether they can be assigned tickets.
    pub active: bool,
}

impl From<d::User> for TeamMemberDto {
    fn from(u: d::User) -> Self {
        Self { id: u.id.as_uuid(), name: u.name.to_string(), role: u.role.into(), active: u.active }
    }
}

/// The team directory.
#[derive(Debug, Clone, Object)]
pub struct TeamMemberList {
    /// Members, oldest first.
    pub items: Vec<TeamMemberDto>,
}

/// The workspace's users.
#[derive(Debug, Clone, Object)]
pub struct UserList {
    /// Users, oldest first.
    pub items: Vec<UserDto>,
}

/// A new ticket.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketCreateRequest {
    /// Subject (1–200 characters).
    pub subject: String,
    /// The customer's message (1–20,000 characters).
    pub body: String,
    /// Channel (default `web`).
    #[serde(default)]
    pub channel: Option<ChannelDto>,
    /// Customer's name.
    pub customer_name: String,
    /// Customer's email.
    pub customer_email: String,
}

impl TicketCreateRequest {
    /// Validates the new ticket.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(
        self,
    ) -> Result<opsflow_ports::services::tickets::NewTicket, FieldErrors> {
        let mut e = FieldErrors::new();
        let subject = e.check("subject", d::TicketSubject::new(&self.subject));
        let body = e.check("body", d::TicketBody::new(&self.body));
        let customer_name = e.check("customer_name", d::PersonName::new(&self.customer_name));
        let customer_email = e.check("customer_email", d::Email::parse(&self.customer_email));
        let (Some(subject), Some(body), Some(customer_name), Some(customer_email)) =
            (subject, body, customer_name, customer_email)
        else {
            return Err(e);
        };
        Ok(opsflow_ports::services::tickets::NewTicket {
            subject,
            body,
            channel: self.channel.unwrap_or(ChannelDto::Web).into(),
            customer_name,
            customer_email,
        })
    }
}

/// Ticket changes; a field left out stays, `null` clears priority, category or assignee.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPatchRequest {
    /// New subject (1–200 characters; cannot be null).
    #[serde(default)]
    pub subject: MaybeUndefined<String>,
    /// New customer name (cannot be null).
    #[serde(default)]
    pub customer_name: MaybeUndefined<String>,
    /// New customer email (cannot be null).
    #[serde(default)]
    pub customer_email: MaybeUndefined<String>,
    /// New status (cannot be null).
    #[serde(default)]
    pub status: MaybeUndefined<TicketStatusDto>,
    /// New priority, or null to clear.
    #[serde(default)]
    pub priority: MaybeUndefined<PriorityDto>,
    /// New category, or null to clear.
    #[serde(default)]
    pub category: MaybeUndefined<CategoryDto>,
    /// New assignee (an active user of this workspace), or null to unassign.
    #[serde(default)]
    pub assignee_id: MaybeUndefined<String>,
}

/// One change for several tickets ("bulk action").
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketBulkUpdateRequest {
    /// The tickets (ids), 1–100, each once.
    pub ids: Vec<String>,
    /// What to change on each; a field left out stays, `null` clears priority, category or
    /// assignee. At least one field.
    pub changes: TicketBulkChanges,
}

/// The fields a bulk update can change.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketBulkChanges {
    /// New status (cannot be null).
    #[serde(default)]
    pub status: MaybeUndefined<TicketStatusDto>,
    /// New priority, or null to clear.
    #[serde(default)]
    pub priority: MaybeUndefined<PriorityDto>,
    /// New category, or null to clear.
    #[serde(default)]
    pub category: MaybeUndefined<CategoryDto>,
    /// New assignee (an active user of this workspace), or null to unassign.
    #[serde(default)]
    pub assignee_id: MaybeUndefined<String>,
}

/// Most tickets in one bulk update.
pub const MAX_BULK_TICKETS: usize = 100;

impl TicketBulkUpdateRequest {
    /// Validates the ids and the changes.
    ///
    /// # Errors
    /// Field errors (`ids`: empty, too many, malformed or repeated; `changes.*`).
    pub fn try_into_domain(self) -> Result<(Vec<d::TicketId>, d::TicketPatch), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.ids.is_empty() || self.ids.len() > MAX_BULK_TICKETS {
            e.add("ids", format!("must list 1 to {MAX_BULK_TICKETS} tickets"));
        }
        let mut ids: Vec<d::TicketId> = Vec::with_capacity(self.ids.len());
        for (i, raw) in self.ids.iter().enumerate() {
            match d::TicketId::parse(raw.trim()) {
                Ok(id) if ids.contains(&id) => e.add("ids", format!("item {i} is listed twice")),
                Ok(id) => ids.push(id),
                Err(_) => e.add("ids", format!("item {i} is not a ticket id (UUID)")),
            }
        }
        let c = self.changes;
        let status = required(&mut e, "changes.status", c.status, |s| {
            Ok::<_, std::convert::Infallible>(s.into())
        });
        let assignee_id = match c.assignee_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(raw) => {
                e.check("changes.assignee_id", d::UserId::parse(raw.trim())).map(Some)
            }
        };
        let patch = d::TicketPatch {
            status,
            priority: nullable(c.priority),
            category: nullable(c.category),
            assignee_id,
            ..d::TicketPatch::default()
        };
        if patch.is_empty() && e.is_empty() {
            e.add("changes", "must change at least one of status, priority, category, assignee_id");
        }
        e.into_result()?;
        Ok((ids, patch))
    }
}

/// What became of one ticket of a bulk update.
#[derive(Debug, Clone, Object)]
pub struct TicketBulkResult {
    /// The ticket id as sent.
    pub id: String,
    /// Whether the change was applied.
    pub ok: bool,
    /// The ticket after the change (when `ok`).
    pub ticket: Option<TicketDto>,
    /// Why not (when not `ok`), e.g. `ticket_not_found`.
    pub error: Option<crate::error::ErrorDetail>,
}

/// The answer to a bulk update: one result per ticket, in the order sent.
#[derive(Debug, Clone, Object)]
pub struct TicketBulkResponse {
    /// Per-ticket results.
    pub results: Vec<TicketBulkResult>,
    /// How many tickets changed.
    pub updated: u32,
    /// How many did not.
    pub failed: u32,
}

fn nullable<T, U: From<T>>(v: MaybeUndefined<T>) -> Option<Option<U>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(x) => Some(Some(x.into())),
    }
}

/// A patch field that may be left out but not set to `null`; a value is validated by `parse`.
fn required<T, U, E: std::fmt::Display>(
    e: &mut FieldErrors,
    field: &str,
    v: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> Result<U, E>,
) -> Option<U> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => {
            e.add(field, "cannot be null");
            None
        }
        MaybeUndefined::Value(x) => e.check(field, parse(x)),
    }
}

impl TicketPatchRequest {
    /// Validates into a domain patch.
    ///
    /// # Errors
    /// Field errors (a null or invalid subject, customer or status, a malformed
    /// `assignee_id`).
    pub fn try_into_domain(self) -> Result<d::TicketPatch, FieldErrors> {
        let mut e = FieldErrors::new();
        let subject = required(&mut e, "subject", self.subject, |s| d::TicketSubject::new(&s));
        let customer_name =
            required(&mut e, "customer_name", self.customer_name, |n| d::PersonName::new(&n));
        let customer_email =
            required(&mut e, "customer_email", self.customer_email, |m| d::Email::parse(&m));
        let status = required(&mut e, "status", self.status, |s| {
            Ok::<_, std::convert::Infallible>(s.into())
        });
        let assignee_id = match self.assignee_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(raw) => e.check("assignee_id", d::UserId::parse(&raw)).map(Some),
        };
        e.into_result()?;
        Ok(d::TicketPatch {
            subject,
            customer_name,
            customer_email,
            status,
            priority: nullable(self.priority),
            category: nullable(self.category),
            assignee_id,
        })
    }
}

/// A page of tickets.
#[derive(Debug, Clone, Object)]
pub struct TicketPage {
    /// Tickets, in the requested order.
    pub items: Vec<TicketDto>,
    /// Matching tickets in all, counted up to 1,000 (see `total_exact`).
    pub total: u64,
    /// `false` when more than 1,000 tickets match: `total` is then 1,000 and means "1,000+".
    pub total_exact: bool,
    /// Pass as `cursor` (same filters and sort) for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// This page (from 1; 1 when `cursor` was given).
    pub page: u32,
    /// Page size.
    pub page_size: u32,
}

/// A view of the ticket list: its filter (the list parameters it stands for) and how many
/// tickets it shows right now.
#[derive(Debug, Clone, Object)]
#[oai(rename = "TicketView")]
pub struct TicketViewDto {
    /// The view (`GET /api/tickets?view=<id>` lists it).
    pub id: TicketViewIdDto,
    /// Display name.
    pub name: String,
    /// The statuses it shows (empty: any).
    pub status: Vec<TicketStatusDto>,
    /// The priorities it shows (empty: any).
    pub priority: Vec<PriorityDto>,
    /// `me` or `unassigned`, or null for anyone.
    pub assignee: Option<String>,
    /// Its default order.
    pub sort: TicketSortDto,
    /// How many tickets it shows (exact).
    pub count: u64,
}

/// The views of the ticket list, in sidebar order.
#[derive(Debug, Clone, Object)]
pub struct TicketViewsResponse {
    /// The views with their counts.
    pub items: Vec<TicketViewDto>,
}

/// The latest triage run of a ticket, in brief.
#[derive(Debug, Clone, Object)]
pub struct RunSummary {
    /// The run's id.
    pub id: Uuid,
    /// Its status.
    pub status: RunStatusDto,
}

/// A ticket with its replies and latest triage run.
#[derive(Debug, Clone, Object)]
pub struct TicketDetailResponse {
    /// The ticket.
    pub ticket: TicketDto,
    /// Replies, oldest first.
    pub replies: Vec<ReplyDto>,
    /// The newest triage run, if any.
    pub latest_run: Option<RunSummary>,
    /// Files that came with the email that opened the ticket (those of later emails are on
    /// their replies).
    pub attachments: Vec<AttachmentDto>,
}

/// Longest accepted search text.
pub const MAX_Q_CHARS: usize = 200;

/// The filters, order and paging of `GET /api/tickets`, as given in the query string.
#[derive(Debug, Clone, Default)]
pub struct TicketListParams {
    /// Start from this view's filter and order.
    pub view: Option<TicketViewIdDto>,
    /// Only these statuses (any of them).
    pub status: Vec<TicketStatusDto>,
    /// Only these priorities (any of them).
    pub priority: Vec<PriorityDto>,
    /// Only this category.
    pub category: Option<CategoryDto>,
    /// `me`, `unassigned` or a user id.
    pub assignee: Option<String>,
    /// Only tickets assigned to this user.
    pub assignee_id: Option<String>,
    /// Only unassigned tickets.
    pub unassigned: Option<bool>,
    /// Search words, or a ticket number.
    pub q: Option<String>,
    /// The order.
    pub sort: Option<TicketSortDto>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page.
    pub page_size: Option<u32>,
    /// Keyset paging: the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// The values in their first order, each once (a repeated filter value changes nothing).
fn dedup<T: PartialEq>(values: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

impl TicketListParams {
    /// Validates the filters and paging; `me` is the caller (for `assignee=me` and the views).
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self, me: d::UserId) -> Result<d::TicketQuery, FieldErrors> {
        let mut e = FieldErrors::new();
        let page = self.page.unwrap_or(1);
        if page == 0 || page > 1_000_000 {
            e.add("page", "must be between 1 and 1000000");
        }
        let page_size = self.page_size.unwrap_or(d::TicketQuery::DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > d::TicketQuery::MAX_PAGE_SIZE {
            e.add("page_size", "must be between 1 and 100");
        }
        let assignee =
            match (self.assignee.as_deref(), self.assignee_id.as_deref(), self.unassigned) {
                (Some(_), Some(_), _) | (Some(_), _, Some(true)) => {
                    e.add("assignee", "cannot be combined with assignee_id or unassigned");
                    None
                }
                (Some(raw), None, _) => match raw.trim() {
                    "me" => Some(d::AssigneeFilter::User(me)),
                    "unassigned" => Some(d::AssigneeFilter::Unassigned),
                    other => e
                        .check(
                            "assignee",
                            d::UserId::parse(other)
                                .map_err(|_| "must be me, unassigned or a user id (UUID)"),
                        )
                        .map(d::AssigneeFilter::User),
                },
                (None, Some(_), Some(true)) => {
                    e.add("unassigned", "cannot be combined with assignee_id");
                    None
                }
                (None, Some(raw), _) => {
                    e.check("assignee_id", d::UserId::parse(raw)).map(d::AssigneeFilter::User)
                }
                (None, None, Some(true)) => Some(d::AssigneeFilter::Unassigned),
                (None, None, _) => None,
            };
        // A q of just a ticket number (`1042` or `#1042`) finds that ticket.
        let (search, number) = match self.q.as_deref() {
            Some(text) if text.chars().count() > MAX_Q_CHARS => {
                e.add("q", format!("must be at most {MAX_Q_CHARS} characters"));
                (Vec::new(), None)
            }
            Some(text) => match d::parse_ticket_number(text) {
                Some(n) => (Vec::new(), Some(n)),
                None => (d::TicketQuery::search_words(text), None),
            },
            None => (Vec::new(), None),
        };
        let base = self
            .view
            .map_or_else(d::TicketQuery::default, |v| d::TicketQuery::for_view(v.into(), me));
        let sort: d::TicketSort = self.sort.map_or(base.sort, Into::into);
        let after = match self.cursor.as_deref() {
            None => None,
            Some(_) if self.page.is_some_and(|p| p != 1) => {
                e.add("cursor", "cannot be combined with page");
                None
            }
            Some(token) => e.check("cursor", d::TicketCursor::decode(token.trim(), sort)),
        };
        e.into_result()?;
        let mut statuses: Vec<d::TicketStatus> = self.status.into_iter().map(Into::into).collect();
        if statuses.is_empty() {
            statuses = base.statuses;
        }
        if statuses.is_empty() && sort == d::TicketSort::OldestWaiting {
            statuses = d::TicketStatus::WAITING.to_vec();
        }
        let mut priorities: Vec<d::Priority> = self.priority.into_iter().map(Into::into).collect();
        if priorities.is_empty() {
            priorities = base.priorities;
        }
        Ok(d::TicketQuery {
            statuses: dedup(statuses),
            priorities: dedup(priorities),
            category: self.category.map(Into::into),
            assignee: assignee.or(base.assignee),
            number,
            search,
            sort,
            page,
            page_size,
            after,
        })
    }
}

/// A manual reply (also "Save & Mark Replied").
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyCreateRequest {
    /// Text (1–20,000 characters).
    pub body: String,
    /// Status to set on the ticket in the same transaction (e.g. `replied`).
    #[serde(default)]
    pub status: Option<TicketStatusDto>,
    /// The AI draft this reply replaces (removed in the same transaction; its original text
    /// stays in the workflow run's history).
    #[serde(default)]
    pub draft_id: Option<String>,
    /// Send even though the guardrails flag the text (a refund, price or date commitment): set
    /// after a `reply_needs_confirmation` answer. The confirmation is audited.
    #[serde(default)]
    pub confirm_warnings: Option<bool>,
}

impl ReplyCreateRequest {
    /// Validates the reply.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(
        self,
    ) -> Result<opsflow_ports::services::tickets::NewReply, FieldErrors> {
        let mut e = FieldErrors::new();
        let body = e.check("body", d::ReplyBody::new(&self.body));
        let draft_id = match self.draft_id.as_deref() {
            None => Some(None),
            Some(raw) => e.check("draft_id", d::ReplyId::parse(raw)).map(Some),
        };
        let (Some(body), Some(draft_id)) = (body, draft_id) else { return Err(e) };
        Ok(opsflow_ports::services::tickets::NewReply {
            body,
            status: self.status.map(Into::into),
            draft_id,
            confirm_warnings: self.confirm_warnings.unwrap_or(false),
        })
    }
}

/// New text for an unsent draft ("Save Draft").
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftUpdateRequest {
    /// Text (1–20,000 characters).
    pub body: String,
}

/// An internal note.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteCreateRequest {
    /// Text (1–20,000 characters). Mention colleagues as `@Name`.
    pub body: String,
}

impl NoteCreateRequest {
    /// Validates the text.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<d::ReplyBody, FieldErrors> {
        d::ReplyBody::new(&self.body).map_err(|e| FieldErrors::single("body", e))
    }
}

impl DraftUpdateRequest {
    /// Validates the new text.
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<d::ReplyBody, FieldErrors> {
        d::ReplyBody::new(&self.body).map_err(|e| FieldErrors::single("body", e))
    }
}

/// Result of a triage run.
#[derive(Debug, Clone, Object)]
pub struct TriageResponse {
    /// The run (status `succeeded` or `failed`, or `queued` in async mode).
    pub workflow_run: WorkflowRunDto,
    /// The ticket (updated on success, unchanged on failure).
    pub ticket: Option<TicketDto>,
    /// The stored AI draft reply (unsent), or null.
    pub ai_reply_draft: Option<ReplyDto>,
    /// Steps recorded so far, in order.
    pub steps: Vec<WorkflowStepDto>,
    /// Guardrail flags remaining on the draft.
    pub guardrail_flags: Vec<String>,
}

/// A run with its steps.
#[derive(Debug, Clone, Object)]
pub struct RunDetailResponse {
    /// The run, with its status and timing.
    pub workflow_run: WorkflowRunDto,
    /// Steps in order.
    pub steps: Vec<WorkflowStepDto>,
}

/// A ticket's runs.
#[derive(Debug, Clone, Object)]
pub struct RunList {
    /// Runs, newest first.
    pub items: Vec<WorkflowRunDto>,
}

/// Service health.
#[derive(Debug, Clone, Object)]
pub struct HealthResponse {
    /// `ok` or `degraded`.
    pub status: String,
    /// Store status.
    pub store: StoreHealthDto,
    /// Server version.
    pub version: String,
}

/// Store status.
#[derive(Debug, Clone, Object)]
pub struct StoreHealthDto {
    /// `sqlite` or `mongodb`.
    pub backend: String,
    /// Whether the store answered.
    pub ok: bool,
    /// Small facts about the change (old and new role, changed fields, ...), by key.
    pub detail: String,
}

mirror_enum!(
    /// What an audit event records.
    AuditKindDto => AuditKind as "AuditKind" {
        Signup => "signup",
        LoginSucceeded => "login_succeeded",
        LoginFailed => "login_failed",
        PasswordChanged => "password_changed",
        PasswordResetByAdmin => "password_reset_by_admin",
        Logout => "logout",
        LogoutAll => "logout_all",
        UserCreated => "user_created",
        RoleChanged => "role_changed",
        UserDeactivated => "user_deactivated",
        UserReactivated => "user_reactivated",
        SettingsUpdated => "settings_updated",
        ReplyWarningOverridden => "reply_warning_overridden",
        InboundTokenRotated => "inbound_token_rotated",
        EmailSettingsUpdated => "email_settings_updated",
        WebhookCreated => "webhook_created",
        WebhookUpdated => "webhook_updated",
        WebhookDeleted => "webhook_deleted",
        WebhookSecretRotated => "webhook_secret_rotated",
    }
);

/// One entry of the workspace audit log.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AuditEvent")]
pub struct AuditEventDto {
    /// Unique id of this event (a UUID v7).
    pub id: Uuid,
    /// When it happened (UTC).
    pub at: OffsetDateTime,
    /// What happened.
    pub kind: AuditKindDto,
    /// Who did it; null when nobody was signed in (a failed login).
    pub actor_id: Option<Uuid>,
    /// The actor's email at the time.
    pub actor_email: Option<String>,
    /// The user it was done to (for sign-ins, the user signing in).
    pub target_user_id: Option<Uuid>,
    /// The target's email at the time.
    pub target_email: Option<String>,
    /// The client address the request came from, when known.
    pub ip: Option<String>,
    /// Small facts about the change: `from_role`, `to_role`, `reason`, `fields`,
    /// `sessions_ended`, `workspace_name`. Never a password or token.
    pub detail: std::collections::BTreeMap<String, String>,
}

impl From<d::AuditEvent> for AuditEventDto {
    fn from(e: d::AuditEvent) -> Self {
        Self {
            id: e.id.as_uuid(),
            at: e.at,
            kind: e.kind.into(),
            actor_id: e.actor.map(|u| u.as_uuid()),
            actor_email: e.actor_email.map(|m| m.to_string()),
            target_user_id: e.target_user.map(|u| u.as_uuid()),
            target_email: e.target_email.map(|m| m.to_string()),
            ip: e.ip,
            detail: e.detail.into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect(),
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Clone, Object)]
pub struct AuditPage {
    /// Events, newest first.
    pub items: Vec<AuditEventDto>,
    /// Matching events in all.
    pub total: u64,
    /// This page (from 1).
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}
