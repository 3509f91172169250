//! A project's database: enablement, configuration and statistics.

use crate::error::{FieldViolation, ServiceError};
use crate::projects::Project;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The configurable keys of a project's database. Unknown keys are rejected so that a typo
/// never silently does nothing. Every key is optional; absent keys take the documented default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Upper bound on rows per dynamic table (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows_per_table: Option<u64>,
    /// Upper bound on the number of dynamic tables (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tables: Option<u32>,
}

impl DatabaseConfig {
    pub const DEFAULT_MAX_TABLES: u32 = 1000;

    /// Parses and validates a configuration document, naming every offending field.
    pub fn from_json(value: Value) -> Result<Self, ServiceError> {
        let Value::Object(map) = &value else {
            return Err(ServiceError::invalid("config", "must be a JSON object"));
        };
        const KNOWN: [&str; 2] = ["max_rows_per_table", "max_tables"];
        let mut violations: Vec<FieldViolation> = map
            .keys()
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .map(|k| FieldViolation::new(k.clone(), "unknown configuration key"))
            .collect();
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        let config: DatabaseConfig = serde_json::from_value(value)
            .map_err(|e| ServiceError::invalid("config", e.to_string()))?;
        if config.max_rows_per_table == Some(0) {
            violations.push(FieldViolation::new(
                "max_rows_per_table",
                "must be at least 1",
            ));
        }
        if let Some(n) = config.max_tables
            && !(1..=100_000).contains(&n)
        {
            violations.push(FieldViolation::new(
                "max_tables",
                "must be between 1 and 100000",
            ));
        }
        if violations.is_empty() {
            Ok(config)
        } else {
            Err(ServiceError::InvalidInput(violations))
        }
    }

    pub fn max_tables(&self) -> u32 {
        self.max_tables.unwrap_or(Self::DEFAULT_MAX_TABLES)
    }
}

/// What a project's database holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DatabaseStatistics {
    pub tables: u64,
    pub rows: u64,
    pub api_keys: u64,
}

/// The answer to "what is the state of this project's database".
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseStatus {
    pub project: Project,
    pub statistics: DatabaseStatistics,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_rejects_unknown_and_out_of_range_keys() {
        let err = DatabaseConfig::from_json(json!({"max_rowz": 5})).err();
        assert!(matches!(err, Some(ServiceError::InvalidInput(v)) if v[0].field == "max_rowz"));
        let err = DatabaseConfig::from_json(json!({"max_tables": 0})).err();
        assert!(matches!(err, Some(ServiceError::InvalidInput(v)) if v[0].field == "max_tables"));
        assert!(DatabaseConfig::from_json(json!({"max_tables": "ten"})).is_err());
        assert!(DatabaseConfig::from_json(json!([1])).is_err());
        let ok = DatabaseConfig::from_json(json!({"max_rows_per_table": 10}));
        assert_eq!(ok.map(|c| c.max_rows_per_table), Ok(Some(10)));
    }
}
