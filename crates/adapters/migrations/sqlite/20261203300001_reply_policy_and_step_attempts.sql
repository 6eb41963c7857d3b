-- Structured reply policies per workspace (sign-off, support hours, status page, languages,
-- forbidden commitments) as one JSON document in the domain type's serde shape; existing
-- workspaces read as the empty policy. And the run attempt each workflow step belongs to, so a
-- run resumed after a crash tells its attempts apart; existing steps belong to attempt 1.
ALTER TABLE tenants ADD COLUMN reply_policy TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(reply_policy));
ALTER TABLE workflow_steps ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1);
