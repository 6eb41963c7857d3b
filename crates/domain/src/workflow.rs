//! Triage workflow runs and steps, and the pure state machine that governs a run.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Category, Priority, RunStatus, RunTrigger, StepType, TenantId, TicketId, UserId, WorkflowRunId,
    WorkflowStepId,
};

/// The only workflow type in v1.
pub const TICKET_TRIAGE: &str = "ticket_triage";

/// One execution of a workflow for a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    /// Identity.
    pub id: WorkflowRunId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The ticket being triaged.
    pub ticket_id: TicketId,
    /// Always [`TICKET_TRIAGE`] in v1.
    pub workflow_type: String,
    /// Queued, running, succeeded or failed.
    pub status: RunStatus,
    /// The person who asked for the run.
    pub started_by_user_id: UserId,
    /// A person's request, or queued on arrival (decides what the results may change).
    pub trigger: RunTrigger,
    /// Why the run failed.
    pub error_message: Option<String>,
    /// When the run was requested.
    pub started_at: OffsetDateTime,
    /// When it reached `succeeded` or `failed`.
    pub finished_at: Option<OffsetDateTime>,
    /// How many times a worker claimed it (async mode).
    pub attempts: u32,
    /// Until when the current worker holds it (async mode); after that another worker may.
    pub lease_expires_at: Option<OffsetDateTime>,
}

/// The record of one step: exactly what was sent and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowStep {
    /// Identity.
    pub id: WorkflowStepId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The run it belongs to.
    pub workflow_run_id: WorkflowRunId,
    /// Which step.
    pub step_type: StepType,
    /// Whether the step produced a valid output.
    pub succeeded: bool,
    /// What was sent: rendered prompt messages and the data they came from.
    pub input_snapshot: serde_json::Value,
    /// The parsed, validated output (or `null` when the step failed).
    pub output_snapshot: serde_json::Value,
    /// Provider name (`offline`, `openai`, `anthropic`, ...).
    pub provider: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Version of the prompt template used.
    pub prompt_version: Option<String>,
    /// Wall time of the step in milliseconds.
    pub latency_ms: u64,
    /// Prompt tokens used.
    pub prompt_tokens: u32,
    /// Completion tokens used.
    pub completion_tokens: u32,
    /// Provider calls made (retries and repair included).
    pub attempts: u32,
    /// Guardrail findings still present in the output.
    pub guardrail_flags: Vec<String>,
    /// Why the step failed.
    pub error_message: Option<String>,
    /// When the step finished.
    pub created_at: OffsetDateTime,
    /// The run attempt the step belongs to (the run's `attempts` when a worker claimed it; 1 for
    /// a run executed directly): a run resumed after a crash has steps of attempts 1 and 2.
    pub attempt: u32,
}

/// Output of the classification step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassificationOutput {
    /// The category.
    pub category: Category,
    /// Why.
    pub reason: String,
    // The doc line below is what a language model reads in the answer's schema. The offline
    // engine gives its calibrated probability here; a language model its own estimate (the
    // run's provider tells which). Absent when not given.
    /// How sure you are that this answer is right, from 0 (a guess) to 1 (certain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// Output of the priority step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityOutput {
    /// The priority.
    pub priority: Priority,
    /// Why.
    pub reason: String,
    // The doc line below is what a language model reads in the answer's schema. The offline
    // engine gives its calibrated probability here; a language model its own estimate (the
    // run's provider tells which). Absent when not given.
    /// How sure you are that this answer is right, from 0 (a guess) to 1 (certain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// Output of the assignee-suggestion step. The id is untrusted text until checked against the
/// tenant's active users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssigneeOutput {
    /// A user id from the candidates given, or null.
    pub assignee_user_id: Option<String>,
    /// Why.
    pub reason: String,
    // The doc line below is what a language model reads in the answer's schema. The offline
    // engine gives its calibrated probability here; a language model its own estimate (the
    // run's provider tells which). Absent when not given.
    /// How sure you are that this answer is right, from 0 (a guess) to 1 (certain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
}

