//! Repository contract suite: the same cases run against every store adapter.
//!
//! Use it from a test crate:
//!
//! ```ignore
//! #[macro_use]
//! mod contract;
//!
//! async fn setup() -> (std::sync::Arc<MyStore>, contract::Cleanup) { ... }
//!
//! contract_tests!(setup);
//! ```
//!
//! `setup` is called once per case and must return a fresh, empty store plus a [`Cleanup`]
//! that is awaited after the case (also when the case panics) to drop its database.
//!
//! Timestamps used here are whole milliseconds, the finest precision every backend keeps
//! (BSON dates are milliseconds).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

pub mod mailbox;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures::FutureExt;
use opsflow_domain::{
    AssigneeFilter, AuditEvent, AuditEventId, AuditKind, AuditQuery, AuthSession, AuthorType,
    Category, Channel, DetailKey, Email, PersonName, Policies, Priority, ReplyBody, ReplyId, Role,
    RunStatus, SessionId, Slug, StepType, TICKET_TRIAGE, Tenant, TenantId, TenantName, TenantScope,
    Ticket, TicketBody, TicketId, TicketListPage, TicketPatch, TicketQuery, TicketReply,
    TicketSort, TicketStatus, TicketSubject, User, UserId, WorkflowRun, WorkflowRunId,
    WorkflowStep, WorkflowStepId,
};
use opsflow_ports::repos::{
    AuditRepository, ReplyRepository, RepoError, Store, TenantRepository, TicketRepository,
    TriageOutcome, UserRepository,
};
use time::{Duration, OffsetDateTime};

mod auto_triage;
pub use auto_triage::*;
mod mail;
pub use mail::*;
mod outbox;
pub use outbox::*;
mod policy;
pub use policy::*;
mod webhooks;
pub use webhooks::*;

/// Drops a case's database; awaited after the case.
pub type Cleanup = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A cleanup that does nothing (stores that vanish when dropped).
#[must_use]
pub fn no_cleanup() -> Cleanup {
    Box::new(|| Box::pin(async {}))
}

/// Runs one case with its store, then the cleanup, then re-raises a failure of the case.
pub async fn run_case<S, F, Fut>(store: Arc<S>, cleanup: Cleanup, case: F)
where
    S: Store,
    F: FnOnce(Arc<S>) -> Fut,
    Fut: Future<Output = ()>,
{
    let result = AssertUnwindSafe(case(store)).catch_unwind().await;
    cleanup().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Expands into one `#[tokio::test]` per contract case, each with a fresh store from `$setup`.
#[macro_export]
macro_rules! contract_tests {
    ($setup:path) => {
        $crate::contract_tests!(@cases $setup;
            signup_creates_tenant_and_admin_atomically,
            same_email_in_two_tenants_but_unique_within_one,
            find_user_in_wrong_tenant_is_not_found,
            tenant_get_and_update_stay_in_scope,
            users_list_oldest_first_get_and_update,
            last_active_admin_cannot_be_demoted_or_deactivated,
            ticket_round_trips_every_field_and_updates,
            ticket_list_filters,
            ticket_list_sorts_and_multi_value_filters,
            ticket_search_by_prefix_and_all_words,
            relevance_order_pages_a_search_by_number,
            ticket_edits_reindex_search,
            search_covers_sent_replies_and_notes_but_not_drafts,
            search_words_that_look_like_query_syntax_are_plain_words,
            a_reply_or_note_is_last_activity,
            view_counts_stay_exact_through_random_writes,
            ticket_list_paginates_newest_first_with_total,
            keyset_pages_walk_every_sort_without_gaps_or_repeats,
            list_counts_are_exact_up_to_the_cap,
            tenant_isolation_for_every_method,
            reply_with_status_change_is_atomic,
            drafts_update_consume_and_not_draft,
            runs_active_conflict_steps_and_fail,
            complete_run_is_atomic,
            one_ai_draft_per_ticket_and_a_sent_reply_retires_it,
            claim_next_claims_oldest_once_under_concurrency,
            claim_next_leases,
            open_counts_by_assignee_counts_open_work,
            create_many_stores_every_ticket,
            ticket_numbers_are_consecutive_per_tenant_under_concurrency,
            health_reports_ok,
            throttle_counts_up_to_the_limit_per_key_and_window,
            throttle_gives_back_and_resets,
            throttle_never_exceeds_the_limit_under_concurrency,
            sessions_live_until_deleted_or_expired,
            sessions_end_per_user_except_one_kept,
            set_password_replaces_hash_and_flag_in_scope_only,
            audit_log_is_newest_first_with_paging_and_total,
            audit_log_filters_by_kinds_actor_and_time,
            audit_log_is_confined_to_its_tenant,
            mail_take_in_opens_a_ticket_with_its_message_and_files,
            mail_follow_up_appends_a_customer_reply_and_reopens,
            mail_duplicate_message_id_is_a_no_op_even_when_racing,
            mail_archive_is_confined_to_its_tenant,
            inbound_tokens_are_found_by_hash_and_replaced_on_rotation,
            outbox_email_is_queued_with_its_reply_or_not_at_all,
            outbox_claim_race_has_one_winner,
            outbox_expired_lease_is_reclaimed_and_the_old_claim_is_fenced_off,
            outbox_retries_when_due_fails_and_is_queued_again_on_request,
            outbox_is_confined_to_its_tenant,
            auto_triage_settings_default_off_and_round_trip,
            ticket_is_created_with_its_arrival_run,
            mail_take_in_queues_the_arrival_run_with_its_ticket,
            reply_policy_defaults_empty_round_trips_and_stays_in_its_tenant,
            steps_of_a_reclaimed_run_keep_their_attempt,
            webhook_endpoints_round_trip_update_rotate_and_delete,
            webhook_claim_leases_once_and_fences_a_lost_lease,
            webhook_claim_race_has_one_winner_per_message,
            webhook_failures_retry_on_schedule_then_fail_and_disable_the_endpoint,
            webhook_deliveries_list_newest_first_with_paging_and_filter,
            webhooks_are_confined_to_their_tenant,
        );
    };
    (@cases $setup:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (store, cleanup) = $setup().await;
                $crate::contract::run_case(store, cleanup, $crate::contract::$case).await;
            }
        )+
    };
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/// Now, truncated to whole milliseconds.
pub fn now_ms() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000).unwrap()
}

/// A base time plus `secs` seconds.
pub fn at(base: OffsetDateTime, secs: i64) -> OffsetDateTime {
    base + Duration::seconds(secs)
}

pub fn new_tenant(name: &str, now: OffsetDateTime) -> Tenant {
    let name = TenantName::new(name).unwrap();
    Tenant {
        id: TenantId::new(),
        slug: Slug::from_name(&name),
        name,
        policies: Policies::new("Be kind. No refunds after 30 days.").unwrap(),
        auto_triage: opsflow_domain::AutoTriageSettings::default(),
        reply_policy: opsflow_domain::ReplyPolicy::default(),
        created_at: now,
        updated_at: now,
    }
}

pub fn new_user(
    tenant_id: TenantId,
    name: &str,
    email: &str,
    role: Role,
    now: OffsetDateTime,
) -> User {
    User {
        id: UserId::new(),
        tenant_id,
        name: PersonName::new(name).unwrap(),
        email: Email::parse(email).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        role,
        active: true,
        must_change_password: false,
        created_at: now,
        updated_at: now,
    }
}

pub fn new_ticket(scope: &TenantScope, subject: &str, body: &str, at: OffsetDateTime) -> Ticket {
    Ticket {
        id: TicketId::new(),
        tenant_id: scope.tenant_id(),
        number: 0,
        subject: TicketSubject::new(subject).unwrap(),
        body: TicketBody::new(body).unwrap(),
        channel: Channel::Web,
        status: TicketStatus::New,
        priority: None,
        category: None,
        customer_name: PersonName::new("Casey Customer").unwrap(),
        customer_email: Email::parse("casey@customer.test").unwrap(),
        assignee_id: None,
        created_by_id: Some(scope.user_id()),
        created_at: at,
        updated_at: at,
    }
}

pub fn human_reply(
    scope: &TenantScope,
    ticket_id: TicketId,
    body: &str,
    at: OffsetDateTime,
) -> TicketReply {
    TicketReply {
        id: ReplyId::new(),
        tenant_id: scope.tenant_id(),
        ticket_id,
        author_type: AuthorType::Human,
        author_id: Some(scope.user_id()),
        body: ReplyBody::new(body).unwrap(),
        sent_at: Some(at),
        created_at: at,
        updated_at: at,
    }
}

pub fn ai_draft(
    scope: &TenantScope,
    ticket_id: TicketId,
    body: &str,
    at: OffsetDateTime,
) -> TicketReply {
    TicketReply {
        id: ReplyId::new(),
        tenant_id: scope.tenant_id(),
        ticket_id,
        author_type: AuthorType::Ai,
        author_id: None,
        body: ReplyBody::new(body).unwrap(),
        sent_at: None,
        created_at: at,
        updated_at: at,
    }
}

pub fn new_run(scope: &TenantScope, ticket_id: TicketId, at: OffsetDateTime) -> WorkflowRun {
    WorkflowRun {
        id: WorkflowRunId::new(),
        tenant_id: scope.tenant_id(),
        ticket_id,
        workflow_type: TICKET_TRIAGE.to_owned(),
        status: RunStatus::Queued,
        started_by_user_id: scope.user_id(),
        trigger: opsflow_domain::RunTrigger::Manual,
        error_message: None,
        started_at: at,
        finished_at: None,
        attempts: 0,
        lease_expires_at: None,
    }
}

pub fn new_step(
    scope: &TenantScope,
    run_id: WorkflowRunId,
    step_type: StepType,
    at: OffsetDateTime,
) -> WorkflowStep {
    WorkflowStep {
        id: WorkflowStepId::new(),
        tenant_id: scope.tenant_id(),
        workflow_run_id: run_id,
        step_type,
        succeeded: true,
        input_snapshot: serde_json::json!({
            "messages": [{"role": "system", "content": "Classify"}, {"role": "user", "content": "Hi"}],
            "ticket": {"subject": "Login broken", "n": 3}
        }),
        output_snapshot: serde_json::json!({"category": "bug", "reason": "login fails"}),
        provider: Some("offline".to_owned()),
        model: Some("rules-v1".to_owned()),
        prompt_version: Some("classification@1".to_owned()),
        latency_ms: 1234,
        prompt_tokens: 321,
        completion_tokens: 45,
        attempts: 2,
        guardrail_flags: vec!["pii_email".to_owned(), "promise".to_owned()],
        error_message: None,
        created_at: at,
        attempt: 1,
    }
}

/// A tenant with its first admin, and the admin's scope.
pub struct Fixture {
    pub tenant: Tenant,
    pub admin: User,
    pub scope: TenantScope,
}

pub async fn signup<S: Store>(store: &S, name: &str, admin_email: &str) -> Fixture {
    let now = now_ms();
    let tenant = new_tenant(name, now);
    let admin = new_user(tenant.id, "First Admin", admin_email, Role::Admin, now);
    store.create_tenant_with_admin(&tenant, &admin).await.unwrap();
    let scope = TenantScope::new(tenant.id, admin.id, Role::Admin);
    Fixture { tenant, admin, scope }
}

fn query() -> TicketQuery {
    TicketQuery { page_size: 100, ..TicketQuery::default() }
}

fn ids(tickets: &[Ticket]) -> Vec<TicketId> {
    tickets.iter().map(|t| t.id).collect()
}

fn words(q: &str) -> Vec<String> {
    TicketQuery::search_words(q)
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(r: Result<T, RepoError>) {
    assert!(matches!(r, Err(RepoError::NotFound)), "expected NotFound, got {r:?}");
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(r: Result<T, RepoError>, what: &str) {
    match r {
        Err(RepoError::Conflict(w)) if w.as_str() == what => {}
        other => panic!("expected Conflict({what}), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts, tenants, users
// ---------------------------------------------------------------------------------------------

pub async fn signup_creates_tenant_and_admin_atomically<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    assert!(store.slug_exists(&a.tenant.slug).await.unwrap());
    assert!(!store.slug_exists(&Slug::parse("nobody-here").unwrap()).await.unwrap());

    let account = store.find_user(a.tenant.id, a.admin.id).await.unwrap();
    assert_eq!(account.user, a.admin);
    assert_eq!(account.tenant, a.tenant);
    assert_eq!(TenantRepository::get(&*store, &a.scope).await.unwrap(), a.tenant);

    // Same slug again: refused, and neither the tenant nor its admin was written.
    let now = now_ms();
    let mut dup = new_tenant("Acme Agency", now);
    dup.slug = a.tenant.slug.clone();
    let dup_admin = new_user(dup.id, "Other Owner", "other@acme.test", Role::Admin, now);
    assert_conflict(store.create_tenant_with_admin(&dup, &dup_admin).await, "slug");
    assert_not_found(store.find_user(dup.id, dup_admin.id).await);
    assert!(store.find_by_email(&dup_admin.email).await.unwrap().is_empty());
    let dup_scope = TenantScope::new(dup.id, dup_admin.id, Role::Admin);
    assert_not_found(TenantRepository::get(&*store, &dup_scope).await);
}

pub async fn same_email_in_two_tenants_but_unique_within_one<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let now = now_ms();
    let ua = new_user(a.tenant.id, "Sam A", "sam@shared.test", Role::Agent, now);
    let ub = new_user(b.tenant.id, "Sam B", "sam@shared.test", Role::Admin, now);
    UserRepository::create(&*store, &a.scope, &ua).await.unwrap();
    UserRepository::create(&*store, &b.scope, &ub).await.unwrap();

    let again = new_user(a.tenant.id, "Sam Again", "sam@shared.test", Role::Agent, now);
    assert_conflict(UserRepository::create(&*store, &a.scope, &again).await, "email");
    assert_not_found(UserRepository::get(&*store, &a.scope, again.id).await);

    let mut found = store.find_by_email(&ua.email).await.unwrap();
    found.sort_by_key(|acc| acc.tenant.name.as_str().to_owned());
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].user, ua);
    assert_eq!(found[0].tenant, a.tenant);
    assert_eq!(found[1].user, ub);
    assert_eq!(found[1].tenant, b.tenant);

    let single = store.find_by_email(&a.admin.email).await.unwrap();
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].user, a.admin);
}

