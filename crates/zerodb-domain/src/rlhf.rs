//! RLHF records: prompts, model outputs, rewards, and preference pairs.

use crate::error::{FieldViolation, RepositoryError, ServiceError};
use crate::ids::ProjectId;
use crate::pagination::PageRequest;
use crate::storable::{map_violations, text_violation};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

pub const MAX_RECORDS_PER_BATCH: usize = 1000;
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;
pub const MAX_TAGS: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct RlhfRecord {
    pub id: Uuid,
    pub seq: i64,
    pub session_id: Uuid,
    pub input_prompt: String,
    pub model_output: Option<String>,
    pub chosen_output: Option<String>,
    pub rejected_output: Option<String>,
    pub reward_score: Option<f64>,
    pub rating: Option<i16>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
}

impl RlhfRecord {
    /// The record as one fine-tuning example: `{"prompt", "chosen", "rejected"}` for a
    /// preference pair, otherwise `{"prompt", "completion"}`.
    pub fn training_example(&self) -> Value {
        match (&self.chosen_output, &self.rejected_output) {
            (Some(chosen), Some(rejected)) => serde_json::json!({
                "prompt": self.input_prompt, "chosen": chosen, "rejected": rejected,
            }),
            _ => serde_json::json!({
                "prompt": self.input_prompt,
                "completion": self.model_output.clone().unwrap_or_default(),
            }),
        }
    }
}

/// What a client sends to log one record, before validation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RlhfInput {
    pub session_id: Uuid,
    pub input_prompt: String,
    pub model_output: Option<String>,
    pub chosen_output: Option<String>,
    pub rejected_output: Option<String>,
    pub reward_score: Option<f64>,
    pub rating: Option<i16>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    pub metadata: Option<Map<String, Value>>,
}

/// A validated record ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRlhfRecord {
    pub id: Uuid,
    pub input: RlhfInput,
}

impl RlhfInput {
    /// Validates the record; `prefix` names its position in a batch (`records[3]`).
    pub fn validate(self, prefix: &str) -> Result<NewRlhfRecord, Vec<FieldViolation>> {
        let mut v = Vec::new();
        let field = |name: &str| {
            if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
        };
        let text_ok = |s: &str| s.len() <= MAX_TEXT_BYTES && !s.contains('\0');
        if self.input_prompt.is_empty() || !text_ok(&self.input_prompt) {
            v.push(FieldViolation::new(field("input_prompt"), "must be 1 byte to 1 MiB of text"));
        }
        for (name, value) in [
            ("model_output", &self.model_output),
            ("chosen_output", &self.chosen_output),
            ("rejected_output", &self.rejected_output),
            ("notes", &self.notes),
        ] {
            if value.as_deref().is_some_and(|s| !text_ok(s)) {
                v.push(FieldViolation::new(
                    field(name),
                    "must be at most 1 MiB of text without NUL",
                ));
            }
        }
        match (&self.model_output, &self.chosen_output, &self.rejected_output) {
            (_, Some(_), None) | (_, None, Some(_)) => v.push(FieldViolation::new(
                field("rejected_output"),
                "a preference pair needs both chosen_output and rejected_output",
            )),
            (None, None, None) => v.push(FieldViolation::new(
                field("model_output"),
                "is required unless chosen_output and rejected_output are given",
            )),
            _ => {}
        }
        if self.reward_score.is_some_and(|r| !r.is_finite()) {
            v.push(FieldViolation::new(field("reward_score"), "must be a finite number"));
        }
        if self.rating.is_some_and(|r| !(1..=5).contains(&r)) {
            v.push(FieldViolation::new(field("rating"), "must be between 1 and 5"));
        }
        if self.tags.len() > MAX_TAGS
            || self
                .tags
                .iter()
                .any(|t| t.is_empty() || t.len() > 64 || t.chars().any(char::is_control))
        {
            v.push(FieldViolation::new(
                field("tags"),
                "at most 32 tags of 1 to 64 printable characters",
            ));
        }
        if let Some(metadata) = &self.metadata {
            map_violations(&field("metadata"), metadata, &mut v);
        }
        for (i, tag) in self.tags.iter().enumerate() {
            text_violation(&format!("{}[{i}]", field("tags")), tag, &mut v);
        }
        if v.is_empty() { Ok(NewRlhfRecord { id: Uuid::now_v7(), input: self }) } else { Err(v) }
    }
}

