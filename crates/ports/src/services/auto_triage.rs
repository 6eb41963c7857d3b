//! Auto-triage on arrival: whether a new ticket gets a triage run queued with it, per the
//! workspace's `auto_triage` mode.
//!
//! The run is handed to the store together with the ticket ([`TicketRepository::create_with_run`],
//! [`crate::repos::MailTarget::NewTicket`]) so both are written in one transaction: a crash
//! between the ticket's commit and the enqueue cannot leave a new ticket without its run. The
//! durable run queue ([`crate::repos::RunQueue`]) and its workers do the rest.
//!
//! [`TicketRepository::create_with_run`]: crate::repos::TicketRepository::create_with_run

use std::sync::Arc;

use opsflow_domain::{
    RunStatus, RunTrigger, TICKET_TRIAGE, TenantScope, Ticket, WorkflowRun, WorkflowRunId,
};
use tokio::sync::Notify;

use crate::repos::{RepoResult, TenantRepository};

/// Plans the triage run of new tickets and wakes the workers once it is stored.
#[derive(Clone)]
pub struct ArrivalTriage {
    tenants: Arc<dyn TenantRepository>,
    queued: Arc<Notify>,
}

impl ArrivalTriage {
    /// `queued` is the triage workers' wake-up signal
    /// ([`crate::services::triage::TicketTriageWorkflow::queued_notifier`]).
    pub fn new(tenants: Arc<dyn TenantRepository>, queued: Arc<Notify>) -> Self {
        Self { tenants, queued }
    }

    /// The queued run to store with `ticket`, or `None` when the workspace's mode is off. The
    /// run is started by the scope's user (the workspace itself for inbound email) and carries
    /// the mode as its trigger, so a later settings change does not alter a queued run.
    ///
    /// # Errors
    /// `NotFound` (no such workspace), `Unexpected`.
    pub async fn plan(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
    ) -> RepoResult<Option<WorkflowRun>> {
        let tenant = self.tenants.get(scope).await?;
        let Some(trigger) = RunTrigger::on_arrival(tenant.auto_triage.mode) else {
            return Ok(None);
        };
        Ok(Some(WorkflowRun {
            id: WorkflowRunId::new(),
            tenant_id: scope.tenant_id(),
            ticket_id: ticket.id,
            workflow_type: TICKET_TRIAGE.to_owned(),
            status: RunStatus::Queued,
            started_by_user_id: scope.user_id(),
            trigger,
            error_message: None,
            started_at: ticket.created_at,
            finished_at: None,
            attempts: 0,
            lease_expires_at: None,
        }))
    }

    /// Wakes an idle worker after a planned run was stored.
    pub fn stored(&self, run: &WorkflowRun) {
        tracing::info!(
            tenant_id = %run.tenant_id,
            ticket_id = %run.ticket_id,
            workflow_run_id = %run.id,
            trigger = %run.trigger,
            "triage run queued on arrival"
        );
        self.queued.notify_one();
    }
}
