-- Attempt buckets of the login, sign-up and password throttles, shared by every server process
-- on this database. `expires_at` (Unix nanoseconds) ends the bucket's current window.
CREATE TABLE throttle_buckets (
    key        TEXT    PRIMARY KEY NOT NULL,
    count      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX throttle_buckets_expires ON throttle_buckets (expires_at);