/// Output of the reply-draft step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyDraftOutput {
    /// The drafted reply to the customer.
    pub reply_body: String,
}

/// Where a run is, as the state machine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// Waiting for a worker.
    Queued,
    /// Executing; holds the steps completed so far.
    Running {
        /// Steps that have completed.
        done: BTreeSet<StepType>,
    },
    /// All steps completed and persisted.
    Succeeded,
    /// Stopped with an error.
    Failed,
}

/// Something that happens to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEvent {
    /// A worker (or the synchronous endpoint) starts executing.
    Start,
    /// A step finished with a valid output.
    StepCompleted(StepType),
    /// An error stopped the run.
    Fail,
    /// The worker's lease expired: the run goes back to the queue and starts over.
    Requeue,
}

/// An event that is not allowed in the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition: {event:?} in state {state}")]
pub struct TransitionError {
    /// The state's status.
    pub state: RunStatus,
    /// The rejected event.
    pub event: RunEvent,
}

impl RunState {
    /// The status this state is stored as.
    #[must_use]
    pub const fn status(&self) -> RunStatus {
        match self {
            Self::Queued => RunStatus::Queued,
            Self::Running { .. } => RunStatus::Running,
            Self::Succeeded => RunStatus::Succeeded,
            Self::Failed => RunStatus::Failed,
        }
    }

    /// Whether no further event is accepted.
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// The steps that must have completed before `step` may complete.
#[must_use]
pub const fn prerequisites(step: StepType) -> &'static [StepType] {
    match step {
        StepType::Classification | StepType::AssigneeSuggestion => &[],
        StepType::Priority => &[StepType::Classification],
        StepType::ReplyDraft => &[StepType::Classification, StepType::Priority],
        StepType::Persist => &[
            StepType::Classification,
            StepType::Priority,
            StepType::AssigneeSuggestion,
            StepType::ReplyDraft,
        ],
    }
}

/// What a person reads about a step: a short label and what the step is given. The HTTP layer
/// publishes these in the OpenAPI document (`x-steps` on the `StepType` schema) and the web UI
/// generates its step list from there, so a new step is described in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDescription {
    /// A short imperative label (`Classify category`).
    pub label: &'static str,
    /// What the step decides from, in a few words.
    pub input: &'static str,
}

/// The description of `step`.
#[must_use]
pub const fn describe(step: StepType) -> StepDescription {
    let (label, input) = match step {
        StepType::Classification => ("Classify category", "Ticket subject and body"),
        StepType::Priority => ("Set priority", "Ticket text and its category"),
        StepType::AssigneeSuggestion => {
            ("Suggest assignee", "Ticket text and the active users with their open load")
        }
        StepType::ReplyDraft => {
            ("Draft reply", "Ticket text, category, priority and the workspace policies")
        }
        StepType::Persist => ("Save results", "Outputs of the previous steps"),
    };
    StepDescription { label, input }
}

