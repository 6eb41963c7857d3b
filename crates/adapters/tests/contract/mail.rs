//! Contract cases of the mail archive and the inbound tokens.

use std::sync::Arc;

use opsflow_domain::{
    AttachmentId, AuthorType, Channel, ReplyBody, ReplyId, TenantScope, Ticket, TicketId,
    TicketReply, TicketStatus,
};
use opsflow_ports::repos::{
    InboundMail, MailTarget, NewAttachment, ReplyRepository, RepoError, Store, TakenIn,
    TicketRepository,
};
use time::{Duration, OffsetDateTime};

use super::{new_ticket, now_ms, signup};

fn mail(message_id: &str, at: OffsetDateTime, files: &[(&str, &[u8])]) -> InboundMail {
    InboundMail {
        message_id: message_id.to_owned(),
        subject: "Printer on fire".to_owned(),
        from: "casey@customer.test".to_owned(),
        received_at: at,
        raw: format!("Message-ID: <{message_id}>\r\n\r\nraw bytes \u{e9}").into_bytes(),
        attachments: files
            .iter()
            .map(|(name, data)| NewAttachment {
                id: AttachmentId::new(),
                filename: (*name).to_owned(),
                content_type: "application/pdf".to_owned(),
                data: data.to_vec(),
            })
            .collect(),
    }
}

/// A ticket as the intake makes it: channel email, no team member as creator.
fn email_ticket(scope: &TenantScope, at: OffsetDateTime) -> Ticket {
    Ticket {
        channel: Channel::Email,
        created_by_id: None,
        ..new_ticket(scope, "Printer on fire", "It is on fire.", at)
    }
}

fn customer_reply(scope: &TenantScope, ticket_id: TicketId, at: OffsetDateTime) -> TicketReply {
    TicketReply {
        id: ReplyId::new(),
        tenant_id: scope.tenant_id(),
        ticket_id,
        author_type: AuthorType::Customer,
        author_id: None,
        body: ReplyBody::new("Still on fire.").unwrap(),
        sent_at: Some(at),
        created_at: at,
        updated_at: at,
    }
}

fn later(base: OffsetDateTime, secs: i64) -> OffsetDateTime {
    base + Duration::seconds(secs)
}

pub async fn mail_take_in_opens_a_ticket_with_its_message_and_files<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let sys = TenantScope::system(a.tenant.id);
    let base = now_ms();
    let ticket = email_ticket(&sys, base);
    let m =
        mail("first@customer.test", base, &[("invoice.pdf", b"%PDF-1.4 bytes"), ("b.pdf", b"")]);
    let taken =
        store.take_in(&sys, &m, &MailTarget::NewTicket(ticket.clone(), None), base).await.unwrap();
    let TakenIn::Created { ticket_id, number } = taken else { panic!("{taken:?}") };
    assert_eq!((ticket_id, number), (ticket.id, 1));

    let stored = TicketRepository::get(&*store, &a.scope, ticket.id).await.unwrap();
    assert_eq!(stored, Ticket { number: 1, ..ticket.clone() }, "no creator round-trips as None");
    assert_eq!(stored.created_by_id, None);
    assert_eq!(stored.channel, Channel::Email);

    let files = store.list_attachments(&a.scope, ticket.id).await.unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        files.iter().map(|f| f.filename.as_str()).collect::<Vec<_>>(),
        ["invoice.pdf", "b.pdf"]
    );
    assert_eq!(files[0].size, 14);
    assert_eq!(files[0].reply_id, None);
    assert_eq!(files[0].content_type, "application/pdf");
    let got = store.get_attachment(&a.scope, ticket.id, files[0].id).await.unwrap();
    assert_eq!(got.data, b"%PDF-1.4 bytes");
    assert_eq!(got.meta, files[0]);
    let empty = store.get_attachment(&a.scope, ticket.id, files[1].id).await.unwrap();
    assert!(empty.data.is_empty());
    // The attachment is only reachable through its own ticket.
    let other = TicketId::new();
    assert!(matches!(
        store.get_attachment(&a.scope, other, files[0].id).await,
        Err(RepoError::NotFound)
    ));

    assert_eq!(
        store.thread_message_ids(&a.scope, ticket.id).await.unwrap(),
        ["first@customer.test"]
    );
    let ids = vec!["unknown@x".to_owned(), "first@customer.test".to_owned()];
    assert_eq!(store.ticket_for_message_ids(&a.scope, &ids).await.unwrap(), Some(ticket.id));
    assert_eq!(store.ticket_for_message_ids(&a.scope, &ids[..1]).await.unwrap(), None);
    assert_eq!(store.ticket_for_message_ids(&a.scope, &[]).await.unwrap(), None);
}

