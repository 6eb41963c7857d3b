//! Workflow runs, steps and the shared run queue on MongoDB.

use async_trait::async_trait;
use bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use opsflow_domain::{
    RunStatus, TenantScope, Ticket, TicketId, WorkflowRun, WorkflowRunId, WorkflowStep,
};
use opsflow_ports::repos::{
    Conflict, RepoError, RepoResult, RunQueue, TriageOutcome, WorkflowRepository,
};
use time::{Duration, OffsetDateTime};

use super::codec::{
    ns_field, put_opt_time, reply_doc, run_doc, run_from, set_time, step_doc, step_from,
    ticket_from, ticket_patch_set, ticket_restore_set,
};
use super::filters as f;
use super::repos::undo;
use super::{Fail, MongoStore, collect, conflict_on, corrupt, driver, in_transaction};

fn not_found() -> Fail {
    Fail::Repo(RepoError::NotFound)
}

fn finish_set(status: RunStatus, error: Option<&str>, now: OffsetDateTime) -> Document {
    let mut set = doc! { "status": status.as_str() };
    if let Some(message) = error {
        set.insert("error_message", message);
    }
    set.extend(set_time("finished_at", now));
    // A finished run holds no lease.
    set.insert("lease_expires_at", Bson::Null);
    set.insert(ns_field("lease_expires_at"), Bson::Null);
    doc! { "$set": set }
}

fn check_outcome(scope: &TenantScope, outcome: &TriageOutcome) -> RepoResult<()> {
    let tenant = scope.tenant_id();
    if outcome.draft.tenant_id != tenant || outcome.persist_step.tenant_id != tenant {
        return Err(RepoError::NotFound);
    }
    Ok(())
}

/// Checked once the run is found (an unknown run is `NotFound` first): the draft and the step
/// must belong to this run and its ticket.
fn check_belongs(outcome: &TriageOutcome, run: &WorkflowRun) -> Result<(), Fail> {
    if outcome.persist_step.workflow_run_id != run.id {
        return Err(Fail::Repo(RepoError::unexpected("the persist step belongs to another run")));
    }
    if outcome.draft.ticket_id != run.ticket_id {
        return Err(Fail::Repo(RepoError::unexpected(
            "the draft reply is for another ticket than the run",
        )));
    }
    Ok(())
}

#[async_trait]
impl WorkflowRepository for MongoStore {
    async fn create_run(&self, scope: &TenantScope, run: &WorkflowRun) -> RepoResult<()> {
        if run.tenant_id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let ticket = self
            .tickets
            .find_one(f::ticket_by_id(scope, run.ticket_id))
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        if ticket.is_none() {
            return Err(RepoError::NotFound);
        }
        // The partial unique index `active_run_unique` makes the check atomic.
        self.runs
            .insert_one(run_doc(run))
            .await
            .map_err(|e| RepoError::from(conflict_on(Conflict::ActiveRun)(e)))?;
        Ok(())
    }

    async fn get_run(&self, scope: &TenantScope, id: WorkflowRunId) -> RepoResult<WorkflowRun> {
        let d = self.runs.find_one(f::run_by_id(scope, id)).await.map_err(driver)?;
        run_from(&d.ok_or(RepoError::NotFound)?).map_err(corrupt)
    }

