//! Tests of the offline engine, including the held-out quality gate.

use super::*;
use crate::eval::{ConfusionMatrix, parse_jsonl};
use opsflow_domain::guardrails::check_reply;
use opsflow_domain::{AssigneeOutput, ClassificationOutput, PriorityOutput, ReplyDraftOutput};
use opsflow_ports::llm::{ChatMessage, TriageTask, call_structured};

const HELDOUT: &str = include_str!("../../data/heldout.jsonl");

fn training() -> Vec<LabelledTicket> {
    parse_jsonl(TRAINING_DATA).expect("training data parses")
}

fn heldout() -> Vec<LabelledTicket> {
    parse_jsonl(HELDOUT).expect("held-out data parses")
}

/// Category and priority confusion matrices of `engine` over `set`, priority decided from the
/// predicted category as in the workflow.
fn evaluate(engine: &OfflineEngine, set: &[LabelledTicket]) -> (ConfusionMatrix, ConfusionMatrix) {
    let mut cat = ConfusionMatrix::for_categories();
    let mut pri = ConfusionMatrix::for_priorities();
    for t in set {
        let c = engine.classify(&t.subject, &t.body).category;
        let p = engine.prioritise(&t.subject, &t.body, c).priority;
        cat.add(t.category.as_str(), c.as_str());
        pri.add(t.priority.as_str(), p.as_str());
    }
    (cat, pri)
}

#[test]
fn labelled_sets_are_large_varied_and_disjoint() {
    let train = training();
    let held = heldout();
    assert!(train.len() >= 300, "{} training tickets", train.len());
    assert!(held.len() >= 100, "{} held-out tickets", held.len());
    for c in Category::ALL {
        assert!(train.iter().filter(|t| t.category == *c).count() >= 40, "{c}");
        assert!(held.iter().filter(|t| t.category == *c).count() >= 15, "{c}");
    }
    for p in Priority::ALL {
        assert!(train.iter().filter(|t| t.priority == *p).count() >= 20, "{p}");
        assert!(held.iter().filter(|t| t.priority == *p).count() >= 5, "{p}");
    }
    let subjects: std::collections::HashSet<String> =
        train.iter().map(|t| t.subject.to_lowercase()).collect();
    let bodies: std::collections::HashSet<&str> = train.iter().map(|t| t.body.as_str()).collect();
    for t in &held {
        assert!(
            !subjects.contains(&t.subject.to_lowercase()),
            "held-out subject reused: {}",
            t.subject
        );
        assert!(!bodies.contains(t.body.as_str()), "held-out body reused: {}", t.subject);
    }
    assert_eq!(OfflineEngine::new().training_examples(), train.len());
}

/// The quality gate on tickets the engine never saw. Prints the full figures with
/// `cargo test -p opsflow-llm heldout -- --nocapture`.
#[test]
fn heldout_quality_meets_the_targets() {
    let (cat, pri) = evaluate(&OfflineEngine::new(), &heldout());
    println!("held-out category\n{}{}", cat.render_metrics(), cat.render());
    println!("held-out priority\n{}{}", pri.render_metrics(), pri.render());
    assert!(cat.macro_f1() >= 0.80, "category macro-F1 {:.3}", cat.macro_f1());
    assert!(pri.macro_f1() >= 0.70, "priority macro-F1 {:.3}", pri.macro_f1());
}

/// Five-fold cross-validation on the training split: the figure the priority weights were
/// chosen on, kept as a regression guard.
#[test]
fn cross_validated_quality_on_the_training_split() {
    let train = training();
    let mut cat = ConfusionMatrix::for_categories();
    let mut pri = ConfusionMatrix::for_priorities();
    for fold in 0..5 {
        let (test, fit): (Vec<_>, Vec<_>) =
            train.iter().cloned().enumerate().partition(|(i, _)| i % 5 == fold);
        let fit: Vec<_> = fit.into_iter().map(|(_, t)| t).collect();
        let test: Vec<_> = test.into_iter().map(|(_, t)| t).collect();
        let (c, p) = evaluate(&OfflineEngine::trained_on(&fit), &test);
        for e in c.labels() {
            for q in c.labels() {
                for _ in 0..c.count(e, q) {
                    cat.add(e, q);
                }
            }
        }
        for e in p.labels() {
            for q in p.labels() {
                for _ in 0..p.count(e, q) {
                    pri.add(e, q);
                }
            }
        }
    }
    println!(
        "5-fold CV category accuracy {:.3} macro-F1 {:.3}, priority accuracy {:.3} macro-F1 {:.3}",
        cat.accuracy(),
        cat.macro_f1(),
        pri.accuracy(),
        pri.macro_f1()
    );
    assert!(cat.macro_f1() >= 0.65, "category {:.3}", cat.macro_f1());
    assert!(pri.macro_f1() >= 0.68, "priority {:.3}", pri.macro_f1());
}