pub async fn mail_follow_up_appends_a_customer_reply_and_reopens<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let sys = TenantScope::system(a.tenant.id);
    let base = now_ms();
    let ticket = email_ticket(&sys, base);
    store
        .take_in(
            &sys,
            &mail("m1@c.test", base, &[]),
            &MailTarget::NewTicket(ticket.clone(), None),
            base,
        )
        .await
        .unwrap();

    // A new ticket stays new when the customer writes again.
    let r1 = customer_reply(&sys, ticket.id, later(base, 1));
    let taken = store
        .take_in(
            &sys,
            &mail("m2@c.test", later(base, 1), &[("log.txt", b"x")]),
            &MailTarget::Reply(r1.clone()),
            later(base, 1),
        )
        .await
        .unwrap();
    assert_eq!(taken, TakenIn::Appended { ticket_id: ticket.id, reply_id: r1.id });
    let t = TicketRepository::get(&*store, &a.scope, ticket.id).await.unwrap();
    assert_eq!(t.status, TicketStatus::New);
    assert_eq!(t.updated_at, later(base, 1));

    for (i, status) in
        [TicketStatus::Replied, TicketStatus::Closed, TicketStatus::Pending].into_iter().enumerate()
    {
        let patch = opsflow_domain::TicketPatch { status: Some(status), ..Default::default() };
        TicketRepository::update(&*store, &a.scope, ticket.id, &patch, base).await.unwrap();
        let secs = 10 + i64::try_from(i).unwrap();
        let r = customer_reply(&sys, ticket.id, later(base, secs));
        let id = format!("follow-{i}@c.test");
        store
            .take_in(
                &sys,
                &mail(&id, later(base, secs), &[]),
                &MailTarget::Reply(r),
                later(base, secs),
            )
            .await
            .unwrap();
        let t = TicketRepository::get(&*store, &a.scope, ticket.id).await.unwrap();
        assert_eq!(t.status, TicketStatus::Open, "{status:?} reopens");
    }

    let replies = ReplyRepository::list(&*store, &a.scope, ticket.id).await.unwrap();
    assert_eq!(replies.len(), 4);
    assert_eq!(replies[0], r1);
    let files = store.list_attachments(&a.scope, ticket.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].reply_id, Some(r1.id));
    assert_eq!(
        store.thread_message_ids(&a.scope, ticket.id).await.unwrap(),
        ["m1@c.test", "m2@c.test", "follow-0@c.test", "follow-1@c.test", "follow-2@c.test"],
        "oldest first"
    );
    assert_eq!(store.ticket_of_reply(&a.scope, r1.id).await.unwrap(), ticket.id);

    // The customer's words are searchable on the ticket, as any sent reply's are.
    let search = opsflow_domain::TicketQuery {
        search: opsflow_domain::TicketQuery::search_words("fire stil"),
        ..Default::default()
    };
    let found = TicketRepository::list(&*store, &a.scope, &search).await.unwrap();
    assert_eq!(found.items.iter().map(|t| t.id).collect::<Vec<_>>(), [ticket.id]);

    // A reply to a ticket that does not exist writes nothing.
    let stray = customer_reply(&sys, TicketId::new(), later(base, 30));
    let r = store
        .take_in(
            &sys,
            &mail("stray@c.test", later(base, 30), &[]),
            &MailTarget::Reply(stray),
            later(base, 30),
        )
        .await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    assert_eq!(
        store.ticket_for_message_ids(&a.scope, &["stray@c.test".to_owned()]).await.unwrap(),
        None
    );
}

