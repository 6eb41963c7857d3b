//! Contract cases of webhooks: endpoints round-trip and stay in their tenant; messages are
//! queued, claimed once under a lease (even when racing), fenced after a lost lease, retried on
//! their schedule, listed newest first with a status filter, and the endpoint is disabled after
//! repeated failures and cleared when re-enabled.

use std::sync::Arc;

use opsflow_domain::webhook::{
    AttemptOutcome, WebhookDelivery, WebhookDeliveryId, WebhookDeliveryStatus, WebhookEndpoint,
    WebhookEndpointId, WebhookEventType, WebhookEvents, WebhookUrl,
};
use opsflow_domain::{TenantId, TenantScope};
use opsflow_ports::repos::{Conflict, DeliveryQuery, RepoError, Store};
use time::{Duration, OffsetDateTime};

use super::{now_ms, signup};

fn at(base: OffsetDateTime, secs: i64) -> OffsetDateTime {
    base + Duration::seconds(secs)
}

fn endpoint(scope: &TenantScope, url: &str, now: OffsetDateTime) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookEndpointId::new(),
        tenant_id: scope.tenant_id(),
        url: WebhookUrl::parse(url).unwrap(),
        description: "CRM sync".into(),
        events: WebhookEvents::parse(&["ticket.created", "reply.created"]).unwrap(),
        enabled: true,
        disabled_reason: None,
        consecutive_failures: 0,
        created_at: now,
        updated_at: now,
    }
}

fn all(status: Option<WebhookDeliveryStatus>) -> DeliveryQuery {
    DeliveryQuery { status, page: 1, per_page: 50 }
}

async fn registered<S: Store>(
    store: &S,
    scope: &TenantScope,
    now: OffsetDateTime,
) -> WebhookEndpoint {
    let e = endpoint(scope, "https://hooks.example.com/in", now);
    store.create_webhook(scope, &e, "sealed-secret").await.unwrap();
    e
}