pub async fn find_user_in_wrong_tenant_is_not_found<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    assert_not_found(store.find_user(b.tenant.id, a.admin.id).await);
    assert_not_found(store.find_user(a.tenant.id, UserId::new()).await);
    assert_eq!(store.find_user(b.tenant.id, b.admin.id).await.unwrap().tenant, b.tenant);
}

pub async fn tenant_get_and_update_stay_in_scope<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;

    let mut changed = a.tenant.clone();
    changed.name = TenantName::new("Alpha Agency Renamed").unwrap();
    changed.policies = Policies::new("Always answer within one day.").unwrap();
    changed.updated_at = at(now_ms(), 5);
    TenantRepository::update(&*store, &a.scope, &changed).await.unwrap();
    let got = TenantRepository::get(&*store, &a.scope).await.unwrap();
    assert_eq!(got, changed);
    assert_eq!(got.slug, a.tenant.slug, "slug is kept");

    // A's scope with B's id in the struct: NotFound and B unchanged.
    let mut hijack = b.tenant.clone();
    hijack.name = TenantName::new("Hijacked").unwrap();
    assert_not_found(TenantRepository::update(&*store, &a.scope, &hijack).await);
    assert_eq!(TenantRepository::get(&*store, &b.scope).await.unwrap(), b.tenant);
    assert_eq!(TenantRepository::get(&*store, &a.scope).await.unwrap(), changed);
}

pub async fn users_list_oldest_first_get_and_update<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let u2 = new_user(a.tenant.id, "Zed Later", "zed@alpha.test", Role::Agent, at(base, 20));
    let u1 = new_user(a.tenant.id, "Amy Earlier", "amy@alpha.test", Role::Agent, at(base, 10));
    UserRepository::create(&*store, &a.scope, &u2).await.unwrap();
    UserRepository::create(&*store, &a.scope, &u1).await.unwrap();

    let list = UserRepository::list(&*store, &a.scope).await.unwrap();
    assert_eq!(list, vec![a.admin.clone(), u1.clone(), u2.clone()]);
    assert_eq!(UserRepository::list(&*store, &b.scope).await.unwrap(), vec![b.admin.clone()]);

    assert_eq!(UserRepository::get(&*store, &a.scope, u1.id).await.unwrap(), u1);
    assert_not_found(UserRepository::get(&*store, &b.scope, u1.id).await);

    let mut edited = u1.clone();
    edited.name = PersonName::new("Amy Renamed").unwrap();
    edited.role = Role::Admin;
    edited.active = false;
    edited.updated_at = at(base, 30);
    UserRepository::update(&*store, &a.scope, &edited).await.unwrap();
    assert_eq!(UserRepository::get(&*store, &a.scope, u1.id).await.unwrap(), edited);

    let mut foreign = edited.clone();
    foreign.name = PersonName::new("Foreign Edit").unwrap();
    assert_not_found(UserRepository::update(&*store, &b.scope, &foreign).await);
    assert_eq!(UserRepository::get(&*store, &a.scope, u1.id).await.unwrap(), edited);
    let missing = new_user(a.tenant.id, "Ghost", "ghost@alpha.test", Role::Agent, base);
    assert_not_found(UserRepository::update(&*store, &a.scope, &missing).await);
}

pub async fn last_active_admin_cannot_be_demoted_or_deactivated<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let now = now_ms();

    let mut demoted = a.admin.clone();
    demoted.role = Role::Agent;
    assert_conflict(UserRepository::update(&*store, &a.scope, &demoted).await, "last_admin");
    let mut deactivated = a.admin.clone();
    deactivated.active = false;
    assert_conflict(UserRepository::update(&*store, &a.scope, &deactivated).await, "last_admin");
    assert_eq!(UserRepository::get(&*store, &a.scope, a.admin.id).await.unwrap(), a.admin);

    // An agent and an inactive admin do not count.
    let agent = new_user(a.tenant.id, "Agent", "agent@alpha.test", Role::Agent, now);
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();
    let mut sleeping = new_user(a.tenant.id, "Sleeping", "sleep@alpha.test", Role::Admin, now);
    sleeping.active = false;
    UserRepository::create(&*store, &a.scope, &sleeping).await.unwrap();
    assert_conflict(UserRepository::update(&*store, &a.scope, &demoted).await, "last_admin");

    // Renaming the last admin is fine.
    let mut renamed = a.admin.clone();
    renamed.name = PersonName::new("Renamed Admin").unwrap();
    UserRepository::update(&*store, &a.scope, &renamed).await.unwrap();

    // With a second active admin, the first may step down.
    let second = new_user(a.tenant.id, "Second", "second@alpha.test", Role::Admin, now);
    UserRepository::create(&*store, &a.scope, &second).await.unwrap();
    let mut demoted = renamed.clone();
    demoted.role = Role::Agent;
    UserRepository::update(&*store, &a.scope, &demoted).await.unwrap();
    assert_eq!(UserRepository::get(&*store, &a.scope, a.admin.id).await.unwrap().role, Role::Agent);

    // Now the second is the last one.
    let mut second_off = second.clone();
    second_off.active = false;
    assert_conflict(UserRepository::update(&*store, &a.scope, &second_off).await, "last_admin");
    // Promoting an agent back is always allowed.
    let mut promoted = agent.clone();
    promoted.role = Role::Admin;
    UserRepository::update(&*store, &a.scope, &promoted).await.unwrap();
    UserRepository::update(&*store, &a.scope, &second_off).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------------------------

pub async fn ticket_round_trips_every_field_and_updates<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t =
        new_ticket(&a.scope, "Checkout fails with 500", "Since this morning… ünïcode ✓", base);
    t.channel = Channel::Email;
    t.status = TicketStatus::Pending;
    t.priority = Some(Priority::Urgent);
    t.category = Some(Category::FeatureRequest);
    t.customer_name = PersonName::new("Zoë O'Brien").unwrap();
    t.customer_email = Email::parse("zoe@shop.example").unwrap();
    t.assignee_id = Some(a.admin.id);
    t.updated_at = at(base, 1);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    assert_eq!(TicketRepository::get(&*store, &a.scope, t.id).await.unwrap(), t);
    assert_not_found(TicketRepository::get(&*store, &a.scope, TicketId::new()).await);

    let later = at(base, 60);
    let patch = TicketPatch {
        subject: Some(TicketSubject::new("Renamed: refund for order 7").unwrap()),
        customer_name: Some(PersonName::new("Zoë Brien-Walsh").unwrap()),
        customer_email: Some(Email::parse("zoe.walsh@shop.example").unwrap()),
        status: Some(TicketStatus::Open),
        priority: Some(None),
        category: Some(Some(Category::Billing)),
        assignee_id: Some(None),
    };
    let updated = TicketRepository::update(&*store, &a.scope, t.id, &patch, later).await.unwrap();
    let mut want = t.clone();
    patch.apply_to(&mut want, later);
    assert_eq!(updated, want);
    assert_eq!(TicketRepository::get(&*store, &a.scope, t.id).await.unwrap(), want);

    // An empty patch only touches updated_at; a partial patch leaves other fields alone.
    let patch = TicketPatch { priority: Some(Some(Priority::Low)), ..TicketPatch::default() };
    let later2 = at(base, 120);
    let updated = TicketRepository::update(&*store, &a.scope, t.id, &patch, later2).await.unwrap();
    patch.apply_to(&mut want, later2);
    assert_eq!(updated, want);
    assert_eq!(updated.category, Some(Category::Billing));
    assert_not_found(
        TicketRepository::update(&*store, &a.scope, TicketId::new(), &patch, later2).await,
    );
}

pub async fn ticket_list_filters<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let agent = new_user(a.tenant.id, "Agent", "agent@alpha.test", Role::Agent, base);
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();

    let mut t1 = new_ticket(&a.scope, "One", "first", at(base, 1));
    t1.status = TicketStatus::Open;
    t1.priority = Some(Priority::High);
    t1.category = Some(Category::Bug);
    t1.assignee_id = Some(agent.id);
    let mut t2 = new_ticket(&a.scope, "Two", "second", at(base, 2));
    t2.priority = Some(Priority::Low);
    t2.category = Some(Category::Billing);
    t2.assignee_id = Some(a.admin.id);
    let mut t3 = new_ticket(&a.scope, "Three", "third", at(base, 3));
    t3.status = TicketStatus::Open;
    t3.priority = Some(Priority::High);
    t3.category = Some(Category::Billing);
    let t4 = new_ticket(&a.scope, "Four", "fourth", at(base, 4));
    let mut t5 = new_ticket(&a.scope, "Five", "fifth", at(base, 5));
    t5.status = TicketStatus::Closed;
    t5.assignee_id = Some(agent.id);
    for t in [&t1, &t2, &t3, &t4, &t5] {
        TicketRepository::create(&*store, &a.scope, t).await.unwrap();
    }

    let run = |q: TicketQuery| {
        let store = store.clone();
        let scope = a.scope;
        async move { TicketRepository::list(&*store, &scope, &q).await.unwrap() }
    };
    let all = run(query()).await;
    assert_eq!(ids(&all.items), vec![t5.id, t4.id, t3.id, t2.id, t1.id]);
    assert_eq!(all.total, 5);

    let open = run(TicketQuery { statuses: vec![TicketStatus::Open], ..query() }).await;
    assert_eq!(ids(&open.items), vec![t3.id, t1.id]);
    assert_eq!(open.total, 2);
    let new = run(TicketQuery { statuses: vec![TicketStatus::New], ..query() }).await;
    assert_eq!(ids(&new.items), vec![t4.id, t2.id]);
    let pending = run(TicketQuery { statuses: vec![TicketStatus::Pending], ..query() }).await;
    assert!(pending.items.is_empty());
    assert_eq!(pending.total, 0);

    let high = run(TicketQuery { priorities: vec![Priority::High], ..query() }).await;
    assert_eq!(ids(&high.items), vec![t3.id, t1.id]);
    let billing = run(TicketQuery { category: Some(Category::Billing), ..query() }).await;
    assert_eq!(ids(&billing.items), vec![t3.id, t2.id]);
    let mine = run(TicketQuery { assignee: Some(AssigneeFilter::User(agent.id)), ..query() }).await;
    assert_eq!(ids(&mine.items), vec![t5.id, t1.id]);
    let unassigned =
        run(TicketQuery { assignee: Some(AssigneeFilter::Unassigned), ..query() }).await;
    assert_eq!(ids(&unassigned.items), vec![t4.id, t3.id]);
    assert_eq!(unassigned.total, 2);

    let combined = run(TicketQuery {
        statuses: vec![TicketStatus::Open],
        priorities: vec![Priority::High],
        category: Some(Category::Billing),
        assignee: Some(AssigneeFilter::Unassigned),
        ..query()
    })
    .await;
    assert_eq!(ids(&combined.items), vec![t3.id]);
    assert_eq!(combined.total, 1);
    let nobody =
        run(TicketQuery { assignee: Some(AssigneeFilter::User(UserId::new())), ..query() }).await;
    assert!(nobody.items.is_empty());
}

