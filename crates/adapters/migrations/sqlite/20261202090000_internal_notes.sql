-- Internal notes (author_type 'note'): the CHECK constraint of ticket_replies gains the value.
-- SQLite cannot change a CHECK in place, so the table is rebuilt with the same columns and
-- index (no table references ticket_replies yet at this point of the migration history).
CREATE TABLE ticket_replies_new (
    id           BLOB    NOT NULL PRIMARY KEY,
    tenant_id    BLOB    NOT NULL REFERENCES tenants (id),
    ticket_id    BLOB    NOT NULL REFERENCES tickets (id),
    author_type  TEXT    NOT NULL CHECK (author_type IN ('human', 'ai', 'customer', 'note')),
    author_id    BLOB,
    body         TEXT    NOT NULL,
    sent_at      INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
INSERT INTO ticket_replies_new (id, tenant_id, ticket_id, author_type, author_id, body, sent_at,
                                created_at, updated_at)
SELECT id, tenant_id, ticket_id, author_type, author_id, body, sent_at, created_at, updated_at
FROM ticket_replies;
DROP TABLE ticket_replies;
ALTER TABLE ticket_replies_new RENAME TO ticket_replies;
CREATE INDEX ticket_replies_tenant_ticket_created ON ticket_replies (tenant_id, ticket_id, created_at, id);
