//! Worker pool that executes queued (asynchronous) triage runs.
//!
//! Each worker claims the oldest claimable run from the shared [`RunQueue`] (queued, or running
//! with an expired lease after a crash), executes it for the run's tenant, and repeats. When the
//! queue is empty it sleeps until the poll interval passes or [`TicketTriageWorkflow::start`]
//! queues a run in this process. Several server processes can share one store: the queue's
//! claim is atomic.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use opsflow_domain::{Role, TenantScope, WorkflowRun};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::repos::RunQueue;
use crate::services::triage::TicketTriageWorkflow;

/// Settings of the worker pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// How many runs execute at the same time in this process (0 disables the pool).
    pub size: usize,
    /// How long an idle worker waits before looking at the queue again (runs queued by other
    /// processes are seen at the latest after this long).
    pub poll_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self { size: 4, poll_interval: Duration::from_secs(1) }
    }
}

/// A running pool of triage workers; stop it with [`TriageWorkerPool::shutdown`].
pub struct TriageWorkerPool {
    shutdown: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl TriageWorkerPool {
    /// Spawns `config.size` workers on the current tokio runtime.
    ///
    /// # Panics
    /// When called outside a tokio runtime.
    #[must_use]
    pub fn spawn(
        workflow: Arc<TicketTriageWorkflow>,
        queue: Arc<dyn RunQueue>,
        config: &WorkerConfig,
    ) -> Self {
        let (shutdown, stop) = watch::channel(false);
        let handles = spawn_workers(workflow, queue, config, stop);
        Self { shutdown, handles }
    }

    /// How many workers run.
    #[must_use]
    pub fn size(&self) -> usize {
        self.handles.len()
    }

    /// Asks every worker to stop and waits until they have: a worker finishes the run it is
    /// executing first, and claims no new one.
    pub async fn shutdown(self) {
        // Workers hold receivers until they exit, so the send cannot fail while one is alive.
        let _ = self.shutdown.send(true);
        for handle in self.handles {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "triage worker ended abnormally");
            }
        }
        tracing::info!("triage workers stopped");
    }
}

/// Spawns `config.size` workers on the current tokio runtime; they stop when `shutdown` becomes
/// `true` (or its sender is dropped), after finishing the run they are executing.
///
/// # Panics
/// When called outside a tokio runtime.
pub fn spawn_workers(
    workflow: Arc<TicketTriageWorkflow>,
    queue: Arc<dyn RunQueue>,
    config: &WorkerConfig,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    (0..config.size)
        .map(|worker| {
            tokio::spawn(work(
                worker,
                Arc::clone(&workflow),
                Arc::clone(&queue),
                config.poll_interval,
                shutdown.clone(),
            ))
        })
        .collect()
}

async fn work(
    worker: usize,
    workflow: Arc<TicketTriageWorkflow>,
    queue: Arc<dyn RunQueue>,
    poll_interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let queued = workflow.queued_notifier();
    tracing::debug!(worker, "triage worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let lease = workflow.config().lease;
        match queue.claim_next(workflow.now(), lease).await {
            Ok(Some(run)) => {
                execute(worker, &workflow, run).await;
                // More may be waiting: look again at once.
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(worker, error = %e, "could not claim a triage run"),
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = queued.notified() => {}
            () = tokio::time::sleep(poll_interval) => {}
        }
    }
    tracing::debug!(worker, "triage worker stopped");
}

/// Executes one claimed run. Errors and panics are logged, never propagated: the worker lives
/// on, and a run left `running` is claimed again once its lease expires.
async fn execute(worker: usize, workflow: &TicketTriageWorkflow, run: WorkflowRun) {
    // A worker acts for the person who asked for the run, in the run's own tenant only.
    let scope = TenantScope::new(run.tenant_id, run.started_by_user_id, Role::Agent);
    let (run_id, ticket_id, attempt) = (run.id, run.ticket_id, run.attempts);
    tracing::info!(
        worker,
        tenant_id = %scope.tenant_id(),
        ticket_id = %ticket_id,
        workflow_run_id = %run_id,
        attempt,
        "triage run claimed"
    );
    match AssertUnwindSafe(workflow.execute(&scope, run)).catch_unwind().await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::error!(
            worker,
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket_id,
            workflow_run_id = %run_id,
            error = %e,
            "triage run could not be executed; it will be retried when its lease expires"
        ),
        Err(_) => tracing::error!(
            worker,
            tenant_id = %scope.tenant_id(),
            ticket_id = %ticket_id,
            workflow_run_id = %run_id,
            "triage run panicked; it will be retried when its lease expires"
        ),
    }
}
