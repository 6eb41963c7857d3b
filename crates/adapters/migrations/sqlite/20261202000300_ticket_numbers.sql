-- Ticket numbers per workspace (#1, #2, ...). `ticket_counters.last_number` is the last number
-- handed out in the tenant; a create takes the next ones in its write transaction, so
-- concurrent creates never share a number. Existing tickets are numbered by creation order.
CREATE TABLE ticket_counters (
    tenant_id   BLOB    PRIMARY KEY NOT NULL REFERENCES tenants (id),
    last_number INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE tickets ADD COLUMN number INTEGER NOT NULL DEFAULT 0;

UPDATE tickets SET number = numbered.n
FROM (
    SELECT seq, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at, seq) AS n
    FROM tickets
) AS numbered
WHERE tickets.seq = numbered.seq;

INSERT INTO ticket_counters (tenant_id, last_number)
SELECT tenant_id, MAX(number) FROM tickets GROUP BY tenant_id;

CREATE UNIQUE INDEX tickets_tenant_number ON tickets (tenant_id, number);
