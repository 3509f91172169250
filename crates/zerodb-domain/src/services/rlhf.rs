//! Logging, listing and exporting RLHF records.

use super::Submission;
use crate::access::{AccessPolicy, Permission};
use crate::error::ServiceError;
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::rlhf::{MAX_RECORDS_PER_BATCH, RlhfFilter, RlhfInput, RlhfRecord, RlhfRepository};
use std::sync::Arc;

const READ: Permission = Permission::Data(Area::Rlhf, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Rlhf, Operation::Write);

pub struct RlhfService {
    records: Arc<dyn RlhfRepository>,
    access: Arc<AccessPolicy>,
}

impl RlhfService {
    pub fn new(records: Arc<dyn RlhfRepository>, access: Arc<AccessPolicy>) -> Self {
        Self { records, access }
    }

    /// Logs records, all or none. a batch names fields `records[i].x`; a single log uses `x`.
    pub async fn log(
        &self,
        who: &Principal,
        project_id: ProjectId,
        inputs: Vec<RlhfInput>,
        submission: Submission,
    ) -> Result<Vec<RlhfRecord>, ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        if inputs.is_empty() || inputs.len() > MAX_RECORDS_PER_BATCH {
            return Err(ServiceError::invalid("records", "must hold 1 to 1000 records"));
        }
        let mut violations = Vec::new();
        let mut records = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = if submission == Submission::Batch {
                format!("records[{i}]")
            } else {
                String::new()
            };
            match input.validate(&prefix) {
                Ok(r) => records.push(r),
                Err(v) => violations.extend(v),
            }
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        Ok(self.records.insert(project_id, records).await?)
    }

    /// Newest first.
    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        filter: &RlhfFilter,
        page: PageRequest,
    ) -> Result<Page<RlhfRecord>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        filter.validate()?;
        if matches!(
            page.after,
            Some(Position::Keyset { .. } | Position::Offset { .. } | Position::Key { .. })
        ) {
            return Err(ServiceError::InvalidCursor("it belongs to another list".into()));
        }
        let items = self.records.list(project_id, filter, &page).await?;
        Ok(Page::from_overfetch(items, page.limit, |r| Position::Sequence { s: r.seq }))
    }
}
