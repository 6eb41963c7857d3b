//! Contract cases of the email outbox: queued with the reply atomically, claimed once under
//! concurrency, reclaimed after a crash (expired lease) with the old claim fenced off, retried
//! with its schedule, and confined to its tenant.

use std::sync::Arc;

use opsflow_domain::email::{Mailbox, OutboundEmail};
use opsflow_domain::outbox::{DeliveryState, OutboxMessage, reply_message_id};
use opsflow_domain::{Email, ReplyId, TenantScope, Ticket, TicketReply, TicketStatus};
use opsflow_ports::repos::{ReplyRepository, RepoError, Store, TicketRepository};
use time::{Duration, OffsetDateTime};

use super::{ai_draft, human_reply, new_ticket, now_ms, signup};

fn at(base: OffsetDateTime, secs: i64) -> OffsetDateTime {
    base + Duration::seconds(secs)
}

fn email_of(scope: &TenantScope, ticket: &Ticket, reply: &TicketReply) -> OutboxMessage {
    let from = Email::parse("support@alpha.test").unwrap();
    OutboxMessage::queued(
        scope.tenant_id(),
        ticket.id,
        reply.id,
        OutboundEmail {
            from: Mailbox { name: Some("Ann Agent via Alpha".into()), email: from.clone() },
            to: Mailbox {
                name: Some("Casey Customer".into()),
                email: ticket.customer_email.clone(),
            },
            subject: format!("Re: {} [#{}]", ticket.subject.as_str(), ticket.number),
            body: reply.body.as_str().to_owned(),
            message_id: reply_message_id(reply.id, &from),
            in_reply_to: Some("c2@customer.test".into()),
            references: vec!["c1@customer.test".into(), "c2@customer.test".into()],
        },
        reply.created_at,
    )
}

async fn email_ticket<S: Store>(store: &S, scope: &TenantScope, base: OffsetDateTime) -> Ticket {
    let mut t = new_ticket(scope, "Login broken", "help", base);
    t.channel = opsflow_domain::Channel::Email;
    t.number = TicketRepository::create(store, scope, &t).await.unwrap();
    t
}

/// Queues one email with its reply at `when`; returns the message.
async fn queue<S: Store>(
    store: &S,
    scope: &TenantScope,
    ticket: &Ticket,
    when: OffsetDateTime,
) -> OutboxMessage {
    let reply = human_reply(scope, ticket.id, "Please try again now.", when);
    let email = email_of(scope, ticket, &reply);
    store.add_reply_with_email(scope, &reply, None, None, &email, when).await.unwrap();
    email
}

pub async fn outbox_email_is_queued_with_its_reply_or_not_at_all<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let t = email_ticket(&*store, &a.scope, base).await;
    let draft = ai_draft(&a.scope, t.id, "AI suggestion", base);
    ReplyRepository::add(&*store, &a.scope, &draft, None, None, base).await.unwrap();

    // Sent with a status change and replacing the draft: reply, email, status, all of it.
    let reply = human_reply(&a.scope, t.id, "Fixed, please retry.", at(base, 5));
    let email = email_of(&a.scope, &t, &reply);
    store
        .add_reply_with_email(
            &a.scope,
            &reply,
            Some(TicketStatus::Replied),
            Some(draft.id),
            &email,
            at(base, 5),
        )
        .await
        .unwrap();
    let replies = ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap();
    assert_eq!(replies, vec![reply.clone()], "the draft was consumed");
    assert_eq!(
        TicketRepository::get(&*store, &a.scope, t.id).await.unwrap().status,
        TicketStatus::Replied
    );
    let deliveries = store.delivery_for_replies(&a.scope, t.id).await.unwrap();
    assert_eq!(deliveries, vec![email.delivery()]);
    assert_eq!(deliveries[0].state, DeliveryState::Queued);
    assert_eq!(deliveries[0].next_attempt_at, Some(at(base, 5)));

    // The stored message is the one queued, every header included.
    let claimed = store.claim_next_email(at(base, 5), Duration::minutes(5)).await.unwrap().unwrap();
    assert_eq!(claimed.email, email.email);
    assert_eq!(
        (claimed.reply_id, claimed.ticket_id, claimed.tenant_id),
        (reply.id, t.id, a.scope.tenant_id())
    );

    // A failing reply write (the draft was already consumed) queues nothing either.
    let again = human_reply(&a.scope, t.id, "Second try", at(base, 9));
    let again_email = email_of(&a.scope, &t, &again);
    let r = store
        .add_reply_with_email(&a.scope, &again, None, Some(draft.id), &again_email, at(base, 9))
        .await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap().len(), 1);
    assert_eq!(store.delivery_for_replies(&a.scope, t.id).await.unwrap().len(), 1);

    // An email that is not the reply's is refused.
    let other = human_reply(&a.scope, t.id, "Third", at(base, 12));
    let r =
        store.add_reply_with_email(&a.scope, &other, None, None, &again_email, at(base, 12)).await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap().len(), 1);
}

