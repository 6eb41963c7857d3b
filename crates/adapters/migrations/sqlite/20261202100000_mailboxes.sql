-- Issue 10: one support mailbox per workspace. Settings (passwords sealed by the secret cipher,
-- never in clear), the IMAP poller's cursor (UIDVALIDITY + last UID taken in), its live status
-- and its lease (one poller per mailbox across server processes). Times are Unix nanoseconds.
CREATE TABLE mailboxes (
    tenant_id            BLOB    NOT NULL PRIMARY KEY REFERENCES tenants (id),
    enabled              INTEGER NOT NULL DEFAULT 0,
    imap_host            TEXT    NOT NULL,
    imap_port            INTEGER NOT NULL,
    imap_security        TEXT    NOT NULL,
    imap_username        TEXT    NOT NULL,
    imap_password        TEXT,
    imap_folder          TEXT    NOT NULL,
    smtp_host            TEXT    NOT NULL,
    smtp_port            INTEGER NOT NULL,
    smtp_security        TEXT    NOT NULL,
    smtp_username        TEXT,
    smtp_password        TEXT,
    from_address         TEXT    NOT NULL,
    from_name            TEXT    NOT NULL,
    updated_at           INTEGER NOT NULL,
    uid_validity         INTEGER,
    last_uid             INTEGER,
    last_fetch_at        INTEGER,
    last_error           TEXT,
    last_error_at        INTEGER,
    next_retry_at        INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    lease_holder         TEXT,
    lease_until          INTEGER
);
-- The poller's list of mailboxes to read.
CREATE INDEX mailboxes_enabled ON mailboxes (enabled) WHERE enabled = 1;