/// The pure transition function of a run.
///
/// A run is queued, started once, completes each step once after its prerequisites, succeeds
/// exactly when `persist` completes, and can fail at any point before it ends.
///
/// # Errors
/// [`TransitionError`] for an event the state does not allow.
pub fn transition(state: &RunState, event: RunEvent) -> Result<RunState, TransitionError> {
    let illegal = || TransitionError { state: state.status(), event };
    match (state, event) {
        (RunState::Queued, RunEvent::Start) => Ok(RunState::Running { done: BTreeSet::new() }),
        (RunState::Queued | RunState::Running { .. }, RunEvent::Fail) => Ok(RunState::Failed),
        (RunState::Running { .. }, RunEvent::Requeue) => Ok(RunState::Queued),
        (RunState::Running { done }, RunEvent::StepCompleted(step)) => {
            if done.contains(&step) || !prerequisites(step).iter().all(|p| done.contains(p)) {
                return Err(illegal());
            }
            if step == StepType::Persist {
                return Ok(RunState::Succeeded);
            }
            let mut done = done.clone();
            done.insert(step);
            Ok(RunState::Running { done })
        }
        _ => Err(illegal()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    fn running(done: &[StepType]) -> RunState {
        RunState::Running { done: done.iter().copied().collect() }
    }

    use StepType::{
        AssigneeSuggestion as A, Classification as C, Persist as P, Priority as Pr, ReplyDraft as R,
    };

    #[rstest]
    #[case(RunState::Queued, RunEvent::Start, Some(running(&[])))]
    #[case(RunState::Queued, RunEvent::Fail, Some(RunState::Failed))]
    #[case(RunState::Queued, RunEvent::StepCompleted(C), None)]
    #[case(RunState::Queued, RunEvent::Requeue, None)]
    #[case(running(&[]), RunEvent::StepCompleted(C), Some(running(&[C])))]
    #[case(running(&[]), RunEvent::StepCompleted(A), Some(running(&[A])))]
    #[case(running(&[]), RunEvent::StepCompleted(Pr), None)]
    #[case(running(&[C]), RunEvent::StepCompleted(Pr), Some(running(&[C, Pr])))]
    #[case(running(&[C]), RunEvent::StepCompleted(C), None)]
    #[case(running(&[C]), RunEvent::StepCompleted(R), None)]
    #[case(running(&[C, Pr]), RunEvent::StepCompleted(R), Some(running(&[C, Pr, R])))]
    #[case(running(&[C, Pr, R]), RunEvent::StepCompleted(P), None)]
    #[case(running(&[C, Pr, R, A]), RunEvent::StepCompleted(P), Some(RunState::Succeeded))]
    #[case(running(&[C]), RunEvent::Start, None)]
    #[case(running(&[C]), RunEvent::Fail, Some(RunState::Failed))]
    #[case(running(&[C]), RunEvent::Requeue, Some(RunState::Queued))]
    #[case(RunState::Succeeded, RunEvent::Fail, None)]
    #[case(RunState::Succeeded, RunEvent::Start, None)]
    #[case(RunState::Failed, RunEvent::Start, None)]
    #[case(RunState::Failed, RunEvent::Requeue, None)]
    fn transition_table(
        #[case] from: RunState,
        #[case] ev: RunEvent,
        #[case] to: Option<RunState>,
    ) {
        assert_eq!(transition(&from, ev).ok(), to);
    }

    fn any_event() -> impl Strategy<Value = RunEvent> {
        prop_oneof![
            Just(RunEvent::Start),
            Just(RunEvent::Fail),
            Just(RunEvent::Requeue),
            prop::sample::select(StepType::ALL.to_vec()).prop_map(RunEvent::StepCompleted),
        ]
    }

    proptest! {
        /// No event sequence reaches an invalid state: a run only succeeds after every step
        /// completed once in dependency order, and terminal states never change.
        #[test]
        fn no_sequence_reaches_an_invalid_state(events in prop::collection::vec(any_event(), 0..40)) {
            let mut state = RunState::Queued;
            let mut completed: Vec<StepType> = Vec::new();
            for ev in events {
                match transition(&state, ev) {
                    Ok(next) => {
                        prop_assert!(!state.is_terminal(), "terminal state changed");
                        match ev {
                            RunEvent::StepCompleted(s) => completed.push(s),
                            RunEvent::Requeue => completed.clear(),
                            _ => {}
                        }
                        if next == RunState::Succeeded {
                            prop_assert_eq!(completed.last(), Some(&StepType::Persist));
                            let set: BTreeSet<_> = completed.iter().copied().collect();
                            prop_assert_eq!(set.len(), completed.len(), "a step completed twice");
                            prop_assert_eq!(set.len(), StepType::ALL.len());
                            for (i, s) in completed.iter().enumerate() {
                                for p in prerequisites(*s) {
                                    prop_assert!(completed[..i].contains(p));
                                }
                            }
                        }
                        if let RunState::Running { done } = &next {
                            prop_assert!(!done.contains(&StepType::Persist));
                        }
                        state = next;
                    }
                    Err(e) => prop_assert_eq!(e.state, state.status()),
                }
            }
        }
    }
}