pub async fn mail_duplicate_message_id_is_a_no_op_even_when_racing<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let sys = TenantScope::system(a.tenant.id);
    let base = now_ms();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let ticket = email_ticket(&sys, later(base, i));
            let m = mail("same@c.test", later(base, i), &[("a.pdf", b"bytes")]);
            store.take_in(&sys, &m, &MailTarget::NewTicket(ticket, None), base).await.unwrap()
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            TakenIn::Created { number, .. } => {
                assert_eq!(number, 1, "the winner gets the first number; losers use none");
                created += 1;
            }
            TakenIn::Duplicate => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1, "exactly one take-in wins");
    let all = TicketRepository::list(&*store, &a.scope, &opsflow_domain::TicketQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 1, "one ticket");
    let files = store.list_attachments(&a.scope, all.items[0].id).await.unwrap();
    assert_eq!(files.len(), 1, "one copy of the attachment");

    // A follow-up taken in twice adds one reply.
    let ticket_id = all.items[0].id;
    let m = mail("again@c.test", later(base, 20), &[]);
    let first = customer_reply(&sys, ticket_id, later(base, 20));
    let second = customer_reply(&sys, ticket_id, later(base, 21));
    assert!(matches!(
        store.take_in(&sys, &m, &MailTarget::Reply(first), base).await.unwrap(),
        TakenIn::Appended { .. }
    ));
    assert_eq!(
        store.take_in(&sys, &m, &MailTarget::Reply(second), base).await.unwrap(),
        TakenIn::Duplicate
    );
    assert_eq!(ReplyRepository::list(&*store, &a.scope, ticket_id).await.unwrap().len(), 1);
}

pub async fn mail_archive_is_confined_to_its_tenant<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let (sa, sb) = (TenantScope::system(a.tenant.id), TenantScope::system(b.tenant.id));
    let base = now_ms();
    let bt = email_ticket(&sb, base);
    let m = mail("secret@c.test", base, &[("secret.pdf", b"secret")]);
    store.take_in(&sb, &m, &MailTarget::NewTicket(bt.clone(), None), base).await.unwrap();
    let b_reply = customer_reply(&sb, bt.id, later(base, 1));
    store
        .take_in(&sb, &mail("b2@c.test", base, &[]), &MailTarget::Reply(b_reply.clone()), base)
        .await
        .unwrap();
    let b_file = store.list_attachments(&b.scope, bt.id).await.unwrap()[0].id;

    let ids = vec!["secret@c.test".to_owned()];
    assert_eq!(store.ticket_for_message_ids(&a.scope, &ids).await.unwrap(), None);
    assert!(store.thread_message_ids(&a.scope, bt.id).await.unwrap().is_empty());
    assert!(store.list_attachments(&a.scope, bt.id).await.unwrap().is_empty());
    assert!(matches!(
        store.get_attachment(&a.scope, bt.id, b_file).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(store.ticket_of_reply(&a.scope, b_reply.id).await, Err(RepoError::NotFound)));
    // A cannot append to B's ticket.
    let sneaky = customer_reply(&sa, bt.id, later(base, 2));
    let r = store
        .take_in(&sa, &mail("sneaky@c.test", base, &[]), &MailTarget::Reply(sneaky), base)
        .await;
    assert!(matches!(r, Err(RepoError::NotFound)), "{r:?}");
    assert_eq!(ReplyRepository::list(&*store, &b.scope, bt.id).await.unwrap().len(), 1);
    // The same Message-ID is a different message in another workspace.
    let at_ = email_ticket(&sa, base);
    let m_a = mail("secret@c.test", base, &[("own.pdf", b"own")]);
    let taken =
        store.take_in(&sa, &m_a, &MailTarget::NewTicket(at_.clone(), None), base).await.unwrap();
    assert!(matches!(taken, TakenIn::Created { number: 1, .. }), "{taken:?}");
    assert_eq!(store.ticket_for_message_ids(&a.scope, &ids).await.unwrap(), Some(at_.id));
    assert_eq!(store.ticket_for_message_ids(&b.scope, &ids).await.unwrap(), Some(bt.id));
}

