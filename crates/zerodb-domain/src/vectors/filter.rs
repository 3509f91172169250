//! The metadata filter language shared by vector and memory search.
//!
//! `{"key": value}` is equality; operators are `$eq $ne $gt $gte $lt $lte $in $nin $exists
//! $contains`; `$and`, `$or` take arrays of filters and `$not` one filter. Keys may be dotted
//! paths into nested objects (`"author.name"`). Several keys in one object must all match.
//!
//! Comparisons follow JSON types: numbers compare with numbers, strings with strings
//! (byte order); a comparison across types, or with a missing field, does not match.
//! `$ne` and `$nin` match missing fields, as in MongoDB. `$contains` matches an array holding
//! the value, or a string holding the substring.

use crate::error::ServiceError;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// Deepest nesting of `$and`/`$or`/`$not` accepted, so a hostile filter cannot blow the stack.
const MAX_DEPTH: usize = 16;
/// Most conditions in one filter.
const MAX_CONDITIONS: usize = 256;
/// Most values one `$in` or `$nin` may list: each is compared against every candidate.
pub const MAX_LIST_VALUES: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum MetadataFilter {
    And(Vec<MetadataFilter>),
    Or(Vec<MetadataFilter>),
    Not(Box<MetadataFilter>),
    Field { path: Vec<String>, condition: Condition },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Exists(bool),
    Contains(Value),
}

/// Anything a filter can look values up in. A view may hold its values packed and decode
/// the one asked for, hence the `Cow`.
pub trait MetadataView {
    /// The value at a top-level key.
    fn top(&self, key: &str) -> Option<Cow<'_, Value>>;
}

impl MetadataView for Map<String, Value> {
    fn top(&self, key: &str) -> Option<Cow<'_, Value>> {
        self.get(key).map(Cow::Borrowed)
    }
}

impl MetadataFilter {
    /// Parses and validates a filter document; errors name the offending part.
    pub fn parse(value: &Value) -> Result<Self, ServiceError> {
        let mut conditions = 0;
        let filter = parse_object(value, 0, &mut conditions)?;
        if conditions > MAX_CONDITIONS {
            return Err(ServiceError::invalid("filter", "has more than 256 conditions"));
        }
        Ok(filter)
    }

    /// The top-level equalities with a string, number or boolean that every match must
    /// satisfy (`{"k": v}` at the root or under a root `$and`), so an index can narrow the
    /// candidates before the filter runs.
    pub fn required_equalities(&self) -> Vec<(&str, &Value)> {
        match self {
            Self::And(all) => all.iter().flat_map(Self::required_equalities).collect(),
            Self::Field { path, condition: Condition::Eq(v) }
                if path.len() == 1
                    && matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) =>
            {
                vec![(path[0].as_str(), v)]
            }
            Self::Or(_) | Self::Not(_) | Self::Field { .. } => Vec::new(),
        }
    }

    /// The equality when it is the whole filter (`{"k": v}` with a string, number or
    /// boolean): an index that lists values by that key has the exact matches in its list,
    /// since it compares them as the filter does (numbers by value).
    pub fn single_equality(&self) -> Option<(&str, &Value)> {
        match self {
            Self::And(all) if all.len() == 1 => all[0].single_equality(),
            Self::Field { .. } => self.required_equalities().pop(),
            Self::And(_) | Self::Or(_) | Self::Not(_) => None,
        }
    }

    /// Whether `metadata` satisfies the filter.
    pub fn matches<M: MetadataView + ?Sized>(&self, metadata: &M) -> bool {
        match self {
            Self::And(all) => all.iter().all(|f| f.matches(metadata)),
            Self::Or(any) => any.iter().any(|f| f.matches(metadata)),
            Self::Not(inner) => !inner.matches(metadata),
            Self::Field { path, condition } => {
                let top = path.split_first().and_then(|(first, _)| metadata.top(first));
                condition.holds(top.as_deref().and_then(|top| descend(top, &path[1..])))
            }
        }
    }
}

fn invalid(reason: impl Into<String>) -> ServiceError {
    ServiceError::invalid("filter", reason)
}

fn parse_object(
    value: &Value,
    depth: usize,
    count: &mut usize,
) -> Result<MetadataFilter, ServiceError> {
    if depth > MAX_DEPTH {
        return Err(invalid("is nested more than 16 levels deep"));
    }
    let Value::Object(map) = value else {
        return Err(invalid("must be a JSON object"));
    };
    let mut parts = Vec::with_capacity(map.len());
    for (key, inner) in map {
        parts.push(match key.as_str() {
            "$and" | "$or" => {
                let Value::Array(items) = inner else {
                    return Err(invalid(format!("{key} takes an array of filters")));
                };
                if items.is_empty() {
                    return Err(invalid(format!("{key} needs at least one filter")));
                }
                let list = items
                    .iter()
                    .map(|i| parse_object(i, depth + 1, count))
                    .collect::<Result<Vec<_>, _>>()?;
                if key == "$and" { MetadataFilter::And(list) } else { MetadataFilter::Or(list) }
            }
            "$not" => MetadataFilter::Not(Box::new(parse_object(inner, depth + 1, count)?)),
            op if op.starts_with('$') => {
                return Err(invalid(format!("unknown operator {op} at the top of a filter")));
            }
            field => {
                let path = parse_path(field)?;
                parse_field(path, inner, count)?
            }
        });
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { MetadataFilter::And(parts) })
}

