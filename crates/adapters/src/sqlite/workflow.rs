//! Triage workflow runs, their steps, and the run queue shared by workers.

use async_trait::async_trait;
use opsflow_domain::{
    RunStatus, TenantId, TenantScope, Ticket, TicketId, WorkflowRun, WorkflowRunId, WorkflowStep,
};
use opsflow_ports::repos::{RepoError, RepoResult, RunQueue, TriageOutcome, WorkflowRepository};
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection};
use time::{Duration, OffsetDateTime};

use super::rows::{self, blob, int, nanos, opt_nanos};
use super::tickets::{insert_reply, patch_ticket, retire_ai_drafts, row_in, ticket_in};
use super::{SqliteStore, db_err};

async fn run_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: WorkflowRunId,
) -> RepoResult<WorkflowRun> {
    rows::run(&row_in(conn, "workflow_runs", rows::RUN_COLS, tenant, id.as_uuid()).await?)
}

/// Inserts a step under `tenant` and `run_id` (the struct's ids are not trusted).
async fn insert_step(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    run_id: WorkflowRunId,
    step: &WorkflowStep,
) -> RepoResult<()> {
    let input = serde_json::to_string(&step.input_snapshot).map_err(RepoError::unexpected)?;
    let output = serde_json::to_string(&step.output_snapshot).map_err(RepoError::unexpected)?;
    let flags = serde_json::to_string(&step.guardrail_flags).map_err(RepoError::unexpected)?;
    sqlx::query::<Sqlite>(
        "INSERT INTO workflow_steps (id, tenant_id, workflow_run_id, step_type, succeeded, \
         input_snapshot, output_snapshot, provider, model, prompt_version, latency_ms, \
         prompt_tokens, completion_tokens, attempts, guardrail_flags, error_message, created_at, \
         attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(blob(step.id.as_uuid()))
    .bind(blob(tenant.as_uuid()))
    .bind(blob(run_id.as_uuid()))
    .bind(step.step_type.as_str())
    .bind(i64::from(step.succeeded))
    .bind(input)
    .bind(output)
    .bind(step.provider.as_deref())
    .bind(step.model.as_deref())
    .bind(step.prompt_version.as_deref())
    .bind(int(step.latency_ms)?)
    .bind(i64::from(step.prompt_tokens))
    .bind(i64::from(step.completion_tokens))
    .bind(i64::from(step.attempts))
    .bind(flags)
    .bind(step.error_message.as_deref())
    .bind(nanos(step.created_at)?)
    .bind(i64::from(step.attempt.max(1)))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Inserts a run under `tenant` and `ticket_id` (the struct's ids are not trusted).
pub(super) async fn insert_run(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    ticket_id: TicketId,
    run: &WorkflowRun,
) -> RepoResult<()> {
    // The partial unique index makes a second active run per ticket impossible.
    sqlx::query::<Sqlite>(
        "INSERT INTO workflow_runs (id, tenant_id, ticket_id, workflow_type, status, \
         started_by_user_id, run_trigger, error_message, started_at, finished_at, attempts, \
         lease_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(blob(run.id.as_uuid()))
    .bind(blob(tenant.as_uuid()))
    .bind(blob(ticket_id.as_uuid()))
    .bind(run.workflow_type.as_str())
    .bind(run.status.as_str())
    .bind(blob(run.started_by_user_id.as_uuid()))
    .bind(run.trigger.as_str())
    .bind(run.error_message.as_deref())
    .bind(nanos(run.started_at)?)
    .bind(opt_nanos(run.finished_at)?)
    .bind(i64::from(run.attempts))
    .bind(opt_nanos(run.lease_expires_at)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl WorkflowRepository for SqliteStore {
    async fn create_run(&self, scope: &TenantScope, run: &WorkflowRun) -> RepoResult<()> {
        let tenant = scope.tenant_id();
        let mut tx = self.begin_write().await?;
        ticket_in(&mut tx, tenant, run.ticket_id).await?;
        insert_run(&mut tx, tenant, run.ticket_id, run).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_run(&self, scope: &TenantScope, id: WorkflowRunId) -> RepoResult<WorkflowRun> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        run_in(&mut conn, scope.tenant_id(), id).await
    }

    async fn list_runs(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<WorkflowRun>> {
        let found = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM workflow_runs WHERE tenant_id = ? AND ticket_id = ? \
             ORDER BY started_at DESC, id DESC",
            rows::RUN_COLS
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows::all(&found, rows::run)
    }

    async fn active_run(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Option<WorkflowRun>> {
        let found = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM workflow_runs WHERE tenant_id = ? AND ticket_id = ? \
             AND status IN ('queued', 'running')",
            rows::RUN_COLS
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        found.as_ref().map(rows::run).transpose()
    }

    async fn append_step(&self, scope: &TenantScope, step: &WorkflowStep) -> RepoResult<()> {
        let tenant = scope.tenant_id();
        let mut tx = self.begin_write().await?;
        run_in(&mut tx, tenant, step.workflow_run_id).await?;
        insert_step(&mut tx, tenant, step.workflow_run_id, step).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_steps(
        &self,
        scope: &TenantScope,
        run_id: WorkflowRunId,
    ) -> RepoResult<Vec<WorkflowStep>> {
        let found = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM workflow_steps WHERE tenant_id = ? AND workflow_run_id = ? \
             ORDER BY created_at, id",
            rows::STEP_COLS
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(run_id.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows::all(&found, rows::step)
    }

    async fn fail_run(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
        error_message: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let _write = self.write_lock().await;
        let done = sqlx::query::<Sqlite>(
            "UPDATE workflow_runs SET status = 'failed', error_message = ?, finished_at = ?, \
             lease_expires_at = NULL \
             WHERE tenant_id = ? AND id = ? AND status IN ('queued', 'running')",
        )
        .bind(error_message)
        .bind(nanos(now)?)
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(id.as_uuid()))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn complete_run(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
        outcome: &TriageOutcome,
        now: OffsetDateTime,
    ) -> RepoResult<Ticket> {
        let tenant = scope.tenant_id();
        let mut tx = self.begin_write().await?;
        // Any early return drops the transaction: nothing of the outcome is written.
        let run = run_in(&mut tx, tenant, id).await?;
        if !run.status.is_active() {
            return Err(RepoError::NotFound);
        }
        let ticket = patch_ticket(&mut tx, tenant, run.ticket_id, &outcome.patch, now).await?;
        // One AI draft per ticket: the new one replaces any unsent one.
        retire_ai_drafts(&mut tx, tenant, run.ticket_id).await?;
        insert_reply(&mut tx, tenant, run.ticket_id, &outcome.draft).await?;
        insert_step(&mut tx, tenant, id, &outcome.persist_step).await?;
        sqlx::query::<Sqlite>(
            "UPDATE workflow_runs SET status = 'succeeded', finished_at = ?, \
             lease_expires_at = NULL, error_message = NULL WHERE tenant_id = ? AND id = ?",
        )
        .bind(nanos(now)?)
        .bind(blob(tenant.as_uuid()))
        .bind(blob(id.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(ticket)
    }
}

#[async_trait]
impl RunQueue for SqliteStore {
    async fn claim_next(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<WorkflowRun>> {
        // One statement: SQLite takes the write lock before evaluating the subquery, so two
        // workers can never pick the same run.
        let _write = self.write_lock().await;
        let claimed = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "UPDATE workflow_runs SET status = ?, attempts = attempts + 1, lease_expires_at = ? \
             WHERE id = (SELECT id FROM workflow_runs \
                         WHERE status IN ('queued', 'running') \
                           AND (status = 'queued' OR lease_expires_at < ?) \
                         ORDER BY started_at, id LIMIT 1) \
             RETURNING {}",
            rows::RUN_COLS
        )))
        .bind(RunStatus::Running.as_str())
        .bind(nanos(now + lease)?)
        .bind(nanos(now)?)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        claimed.as_ref().map(rows::run).transpose()
    }
}
