-- The durable email outbox: one row per emailed reply (keyed by the reply's id), written in the
-- reply's transaction and worked by the outbox workers (claim under a lease, then sent, retried
-- with backoff, or failed).
CREATE TABLE email_outbox (
    reply_id         BLOB    NOT NULL PRIMARY KEY REFERENCES ticket_replies (id),
    tenant_id        BLOB    NOT NULL REFERENCES tenants (id),
    ticket_id        BLOB    NOT NULL REFERENCES tickets (id),
    from_name        TEXT,
    from_email       TEXT    NOT NULL,
    to_name          TEXT,
    to_email         TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    message_id       TEXT    NOT NULL,
    in_reply_to      TEXT,
    -- JSON array of Message-IDs, oldest first.
    refs             TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    lease_until      INTEGER,
    sent_at          INTEGER,
    created_at       INTEGER NOT NULL
);
-- The workers' claim: due queued rows, and sending rows with an expired lease.
CREATE INDEX email_outbox_due ON email_outbox (state, next_attempt_at);
CREATE INDEX email_outbox_lease ON email_outbox (state, lease_until);
-- A ticket's deliveries (thread view).
CREATE INDEX email_outbox_tenant_ticket ON email_outbox (tenant_id, ticket_id);