pub async fn ticket_list_sorts_and_multi_value_filters<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let spec = [
        (TicketStatus::Open, Some(Priority::Low)),
        (TicketStatus::New, Some(Priority::Urgent)),
        (TicketStatus::Pending, None),
        (TicketStatus::Closed, Some(Priority::Urgent)),
        (TicketStatus::Replied, Some(Priority::High)),
        (TicketStatus::New, Some(Priority::Medium)),
    ];
    let mut t = Vec::new();
    for (i, (status, priority)) in (1_i64..).zip(spec) {
        let mut ticket = new_ticket(&a.scope, &format!("T{i}"), "body", at(base, i));
        ticket.status = status;
        ticket.priority = priority;
        TicketRepository::create(&*store, &a.scope, &ticket).await.unwrap();
        t.push(ticket.id);
    }
    // Another workspace's urgent ticket never shows up.
    let mut foreign = new_ticket(&b.scope, "Foreign", "body", at(base, 0));
    foreign.priority = Some(Priority::Urgent);
    TicketRepository::create(&*store, &b.scope, &foreign).await.unwrap();
    // Activity on T1 and T5 (a change sets updated_at), T5 last.
    let touch = TicketPatch { category: Some(Some(Category::Bug)), ..TicketPatch::default() };
    TicketRepository::update(&*store, &a.scope, t[0], &touch, at(base, 50)).await.unwrap();
    TicketRepository::update(&*store, &a.scope, t[4], &touch, at(base, 60)).await.unwrap();
    // A priority change moves a ticket in the priority order.
    let low = TicketPatch { priority: Some(Some(Priority::Low)), ..TicketPatch::default() };
    let urgent = TicketPatch { priority: Some(Some(Priority::Urgent)), ..TicketPatch::default() };
    TicketRepository::update(&*store, &a.scope, t[3], &low, at(base, 4)).await.unwrap();
    TicketRepository::update(&*store, &a.scope, t[3], &urgent, at(base, 4)).await.unwrap();

    let list = |q: TicketQuery| {
        let store = store.clone();
        let scope = a.scope;
        async move { TicketRepository::list(&*store, &scope, &q).await.unwrap() }
    };
    let by = |sort| TicketQuery { sort, ..query() };
    let pick = |idx: &[usize]| idx.iter().map(|i| t[*i]).collect::<Vec<_>>();

    let newest = list(by(TicketSort::Created)).await;
    assert_eq!(ids(&newest.items), pick(&[5, 4, 3, 2, 1, 0]));
    // Urgent first, then high, medium, low, unset; oldest first within a priority.
    let priority = list(by(TicketSort::Priority)).await;
    assert_eq!(ids(&priority.items), pick(&[1, 3, 4, 5, 0, 2]));
    assert_eq!(priority.total, 6);
    let activity = list(by(TicketSort::LastActivity)).await;
    assert_eq!(ids(&activity.items), pick(&[4, 0, 5, 3, 2, 1]));
    let oldest = list(by(TicketSort::OldestWaiting)).await;
    assert_eq!(ids(&oldest.items), pick(&[0, 1, 2, 3, 4, 5]));
    // Pages follow the order.
    let page2 = list(TicketQuery { page: 2, page_size: 4, ..by(TicketSort::Priority) }).await;
    assert_eq!(ids(&page2.items), pick(&[0, 2]));
    assert_eq!(page2.total, 6);

    // Several values of one filter: any of them; different filters: all of them.
    let waiting =
        list(TicketQuery { statuses: vec![TicketStatus::New, TicketStatus::Pending], ..query() })
            .await;
    assert_eq!(ids(&waiting.items), pick(&[5, 2, 1]));
    assert_eq!(waiting.total, 3);
    let hot = list(TicketQuery {
        priorities: vec![Priority::Urgent, Priority::High],
        ..by(TicketSort::Priority)
    })
    .await;
    assert_eq!(ids(&hot.items), pick(&[1, 3, 4]));
    assert_eq!(hot.total, 3);
    let both = list(TicketQuery {
        statuses: vec![TicketStatus::New, TicketStatus::Open],
        priorities: vec![Priority::Urgent, Priority::Low],
        ..query()
    })
    .await;
    assert_eq!(ids(&both.items), pick(&[1, 0]));
    let with_search = list(TicketQuery {
        statuses: vec![TicketStatus::New, TicketStatus::Open],
        search: words("t2"),
        ..query()
    })
    .await;
    assert_eq!(ids(&with_search.items), pick(&[1]));
    assert_eq!(with_search.total, 1);

    // Counts ignore paging and order, and stay in the tenant.
    let urgent = TicketQuery { priorities: vec![Priority::Urgent], page: 9, ..query() };
    assert_eq!(TicketRepository::count(&*store, &a.scope, &urgent).await.unwrap(), 2);
    assert_eq!(TicketRepository::count(&*store, &b.scope, &urgent).await.unwrap(), 1);
    let waiting = TicketQuery {
        statuses: TicketStatus::WAITING.to_vec(),
        assignee: Some(AssigneeFilter::Unassigned),
        sort: TicketSort::Priority,
        ..query()
    };
    assert_eq!(TicketRepository::count(&*store, &a.scope, &waiting).await.unwrap(), 4);
    let searched = TicketQuery { search: words("t5 body"), ..query() };
    assert_eq!(TicketRepository::count(&*store, &a.scope, &searched).await.unwrap(), 1);
}

pub async fn ticket_search_by_prefix_and_all_words<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t1 = new_ticket(
        &a.scope,
        "Login BROKEN after update",
        "I cannot sign in since Tuesday",
        at(base, 1),
    );
    t1.customer_name = PersonName::new("Ann Lee").unwrap();
    t1.customer_email = Email::parse("ann@example.com").unwrap();
    let mut t2 =
        new_ticket(&a.scope, "Invoice missing", "Where is my invoice for March?", at(base, 2));
    t2.customer_name = PersonName::new("Bob Stone").unwrap();
    t2.customer_email = Email::parse("bob@billing.io").unwrap();
    t2.status = TicketStatus::Open;
    let mut t3 = new_ticket(
        &a.scope,
        "Feature: dark mode",
        "Please add dark mode to the login page",
        at(base, 3),
    );
    t3.customer_name = PersonName::new("Cara Diaz").unwrap();
    t3.customer_email = Email::parse("cara@example.com").unwrap();
    for t in [&t1, &t2, &t3] {
        TicketRepository::create(&*store, &a.scope, t).await.unwrap();
    }
    let search = |q: &str, status: Option<TicketStatus>| {
        let store = store.clone();
        let scope = a.scope;
        let query =
            TicketQuery { search: words(q), statuses: status.into_iter().collect(), ..query() };
        async move { TicketRepository::list(&*store, &scope, &query).await.unwrap() }
    };

    let r = search("log", None).await;
    assert_eq!(ids(&r.items), vec![t3.id, t1.id]);
    assert_eq!(r.total, 2);
    assert_eq!(ids(&search("LOGIN Dark", None).await.items), vec![t3.id]);
    assert_eq!(ids(&search("invoice", None).await.items), vec![t2.id]);
    assert_eq!(ids(&search("invo marc", None).await.items), vec![t2.id]);
    // Customer email and name tokens.
    assert_eq!(ids(&search("billing", None).await.items), vec![t2.id]);
    assert_eq!(ids(&search("example.com", None).await.items), vec![t3.id, t1.id]);
    assert_eq!(ids(&search("ann", None).await.items), vec![t1.id]);
    assert_eq!(ids(&search("diaz", None).await.items), vec![t3.id]);
    // Words must all match, as prefixes (not infixes).
    let none = search("login invoice", None).await;
    assert!(none.items.is_empty());
    assert_eq!(none.total, 0);
    assert!(search("ogin", None).await.items.is_empty());
    assert!(search("zzz", None).await.items.is_empty());
    // Search combines with filters.
    assert_eq!(ids(&search("i", Some(TicketStatus::Open)).await.items), vec![t2.id]);
    assert_eq!(search("example", Some(TicketStatus::Open)).await.total, 0);

    // Another tenant's identical ticket is never found.
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let mut tb = new_ticket(&b.scope, "Login BROKEN after update", "same words", at(base, 4));
    tb.number = TicketRepository::create(&*store, &b.scope, &tb).await.unwrap();
    assert_eq!(ids(&search("login broken", None).await.items), vec![t1.id]);
}

/// Relevance (best match first on SQLite, newest first on MongoDB) lists exactly the search's
/// matches, pages by page number without a cursor, and without search words is the newest
/// first order.
pub async fn relevance_order_pages_a_search_by_number<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut made = Vec::new();
    for i in 0..7_i64 {
        let (subject, body) = if i % 2 == 0 {
            ("Refund request", "Please refund my order")
        } else {
            ("Question about my order", "Can I get a refund?")
        };
        let t = new_ticket(&a.scope, subject, body, at(base, i));
        TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
        made.push(t.id);
    }
    let other = new_ticket(&a.scope, "Dark mode", "unrelated", at(base, 9));
    TicketRepository::create(&*store, &a.scope, &other).await.unwrap();

    let ranked = TicketQuery { search: words("refund"), sort: TicketSort::Relevance, ..query() };
    let whole = TicketRepository::list(
        &*store,
        &a.scope,
        &TicketQuery { page_size: 100, ..ranked.clone() },
    )
    .await
    .unwrap();
    let mut expected = made.clone();
    expected.sort();
    let mut got = ids(&whole.items);
    got.sort();
    assert_eq!(got, expected, "exactly the matches");
    assert_eq!(whole.total, 7);

    let mut walked = Vec::new();
    for page in 1..=3 {
        let p = TicketRepository::list(
            &*store,
            &a.scope,
            &TicketQuery { page, page_size: 3, ..ranked.clone() },
        )
        .await
        .unwrap();
        assert!(p.next.is_none(), "no cursor for a ranked order");
        assert_eq!(p.total, 7);
        walked.extend(ids(&p.items));
    }
    assert_eq!(walked, ids(&whole.items), "pages by number follow the same order");

    let unsearched = TicketQuery { sort: TicketSort::Relevance, ..query() };
    let newest = TicketQuery { sort: TicketSort::Created, ..query() };
    assert_eq!(
        ids(&TicketRepository::list(&*store, &a.scope, &unsearched).await.unwrap().items),
        ids(&TicketRepository::list(&*store, &a.scope, &newest).await.unwrap().items),
    );
}

pub async fn ticket_edits_reindex_search<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "Login broken", "The login page hangs on submit", base);
    t.customer_name = PersonName::new("Ann Lee").unwrap();
    t.customer_email = Email::parse("ann@example.com").unwrap();
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    let mut other = new_ticket(&a.scope, "Broken invoice", "Totals are wrong", at(base, 1));
    other.number = TicketRepository::create(&*store, &a.scope, &other).await.unwrap();
    let found = |q: &str| {
        let store = store.clone();
        let scope = a.scope;
        let query = TicketQuery { search: words(q), ..query() };
        async move { ids(&TicketRepository::list(&*store, &scope, &query).await.unwrap().items) }
    };
    assert_eq!(found("broken").await, vec![other.id, t.id]);

    // A new subject: its words are found, the dropped ones no longer are, and a word that is
    // also in the body ("login") still is.
    let patch = TicketPatch {
        subject: Some(TicketSubject::new("Login hangs on Safari").unwrap()),
        ..TicketPatch::default()
    };
    TicketRepository::update(&*store, &a.scope, t.id, &patch, at(base, 10)).await.unwrap();
    assert_eq!(found("safari").await, vec![t.id]);
    assert_eq!(found("broken").await, vec![other.id]);
    assert_eq!(found("login").await, vec![t.id]);
    // A status-only edit leaves the index alone.
    let status = TicketPatch { status: Some(TicketStatus::Open), ..TicketPatch::default() };
    TicketRepository::update(&*store, &a.scope, t.id, &status, at(base, 11)).await.unwrap();
    assert_eq!(found("safari hangs").await, vec![t.id]);

    // Two edits at once, one to the customer's name and one to their email: both land and both
    // are searchable (neither recomputes the keywords from a stale ticket).
    let name = TicketPatch {
        customer_name: Some(PersonName::new("Ann Okafor").unwrap()),
        ..TicketPatch::default()
    };
    let email = TicketPatch {
        customer_email: Some(Email::parse("ann@okafor.example").unwrap()),
        ..TicketPatch::default()
    };
    let (r1, r2) = tokio::join!(
        TicketRepository::update(&*store, &a.scope, t.id, &name, at(base, 12)),
        TicketRepository::update(&*store, &a.scope, t.id, &email, at(base, 12)),
    );
    r1.unwrap();
    r2.unwrap();
    let stored = TicketRepository::get(&*store, &a.scope, t.id).await.unwrap();
    assert_eq!(stored.customer_name.as_str(), "Ann Okafor");
    assert_eq!(stored.customer_email.as_str(), "ann@okafor.example");
    assert_eq!(stored.subject.as_str(), "Login hangs on Safari");
    assert_eq!(found("okafor").await, vec![t.id]);
    assert_eq!(found("okafor.example").await, vec![t.id]);
    assert!(found("lee").await.is_empty());
    assert!(found("example.com").await.is_empty());
    assert_eq!(found("ann").await, vec![t.id]);

    // Another tenant cannot rename the ticket, and its search never sees it.
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let rename = TicketPatch {
        subject: Some(TicketSubject::new("pwned").unwrap()),
        ..TicketPatch::default()
    };
    assert_not_found(
        TicketRepository::update(&*store, &b.scope, t.id, &rename, at(base, 13)).await,
    );
    let query = TicketQuery { search: words("safari"), ..query() };
    assert!(TicketRepository::list(&*store, &b.scope, &query).await.unwrap().items.is_empty());
    assert_eq!(
        TicketRepository::get(&*store, &a.scope, t.id).await.unwrap().subject.as_str(),
        "Login hangs on Safari"
    );
}

/// A message on `ticket_id` by `author` (sent at `at`).
fn sent_message(
    scope: &TenantScope,
    ticket_id: TicketId,
    author: AuthorType,
    body: &str,
    at: OffsetDateTime,
) -> TicketReply {
    TicketReply {
        author_type: author,
        author_id: (author != AuthorType::Customer).then(|| scope.user_id()),
        ..human_reply(scope, ticket_id, body, at)
    }
}

