//! `PgApiKeyRepository`: `zerodb_api_keys`, holding only key hashes.

use crate::error::{map_diesel, map_pool};
use crate::pool::PgPool;
use crate::schema::{zerodb_api_keys, zerodb_projects};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;
use zerodb_domain::api_keys::{ApiKey, ApiKeyRepository, NewApiKey, StoredApiKey};
use zerodb_domain::database::DatabaseConfig;
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::principal::Scope;
use zerodb_domain::{ApiKeyId, ProjectId, RepositoryError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = zerodb_api_keys)]
struct ApiKeyRow {
    api_key_id: Uuid,
    project_id: Uuid,
    name: String,
    key_prefix: String,
    key_hash: Vec<u8>,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyRow {
    fn into_stored(self) -> StoredApiKey {
        StoredApiKey {
            key: ApiKey {
                id: ApiKeyId::from_uuid(self.api_key_id),
                project_id: ProjectId::from_uuid(self.project_id),
                name: self.name,
                key_prefix: self.key_prefix,
                // Scopes were validated before they were stored; an unknown one (from a
                // newer version) grants nothing.
                scopes: self.scopes.iter().filter_map(|s| s.parse::<Scope>().ok()).collect(),
                created_at: self.created_at,
                last_used_at: self.last_used_at,
            },
            key_hash: self.key_hash,
            rate_limit: None,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = zerodb_api_keys)]
struct NewApiKeyRow<'a> {
    api_key_id: Uuid,
    project_id: Uuid,
    name: &'a str,
    key_prefix: &'a str,
    key_hash: &'a [u8],
    scopes: Vec<String>,
}

pub struct PgApiKeyRepository {
    pool: PgPool,
}

impl PgApiKeyRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ApiKeyRepository for PgApiKeyRepository {
    async fn create(&self, key: NewApiKey) -> Result<ApiKey, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        diesel::insert_into(zerodb_api_keys::table)
            .values(NewApiKeyRow {
                api_key_id: key.id.as_uuid(),
                project_id: key.project_id.as_uuid(),
                name: &key.name,
                key_prefix: &key.key_prefix,
                key_hash: &key.key_hash,
                scopes: key.scopes.iter().map(ToString::to_string).collect(),
            })
            .returning(ApiKeyRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(|row: ApiKeyRow| row.into_stored().key)
            .map_err(map_diesel)
    }

    async fn list(
        &self,
        project_id: ProjectId,
        page: &PageRequest,
    ) -> Result<Vec<ApiKey>, RepositoryError> {
        use zerodb_api_keys::dsl as k;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let mut query = k::zerodb_api_keys
            .filter(k::project_id.eq(project_id.as_uuid()))
            .filter(k::is_active.eq(true))
            .select(ApiKeyRow::as_select())
            .order((k::created_at.asc(), k::api_key_id.asc()))
            .limit(i64::from(page.limit.get()) + 1)
            .into_boxed();
        if let Ok(Some((t, id))) = page.keyset() {
            query =
                query.filter(k::created_at.gt(t).or(k::created_at.eq(t).and(k::api_key_id.gt(id))));
        }
        let rows: Vec<ApiKeyRow> = query.load(&mut conn).await.map_err(map_diesel)?;
        Ok(rows.into_iter().map(|r| r.into_stored().key).collect())
    }

    async fn find_active(&self, id: ApiKeyId) -> Result<StoredApiKey, RepositoryError> {
        use zerodb_api_keys::dsl as k;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let (row, config): (ApiKeyRow, Value) = k::zerodb_api_keys
            .inner_join(zerodb_projects::table)
            .filter(k::api_key_id.eq(id.as_uuid()))
            .filter(k::is_active.eq(true))
            .select((ApiKeyRow::as_select(), zerodb_projects::database_config))
            .first(&mut conn)
            .await
            .map_err(map_diesel)?;
        let mut stored = row.into_stored();
        stored.rate_limit =
            serde_json::from_value::<DatabaseConfig>(config).ok().and_then(|c| c.rate_limit());
        Ok(stored)
    }

    async fn revoke(&self, project_id: ProjectId, id: ApiKeyId) -> Result<(), RepositoryError> {
        use zerodb_api_keys::dsl as k;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let changed = diesel::update(
            k::zerodb_api_keys
                .filter(k::api_key_id.eq(id.as_uuid()))
                .filter(k::project_id.eq(project_id.as_uuid()))
                .filter(k::is_active.eq(true)),
        )
        .set((k::is_active.eq(false), k::revoked_at.eq(diesel::dsl::now)))
        .execute(&mut conn)
        .await
        .map_err(map_diesel)?;
        if changed == 0 { Err(RepositoryError::NotFound) } else { Ok(()) }
    }

    async fn touch(&self, id: ApiKeyId) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // At most one write per key per minute, however busy the key is.
        diesel::sql_query(
            "UPDATE zerodb_api_keys SET last_used_at = now() WHERE api_key_id = $1 \
             AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        )
        .bind::<diesel::sql_types::Uuid, _>(id.as_uuid())
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(map_diesel)
    }
}