pub async fn outbox_claim_race_has_one_winner<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let t = email_ticket(&*store, &a.scope, base).await;
    assert!(store.claim_next_email(base, Duration::minutes(5)).await.unwrap().is_none());
    let email = queue(&*store, &a.scope, &t, base).await;

    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_next_email(at(base, 1), Duration::minutes(5)).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(m) = task.await.unwrap() {
            winners.push(m);
        }
    }
    assert_eq!(winners.len(), 1, "one row, one winner: {winners:?}");
    assert_eq!(winners[0].reply_id, email.reply_id);
    assert_eq!(winners[0].state, DeliveryState::Sending);
    assert_eq!(winners[0].attempts, 1);
    assert_eq!(winners[0].lease_until, Some(at(base, 1) + Duration::minutes(5)));
}

pub async fn outbox_expired_lease_is_reclaimed_and_the_old_claim_is_fenced_off<S: Store>(
    store: Arc<S>,
) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let t = email_ticket(&*store, &a.scope, base).await;
    let email = queue(&*store, &a.scope, &t, base).await;
    let lease = Duration::seconds(60);
    let (tenant, reply) = (a.scope.tenant_id(), email.reply_id);

    let first = store.claim_next_email(base, lease).await.unwrap().unwrap();
    assert_eq!(first.attempts, 1);
    // Still leased: nobody else gets it.
    assert!(store.claim_next_email(at(base, 59), lease).await.unwrap().is_none());
    // The worker "crashed": after the lease it is claimed again, as another attempt.
    let second = store.claim_next_email(at(base, 61), lease).await.unwrap().unwrap();
    assert_eq!((second.reply_id, second.attempts), (reply, 2));
    assert_eq!(second.state, DeliveryState::Sending);
    // The first worker's late outcome does not overwrite the second claim's.
    let late = store.mark_failed(tenant, reply, 1, "late").await;
    assert!(matches!(late, Err(RepoError::NotFound)), "{late:?}");
    store.mark_sent(tenant, reply, 2, at(base, 62)).await.unwrap();
    let d = store.delivery_for_replies(&a.scope, t.id).await.unwrap().pop().unwrap();
    assert_eq!(d.state, DeliveryState::Sent);
    assert_eq!(d.sent_at, Some(at(base, 62)));
    assert_eq!(d.attempts, 2);
    assert_eq!(d.next_attempt_at, None);
    // Sent rows are never claimed again, however late.
    assert!(store.claim_next_email(at(base, 100_000), lease).await.unwrap().is_none());
    let twice = store.mark_sent(tenant, reply, 2, at(base, 63)).await;
    assert!(matches!(twice, Err(RepoError::NotFound)), "{twice:?}");
}