    async fn list_runs(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Vec<WorkflowRun>> {
        let cursor = self
            .runs
            .find(f::runs_of_ticket(scope, ticket_id))
            .sort(f::newest_run_first())
            .await
            .map_err(driver)?;
        collect(cursor, run_from).await
    }

    async fn active_run(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> RepoResult<Option<WorkflowRun>> {
        let d =
            self.runs.find_one(f::active_run_of_ticket(scope, ticket_id)).await.map_err(driver)?;
        d.map(|d| run_from(&d).map_err(corrupt)).transpose()
    }

    async fn append_step(&self, scope: &TenantScope, step: &WorkflowStep) -> RepoResult<()> {
        if step.tenant_id != scope.tenant_id() {
            return Err(RepoError::NotFound);
        }
        let run = self
            .runs
            .find_one(f::run_by_id(scope, step.workflow_run_id))
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        if run.is_none() {
            return Err(RepoError::NotFound);
        }
        self.steps.insert_one(step_doc(step)).await.map_err(driver)?;
        Ok(())
    }

    async fn list_steps(
        &self,
        scope: &TenantScope,
        run_id: WorkflowRunId,
    ) -> RepoResult<Vec<WorkflowStep>> {
        let cursor = self
            .steps
            .find(f::steps_of_run(scope, run_id))
            .sort(f::oldest_first())
            .await
            .map_err(driver)?;
        collect(cursor, step_from).await
    }

    async fn fail_run(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
        error_message: &str,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let r = self
            .runs
            .update_one(
                f::active_run_by_id(scope, id),
                finish_set(RunStatus::Failed, Some(error_message), now),
            )
            .await
            .map_err(driver)?;
        // Only an active run can fail; a finished or missing one is NotFound.
        if r.matched_count > 0 { Ok(()) } else { Err(RepoError::NotFound) }
    }

    async fn complete_run(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
        outcome: &TriageOutcome,
        now: OffsetDateTime,
    ) -> RepoResult<Ticket> {
        check_outcome(scope, outcome)?;
        let succeed = &finish_set(RunStatus::Succeeded, None, now);
        let patch = &doc! { "$set": ticket_patch_set(&outcome.patch, now) };
        let draft = &reply_doc(&outcome.draft);
        let step = &step_doc(&outcome.persist_step);
        if self.transactions {
            return in_transaction!(self, |s| async move {
                let run = self
                    .runs
                    .find_one_and_update(f::active_run_by_id(scope, id), succeed.clone())
                    .session(&mut *s)
                    .await?
                    .ok_or_else(not_found)?;
                let run = run_from(&run)?;
                check_belongs(outcome, &run)?;
                let ticket = self
                    .tickets
                    .find_one_and_update(f::ticket_by_id(scope, run.ticket_id), patch.clone())
                    .return_document(ReturnDocument::After)
                    .session(&mut *s)
                    .await?
                    .ok_or_else(not_found)?;
                // One AI draft per ticket: the new one replaces any unsent one.
                self.replies
                    .delete_many(f::ai_drafts_of_ticket(scope, run.ticket_id))
                    .session(&mut *s)
                    .await?;
                self.replies.insert_one(draft).session(&mut *s).await?;
                self.steps.insert_one(step).session(&mut *s).await?;
                Ok(ticket_from(&ticket)?)
            });
        }
        // Standalone: claim the completion on the run first (so two completions cannot both
        // write), then the ticket, the draft and the step; a failure undoes the earlier writes
        // in reverse order.
        let before = self
            .runs
            .find_one_and_update(f::active_run_by_id(scope, id), succeed.clone())
            .return_document(ReturnDocument::Before)
            .await
            .map_err(driver)?
            .ok_or(RepoError::NotFound)?;
        let run = run_from(&before).map_err(corrupt)?;
        let restore_run = || {
            let mut set = doc! { "status": run.status.as_str() };
            put_opt_time(&mut set, "finished_at", run.finished_at);
            put_opt_time(&mut set, "lease_expires_at", run.lease_expires_at);
            self.runs
                .update_one(f::run_in_status(scope, id, RunStatus::Succeeded), doc! { "$set": set })
        };
        if let Err(fail) = check_belongs(outcome, &run) {
            undo("run status", restore_run()).await;
            return Err(fail.into());
        }
        let old = match self
            .tickets
            .find_one_and_update(f::ticket_by_id(scope, run.ticket_id), patch.clone())
            .return_document(ReturnDocument::Before)
            .await
        {
            Ok(Some(d)) => d,
            Ok(None) => {
                undo("run status", restore_run()).await;
                return Err(RepoError::NotFound);
            }
            Err(e) => {
                undo("run status", restore_run()).await;
                return Err(driver(e));
            }
        };
        let old = ticket_from(&old).map_err(corrupt)?;
        let restore_ticket = || {
            self.tickets.update_one(
                f::ticket_by_id(scope, old.id),
                doc! { "$set": ticket_restore_set(&old) },
            )
        };
        if let Err(e) = self.replies.insert_one(draft).await {
            undo("ticket triage fields", restore_ticket()).await;
            undo("run status", restore_run()).await;
            return Err(driver(e));
        }
        if let Err(e) = self.steps.insert_one(step).await {
            undo("draft reply", self.replies.delete_one(f::reply_by_id(scope, outcome.draft.id)))
                .await;
            undo("ticket triage fields", restore_ticket()).await;
            undo("run status", restore_run()).await;
            return Err(driver(e));
        }
        // One AI draft per ticket. Without transactions this comes last and is best effort: an
        // older draft left behind is what every earlier version did, not a lost write.
        if let Err(e) = self
            .replies
            .delete_many(f::ai_drafts_of_ticket_except(scope, old.id, outcome.draft.id))
            .await
        {
            tracing::warn!(error = %e, ticket_id = %old.id, "could not retire an older AI draft");
        }
        let mut ticket = old.clone();
        outcome.patch.apply_to(&mut ticket, now);
        Ok(ticket)
    }
}

#[async_trait]
impl RunQueue for MongoStore {
    async fn claim_next(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> RepoResult<Option<WorkflowRun>> {
        let mut set = doc! { "status": RunStatus::Running.as_str() };
        set.extend(set_time("lease_expires_at", now + lease));
        let d = self
            .runs
            .find_one_and_update(
                f::claimable(now),
                doc! { "$set": set, "$inc": { "attempts": Bson::Int64(1) } },
            )
            .sort(f::queue_order())
            .return_document(ReturnDocument::After)
            .await
            .map_err(driver)?;
        d.map(|d| run_from(&d).map_err(corrupt)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finishing_sets_status_time_and_message() {
        let now = time::macros::datetime!(2026-11-25 10:00:00.5 UTC);
        let u = finish_set(RunStatus::Failed, Some("boom"), now);
        let set = u.get_document("$set").expect("$set");
        assert_eq!(set.get_str("status").ok(), Some("failed"));
        assert_eq!(set.get_str("error_message").ok(), Some("boom"));
        assert!(set.get_datetime("finished_at").is_ok());
        let ok = finish_set(RunStatus::Succeeded, None, now);
        let ok = ok.get_document("$set").expect("$set");
        assert!(!ok.contains_key("error_message"));
        assert_eq!(ok.get("lease_expires_at"), Some(&Bson::Null), "finished runs hold no lease");
    }
}