pub async fn search_covers_sent_replies_and_notes_but_not_drafts<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "Printer jammed", "Paper stuck in tray two", base);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    let mut other = new_ticket(&a.scope, "Printer offline", "No network", at(base, 1));
    other.number = TicketRepository::create(&*store, &a.scope, &other).await.unwrap();
    let found = |q: &str| {
        let store = store.clone();
        let scope = a.scope;
        let query = TicketQuery { search: words(q), ..query() };
        async move { ids(&TicketRepository::list(&*store, &scope, &query).await.unwrap().items) }
    };
    let messages = [
        (AuthorType::Customer, "The replacement toner arrived damaged", 2),
        (AuthorType::Human, "We shipped a refurbished unit", 3),
        (AuthorType::Note, "Escalated to Kyocera vendor support", 4),
    ];
    for (author, body, secs) in messages {
        let m = sent_message(&a.scope, t.id, author, body, at(base, secs));
        ReplyRepository::add(&*store, &a.scope, &m, None, None, at(base, secs)).await.unwrap();
    }
    let draft = ai_draft(&a.scope, t.id, "Suggest a firmware downgrade", at(base, 5));
    ReplyRepository::add(&*store, &a.scope, &draft, None, None, at(base, 5)).await.unwrap();

    // Customer reply, agent reply and internal note words, by prefix, with ticket words too.
    assert_eq!(found("toner").await, vec![t.id]);
    assert_eq!(found("refurb").await, vec![t.id]);
    assert_eq!(found("kyoc vend").await, vec![t.id]);
    assert_eq!(found("printer damaged").await, vec![t.id]);
    assert_eq!(found("printer").await, vec![other.id, t.id]);
    // The unsent AI draft is not the ticket's conversation yet.
    assert!(found("firmware").await.is_empty());
    // Counts agree with the list.
    let escalated = TicketQuery { search: words("escalated"), ..query() };
    assert_eq!(TicketRepository::count(&*store, &a.scope, &escalated).await.unwrap(), 1);
    let page = TicketRepository::list(&*store, &a.scope, &escalated).await.unwrap();
    assert_eq!((page.total, page.total_exact), (1, true));

    // Editing the subject keeps the replies searchable.
    let rename = TicketPatch {
        subject: Some(TicketSubject::new("Tray two jam").unwrap()),
        ..TicketPatch::default()
    };
    TicketRepository::update(&*store, &a.scope, t.id, &rename, at(base, 6)).await.unwrap();
    assert_eq!(found("toner").await, vec![t.id]);
    assert_eq!(found("kyocera").await, vec![t.id]);
    assert_eq!(found("jam").await, vec![t.id]);
    assert_eq!(found("printer").await, vec![other.id]);

    // Another tenant never finds these words, and cannot add searchable text to the ticket.
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let mut tb = new_ticket(&b.scope, "Unrelated", "nothing", at(base, 7));
    tb.number = TicketRepository::create(&*store, &b.scope, &tb).await.unwrap();
    let sneaky = sent_message(&b.scope, t.id, AuthorType::Human, "zebracorn", at(base, 8));
    assert_not_found(
        ReplyRepository::add(&*store, &b.scope, &sneaky, None, None, at(base, 8)).await,
    );
    assert!(found("zebracorn").await.is_empty());
    for q in ["toner", "kyocera", "jam"] {
        let query = TicketQuery { search: words(q), ..query() };
        let page = TicketRepository::list(&*store, &b.scope, &query).await.unwrap();
        assert_eq!((page.items.len(), page.total), (0, 0), "{q}");
    }
}

pub async fn search_words_that_look_like_query_syntax_are_plain_words<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(
        &a.scope,
        "NEAR the AND gate OR not",
        "subject: refund \"quoted\" (paren) -minus star* col:on",
        base,
    );
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    let mut other = new_ticket(&a.scope, "Nearby office", "Plain text", at(base, 1));
    other.number = TicketRepository::create(&*store, &a.scope, &other).await.unwrap();
    let cases: [(&str, Vec<TicketId>); 12] = [
        ("NEAR", vec![other.id, t.id]),
        ("NEAR(and gate)", vec![t.id]),
        ("\"quoted", vec![t.id]),
        ("quot*", vec![t.id]),
        ("-minus", vec![t.id]),
        ("subject:refund", vec![t.id]),
        ("col:on", vec![t.id]),
        ("(paren", vec![t.id]),
        ("AND OR", vec![t.id]),
        ("^star", vec![t.id]),
        ("{plain}: text", vec![other.id]),
        ("\"\" * - : ( ) nothinglikethis", vec![]),
    ];
    for (q, want) in cases {
        let query = TicketQuery { search: words(q), ..query() };
        let page = TicketRepository::list(&*store, &a.scope, &query).await;
        let page = page.unwrap_or_else(|e| panic!("{q:?} failed: {e:?}"));
        assert_eq!(ids(&page.items), want, "{q:?}");
        assert_eq!(
            TicketRepository::count(&*store, &a.scope, &query).await.unwrap(),
            want.len() as u64,
            "{q:?}"
        );
    }
}

pub async fn a_reply_or_note_is_last_activity<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut tickets = Vec::new();
    for i in 0..3 {
        let mut t = new_ticket(&a.scope, &format!("Ticket {i}"), "body", at(base, i));
        t.status = TicketStatus::Open;
        t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
        tickets.push(t);
    }
    let by_activity = || {
        let store = store.clone();
        let scope = a.scope;
        let query = TicketQuery { sort: TicketSort::LastActivity, ..query() };
        async move { ids(&TicketRepository::list(&*store, &scope, &query).await.unwrap().items) }
    };
    assert_eq!(by_activity().await, vec![tickets[2].id, tickets[1].id, tickets[0].id]);

    // An agent reply that leaves the status as it is moves the oldest ticket to the top.
    let reply = sent_message(&a.scope, tickets[0].id, AuthorType::Human, "On it", at(base, 10));
    ReplyRepository::add(&*store, &a.scope, &reply, None, None, at(base, 10)).await.unwrap();
    let got = TicketRepository::get(&*store, &a.scope, tickets[0].id).await.unwrap();
    assert_eq!((got.updated_at, got.status), (at(base, 10), TicketStatus::Open));
    assert_eq!(by_activity().await, vec![tickets[0].id, tickets[2].id, tickets[1].id]);

    // So does an internal note.
    let note = sent_message(&a.scope, tickets[1].id, AuthorType::Note, "Ask QA", at(base, 20));
    ReplyRepository::add(&*store, &a.scope, &note, None, None, at(base, 20)).await.unwrap();
    let got = TicketRepository::get(&*store, &a.scope, tickets[1].id).await.unwrap();
    assert_eq!(got.updated_at, at(base, 20));
    assert_eq!(by_activity().await, vec![tickets[1].id, tickets[0].id, tickets[2].id]);

    // An unsent AI draft is not activity.
    let draft = ai_draft(&a.scope, tickets[2].id, "Draft", at(base, 30));
    ReplyRepository::add(&*store, &a.scope, &draft, None, None, at(base, 30)).await.unwrap();
    let got = TicketRepository::get(&*store, &a.scope, tickets[2].id).await.unwrap();
    assert_eq!(got.updated_at, at(base, 2));
    assert_eq!(by_activity().await, vec![tickets[1].id, tickets[0].id, tickets[2].id]);

    // Keyset paging in activity order still walks every ticket once.
    let mut seen = Vec::new();
    let mut q = TicketQuery { sort: TicketSort::LastActivity, page_size: 1, ..query() };
    loop {
        let page = TicketRepository::list(&*store, &a.scope, &q).await.unwrap();
        seen.extend(ids(&page.items));
        match page.next {
            Some(next) => q.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, vec![tickets[1].id, tickets[0].id, tickets[2].id]);
}

/// Every ticket of the tenant, read back through keyset pages.
async fn all_tickets<S: Store>(store: &S, scope: &TenantScope) -> Vec<Ticket> {
    let mut all = Vec::new();
    let mut q = query();
    loop {
        let page = TicketRepository::list(store, scope, &q).await.unwrap();
        all.extend(page.items);
        match page.next {
            Some(next) => q.after = Some(next),
            None => return all,
        }
    }
}

pub async fn view_counts_stay_exact_through_random_writes<S: Store>(store: Arc<S>) {
    use opsflow_domain::TicketView;
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let agent = new_user(a.tenant.id, "Agent", "agent@alpha.test", Role::Agent, now_ms());
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();
    let agent_scope = TenantScope::new(a.tenant.id, agent.id, Role::Agent);
    // Another tenant's writes must not move this tenant's counts.
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let statuses = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Replied,
        TicketStatus::Closed,
    ];
    let priorities = [None, Some(Priority::Low), Some(Priority::High), Some(Priority::Urgent)];
    let assignees = [None, Some(a.admin.id), Some(agent.id)];
    // A small linear congruential generator: the sequence is random-looking and repeatable.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap() % n
    };
    let mut ids = Vec::new();
    for step in 0..120_i64 {
        let when = at(base, step);
        match next(5) {
            0 | 1 if ids.len() < 60 || step < 20 => {
                let count = 1 + next(4);
                let batch: Vec<Ticket> = (0..count)
                    .map(|_| {
                        let mut t = new_ticket(&a.scope, "Counted", "body", when);
                        t.status = statuses[next(statuses.len())];
                        t.priority = priorities[next(priorities.len())];
                        t.assignee_id = assignees[next(assignees.len())];
                        t
                    })
                    .collect();
                ids.extend(batch.iter().map(|t| t.id));
                if count == 1 {
                    TicketRepository::create(&*store, &a.scope, &batch[0]).await.unwrap();
                } else {
                    store.create_many(&a.scope, &batch).await.unwrap();
                }
                let tb = new_ticket(&b.scope, "Other tenant", "body", when);
                TicketRepository::create(&*store, &b.scope, &tb).await.unwrap();
            }
            2 if !ids.is_empty() => {
                // A bulk edit: one change applied to several tickets, one update each.
                let patch = TicketPatch {
                    status: Some(statuses[next(statuses.len())]),
                    assignee_id: Some(assignees[next(assignees.len())]),
                    ..TicketPatch::default()
                };
                for _ in 0..1 + next(6) {
                    let id = ids[next(ids.len())];
                    TicketRepository::update(&*store, &a.scope, id, &patch, when).await.unwrap();
                }
            }
            3 if !ids.is_empty() => {
                let id = ids[next(ids.len())];
                let reply = human_reply(&a.scope, id, "Status by reply", when);
                let status = Some(statuses[next(statuses.len())]);
                ReplyRepository::add(&*store, &a.scope, &reply, status, None, when).await.unwrap();
            }
            _ if !ids.is_empty() => {
                let id = ids[next(ids.len())];
                let patch = TicketPatch {
                    priority: Some(priorities[next(priorities.len())]),
                    status: (next(2) == 0).then(|| statuses[next(statuses.len())]),
                    ..TicketPatch::default()
                };
                TicketRepository::update(&*store, &a.scope, id, &patch, when).await.unwrap();
            }
            _ => {}
        }
        if step % 30 == 29 || step == 119 {
            let all = all_tickets(&*store, &a.scope).await;
            assert_eq!(all.len(), ids.len());
            for (scope, me) in [(&a.scope, a.admin.id), (&agent_scope, agent.id)] {
                for view in TicketView::ALL {
                    let q = TicketQuery::for_view(*view, me);
                    let want = all
                        .iter()
                        .filter(|t| q.statuses.contains(&t.status))
                        .filter(|t| {
                            q.priorities.is_empty()
                                || t.priority.is_some_and(|p| q.priorities.contains(&p))
                        })
                        .filter(|t| match q.assignee {
                            Some(AssigneeFilter::User(u)) => t.assignee_id == Some(u),
                            Some(AssigneeFilter::Unassigned) => t.assignee_id.is_none(),
                            None => true,
                        })
                        .count() as u64;
                    let got = TicketRepository::count(&*store, scope, &q).await.unwrap();
                    assert_eq!(got, want, "{view:?} for {me:?} after step {step}");
                    // The list's `total` (from the counters on SQLite) agrees with it.
                    let page = TicketRepository::list(&*store, scope, &q).await.unwrap();
                    assert_eq!(
                        (page.total, page.total_exact),
                        (want, true),
                        "{view:?} list total for {me:?} after step {step}"
                    );
                }
            }
            let open: HashMap<UserId, u64> = all
                .iter()
                .filter(|t| TicketStatus::WAITING.contains(&t.status))
                .filter_map(|t| t.assignee_id)
                .fold(HashMap::new(), |mut m, u| {
                    *m.entry(u).or_default() += 1;
                    m
                });
            assert_eq!(store.open_counts_by_assignee(&a.scope).await.unwrap(), open);
        }
    }
}

pub async fn ticket_list_paginates_newest_first_with_total<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut made = Vec::new();
    for i in 0..7 {
        let mut t = new_ticket(&a.scope, &format!("Ticket {i}"), "body", at(base, i));
        t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
        made.push(t);
    }
    // Two tickets with the same created_at: the larger id comes first.
    let same = at(base, 3);
    let mut twin = new_ticket(&a.scope, "Twin", "body", same);
    twin.id = TicketId::new();
    twin.number = TicketRepository::create(&*store, &a.scope, &twin).await.unwrap();

    let mut want: Vec<Ticket> = made.clone();
    want.push(twin);
    want.sort_by(|x, y| y.created_at.cmp(&x.created_at).then(y.id.cmp(&x.id)));
    let want_ids = ids(&want);

    let mut seen = Vec::new();
    for page in 1..=3 {
        let p = TicketRepository::list(
            &*store,
            &a.scope,
            &TicketQuery { page, page_size: 3, ..TicketQuery::default() },
        )
        .await
        .unwrap();
        assert_eq!(p.total, 8);
        assert_eq!(p.items.len(), if page == 3 { 2 } else { 3 });
        seen.extend(ids(&p.items));
    }
    assert_eq!(seen, want_ids);
    let past = TicketRepository::list(
        &*store,
        &a.scope,
        &TicketQuery { page: 4, page_size: 3, ..TicketQuery::default() },
    )
    .await
    .unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.total, 8);
    let full = TicketRepository::list(&*store, &a.scope, &query()).await.unwrap();
    assert_eq!(full.items, want, "list returns complete tickets");
}