pub async fn inbound_tokens_are_found_by_hash_and_replaced_on_rotation<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let b = signup(&*store, "Beta Agency", "admin@beta.test").await;
    let now = now_ms();
    assert_eq!(store.sealed_inbound_token(&a.scope).await.unwrap(), None);
    assert_eq!(store.tenant_for_inbound_token(b"hash-a1").await.unwrap(), None);
    store.set_inbound_token(&a.scope, b"hash-a1", "sealed-a1", now).await.unwrap();
    store.set_inbound_token(&b.scope, b"hash-b1", "sealed-b1", now).await.unwrap();
    assert_eq!(
        store.tenant_for_inbound_token(b"hash-a1").await.unwrap(),
        Some((a.tenant.id, b"hash-a1".to_vec()))
    );
    assert_eq!(store.sealed_inbound_token(&a.scope).await.unwrap().as_deref(), Some("sealed-a1"));
    // Rotation: the old hash stops resolving at once.
    store.set_inbound_token(&a.scope, b"hash-a2", "sealed-a2", now).await.unwrap();
    assert_eq!(store.tenant_for_inbound_token(b"hash-a1").await.unwrap(), None);
    assert_eq!(
        store.tenant_for_inbound_token(b"hash-a2").await.unwrap().map(|t| t.0),
        Some(a.tenant.id)
    );
    assert_eq!(store.sealed_inbound_token(&a.scope).await.unwrap().as_deref(), Some("sealed-a2"));
    assert_eq!(store.sealed_inbound_token(&b.scope).await.unwrap().as_deref(), Some("sealed-b1"));
    assert_eq!(
        store.tenant_for_inbound_token(b"hash-b1").await.unwrap().map(|t| t.0),
        Some(b.tenant.id)
    );
}

pub async fn mail_take_in_queues_the_arrival_run_with_its_ticket<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Alpha Agency", "admin@alpha.test").await;
    let sys = TenantScope::system(a.tenant.id);
    let base = now_ms();
    let ticket = email_ticket(&sys, base);
    let run = opsflow_domain::WorkflowRun {
        trigger: opsflow_domain::RunTrigger::AutoSuggest,
        ..super::new_run(&sys, ticket.id, base)
    };
    let target = MailTarget::NewTicket(ticket.clone(), Some(Box::new(run.clone())));
    let taken = store.take_in(&sys, &mail("arrive@c.test", base, &[]), &target, base).await;
    assert!(matches!(taken.unwrap(), TakenIn::Created { .. }));
    // The run was written with the ticket: a worker claims it, trigger and all.
    let runs = store.list_runs(&a.scope, ticket.id).await.unwrap();
    assert_eq!(runs, vec![run.clone()]);
    let claimed = store.claim_next(later(base, 1), Duration::seconds(60)).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.trigger), (run.id, opsflow_domain::RunTrigger::AutoSuggest));
    assert!(claimed.started_by_user_id.as_uuid().is_nil(), "the workspace queued it");

    // The same message again changes nothing: no second ticket, no second run.
    let second = email_ticket(&sys, base);
    let second_run = super::new_run(&sys, second.id, base);
    let again = MailTarget::NewTicket(second, Some(Box::new(second_run)));
    let dup = store.take_in(&sys, &mail("arrive@c.test", base, &[]), &again, base).await.unwrap();
    assert_eq!(dup, TakenIn::Duplicate);
    assert!(store.claim_next(later(base, 2), Duration::seconds(60)).await.unwrap().is_none());
}
