//! The indexes of the MongoDB store, created idempotently at start-up.

use bson::{Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::filters::active_statuses;

/// One index: collection, name, keys, and whether it is unique (and partial).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    /// Collection name.
    pub collection: &'static str,
    /// Index name (stable, so re-creating it is a no-op).
    pub name: &'static str,
    /// Key pattern.
    pub keys: Document,
    /// Unique index.
    pub unique: bool,
    /// Partial filter expression, for partial indexes.
    pub partial: Option<Document>,
}

fn spec(collection: &'static str, name: &'static str, keys: Document) -> IndexSpec {
    IndexSpec { collection, name, keys, unique: false, partial: None }
}

fn unique(collection: &'static str, name: &'static str, keys: Document) -> IndexSpec {
    IndexSpec { unique: true, ..spec(collection, name, keys) }
}

/// Every index the store's queries use. The ticket indexes end in `_id` so that a page sorted
/// by `(created_at desc, _id desc)` is read straight from the index without a blocking sort.
#[must_use]
pub fn index_specs() -> Vec<IndexSpec> {
    vec![
        unique("tenants", "slug_unique", doc! { "slug": 1 }),
        unique("users", "tenant_email_unique", doc! { "tenant_id": 1, "email": 1 }),
        // Sign-in looks an email up across tenants before any scope exists.
        spec("users", "email", doc! { "email": 1 }),
        spec("users", "tenant_created", doc! { "tenant_id": 1, "created_at": 1, "_id": 1 }),
        // Ending all of one user's sessions; pruning expired ones.
        spec("auth_sessions", "tenant_user", doc! { "tenant_id": 1, "user_id": 1 }),
        spec("auth_sessions", "expires", doc! { "expires_ns": 1 }),
        // The audit log page (newest first, read backwards) and its time range; by actor.
        spec("audit_events", "tenant_at", doc! { "tenant_id": 1, "at": 1, "at_ns": 1, "_id": 1 }),
        spec(
            "audit_events",
            "tenant_actor_at",
            doc! { "tenant_id": 1, "actor_id": 1, "at": 1, "at_ns": 1, "_id": 1 },
        ),
        // The IMAP poller's list of enabled mailboxes.
        spec("mailboxes", "enabled", doc! { "enabled": 1 }),
        // Removing ended throttle buckets.
        spec("throttle_buckets", "expires", doc! { "expires_at": 1 }),
        unique("tickets", "tenant_number_unique", doc! { "tenant_id": 1, "number": 1 }),
        spec("tickets", "tenant_created", doc! { "tenant_id": 1, "created_at": 1, "_id": 1 }),
        spec(
            "tickets",
            "tenant_status_created",
            doc! { "tenant_id": 1, "status": 1, "created_at": 1, "_id": 1 },
        ),
        spec(
            "tickets",
            "tenant_assignee_created",
            doc! { "tenant_id": 1, "assignee_id": 1, "created_at": 1, "_id": 1 },
        ),
        // Sort by priority (urgent first, then oldest) and by last activity.
        spec(
            "tickets",
            "tenant_priority_rank_created",
            doc! { "tenant_id": 1, "priority_rank": -1, "created_at": 1, "_id": 1 },
        ),
        spec("tickets", "tenant_updated", doc! { "tenant_id": 1, "updated_at": 1, "_id": 1 }),
        // The exact counts of the sidebar views.
        spec(
            "tickets",
            "tenant_status_assignee",
            doc! { "tenant_id": 1, "status": 1, "assignee_id": 1 },
        ),
        spec(
            "tickets",
            "tenant_status_priority",
            doc! { "tenant_id": 1, "status": 1, "priority": 1 },
        ),
        spec(
            "tickets",
            "tenant_keywords_created",
            doc! { "tenant_id": 1, "keywords": 1, "created_at": 1 },
        ),
        spec(
            "ticket_replies",
            "tenant_ticket_created",
            doc! { "tenant_id": 1, "ticket_id": 1, "created_at": 1, "_id": 1 },
        ),
        spec(
            "workflow_runs",
            "tenant_ticket_started",
            doc! { "tenant_id": 1, "ticket_id": 1, "started_at": 1 },
        ),
        spec("workflow_runs", "queue", doc! { "status": 1, "started_at": 1 }),
        IndexSpec {
            partial: Some(doc! { "status": { "$in": active_statuses() } }),
            ..unique("workflow_runs", "active_run_unique", doc! { "tenant_id": 1, "ticket_id": 1 })
        },
        // Inbound email: one message per Message-ID and workspace (duplicates are no-ops); a
        // ticket's thread and attachments; the inbound endpoint's token lookup.
        unique("mail_messages", "tenant_message_unique", doc! { "tenant_id": 1, "message_id": 1 }),
        spec(
            "mail_messages",
            "tenant_ticket_received",
            doc! { "tenant_id": 1, "ticket_id": 1, "received_at": 1, "received_at_ns": 1 },
        ),
        spec(
            "mail_attachments",
            "tenant_ticket_created",
            doc! { "tenant_id": 1, "ticket_id": 1, "created_at": 1, "_id": 1 },
        ),
        unique("inbound_tokens", "token_hash_unique", doc! { "token_hash": 1 }),
        // The outbox workers' claim (due queued rows; sending rows with an expired lease) and a
        // ticket's deliveries.
        spec(
            "email_outbox",
            "due",
            doc! { "state": 1, "next_attempt_at": 1, "next_attempt_at_ns": 1, "_id": 1 },
        ),
        spec("email_outbox", "lease", doc! { "state": 1, "lease_until": 1 }),
        spec("email_outbox", "tenant_ticket", doc! { "tenant_id": 1, "ticket_id": 1 }),
        // Webhooks: a workspace's endpoints; the workers' claim of due messages; an endpoint's
        // delivery log, newest first, optionally by status.
        spec(
            "webhook_endpoints",
            "tenant_created",
            doc! { "tenant_id": 1, "created_at": 1, "created_at_ns": 1, "_id": 1 },
        ),
        spec(
            "webhook_deliveries",
            "due",
            doc! { "status": 1, "next_attempt_at": 1, "next_attempt_at_ns": 1, "_id": 1 },
        ),
        spec(
            "webhook_deliveries",
            "endpoint_created",
            doc! { "tenant_id": 1, "endpoint_id": 1, "created_at": 1, "created_at_ns": 1, "_id": 1 },
        ),
        spec(
            "webhook_deliveries",
            "endpoint_status_created",
            doc! { "tenant_id": 1, "endpoint_id": 1, "status": 1, "created_at": 1, "created_at_ns": 1 },
        ),
        spec(
            "workflow_steps",
            "tenant_run_created",
            doc! { "tenant_id": 1, "workflow_run_id": 1, "created_at": 1 },
        ),
    ]
}

