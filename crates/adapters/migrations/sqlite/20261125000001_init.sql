-- OpsFlow schema for SQLite.
-- Ids are 16-byte UUID blobs (UUIDv7, so byte order is creation order); timestamps are INTEGER
-- Unix nanoseconds in UTC, so values round-trip exactly and compare as numbers.

CREATE TABLE tenants (
    id          BLOB    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL,
    policies    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT tenants_slug_unique UNIQUE (slug)
);

CREATE TABLE users (
    id             BLOB    NOT NULL PRIMARY KEY,
    tenant_id      BLOB    NOT NULL REFERENCES tenants (id),
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('admin', 'agent')),
    active         INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT users_tenant_email_unique UNIQUE (tenant_id, email)
);
-- Sign-in looks an email up across tenants.
CREATE INDEX users_email ON users (email);
CREATE INDEX users_tenant_created ON users (tenant_id, created_at, id);

-- `seq` is a stable integer key (an alias of the rowid, kept by VACUUM) used by the keyword
-- index, which is much smaller with an integer than with a 16-byte id.
CREATE TABLE tickets (
    seq             INTEGER PRIMARY KEY,
    id              BLOB    NOT NULL UNIQUE,
    tenant_id       BLOB    NOT NULL REFERENCES tenants (id),
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    priority        TEXT,
    category        TEXT,
    customer_name   TEXT    NOT NULL,
    customer_email  TEXT    NOT NULL,
    assignee_id     BLOB,
    created_by_id   BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Every list is newest first (created_at DESC, id DESC) within one tenant; each filter has an
-- index that yields rows already in that order, so a page never sorts or scans the tenant.
CREATE INDEX tickets_tenant_created ON tickets (tenant_id, created_at, id);
CREATE INDEX tickets_tenant_status_created ON tickets (tenant_id, status, created_at, id);
CREATE INDEX tickets_tenant_assignee_created ON tickets (tenant_id, assignee_id, created_at, id);
CREATE INDEX tickets_tenant_priority_created ON tickets (tenant_id, priority, created_at, id);
CREATE INDEX tickets_tenant_category_created ON tickets (tenant_id, category, created_at, id);

-- Search: each ticket's distinct keywords (see opsflow_domain::search); a word matches by
-- prefix with a range scan on (tenant_id, keyword).
CREATE TABLE ticket_keywords (
    tenant_id   BLOB    NOT NULL,
    keyword     TEXT    NOT NULL,
    ticket_seq  INTEGER NOT NULL REFERENCES tickets (seq),
    PRIMARY KEY (tenant_id, keyword, ticket_seq)
) WITHOUT ROWID;

CREATE TABLE ticket_replies (
    id           BLOB    NOT NULL PRIMARY KEY,
    tenant_id    BLOB    NOT NULL REFERENCES tenants (id),
    ticket_id    BLOB    NOT NULL REFERENCES tickets (id),
    author_type  TEXT    NOT NULL CHECK (author_type IN ('human', 'ai', 'customer')),
    author_id    BLOB,
    body         TEXT    NOT NULL,
    sent_at      INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX ticket_replies_tenant_ticket_created ON ticket_replies (tenant_id, ticket_id, created_at, id);

CREATE TABLE workflow_runs (
    id                  BLOB    NOT NULL PRIMARY KEY,
    tenant_id           BLOB    NOT NULL REFERENCES tenants (id),
    ticket_id           BLOB    NOT NULL REFERENCES tickets (id),
    workflow_type       TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    started_by_user_id  BLOB    NOT NULL,
    error_message       TEXT,
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    attempts            INTEGER NOT NULL DEFAULT 0,
    lease_expires_at    INTEGER
);
CREATE INDEX workflow_runs_tenant_ticket_started ON workflow_runs (tenant_id, ticket_id, started_at, id);
-- At most one queued or running run per ticket, enforced by the database.
CREATE UNIQUE INDEX workflow_runs_one_active_per_ticket ON workflow_runs (ticket_id)
    WHERE status IN ('queued', 'running');
-- The queue claim walks only active runs, oldest first.
CREATE INDEX workflow_runs_queue_status_started ON workflow_runs (status, started_at, id)
    WHERE status IN ('queued', 'running');

CREATE TABLE workflow_steps (
    id                 BLOB    NOT NULL PRIMARY KEY,
    tenant_id          BLOB    NOT NULL REFERENCES tenants (id),
    workflow_run_id    BLOB    NOT NULL REFERENCES workflow_runs (id),
    step_type          TEXT    NOT NULL,
    succeeded          INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
    input_snapshot     TEXT    NOT NULL,
    output_snapshot    TEXT    NOT NULL,
    provider           TEXT,
    model              TEXT,
    prompt_version     TEXT,
    latency_ms         INTEGER NOT NULL,
    prompt_tokens      INTEGER NOT NULL,
    completion_tokens  INTEGER NOT NULL,
    attempts           INTEGER NOT NULL,
    guardrail_flags    TEXT    NOT NULL DEFAULT '[]',
    error_message      TEXT,
    created_at         INTEGER NOT NULL
);
CREATE INDEX workflow_steps_tenant_run_created ON workflow_steps (tenant_id, workflow_run_id, created_at, id);
