//! Logging and listing agent activity.

use super::Submission;
use crate::access::{AccessPolicy, Permission};
use crate::agent_logs::{
    AgentLog, AgentLogFilter, AgentLogInput, AgentLogRepository, MAX_LOGS_PER_BATCH,
};
use crate::error::ServiceError;
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use std::sync::Arc;

const READ: Permission = Permission::Data(Area::Agent, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Agent, Operation::Write);

pub struct AgentLogService {
    logs: Arc<dyn AgentLogRepository>,
    access: Arc<AccessPolicy>,
}

impl AgentLogService {
    pub fn new(logs: Arc<dyn AgentLogRepository>, access: Arc<AccessPolicy>) -> Self {
        Self { logs, access }
    }

    /// Logs entries, all or none. a batch names fields `logs[i].x`; a single log uses `x`.
    pub async fn log(
        &self,
        who: &Principal,
        project_id: ProjectId,
        inputs: Vec<AgentLogInput>,
        submission: Submission,
    ) -> Result<Vec<AgentLog>, ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        if inputs.is_empty() || inputs.len() > MAX_LOGS_PER_BATCH {
            return Err(ServiceError::invalid("logs", "must hold 1 to 1000 logs"));
        }
        let mut violations = Vec::new();
        let mut logs = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix =
                if submission == Submission::Batch { format!("logs[{i}]") } else { String::new() };
            match input.validate(&prefix) {
                Ok(l) => logs.push(l),
                Err(v) => violations.extend(v),
            }
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        Ok(self.logs.insert(project_id, logs).await?)
    }

    /// Newest first.
    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        filter: &AgentLogFilter,
        page: PageRequest,
    ) -> Result<Page<AgentLog>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        filter.validate()?;
        if matches!(
            page.after,
            Some(Position::Keyset { .. } | Position::Offset { .. } | Position::Key { .. })
        ) {
            return Err(ServiceError::InvalidCursor("it belongs to another list".into()));
        }
        let items = self.logs.list(project_id, filter, &page).await?;
        Ok(Page::from_overfetch(items, page.limit, |l| Position::Sequence { s: l.seq }))
    }
}
