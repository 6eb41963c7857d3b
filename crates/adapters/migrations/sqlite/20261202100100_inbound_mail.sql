-- Issue 10 (inbound email): the workspace's email messages, the files that came with them, and
-- the per-workspace token of the inbound endpoint.

-- Every message taken in (and, later, sent), raw, so nothing is lost and threads can be found by
-- Message-ID. The unique (tenant_id, message_id) makes a second take-in of a message a no-op.
CREATE TABLE mail_messages (
    tenant_id    BLOB    NOT NULL REFERENCES tenants (id),
    message_id   TEXT    NOT NULL,
    ticket_id    BLOB    NOT NULL REFERENCES tickets (id),
    reply_id     BLOB,
    direction    TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    subject      TEXT    NOT NULL,
    from_address TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    raw          BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, message_id)
);
-- A ticket's thread, oldest first (the outbox's References header).
CREATE INDEX mail_messages_tenant_ticket ON mail_messages (tenant_id, ticket_id, received_at);

CREATE TABLE mail_attachments (
    id           BLOB    NOT NULL PRIMARY KEY,
    tenant_id    BLOB    NOT NULL REFERENCES tenants (id),
    ticket_id    BLOB    NOT NULL REFERENCES tickets (id),
    reply_id     BLOB,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX mail_attachments_tenant_ticket ON mail_attachments (tenant_id, ticket_id, created_at, id);

-- The secret in the inbound endpoint's path: looked up by its SHA-256, and kept sealed
-- (AES-256-GCM under the server key) so admins can see it again.
CREATE TABLE inbound_tokens (
    tenant_id   BLOB    NOT NULL PRIMARY KEY REFERENCES tenants (id),
    token_hash  BLOB    NOT NULL UNIQUE,
    sealed      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
