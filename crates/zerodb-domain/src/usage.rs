//! Usage metering: requests per project, area and UTC day, aggregated in memory and written
//! in batches so that a request never pays for a database write.

use crate::error::RepositoryError;
use crate::ids::ProjectId;
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// One counter row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCount {
    pub project_id: ProjectId,
    pub day: NaiveDate,
    pub area: String,
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub project_id: Option<ProjectId>,
}

/// Storage of usage counters.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UsageRepository: Send + Sync + 'static {
    /// Adds the counts to the stored ones (creating rows as needed), all or none.
    async fn add(&self, counts: Vec<UsageCount>) -> Result<(), RepositoryError>;
    /// Rows within `from..=to`, ordered by day, project and area.
    async fn query(&self, query: &UsageQuery) -> Result<Vec<UsageCount>, RepositoryError>;
}

type Key = (ProjectId, NaiveDate, &'static str);

/// Counts requests in memory; [`UsageMeter::flush`] moves them to storage. A failed flush
/// puts the counts back, so nothing is lost while the process lives.
pub struct UsageMeter {
    pending: Mutex<HashMap<Key, u64>>,
    repository: Arc<dyn UsageRepository>,
}

impl UsageMeter {
    pub fn new(repository: Arc<dyn UsageRepository>) -> Self {
        Self { pending: Mutex::new(HashMap::new()), repository }
    }

    pub fn record(&self, project_id: ProjectId, area: &'static str) {
        let day = Utc::now().date_naive();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *pending.entry((project_id, day, area)).or_insert(0) += 1;
    }

    /// Writes every pending count; returns how many counter rows were written.
    pub async fn flush(&self) -> Result<usize, RepositoryError> {
        let taken =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if taken.is_empty() {
            return Ok(0);
        }
        let counts: Vec<UsageCount> = taken
            .iter()
            .map(|((project_id, day, area), requests)| UsageCount {
                project_id: *project_id,
                day: *day,
                area: (*area).to_owned(),
                requests: *requests,
            })
            .collect();
        let rows = counts.len();
        match self.repository.add(counts).await {
            Ok(()) => Ok(rows),
            Err(e) => {
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                for (key, n) in taken {
                    *pending.entry(key).or_insert(0) += n;
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn aggregates_and_keeps_counts_when_a_flush_fails() {
        let mut repo = MockUsageRepository::new();
        let mut calls = 0;
        repo.expect_add().times(2).returning(move |counts| {
            calls += 1;
            if calls == 1 {
                return Err(RepositoryError::Unavailable(crate::Cause::msg("down")));
            }
            let total: u64 = counts.iter().map(|c| c.requests).sum();
            assert_eq!(total, 4);
            assert_eq!(counts.len(), 2);
            Ok(())
        });
        let meter = UsageMeter::new(Arc::new(repo));
        let p = ProjectId::new();
        meter.record(p, "tables");
        meter.record(p, "tables");
        meter.record(p, "database");
        assert!(meter.flush().await.is_err());
        meter.record(p, "tables");
        assert_eq!(meter.flush().await, Ok(2));
        assert_eq!(meter.flush().await, Ok(0));
    }
}
