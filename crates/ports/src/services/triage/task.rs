//! The typed request of every model-backed triage step: what a model call is about, keyed by step.
//!
//! [`TriageTask`] is what [`crate::llm::LlmRequest`] carries instead of a task name and untyped
//! JSON: providers that decide without reading the prompt (the offline engine, test doubles)
//! match on it, and a match without a wildcard arm stops compiling when a step is added.

use opsflow_domain::StepType;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::assignee::AssigneeInput;
use super::classification::ClassificationInput;
use super::priority::PriorityInput;
use super::reply_draft::ReplyDraftInput;

/// One model call of the triage workflow with the data its prompt was rendered from.
///
/// Serialised as `{"task": "<step>", "context": {...}}`: `task` is the step's wire name and
/// `context` the typed input, exactly what the step's `input_snapshot` records as `context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", content = "context", rename_all = "snake_case")]
pub enum TriageTask {
    /// Choose the ticket's category.
    Classification(ClassificationInput),
    /// Set the ticket's priority, knowing its category.
    Priority(PriorityInput),
    /// Suggest one of the workspace's active team members as assignee.
    AssigneeSuggestion(AssigneeInput),
    /// Draft a reply to the customer.
    ReplyDraft(ReplyDraftInput),
}

impl TriageTask {
    /// The step this call belongs to.
    #[must_use]
    pub const fn step(&self) -> StepType {
        match self {
            Self::Classification(_) => StepType::Classification,
            Self::Priority(_) => StepType::Priority,
            Self::AssigneeSuggestion(_) => StepType::AssigneeSuggestion,
            Self::ReplyDraft(_) => StepType::ReplyDraft,
        }
    }

    /// The task's wire name (`classification`, `priority`, ...), also the output schema's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.step().as_str()
    }

    /// The input as JSON, as recorded in a step's `input_snapshot.context`.
    #[must_use]
    pub fn context(&self) -> Value {
        let value = match self {
            Self::Classification(input) => serde_json::to_value(input),
            Self::Priority(input) => serde_json::to_value(input),
            Self::AssigneeSuggestion(input) => serde_json::to_value(input),
            Self::ReplyDraft(input) => serde_json::to_value(input),
        };
        value.unwrap_or(Value::Null)
    }

    /// Builds a task from its wire name and JSON context (fixtures, recorded requests).
    ///
    /// # Errors
    /// The name is not a model-backed step, or the context does not fit its input type.
    pub fn from_parts(task: &str, context: Value) -> Result<Self, serde_json::Error> {
        let mut map = serde_json::Map::new();
        map.insert("task".to_owned(), Value::String(task.to_owned()));
        map.insert("context".to_owned(), context);
        serde_json::from_value(Value::Object(map))
    }

    /// The task with `f` applied to every string of its input except UUIDs (record ids), for
    /// redaction. Enum values (category, priority, role) must come out unchanged: an input
    /// that no longer fits its type after the rewrite is kept as it was.
    #[must_use]
    pub fn map_strings(&self, f: &dyn Fn(&str) -> String) -> Self {
        let Ok(mut value) = serde_json::to_value(self) else { return self.clone() };
        if let Some(context) = value.get_mut("context") {
            *context = crate::llm::map_strings(context, f);
        }
        serde_json::from_value(value).unwrap_or_else(|_| self.clone())
    }
}

#[cfg(test)]
mod tests {
    use opsflow_domain::{Category, PriorityOutput};
    use serde_json::json;

    use super::*;
    use crate::llm::{ChatMessage, LlmRequest};
    use crate::services::triage::priority::PriorityInput;
    use crate::services::triage::prompt::TicketInput;

    fn priority_task() -> TriageTask {
        let ticket = TicketInput {
            subject: "Site down".to_owned(),
            body: "Nothing loads".to_owned(),
            channel: "email".to_owned(),
            customer_name: "Ann Lee".to_owned(),
            customer_email: "ann@customer.example".to_owned(),
        };
        TriageTask::Priority(PriorityInput { ticket, category: Category::Bug })
    }

    #[test]
    fn a_request_keeps_its_wire_shape_task_name_and_context() {
        let request =
            LlmRequest::new::<PriorityOutput>(priority_task(), vec![ChatMessage::user("x")]);
        let wire = serde_json::to_value(&request).expect("serialises");
        assert_eq!(wire["task"], "priority");
        assert_eq!(wire["schema_name"], "priority");
        assert_eq!(
            wire["context"],
            json!({
                "ticket": {
                    "subject": "Site down",
                    "body": "Nothing loads",
                    "channel": "email",
                    "customer_name": "Ann Lee",
                    "customer_email": "ann@customer.example",
                },
                "category": "bug",
            })
        );
        assert_eq!(wire["context"], request.context());
        let back: LlmRequest = serde_json::from_value(wire).expect("deserialises");
        assert_eq!(back, request);
    }

    #[test]
    fn redaction_rewrites_text_but_keeps_enum_values() {
        let redacted = priority_task().map_strings(&|s| s.replace("Ann", "[name]"));
        let TriageTask::Priority(input) = redacted else { panic!("still a priority task") };
        assert_eq!(input.ticket.customer_name, "[name] Lee");
        assert_eq!(input.category, Category::Bug);
        // A rewrite that breaks an enum value leaves the task as it was instead of failing.
        assert_eq!(priority_task().map_strings(&|s| s.to_uppercase()), priority_task());
    }

    #[test]
    fn parts_name_a_known_step() {
        assert!(TriageTask::from_parts("sentiment", json!({})).is_err());
        let task = TriageTask::from_parts("classification", json!({})).expect("a partial context");
        assert_eq!((task.name(), task.step()), ("classification", StepType::Classification));
    }
}
