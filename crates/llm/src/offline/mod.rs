//! The offline engine: a small deterministic classifier, rules and templates that answer the four
//! triage tasks without a network or a language model.
//!
//! - **Category**: multinomial Naive Bayes over the words present in the subject and body,
//!   trained at start-up on `data/train.jsonl`.
//! - **Priority**: a softmax regression over the same words plus urgency and impact cues ("is
//!   down", "all users", "deadline", "no rush", ...) and the category.
//! - **Assignee**: the candidate with the fewest open tickets, agents before admins.
//! - **Reply**: category- and priority-aware templates (English, Spanish, German) with the
//!   customer's first name and the subject, following the workspace's structured policies
//!   (sign-off, support hours, status page, languages, forbidden commitments); never the
//!   tenant's free-text policies (see the `reply` module).

mod classifier;
mod priority;
mod reply;

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use opsflow_domain::{Category, Priority, Role};
use opsflow_ports::llm::{LlmClient, LlmError, LlmRequest, LlmResponse, TokenUsage, TriageTask};
use opsflow_ports::services::triage::TicketInput;
use opsflow_ports::services::triage::assignee::CandidateInput;
use opsflow_ports::services::triage::reply_draft::ReplyDraftInput;
use serde_json::{Value, json};

use classifier::{NaiveBayes, SoftmaxRegression, argmax, features, normalised};
use priority::CueMatches;
pub use reply::{Lang, ReplyInput, choose_language, detect_language, draft as draft_reply};

use crate::eval::{self, LabelledTicket};

/// The model name the engine reports.
pub const MODEL: &str = "offline-nb-v1";

/// The labelled training split (never the held-out split).
pub const TRAINING_DATA: &str = include_str!("../../data/train.jsonl");

/// Additive smoothing of both classifiers.
const ALPHA: f64 = 0.3;

struct Model {
    category: NaiveBayes,
    priority: SoftmaxRegression,
    examples: usize,
    temperatures: Temperatures,
}

/// Naive Bayes is overconfident (it treats every word as independent evidence), so its scores
/// are divided by a temperature before the softmax; the temperatures are chosen by
/// cross-validation on the training split, minimising the held-out log-loss. The result is a
/// calibrated probability: of the tickets given confidence 0.8, about 80% are right.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Temperatures {
    category: f64,
    priority: f64,
}

const TEMPERATURE_GRID: &[f64] =
    &[0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0];
/// Folds of the calibration's cross-validation.
const FOLDS: usize = 5;

/// The softmax of `scores / temperature` (`-inf` scores get probability 0).
fn softmax(scores: &[f64], temperature: f64) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = scores.iter().map(|s| ((s - max) / temperature).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// The two classifiers trained on `tickets` (the priority model on the labelled category; in use
/// it gets the predicted one).
fn fit(tickets: &[LabelledTicket]) -> (NaiveBayes, SoftmaxRegression) {
    let feats: Vec<_> = tickets.iter().map(|t| features(&t.subject, &t.body)).collect();
    let by = |label: &dyn Fn(&LabelledTicket) -> usize| {
        feats.iter().cloned().zip(tickets.iter().map(label)).collect::<Vec<_>>()
    };
    let category = NaiveBayes::train(
        &by(&|t| Category::ALL.iter().position(|c| *c == t.category).unwrap_or(0)),
        Category::ALL.len(),
        ALPHA,
    );
    let priority_examples: Vec<_> = tickets
        .iter()
        .zip(&feats)
        .map(|(t, words)| {
            let cues = CueMatches::find(&normalised(&format!("{}. {}", t.subject, t.body)));
            let class = Priority::ALL.iter().position(|p| *p == t.priority).unwrap_or(0);
            (priority::features(words.clone(), &cues, t.category), class)
        })
        .collect();
    let priority =
        SoftmaxRegression::train(&priority_examples, Priority::ALL.len(), priority::SETTINGS);
    (category, priority)
}

/// Per-level priority scores (indexed like [`Priority::ALL`]) and the cues found.
fn priority_scores(
    model: &SoftmaxRegression,
    subject: &str,
    body: &str,
    category: Category,
) -> (Vec<f64>, CueMatches) {
    let cues = CueMatches::find(&normalised(&format!("{subject}. {body}")));
    let feats = priority::features(features(subject, body), &cues, category);
    let mut scores = model.scores(&feats);
    priority::enforce_rules(&mut scores, category);
    (scores, cues)
}

/// The temperature of `TEMPERATURE_GRID` with the lowest mean log-loss on `(scores, truth)`.
fn best_temperature(samples: &[(Vec<f64>, usize)]) -> f64 {
    let loss = |t: f64| -> f64 {
        samples.iter().map(|(scores, truth)| -softmax(scores, t)[*truth].max(1e-9).ln()).sum()
    };
    TEMPERATURE_GRID.iter().copied().min_by(|a, b| loss(*a).total_cmp(&loss(*b))).unwrap_or(1.0)
}

/// Chooses the temperatures by `FOLDS`-fold cross-validation (the priority of a held-out
/// ticket is scored with the category the fold's model predicted, as in use).
fn calibrate(tickets: &[LabelledTicket]) -> Temperatures {
    if tickets.len() < FOLDS * 4 {
        return Temperatures { category: 1.0, priority: 1.0 };
    }
    let mut categories = Vec::new();
    let mut priorities = Vec::new();
    for fold in 0..FOLDS {
        let train: Vec<LabelledTicket> = tickets
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, t)| t.clone())
            .collect();
        let (category, priority) = fit(&train);
        for t in tickets.iter().enumerate().filter(|(i, _)| i % FOLDS == fold).map(|(_, t)| t) {
            let scores = category.scores(&features(&t.subject, &t.body));
            let predicted = Category::ALL.get(argmax(&scores)).copied().unwrap_or(Category::Other);
            let truth = Category::ALL.iter().position(|c| *c == t.category).unwrap_or(0);
            categories.push((scores, truth));
            let (scores, _) = priority_scores(&priority, &t.subject, &t.body, predicted);
            let truth = Priority::ALL.iter().position(|p| *p == t.priority).unwrap_or(0);
            priorities.push((scores, truth));
        }
    }
    Temperatures {
        category: best_temperature(&categories),
        priority: best_temperature(&priorities),
    }
}

