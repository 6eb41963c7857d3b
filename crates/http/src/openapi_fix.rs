//! Makes the generated OpenAPI document exact where poem-openapi cannot express it from the
//! types. This is the one place the document is adjusted; everything else comes from the code.
//!
//! - poem-openapi leaves `Option<T>` fields out of `required` but does not mark them
//!   `nullable`, although `None` is sent as `null`. Every optional property of a schema reachable
//!   from a response is marked `nullable: true`, and so are the request fields that accept `null`
//!   ([`NULLABLE_REQUEST_FIELDS`]).
//! - Every operation answers every status of [`crate::error::ApiError`] in the generated
//!   document. Statuses that an operation cannot return are removed: 413 without a request body,
//!   429 outside [`THROTTLED_OPERATIONS`]; 415 (wrong `Content-Type`) is added to every operation
//!   that takes a body.
//! - The `StepType` schema gets `x-steps`: every triage step in pipeline order with its label,
//!   what it is given and its prerequisites, from the domain ([`opsflow_domain::describe`]). The
//!   web UI generates its step list from it (`npm run gen:api`).

use std::collections::BTreeSet;

use opsflow_domain::StepType;
use serde_json::{Map, Value, json};

/// Request fields where `null` is accepted (and means "clear").
pub const NULLABLE_REQUEST_FIELDS: &[(&str, &str)] = &[
    ("TicketPatchRequest", "priority"),
    ("TicketPatchRequest", "category"),
    ("TicketPatchRequest", "assignee_id"),
];

/// Operations (method, path under `/api`) that can answer 429 Too Many Requests.
pub const THROTTLED_OPERATIONS: &[(&str, &str)] =
    &[("post", "/auth/login"), ("post", "/auth/signup"), ("post", "/auth/password")];

const ERROR_SCHEMA: &str = "#/components/schemas/ErrorBody";

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_owned());
            }
            for v in map.values() {
                collect_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The schema names reachable from any response.
fn response_schemas(doc: &Value) -> BTreeSet<String> {
    let mut pending = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for ops in paths.values().filter_map(Value::as_object) {
            for op in ops.values() {
                collect_refs(&op["responses"], &mut pending);
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            collect_refs(&doc["components"]["schemas"][&name], &mut pending);
        }
    }
    seen
}

fn mark_nullable(schema: &mut Value, property: &str) {
    if let Some(p) = schema["properties"].get_mut(property).and_then(Value::as_object_mut) {
        p.insert("nullable".to_owned(), Value::Bool(true));
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json; charset=utf-8": { "schema": { "$ref": ERROR_SCHEMA } } }
    })
}

/// Applies the adjustments to a generated document.
#[must_use]
pub fn fix(mut doc: Value) -> Value {
    let from_responses = response_schemas(&doc);
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for name in &from_responses {
            let Some(schema) = schemas.get_mut(name) else { continue };
            let required: BTreeSet<String> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            let optional: Vec<String> = schema["properties"]
                .as_object()
                .map(|p| p.keys().filter(|k| !required.contains(*k)).cloned().collect())
                .unwrap_or_default();
            for property in optional {
                mark_nullable(schema, &property);
            }
        }
        for (name, property) in NULLABLE_REQUEST_FIELDS {
            if let Some(schema) = schemas.get_mut(*name) {
                mark_nullable(schema, property);
            }
        }
        if let Some(schema) = schemas.get_mut("StepType").and_then(Value::as_object_mut) {
            schema.insert("x-steps".to_owned(), step_catalogue());
        }
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, ops) in paths.iter_mut() {
            let Some(ops) = ops.as_object_mut() else { continue };
            for (method, op) in ops.iter_mut() {
                let has_body = op.get("requestBody").is_some();
                let throttled = THROTTLED_OPERATIONS.contains(&(method.as_str(), path.as_str()));
                let Some(responses) = op["responses"].as_object_mut() else { continue };
                fix_responses(responses, has_body, throttled);
            }
        }
    }
    doc
}

/// Every triage step in pipeline order, described for people.
fn step_catalogue() -> Value {
    StepType::ALL
        .iter()
        .map(|&step| {
            let d = opsflow_domain::describe(step);
            json!({
                "value": step.as_str(),
                "label": d.label,
                "input": d.input,
                "prerequisites": opsflow_domain::prerequisites(step)
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn fix_responses(responses: &mut Map<String, Value>, has_body: bool, throttled: bool) {
    if !throttled {
        responses.remove("429");
    }
    if has_body {
        responses.insert(
            "415".to_owned(),
            error_response("The request body is not JSON (`Content-Type: application/json`)."),
        );
    } else {
        responses.remove("413");
    }
}

/// The document as JSON text.
#[must_use]
pub fn fixed_json(spec: &str) -> String {
    match serde_json::from_str::<Value>(spec) {
        Ok(doc) => serde_json::to_string_pretty(&fix(doc)).unwrap_or_else(|_| spec.to_owned()),
        Err(_) => spec.to_owned(),
    }
}
