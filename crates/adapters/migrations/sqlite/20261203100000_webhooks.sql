-- Signed webhooks: a workspace's endpoints (with their signing secret sealed by the secret
-- cipher) and the durable queue of messages to them (claimed by workers under a lease, retried
-- with backoff, kept as the delivery log).
CREATE TABLE webhook_endpoints (
    id                    BLOB    NOT NULL PRIMARY KEY,
    tenant_id             BLOB    NOT NULL REFERENCES tenants (id),
    url                   TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    -- JSON array of event types.
    events                TEXT    NOT NULL,
    enabled               INTEGER NOT NULL,
    disabled_reason       TEXT,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    secret_sealed         TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, created_at);

CREATE TABLE webhook_deliveries (
    id                BLOB    NOT NULL PRIMARY KEY,
    tenant_id         BLOB    NOT NULL REFERENCES tenants (id),
    endpoint_id       BLOB    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type        TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('queued', 'retrying', 'succeeded', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    lease_until       INTEGER,
    last_status       INTEGER,
    last_error        TEXT,
    response_excerpt  TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
-- The workers' claim: pending rows by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
-- An endpoint's delivery log, newest first (optionally by status).
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at);
CREATE INDEX webhook_deliveries_endpoint_status
    ON webhook_deliveries (tenant_id, endpoint_id, status, created_at);