/// Creates every index (a no-op for those that already exist with the same definition).
///
/// # Errors
/// The driver's error, e.g. when an index of the same name exists with another definition.
pub async fn create_all(db: &Database) -> mongodb::error::Result<()> {
    let specs = index_specs();
    let mut collections: Vec<&'static str> = specs.iter().map(|s| s.collection).collect();
    collections.dedup();
    for collection in collections {
        let models: Vec<IndexModel> = specs
            .iter()
            .filter(|s| s.collection == collection)
            .map(|s| {
                let options = IndexOptions::builder()
                    .name(s.name.to_owned())
                    .unique(s.unique.then_some(true))
                    .partial_filter_expression(s.partial.clone())
                    .build();
                IndexModel::builder().keys(s.keys.clone()).options(options).build()
            })
            .collect();
        db.collection::<Document>(collection).create_indexes(models).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_per_collection_and_scoped_indexes_lead_with_tenant() {
        let specs = index_specs();
        let mut seen = std::collections::HashSet::new();
        for s in &specs {
            assert!(seen.insert((s.collection, s.name)), "duplicate {}.{}", s.collection, s.name);
            let first = s.keys.keys().next().map(String::as_str);
            let global = matches!(
                (s.collection, s.name),
                ("tenants", _)
                    | ("users", "email")
                    | ("workflow_runs", "queue")
                    | ("email_outbox", "due" | "lease")
                    // The delivery workers claim due messages of every workspace.
                    | ("webhook_deliveries", "due")
                    | ("auth_sessions", "expires")
                    | ("throttle_buckets", "expires")
                    | ("inbound_tokens", "token_hash_unique")
                    // The poller's unscoped list; a mailbox's `_id` is its tenant id.
                    | ("mailboxes", "enabled")
            );
            if !global {
                assert_eq!(first, Some("tenant_id"), "{}.{}", s.collection, s.name);
            }
        }
        assert!(
            specs.iter().any(|s| s.name == "active_run_unique" && s.unique && s.partial.is_some())
        );
    }
}