fn ticket(subject: &str, body: &str) -> Value {
    json!({"ticket": {"subject": subject, "body": body, "channel": "email",
                      "customer_name": "Dana Whitfield", "customer_email": "dana@client.test"}})
}

async fn ask<T: schemars::JsonSchema + serde::de::DeserializeOwned>(
    task: &str,
    context: Value,
) -> T {
    let engine = OfflineEngine::new();
    let messages = vec![ChatMessage::system("ignored by the offline engine")];
    let task = TriageTask::from_parts(task, context).expect("a known task with its context");
    call_structured::<T, _>(&engine, task, messages, |_| Ok(()))
        .await
        .expect("the offline engine answers every task with a valid output")
        .output
}

#[tokio::test]
async fn classification_answers_validate_and_explain() {
    let out: ClassificationOutput = ask(
        "classification",
        ticket(
            "Charged twice for hosting",
            "Our card shows two identical charges for this month's hosting invoice.",
        ),
    )
    .await;
    assert_eq!(out.category, Category::Billing);
    assert!(out.reason.contains("billing") && out.reason.contains('"'), "{}", out.reason);

    let out: ClassificationOutput = ask(
        "classification",
        ticket("Contact form broken", "The contact form shows an error when submitted."),
    )
    .await;
    assert_eq!(out.category, Category::Bug);

    let out: ClassificationOutput = ask(
        "classification",
        ticket(
            "Charged twice for our monthly invoice",
            "Hi, our credit card was billed twice for the March invoice. Please fix the duplicate payment.",
        ),
    )
    .await;
    assert_eq!(out.category, Category::Billing, "{}", out.reason);
}

#[tokio::test]
async fn priority_uses_cues_and_names_them() {
    let mut ctx =
        ticket("Website down", "The whole site is down for everyone, we are losing sales.");
    ctx["category"] = json!("bug");
    let out: PriorityOutput = ask("priority", ctx).await;
    assert_eq!(out.priority, Priority::Urgent);
    assert!(out.reason.contains("is down"), "{}", out.reason);

    let mut ctx =
        ticket("Typo on pricing page", "Small typo in the second paragraph, no rush at all.");
    ctx["category"] = json!("bug");
    let out: PriorityOutput = ask("priority", ctx).await;
    assert_eq!(out.priority, Priority::Low);
    assert!(out.reason.contains("no rush"), "{}", out.reason);

    // A feature request is never urgent, however it is worded.
    let mut ctx = ticket(
        "Need a landing page immediately",
        "Right now, please, the campaign launches tomorrow.",
    );
    ctx["category"] = json!("feature_request");
    let out: PriorityOutput = ask("priority", ctx).await;
    assert_eq!(out.priority, Priority::High);
}

#[tokio::test]
async fn assignee_prefers_the_least_loaded_agent() {
    let ctx = json!({"ticket": {"subject": "x", "body": "y"}, "candidates": [
        {"id": "00000000-0000-7000-8000-000000000001", "name": "Alex", "role": "admin", "open_tickets": 0},
        {"id": "00000000-0000-7000-8000-000000000002", "name": "Sam", "role": "agent", "open_tickets": 2},
        {"id": "00000000-0000-7000-8000-000000000003", "name": "Robin", "role": "agent", "open_tickets": 5},
        {"id": "00000000-0000-7000-8000-000000000004", "name": "Kim", "role": "agent", "open_tickets": 2}
    ]});
    let out: AssigneeOutput = ask("assignee_suggestion", ctx).await;
    assert_eq!(out.assignee_user_id.as_deref(), Some("00000000-0000-7000-8000-000000000004"));
    assert_eq!(out.reason, "Lowest open load among agents: Kim (2 open tickets).");

    let admins_only = json!({"candidates": [
        {"id": "a", "name": "Alex", "role": "admin", "open_tickets": 1},
        {"id": "b", "name": "Bo", "role": "admin", "open_tickets": 4}
    ]});
    let out: AssigneeOutput = ask("assignee_suggestion", admins_only).await;
    assert_eq!(out.assignee_user_id.as_deref(), Some("a"));
    assert!(out.reason.contains("no agents available") && out.reason.contains("1 open ticket)"));

    let out: AssigneeOutput = ask("assignee_suggestion", json!({"candidates": []})).await;
    assert_eq!(out.assignee_user_id, None);
    assert!(!out.reason.is_empty());
}

#[tokio::test]
async fn reply_is_personal_safe_and_never_quotes_the_policies() {
    let mut ctx = ticket("Invoice shows the wrong VAT", "The VAT on INV-300 is wrong.");
    ctx["category"] = json!("billing");
    ctx["priority"] = json!("medium");
    ctx["policies"] =
        json!("Billing questions are answered by our finance team. We reply within 24 hours.");
    ctx["tenant_name"] = json!("Acme Agency");
    let out: ReplyDraftOutput = ask("reply_draft", ctx).await;
    assert!(out.reply_body.starts_with("Hi Dana,"), "{}", out.reply_body);
    assert!(out.reply_body.contains("\"Invoice shows the wrong VAT\""));
    // Policies guide language models; the offline engine never pastes them to a customer.
    assert!(!out.reply_body.contains("finance team"), "{}", out.reply_body);
    assert!(!out.reply_body.contains("24 hours"));
    assert!(!out.reply_body.contains("policy"), "{}", out.reply_body);
    assert!(out.reply_body.ends_with("The Acme Agency team"));
    assert_eq!(check_reply(&out.reply_body), []);
}