async fn queue<S: Store>(
    store: &S,
    scope: &TenantScope,
    e: &WebhookEndpoint,
    when: OffsetDateTime,
) -> WebhookDelivery {
    let d = WebhookDelivery::queued(e, WebhookEventType::TicketCreated, r#"{"a":1}"#.into(), when);
    store.enqueue_webhooks(scope, std::slice::from_ref(&d)).await.unwrap();
    d
}

fn failure(attempts: u32, now: OffsetDateTime) -> AttemptOutcome {
    AttemptOutcome::failed(attempts, now, Some(500), "HTTP 500", Some("oops".into()), false)
}

pub async fn webhook_endpoints_round_trip_update_rotate_and_delete<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let e1 = registered(&*store, &a.scope, base).await;
    let e2 = endpoint(&a.scope, "http://[2606:4700::1]:8443/x", at(base, 1));
    store.create_webhook(&a.scope, &e2, "s2").await.unwrap();
    assert_eq!(store.list_webhooks(&a.scope).await.unwrap(), vec![e1.clone(), e2.clone()]);
    assert_eq!(store.get_webhook(&a.scope, e1.id).await.unwrap(), e1);

    let mut changed = e1.clone();
    changed.url = WebhookUrl::parse("https://crm.example.com/hook").unwrap();
    changed.events = WebhookEvents::parse(&["triage.completed"]).unwrap();
    changed.enabled = false;
    changed.disabled_reason = Some("manual".into());
    changed.consecutive_failures = 3;
    changed.updated_at = at(base, 9);
    store.update_webhook(&a.scope, &changed).await.unwrap();
    assert_eq!(store.get_webhook(&a.scope, e1.id).await.unwrap(), changed);

    // The secret comes back with a claim; rotation replaces it.
    store.set_webhook_secret(&a.scope, e1.id, "rotated", at(base, 10)).await.unwrap();
    changed.enabled = true;
    store.update_webhook(&a.scope, &changed).await.unwrap();
    queue(&*store, &a.scope, &changed, base).await;
    let claimed =
        store.claim_next_webhook(at(base, 20), Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(claimed.sealed_secret, "rotated");
    assert_eq!(claimed.endpoint.id, e1.id);

    store.delete_webhook(&a.scope, e1.id).await.unwrap();
    assert!(matches!(store.get_webhook(&a.scope, e1.id).await, Err(RepoError::NotFound)));
    assert!(matches!(
        store.list_webhook_deliveries(&a.scope, e1.id, &all(None)).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(store.delete_webhook(&a.scope, e1.id).await, Err(RepoError::NotFound)));
    assert_eq!(store.list_webhooks(&a.scope).await.unwrap(), vec![e2]);
}

pub async fn webhook_claim_leases_once_and_fences_a_lost_lease<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let e = registered(&*store, &a.scope, base).await;
    let d = queue(&*store, &a.scope, &e, at(base, 10)).await;

    // Not due yet.
    assert!(store.claim_next_webhook(at(base, 5), Duration::minutes(1)).await.unwrap().is_none());
    let c1 = store.claim_next_webhook(at(base, 10), Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(c1.delivery.id, d.id);
    assert_eq!(c1.delivery.attempts, 1);
    assert_eq!(c1.delivery.lease_until, Some(at(base, 70)));
    assert_eq!(c1.delivery.payload, r#"{"a":1}"#);
    // Held: nobody else gets it before the lease ends.
    assert!(store.claim_next_webhook(at(base, 69), Duration::minutes(1)).await.unwrap().is_none());
    // The worker died; after the lease another claims it (attempt 2), and the first is fenced.
    let c2 = store.claim_next_webhook(at(base, 71), Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(c2.delivery.attempts, 2);
    let ok = AttemptOutcome::succeeded(200, Some("ok".into()));
    assert!(matches!(
        store.record_webhook_attempt(a.tenant.id, d.id, 1, &ok, at(base, 72), 15).await,
        Err(RepoError::NotFound)
    ));
    store.record_webhook_attempt(a.tenant.id, d.id, 2, &ok, at(base, 72), 15).await.unwrap();
    let page = store.list_webhook_deliveries(&a.scope, e.id, &all(None)).await.unwrap();
    assert_eq!(page.total, 1);
    let got = &page.items[0];
    assert_eq!(got.status, WebhookDeliveryStatus::Succeeded);
    assert_eq!(got.last_status, Some(200));
    assert_eq!(got.response_excerpt.as_deref(), Some("ok"));
    assert_eq!(got.lease_until, None);
    // Finished messages are never claimed again; recording twice is fenced too.
    assert!(store.claim_next_webhook(at(base, 999), Duration::minutes(1)).await.unwrap().is_none());
    assert!(matches!(
        store.record_webhook_attempt(a.tenant.id, d.id, 2, &ok, at(base, 73), 15).await,
        Err(RepoError::NotFound)
    ));
}

pub async fn webhook_claim_race_has_one_winner_per_message<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let e = registered(&*store, &a.scope, base).await;
    for i in 0..3 {
        queue(&*store, &a.scope, &e, at(base, i)).await;
    }
    let claims = (0..8).map(|_| {
        let store = store.clone();
        async move { store.claim_next_webhook(at(base, 30), Duration::minutes(1)).await.unwrap() }
    });
    let won: Vec<_> = futures::future::join_all(claims).await.into_iter().flatten().collect();
    assert_eq!(won.len(), 3, "each message is claimed exactly once");
    let mut ids: Vec<_> = won.iter().map(|c| c.delivery.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

pub async fn webhook_failures_retry_on_schedule_then_fail_and_disable_the_endpoint<S: Store>(
    store: Arc<S>,
) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let e = registered(&*store, &a.scope, base).await;
    let d = queue(&*store, &a.scope, &e, base).await;

    // Attempt 1 fails: retrying 5 s later, with the answer recorded.
    let c = store.claim_next_webhook(base, Duration::minutes(1)).await.unwrap().unwrap();
    let out = failure(c.delivery.attempts, base);
    let after =
        store.record_webhook_attempt(a.tenant.id, d.id, 1, &out, base, 3).await.unwrap().unwrap();
    assert_eq!(after.consecutive_failures, 1);
    assert!(after.enabled);
    let page = store
        .list_webhook_deliveries(&a.scope, e.id, &all(Some(WebhookDeliveryStatus::Retrying)))
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let got = &page.items[0];
    assert_eq!((got.attempts, got.last_status), (1, Some(500)));
    assert_eq!(got.next_attempt_at, at(base, 5));
    assert_eq!(got.last_error.as_deref(), Some("HTTP 500"));
    // Not before its time.
    assert!(store.claim_next_webhook(at(base, 4), Duration::minutes(1)).await.unwrap().is_none());

    // Two more failures reach the threshold of 3: the endpoint is disabled, with a reason.
    let mut now = at(base, 5);
    for attempt in 2..=3 {
        let c = store.claim_next_webhook(now, Duration::minutes(1)).await.unwrap().unwrap();
        assert_eq!(c.delivery.attempts, attempt);
        let out = failure(attempt, now);
        store.record_webhook_attempt(a.tenant.id, d.id, attempt, &out, now, 3).await.unwrap();
        now = out.next_attempt_at.unwrap();
    }
    let disabled = store.get_webhook(&a.scope, e.id).await.unwrap();
    assert!(!disabled.enabled);
    assert_eq!(disabled.consecutive_failures, 3);
    assert!(disabled.disabled_reason.as_deref().unwrap().contains("3 failed attempts"));

    // A final failure marks the message failed; a person can send it again.
    let c = store.claim_next_webhook(now, Duration::minutes(1)).await.unwrap().unwrap();
    let give_up = AttemptOutcome::failed(4, now, None, "the endpoint is disabled", None, true);
    store
        .record_webhook_attempt(a.tenant.id, d.id, c.delivery.attempts, &give_up, now, 3)
        .await
        .unwrap();
    let failed = store
        .list_webhook_deliveries(&a.scope, e.id, &all(Some(WebhookDeliveryStatus::Failed)))
        .await
        .unwrap();
    assert_eq!(failed.total, 1);
    assert!(
        store.claim_next_webhook(at(now, 3600 * 24), Duration::minutes(1)).await.unwrap().is_none()
    );
    let retried = store.retry_webhook_delivery(&a.scope, e.id, d.id, now).await.unwrap();
    assert_eq!((retried.status, retried.attempts), (WebhookDeliveryStatus::Queued, 0));
    assert!(matches!(
        store.retry_webhook_delivery(&a.scope, e.id, d.id, now).await,
        Err(RepoError::Conflict(Conflict::WebhookDeliveryPending))
    ));
    // A success resets the endpoint's count.
    let c = store.claim_next_webhook(now, Duration::minutes(1)).await.unwrap().unwrap();
    let ok = AttemptOutcome::succeeded(204, None);
    let after = store
        .record_webhook_attempt(a.tenant.id, d.id, c.delivery.attempts, &ok, now, 3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.consecutive_failures, 0);
}

pub async fn webhook_deliveries_list_newest_first_with_paging_and_filter<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let e = registered(&*store, &a.scope, base).await;
    let other = endpoint(&a.scope, "https://other.example.com/", base);
    store.create_webhook(&a.scope, &other, "s").await.unwrap();
    let mut queued = Vec::new();
    for i in 0..5 {
        queued.push(queue(&*store, &a.scope, &e, at(base, i)).await);
    }
    queue(&*store, &a.scope, &other, at(base, 9)).await;
    let p1 = store
        .list_webhook_deliveries(
            &a.scope,
            e.id,
            &DeliveryQuery { status: None, page: 1, per_page: 2 },
        )
        .await
        .unwrap();
    assert_eq!(p1.total, 5);
    assert_eq!(p1.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![queued[4].id, queued[3].id]);
    let p3 = store
        .list_webhook_deliveries(
            &a.scope,
            e.id,
            &DeliveryQuery { status: None, page: 3, per_page: 2 },
        )
        .await
        .unwrap();
    assert_eq!(p3.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![queued[0].id]);
    let none = store
        .list_webhook_deliveries(&a.scope, e.id, &all(Some(WebhookDeliveryStatus::Succeeded)))
        .await
        .unwrap();
    assert_eq!((none.total, none.items.len()), (0, 0));
    let q = store
        .list_webhook_deliveries(&a.scope, e.id, &all(Some(WebhookDeliveryStatus::Queued)))
        .await
        .unwrap();
    assert_eq!(q.total, 5);
    assert_eq!(q.items[0], queued[4]);
}

pub async fn webhooks_are_confined_to_their_tenant<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let e = registered(&*store, &a.scope, base).await;
    let d = queue(&*store, &a.scope, &e, base).await;

    assert!(store.list_webhooks(&b.scope).await.unwrap().is_empty());
    assert!(matches!(store.get_webhook(&b.scope, e.id).await, Err(RepoError::NotFound)));
    let mut hijack = e.clone();
    hijack.url = WebhookUrl::parse("https://evil.example.com/").unwrap();
    assert!(matches!(store.update_webhook(&b.scope, &hijack).await, Err(RepoError::NotFound)));
    assert!(matches!(
        store.set_webhook_secret(&b.scope, e.id, "x", base).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(store.delete_webhook(&b.scope, e.id).await, Err(RepoError::NotFound)));
    assert!(matches!(
        store.list_webhook_deliveries(&b.scope, e.id, &all(None)).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        store.retry_webhook_delivery(&b.scope, e.id, d.id, base).await,
        Err(RepoError::NotFound)
    ));
    // B cannot create an endpoint in A, nor queue a message to A's endpoint.
    let mut foreign = endpoint(&a.scope, "https://x.example.com/", base);
    foreign.tenant_id = a.tenant.id;
    assert!(matches!(
        store.create_webhook(&b.scope, &foreign, "s").await,
        Err(RepoError::NotFound)
    ));
    let mut smuggled =
        WebhookDelivery::queued(&e, WebhookEventType::TicketCreated, "{}".into(), base);
    assert!(matches!(
        store.enqueue_webhooks(&b.scope, std::slice::from_ref(&smuggled)).await,
        Err(RepoError::NotFound)
    ));
    smuggled.tenant_id = b.tenant.id;
    assert!(matches!(
        store.enqueue_webhooks(&b.scope, std::slice::from_ref(&smuggled)).await,
        Err(RepoError::NotFound)
    ));
    // Recording under another tenant's id does not touch A's message.
    let c = store.claim_next_webhook(base, Duration::minutes(1)).await.unwrap().unwrap();
    let ok = AttemptOutcome::succeeded(200, None);
    assert!(matches!(
        store.record_webhook_attempt(b.tenant.id, d.id, c.delivery.attempts, &ok, base, 15).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        store
            .record_webhook_attempt(TenantId::new(), WebhookDeliveryId::new(), 1, &ok, base, 15)
            .await,
        Err(RepoError::NotFound)
    ));
    // A's data is unchanged.
    assert_eq!(store.get_webhook(&a.scope, e.id).await.unwrap(), e);
}
