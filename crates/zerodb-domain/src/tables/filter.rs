//! Row filters and sorting, validated against a table's schema.
//!
//! The filter language is a JSON object, every entry ANDed: `{"name": "ada"}` is equality,
//! `{"age": {"$gte": 30, "$lt": 40}}` applies operators. Operators: `$eq $ne $gt $gte $lt
//! $lte $in $contains`. `$contains` is a substring test on string columns and JSON
//! containment on json columns. Values are checked against the column type, so adapters
//! receive only well-typed operands.

use super::schema::{ColumnType, TableSchema};
use crate::error::{FieldViolation, ServiceError};
use serde_json::{Map, Value};

pub const MAX_IN_VALUES: usize = 1000;
pub const MAX_CONDITIONS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Contains,
}

impl FilterOp {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "$eq" => FilterOp::Eq,
            "$ne" => FilterOp::Ne,
            "$gt" => FilterOp::Gt,
            "$gte" => FilterOp::Gte,
            "$lt" => FilterOp::Lt,
            "$lte" => FilterOp::Lte,
            "$in" => FilterOp::In,
            "$contains" => FilterOp::Contains,
            _ => return None,
        })
    }
}

/// One typed comparison. `value` is normalised for the column type; for `In` it is an array
/// of normalised values; `Null` only appears with `Eq`/`Ne` (IS NULL / IS NOT NULL).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: String,
    pub column_type: ColumnType,
    pub op: FilterOp,
    pub value: Value,
}

/// A validated conjunction of conditions; empty matches every row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowFilter {
    pub conditions: Vec<Condition>,
    /// When set, only the row of this id (and only if it meets the conditions).
    pub row_id: Option<uuid::Uuid>,
}

impl RowFilter {
    /// The one row of this id.
    pub fn row(row_id: uuid::Uuid) -> Self {
        Self { conditions: Vec::new(), row_id: Some(row_id) }
    }
}

impl RowFilter {
    pub fn parse(filter: Option<&Value>, schema: &TableSchema) -> Result<Self, ServiceError> {
        let Some(filter) = filter else {
            return Ok(Self::default());
        };
        let Value::Object(entries) = filter else {
            return Err(ServiceError::invalid("filter", "must be a JSON object"));
        };
        let mut conditions = Vec::new();
        let mut violations = Vec::new();
        for (column, spec) in entries {
            let field = format!("filter.{column}");
            let Some(def) = schema.column(column) else {
                violations.push(FieldViolation::new(field, "is not a column of this table"));
                continue;
            };
            let ops: Vec<(FilterOp, &Value)> = match spec {
                Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
                    match parse_ops(ops) {
                        Ok(ops) => ops,
                        Err(reason) => {
                            violations.push(FieldViolation::new(field, reason));
                            continue;
                        }
                    }
                }
                other => vec![(FilterOp::Eq, other)],
            };
            for (op, operand) in ops {
                match typed_operand(def.column_type, op, operand) {
                    Ok(value) => conditions.push(Condition {
                        column: column.clone(),
                        column_type: def.column_type,
                        op,
                        value,
                    }),
                    Err(reason) => violations.push(FieldViolation::new(field.clone(), reason)),
                }
            }
        }
        if conditions.len() > MAX_CONDITIONS {
            violations.push(FieldViolation::new("filter", "too many conditions (max 64)"));
        }
        if violations.is_empty() {
            Ok(Self { conditions, row_id: None })
        } else {
            Err(ServiceError::InvalidInput(violations))
        }
    }
}

fn parse_ops(ops: &Map<String, Value>) -> Result<Vec<(FilterOp, &Value)>, String> {
    ops.iter()
        .map(|(k, v)| {
            FilterOp::parse(k).map(|op| (op, v)).ok_or_else(|| format!("unknown operator {k:?}"))
        })
        .collect()
}

