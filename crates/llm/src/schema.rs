//! Adapts schemars JSON schemas to what provider structured-output modes accept.
//!
//! OpenAI's strict mode wants every object closed (`additionalProperties: false`), every property
//! listed in `required` (optional ones become nullable), and no `oneOf`; both providers are
//! happiest without `$ref`. schemars emits enums as `oneOf` of `const` strings and puts shared
//! types under `$defs`, so the schema is rewritten before it is sent.

use serde_json::{Map, Value};

/// Keys that carry no constraint a provider needs and that strict mode may reject.
const DROPPED_KEYS: &[&str] = &["$schema", "$defs", "definitions", "default", "examples", "title"];

/// Keys strict mode rejects on top of those (schemars writes `format: double` for `f64`).
const STRICT_DROPPED_KEYS: &[&str] = &["format"];

/// The schema with every local `$ref` inlined and metadata dropped (Anthropic `input_schema`).
#[must_use]
pub fn inline(schema: &Value) -> Value {
    let defs = definitions(schema);
    rewrite(schema, &defs, false, 0)
}

/// The schema in the shape OpenAI's `strict: true` structured outputs accept.
#[must_use]
pub fn strict(schema: &Value) -> Value {
    let defs = definitions(schema);
    rewrite(schema, &defs, true, 0)
}

fn definitions(schema: &Value) -> Map<String, Value> {
    let mut defs = Map::new();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(found)) = schema.get(key) {
            defs.extend(found.clone());
        }
    }
    defs
}

/// Limit on `$ref` nesting; the triage schemas are flat, and this stops a recursive schema.
const MAX_DEPTH: usize = 32;

fn rewrite(node: &Value, defs: &Map<String, Value>, strict: bool, depth: usize) -> Value {
    match node {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| rewrite(v, defs, strict, depth)).collect())
        }
        Value::Object(map) => rewrite_object(map, defs, strict, depth),
        other => other.clone(),
    }
}

fn rewrite_object(
    map: &Map<String, Value>,
    defs: &Map<String, Value>,
    strict: bool,
    depth: usize,
) -> Value {
    if let Some(target) = map.get("$ref").and_then(Value::as_str)
        && depth < MAX_DEPTH
    {
        let name = target.rsplit('/').next().unwrap_or_default();
        if let Some(def) = defs.get(name) {
            let mut resolved = match rewrite(def, defs, strict, depth + 1) {
                Value::Object(m) => m,
                other => return other,
            };
            // Siblings of `$ref` (usually a description) win over the definition's own.
            for (k, v) in map {
                if k != "$ref" && !DROPPED_KEYS.contains(&k.as_str()) {
                    resolved.insert(k.clone(), rewrite(v, defs, strict, depth));
                }
            }
            return Value::Object(resolved);
        }
    }
    let mut out = Map::new();
    for (key, value) in map {
        if DROPPED_KEYS.contains(&key.as_str())
            || (strict && STRICT_DROPPED_KEYS.contains(&key.as_str()))
        {
            continue;
        }
        let value = if key == "properties" {
            // Property names are data, not schema keywords: rewrite only their schemas.
            match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), rewrite(v, defs, strict, depth)))
                        .collect(),
                ),
                other => other.clone(),
            }
        } else {
            rewrite(value, defs, strict, depth)
        };
        out.insert(key.clone(), value);
    }
    if strict {
        make_strict(&mut out);
    }
    Value::Object(out)
}

fn make_strict(out: &mut Map<String, Value>) {
    if let Some(Value::Array(variants)) = out.remove("oneOf") {
        let consts: Option<Vec<Value>> = variants.iter().map(|v| v.get("const").cloned()).collect();
        match consts {
            // A Rust unit enum: `oneOf` of documented constants becomes a plain `enum`.
            Some(values) if !values.is_empty() && values.iter().all(Value::is_string) => {
                out.insert("type".to_owned(), Value::String("string".to_owned()));
                out.insert("enum".to_owned(), Value::Array(values));
            }
            _ => {
                out.insert("anyOf".to_owned(), Value::Array(variants));
            }
        }
    }
    let is_object =
        out.get("type").and_then(Value::as_str) == Some("object") || out.contains_key("properties");
    if !is_object {
        return;
    }
    out.insert("additionalProperties".to_owned(), Value::Bool(false));
    let required: Vec<String> = out
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let Some(Value::Object(props)) = out.get_mut("properties") else {
        out.insert("properties".to_owned(), Value::Object(Map::new()));
        out.insert("required".to_owned(), Value::Array(Vec::new()));
        return;
    };
    let mut all = Vec::with_capacity(props.len());
    for (name, prop) in props.iter_mut() {
        if !required.contains(name) {
            make_nullable(prop);
        }
        all.push(name.clone());
    }
    // Sorted, so the schema sent is the same whether or not serde_json keeps insertion order
    // (a feature another dependency may switch on).
    all.sort();
    out.insert("required".to_owned(), Value::Array(all.into_iter().map(Value::String).collect()));
}

