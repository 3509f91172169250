//! `PgRlhfRepository`: `zerodb_rlhf_datasets`.

use crate::error::{map_diesel, map_pool};
use crate::pool::PgPool;
use crate::schema::zerodb_rlhf_datasets;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::{Map, Value};
use uuid::Uuid;
use zerodb_domain::pagination::{PageRequest, Position};
use zerodb_domain::rlhf::{
    NewRlhfRecord, RewardBucket, RlhfFilter, RlhfRecord, RlhfRepository, RlhfSummary,
};
use zerodb_domain::{ProjectId, RepositoryError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = zerodb_rlhf_datasets)]
struct RlhfRow {
    seq: i64,
    dataset_id: Uuid,
    session_id: Uuid,
    input_prompt: String,
    model_output: Option<String>,
    chosen_output: Option<String>,
    rejected_output: Option<String>,
    reward_score: Option<f64>,
    rating: Option<i16>,
    notes: Option<String>,
    tags: Vec<String>,
    metadata: Value,
    created_at: DateTime<Utc>,
}

impl From<RlhfRow> for RlhfRecord {
    fn from(r: RlhfRow) -> Self {
        RlhfRecord {
            id: r.dataset_id,
            seq: r.seq,
            session_id: r.session_id,
            input_prompt: r.input_prompt,
            model_output: r.model_output,
            chosen_output: r.chosen_output,
            rejected_output: r.rejected_output,
            reward_score: r.reward_score,
            rating: r.rating,
            notes: r.notes,
            tags: r.tags,
            metadata: match r.metadata {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            created_at: r.created_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = zerodb_rlhf_datasets)]
struct NewRlhfRow {
    dataset_id: Uuid,
    project_id: Uuid,
    session_id: Uuid,
    input_prompt: String,
    model_output: Option<String>,
    chosen_output: Option<String>,
    rejected_output: Option<String>,
    reward_score: Option<f64>,
    rating: Option<i16>,
    notes: Option<String>,
    tags: Vec<String>,
    metadata: Value,
}

pub struct PgRlhfRepository {
    pool: PgPool,
}

impl PgRlhfRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl RlhfRepository for PgRlhfRepository {
    async fn insert(
        &self,
        project_id: ProjectId,
        records: Vec<NewRlhfRecord>,
    ) -> Result<Vec<RlhfRecord>, RepositoryError> {
        let rows: Vec<NewRlhfRow> = records
            .into_iter()
            .map(|r| NewRlhfRow {
                dataset_id: r.id,
                project_id: project_id.as_uuid(),
                session_id: r.input.session_id,
                input_prompt: r.input.input_prompt,
                model_output: r.input.model_output,
                chosen_output: r.input.chosen_output,
                rejected_output: r.input.rejected_output,
                reward_score: r.input.reward_score,
                rating: r.input.rating,
                notes: r.input.notes,
                tags: r.input.tags,
                metadata: Value::Object(r.input.metadata.unwrap_or_default()),
            })
            .collect();
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // One multi-row INSERT is atomic on its own.
        let mut inserted: Vec<RlhfRow> = diesel::insert_into(zerodb_rlhf_datasets::table)
            .values(&rows)
            .returning(RlhfRow::as_returning())
            .get_results(&mut conn)
            .await
            .map_err(map_diesel)?;
        inserted.sort_by_key(|r| r.seq);
        Ok(inserted.into_iter().map(RlhfRecord::from).collect())
    }

    async fn list(
        &self,
        project_id: ProjectId,
        filter: &RlhfFilter,
        page: &PageRequest,
    ) -> Result<Vec<RlhfRecord>, RepositoryError> {
        use zerodb_rlhf_datasets::dsl as r;
        let mut query = r::zerodb_rlhf_datasets
            .filter(r::project_id.eq(project_id.as_uuid()))
            .select(RlhfRow::as_select())
            .order(r::seq.desc())
            .limit(i64::from(page.limit.get()) + 1)
            .into_boxed();
        if let Some(Position::Sequence { s }) = page.after {
            query = query.filter(r::seq.lt(s));
        }
        if let Some(session) = filter.session_id {
            query = query.filter(r::session_id.eq(session));
        }
        if let Some(min) = filter.min_reward {
            query = query.filter(r::reward_score.ge(min));
        }
        if let Some(max) = filter.max_reward {
            query = query.filter(r::reward_score.le(max));
        }
        if !filter.tags.is_empty() {
            query = query.filter(r::tags.contains(filter.tags.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(r::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(r::created_at.lt(until));
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<RlhfRow> = query.load(&mut conn).await.map_err(map_diesel)?;
        Ok(rows.into_iter().map(RlhfRecord::from).collect())
    }

    async fn summary(&self, project_id: ProjectId) -> Result<RlhfSummary, RepositoryError> {
        #[derive(QueryableByName)]
        struct Stats {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rewarded: i64,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
            mean: Option<f64>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
            min: Option<f64>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
            max: Option<f64>,
        }
        #[derive(QueryableByName)]
        struct Bucket {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            bucket: i32,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        const BARS: i32 = 10;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // Aggregates run over numeric: float8's avg overflows on rewards near ±1e308.
        let stats: Stats = diesel::sql_query(
            "SELECT count(*) AS count, count(reward_score) AS rewarded, \
             avg(reward_score::numeric)::float8 AS mean, \
             min(reward_score) AS min, max(reward_score) AS max \
             FROM zerodb_rlhf_datasets WHERE project_id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(project_id.as_uuid())
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        let mut histogram = Vec::new();
        match (stats.min, stats.max) {
            (Some(min), Some(max)) if max > min => {
                // Ten equal-width bars, the last one closed so that the maximum is counted.
                // Bounds are computed from halves so that max - min cannot overflow, and the
                // bucketing runs over numeric for the same reason.
                let width = max / f64::from(BARS) - min / f64::from(BARS);
                let counts: Vec<Bucket> = diesel::sql_query(
                    "SELECT LEAST(width_bucket(reward_score::numeric, $2::numeric, $3::numeric, $4), $4) \
                     AS bucket, count(*) AS count \
                     FROM zerodb_rlhf_datasets WHERE project_id = $1 AND reward_score IS NOT NULL \
                     GROUP BY 1",
                )
                .bind::<diesel::sql_types::Uuid, _>(project_id.as_uuid())
                .bind::<diesel::sql_types::Double, _>(min)
                .bind::<diesel::sql_types::Double, _>(max)
                .bind::<diesel::sql_types::Integer, _>(BARS)
                .load(&mut conn)
                .await
                .map_err(map_diesel)?;
                for i in 1..=BARS {
                    let lower = min + width * f64::from(i - 1);
                    let upper = if i == BARS { max } else { min + width * f64::from(i) };
                    let count = counts.iter().find(|b| b.bucket == i).map_or(0, |b| b.count);
                    histogram.push(RewardBucket {
                        lower,
                        upper,
                        count: u64::try_from(count).unwrap_or(0),
                    });
                }
            }
            // Every reward is equal: one bar holding them all.
            (Some(min), Some(max)) => histogram.push(RewardBucket {
                lower: min,
                upper: max,
                count: u64::try_from(stats.rewarded).unwrap_or(0),
            }),
            _ => {}
        }
        Ok(RlhfSummary {
            count: u64::try_from(stats.count).unwrap_or(0),
            rewarded: u64::try_from(stats.rewarded).unwrap_or(0),
            mean_reward: stats.mean,
            min_reward: stats.min,
            max_reward: stats.max,
            histogram,
        })
    }
}
