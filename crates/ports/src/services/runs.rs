//! Run history: the triage runs of a ticket and the recorded steps of a run, read in the
//! caller's tenant.

use std::sync::Arc;

use opsflow_domain::{TenantScope, TicketId, WorkflowRun, WorkflowRunId, WorkflowStep};

use crate::error::{AppError, AppResult, Entity};
use crate::repos::{TicketRepository, WorkflowRepository};

/// Reads triage runs and their steps ("View Workflow History").
pub struct RunHistoryService {
    tickets: Arc<dyn TicketRepository>,
    runs: Arc<dyn WorkflowRepository>,
}

impl RunHistoryService {
    /// Wires the service to its ports.
    pub fn new(tickets: Arc<dyn TicketRepository>, runs: Arc<dyn WorkflowRepository>) -> Self {
        Self { tickets, runs }
    }

    /// One run.
    ///
    /// # Errors
    /// `NotFound(Entity::WorkflowRun)` if the run is not in the caller's tenant; `Unexpected`.
    pub async fn run(&self, scope: &TenantScope, id: WorkflowRunId) -> AppResult<WorkflowRun> {
        self.runs.get_run(scope, id).await.map_err(AppError::from_repo(Entity::WorkflowRun))
    }

    /// One run with its steps in the order they were recorded.
    ///
    /// # Errors
    /// `NotFound(Entity::WorkflowRun)` if the run is not in the caller's tenant; `Unexpected`.
    pub async fn run_with_steps(
        &self,
        scope: &TenantScope,
        id: WorkflowRunId,
    ) -> AppResult<(WorkflowRun, Vec<WorkflowStep>)> {
        let run = self.run(scope, id).await?;
        let steps = self.runs.list_steps(scope, id).await.map_err(AppError::from)?;
        Ok((run, steps))
    }

    /// A ticket's runs, newest first.
    ///
    /// # Errors
    /// `NotFound(Entity::Ticket)` if the ticket is not in the caller's tenant; `Unexpected`.
    pub async fn runs_of_ticket(
        &self,
        scope: &TenantScope,
        ticket_id: TicketId,
    ) -> AppResult<Vec<WorkflowRun>> {
        self.tickets.get(scope, ticket_id).await.map_err(AppError::from_repo(Entity::Ticket))?;
        self.runs.list_runs(scope, ticket_id).await.map_err(AppError::from)
    }
}
