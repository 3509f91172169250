//! Agent activity logs.

use crate::error::{FieldViolation, RepositoryError, ServiceError};
use crate::ids::ProjectId;
use crate::pagination::PageRequest;
use crate::storable::json_violations;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::str::FromStr;
use uuid::Uuid;

pub const MAX_LOGS_PER_BATCH: usize = 1000;
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Severity, ordered: `Debug < Info < Warn < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub const ALL: [LogLevel; 4] =
        [LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }

    /// This level and every more severe one.
    pub fn and_above(self) -> Vec<LogLevel> {
        Self::ALL.into_iter().filter(|l| *l >= self).collect()
    }
}

impl FromStr for LogLevel {
    type Err = ServiceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "DEBUG" => Ok(LogLevel::Debug),
            "INFO" => Ok(LogLevel::Info),
            "WARN" | "WARNING" => Ok(LogLevel::Warn),
            "ERROR" => Ok(LogLevel::Error),
            _ => Err(ServiceError::invalid("log_level", "must be DEBUG, INFO, WARN or ERROR")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentLog {
    pub id: Uuid,
    pub seq: i64,
    pub agent_id: Uuid,
    pub session_id: Option<Uuid>,
    pub level: LogLevel,
    pub message: String,
    pub raw_payload: Option<Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentLogInput {
    pub agent_id: Uuid,
    pub session_id: Option<Uuid>,
    pub level: String,
    pub message: String,
    pub raw_payload: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAgentLog {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub session_id: Option<Uuid>,
    pub level: LogLevel,
    pub message: String,
    pub raw_payload: Option<Value>,
}

impl AgentLogInput {
    pub fn validate(self, prefix: &str) -> Result<NewAgentLog, Vec<FieldViolation>> {
        let field = |name: &str| {
            if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
        };
        let mut v = Vec::new();
        let level = self.level.parse::<LogLevel>().map_err(|_| {
            FieldViolation::new(field("log_level"), "must be DEBUG, INFO, WARN or ERROR")
        });
        if self.message.is_empty()
            || self.message.len() > MAX_MESSAGE_BYTES
            || self.message.contains('\0')
        {
            v.push(FieldViolation::new(
                field("log_message"),
                "must be 1 byte to 64 KiB of text without NUL",
            ));
        }
        if let Some(payload) = &self.raw_payload {
            json_violations(&field("raw_payload"), payload, &mut v);
        }
        match level {
            Ok(level) if v.is_empty() => Ok(NewAgentLog {
                id: Uuid::now_v7(),
                agent_id: self.agent_id,
                session_id: self.session_id,
                level,
                message: self.message,
                raw_payload: self.raw_payload,
            }),
            Ok(_) => Err(v),
            Err(e) => {
                v.insert(0, e);
                Err(v)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentLogFilter {
    pub agent_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub min_level: Option<LogLevel>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the message.
    pub contains: Option<String>,
}

impl AgentLogFilter {
    pub fn validate(&self) -> Result<(), ServiceError> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since > until
        {
            return Err(ServiceError::invalid("since", "must not be after until"));
        }
        if self.contains.as_deref().is_some_and(|c| c.len() > 1024 || c.contains('\0')) {
            return Err(ServiceError::invalid("contains", "at most 1024 bytes without NUL"));
        }
        Ok(())
    }
}

/// Storage of agent logs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AgentLogRepository: Send + Sync + 'static {
    /// Inserts every log or none.
    async fn insert(
        &self,
        project_id: ProjectId,
        logs: Vec<NewAgentLog>,
    ) -> Result<Vec<AgentLog>, RepositoryError>;
    /// Newest first, at most `page.limit + 1`, after the `Sequence` cursor if any.
    async fn list(
        &self,
        project_id: ProjectId,
        filter: &AgentLogFilter,
        page: &PageRequest,
    ) -> Result<Vec<AgentLog>, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_parse() {
        assert_eq!(LogLevel::Warn.and_above(), vec![LogLevel::Warn, LogLevel::Error]);
        assert_eq!("warning".parse::<LogLevel>().ok(), Some(LogLevel::Warn));
        assert!("TRACE".parse::<LogLevel>().is_err());
    }

    #[test]
    fn validation_names_fields() {
        let input = AgentLogInput {
            agent_id: Uuid::nil(),
            session_id: None,
            level: "LOUD".into(),
            message: String::new(),
            raw_payload: None,
        };
        let errs = input.validate("logs[1]").err().unwrap_or_default();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["logs[1].log_level", "logs[1].log_message"]);
    }
}
