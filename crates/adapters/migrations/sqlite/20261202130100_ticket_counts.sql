-- Per-workspace ticket counters: how many of a tenant's tickets have each combination of
-- status, priority and assignee. Every view of the ticket list (My open, Unassigned, Urgent &
-- high, All open, Replied, Closed) filters on those three columns only, so its exact count is
-- a sum over a few counter rows instead of a COUNT over the tenant's tickets.
--
-- Triggers keep the counters in the transaction of every write to `tickets` (create, create
-- many, edit, bulk edit, a reply that sets the status, an inbound email that reopens, triage),
-- whichever code path makes it, so they cannot drift from the table. An unset priority is ''
-- and no assignee is x'' (primary key columns of a WITHOUT ROWID table cannot be NULL).
CREATE TABLE ticket_counts (
    tenant_id   BLOB    NOT NULL,
    status      TEXT    NOT NULL,
    priority    TEXT    NOT NULL,
    assignee_id BLOB    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, status, priority, assignee_id)
) WITHOUT ROWID;

INSERT INTO ticket_counts (tenant_id, status, priority, assignee_id, n)
SELECT tenant_id, status, COALESCE(priority, ''), COALESCE(assignee_id, x''), COUNT(*)
FROM tickets
GROUP BY tenant_id, status, COALESCE(priority, ''), COALESCE(assignee_id, x'');

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_counts (tenant_id, status, priority, assignee_id, n)
    VALUES (NEW.tenant_id, NEW.status, COALESCE(NEW.priority, ''), COALESCE(NEW.assignee_id, x''), 1)
    ON CONFLICT (tenant_id, status, priority, assignee_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_update AFTER UPDATE OF tenant_id, status, priority, assignee_id ON tickets
WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.status IS NOT NEW.status
  OR OLD.priority IS NOT NEW.priority OR OLD.assignee_id IS NOT NEW.assignee_id
BEGIN
    UPDATE ticket_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND status = OLD.status
      AND priority = COALESCE(OLD.priority, '') AND assignee_id = COALESCE(OLD.assignee_id, x'');
    INSERT INTO ticket_counts (tenant_id, status, priority, assignee_id, n)
    VALUES (NEW.tenant_id, NEW.status, COALESCE(NEW.priority, ''), COALESCE(NEW.assignee_id, x''), 1)
    ON CONFLICT (tenant_id, status, priority, assignee_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND status = OLD.status
      AND priority = COALESCE(OLD.priority, '') AND assignee_id = COALESCE(OLD.assignee_id, x'');
END;