/// Filters of a record listing; every given condition must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RlhfFilter {
    pub session_id: Option<Uuid>,
    pub min_reward: Option<f64>,
    pub max_reward: Option<f64>,
    /// Records carrying all of these tags.
    pub tags: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl RlhfFilter {
    pub fn validate(&self) -> Result<(), ServiceError> {
        if let (Some(min), Some(max)) = (self.min_reward, self.max_reward)
            && min > max
        {
            return Err(ServiceError::invalid("min_reward", "must not exceed max_reward"));
        }
        if [self.min_reward, self.max_reward].iter().flatten().any(|r| !r.is_finite()) {
            return Err(ServiceError::invalid("min_reward", "must be a finite number"));
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(ServiceError::invalid("since", "must not be after until"));
        }
        if self.tags.len() > MAX_TAGS {
            return Err(ServiceError::invalid("tags", "at most 32 tags"));
        }
        Ok(())
    }
}

/// One bar of the reward histogram: rewards in `[lower, upper)` (the last bar includes `upper`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RewardBucket {
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
}

/// Count, mean and distribution of rewards.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct RlhfSummary {
    pub count: u64,
    pub rewarded: u64,
    pub mean_reward: Option<f64>,
    pub min_reward: Option<f64>,
    pub max_reward: Option<f64>,
    pub histogram: Vec<RewardBucket>,
}

/// Storage of RLHF records.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RlhfRepository: Send + Sync + 'static {
    /// Inserts every record or none.
    async fn insert(
        &self,
        project_id: ProjectId,
        records: Vec<NewRlhfRecord>,
    ) -> Result<Vec<RlhfRecord>, RepositoryError>;
    /// Newest first, at most `page.limit + 1`, after the `Sequence` cursor if any.
    async fn list(
        &self,
        project_id: ProjectId,
        filter: &RlhfFilter,
        page: &PageRequest,
    ) -> Result<Vec<RlhfRecord>, RepositoryError>;
    /// Reward statistics over all of the project's records, with a 10-bar histogram.
    async fn summary(&self, project_id: ProjectId) -> Result<RlhfSummary, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> RlhfInput {
        RlhfInput {
            session_id: Uuid::nil(),
            input_prompt: "p".into(),
            model_output: Some("o".into()),
            ..Default::default()
        }
    }

    #[test]
    fn outputs_rules() {
        assert!(input().validate("").is_ok());
        let pair = RlhfInput {
            model_output: None,
            chosen_output: Some("a".into()),
            rejected_output: Some("b".into()),
            ..input()
        };
        let pair = pair.validate("").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pair.input.chosen_output.as_deref(), Some("a"));
        let half = RlhfInput { chosen_output: Some("a".into()), ..input() };
        assert!(half.validate("").is_err());
        let none = RlhfInput { model_output: None, ..input() };
        assert_eq!(
            none.validate("records[2]").err().map(|v| v[0].field.clone()),
            Some("records[2].model_output".into())
        );
    }

    #[test]
    fn numbers_and_tags() {
        assert!(RlhfInput { reward_score: Some(f64::NAN), ..input() }.validate("").is_err());
        assert!(RlhfInput { rating: Some(6), ..input() }.validate("").is_err());
        assert!(RlhfInput { tags: vec!["".into()], ..input() }.validate("").is_err());
        assert!(
            RlhfFilter { min_reward: Some(2.0), max_reward: Some(1.0), ..Default::default() }
                .validate()
                .is_err()
        );
    }

    #[test]
    fn training_examples() {
        let mut r = RlhfRecord {
            id: Uuid::nil(),
            seq: 1,
            session_id: Uuid::nil(),
            input_prompt: "q".into(),
            model_output: Some("a".into()),
            chosen_output: None,
            rejected_output: None,
            reward_score: None,
            rating: None,
            notes: None,
            tags: vec![],
            metadata: Map::new(),
            created_at: Utc::now(),
        };
        assert_eq!(r.training_example(), serde_json::json!({"prompt": "q", "completion": "a"}));
        r.chosen_output = Some("c".into());
        r.rejected_output = Some("d".into());
        assert_eq!(
            r.training_example(),
            serde_json::json!({"prompt": "q", "chosen": "c", "rejected": "d"})
        );
    }
}
