-- Auto-triage on arrival: the workspace's mode and per-field confidence thresholds, and what
-- started each triage run. Existing workspaces read as "off" with the default thresholds, and
-- existing runs as started by a person.
ALTER TABLE tenants ADD COLUMN auto_triage_mode TEXT NOT NULL DEFAULT 'off'
    CHECK (auto_triage_mode IN ('off', 'suggest', 'apply'));
ALTER TABLE tenants ADD COLUMN auto_triage_category REAL NOT NULL DEFAULT 0.8
    CHECK (auto_triage_category BETWEEN 0 AND 1);
ALTER TABLE tenants ADD COLUMN auto_triage_priority REAL NOT NULL DEFAULT 0.8
    CHECK (auto_triage_priority BETWEEN 0 AND 1);
ALTER TABLE tenants ADD COLUMN auto_triage_assignee REAL NOT NULL DEFAULT 0.9
    CHECK (auto_triage_assignee BETWEEN 0 AND 1);
ALTER TABLE workflow_runs ADD COLUMN run_trigger TEXT NOT NULL DEFAULT 'manual'
    CHECK (run_trigger IN ('manual', 'auto_suggest', 'auto_apply'));
