-- Issue 11: the workspace audit log. Append-only: events are inserted and read, never changed
-- (the trigger refuses updates). `at` is Unix nanoseconds; `detail` a JSON object of short
-- strings. Emails are copies taken at the time of the event, so the log reads right after a
-- user changes.
CREATE TABLE audit_events (
    id             BLOB    NOT NULL PRIMARY KEY,
    tenant_id      BLOB    NOT NULL REFERENCES tenants (id),
    at             INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    actor_id       BLOB,
    actor_email    TEXT,
    target_user_id BLOB,
    target_email   TEXT,
    ip             TEXT,
    detail         TEXT    NOT NULL DEFAULT '{}'
);
-- The log page (newest first) and its time range; the id breaks ties in the same nanosecond.
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at, id);
-- "What did this person do": the actor filter.
CREATE INDEX audit_events_tenant_actor_at ON audit_events (tenant_id, actor_id, at, id);

CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
