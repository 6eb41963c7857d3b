//! Contract cases of auto-triage on arrival: the workspace settings and the run stored with
//! its new ticket.

use std::sync::Arc;

use opsflow_domain::{
    AutoTriageMode, AutoTriageSettings, AutoTriageThresholds, RunStatus, RunTrigger, Threshold,
    WorkflowRun,
};
use opsflow_ports::repos::{Store, TenantRepository, TicketRepository};
use time::Duration;

use super::{new_run, new_ticket, now_ms, signup};

fn th(v: f64) -> Threshold {
    Threshold::new(v).unwrap()
}

pub async fn auto_triage_settings_default_off_and_round_trip<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Studio", "admin@beta.test").await;
    let stored = TenantRepository::get(&*store, &a.scope).await.unwrap();
    assert_eq!(stored.auto_triage, AutoTriageSettings::default());
    assert_eq!(stored.auto_triage.mode, AutoTriageMode::Off);

    let settings = AutoTriageSettings {
        mode: AutoTriageMode::Apply,
        thresholds: AutoTriageThresholds {
            category: th(0.55),
            priority: th(0.0),
            assignee: th(1.0),
        },
    };
    let mut changed = stored.clone();
    changed.auto_triage = settings;
    TenantRepository::update(&*store, &a.scope, &changed).await.unwrap();
    let again = TenantRepository::get(&*store, &a.scope).await.unwrap();
    assert_eq!(again.auto_triage, settings);
    // Another workspace keeps its own settings.
    let other = TenantRepository::get(&*store, &b.scope).await.unwrap();
    assert_eq!(other.auto_triage, AutoTriageSettings::default());
    // Writing A's tenant under B's scope is refused and changes nothing.
    let mut foreign = again.clone();
    foreign.auto_triage.mode = AutoTriageMode::Suggest;
    assert!(TenantRepository::update(&*store, &b.scope, &foreign).await.is_err());
    assert_eq!(TenantRepository::get(&*store, &a.scope).await.unwrap().auto_triage, settings);
}

pub async fn ticket_is_created_with_its_arrival_run<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let ticket = new_ticket(&a.scope, "Checkout down", "Losing orders", base);
    let run = WorkflowRun { trigger: RunTrigger::AutoApply, ..new_run(&a.scope, ticket.id, base) };
    let number = store.create_with_run(&a.scope, &ticket, &run).await.unwrap();
    let stored = TicketRepository::get(&*store, &a.scope, ticket.id).await.unwrap();
    assert_eq!(stored.number, number);
    let active = store.active_run(&a.scope, ticket.id).await.unwrap().unwrap();
    assert_eq!(
        (active.id, active.status, active.trigger),
        (run.id, RunStatus::Queued, run.trigger)
    );

    let claimed = store.claim_next(base, Duration::seconds(60)).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.trigger), (run.id, RunTrigger::AutoApply));

    // Numbers keep counting across both ways of creating a ticket.
    let plain = new_ticket(&a.scope, "Second", "body", base);
    assert_eq!(TicketRepository::create(&*store, &a.scope, &plain).await.unwrap(), number + 1);
    // A person's run is stored as manual.
    let manual = new_run(&a.scope, plain.id, base);
    store.create_run(&a.scope, &manual).await.unwrap();
    assert_eq!(store.get_run(&a.scope, manual.id).await.unwrap().trigger, RunTrigger::Manual);
}