impl Model {
    fn train(tickets: &[LabelledTicket]) -> Self {
        let (category, priority) = fit(tickets);
        Self { category, priority, examples: tickets.len(), temperatures: calibrate(tickets) }
    }
}

static TRAINED: LazyLock<Arc<Model>> = LazyLock::new(|| {
    // The data is compiled in and checked by a test, so a bad line can only come from an edit
    // that the test suite rejects; skipping it keeps the server up regardless.
    let tickets: Vec<LabelledTicket> =
        TRAINING_DATA.lines().filter_map(|l| eval::parse_jsonl(l).ok()).flatten().collect();
    Arc::new(Model::train(&tickets))
});

/// A category decision with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryDecision {
    /// The category.
    pub category: Category,
    /// Words of the ticket that pointed to it most.
    pub cues: Vec<String>,
    /// Calibrated probability of the category.
    pub probability: f64,
}

/// A priority decision with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityDecision {
    /// The priority.
    pub priority: Priority,
    /// Urgency and impact phrases found.
    pub cues: Vec<String>,
    /// Calibrated probability of the priority.
    pub probability: f64,
}

/// The offline engine. Cheap to clone and construct: the models are trained once per process.
#[derive(Clone)]
pub struct OfflineEngine {
    model: Arc<Model>,
}

impl std::fmt::Debug for OfflineEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineEngine")
            .field("model", &MODEL)
            .field("training_examples", &self.model.examples)
            .finish()
    }
}

impl Default for OfflineEngine {
    fn default() -> Self {
        Self::new()
    }
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

impl OfflineEngine {
    /// The engine trained on the committed training split.
    #[must_use]
    pub fn new() -> Self {
        Self { model: Arc::clone(&TRAINED) }
    }

    /// An engine trained on other labelled tickets (for experiments and tests).
    #[must_use]
    pub fn trained_on(tickets: &[LabelledTicket]) -> Self {
        Self { model: Arc::new(Model::train(tickets)) }
    }

    /// How many labelled tickets the engine was trained on.
    #[must_use]
    pub fn training_examples(&self) -> usize {
        self.model.examples
    }

    /// Classifies a ticket.
    #[must_use]
    pub fn classify(&self, subject: &str, body: &str) -> CategoryDecision {
        let feats = features(subject, body);
        let probs = softmax(&self.model.category.scores(&feats), self.model.temperatures.category);
        let best = argmax(&probs);
        let cues = self.model.category.top_cues(&feats, best, 3);
        CategoryDecision {
            category: Category::ALL.get(best).copied().unwrap_or(Category::Other),
            cues,
            probability: probs.get(best).copied().unwrap_or(0.0),
        }
    }