fn parse_path(field: &str) -> Result<Vec<String>, ServiceError> {
    let path: Vec<String> = field.split('.').map(str::to_owned).collect();
    if field.len() > 256 || path.iter().any(String::is_empty) {
        return Err(invalid(format!("'{field}' is not a valid field path")));
    }
    Ok(path)
}

fn parse_field(
    path: Vec<String>,
    value: &Value,
    count: &mut usize,
) -> Result<MetadataFilter, ServiceError> {
    // An object whose keys are all operators is a condition; anything else is equality.
    let operators = match value {
        Value::Object(map) if !map.is_empty() && map.keys().all(|k| k.starts_with('$')) => map,
        Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => {
            return Err(invalid("do not mix operators and plain keys in one condition"));
        }
        other => {
            *count += 1;
            return Ok(MetadataFilter::Field { path, condition: Condition::Eq(other.clone()) });
        }
    };
    let mut parts = Vec::with_capacity(operators.len());
    for (op, operand) in operators {
        *count += 1;
        let list = |op: &str| match operand {
            Value::Array(items) if items.len() <= MAX_LIST_VALUES => Ok(items.clone()),
            Value::Array(_) => Err(invalid(format!("{op} takes at most {MAX_LIST_VALUES} values"))),
            _ => Err(invalid(format!("{op} takes an array"))),
        };
        let ordered = |op: &str| match operand {
            Value::Number(_) | Value::String(_) => Ok(operand.clone()),
            _ => Err(invalid(format!("{op} takes a number or a string"))),
        };
        let condition = match op.as_str() {
            "$eq" => Condition::Eq(operand.clone()),
            "$ne" => Condition::Ne(operand.clone()),
            "$gt" => Condition::Gt(ordered(op)?),
            "$gte" => Condition::Gte(ordered(op)?),
            "$lt" => Condition::Lt(ordered(op)?),
            "$lte" => Condition::Lte(ordered(op)?),
            "$in" => Condition::In(list(op)?),
            "$nin" => Condition::Nin(list(op)?),
            "$exists" => match operand {
                Value::Bool(b) => Condition::Exists(*b),
                _ => return Err(invalid("$exists takes true or false")),
            },
            "$contains" => Condition::Contains(operand.clone()),
            other => return Err(invalid(format!("unknown operator {other}"))),
        };
        parts.push(MetadataFilter::Field { path: path.clone(), condition });
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { MetadataFilter::And(parts) })
}

/// The value at `rest` below a top-level value.
fn descend<'a>(top: &'a Value, rest: &[String]) -> Option<&'a Value> {
    let mut value = top;
    for key in rest {
        value = value.as_object()?.get(key)?;
    }
    Some(value)
}