fn typed_operand(column_type: ColumnType, op: FilterOp, operand: &Value) -> Result<Value, String> {
    use ColumnType as T;
    use FilterOp as Op;
    match op {
        Op::Eq | Op::Ne if operand.is_null() => Ok(Value::Null),
        Op::In => {
            let Value::Array(items) = operand else {
                return Err("$in takes an array".into());
            };
            if items.is_empty() || items.len() > MAX_IN_VALUES {
                return Err(format!("$in takes 1 to {MAX_IN_VALUES} values"));
            }
            if column_type == T::Json {
                return Err("$in is not supported on json columns; use $contains".into());
            }
            items
                .iter()
                .map(|v| column_type.normalise(v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Op::Contains => match column_type {
            T::String if operand.is_string() => column_type.normalise(operand),
            T::String => Err("$contains on a string column takes a string".into()),
            T::Json => column_type.normalise(operand),
            _ => Err("$contains applies to string and json columns".into()),
        },
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => match column_type {
            T::Boolean | T::Json => Err(format!(
                "ordering comparisons do not apply to {} columns",
                column_type.as_str()
            )),
            _ if operand.is_null() => Err("cannot compare with null".into()),
            _ => column_type.normalise(operand),
        },
        Op::Eq | Op::Ne => column_type.normalise(operand),
    }
}

/// Sort order of a row query: one column, then insertion order as the tie-breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSort {
    pub column: String,
    pub column_type: ColumnType,
    pub descending: bool,
}

impl RowSort {
    /// Parses `column` or `-column` (descending).
    pub fn parse(spec: Option<&str>, schema: &TableSchema) -> Result<Option<Self>, ServiceError> {
        let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let (column, descending) = match spec.strip_prefix('-') {
            Some(c) => (c, true),
            None => (spec.strip_prefix('+').unwrap_or(spec), false),
        };
        let def = schema.column(column).ok_or_else(|| {
            ServiceError::invalid("sort", format!("{column:?} is not a column of this table"))
        })?;
        if def.column_type == ColumnType::Json {
            return Err(ServiceError::invalid("sort", "json columns cannot be sorted on"));
        }
        Ok(Some(Self { column: column.to_owned(), column_type: def.column_type, descending }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> TableSchema {
        TableSchema::from_json(json!({"columns": {
            "name": "string", "age": "integer", "ok": "boolean", "meta": "json", "at": "timestamp"
        }}))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_equality_and_operators() {
        let f = RowFilter::parse(
            Some(&json!({"name": "ada", "age": {"$gte": 30, "$lt": 40}})),
            &schema(),
        );
        let f = f.unwrap_or_default();
        assert_eq!(f.conditions.len(), 3);
        assert!(f.conditions.iter().any(|c| c.op == FilterOp::Gte && c.value == json!(30)));
    }

    #[test]
    fn rejects_unknown_columns_ops_and_mistyped_values() {
        let s = schema();
        for bad in [
            json!({"ghost": 1}),
            json!({"age": {"$regex": "x"}}),
            json!({"age": "thirty"}),
            json!({"age": {"$in": []}}),
            json!({"ok": {"$gt": true}}),
            json!({"age": {"$contains": 3}}),
            json!({"at": {"$gt": "not a time"}}),
            json!(["name"]),
        ] {
            assert!(RowFilter::parse(Some(&bad), &s).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn sql_metacharacters_are_just_values() {
        let f = RowFilter::parse(Some(&json!({"name": "x'; DROP TABLE users; --"})), &schema());
        assert!(f.is_ok());
    }

    #[test]
    fn sort_specs() {
        let s = schema();
        assert_eq!(
            RowSort::parse(Some("-age"), &s).ok().flatten().map(|s| s.descending),
            Some(true)
        );
        assert!(RowSort::parse(Some("meta"), &s).is_err());
        assert!(RowSort::parse(Some("ghost"), &s).is_err());
        assert_eq!(RowSort::parse(None, &s).ok(), Some(None));
    }
}
