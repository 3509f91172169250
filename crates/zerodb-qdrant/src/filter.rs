//! Metadata filters as Qdrant filters.
//!
//! Qdrant's conditions do not mean exactly what ZeroDB's do: `match` on an array field
//! matches when any element is equal, `is_empty` holds for null and `[]` as well as for a
//! missing field, and there are no string ranges or substring tests without a full-text
//! index. So the translation is a *superset*: every vector that matches the ZeroDB filter
//! passes the Qdrant filter, and the exact filter runs again on the returned payloads.
//! Conditions with no safe counterpart (negations, string ranges, `$contains`, `$exists:
//! true`) translate to "no condition", which only makes Qdrant return more to sift.

use serde_json::{Value, json};
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{Condition, MetadataFilter};

/// Where the metadata lives in a point's payload.
pub const METADATA: &str = "metadata";

/// The tenant conditions every request carries, plus the filter's superset when it has one.
pub fn scoped(project_id: ProjectId, namespace: &str, filter: Option<&MetadataFilter>) -> Value {
    let mut must = vec![
        json!({"key": "project_id", "match": {"value": project_id.to_string()}}),
        json!({"key": "namespace", "match": {"value": namespace}}),
    ];
    if let Some(condition) = filter.and_then(superset) {
        must.push(condition);
    }
    json!({"must": must})
}

/// Every point of the project, in any namespace.
pub fn project(project_id: ProjectId) -> Value {
    json!({"must": [{"key": "project_id", "match": {"value": project_id.to_string()}}]})
}

/// A Qdrant condition that every match of `filter` satisfies, or `None` for "any point".
pub fn superset(filter: &MetadataFilter) -> Option<Value> {
    match filter {
        MetadataFilter::And(all) => {
            let must: Vec<Value> = all.iter().filter_map(superset).collect();
            (!must.is_empty()).then(|| json!({"must": must}))
        }
        MetadataFilter::Or(any) => {
            let should = any.iter().map(superset).collect::<Option<Vec<Value>>>()?;
            (!should.is_empty()).then(|| json!({"should": should}))
        }
        MetadataFilter::Not(_) => None,
        MetadataFilter::Field { path, condition } => {
            let key = key(path)?;
            match condition {
                Condition::Eq(v) => equal(&key, v),
                Condition::In(values) => {
                    let should =
                        values.iter().map(|v| equal(&key, v)).collect::<Option<Vec<_>>>()?;
                    (!should.is_empty()).then(|| json!({"should": should}))
                }
                Condition::Gt(v) => range(&key, "gt", v),
                Condition::Gte(v) => range(&key, "gte", v),
                Condition::Lt(v) => range(&key, "lt", v),
                Condition::Lte(v) => range(&key, "lte", v),
                Condition::Exists(false) => Some(json!({"is_empty": {"key": key}})),
                Condition::Exists(true)
                | Condition::Ne(_)
                | Condition::Nin(_)
                | Condition::Contains(_) => None,
            }
        }
    }
}

/// `metadata.a.b`, when every part is a plain identifier Qdrant's key syntax takes as is.
fn key(path: &[String]) -> Option<String> {
    let plain = |p: &String| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    path.iter().all(plain).then(|| format!("{METADATA}.{}", path.join(".")))
}

fn equal(key: &str, value: &Value) -> Option<Value> {
    match value {
        Value::String(_) | Value::Bool(_) => Some(json!({"key": key, "match": {"value": value}})),
        // Stored as an integer or a float, a number equal to this one is in this range;
        // integers beyond f64's exact range may also be stored exactly, so match those too.
        Value::Number(n) => {
            let f = n.as_f64()?;
            let range = json!({"key": key, "range": {"gte": f, "lte": f}});
            match n.as_i64() {
                Some(i) if i.unsigned_abs() > 1 << 53 => {
                    Some(json!({"should": [range, {"key": key, "match": {"value": i}}]}))
                }
                _ => Some(range),
            }
        }
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn range(key: &str, bound: &str, value: &Value) -> Option<Value> {
    // Only numbers compare with numbers.
    let Value::Number(n) = value else { return None };
    let f = n.as_f64()?;
    let exact = n.is_f64()
        || n.as_i64().is_some_and(|i| i.unsigned_abs() <= 1 << 53)
        || n.as_u64().is_some_and(|u| u <= 1 << 53);
    if exact {
        return Some(json!({"key": key, "range": {bound: f}}));
    }
    // An integer past f64's exact range: widen the bound a little and make it inclusive, so
    // that rounding cannot exclude a match.
    let (bound, f) = match bound {
        "gt" | "gte" => ("gte", f - f.abs() * f64::EPSILON * 2.0),
        _ => ("lte", f + f.abs() * f64::EPSILON * 2.0),
    };
    Some(json!({"key": key, "range": {bound: f}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn translate(filter: Value) -> Option<Value> {
        superset(&MetadataFilter::parse(&filter).expect("a valid filter"))
    }

    #[test]
    fn equalities_and_ranges_translate() {
        assert_eq!(
            translate(json!({"tag": "a"})),
            Some(json!({"key": "metadata.tag", "match": {"value": "a"}}))
        );
        assert_eq!(
            translate(json!({"n": {"$gte": 2}})),
            Some(json!({"key": "metadata.n", "range": {"gte": 2.0}}))
        );
        assert_eq!(
            translate(json!({"author.name": {"$in": ["x", true]}})),
            Some(json!({"should": [
                {"key": "metadata.author.name", "match": {"value": "x"}},
                {"key": "metadata.author.name", "match": {"value": true}}
            ]}))
        );
    }

    #[test]
    fn conditions_without_a_safe_counterpart_widen_the_filter() {
        assert_eq!(translate(json!({"tag": {"$ne": "a"}})), None);
        assert_eq!(translate(json!({"$not": {"tag": "a"}})), None);
        assert_eq!(translate(json!({"s": {"$gt": "m"}})), None);
        // One unknown branch of an $or makes the whole $or unknown...
        assert_eq!(translate(json!({"$or": [{"a": 1}, {"b": {"$contains": "x"}}]})), None);
        // ...while an $and keeps its known parts.
        assert_eq!(
            translate(json!({"$and": [{"a": "x"}, {"b": {"$contains": "x"}}]})),
            Some(json!({"must": [{"key": "metadata.a", "match": {"value": "x"}}]}))
        );
        assert_eq!(translate(json!({"odd key!": "x"})), None);
    }
}