#[test]
fn unknown_tasks_and_incomplete_contexts_cannot_be_built() {
    // The engine matches on the typed task, so these never reach it: they fail when built.
    let unknown = TriageTask::from_parts("summarise", ticket("a", "b"));
    assert!(unknown.is_err_and(|e| e.to_string().contains("summarise")));
    let no_category = TriageTask::from_parts("priority", ticket("a", "b"));
    assert!(no_category.is_err_and(|e| e.to_string().contains("category")));
}

#[tokio::test]
async fn answers_are_deterministic() {
    let engine = OfflineEngine::new();
    let request = LlmRequest {
        task: TriageTask::from_parts(
            "classification",
            ticket("Add Apple Pay", "Could you add Apple Pay at checkout?"),
        )
        .expect("classification task"),
        messages: vec![],
        schema_name: "classification".into(),
        schema: json!({}),
    };
    let first = engine.complete(&request).await.expect("answer");
    for _ in 0..5 {
        assert_eq!(engine.complete(&request).await.expect("answer"), first);
    }
    assert_eq!((first.model.as_str(), first.attempts), (MODEL, 1));
    assert_eq!(first.value["category"], "feature_request");
}

/// The engine's confidences mean what they say on tickets it was not trained on: the expected
/// calibration error stays small, and confident answers are right more often than unsure ones.
/// Figures: `cargo run -p opsflow -- eval` (also in docs/triage-quality.md).
#[test]
fn heldout_confidences_are_calibrated() {
    let engine = OfflineEngine::new();
    let mut category = Vec::new();
    let mut priority = Vec::new();
    for t in heldout() {
        let c = engine.classify(&t.subject, &t.body);
        let p = engine.prioritise(&t.subject, &t.body, c.category);
        assert!((0.0..=1.0).contains(&c.probability) && (0.0..=1.0).contains(&p.probability));
        category.push((c.probability, c.category == t.category));
        priority.push((p.probability, p.priority == t.priority));
    }
    for (name, samples) in [("category", &category), ("priority", &priority)] {
        let cal = crate::eval::calibration(samples, 5);
        assert!(cal.ece < 0.25, "{name}: {}", cal.render());
        let (sure, unsure): (Vec<_>, Vec<_>) = samples.iter().partition(|(conf, _)| *conf >= 0.8);
        let accuracy = |v: &[&(f64, bool)]| {
            v.iter().filter(|(_, right)| *right).count() as f64 / v.len().max(1) as f64
        };
        assert!(!sure.is_empty() && !unsure.is_empty(), "{name}");
        assert!(accuracy(&sure) > accuracy(&unsure), "{name}: {}", cal.render());
    }
}

#[tokio::test]
async fn answers_carry_a_confidence_between_0_and_1() {
    let clear: ClassificationOutput = ask(
        "classification",
        ticket(
            "Invoice charged twice",
            "My card was charged twice for the same invoice, please refund the payment.",
        ),
    )
    .await;
    let vague: ClassificationOutput = ask("classification", ticket("Hello", "Quick one.")).await;
    let (clear_c, vague_c) = (clear.confidence.expect("given"), vague.confidence.expect("given"));
    assert!((0.0..=1.0).contains(&clear_c) && (0.0..=1.0).contains(&vague_c));
    assert!(clear_c > vague_c, "clear {clear_c} vs vague {vague_c}");
    let mut context = ticket("Checkout is down", "Nobody can pay, we are losing orders.");
    context["category"] = json!("bug");
    let priority: PriorityOutput = ask("priority", context).await;
    assert!(priority.confidence.is_some_and(|c| (0.0..=1.0).contains(&c)), "{priority:?}");
}
/// Reasons name words a person would recognise as the evidence, never filler ("every",
/// "since", "wed"): checked on every labelled ticket.
#[test]
fn category_reasons_never_name_stop_words() {
    let engine = OfflineEngine::new();
    let nltk = stop_words::get("en");
    let mut named = 0;
    for t in heldout().iter().chain(&training()) {
        for cue in engine.classify(&t.subject, &t.body).cues {
            named += 1;
            assert!(!nltk.contains(&cue.as_str()), "{cue:?} in {:?}", t.subject);
            assert!(classifier::is_meaningful(&cue), "{cue:?} in {:?}", t.subject);
            for filler in ["every", "since", "wed", "like", "still", "even"] {
                assert_ne!(cue, filler, "{:?}", t.subject);
            }
        }
    }
    // Most tickets still get named evidence.
    assert!(named > 470, "only {named} cues named");
}
