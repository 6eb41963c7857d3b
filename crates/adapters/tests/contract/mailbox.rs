//! Contract cases of `MailboxRepository`: settings in scope, the IMAP cursor, the poller's status
//! and its lease. Expanded by `mailbox_contract_tests!` next to `contract_tests!`.

use std::sync::Arc;

use opsflow_domain::email::MailSecurity;
use opsflow_domain::mailbox::{ImapSettings, MailFolder, MailHost, MailboxSettings, SmtpSettings};
use opsflow_domain::{Email, Role, TenantId, TenantScope, UserId};
use opsflow_ports::repos::{MailboxCursor, RepoError, Store};
use time::{Duration, OffsetDateTime};

use super::{now_ms, signup};

/// Expands into one `#[tokio::test]` per mailbox case, each with a fresh store from `$setup`.
#[macro_export]
macro_rules! mailbox_contract_tests {
    ($setup:path) => {
        $crate::mailbox_contract_tests!(@cases $setup;
            mailbox_settings_round_trip_in_scope_only,
            mailbox_cursor_only_moves_forward_under_one_uid_validity,
            mailbox_status_records_failures_and_success,
            mailbox_lease_has_one_holder_and_expires,
            mailbox_lease_race_has_one_winner,
        );
    };
    (@cases $setup:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let (store, cleanup) = $setup().await;
                $crate::contract::run_case(store, cleanup, $crate::contract::mailbox::$case).await;
            }
        )+
    };
}

/// Settings as an admin would save them, with sealed-looking passwords.
pub fn settings(enabled: bool, at: OffsetDateTime) -> MailboxSettings {
    MailboxSettings {
        enabled,
        imap: ImapSettings {
            host: MailHost::parse("imap.example.com").unwrap(),
            port: 993,
            security: MailSecurity::Tls,
            username: "support@example.com".into(),
            password_sealed: Some("v1.sealed-imap".into()),
            folder: MailFolder::parse("Support/Inbox").unwrap(),
        },
        smtp: SmtpSettings {
            host: MailHost::parse("smtp.example.com").unwrap(),
            port: 587,
            security: MailSecurity::Starttls,
            username: None,
            password_sealed: None,
        },
        from_address: Email::parse("support@example.com").unwrap(),
        from_name: "Example Support".into(),
        updated_at: at,
    }
}

pub async fn mailbox_settings_round_trip_in_scope_only<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let b = signup(&*store, "Beta Studio", "owner@beta.test").await;
    assert_eq!(store.get_mailbox(&a.scope).await.unwrap(), None);
    assert!(store.enabled_mailboxes().await.unwrap().is_empty());

    let saved = settings(true, now_ms());
    store.put_mailbox(&a.scope, &saved, false).await.unwrap();
    assert_eq!(store.get_mailbox(&a.scope).await.unwrap(), Some(saved.clone()));
    assert_eq!(store.mailbox_settings(a.tenant.id).await.unwrap(), Some(saved.clone()));
    // Another workspace sees nothing, and its own save does not touch the first.
    assert_eq!(store.get_mailbox(&b.scope).await.unwrap(), None);
    let mut other = settings(false, now_ms());
    other.from_name = "Beta".into();
    other.imap.password_sealed = None;
    store.put_mailbox(&b.scope, &other, false).await.unwrap();
    assert_eq!(store.get_mailbox(&a.scope).await.unwrap(), Some(saved.clone()));
    assert_eq!(store.get_mailbox(&b.scope).await.unwrap(), Some(other));
    // Only enabled mailboxes are polled.
    assert_eq!(store.enabled_mailboxes().await.unwrap(), vec![a.tenant.id]);

    // Saving again replaces every setting, including a password removed.
    let mut changed = settings(false, now_ms() + Duration::seconds(5));
    changed.imap.password_sealed = None;
    changed.smtp.username = Some("mailer".into());
    changed.smtp.password_sealed = Some("v1.sealed-smtp".into());
    store.put_mailbox(&a.scope, &changed, false).await.unwrap();
    assert_eq!(store.get_mailbox(&a.scope).await.unwrap(), Some(changed));
    assert!(store.enabled_mailboxes().await.unwrap().is_empty());
    // A scope of an unknown tenant sees nothing.
    let stranger = TenantScope::new(TenantId::new(), UserId::new(), Role::Admin);
    assert_eq!(store.get_mailbox(&stranger).await.unwrap(), None);
}

pub async fn mailbox_cursor_only_moves_forward_under_one_uid_validity<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let t = a.tenant.id;
    let cursor = |uid_validity, last_uid| MailboxCursor { uid_validity, last_uid };
    // No mailbox: nothing to move.
    assert!(matches!(store.set_imap_cursor(t, cursor(1, 1)).await, Err(RepoError::NotFound)));
    store.put_mailbox(&a.scope, &settings(true, now_ms()), false).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), None);

    store.set_imap_cursor(t, cursor(5, 10)).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), Some(cursor(5, 10)));
    store.set_imap_cursor(t, cursor(5, 7)).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), Some(cursor(5, 10)), "never backwards");
    store.set_imap_cursor(t, cursor(5, 12)).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), Some(cursor(5, 12)));
    // A renumbered folder starts again, lower UIDs included.
    store.set_imap_cursor(t, cursor(6, 2)).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), Some(cursor(6, 2)));

    // Saving settings keeps the cursor, unless told to forget it (another server or folder).
    store.put_mailbox(&a.scope, &settings(true, now_ms()), false).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), Some(cursor(6, 2)));
    store.put_mailbox(&a.scope, &settings(true, now_ms()), true).await.unwrap();
    assert_eq!(store.imap_cursor(t).await.unwrap(), None);
}