    /// Decides a ticket's priority given its category.
    #[must_use]
    pub fn prioritise(&self, subject: &str, body: &str, category: Category) -> PriorityDecision {
        let (scores, cues) = priority_scores(&self.model.priority, subject, body, category);
        let best = argmax(&scores);
        let probability =
            softmax(&scores, self.model.temperatures.priority).get(best).copied().unwrap_or(0.0);
        let priority = Priority::ALL.get(best).copied().unwrap_or(Priority::Medium);
        let named: Vec<&str> = match priority {
            Priority::Urgent => cues.urgent.iter().chain(&cues.high).copied().collect(),
            Priority::High => cues.high.iter().chain(&cues.urgent).copied().collect(),
            Priority::Low => cues.low.clone(),
            Priority::Medium => Vec::new(),
        };
        PriorityDecision {
            priority,
            cues: named.iter().take(4).map(|s| (*s).to_owned()).collect(),
            probability,
        }
    }

    fn answer_classification(&self, ticket: &TicketInput) -> Value {
        let d = self.classify(&ticket.subject, &ticket.body);
        let reason = if d.cues.is_empty() {
            format!(
                "Classified as {} by the offline classifier; the ticket has no strongly \
                 indicative words, so this is the most likely category overall.",
                d.category
            )
        } else {
            format!(
                "Classified as {} by the offline classifier; the words that point to it most \
                 are {}.",
                d.category,
                quoted(&d.cues)
            )
        };
        json!({"category": d.category, "reason": reason, "confidence": rounded(d.probability)})
    }

    fn answer_priority(&self, ticket: &TicketInput, category: Category) -> Value {
        let d = self.prioritise(&ticket.subject, &ticket.body, category);
        let reason = match (d.priority, d.cues.is_empty()) {
            (Priority::Urgent | Priority::High, false) => format!(
                "{} priority: urgency and impact cues {} in a {} ticket.",
                capitalised(d.priority.as_str()),
                quoted(&d.cues),
                category
            ),
            (Priority::Low, false) => {
                format!("Low priority: the ticket signals it can wait ({}).", quoted(&d.cues))
            }
            (p, _) => format!(
                "{} priority: no outage, deadline or blocking cues; typical for a {} ticket \
                 worded like this.",
                capitalised(p.as_str()),
                category
            ),
        };
        json!({"priority": d.priority, "reason": reason, "confidence": rounded(d.probability)})
    }

    fn answer_assignee(candidates: &[CandidateInput]) -> Value {
        match choose_assignee(candidates) {
            None => json!({
                "assignee_user_id": null,
                "reason": "No active team members were available to suggest."
            }),
            Some((c, pool)) => {
                let noun = if c.open_tickets == 1 { "ticket" } else { "tickets" };
                json!({
                    "assignee_user_id": c.id,
                    "reason": format!(
                        "Lowest open load among {pool}: {} ({} open {noun}).",
                        c.name, c.open_tickets
                    )
                })
            }
        }
    }

    fn answer_reply(input: &ReplyDraftInput) -> Value {
        let body = reply::draft(&ReplyInput {
            customer_name: &input.ticket.customer_name,
            subject: &input.ticket.subject,
            body: &input.ticket.body,
            category: input.category,
            priority: input.priority,
            tenant_name: &input.tenant_name,
            policy: &input.policy,
        });
        json!({"reply_body": body})
    }
}

/// A probability to three decimals (what a person reads; finer digits are noise).
fn rounded(p: f64) -> f64 {
    (p.clamp(0.0, 1.0) * 1000.0).round() / 1000.0
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Agents work the queue, so they come first; admins only when there is no agent. Within the
/// pool: fewest open tickets, then name, then id, so the choice is deterministic.
fn choose_assignee(candidates: &[CandidateInput]) -> Option<(&CandidateInput, &'static str)> {
    let agents: Vec<&CandidateInput> =
        candidates.iter().filter(|c| c.role == Role::Agent).collect();
    let (pool, label) = if agents.is_empty() {
        (candidates.iter().collect::<Vec<_>>(), "the team (no agents available)")
    } else {
        (agents, "agents")
    };
    pool.into_iter()
        .min_by(|a, b| {
            a.open_tickets
                .cmp(&b.open_tickets)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.id.cmp(&b.id))
        })
        .map(|c| (c, label))
}

#[async_trait]
impl LlmClient for OfflineEngine {
    fn provider(&self) -> &str {
        "offline"
    }

    fn model(&self) -> &str {
        MODEL
    }

    async fn complete(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        // One arm per task, and no wildcard: a new triage step does not compile until the
        // engine can answer it.
        let value = match &request.task {
            TriageTask::Classification(input) => self.answer_classification(&input.ticket),
            TriageTask::Priority(input) => self.answer_priority(&input.ticket, input.category),
            TriageTask::AssigneeSuggestion(input) => Self::answer_assignee(&input.candidates),
            TriageTask::ReplyDraft(input) => Self::answer_reply(input),
        };
        Ok(LlmResponse {
            value,
            usage: TokenUsage::default(),
            model: MODEL.to_owned(),
            attempts: 1,
        })
    }
}

#[cfg(test)]
mod tests;