/// Strict mode has no optional properties: an optional one must accept `null` instead.
fn make_nullable(prop: &mut Value) {
    let Value::Object(map) = prop else { return };
    match map.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = std::mem::take(t);
            map.insert("type".to_owned(), serde_json::json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(Value::String("null".to_owned()));
            }
        }
        _ => {
            let inner = Value::Object(std::mem::take(map));
            map.insert("anyOf".to_owned(), serde_json::json!([inner, {"type": "null"}]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsflow_domain::{AssigneeOutput, ClassificationOutput};
    use opsflow_ports::llm::schema_for;
    use serde_json::json;

    fn has_key(v: &Value, key: &str) -> bool {
        match v {
            Value::Object(m) => m.contains_key(key) || m.values().any(|x| has_key(x, key)),
            Value::Array(a) => a.iter().any(|x| has_key(x, key)),
            _ => false,
        }
    }

    #[test]
    fn classification_schema_becomes_strict() {
        let strict = strict(&schema_for::<ClassificationOutput>());
        assert_eq!(strict["type"], "object");
        assert_eq!(strict["additionalProperties"], false);
        assert_eq!(strict["required"], json!(["category", "confidence", "reason"]));
        assert_eq!(strict["properties"]["category"]["type"], "string");
        // The optional self-reported confidence is required-but-nullable in strict mode.
        let c = &strict["properties"]["confidence"]["type"];
        assert!(c.as_array().is_some_and(|a| a.contains(&json!("null"))), "{strict}");
        assert_eq!(
            strict["properties"]["category"]["enum"],
            json!(["bug", "feature_request", "billing", "general", "other"])
        );
        for key in ["$ref", "$defs", "oneOf", "$schema"] {
            assert!(!has_key(&strict, key), "{key} left in {strict}");
        }
    }

    #[test]
    fn nullable_assignee_stays_nullable() {
        let strict = strict(&schema_for::<AssigneeOutput>());
        assert_eq!(strict["required"], json!(["assignee_user_id", "confidence", "reason"]));
        let t = &strict["properties"]["assignee_user_id"]["type"];
        assert!(t.as_array().is_some_and(|a| a.contains(&json!("null"))), "{strict}");
    }

    #[test]
    fn optional_properties_become_required_and_nullable() {
        let schema = json!({
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"$ref": "#/$defs/C"}},
            "required": ["a"],
            "$defs": {"C": {"type": "object", "properties": {"x": {"type": "boolean"}}}}
        });
        let strict = strict(&schema);
        assert_eq!(strict["required"], json!(["a", "b", "c"]));
        assert_eq!(strict["properties"]["a"]["type"], "string");
        assert_eq!(strict["properties"]["b"]["type"], json!(["integer", "null"]));
        assert_eq!(strict["properties"]["c"]["type"], json!(["object", "null"]));
        assert_eq!(strict["properties"]["c"]["additionalProperties"], false);
        assert_eq!(strict["properties"]["c"]["required"], json!(["x"]));
    }

    #[test]
    fn inline_keeps_the_original_shape() {
        let inlined = inline(&schema_for::<ClassificationOutput>());
        assert!(!has_key(&inlined, "$ref"));
        assert!(!has_key(&inlined, "$defs"));
        assert_eq!(inlined["type"], "object");
        assert_eq!(inlined["required"], json!(["category", "reason"]));
    }

    #[test]
    fn recursive_refs_terminate() {
        let schema = json!({"$ref": "#/$defs/N", "$defs": {"N": {"type": "object",
            "properties": {"next": {"$ref": "#/$defs/N"}}}}});
        let out = strict(&schema);
        assert_eq!(out["type"], "object");
    }
}