/// JSON equality with numbers compared by value, so `1` equals `1.0`.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn json_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Condition {
    fn holds(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Self::Exists(want), v) => *want == v.is_some(),
            (Self::Ne(x), v) => !v.is_some_and(|v| json_eq(v, x)),
            (Self::Nin(xs), v) => !v.is_some_and(|v| xs.iter().any(|x| json_eq(v, x))),
            (_, None) => false,
            (Self::Eq(x), Some(v)) => json_eq(v, x),
            (Self::In(xs), Some(v)) => xs.iter().any(|x| json_eq(v, x)),
            (Self::Gt(x), Some(v)) => json_cmp(v, x) == Some(Ordering::Greater),
            (Self::Gte(x), Some(v)) => {
                matches!(json_cmp(v, x), Some(Ordering::Greater | Ordering::Equal))
            }
            (Self::Lt(x), Some(v)) => json_cmp(v, x) == Some(Ordering::Less),
            (Self::Lte(x), Some(v)) => {
                matches!(json_cmp(v, x), Some(Ordering::Less | Ordering::Equal))
            }
            (Self::Contains(x), Some(Value::Array(items))) => items.iter().any(|i| json_eq(i, x)),
            (Self::Contains(Value::String(x)), Some(Value::String(s))) => s.contains(x.as_str()),
            (Self::Contains(_), Some(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Map<String, Value> {
        json!({
            "genre": "jazz", "year": 1959, "rating": 4.5, "tags": ["modal", "cool"],
            "author": {"name": "Miles", "born": 1926}, "title": "Kind of Blue", "live": false
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    fn check(filter: Value) -> bool {
        MetadataFilter::parse(&filter).map(|f| f.matches(&doc())).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn required_equalities_are_only_those_every_match_needs() {
        let parse = |v: Value| MetadataFilter::parse(&v).unwrap_or_else(|e| panic!("{e}"));
        let f = parse(json!({"genre": "jazz", "$and": [{"title": {"$eq": "x"}}, {"year": 1}]}));
        let mut found: Vec<(&str, String)> =
            f.required_equalities().into_iter().map(|(k, v)| (k, v.to_string())).collect();
        found.sort_unstable();
        assert_eq!(
            found,
            [("genre", "\"jazz\"".into()), ("title", "\"x\"".into()), ("year", "1".into())]
        );
        for f in [
            json!({"$or": [{"genre": "jazz"}, {"genre": "rock"}]}),
            json!({"$not": {"genre": "jazz"}}),
            json!({"author.name": "Miles"}),
            json!({"genre": {"$ne": "jazz"}}),
            json!({"genre": ["jazz"]}),
        ] {
            assert!(parse(f.clone()).required_equalities().is_empty(), "{f}");
        }
    }

    #[test]
    fn operators_match_as_documented() {
        let cases = [
            (json!({"genre": "jazz"}), true),
            (json!({"genre": "rock"}), false),
            (json!({"year": 1959.0}), true),
            (json!({"year": {"$gt": 1958, "$lt": 1960}}), true),
            (json!({"year": {"$gte": 1959}}), true),
            (json!({"year": {"$lte": 1958}}), false),
            (json!({"genre": {"$gt": "blues"}}), true),
            (json!({"year": {"$gt": "1000"}}), false),
            (json!({"genre": {"$in": ["rock", "jazz"]}}), true),
            (json!({"genre": {"$nin": ["rock", "jazz"]}}), false),
            (json!({"missing": {"$nin": ["x"]}}), true),
            (json!({"missing": {"$ne": 1}}), true),
            (json!({"genre": {"$ne": "jazz"}}), false),
            (json!({"author.name": "Miles"}), true),
            (json!({"author.born": {"$lt": 1930}}), true),
            (json!({"author.name.first": "M"}), false),
            (json!({"tags": {"$contains": "modal"}}), true),
            (json!({"title": {"$contains": "Blue"}}), true),
            (json!({"year": {"$contains": 1}}), false),
            (json!({"live": {"$exists": true}}), true),
            (json!({"nope": {"$exists": false}}), true),
            (json!({"$or": [{"genre": "rock"}, {"year": 1959}]}), true),
            (json!({"$and": [{"genre": "jazz"}, {"year": 1960}]}), false),
            (json!({"$not": {"genre": "rock"}}), true),
            (json!({"genre": "jazz", "live": true}), false),
            (json!({"author": {"name": "Miles", "born": 1926}}), true),
            (json!({}), true),
        ];
        for (filter, expected) in cases {
            assert_eq!(check(filter.clone()), expected, "{filter}");
        }
    }

    /// A view that decodes each value it is asked for, as packed metadata does.
    struct Decoding(Map<String, Value>);

    impl MetadataView for Decoding {
        fn top(&self, key: &str) -> Option<Cow<'_, Value>> {
            self.0.get(key).cloned().map(Cow::Owned)
        }
    }

    #[test]
    fn decoding_views_match_like_a_map() {
        let view = Decoding(doc());
        let f = MetadataFilter::parse(&json!({"author.name": "Miles", "year": {"$gte": 1959}}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(f.matches(&view));
        let f = MetadataFilter::parse(&json!({"author.name": "Bill"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!f.matches(&view));
    }

    #[test]
    fn a_lone_equality_is_recognised() {
        let single = |f: Value| {
            let f = MetadataFilter::parse(&f).unwrap_or_else(|e| panic!("{e}"));
            f.single_equality().map(|(k, v)| (k.to_owned(), v.clone()))
        };
        assert_eq!(single(json!({"k": 7})), Some(("k".into(), json!(7))));
        assert_eq!(single(json!({"$and": [{"k": "v"}]})), Some(("k".into(), json!("v"))));
        assert_eq!(single(json!({"k": 7, "j": 1})), None);
        assert_eq!(single(json!({"k": {"$gt": 7}})), None);
        assert_eq!(single(json!({"a.b": 7})), None);
        assert_eq!(single(json!({"k": [7]})), None);
        assert_eq!(single(json!({"$or": [{"k": 7}]})), None);
    }

    #[test]
    fn bad_filters_are_rejected() {
        for bad in [
            json!([1]),
            json!({"$foo": 1}),
            json!({"a": {"$bogus": 1}}),
            json!({"a": {"$in": 1}}),
            json!({"a": {"$in": vec![1; MAX_LIST_VALUES + 1]}}),
            json!({"a": {"$nin": vec!["x"; MAX_LIST_VALUES + 1]}}),
            json!({"a": {"$gt": [1]}}),
            json!({"a": {"$exists": 1}}),
            json!({"$and": []}),
            json!({"$or": {"a": 1}}),
            json!({"a..b": 1}),
            json!({"a": {"$eq": 1, "b": 2}}),
        ] {
            assert!(MetadataFilter::parse(&bad).is_err(), "{bad}");
        }
        let mut deep = json!({"a": 1});
        for _ in 0..20 {
            deep = json!({ "$not": deep });
        }
        assert!(MetadataFilter::parse(&deep).is_err());
    }
}