pub async fn keyset_pages_walk_every_sort_without_gaps_or_repeats<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let priorities = [None, Some(Priority::Low), Some(Priority::Urgent), Some(Priority::High)];
    let mut made = Vec::new();
    for i in 0..17_i64 {
        // Groups of three share a creation time, so the id must break ties.
        let mut t = new_ticket(&a.scope, &format!("Walk {i}"), "keyset body", at(base, i / 3));
        t.priority = priorities[usize::try_from(i).unwrap() % priorities.len()];
        t.status = if i % 5 == 0 { TicketStatus::Closed } else { TicketStatus::Open };
        TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
        made.push(t.id);
    }
    for i in 0..4 {
        let t = new_ticket(&b.scope, &format!("Foreign {i}"), "keyset body", at(base, i));
        TicketRepository::create(&*store, &b.scope, &t).await.unwrap();
    }
    // Some activity, with ties on updated_at too.
    let touch = TicketPatch { category: Some(Some(Category::Bug)), ..TicketPatch::default() };
    for (n, i) in [4_usize, 9, 1, 12].into_iter().enumerate() {
        let when = at(base, 40 + i64::try_from(n / 2).unwrap());
        TicketRepository::update(&*store, &a.scope, made[i], &touch, when).await.unwrap();
    }

    let filters = [
        TicketQuery::default(),
        TicketQuery { statuses: vec![TicketStatus::Open], ..TicketQuery::default() },
        TicketQuery { search: words("keyset walk"), ..TicketQuery::default() },
    ];
    for filter in filters {
        for &sort in TicketSort::ALL.iter().filter(|s| s.has_cursor()) {
            let q = TicketQuery { sort, ..filter.clone() };
            let whole = TicketRepository::list(
                &*store,
                &a.scope,
                &TicketQuery { page_size: 100, ..q.clone() },
            )
            .await
            .unwrap();
            assert!(whole.next.is_none(), "one page holds everything");
            assert!(whole.total_exact);
            let mut walked = Vec::new();
            let mut after = None;
            for _ in 0..20 {
                let page = TicketRepository::list(
                    &*store,
                    &a.scope,
                    &TicketQuery { page_size: 4, after, ..q.clone() },
                )
                .await
                .unwrap();
                assert_eq!(page.total, whole.total, "the count ignores the cursor");
                assert!(page.items.len() <= 4);
                walked.extend(ids(&page.items));
                match page.next {
                    Some(next) => {
                        assert_eq!(next.sort, sort);
                        assert_eq!(page.items.len(), 4, "only a full page has a next one");
                        after = Some(next);
                    }
                    None => break,
                }
            }
            assert_eq!(walked, ids(&whole.items), "{sort:?} with {filter:?}");
        }
    }

    // A ticket created while someone pages (newest first) does not shift the later pages.
    let q = TicketQuery { page_size: 5, ..TicketQuery::default() };
    let first = TicketRepository::list(&*store, &a.scope, &q).await.unwrap();
    let late = new_ticket(&a.scope, "Late arrival", "body", at(base, 99));
    TicketRepository::create(&*store, &a.scope, &late).await.unwrap();
    let second =
        TicketRepository::list(&*store, &a.scope, &TicketQuery { after: first.next, ..q.clone() })
            .await
            .unwrap();
    let all = TicketRepository::list(&*store, &a.scope, &TicketQuery { page_size: 100, ..q })
        .await
        .unwrap();
    let all_ids = ids(&all.items);
    assert_eq!(all_ids[0], late.id);
    assert_eq!(ids(&second.items), all_ids[6..11].to_vec(), "continues after page one");

    // A cursor from another workspace's ticket leaks nothing of it: the list stays in scope.
    let foreign = TicketRepository::list(&*store, &b.scope, &TicketQuery::default()).await.unwrap();
    let from_foreign = TicketRepository::list(
        &*store,
        &b.scope,
        &TicketQuery { after: first.next, ..TicketQuery::default() },
    )
    .await
    .unwrap();
    assert!(from_foreign.items.iter().all(|t| t.tenant_id == b.scope.tenant_id()));
    assert_eq!(foreign.total, 4);
}

pub async fn list_counts_are_exact_up_to_the_cap<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let cap = TicketListPage::COUNT_CAP;
    let tickets: Vec<Ticket> = (0..cap + 5)
        .map(|i| {
            new_ticket(
                &a.scope,
                &format!("Bulk {i}"),
                "capped body",
                at(base, i64::try_from(i).unwrap()),
            )
        })
        .collect();
    TicketRepository::create_many(&*store, &a.scope, &tickets).await.unwrap();

    let plain = TicketRepository::list(&*store, &a.scope, &TicketQuery::default()).await.unwrap();
    assert_eq!((plain.total, plain.total_exact), (cap, false));
    assert!(plain.next.is_some());
    let searched = TicketQuery { search: words("capped"), ..TicketQuery::default() };
    let found = TicketRepository::list(&*store, &a.scope, &searched).await.unwrap();
    assert_eq!((found.total, found.total_exact), (cap, false));
    // The views' count stays exact.
    assert_eq!(TicketRepository::count(&*store, &a.scope, &searched).await.unwrap(), cap + 5);
    // Below the cap the count is exact.
    let few = TicketQuery { search: words("bulk 100"), ..TicketQuery::default() };
    let few = TicketRepository::list(&*store, &a.scope, &few).await.unwrap();
    assert_eq!((few.total, few.total_exact), (6, true), "Bulk 100 and Bulk 1000 to 1004");
}

pub async fn create_many_stores_every_ticket<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut tickets: Vec<Ticket> = (0..250)
        .map(|i| {
            let mut t =
                new_ticket(&a.scope, &format!("Bulk {i} zebra{i}x"), "imported body", at(base, i));
            if i % 2 == 0 {
                t.status = TicketStatus::Open;
            }
            t
        })
        .collect();
    let first = TicketRepository::create_many(&*store, &a.scope, &tickets).await.unwrap();
    assert_eq!(first, Some(1));
    for (t, n) in tickets.iter_mut().zip(1..) {
        t.number = n;
    }
    TicketRepository::create_many(&*store, &a.scope, &[]).await.unwrap();

    let all = TicketRepository::list(&*store, &a.scope, &query()).await.unwrap();
    assert_eq!(all.total, 250);
    assert_eq!(all.items[0], tickets[249]);
    let open = TicketRepository::list(
        &*store,
        &a.scope,
        &TicketQuery { statuses: vec![TicketStatus::Open], ..query() },
    )
    .await
    .unwrap();
    assert_eq!(open.total, 125);
    assert_eq!(
        TicketRepository::get(&*store, &a.scope, tickets[17].id).await.unwrap(),
        tickets[17]
    );
    // Imported tickets are searchable.
    let found = TicketRepository::list(
        &*store,
        &a.scope,
        &TicketQuery { search: words("zebra17x"), ..query() },
    )
    .await
    .unwrap();
    assert_eq!(ids(&found.items), vec![tickets[17].id]);
}

pub async fn ticket_numbers_are_consecutive_per_tenant_under_concurrency<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    // 50 creates in A and 20 in B, all in flight at once.
    let mut tasks = Vec::new();
    for i in 0..70_i64 {
        let store = store.clone();
        let scope = if i % 7 < 5 { a.scope } else { b.scope };
        tasks.push(tokio::spawn(async move {
            let t = new_ticket(&scope, &format!("Parallel {i}"), "body", at(base, i));
            let n = TicketRepository::create(&*store, &scope, &t).await.unwrap();
            (scope.tenant_id(), t.id, n)
        }));
    }
    let mut numbers: HashMap<TenantId, Vec<(u64, TicketId)>> = HashMap::new();
    for t in tasks {
        let (tenant, id, n) = t.await.unwrap();
        numbers.entry(tenant).or_default().push((n, id));
    }
    for (f, want) in [(&a, 50_u64), (&b, 20)] {
        let mut got = numbers.remove(&f.tenant.id).unwrap();
        got.sort_unstable();
        let ns: Vec<u64> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(ns, (1..=want).collect::<Vec<_>>(), "distinct and consecutive from 1");
        for (n, id) in got {
            let stored = TicketRepository::get(&*store, &f.scope, id).await.unwrap();
            assert_eq!(stored.number, n, "the stored number is the one returned");
            assert_eq!(TicketRepository::get_by_number(&*store, &f.scope, n).await.unwrap().id, id);
        }
    }
    // Another workspace's number is not found, and neither is a number not handed out yet.
    assert_not_found(TicketRepository::get_by_number(&*store, &b.scope, 21).await);
    assert_not_found(TicketRepository::get_by_number(&*store, &b.scope, 45).await);
    assert_not_found(TicketRepository::get_by_number(&*store, &a.scope, 0).await);
    assert_not_found(TicketRepository::get_by_number(&*store, &a.scope, u64::MAX).await);

    // Bulk creation continues the same counter, in slice order.
    let bulk: Vec<Ticket> = (0..3)
        .map(|i| new_ticket(&b.scope, &format!("Bulk {i}"), "body", at(base, 100 + i)))
        .collect();
    let first = TicketRepository::create_many(&*store, &b.scope, &bulk).await.unwrap();
    assert_eq!(first, Some(21));
    assert_eq!(TicketRepository::create_many(&*store, &b.scope, &[]).await.unwrap(), None);
    for (t, n) in bulk.iter().zip(21..) {
        assert_eq!(TicketRepository::get(&*store, &b.scope, t.id).await.unwrap().number, n);
    }
    let single = new_ticket(&b.scope, "After bulk", "body", at(base, 200));
    assert_eq!(TicketRepository::create(&*store, &b.scope, &single).await.unwrap(), 24);

    // The list finds a ticket by number, only in its own workspace.
    let by_number = TicketQuery { number: Some(24), ..query() };
    let found = TicketRepository::list(&*store, &b.scope, &by_number).await.unwrap();
    assert_eq!(ids(&found.items), vec![single.id]);
    assert_eq!(found.total, 1);
    let in_a =
        TicketRepository::list(&*store, &a.scope, &TicketQuery { number: Some(24), ..query() })
            .await
            .unwrap();
    assert_eq!(in_a.total, 1);
    assert_ne!(in_a.items[0].id, single.id);
    let none = TicketQuery { number: Some(999), ..query() };
    assert_eq!(TicketRepository::list(&*store, &b.scope, &none).await.unwrap().total, 0);
}

