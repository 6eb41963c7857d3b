//! Contract cases of structured reply policies (stored per workspace) and of the run attempt
//! each workflow step records.

use std::sync::Arc;

use opsflow_domain::policy::{
    ClockTime, ForbiddenCommitments, Languages, SignOff, StatusPageUrl, SupportHours, TimeZoneName,
    Weekday,
};
use opsflow_domain::{ReplyPolicy, StepType};
use opsflow_ports::repos::{Store, TenantRepository, TicketRepository};
use time::Duration;

use super::{new_run, new_step, new_ticket, now_ms, signup};

fn full_policy() -> ReplyPolicy {
    ReplyPolicy {
        sign_off: Some(SignOff::new("Maria, Acme Support").unwrap()),
        support_hours: Some(
            SupportHours::new(
                vec![Weekday::Monday, Weekday::Friday],
                ClockTime::parse("09:00").unwrap(),
                ClockTime::parse("17:30").unwrap(),
                TimeZoneName::parse("Europe/Berlin").unwrap(),
            )
            .unwrap(),
        ),
        status_page_url: Some(StatusPageUrl::parse("https://status.acme.example").unwrap()),
        languages: Languages::parse(&["de", "en"]).unwrap(),
        forbidden_commitments: ForbiddenCommitments::parse(&["refund", "delivery date"]).unwrap(),
    }
}

pub async fn reply_policy_defaults_empty_round_trips_and_stays_in_its_tenant<S: Store>(
    store: Arc<S>,
) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Studio", "admin@beta.test").await;
    let stored = TenantRepository::get(&*store, &a.scope).await.unwrap();
    assert_eq!(stored.reply_policy, ReplyPolicy::default(), "a new workspace has no policy");

    let mut changed = stored.clone();
    changed.reply_policy = full_policy();
    TenantRepository::update(&*store, &a.scope, &changed).await.unwrap();
    let again = TenantRepository::get(&*store, &a.scope).await.unwrap();
    assert_eq!(again.reply_policy, full_policy());
    assert_eq!(
        TenantRepository::get(&*store, &b.scope).await.unwrap().reply_policy,
        ReplyPolicy::default()
    );

    // Clearing every field stores the empty policy again.
    changed.reply_policy = ReplyPolicy::default();
    TenantRepository::update(&*store, &a.scope, &changed).await.unwrap();
    assert_eq!(
        TenantRepository::get(&*store, &a.scope).await.unwrap().reply_policy,
        ReplyPolicy::default()
    );

    // B's scope cannot write A's policy.
    let mut hijack = again.clone();
    hijack.reply_policy = full_policy();
    assert!(TenantRepository::update(&*store, &b.scope, &hijack).await.is_err());
    assert_eq!(
        TenantRepository::get(&*store, &a.scope).await.unwrap().reply_policy,
        ReplyPolicy::default()
    );
}

pub async fn steps_of_a_reclaimed_run_keep_their_attempt<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let mut t = new_ticket(&a.scope, "One", "body", base);
    t.number = TicketRepository::create(&*store, &a.scope, &t).await.unwrap();
    let run = new_run(&a.scope, t.id, base - Duration::seconds(10));
    store.create_run(&a.scope, &run).await.unwrap();
    let lease = Duration::seconds(60);

    // The first worker claims it, records a step and dies.
    let first = store.claim_next(base, lease).await.unwrap().unwrap();
    let mut s1 = new_step(&a.scope, run.id, StepType::Classification, base + Duration::seconds(1));
    s1.attempt = first.attempts;
    store.append_step(&a.scope, &s1).await.unwrap();

    // After the lease another worker claims it again and records the same step anew.
    let later = base + Duration::seconds(61);
    let second = store.claim_next(later, lease).await.unwrap().unwrap();
    assert_eq!((first.attempts, second.attempts), (1, 2));
    let mut s2 = new_step(&a.scope, run.id, StepType::Classification, later + Duration::seconds(1));
    s2.attempt = second.attempts;
    store.append_step(&a.scope, &s2).await.unwrap();

    let steps = store.list_steps(&a.scope, run.id).await.unwrap();
    let told_apart: Vec<(StepType, u32)> = steps.iter().map(|s| (s.step_type, s.attempt)).collect();
    assert_eq!(told_apart, [(StepType::Classification, 1), (StepType::Classification, 2)]);
    assert_eq!(steps, [s1, s2]);
}
