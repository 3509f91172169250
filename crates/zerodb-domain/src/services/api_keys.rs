//! Issuing, listing and revoking project API keys.

use crate::access::{AccessPolicy, Permission};
use crate::api_keys::{
    ApiKey, ApiKeyRepository, GeneratedKey, NewApiKey, hash_key, parse_scopes, validate_key_name,
};
use crate::error::ServiceError;
use crate::ids::{ApiKeyId, ProjectId};
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::Principal;
use std::sync::Arc;

/// A key as created: the only moment its secret is known.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: String,
}

pub struct ApiKeyService {
    keys: Arc<dyn ApiKeyRepository>,
    access: Arc<AccessPolicy>,
}

impl ApiKeyService {
    pub fn new(keys: Arc<dyn ApiKeyRepository>, access: Arc<AccessPolicy>) -> Self {
        Self { keys, access }
    }

    pub async fn create(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: Option<String>,
        scopes: &[String],
    ) -> Result<CreatedApiKey, ServiceError> {
        self.access.project(who, project_id, Permission::Manage).await?;
        let name = validate_key_name(name)?;
        let scopes = parse_scopes(scopes)?;
        let generated = GeneratedKey::generate()?;
        let new = NewApiKey {
            id: generated.id,
            project_id,
            name,
            key_prefix: generated.display_prefix(),
            key_hash: hash_key(&generated.secret),
            scopes,
        };
        let key = self.keys.create(new).await.map_err(|e| ServiceError::from_repo(e, "project"))?;
        Ok(CreatedApiKey { key, secret: generated.secret })
    }

    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, ServiceError> {
        self.access.project(who, project_id, Permission::Manage).await?;
        page.keyset()?;
        let items = self.keys.list(project_id, &page).await?;
        Ok(Page::from_overfetch(items, page.limit, |k| Position::Keyset {
            t: k.created_at,
            id: k.id.as_uuid(),
        }))
    }

    pub async fn revoke(
        &self,
        who: &Principal,
        project_id: ProjectId,
        key_id: ApiKeyId,
    ) -> Result<(), ServiceError> {
        self.access.project(who, project_id, Permission::Manage).await?;
        self.keys
            .revoke(project_id, key_id)
            .await
            .map_err(|e| ServiceError::from_repo(e, "api key"))
    }
}
