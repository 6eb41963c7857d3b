-- Sorts of the ticket list. `priority_rank` (urgent 4, high 3, medium 2, low 1, unset 0; the
-- same as `Priority::rank`) is a virtual column so "most urgent first, then oldest" is read in
-- index order; `updated_at` is indexed for "last activity first". The last two indexes serve
-- the exact counts of the sidebar views (status x assignee, status x priority) from the index.
ALTER TABLE tickets ADD COLUMN priority_rank INTEGER GENERATED ALWAYS AS (
    CASE priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                  WHEN 'low' THEN 1 ELSE 0 END
) VIRTUAL;

CREATE INDEX tickets_tenant_rank_created ON tickets (tenant_id, priority_rank DESC, created_at, id);
CREATE INDEX tickets_tenant_updated ON tickets (tenant_id, updated_at, id);
CREATE INDEX tickets_tenant_status_assignee ON tickets (tenant_id, status, assignee_id);
CREATE INDEX tickets_tenant_status_priority ON tickets (tenant_id, status, priority);