pub async fn outbox_retries_when_due_fails_and_is_queued_again_on_request<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let base = now_ms();
    let t = email_ticket(&*store, &a.scope, base).await;
    let older = queue(&*store, &a.scope, &t, base).await;
    let newer = queue(&*store, &a.scope, &t, at(base, 10)).await;
    let lease = Duration::minutes(5);
    let tenant = a.scope.tenant_id();

    // Only due rows are claimed, oldest due first.
    assert!(store.claim_next_email(at(base, -1), lease).await.unwrap().is_none());
    let c = store.claim_next_email(at(base, 20), lease).await.unwrap().unwrap();
    assert_eq!(c.reply_id, older.reply_id);
    store.mark_retry(tenant, c.reply_id, 1, at(base, 80), "451 busy").await.unwrap();
    let c2 = store.claim_next_email(at(base, 20), lease).await.unwrap().unwrap();
    assert_eq!(c2.reply_id, newer.reply_id, "the retry is not due yet");
    store.mark_failed(tenant, c2.reply_id, 1, "550 No such user here").await.unwrap();
    assert!(store.claim_next_email(at(base, 79), lease).await.unwrap().is_none());

    let deliveries = store.delivery_for_replies(&a.scope, t.id).await.unwrap();
    let find = |id: ReplyId| deliveries.iter().find(|d| d.reply_id == id).unwrap().clone();
    let retrying = find(older.reply_id);
    assert_eq!(retrying.state, DeliveryState::Queued);
    assert_eq!(retrying.attempts, 1);
    assert_eq!(retrying.next_attempt_at, Some(at(base, 80)));
    assert_eq!(retrying.last_error.as_deref(), Some("451 busy"));
    let failed = find(newer.reply_id);
    assert_eq!(failed.state, DeliveryState::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("550 No such user here"));

    let again = store.claim_next_email(at(base, 80), lease).await.unwrap().unwrap();
    assert_eq!((again.reply_id, again.attempts), (older.reply_id, 2));
    assert_eq!(again.last_error.as_deref(), Some("451 busy"));

    // Only failed rows can be retried; a retry is due at once with a fresh count.
    let not_failed = store.retry_delivery(&a.scope, t.id, older.reply_id, at(base, 90)).await;
    assert!(
        matches!(not_failed, Err(RepoError::Conflict(c)) if c.as_str() == "delivery_not_failed"),
        "{not_failed:?}"
    );
    let requeued =
        store.retry_delivery(&a.scope, t.id, newer.reply_id, at(base, 90)).await.unwrap();
    assert_eq!(requeued.state, DeliveryState::Queued);
    assert_eq!(requeued.attempts, 0);
    assert_eq!(requeued.next_attempt_at, Some(at(base, 90)));
    let c3 = store.claim_next_email(at(base, 90), lease).await.unwrap().unwrap();
    assert_eq!((c3.reply_id, c3.attempts), (newer.reply_id, 1));
    let twice = store.retry_delivery(&a.scope, t.id, newer.reply_id, at(base, 91)).await;
    assert!(matches!(twice, Err(RepoError::Conflict(_))), "{twice:?}");
    // Unknown reply, or the right reply on the wrong ticket: not found.
    let unknown = store.retry_delivery(&a.scope, t.id, ReplyId::new(), at(base, 91)).await;
    assert!(matches!(unknown, Err(RepoError::NotFound)), "{unknown:?}");
    let other = email_ticket(&*store, &a.scope, base).await;
    let wrong = store.retry_delivery(&a.scope, other.id, newer.reply_id, at(base, 91)).await;
    assert!(matches!(wrong, Err(RepoError::NotFound)), "{wrong:?}");
}

pub async fn outbox_is_confined_to_its_tenant<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let base = now_ms();
    let t = email_ticket(&*store, &a.scope, base).await;
    let email = queue(&*store, &a.scope, &t, base).await;
    let c = store.claim_next_email(base, Duration::minutes(5)).await.unwrap().unwrap();
    store.mark_failed(a.scope.tenant_id(), c.reply_id, 1, "550 rejected").await.unwrap();

    // B sees none of A's deliveries and cannot retry them.
    assert!(store.delivery_for_replies(&b.scope, t.id).await.unwrap().is_empty());
    let r = store.retry_delivery(&b.scope, t.id, email.reply_id, at(base, 1)).await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    // The worker methods are keyed by tenant too: B's tenant id does not reach A's row.
    let r = store.mark_sent(b.scope.tenant_id(), email.reply_id, 1, at(base, 1)).await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    // B cannot queue an email (or a reply) on A's ticket, even naming A's ids.
    let reply = human_reply(&b.scope, t.id, "Hijack", at(base, 2));
    let mut forged = email_of(&a.scope, &t, &reply);
    let r = store.add_reply_with_email(&b.scope, &reply, None, None, &forged, at(base, 2)).await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    forged.tenant_id = b.scope.tenant_id();
    let r = store.add_reply_with_email(&b.scope, &reply, None, None, &forged, at(base, 2)).await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    assert_eq!(ReplyRepository::list(&*store, &a.scope, t.id).await.unwrap().len(), 1);
    let d = store.delivery_for_replies(&a.scope, t.id).await.unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].state, DeliveryState::Failed, "unchanged by B");
    assert!(
        store.claim_next_email(at(base, 100_000), Duration::minutes(5)).await.unwrap().is_none()
    );
}