pub async fn open_counts_by_assignee_counts_open_work<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let agent = new_user(a.tenant.id, "Agent", "agent@alpha.test", Role::Agent, base);
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();
    let statuses = [
        (Some(agent.id), TicketStatus::New),
        (Some(agent.id), TicketStatus::Open),
        (Some(agent.id), TicketStatus::Pending),
        (Some(agent.id), TicketStatus::Replied),
        (Some(agent.id), TicketStatus::Closed),
        (Some(a.admin.id), TicketStatus::Open),
        (None, TicketStatus::Open),
    ];
    for (i, (assignee, status)) in statuses.into_iter().enumerate() {
        let mut t = new_ticket(&a.scope, "Work", "body", at(base, i64::try_from(i).unwrap()));
        t.assignee_id = assignee;
        t.status = status;
        t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    }
    let mut tb = new_ticket(&b.scope, "Other tenant", "body", base);
    tb.assignee_id = Some(b.admin.id);
    tb.number = TicketRepository::create(&*store, &b.scope, &tb).await.unwrap();

    let counts = store.open_counts_by_assignee(&a.scope).await.unwrap();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert_eq!(counts.get(&agent.id), Some(&3));
    assert_eq!(counts.get(&a.admin.id), Some(&1));
    let counts_b = store.open_counts_by_assignee(&b.scope).await.unwrap();
    assert_eq!(counts_b.get(&b.admin.id), Some(&1));
    assert_eq!(counts_b.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------------------

pub async fn tenant_isolation_for_every_method<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();

    // B's data: a user, an assigned ticket, a reply, a draft, an active run with a step.
    let b_agent = new_user(b.tenant.id, "B Agent", "agent@beta.test", Role::Agent, base);
    UserRepository::create(&*store, &b.scope, &b_agent).await.unwrap();
    let mut bt = new_ticket(&b.scope, "Beta secret", "classified words", at(base, 1));
    bt.assignee_id = Some(b_agent.id);
    bt.number = TicketRepository::create(&*store, &b.scope, &bt).await.unwrap();
    let b_reply = human_reply(&b.scope, bt.id, "B's answer", at(base, 2));
    ReplyRepository::add(&*store, &b.scope, &b_reply, None, None, at(base, 2)).await.unwrap();
    // B's reply is B's ticket's last activity.
    bt.updated_at = at(base, 2);
    let b_draft = ai_draft(&b.scope, bt.id, "B's draft", at(base, 3));
    ReplyRepository::add(&*store, &b.scope, &b_draft, None, None, at(base, 3)).await.unwrap();
    let b_run = new_run(&b.scope, bt.id, at(base, 4));
    store.create_run(&b.scope, &b_run).await.unwrap();
    let b_step = new_step(&b.scope, b_run.id, StepType::Classification, at(base, 5));
    store.append_step(&b.scope, &b_step).await.unwrap();

    // A has one ticket of its own.
    let mut at_ = new_ticket(&a.scope, "Alpha own", "alpha words", at(base, 6));
    at_.number = TicketRepository::create(&*store, &a.scope, &at_).await.unwrap();
    let sa = a.scope;
    let later = at(base, 100);

    // Users.
    assert_not_found(UserRepository::get(&*store, &sa, b_agent.id).await);
    let mut u = b_agent.clone();
    u.name = PersonName::new("Hijacked").unwrap();
    u.active = false;
    assert_not_found(UserRepository::update(&*store, &sa, &u).await);
    assert!(
        !UserRepository::list(&*store, &sa)
            .await
            .unwrap()
            .iter()
            .any(|x| x.tenant_id == b.tenant.id)
    );

    // Tickets.
    assert_not_found(TicketRepository::get(&*store, &sa, bt.id).await);
    let patch = TicketPatch {
        status: Some(TicketStatus::Closed),
        assignee_id: Some(None),
        ..TicketPatch::default()
    };
    assert_not_found(TicketRepository::update(&*store, &sa, bt.id, &patch, later).await);
    let listed = TicketRepository::list(&*store, &sa, &query()).await.unwrap();
    assert_eq!(ids(&listed.items), vec![at_.id]);
    assert_eq!(listed.total, 1);
    let by_b_agent = TicketRepository::list(
        &*store,
        &sa,
        &TicketQuery { assignee: Some(AssigneeFilter::User(b_agent.id)), ..query() },
    )
    .await
    .unwrap();
    assert!(by_b_agent.items.is_empty());
    assert_eq!(by_b_agent.total, 0);
    let searched = TicketRepository::list(
        &*store,
        &sa,
        &TicketQuery { search: words("classified"), ..query() },
    )
    .await
    .unwrap();
    assert!(searched.items.is_empty());
    assert!(store.open_counts_by_assignee(&sa).await.unwrap().is_empty());

    // Replies.
    let mut r = human_reply(&sa, bt.id, "A writes on B's ticket", later);
    r.tenant_id = a.tenant.id;
    assert_not_found(
        ReplyRepository::add(&*store, &sa, &r, Some(TicketStatus::Replied), None, later).await,
    );
    let own = human_reply(&sa, at_.id, "A consumes B's draft", later);
    assert_not_found(ReplyRepository::add(&*store, &sa, &own, None, Some(b_draft.id), later).await);
    assert!(ReplyRepository::list(&*store, &sa, at_.id).await.unwrap().is_empty());
    assert!(ReplyRepository::list(&*store, &sa, bt.id).await.unwrap().is_empty());
    let body = ReplyBody::new("overwritten").unwrap();
    assert_not_found(store.update_draft(&sa, b_draft.id, &body, later).await);

    // Runs and steps.
    let a_run_on_b = new_run(&sa, bt.id, later);
    assert_not_found(store.create_run(&sa, &a_run_on_b).await);
    assert_not_found(store.get_run(&sa, b_run.id).await);
    assert!(store.list_runs(&sa, bt.id).await.unwrap().is_empty());
    assert!(store.active_run(&sa, bt.id).await.unwrap().is_none());
    let step = new_step(&sa, b_run.id, StepType::Priority, later);
    assert_not_found(store.append_step(&sa, &step).await);
    assert!(store.list_steps(&sa, b_run.id).await.unwrap().is_empty());
    assert_not_found(store.fail_run(&sa, b_run.id, "nope", later).await);
    let outcome = TriageOutcome {
        patch: TicketPatch { category: Some(Some(Category::Bug)), ..TicketPatch::default() },
        draft: ai_draft(&sa, bt.id, "A's draft on B", later),
        persist_step: new_step(&sa, b_run.id, StepType::Persist, later),
    };
    assert_not_found(store.complete_run(&sa, b_run.id, &outcome, later).await);

    // B's data is unchanged.
    assert_eq!(UserRepository::get(&*store, &b.scope, b_agent.id).await.unwrap(), b_agent);
    assert_eq!(TicketRepository::get(&*store, &b.scope, bt.id).await.unwrap(), bt);
    assert_eq!(
        ReplyRepository::list(&*store, &b.scope, bt.id).await.unwrap(),
        vec![b_reply.clone(), b_draft.clone()]
    );
    assert_eq!(store.get_run(&b.scope, b_run.id).await.unwrap(), b_run);
    assert_eq!(store.active_run(&b.scope, bt.id).await.unwrap(), Some(b_run.clone()));
    assert_eq!(store.list_steps(&b.scope, b_run.id).await.unwrap(), vec![b_step]);
    assert_eq!(store.list_runs(&b.scope, bt.id).await.unwrap(), vec![b_run]);
    assert_eq!(TenantRepository::get(&*store, &b.scope).await.unwrap(), b.tenant);
    assert_eq!(store.open_counts_by_assignee(&b.scope).await.unwrap().get(&b_agent.id), Some(&1));
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

pub async fn reply_with_status_change_is_atomic<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "Need help", "please", base);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();

    let r1 = human_reply(&a.scope, t.id, "Looking into it", at(base, 10));
    ReplyRepository::add(&*store, &a.scope, &r1, None, None, at(base, 10)).await.unwrap();
    // No status given: the status stays, only the last activity moves to the reply.
    assert_eq!(
        TicketRepository::get(&*store, &a.scope, t.id).await.unwrap(),
        Ticket { updated_at: at(base, 10), ..t.clone() },
        "no status given: only the last activity changes"
    );

    let mut customer = human_reply(&a.scope, t.id, "Thanks!", at(base, 15));
    customer.author_type = AuthorType::Customer;
    customer.author_id = None;
    ReplyRepository::add(&*store, &a.scope, &customer, None, None, at(base, 15)).await.unwrap();

    let r2 = human_reply(&a.scope, t.id, "Fixed, please retry", at(base, 20));
    ReplyRepository::add(&*store, &a.scope, &r2, Some(TicketStatus::Replied), None, at(base, 21))
        .await
        .unwrap();
    let got = TicketRepository::get(&*store, &a.scope, t.id).await.unwrap();
    assert_eq!(got.status, TicketStatus::Replied);
    assert_eq!(got.updated_at, at(base, 21));
    assert_eq!(
        ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap(),
        vec![r1, customer, r2]
    );

    // Unknown ticket: NotFound and nothing written.
    let ghost = TicketId::new();
    let r3 = human_reply(&a.scope, ghost, "into the void", at(base, 30));
    assert_not_found(
        ReplyRepository::add(
            &*store,
            &a.scope,
            &r3,
            Some(TicketStatus::Closed),
            None,
            at(base, 30),
        )
        .await,
    );
    assert!(ReplyRepository::list(&*store, &a.scope, ghost).await.unwrap().is_empty());
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap().len(), 3);
}

pub async fn drafts_update_consume_and_not_draft<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "Refund please", "order 42", base);
    let mut other = new_ticket(&a.scope, "Other ticket", "unrelated", at(base, 1));
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    other.number = TicketRepository::create(&*store, &a.scope, &other).await.unwrap();

    let draft = ai_draft(&a.scope, t.id, "Dear customer, ...", at(base, 5));
    ReplyRepository::add(&*store, &a.scope, &draft, None, None, at(base, 5)).await.unwrap();
    let listed = ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap();
    assert_eq!(listed, vec![draft.clone()]);
    assert!(listed[0].is_draft());

    let new_body = ReplyBody::new("Dear Ann, your refund is on its way.").unwrap();
    let updated = store.update_draft(&a.scope, draft.id, &new_body, at(base, 6)).await.unwrap();
    let mut want = draft.clone();
    want.body = new_body.clone();
    want.updated_at = at(base, 6);
    assert_eq!(updated, want);
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap(), vec![want.clone()]);
    assert_not_found(store.update_draft(&a.scope, ReplyId::new(), &new_body, at(base, 6)).await);

    // Consuming a draft through another ticket is NotFound and writes nothing.
    let wrong = human_reply(&a.scope, other.id, "Sent on the wrong ticket", at(base, 7));
    assert_not_found(
        ReplyRepository::add(
            &*store,
            &a.scope,
            &wrong,
            Some(TicketStatus::Replied),
            Some(draft.id),
            at(base, 7),
        )
        .await,
    );
    assert!(ReplyRepository::list(&*store, &a.scope, other.id).await.unwrap().is_empty());
    assert_eq!(TicketRepository::get(&*store, &a.scope, other.id).await.unwrap(), other);
    // A missing draft id is NotFound too.
    let lost = human_reply(&a.scope, t.id, "Lost draft", at(base, 7));
    assert_not_found(
        ReplyRepository::add(&*store, &a.scope, &lost, None, Some(ReplyId::new()), at(base, 7))
            .await,
    );

    // Sending the edited draft replaces it, in one step with the status change.
    let sent = human_reply(&a.scope, t.id, new_body.as_str(), at(base, 8));
    ReplyRepository::add(
        &*store,
        &a.scope,
        &sent,
        Some(TicketStatus::Replied),
        Some(draft.id),
        at(base, 8),
    )
    .await
    .unwrap();
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap(), vec![sent.clone()]);
    assert_eq!(
        TicketRepository::get(&*store, &a.scope, t.id).await.unwrap().status,
        TicketStatus::Replied
    );
    assert_not_found(store.update_draft(&a.scope, draft.id, &new_body, at(base, 9)).await);

    // A sent reply is not a draft.
    let body = ReplyBody::new("rewrite history").unwrap();
    assert_conflict(store.update_draft(&a.scope, sent.id, &body, at(base, 9)).await, "not_draft");
    let again = human_reply(&a.scope, t.id, "consume a sent one", at(base, 10));
    assert_conflict(
        ReplyRepository::add(
            &*store,
            &a.scope,
            &again,
            Some(TicketStatus::Closed),
            Some(sent.id),
            at(base, 10),
        )
        .await,
        "not_draft",
    );
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap(), vec![sent]);
    assert_eq!(
        TicketRepository::get(&*store, &a.scope, t.id).await.unwrap().status,
        TicketStatus::Replied
    );
}

// ---------------------------------------------------------------------------------------------
// Workflow runs and the queue
// ---------------------------------------------------------------------------------------------

pub async fn runs_active_conflict_steps_and_fail<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "Triage me", "please", base);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    assert!(store.active_run(&a.scope, t.id).await.unwrap().is_none());

    let run = new_run(&a.scope, t.id, at(base, 1));
    store.create_run(&a.scope, &run).await.unwrap();
    assert_eq!(store.get_run(&a.scope, run.id).await.unwrap(), run);
    assert_eq!(store.active_run(&a.scope, t.id).await.unwrap(), Some(run.clone()));
    assert_not_found(store.get_run(&a.scope, WorkflowRunId::new()).await);
    assert_not_found(store.create_run(&a.scope, &new_run(&a.scope, TicketId::new(), base)).await);

    let mut second = new_run(&a.scope, t.id, at(base, 2));
    second.status = RunStatus::Running;
    assert_conflict(store.create_run(&a.scope, &second).await, "active_run");
    assert_not_found(store.get_run(&a.scope, second.id).await);

    // Steps come back in recorded order with every field.
    let s1 = new_step(&a.scope, run.id, StepType::Classification, at(base, 3));
    let mut s2 = new_step(&a.scope, run.id, StepType::Priority, at(base, 4));
    s2.succeeded = false;
    s2.output_snapshot = serde_json::Value::Null;
    s2.provider = None;
    s2.model = None;
    s2.prompt_version = None;
    s2.guardrail_flags = Vec::new();
    s2.error_message = Some("provider timed out".to_owned());
    let s3 = new_step(&a.scope, run.id, StepType::AssigneeSuggestion, at(base, 4));
    store.append_step(&a.scope, &s2).await.unwrap();
    store.append_step(&a.scope, &s1).await.unwrap();
    store.append_step(&a.scope, &s3).await.unwrap();
    let mut same_time = [s2.clone(), s3.clone()];
    same_time.sort_by_key(|s| s.id);
    let mut want = vec![s1.clone()];
    want.extend(same_time);
    assert_eq!(store.list_steps(&a.scope, run.id).await.unwrap(), want);
    assert_not_found(
        store
            .append_step(
                &a.scope,
                &new_step(&a.scope, WorkflowRunId::new(), StepType::Priority, base),
            )
            .await,
    );

    store.fail_run(&a.scope, run.id, "LLM provider unavailable", at(base, 9)).await.unwrap();
    let failed = store.get_run(&a.scope, run.id).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(failed.error_message.as_deref(), Some("LLM provider unavailable"));
    assert_eq!(failed.finished_at, Some(at(base, 9)));
    assert!(failed.lease_expires_at.is_none());
    assert!(store.active_run(&a.scope, t.id).await.unwrap().is_none());
    // A finished run cannot fail again.
    assert_not_found(store.fail_run(&a.scope, run.id, "again", at(base, 10)).await);
    assert_eq!(store.get_run(&a.scope, run.id).await.unwrap(), failed);

    // After the failure a new run may start; list_runs is newest first.
    let retry = new_run(&a.scope, t.id, at(base, 20));
    store.create_run(&a.scope, &retry).await.unwrap();
    assert_eq!(store.list_runs(&a.scope, t.id).await.unwrap(), vec![retry.clone(), failed]);
    assert_eq!(store.active_run(&a.scope, t.id).await.unwrap(), Some(retry));
}

