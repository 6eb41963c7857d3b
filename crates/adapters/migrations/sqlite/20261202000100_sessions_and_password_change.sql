-- Issue 11: temporary passwords must be changed, and every access token has a server-side
-- session (its `jti`) that logout, password change/reset, role change and deactivation delete.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

CREATE TABLE auth_sessions (
    id          BLOB    NOT NULL PRIMARY KEY,
    tenant_id   BLOB    NOT NULL REFERENCES tenants (id),
    user_id     BLOB    NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX auth_sessions_user ON auth_sessions (tenant_id, user_id);
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);
