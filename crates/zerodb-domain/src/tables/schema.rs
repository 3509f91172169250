//! Table schemas: typed columns, required flags and defaults, and row validation.

use crate::error::{FieldViolation, ServiceError};
use crate::storable::{NUL_REASON, json_violations, parse_timestamp};
use crate::validation::is_identifier;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const MAX_COLUMNS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Integer,
    Number,
    Boolean,
    /// RFC 3339 text, stored as given after validation.
    Timestamp,
    /// Stored in canonical lower-case hyphenated form.
    Uuid,
    /// Any JSON value.
    Json,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Uuid => "uuid",
            ColumnType::Json => "json",
        }
    }

    /// Checks a non-null value against the type and returns its stored form.
    pub fn normalise(self, value: &Value) -> Result<Value, String> {
        let expected = || format!("expected {}", self.as_str());
        match (self, value) {
            (ColumnType::String, Value::String(s)) if s.contains('\0') => Err(NUL_REASON.into()),
            (ColumnType::Json, v) => {
                let mut violations = Vec::new();
                json_violations("", v, &mut violations);
                match violations.first() {
                    None => Ok(value.clone()),
                    Some(first) if first.field.is_empty() => Err(first.reason.clone()),
                    Some(first) => Err(format!("{} (at {})", first.reason, first.field)),
                }
            }
            (ColumnType::String, Value::String(_))
            | (ColumnType::Number, Value::Number(_))
            | (ColumnType::Boolean, Value::Bool(_)) => Ok(value.clone()),
            (ColumnType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                n.as_i64().map(Value::from).ok_or_else(|| "integer out of range".to_owned())
            }
            (ColumnType::Integer, Value::Number(n)) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
                _ => Err(expected()),
            },
            (ColumnType::Timestamp, Value::String(s)) => parse_timestamp(s).map(|_| value.clone()),
            (ColumnType::Uuid, Value::String(s)) => Uuid::try_parse(s)
                .map(|u| Value::String(u.hyphenated().to_string()))
                .map_err(|_| "expected a UUID".to_owned()),
            _ => Err(expected()),
        }
    }
}