pub async fn complete_run_is_atomic<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let agent = new_user(a.tenant.id, "Agent", "agent@alpha.test", Role::Agent, base);
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();
    let mut t = new_ticket(&a.scope, "Checkout broken", "500 on pay", base);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    let mut run = new_run(&a.scope, t.id, at(base, 1));
    run.status = RunStatus::Running;
    run.attempts = 1;
    run.lease_expires_at = Some(at(base, 300));
    store.create_run(&a.scope, &run).await.unwrap();

    let done_at = at(base, 10);
    let outcome = TriageOutcome {
        patch: TicketPatch {
            status: None,
            priority: Some(Some(Priority::Urgent)),
            category: Some(Some(Category::Bug)),
            assignee_id: Some(Some(agent.id)),
            ..TicketPatch::default()
        },
        draft: ai_draft(&a.scope, t.id, "We are on it.", done_at),
        persist_step: new_step(&a.scope, run.id, StepType::Persist, done_at),
    };
    let updated = store.complete_run(&a.scope, run.id, &outcome, done_at).await.unwrap();
    let mut want = t.clone();
    outcome.patch.apply_to(&mut want, done_at);
    assert_eq!(updated, want);
    assert_eq!(TicketRepository::get(&*store, &a.scope, t.id).await.unwrap(), want);
    assert_eq!(
        ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap(),
        vec![outcome.draft.clone()]
    );
    assert_eq!(
        store.list_steps(&a.scope, run.id).await.unwrap(),
        vec![outcome.persist_step.clone()]
    );
    let finished = store.get_run(&a.scope, run.id).await.unwrap();
    assert_eq!(finished.status, RunStatus::Succeeded);
    assert_eq!(finished.finished_at, Some(done_at));
    assert!(finished.lease_expires_at.is_none());
    assert!(finished.error_message.is_none());
    assert!(store.active_run(&a.scope, t.id).await.unwrap().is_none());

    // Completing again (the run is no longer active): NotFound and nothing written.
    let again = TriageOutcome {
        patch: TicketPatch { priority: Some(Some(Priority::Low)), ..TicketPatch::default() },
        draft: ai_draft(&a.scope, t.id, "Second draft", at(base, 20)),
        persist_step: new_step(&a.scope, run.id, StepType::Persist, at(base, 20)),
    };
    assert_not_found(store.complete_run(&a.scope, run.id, &again, at(base, 20)).await);
    assert_eq!(TicketRepository::get(&*store, &a.scope, t.id).await.unwrap(), want);
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap().len(), 1);
    assert_eq!(store.list_steps(&a.scope, run.id).await.unwrap().len(), 1);

    // A failed run cannot be completed either.
    let run2 = new_run(&a.scope, t.id, at(base, 30));
    store.create_run(&a.scope, &run2).await.unwrap();
    store.fail_run(&a.scope, run2.id, "boom", at(base, 31)).await.unwrap();
    let late = TriageOutcome {
        patch: TicketPatch { category: Some(Some(Category::Other)), ..TicketPatch::default() },
        draft: ai_draft(&a.scope, t.id, "Late draft", at(base, 32)),
        persist_step: new_step(&a.scope, run2.id, StepType::Persist, at(base, 32)),
    };
    assert_not_found(store.complete_run(&a.scope, run2.id, &late, at(base, 32)).await);
    assert_eq!(TicketRepository::get(&*store, &a.scope, t.id).await.unwrap(), want);
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap().len(), 1);
    assert!(store.list_steps(&a.scope, run2.id).await.unwrap().is_empty());
    assert_eq!(store.get_run(&a.scope, run2.id).await.unwrap().status, RunStatus::Failed);
    assert_not_found(store.complete_run(&a.scope, WorkflowRunId::new(), &late, at(base, 32)).await);
}

pub async fn one_ai_draft_per_ticket_and_a_sent_reply_retires_it<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "Checkout broken", "500 on pay", base);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    let mut other = new_ticket(&a.scope, "Invoice", "Wrong VAT", base);
    other.number = TicketRepository::create(&*store, &a.scope, &other).await.unwrap();
    let mut theirs = new_ticket(&b.scope, "Theirs", "Beta's ticket", base);
    theirs.number = TicketRepository::create(&*store, &b.scope, &theirs).await.unwrap();
    let complete = |scope: TenantScope, ticket: TicketId, text: &'static str, n: i64| {
        let store = Arc::clone(&store);
        async move {
            let mut run = new_run(&scope, ticket, at(base, n));
            run.status = RunStatus::Running;
            run.attempts = 1;
            run.lease_expires_at = Some(at(base, n + 300));
            store.create_run(&scope, &run).await.unwrap();
            let outcome = TriageOutcome {
                patch: TicketPatch::default(),
                draft: ai_draft(&scope, ticket, text, at(base, n + 1)),
                persist_step: new_step(&scope, run.id, StepType::Persist, at(base, n + 1)),
            };
            store.complete_run(&scope, run.id, &outcome, at(base, n + 1)).await.unwrap();
            outcome.draft
        }
    };
    let drafts = |scope: TenantScope, ticket: TicketId| {
        let store = Arc::clone(&store);
        async move {
            ReplyRepository::list(&*store, &scope, ticket)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.author_type == AuthorType::Ai && r.is_draft())
                .map(|r| r.body.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    complete(a.scope, t.id, "First draft", 10).await;
    complete(a.scope, other.id, "Other ticket's draft", 20).await;
    complete(b.scope, theirs.id, "Beta's draft", 30).await;
    let second = complete(a.scope, t.id, "Second draft", 40).await;
    // The new run's draft replaced the unsent one, on that ticket only, in that tenant only.
    assert_eq!(drafts(a.scope, t.id).await, ["Second draft"]);
    assert_eq!(drafts(a.scope, other.id).await, ["Other ticket's draft"]);
    assert_eq!(drafts(b.scope, theirs.id).await, ["Beta's draft"]);

    // A person's sent reply (not replacing the draft explicitly) retires it all the same.
    let reply = human_reply(&a.scope, t.id, "Answered by hand.", at(base, 50));
    ReplyRepository::add(&*store, &a.scope, &reply, None, None, at(base, 50)).await.unwrap();
    assert!(drafts(a.scope, t.id).await.is_empty(), "no unsent AI draft after a sent reply");
    let thread = ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap();
    assert_eq!(thread, vec![reply], "the reply stays, the retired draft {} is gone", second.id);
    assert_eq!(drafts(a.scope, other.id).await, ["Other ticket's draft"]);
    assert_eq!(drafts(b.scope, theirs.id).await, ["Beta's draft"]);
}

pub async fn claim_next_claims_oldest_once_under_concurrency<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    assert!(store.claim_next(base, Duration::seconds(60)).await.unwrap().is_none());

    // Runs across two tenants, started in a shuffled order; one is already finished.
    let mut runs = Vec::new();
    let offsets = [5_i64, 1, 9, 3, 7, 2, 8, 4, 6, 10];
    for (i, off) in offsets.iter().enumerate() {
        let f = if i % 2 == 0 { &a } else { &b };
        let mut t = new_ticket(&f.scope, "Queue me", "body", base);
        t.number = TicketRepository::create(&*store, &f.scope, &t).await.unwrap();
        let run = new_run(&f.scope, t.id, at(base, -100 + off));
        store.create_run(&f.scope, &run).await.unwrap();
        runs.push((f.scope, run));
    }
    let (done_scope, done_run) = runs.pop().unwrap();
    store.fail_run(&done_scope, done_run.id, "cancelled", base).await.unwrap();

    let now = base;
    let lease = Duration::seconds(60);
    let first = store.claim_next(now, lease).await.unwrap().expect("a queued run");
    let oldest = runs.iter().min_by_key(|(_, r)| r.started_at).unwrap();
    assert_eq!(first.id, oldest.1.id);
    assert_eq!(first.status, RunStatus::Running);
    assert_eq!(first.attempts, 1);
    assert_eq!(first.lease_expires_at, Some(now + lease));
    assert_eq!(store.get_run(&oldest.0, first.id).await.unwrap(), first);

    // The rest, claimed by concurrent workers: each exactly once, then nothing.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(run) = store.claim_next(now, lease).await.unwrap() {
                got.push(run.id);
            }
            got
        }));
    }
    let mut claimed = vec![first.id];
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let unique: HashSet<WorkflowRunId> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a run was claimed twice: {claimed:?}");
    let want: HashSet<WorkflowRunId> = runs.iter().map(|(_, r)| r.id).collect();
    assert_eq!(unique, want);
    for (scope, run) in &runs {
        let r = store.get_run(scope, run.id).await.unwrap();
        assert_eq!(r.status, RunStatus::Running);
        assert_eq!(r.attempts, 1);
    }
    assert_eq!(store.get_run(&done_scope, done_run.id).await.unwrap().status, RunStatus::Failed);
}

pub async fn claim_next_leases<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t1 = new_ticket(&a.scope, "One", "body", base);
    let mut t2 = new_ticket(&a.scope, "Two", "body", base);
    t1.number = TicketRepository::create(&*store, &a.scope, &t1).await.unwrap();
    t2.number = TicketRepository::create(&*store, &a.scope, &t2).await.unwrap();
    let r1 = new_run(&a.scope, t1.id, at(base, -10));
    store.create_run(&a.scope, &r1).await.unwrap();
    let lease = Duration::seconds(60);

    let c1 = store.claim_next(base, lease).await.unwrap().unwrap();
    assert_eq!((c1.id, c1.attempts), (r1.id, 1));
    // Lease not expired: nothing to claim, even later.
    assert!(store.claim_next(at(base, 30), lease).await.unwrap().is_none());

    // A newer queued run is claimed while the older one is still leased.
    let r2 = new_run(&a.scope, t2.id, at(base, 20));
    store.create_run(&a.scope, &r2).await.unwrap();
    let c2 = store.claim_next(at(base, 40), lease).await.unwrap().unwrap();
    assert_eq!(c2.id, r2.id);

    // After the lease expires the first run is claimed again, with another attempt.
    let later = at(base, 61);
    let again = store.claim_next(later, lease).await.unwrap().unwrap();
    assert_eq!(again.id, r1.id);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.status, RunStatus::Running);
    assert_eq!(again.lease_expires_at, Some(later + lease));
    assert!(store.claim_next(later, lease).await.unwrap().is_none());

    // A finished run is never reclaimed, even with an old lease.
    store.fail_run(&a.scope, r1.id, "gave up", later).await.unwrap();
    let far = at(base, 10_000);
    let last = store.claim_next(far, lease).await.unwrap().unwrap();
    assert_eq!((last.id, last.attempts), (r2.id, 2));
    assert!(store.claim_next(far, lease).await.unwrap().is_none());
}

pub async fn health_reports_ok<S: Store>(store: Arc<S>) {
    let h = store.health().await;
    assert!(h.ok, "{h:?}");
    assert!(["sqlite", "mongodb"].contains(&h.backend));
    assert!(!h.detail.is_empty());
    // Some state survives a health check (it is read-only).
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    assert!(store.find_user(a.tenant.id, a.admin.id).await.is_ok());
}

// ---------------------------------------------------------------------------------------------
// Throttle buckets
// ---------------------------------------------------------------------------------------------

pub async fn throttle_counts_up_to_the_limit_per_key_and_window<S: Store>(store: Arc<S>) {
    use opsflow_ports::repos::Attempt;
    let t0 = now_ms();
    let window = Duration::seconds(60);
    for n in 1..=3 {
        let got = store.take("login:email:a@x.io", 3, window, at(t0, i64::from(n))).await.unwrap();
        assert_eq!(got, Attempt::Allowed { used: n });
    }
    // Full: refused until the window (counted from the first attempt) ends; refusals don't count.
    for s in [10, 30, 59] {
        let got = store.take("login:email:a@x.io", 3, window, at(t0, s)).await.unwrap();
        assert_eq!(got, Attempt::Refused { until: at(t0, 61) }, "at +{s}s");
    }
    // Another key is independent.
    assert_eq!(
        store.take("login:email:b@x.io", 3, window, at(t0, 30)).await.unwrap(),
        Attempt::Allowed { used: 1 }
    );
    // When the window has ended, a new one starts with this attempt.
    assert_eq!(
        store.take("login:email:a@x.io", 3, window, at(t0, 61)).await.unwrap(),
        Attempt::Allowed { used: 1 }
    );
    assert_eq!(
        store.take("login:email:a@x.io", 3, window, at(t0, 62)).await.unwrap(),
        Attempt::Allowed { used: 2 }
    );
    assert_eq!(
        store.take("login:email:a@x.io", 3, window, at(t0, 63)).await.unwrap(),
        Attempt::Allowed { used: 3 }
    );
    assert_eq!(
        store.take("login:email:a@x.io", 3, window, at(t0, 64)).await.unwrap(),
        Attempt::Refused { until: at(t0, 121) }
    );
}

