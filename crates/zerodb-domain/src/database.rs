//! A project's database: enablement, configuration and statistics.

use crate::error::{FieldViolation, ServiceError};
use crate::projects::Project;
use crate::rate_limit::RateLimit;
use crate::rlhf::RlhfSummary;
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
    /// Requests per second allowed to each of the project's API keys (default: the server's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_second: Option<u32>,
    /// Burst allowance of the project's API keys (default: `rate_limit_per_second`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_burst: Option<u32>,
    /// Days a memory is kept unless it sets `expires_at` (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_retention_days: Option<u32>,
    /// Memory search ranking weights and recency half-life (defaults: 0.7, 0.2, 0.1, 72 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_ranking: Option<crate::memory::RankingWeights>,
    /// The embedding model of memory and `embeddings/generate`: one the server offers
    /// (default: the server's default model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
}

impl DatabaseConfig {
    pub const DEFAULT_MAX_TABLES: u32 = 1000;

    /// Parses and validates a configuration document, naming every offending field.
    pub fn from_json(value: Value) -> Result<Self, ServiceError> {
        let Value::Object(map) = &value else {
            return Err(ServiceError::invalid("config", "must be a JSON object"));
        };
        const KNOWN: [&str; 7] = [
            "max_rows_per_table",
            "max_tables",
            "rate_limit_per_second",
            "rate_limit_burst",
            "memory_retention_days",
            "memory_ranking",
            "embedding_model",
        ];
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
            violations.push(FieldViolation::new("max_rows_per_table", "must be at least 1"));
        }
        if let Some(n) = config.max_tables
            && !(1..=100_000).contains(&n)
        {
            violations.push(FieldViolation::new("max_tables", "must be between 1 and 100000"));
        }
        for (field, value) in [
            ("rate_limit_per_second", config.rate_limit_per_second),
            ("rate_limit_burst", config.rate_limit_burst),
        ] {
            if value.is_some_and(|n| !(1..=1_000_000).contains(&n)) {
                violations.push(FieldViolation::new(field, "must be between 1 and 1000000"));
            }
        }
        if config.memory_retention_days.is_some_and(|d| !(1..=36_500).contains(&d)) {
            violations.push(FieldViolation::new("memory_retention_days", "must be 1 to 36500"));
        }
        if let Some(w) = config.memory_ranking {
            let weights = [w.similarity, w.recency, w.importance];
            if weights.iter().any(|x| !x.is_finite() || *x < 0.0)
                || !(w.half_life_hours.is_finite() && w.half_life_hours > 0.0)
            {
                violations.push(FieldViolation::new(
                    "memory_ranking",
                    "weights must be non-negative numbers and half_life_hours positive",
                ));
            }
        }
        if config.embedding_model.as_ref().is_some_and(|m| m.is_empty() || m.len() > 200) {
            violations.push(FieldViolation::new("embedding_model", "must be 1 to 200 bytes"));
        }
        if config.rate_limit_burst.is_some() && config.rate_limit_per_second.is_none() {
            violations.push(FieldViolation::new("rate_limit_burst", "needs rate_limit_per_second"));
        }
        if violations.is_empty() { Ok(config) } else { Err(ServiceError::InvalidInput(violations)) }
    }

    /// The project's own limit for its API keys, when it sets one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit_per_second.map(|per_second| RateLimit {
            per_second,
            burst: self.rate_limit_burst.unwrap_or(per_second),
        })
    }

    pub fn max_tables(&self) -> u32 {
        self.max_tables.unwrap_or(Self::DEFAULT_MAX_TABLES)
    }
}

/// How many objects of each area a project (or the whole system) holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DatabaseStatistics {
    pub tables: u64,
    pub rows: u64,
    pub api_keys: u64,
    pub rlhf_records: u64,
    pub agent_logs: u64,
}

/// The answer to "what is the state of this project's database".
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseStatus {
    pub project: Project,
    pub statistics: DatabaseStatistics,
    pub rlhf: RlhfSummary,
    pub vector_namespaces: Vec<crate::vectors::NamespaceStats>,
    /// The model the project embeds with; `None` when it chose one the server no longer
    /// offers.
    pub embedding_model: Option<crate::memory::OfferedModel>,
    /// Every model the project may choose.
    pub embedding_models: Vec<crate::memory::OfferedModel>,
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