/// One column of a table schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// A validated schema: `{"columns": {"name": {"type": "string", "required": true}, "age":
/// "integer"}}`. The short form `"age": "integer"` means an optional column without default.
/// Rows may hold only declared columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableSchema {
    pub columns: BTreeMap<String, ColumnDef>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ColumnSpec {
    Short(ColumnType),
    Full(ColumnDef),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaDocument {
    columns: Map<String, Value>,
}

impl TableSchema {
    pub fn from_json(value: Value) -> Result<Self, ServiceError> {
        let doc: SchemaDocument = serde_json::from_value(value).map_err(|e| {
            ServiceError::invalid(
                "schema_definition",
                format!("expected {{\"columns\": {{...}}}}: {e}"),
            )
        })?;
        if doc.columns.is_empty() || doc.columns.len() > MAX_COLUMNS {
            return Err(ServiceError::invalid(
                "schema_definition.columns",
                format!("must declare 1 to {MAX_COLUMNS} columns"),
            ));
        }
        let mut violations = Vec::new();
        let mut columns = BTreeMap::new();
        for (name, spec) in doc.columns {
            let field = format!("schema_definition.columns.{name}");
            if !is_identifier(&name) {
                violations.push(FieldViolation::new(
                    field,
                    "column names are letters, digits and _, starting with a letter or _, at most 63",
                ));
                continue;
            }
            let def = match serde_json::from_value::<ColumnSpec>(spec) {
                Ok(ColumnSpec::Short(column_type)) => {
                    ColumnDef { column_type, required: false, default: None }
                }
                Ok(ColumnSpec::Full(def)) => def,
                Err(_) => {
                    violations.push(FieldViolation::new(
                        field,
                        "expected a type (string, integer, number, boolean, timestamp, uuid, json) \
                         or {\"type\", \"required\", \"default\"}",
                    ));
                    continue;
                }
            };
            let def = match def.default {
                Some(Value::Null) => ColumnDef { default: None, ..def },
                Some(ref d) => match def.column_type.normalise(d) {
                    Ok(normalised) => ColumnDef { default: Some(normalised), ..def },
                    Err(reason) => {
                        violations.push(FieldViolation::new(format!("{field}.default"), reason));
                        continue;
                    }
                },
                None => def,
            };
            columns.insert(name, def);
        }
        if violations.is_empty() {
            Ok(Self { columns })
        } else {
            Err(ServiceError::InvalidInput(violations))
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.get(name)
    }

    /// Validates a row for insertion: applies defaults, normalises values, and reports every
    /// problem with the field path `{prefix}.{column}`.
    pub fn validate_row(
        &self,
        row: &Map<String, Value>,
        prefix: &str,
    ) -> Result<Map<String, Value>, Vec<FieldViolation>> {
        let mut violations = self.unknown_columns(row, prefix);
        let mut out = Map::new();
        for (name, def) in &self.columns {
            let field = || format!("{prefix}.{name}");
            match row.get(name) {
                Some(Value::Null) | None => match &def.default {
                    Some(default) => {
                        out.insert(name.clone(), default.clone());
                    }
                    None if def.required => {
                        violations.push(FieldViolation::new(field(), "is required"));
                    }
                    None => {}
                },
                Some(value) => match def.column_type.normalise(value) {
                    Ok(v) => {
                        out.insert(name.clone(), v);
                    }
                    Err(_) if def.column_type == ColumnType::Json => {
                        json_violations(&field(), value, &mut violations);
                    }
                    Err(reason) => violations.push(FieldViolation::new(field(), reason)),
                },
            }
        }
        if violations.is_empty() { Ok(out) } else { Err(violations) }
    }

    /// Validates a partial update: only declared columns, typed values, and no nulls for
    /// required columns.
    pub fn validate_patch(
        &self,
        patch: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ServiceError> {
        if patch.is_empty() {
            return Err(ServiceError::invalid("set", "must name at least one column"));
        }
        let mut violations = self.unknown_columns(patch, "set");
        let mut out = Map::new();
        for (name, value) in patch {
            let Some(def) = self.columns.get(name) else {
                continue;
            };
            let field = format!("set.{name}");
            match value {
                Value::Null if def.required => {
                    violations.push(FieldViolation::new(field, "is required and cannot be null"));
                }
                Value::Null => {
                    out.insert(name.clone(), Value::Null);
                }
                v => match def.column_type.normalise(v) {
                    Ok(v) => {
                        out.insert(name.clone(), v);
                    }
                    Err(_) if def.column_type == ColumnType::Json => {
                        json_violations(&field, v, &mut violations);
                    }
                    Err(reason) => violations.push(FieldViolation::new(field, reason)),
                },
            }
        }
        if violations.is_empty() { Ok(out) } else { Err(ServiceError::InvalidInput(violations)) }
    }

    fn unknown_columns(&self, row: &Map<String, Value>, prefix: &str) -> Vec<FieldViolation> {
        row.keys()
            .filter(|k| !self.columns.contains_key(k.as_str()))
            .map(|k| {
                let shown: String = k.escape_debug().collect();
                FieldViolation::new(format!("{prefix}.{shown}"), "is not a column of this table")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> TableSchema {
        TableSchema::from_json(json!({"columns": {
            "title": {"type": "string", "required": true},
            "views": {"type": "integer", "default": 0},
            "score": "number",
            "done": "boolean",
            "at": "timestamp",
            "ref": "uuid",
            "extra": "json"
        }}))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_and_normalisation() {
        let row = schema()
            .validate_row(
                &obj(json!({"title": "a", "ref": "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "score": 1.5})),
                "rows[0]",
            )
            .unwrap_or_default();
        assert_eq!(row.get("views"), Some(&json!(0)));
        assert_eq!(row.get("ref"), Some(&json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")));
    }

    #[test]
    fn every_violation_is_named() {
        let errs = schema()
            .validate_row(
                &obj(json!({"views": "many", "done": 1, "at": "yesterday", "ghost": 1})),
                "rows[3]",
            )
            .err()
            .unwrap_or_default();
        let fields: Vec<_> = errs.iter().map(|v| v.field.as_str()).collect();
        for f in ["rows[3].ghost", "rows[3].title", "rows[3].views", "rows[3].done", "rows[3].at"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn bad_schemas_rejected() {
        for bad in [
            json!({}),
            json!({"columns": {}}),
            json!({"columns": {"a b": "string"}}),
            json!({"columns": {"a": "varchar"}}),
            json!({"columns": {"a": {"type": "integer", "default": "x"}}}),
            json!({"columns": {"a": "string"}, "other": 1}),
        ] {
            assert!(TableSchema::from_json(bad.clone()).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn patch_rules() {
        let s = schema();
        assert!(s.validate_patch(&obj(json!({"title": null}))).is_err());
        assert!(s.validate_patch(&obj(json!({}))).is_err());
        assert!(s.validate_patch(&obj(json!({"nope": 1}))).is_err());
        assert!(s.validate_patch(&obj(json!({"score": null, "views": 3}))).is_ok());
    }
}
