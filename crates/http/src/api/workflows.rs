//! Triage runs: start one, read a run with its steps, list a ticket's runs.

use std::sync::Arc;

use opsflow_domain::{TicketId, WorkflowRunId};
use opsflow_ports::services::triage::RunMode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::{ApiTags, parse_id};
use crate::auth::BearerAuth;
use crate::dto::{RunDetailResponse, RunList, TriageResponse};
use crate::error::ApiResult;
use crate::state::AppState;

/// Triage operations.
pub struct WorkflowsApi;

/// Triage answer.
#[derive(ApiResponse)]
pub enum TriageResult {
    /// The run finished (succeeded or failed; a failed run carries `error_message` and leaves
    /// the ticket unchanged).
    #[oai(status = 200)]
    Ok(Json<TriageResponse>),
    /// Queued for a worker (`?async=true`); poll `GET /api/workflows/runs/{id}`.
    #[oai(status = 202)]
    Accepted(Json<TriageResponse>),
}

/// A run with its steps.
#[derive(ApiResponse)]
pub enum RunDetailResult {
    /// The run and its steps in order.
    #[oai(status = 200)]
    Ok(Json<RunDetailResponse>),
}

/// A ticket's runs.
#[derive(ApiResponse)]
pub enum RunListResult {
    /// Runs, newest first.
    #[oai(status = 200)]
    Ok(Json<RunList>),
}

#[OpenApi(tag = "ApiTags::Triage")]
impl WorkflowsApi {
    /// Run AI triage on a ticket: classify, prioritise, suggest an assignee, draft a reply.
    /// While a run is queued or running, another request gets 409 `workflow_run_active`.
    #[oai(path = "/tickets/:id/workflows/triage", method = "post", operation_id = "run_triage")]
    async fn triage(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        /// Queue the run and answer 202 at once instead of waiting for it.
        #[oai(name = "async")]
        run_async: Query<Option<bool>>,
    ) -> ApiResult<TriageResult> {
        let id: TicketId = parse_id("id", &id.0)?;
        let scope = &auth.0.scope;
        if run_async.0.unwrap_or(false) {
            let run = state.triage.start(scope, id, RunMode::Async).await?;
            return Ok(TriageResult::Accepted(Json(TriageResponse {
                workflow_run: run.into(),
                ticket: None,
                ai_reply_draft: None,
                steps: Vec::new(),
                guardrail_flags: Vec::new(),
            })));
        }
        let result = state.triage.run_sync(scope, id).await?;
        let guardrail_flags =
            result.guardrail_flags.iter().map(|f| f.as_str().to_owned()).collect();
        Ok(TriageResult::Ok(Json(TriageResponse {
            workflow_run: result.run.into(),
            ticket: Some(result.ticket.into()),
            ai_reply_draft: result.draft.map(Into::into),
            steps: result.steps.into_iter().map(Into::into).collect(),
            guardrail_flags,
        })))
    }

    /// A run with its steps in order (input and output snapshots included).
    #[oai(path = "/workflows/runs/:id", method = "get", operation_id = "get_workflow_run")]
    async fn get_run(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> ApiResult<RunDetailResult> {
        let id: WorkflowRunId = parse_id("id", &id.0)?;
        let scope = &auth.0.scope;
        let (run, steps) = state.runs.run_with_steps(scope, id).await?;
        Ok(RunDetailResult::Ok(Json(RunDetailResponse {
            workflow_run: run.into(),
            steps: steps.into_iter().map(Into::into).collect(),
        })))
    }

    /// A ticket's triage runs, newest first ("View Workflow History").
    #[oai(path = "/tickets/:id/workflows", method = "get", operation_id = "list_ticket_workflows")]
    async fn list_runs(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
    ) -> ApiResult<RunListResult> {
        let id: TicketId = parse_id("id", &id.0)?;
        let scope = &auth.0.scope;
        let runs = state.runs.runs_of_ticket(scope, id).await?;
        Ok(RunListResult::Ok(Json(RunList { items: runs.into_iter().map(Into::into).collect() })))
    }
}