pub async fn mailbox_status_records_failures_and_success<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let b = signup(&*store, "Beta Studio", "owner@beta.test").await;
    let t = a.tenant.id;
    let t0 = now_ms();
    assert_eq!(store.mailbox_status(t).await.unwrap(), Default::default());
    assert!(matches!(store.record_fetch_success(t, t0).await, Err(RepoError::NotFound)));
    store.put_mailbox(&a.scope, &settings(true, t0), false).await.unwrap();

    store
        .record_fetch_failure(t, t0, "IMAP: auth failed", t0 + Duration::seconds(30))
        .await
        .unwrap();
    store
        .record_fetch_failure(
            t,
            t0 + Duration::seconds(30),
            "IMAP: still failing",
            t0 + Duration::seconds(90),
        )
        .await
        .unwrap();
    let s = store.get_mailbox_status(&a.scope).await.unwrap();
    assert_eq!(s.last_error.as_deref(), Some("IMAP: still failing"));
    assert_eq!(s.last_error_at, Some(t0 + Duration::seconds(30)));
    assert_eq!(s.next_retry_at, Some(t0 + Duration::seconds(90)));
    assert_eq!(s.consecutive_failures, 2);
    assert_eq!(s.last_fetch_at, None);
    // The other workspace's status is untouched.
    assert_eq!(store.get_mailbox_status(&b.scope).await.unwrap(), Default::default());

    store.record_fetch_success(t, t0 + Duration::seconds(95)).await.unwrap();
    let s = store.mailbox_status(t).await.unwrap();
    assert_eq!(s.last_fetch_at, Some(t0 + Duration::seconds(95)));
    assert_eq!((s.consecutive_failures, s.next_retry_at), (0, None));
    assert_eq!(
        s.last_error.as_deref(),
        Some("IMAP: still failing"),
        "the last error stays visible"
    );

    // New settings are tried at once: a save clears the back-off.
    store.record_fetch_failure(t, t0, "x", t0 + Duration::minutes(15)).await.unwrap();
    store.put_mailbox(&a.scope, &settings(true, t0), false).await.unwrap();
    let s = store.mailbox_status(t).await.unwrap();
    assert_eq!((s.consecutive_failures, s.next_retry_at), (0, None));
}

pub async fn mailbox_lease_has_one_holder_and_expires<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let t = a.tenant.id;
    let t0 = now_ms();
    let ttl = Duration::seconds(60);
    assert!(!store.try_lease(t, "one", t0, ttl).await.unwrap(), "no mailbox, no lease");
    store.put_mailbox(&a.scope, &settings(true, t0), false).await.unwrap();

    assert!(store.try_lease(t, "one", t0, ttl).await.unwrap());
    assert!(!store.try_lease(t, "two", t0 + Duration::seconds(10), ttl).await.unwrap());
    // The holder extends it.
    assert!(store.try_lease(t, "one", t0 + Duration::seconds(30), ttl).await.unwrap());
    assert!(!store.try_lease(t, "two", t0 + Duration::seconds(70), ttl).await.unwrap());
    // Only the holder releases it.
    store.release_lease(t, "two").await.unwrap();
    assert!(!store.try_lease(t, "two", t0 + Duration::seconds(80), ttl).await.unwrap());
    store.release_lease(t, "one").await.unwrap();
    assert!(store.try_lease(t, "two", t0 + Duration::seconds(80), ttl).await.unwrap());
    // An expired lease (a crashed holder) is taken over.
    assert!(!store.try_lease(t, "one", t0 + Duration::seconds(139), ttl).await.unwrap());
    assert!(store.try_lease(t, "one", t0 + Duration::seconds(140), ttl).await.unwrap());
    // Saving settings does not drop the lease.
    store.put_mailbox(&a.scope, &settings(true, t0), false).await.unwrap();
    assert!(!store.try_lease(t, "two", t0 + Duration::seconds(150), ttl).await.unwrap());
}

pub async fn mailbox_lease_race_has_one_winner<S: Store>(store: Arc<S>) {
    let a = signup(&*store, "Acme Agency", "owner@acme.test").await;
    let t = a.tenant.id;
    store.put_mailbox(&a.scope, &settings(true, now_ms()), false).await.unwrap();
    for round in 0..5_i64 {
        let now = now_ms() + Duration::minutes(10 * round);
        let mut tasks = Vec::new();
        for k in 0..12 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let holder = format!("poller-{round}-{k}");
                (
                    holder.clone(),
                    store.try_lease(t, &holder, now, Duration::minutes(5)).await.unwrap(),
                )
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (holder, won) = task.await.unwrap();
            if won {
                winners.push(holder);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
    }
}