pub async fn throttle_gives_back_and_resets<S: Store>(store: Arc<S>) {
    use opsflow_ports::repos::Attempt;
    let t0 = now_ms();
    let window = Duration::seconds(60);
    let key = "login:addr:192.0.2.7";
    store.take(key, 2, window, t0).await.unwrap();
    store.take(key, 2, window, t0).await.unwrap();
    assert!(matches!(store.take(key, 2, window, t0).await.unwrap(), Attempt::Refused { .. }));
    // One attempt given back makes room for exactly one more.
    store.give_back(key).await.unwrap();
    assert_eq!(store.take(key, 2, window, t0).await.unwrap(), Attempt::Allowed { used: 2 });
    assert!(matches!(store.take(key, 2, window, t0).await.unwrap(), Attempt::Refused { .. }));
    // A reset empties the bucket; giving back to an empty or missing bucket is harmless.
    store.reset(key).await.unwrap();
    store.give_back(key).await.unwrap();
    store.reset("never:used").await.unwrap();
    assert_eq!(store.take(key, 2, window, t0).await.unwrap(), Attempt::Allowed { used: 1 });
    store.give_back(key).await.unwrap();
    store.give_back(key).await.unwrap();
    assert_eq!(store.take(key, 2, window, t0).await.unwrap(), Attempt::Allowed { used: 1 });
}

pub async fn throttle_never_exceeds_the_limit_under_concurrency<S: Store>(store: Arc<S>) {
    use opsflow_ports::repos::Attempt;
    let t0 = now_ms();
    let window = Duration::seconds(600);
    // 40 concurrent attempts on a bucket that does not exist yet (racing to create it).
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.take("race:key", 10, window, t0).await.unwrap() },
        ));
    }
    let mut used = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Attempt::Allowed { used: n } => used.push(n),
            Attempt::Refused { until } => {
                assert_eq!(until, t0 + window);
                refused += 1;
            }
        }
    }
    used.sort_unstable();
    assert_eq!(used, (1..=10).collect::<Vec<u32>>(), "each slot is taken exactly once");
    assert_eq!(refused, 30);
}

// ---------------------------------------------------------------------------------------------
// Sessions and passwords
// ---------------------------------------------------------------------------------------------

fn new_session(f: &Fixture, user: UserId, now: OffsetDateTime, ttl_secs: i64) -> AuthSession {
    AuthSession {
        id: SessionId::new(),
        tenant_id: f.tenant.id,
        user_id: user,
        created_at: now,
        expires_at: at(now, ttl_secs),
    }
}

pub async fn sessions_live_until_deleted_or_expired<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let b = signup(&*store, "Beta Studio", "owner@beta.test").await;
    let now = now_ms();
    let s = new_session(&a, a.admin.id, now, 3600);
    store.create_session(&s).await.unwrap();
    let live = |t, u, id, when| {
        let store = store.clone();
        async move { store.session_is_live(t, u, id, when).await.unwrap() }
    };
    assert!(live(a.tenant.id, a.admin.id, s.id, now).await);
    // Another tenant or user presenting the same id does not see it.
    assert!(!live(b.tenant.id, a.admin.id, s.id, now).await);
    assert!(!live(a.tenant.id, b.admin.id, s.id, now).await);
    // Expired at its expiry instant.
    assert!(!live(a.tenant.id, a.admin.id, s.id, at(now, 3600)).await);
    // Deleting under another user's name does nothing; under its own ends it.
    store.delete_session(b.tenant.id, b.admin.id, s.id).await.unwrap();
    assert!(live(a.tenant.id, a.admin.id, s.id, now).await);
    store.delete_session(a.tenant.id, a.admin.id, s.id).await.unwrap();
    assert!(!live(a.tenant.id, a.admin.id, s.id, now).await);
    // Deleting a missing session is not an error.
    store.delete_session(a.tenant.id, a.admin.id, s.id).await.unwrap();

    // Pruning removes only expired sessions.
    let old = new_session(&a, a.admin.id, at(now, -7200), 3600);
    let fresh = new_session(&a, a.admin.id, now, 3600);
    store.create_session(&old).await.unwrap();
    store.create_session(&fresh).await.unwrap();
    assert_eq!(store.prune_expired_sessions(now).await.unwrap(), 1);
    assert!(live(a.tenant.id, a.admin.id, fresh.id, now).await);
    assert!(!live(a.tenant.id, a.admin.id, old.id, at(now, -7000)).await);
}

pub async fn sessions_end_per_user_except_one_kept<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let b = signup(&*store, "Beta Studio", "owner@beta.test").await;
    let now = now_ms();
    let agent = new_user(a.tenant.id, "Sam Agent", "sam@acme.test", Role::Agent, now);
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();
    let mine: Vec<_> = (0..3).map(|_| new_session(&a, a.admin.id, now, 3600)).collect();
    let agents = new_session(&a, agent.id, now, 3600);
    let other_tenant = new_session(&b, b.admin.id, now, 3600);
    for s in mine.iter().chain([&agents, &other_tenant]) {
        store.create_session(s).await.unwrap();
    }
    let ended = store.delete_user_sessions(a.tenant.id, a.admin.id, Some(mine[0].id)).await;
    assert_eq!(ended.unwrap(), 2);
    assert!(store.session_is_live(a.tenant.id, a.admin.id, mine[0].id, now).await.unwrap());
    assert!(!store.session_is_live(a.tenant.id, a.admin.id, mine[1].id, now).await.unwrap());
    assert!(store.session_is_live(a.tenant.id, agent.id, agents.id, now).await.unwrap());
    assert!(store.session_is_live(b.tenant.id, b.admin.id, other_tenant.id, now).await.unwrap());
    // The other tenant's admin cannot end this tenant's sessions even with the user id.
    assert_eq!(store.delete_user_sessions(b.tenant.id, a.admin.id, None).await.unwrap(), 0);
    assert_eq!(store.delete_user_sessions(a.tenant.id, a.admin.id, None).await.unwrap(), 1);
    assert!(!store.session_is_live(a.tenant.id, a.admin.id, mine[0].id, now).await.unwrap());
}

pub async fn set_password_replaces_hash_and_flag_in_scope_only<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let b = signup(&*store, "Beta Studio", "owner@beta.test").await;
    let later = at(now_ms(), 60);
    store.set_password(&a.scope, a.admin.id, "$new-hash", true, later).await.unwrap();
    let u = UserRepository::get(&*store, &a.scope, a.admin.id).await.unwrap();
    assert_eq!(u.password_hash, "$new-hash");
    assert!(u.must_change_password);
    assert_eq!(u.updated_at, later);
    store.set_password(&a.scope, a.admin.id, "$newer", false, later).await.unwrap();
    assert!(
        !UserRepository::get(&*store, &a.scope, a.admin.id).await.unwrap().must_change_password
    );
    // Another tenant's user is not found and unchanged.
    assert_not_found(store.set_password(&b.scope, a.admin.id, "$evil", false, later).await);
    let u = UserRepository::get(&*store, &a.scope, a.admin.id).await.unwrap();
    assert_eq!(u.password_hash, "$newer");
}

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

fn audit_event(f: &Fixture, kind: AuditKind, when: OffsetDateTime) -> AuditEvent {
    AuditEvent::new(f.tenant.id, kind, when).by(f.admin.id, &f.admin.email)
}

fn event_ids(events: &[AuditEvent]) -> Vec<AuditEventId> {
    events.iter().map(|e| e.id).collect()
}

pub async fn audit_log_is_newest_first_with_paging_and_total<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let base = now_ms();
    // Recorded out of time order; two share one instant (the id breaks the tie, newest first).
    let offsets = [5, 1, 9, 3, 7, 3, 0];
    let mut events: Vec<_> =
        offsets.iter().map(|s| audit_event(&a, AuditKind::LoginSucceeded, at(base, *s))).collect();
    for e in &events {
        AuditRepository::record(&*store, &a.scope, e).await.unwrap();
    }
    events.sort_by(|x, y| y.at.cmp(&x.at).then(y.id.cmp(&x.id)));

    let page = |page: u32, per_page: u32| AuditQuery { page, per_page, ..AuditQuery::default() };
    let all = AuditRepository::list(&*store, &a.scope, &page(1, 50)).await.unwrap();
    assert_eq!(all.total, 7);
    assert_eq!(all.items, events, "every field round-trips, newest first");
    let first = AuditRepository::list(&*store, &a.scope, &page(1, 3)).await.unwrap();
    assert_eq!((first.total, event_ids(&first.items)), (7, event_ids(&events[..3])));
    let last = AuditRepository::list(&*store, &a.scope, &page(3, 3)).await.unwrap();
    assert_eq!((last.total, event_ids(&last.items)), (7, event_ids(&events[6..])));
    let beyond = AuditRepository::list(&*store, &a.scope, &page(4, 3)).await.unwrap();
    assert_eq!((beyond.total, beyond.items.len()), (7, 0));
}

pub async fn audit_log_filters_by_kinds_actor_and_time<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let base = now_ms();
    let agent = new_user(a.tenant.id, "Sam Agent", "sam@acme.test", Role::Agent, base);
    UserRepository::create(&*store, &a.scope, &agent).await.unwrap();
    let kinds = [
        AuditKind::Signup,
        AuditKind::LoginFailed,
        AuditKind::LoginSucceeded,
        AuditKind::RoleChanged,
        AuditKind::Logout,
    ];
    let mut events = Vec::new();
    for i in 0..20_i64 {
        let when = at(base, i * 10);
        let kind = kinds[usize::try_from(i).unwrap() % kinds.len()];
        let e = match i % 3 {
            0 => audit_event(&a, kind, when),
            1 => AuditEvent::new(a.tenant.id, kind, when).by(agent.id, &agent.email),
            // No actor: a failed login against the agent, from an address.
            _ => AuditEvent::new(a.tenant.id, kind, when)
                .on(agent.id, &agent.email)
                .from_ip(Some("192.0.2.1"))
                .with(DetailKey::Reason, "wrong_password"),
        };
        AuditRepository::record(&*store, &a.scope, &e).await.unwrap();
        events.push(e);
    }
    events.reverse();

    let queries = [
        AuditQuery { kinds: vec![AuditKind::LoginFailed], ..AuditQuery::default() },
        AuditQuery {
            kinds: vec![AuditKind::Logout, AuditKind::RoleChanged],
            ..AuditQuery::default()
        },
        AuditQuery { actor: Some(agent.id), ..AuditQuery::default() },
        AuditQuery {
            actor: Some(a.admin.id),
            kinds: vec![AuditKind::Signup],
            ..AuditQuery::default()
        },
        // `from` inclusive, `to` exclusive: events at 50 s..=140 s.
        AuditQuery { from: Some(at(base, 50)), to: Some(at(base, 150)), ..AuditQuery::default() },
        // Sub-second bounds: 50 s + 1 ms excludes the event at 50 s.
        AuditQuery {
            from: Some(at(base, 50) + Duration::milliseconds(1)),
            ..AuditQuery::default()
        },
        AuditQuery { to: Some(at(base, 30)), actor: Some(agent.id), ..AuditQuery::default() },
        AuditQuery { actor: Some(UserId::new()), ..AuditQuery::default() },
    ];
    for q in &queries {
        let want: Vec<_> = events.iter().filter(|e| q.matches(e)).map(|e| e.id).collect();
        let got = AuditRepository::list(&*store, &a.scope, q).await.unwrap();
        assert_eq!(got.total, want.len() as u64, "{q:?}");
        assert_eq!(event_ids(&got.items), want, "{q:?}");
    }
    // The reference itself is not vacuous: the time window holds ten events.
    let q =
        AuditQuery { from: Some(at(base, 50)), to: Some(at(base, 150)), ..AuditQuery::default() };
    assert_eq!(AuditRepository::list(&*store, &a.scope, &q).await.unwrap().total, 10);
    // Filtered pages.
    let q = AuditQuery { actor: Some(agent.id), page: 2, per_page: 2, ..AuditQuery::default() };
    let want: Vec<_> =
        events.iter().filter(|e| e.actor == Some(agent.id)).skip(2).take(2).map(|e| e.id).collect();
    let got = AuditRepository::list(&*store, &a.scope, &q).await.unwrap();
    assert_eq!((got.total, event_ids(&got.items)), (7, want));
}

pub async fn audit_log_is_confined_to_its_tenant<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let b = signup(&*store, "Beta Studio", "owner@beta.test").await;
    let now = now_ms();
    for kind in [AuditKind::Signup, AuditKind::SettingsUpdated, AuditKind::LoginFailed] {
        AuditRepository::record(&*store, &a.scope, &audit_event(&a, kind, now)).await.unwrap();
    }
    let everything = AuditQuery::default();
    let seen_by_b = AuditRepository::list(&*store, &b.scope, &everything).await.unwrap();
    assert_eq!((seen_by_b.total, seen_by_b.items.len()), (0, 0));
    // Every filter stays inside the tenant, even naming the other tenant's admin.
    let by_a_admin = AuditQuery { actor: Some(a.admin.id), ..AuditQuery::default() };
    assert_eq!(AuditRepository::list(&*store, &b.scope, &by_a_admin).await.unwrap().total, 0);
    // A write goes to the scope's tenant whatever the event claims.
    let forged = audit_event(&a, AuditKind::RoleChanged, now);
    AuditRepository::record(&*store, &b.scope, &forged).await.unwrap();
    let a_log = AuditRepository::list(&*store, &a.scope, &everything).await.unwrap();
    assert_eq!(a_log.total, 3);
    assert!(a_log.items.iter().all(|e| e.tenant_id == a.tenant.id && e.id != forged.id));
    let b_log = AuditRepository::list(&*store, &b.scope, &everything).await.unwrap();
    assert_eq!(event_ids(&b_log.items), vec![forged.id]);
    assert_eq!(b_log.items[0].tenant_id, b.tenant.id);
}
