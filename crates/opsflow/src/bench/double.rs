//! An LLM double for `opsflow bench triage`: an OpenAI-compatible Chat Completions endpoint on
//! 127.0.0.1 that answers every triage task with valid JSON after a fixed delay, and records
//! when it received and answered each call so model time can be told apart from orchestration.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use opsflow_domain::StepType;
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::web::{Data, Json};
use poem::{EndpointExt as _, Route, handler, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The marker that ties a ticket (and so every model call about it) to a benchmark run:
/// `benchrun` followed by digits, written into the ticket subject.
pub const TAG_PREFIX: &str = "benchrun";

/// One answered call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The run's tag found in the prompt, if any.
    pub tag: Option<u64>,
    /// The schema name (`classification`, `priority`, `assignee_suggestion`, `reply_draft`).
    pub task: String,
    /// From receiving the parsed request to sending the answer.
    pub service: Duration,
}

struct State {
    delay: Duration,
    calls: Mutex<Vec<Call>>,
}

/// The running double.
pub struct LlmDouble {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl LlmDouble {
    /// Starts the double; it answers after `delay`.
    pub async fn start(delay: Duration) -> anyhow::Result<Self> {
        let state = Arc::new(State { delay, calls: Mutex::new(Vec::new()) });
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .context("the LLM double could not listen on 127.0.0.1")?;
        let addr: SocketAddr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .context("the LLM double's listener has no TCP address")?;
        let app = Route::new().at("/v1/chat/completions", post(chat)).data(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel::<()>();
        let task =
            tokio::spawn(poem::Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                app,
                async {
                    let _ = stopped.await;
                },
                Some(Duration::from_secs(5)),
            ));
        Ok(Self { base_url: format!("http://{addr}/v1"), state, stop: Some(stop), task })
    }

    /// Takes the calls recorded so far, grouped by run tag (untagged calls under `None`).
    pub fn take_calls(&self) -> HashMap<Option<u64>, Vec<Call>> {
        let calls =
            std::mem::take(&mut *self.state.calls.lock().unwrap_or_else(PoisonError::into_inner));
        let mut by_tag: HashMap<Option<u64>, Vec<Call>> = HashMap::new();
        for call in calls {
            by_tag.entry(call.tag).or_default().push(call);
        }
        by_tag
    }

    /// Stops the double.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Ok(Err(e)) = self.task.await {
            eprintln!("warning: the LLM double stopped with an error: {e}");
        }
    }
}

/// Model time on a run's critical path: classification → priority, concurrently with the
/// assignee suggestion, then the reply draft. Repeated calls for one task (a repair or a
/// regeneration) add up.
pub fn critical_path(calls: &[Call]) -> Duration {
    let total = |task: &str| -> Duration {
        calls.iter().filter(|c| c.task == task).map(|c| c.service).sum()
    };
    let chain = total("classification") + total("priority");
    chain.max(total("assignee_suggestion")) + total("reply_draft")
}

#[handler]
async fn chat(state: Data<&Arc<State>>, body: Json<Value>) -> poem::Result<Json<Value>> {
    let received = Instant::now();
    let request = body.0;
    let task = request
        .pointer("/response_format/json_schema/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let prompt: String = request
        .get("messages")
        .and_then(Value::as_array)
        .map(|messages| {
            messages
                .iter()
                .filter_map(|m| m.get("content").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let Ok(step) = task.parse::<StepType>() else {
        return Err(poem::Error::from_string(
            format!("the LLM double does not know the schema `{task}`"),
            poem::http::StatusCode::BAD_REQUEST,
        ));
    };
    // One arm per step, and no wildcard: a new triage step does not compile until the double
    // can answer it.
    let answer = match step {
        StepType::Classification => json!({
            "category": "bug",
            "reason": "The customer reports that part of their website is broken."
        }),
        StepType::Priority => json!({
            "priority": "high",
            "reason": "Customers cannot complete an important task and there is no workaround."
        }),
        StepType::AssigneeSuggestion => json!({
            "assignee_user_id": first_candidate(&prompt),
            "reason": "An agent with a light open-ticket load."
        }),
        StepType::ReplyDraft => json!({
            "reply_body": "Hi there,\n\nThanks, we are looking into this and will update you.\n\n\
                           Best regards,\nThe support team"
        }),
        StepType::Persist => {
            return Err(poem::Error::from_string(
                "persist is written by the store, never asked of a model",
                poem::http::StatusCode::BAD_REQUEST,
            ));
        }
    };
    tokio::time::sleep(state.delay).await;
    let content = answer.to_string();
    let response = json!({
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench-double",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt.len() / 4,
            "completion_tokens": content.len() / 4,
            "total_tokens": (prompt.len() + content.len()) / 4
        }
    });
    let call = Call { tag: find_tag(&prompt), task, service: received.elapsed() };
    state.calls.lock().unwrap_or_else(PoisonError::into_inner).push(call);
    Ok(Json(response))
}

/// The first `benchrun<digits>` marker in the prompt.
fn find_tag(prompt: &str) -> Option<u64> {
    let at = prompt.find(TAG_PREFIX)? + TAG_PREFIX.len();
    let digits: String = prompt[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The id of the first candidate listed in an assignee prompt (`{"id":"…"` lines).
fn first_candidate(prompt: &str) -> Value {
    let key = "\"id\":\"";
    let Some(start) = prompt.find("<candidates>") else { return Value::Null };
    let list = &prompt[start..];
    let list = list.find("</candidates>").map_or(list, |end| &list[..end]);
    list.find(key)
        .and_then(|i| list[i + key.len()..].split('"').next())
        .map_or(Value::Null, |id| Value::String(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(task: &str, ms: u64) -> Call {
        Call { tag: Some(1), task: task.to_owned(), service: Duration::from_millis(ms) }
    }

    #[test]
    fn critical_path_runs_the_assignee_beside_the_chain() {
        let calls = [
            call("classification", 200),
            call("assignee_suggestion", 210),
            call("priority", 200),
            call("reply_draft", 200),
        ];
        assert_eq!(critical_path(&calls), Duration::from_millis(600));
        let slow_assignee = [
            call("classification", 10),
            call("priority", 10),
            call("assignee_suggestion", 500),
            call("reply_draft", 5),
        ];
        assert_eq!(critical_path(&slow_assignee), Duration::from_millis(505));
        let repaired = [
            call("classification", 200),
            call("classification", 200),
            call("priority", 200),
            call("reply_draft", 200),
        ];
        assert_eq!(critical_path(&repaired), Duration::from_millis(800));
    }

    #[test]
    fn tags_and_candidates_are_read_from_prompts() {
        assert_eq!(find_tag("Subject: Site down (ref benchrun000042)"), Some(42));
        assert_eq!(find_tag("no marker"), None);
        let prompt =
            "Suggest.\n<candidates>\n{\"id\":\"0193-abc\",\"name\":\"Sam\"}\n</candidates>";
        assert_eq!(first_candidate(prompt), json!("0193-abc"));
        assert_eq!(first_candidate("<candidates>\n</candidates>"), Value::Null);
    }
}
